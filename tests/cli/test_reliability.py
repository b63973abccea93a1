"""Reliability: every bad input is refused with exit 2, one message naming the culprit, no traceback and the output
folder unchanged byte for byte; a run is all-or-nothing under SIGKILL at any stage; a second run into the same
folder is refused; Ctrl-C stops a run within seconds with exit 130 and nothing partial left in place."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helpers import small_study
from tipcausal.cli import EXIT_INPUT, app
from tipcausal.study.config import library_studies

runner = CliRunner()
DEFAULT_DAG = Path(library_studies()["default"]).parent.parent / "dags" / "default.yaml"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (or the file itself) with the SHA-256 of its bytes."""
    if folder.is_file():
        return {".": hashlib.sha256(folder.read_bytes()).hexdigest()}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()} if folder.exists() else {}


def old_run(tmp_path: Path) -> Path:
    """An output folder holding a (stand-in) earlier run."""
    out = tmp_path / "out"
    (out / "fits").mkdir(parents=True)
    (out / "summary.json").write_text('{"provenance": {"seed": 5}}\n')
    (out / "report.html").write_text("<html>old run</html>\n")
    (out / "fits" / "protection.nc").write_bytes(b"old fit")
    return out


def dag_with(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = DEFAULT_DAG.read_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def _refusals(tmp_path: Path) -> list[tuple[list[str], str]]:
    """(arguments after ``tipcausal``, text the one message must contain) for each refusal class."""
    s = str(small_study(tmp_path))
    dup_node = dag_with(tmp_path, "dup.yaml", "\n  corruption:", "\n  democracy: {label: again, column: v2x_corr}\n  corruption:")
    same_col = dag_with(tmp_path, "col.yaml", "column: v2x_corr", "column: v2x_polyarchy")
    bad_csv = tmp_path / "dup.csv"
    bad_csv.write_text("country,year,region,prosecution,prosecution\nA,2000,R,1,2\n")
    folder = tmp_path / "a_folder.csv"
    folder.mkdir()
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    return [
        (["run", s, "--chains", "0"], "sampler setting chains must be an integer >= 1, got 0"),
        (["run", s, "--chains", "-1"], "chains must be an integer >= 1, got -1"),
        (["run", s, "--draws", "0"], "draws must be an integer >= 1, got 0"),
        (["run", s, "--tune", "-5"], "tune must be an integer >= 0, got -5"),
        (["run", str(small_study(tmp_path, "ta.toml", **{"target_accept = 0.9": "target_accept = 2.0"}))],
         "target_accept must be in [0.5, 1), got 2.0"),
        (["run", str(small_study(tmp_path, "c0.toml", **{"chains = 4": "chains = 0"}))], "[sampler]"),
        (["run", s, "--out", str(afile)], "the output folder is a file, not a folder"),
        (["run", s, "--out", str(afile / "sub")], "is a file, not a folder"),
        (["run", str(small_study(tmp_path, "dup.toml", **{'dag = "default"': f'dag = "{dup_node}"'}))],
         "key 'democracy' is written twice"),
        (["run", str(small_study(tmp_path, "col.toml", **{'dag = "default"': f'dag = "{same_col}"'}))],
         "map to the same column 'v2x_polyarchy'"),
        (["dag", "check", str(dup_node)], "key 'democracy' is written twice"),
        (["run", str(tmp_path)], "is a folder; give a study file"),
        (["run", "no_such_study"], "library study names: default, real"),
        (["run", str(small_study(tmp_path, "csvdir.toml", **{'kind = "simulated"': f'kind = "csv"\npath = "{folder}"'}))],
         "the panel path is a folder"),
        (["run", str(small_study(tmp_path, "csvdup.toml", **{'kind = "simulated"': f'kind = "csv"\npath = "{bad_csv}"'}))],
         "duplicate column header(s) 'prosecution'"),
        (["run", str(small_study(tmp_path, "tomldup.toml", **{"draws = 1000": "draws = 1000\ndraws = 10"}))],
         "key 'draws' is written twice"),
        (["data", "build", "--out", str(afile)], "the output folder is a file, not a folder"),
    ]


def test_every_refusal_exits_2_with_one_message_and_leaves_the_folder_as_it_was(tmp_path):
    out = old_run(tmp_path)
    before = snapshot(out)
    for args, needle in _refusals(tmp_path):
        afile_before = snapshot(tmp_path / "afile")
        full = args + (["--out", str(out)] if args[0] == "run" and "--out" not in args else [])
        res = runner.invoke(app, full + (["--quiet"] if args[0] == "run" else []))
        text = res.output
        assert res.exit_code == EXIT_INPUT, (args, text)
        assert needle in " ".join(text.split()), (args, text)
        assert "Traceback" not in text and text.count("error:") == 1, (args, text)
        assert snapshot(out) == before, args
        assert snapshot(tmp_path / "afile") == afile_before, args
        assert not list(tmp_path.glob(".staging-*")), args


def test_utf16_source_is_named_with_its_encoding(tmp_path):
    from types import SimpleNamespace

    from tipcausal.data.read import ReadProblem, read_source

    path = tmp_path / "s.csv"
    path.write_text("country,year,x\nAFG,2000,1\n", encoding="utf-16")
    with pytest.raises(ReadProblem, match=r'UTF-16 text \(byte-order mark FF FE\).*encoding = "utf-16"'):
        read_source(SimpleNamespace(format="csv", encoding="utf-8", sheet=None), path)
    frame = read_source(SimpleNamespace(format="csv", encoding="utf-16", sheet=None), path)
    assert list(frame.columns) == ["country", "year", "x"]


def test_duplicate_source_header_is_named(tmp_path):
    from types import SimpleNamespace

    from tipcausal.data.read import ReadProblem, read_source

    path = tmp_path / "s.csv"
    path.write_text("country,year,x,x\nAFG,2000,1,2\n")
    with pytest.raises(ReadProblem, match="duplicate column header\\(s\\) 'x'"):
        read_source(SimpleNamespace(format="csv", encoding="utf-8", sheet=None), path)


# ---- runs in a subprocess: SIGKILL at each stage, a second concurrent run, Ctrl-C -----------------------------

class _Run:
    """``tipcausal run`` in a subprocess whose output a thread reads as it comes (so a full pipe can never stall
    the run), with the lines so far in ``lines``."""

    def __init__(self, study: Path, out: Path, *extra: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # A shell starts a background job with SIGINT ignored, and an ignored signal stays ignored through fork
        # and exec (Python then installs no KeyboardInterrupt handler), so a test suite run in the background
        # would start runs that no Ctrl-C can reach. A handled signal is reset to the default on exec: the run
        # starts as it would from a terminal.
        previous = signal.getsignal(signal.SIGINT)
        if previous is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "tipcausal.cli", "run", str(study), "--out",
                                          str(out), "--quiet", "--draws", "150", "--tune", "150", "--seed", "2",
                                          "--allow-unconverged", *extra],
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        finally:
            signal.signal(signal.SIGINT, previous)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, count: int = 1, timeout: float = 300) -> None:
        """Until ``text`` has appeared on ``count`` lines (fails if the run ends first or ``timeout`` passes)."""
        start = time.monotonic()
        while sum(text in line for line in list(self.lines)) < count:
            if self.proc.poll() is not None:
                self._reader.join(5)
                if sum(text in line for line in self.lines) >= count:
                    return
                raise AssertionError(f"run ended before {text!r}:\n" + self.output)
            assert time.monotonic() - start < timeout, self.output
            time.sleep(0.05)

    def finish(self, timeout: float | None = None) -> int:
        """The exit code, once the run has ended and all its output is read."""
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(10)
        return rc

    def signals(self) -> str:
        """The subprocess's ignored, blocked and caught signal masks (``/proc/PID/status``)."""
        try:
            status = Path(f"/proc/{self.proc.pid}/status").read_text()
        except OSError as exc:
            return f"(no status: {exc})"
        return " ".join(line for line in status.splitlines() if line.startswith(("SigIgn", "SigBlk", "SigCgt")))


