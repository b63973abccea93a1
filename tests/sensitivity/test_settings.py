"""Bad [sensitivity] settings are refused before any sampling, with one message naming the file and the key;
nothing is written."""

import pytest
from typer.testing import CliRunner

from tipcausal.cli import EXIT_INPUT, app
from tipcausal.core.errors import InputError
from tipcausal.study.config import library_studies, load_study
from tipcausal.study.runner import prepare

runner = CliRunner()


def study_with(tmp_path, table: str):
    text = library_studies()["default"].read_text().replace("n_countries = 180", "n_countries = 30") + "\n" + table
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("table,needle", [
    ('[sensitivity]\nanalyses = ["confounding", "bootstrap"]', "unknown sensitivity analysis 'bootstrap'; valid "
                                                               "analyses: confounding, priors, refute"),
    ("[sensitivity.confounding]\nk = [1, -2]", "[sensitivity.confounding]: every strength k must be a number above 0, "
                                               "got -2"),
    ("[sensitivity.confounding]\nr2_max = 1.5", "r2_max (partial R^2) must be a number above 0 and below 1"),
    ("[sensitivity.confounding]\nbenchmarks = [\"corruption\", \"political_will\"]",
     "'political_will' is not a numeric adjustment node of the study"),
    ('[sensitivity.priors]\npartitions = ["slope"]', "unknown prior partition 'slope'"),
    ("[sensitivity.refute]\nplacebo = 0", "placebo must be an integer >= 1, got 0"),
    ("[sensitivity.refute]\nrope = -0.1", "rope (share of the effect) must be a number above 0"),
    ("[sensitivity.refute]\nbootstraps = 3", "[sensitivity.refute]: unknown key(s) bootstraps"),
    ('[sensitivity.refute]\nnegative_control = "prosecution"', "'prosecution' can be reached from the treatment"),
    ('[sensitivity.refute]\nnegative_control = "rainfall"', "'rainfall' is not a node of the DAG"),
])
def test_bad_sensitivity_settings_are_refused_before_sampling(tmp_path, table, needle):
    p = study_with(tmp_path, table)
    with pytest.raises(InputError) as err:
        prepare(load_study(p))
    message = " ".join(str(err.value).split())
    assert needle in message and str(p) in message
    out = tmp_path / "out"
    res = runner.invoke(app, ["sensitivity", str(p), "--out", str(out), "--quiet"])
    assert res.exit_code == EXIT_INPUT, res.output
    assert not out.exists()


def test_unknown_only_is_refused(tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["sensitivity", str(study_with(tmp_path, "")), "--only", "placebo", "--out", str(out)])
    assert res.exit_code == EXIT_INPUT and "unknown sensitivity analysis 'placebo'" in res.output
    assert not out.exists()


def test_defaults_use_the_study_adjustment_as_benchmarks(tmp_path):
    prepared = prepare(load_study(study_with(tmp_path, "")))
    assert tuple(prepared.benchmarks) == ("v2x_corr", "log_gdp_pc", "v2x_polyarchy")
    assert prepared.benchmarks["v2x_corr"] == "corruption"
    assert prepared.negative_control_column is None


def test_run_includes_the_analyses_only_when_asked(tmp_path):
    from tipcausal.api.running import _sensitivity

    plain = load_study(study_with(tmp_path, ""))
    assert _sensitivity(plain, None) is None and _sensitivity(plain, False) is None
    assert _sensitivity(plain, True).analyses == ("confounding", "priors", "refute")
    assert _sensitivity(plain, ("refute", "confounding")).analyses == ("confounding", "refute")
    on = load_study(study_with(tmp_path, '[sensitivity]\nrun = true\nanalyses = ["priors"]'))
    assert _sensitivity(on, None).analyses == ("priors",)
