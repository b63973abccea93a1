"""Sweeps on real Dask clusters, and sweeps that are interrupted.

One small sweep (4 specifications x prosecution on a 30-country simulated panel, 2 chains x 150 + 150) is run
four ways, each into its own empty fit store, and must give the same ``sweep.parquet``, byte for byte:

1. on the embedded ``LocalCluster`` (the reference);
2. against a real ``dask scheduler`` with two ``dask worker`` processes on localhost, one worker process killed
   with SIGKILL while it holds a fit (its nanny replaces it and the fit runs again);
3. as ``tipcausal sweep`` in a subprocess killed with SIGKILL (its whole process group: the client and its
   embedded cluster) at a random moment after its first fit was stored, then run again to the end.

Fits are seeded from their content and the table holds only what the stored fits determine, so the cluster, the
order and the interruptions must not change a byte. Short chains: the fits may fail the gate; the check is
identity, not inference.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.sampling

XLA = "--xla_force_host_platform_device_count=2"
STUDY = """
[study]
name = "dask_sweep"

[causal]
dag = "default"
treatment = "cso_consultation"
outcomes = ["prosecution", "protection", "prevention"]
adjustment = ["region", "democracy", "corruption", "gdp"]
assume_absorbed = ["political_will"]

[data]
kind = "simulated"
seed = 11
n_countries = 30

[sampler]
draws = 150
tune = 150
chains = 2

[output]
dir = "{out}"

[sweep]
seed = 5
outcomes = ["prosecution"]
likelihood = ["cumulative_logit", "cumulative_probit"]
country_slopes = [true, false]
"""


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dask_sweep")
    path = root / "study.toml"
    path.write_text(STUDY.format(out=root / "reports"), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(study_file, tmp_path_factory) -> Path:
    """The uninterrupted sweep on the embedded cluster; returns its sweep.parquet."""
    import tipcausal as tc

    where = tmp_path_factory.mktemp("reference")
    run = tc.sweep(study_file, store=str(where / "store"), out=where / "out", workers=2)
    assert len(run.frame) == 4 and set(run.frame["status"]) <= {"ok", "gate_failed"}, run.frame[["status", "reasons"]]
    return where / "out" / "sweep.parquet"


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _stored(store: Path) -> int:
    return sum(1 for p in store.glob("*/*/record.json")) if store.exists() else 0


def test_external_scheduler_with_a_worker_killed_mid_fit_gives_the_same_table(study_file, reference, tmp_path):
    import tipcausal as tc
    from distributed import Client

    env = {**os.environ, "XLA_FLAGS": XLA}
    scheduler_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([_bin("dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(scheduler_file)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait_for(scheduler_file.exists, 60, "the scheduler file")
        for _ in range(2):
            procs.append(subprocess.Popen([_bin("dask"), "worker", "--scheduler-file", str(scheduler_file),
                                           "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                           "--host", "127.0.0.1"], env=env, start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        monitor = Client(scheduler_file=str(scheduler_file), timeout="60s")
        monitor.wait_for_workers(2, timeout=120)
        address = monitor.scheduler.address
        outcome: dict = {}

        def sweep() -> None:
            try:
                outcome["run"] = tc.sweep(study_file, scheduler=address, store=str(tmp_path / "store"),
                                          out=tmp_path / "out")
            except BaseException as exc:  # reported by the main thread
                outcome["error"] = exc

        thread = threading.Thread(target=sweep, daemon=True)
        thread.start()
        # kill the worker process holding a fit, once it has held it for a while (mid-fit)
        busy: dict = {}

        def holding() -> bool:
            for worker, keys in monitor.processing().items():
                if keys:
                    busy["worker"] = worker
                    return True
            return False

        _wait_for(holding, 180, "a worker to start a fit")
        time.sleep(1.0)  # into the fit
        _wait_for(holding, 180, "a worker holding a fit")  # still (or again) holding one, just before the kill
        pids = monitor.run(os.getpid)  # worker address -> its process id
        os.kill(pid := pids[busy["worker"]], signal.SIGKILL)
        thread.join(timeout=600)
        assert not thread.is_alive(), "the sweep did not finish after the worker was killed"
        if "error" in outcome:
            raise outcome["error"]
        # the nanny replaced the killed worker process: two workers again, and the killed pid is gone
        monitor.wait_for_workers(2, timeout=120)
        assert pid not in set(monitor.run(os.getpid).values())
        monitor.close()
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)
    run = outcome["run"]
    assert run.document["provenance"]["scheduler"] == address
    assert _stored(tmp_path / "store") == 4, "every fit is in the store"
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "sweep.parquet"), pd.read_parquet(reference))
    assert (tmp_path / "out" / "sweep.parquet").read_bytes() == reference.read_bytes()


def test_client_killed_at_a_random_moment_then_rerun_gives_identical_bytes(study_file, reference, tmp_path):
    store, out = tmp_path / "store", tmp_path / "out"
    command = [_bin("tipcausal"), "sweep", str(study_file), "--store", str(store), "--out", str(out),
               "--workers", "1"]
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(command, env={**os.environ, "XLA_FLAGS": XLA}, start_new_session=True,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for(lambda: _stored(store) >= 1 or proc.poll() is not None, 300, "the first stored fit")
        time.sleep(float(np.random.default_rng(20261202).uniform(0.0, 4.0)))  # a random moment after it
        still_running = proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)  # the client and its embedded cluster, as in a crash
    finally:
        proc.wait(timeout=60)
        log.close()
    assert still_running, f"the sweep finished before it could be killed:\n{(tmp_path / 'killed.log').read_text()}"
    assert not (out / "sweep.parquet").exists(), "a killed sweep leaves no table behind"
    assert 1 <= _stored(store) < 4, "the kill came after the first fit and before the last"
    rerun = subprocess.run(command, env={**os.environ, "XLA_FLAGS": XLA}, capture_output=True, text=True,
                           timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "already in the store" in rerun.stdout + rerun.stderr
    assert _stored(store) == 4
    assert (out / "sweep.parquet").read_bytes() == reference.read_bytes()
