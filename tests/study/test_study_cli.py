"""Study files and the CLI: bad input fails before sampling and writes nothing; the gate sets the exit code."""

import json

import pytest
from typer.testing import CliRunner

from tipcausal.cli import EXIT_INPUT, EXIT_UNCONVERGED, app
from tipcausal.core.errors import InputError
from tipcausal.study.config import library_studies, load_study

runner = CliRunner()


def study_file(tmp_path, **replace):
    text = library_studies()["default"].read_text()
    for old, new in replace.items():
        text = text.replace(old, new)
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_default_study_loads():
    s = load_study()
    assert s.name == "default" and s.sampler.backend == "numpyro" and s.outcomes == (
        "prosecution", "protection", "prevention")


@pytest.mark.parametrize("replace,needle", [
    ({'backend = "numpyro"': 'backend = "stan"'}, "unknown sampler 'stan'; valid names: numpyro, nutpie, pymc"),
    ({"draws = 1000": "draws = 1000\nwarmup = 5"}, "[sampler] has unknown key(s) warmup"),
    ({'adjustment = ["region", "democracy", "corruption", "gdp"]': 'adjustment = ["democracy"]'},
     "leaves the backdoor path cso_consultation <- region -> prosecution open"),
    ({'dag = "default"': 'dag = "nonexistent"'}, "unknown DAG 'nonexistent'"),
    ({'treatment = "cso_consultation"': 'treatment = "ngo_count"'}, "treatment 'ngo_count' is not a node"),
    ({"draws = 1000": 'draws = "many"'}, "[sampler] draws must be int"),
])
def test_bad_study_fails_before_sampling_and_writes_nothing(tmp_path, replace, needle):
    p = study_file(tmp_path, **replace)
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(p), "--out", str(out), "--quiet"])
    assert res.exit_code == EXIT_INPUT, res.output
    assert needle in " ".join(res.output.split())
    assert not out.exists()


def test_missing_study_file(tmp_path):
    with pytest.raises(InputError, match="study file not found"):
        load_study(tmp_path / "missing.toml")


@pytest.mark.sampling
def test_unconverged_run_is_written_flagged_and_exits_nonzero(tmp_path):
    p = study_file(tmp_path, **{"n_countries = 180": "n_countries = 30",
                                'outcomes = ["prosecution", "protection", "prevention"]': 'outcomes = ["protection"]'})
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(p), "--draws", "40", "--tune", "40", "--chains", "2", "--out", str(out),
                              "--quiet"])
    assert res.exit_code == EXIT_UNCONVERGED, res.output
    assert "DIAGNOSTICS FAILED" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["all_passed"] is False
    assert summary["outcomes"]["protection"]["diagnostics"]["verdict"] == "fail"
    assert "DIAGNOSTICS FAILED" in (out / "report.html").read_text()
    assert (out / "fits" / "protection.nc").is_file()
    # fit paths are relative to the output folder; the summary and the fit record whether unconverged was allowed
    assert summary["outcomes"]["protection"]["fit"] == "fits/protection.nc"
    assert summary["outcomes"]["protection"]["specifications"][0]["fit"] == "fits/protection.nc"
    assert summary["provenance"]["allow_unconverged"] is False
    res = runner.invoke(app, ["run", str(p), "--draws", "40", "--tune", "40", "--chains", "2", "--out", str(out),
                              "--quiet", "--allow-unconverged"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["all_passed"] is False and summary["provenance"]["allow_unconverged"] is True
    prov = json.loads((out / "fits" / "protection.provenance.json").read_text())
    assert prov["allow_unconverged"] is True and prov["fit_key"]


def test_help_lists_every_command_with_its_summary_and_every_run_option():
    import re

    import typer.main

    cli = typer.main.get_command(app)
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for name, cmd in cli.commands.items():  # each command on its own line, followed by its one-line summary
        words = " ".join((cmd.help or "").split()[:3])
        assert re.search(rf"^\W*{name}\s+{re.escape(words)}", res.output, flags=re.M), (name, res.output)
    res = runner.invoke(app, ["run", "--help"])
    run_cmd = cli.commands["run"]
    for param in run_cmd.params:
        for opt in param.opts if param.param_type_name == "option" else ():
            assert re.search(rf"^\W*{re.escape(opt)}\b", res.output, flags=re.M), (opt, res.output)