def _complete_new(out: Path) -> bool:
    summary = json.loads((out / "summary.json").read_text())
    return (summary["provenance"]["seed"] == 2 and (out / "report.html").is_file()
            and all((out / e["fit"]).is_file() for e in summary["outcomes"].values()))


@pytest.mark.sampling
@pytest.mark.slow
@pytest.mark.parametrize("stage,marker,count", [("during sampling", "sampling with", 1),
                                                 ("between fits", "diagnostics", 1),
                                                 ("writing summary and report", "writing summary.json", 1)])
def test_a_killed_run_leaves_the_old_run_or_the_new_one(tmp_path, stage, marker, count):
    out = old_run(tmp_path)
    before = snapshot(out)
    run = _Run(small_study(tmp_path), out)
    run.wait_for(marker, count)
    run.proc.kill()
    run.finish()
    assert snapshot(out) == before or _complete_new(out), (stage, run.output)
    rerun = _Run(small_study(tmp_path), out)  # the next run clears what the killed one left and completes
    assert rerun.finish() == 0, rerun.output
    assert _complete_new(out) and not list(tmp_path.glob(".staging-*"))


@pytest.mark.sampling
@pytest.mark.slow
def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    out = old_run(tmp_path)
    first = _Run(small_study(tmp_path), out)
    first.wait_for("sampling with")
    second = subprocess.run([sys.executable, "-m", "tipcausal.cli", "run", str(small_study(tmp_path)), "--out",
                             str(out), "--quiet"], capture_output=True, text=True)
    first.proc.kill()
    first.finish()
    assert second.returncode == EXIT_INPUT, second.stderr
    assert "another tipcausal run (pid" in " ".join(second.stderr.split())


@pytest.mark.sampling
def test_ctrl_c_stops_sampling_within_seconds_and_leaves_nothing_partial(tmp_path):
    out = old_run(tmp_path)
    before = snapshot(out)
    run = _Run(small_study(tmp_path), out, "--draws", "5000", "--tune", "5000")
    run.wait_for("sampling with")
    time.sleep(3)  # inside the sampler (compiling or sampling)
    before_signal, signals = len(run.lines), run.signals()
    sent = time.monotonic()
    run.proc.send_signal(signal.SIGINT)
    try:
        rc = run.finish(timeout=30)
    except subprocess.TimeoutExpired:  # say where it is stuck: the CLI prints its threads' stacks on SIGUSR1
        run.proc.send_signal(signal.SIGUSR1)
        time.sleep(3)
        run.proc.kill()
        run.finish()
        pytest.fail(f"the run did not stop within 30 s of SIGINT (its signal masks then: {signals}; this "
                    f"process's SIGINT handler: {signal.getsignal(signal.SIGINT)}); its output and threads:\n"
                    + run.output)
    elapsed = time.monotonic() - sent
    rest = "".join(run.lines[before_signal:])
    assert rc == 130 and elapsed < 5, (rc, elapsed, run.output)
    assert "interrupted:" in rest and rest.strip().count("\n") == 0, rest
    assert snapshot(out) == before and not list(tmp_path.glob(".staging-*"))
