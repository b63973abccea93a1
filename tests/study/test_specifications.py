"""Side-by-side specifications ([[compare]] in a study): validation before sampling, and a small run whose
summary and report carry every specification per outcome with diagnostics and LOO, and the joint model's
cross-outcome correlations."""

import json

import pytest
from typer.testing import CliRunner

from tipcausal.cli import EXIT_INPUT, app
from tipcausal.study.config import library_studies

runner = CliRunner()

COMPARE = '''
[[compare]]
name = "binary (score >= 4)"
likelihood = "binary_logit"
collapse_threshold = 4

[[compare]]
name = "measurement error 0.2"
measurement_error = 0.2

[[compare]]
name = "joint"
joint = true
'''


def study_file(tmp_path, extra="", **replace):
    text = library_studies()["default"].read_text()
    for old, new in {"n_countries = 180": "n_countries = 30",
                     'outcomes = ["prosecution", "protection", "prevention"]': 'outcomes = ["protection", "prevention"]',
                     **replace}.items():
        text = text.replace(old, new)
    p = tmp_path / "s.toml"
    p.write_text(text + extra)
    return p


@pytest.mark.parametrize("extra,needle", [
    ('\n[[compare]]\nname = "x"\nlikelihod = "binary_logit"\n', "[[compare]] #1 has unknown key(s) likelihod"),
    ('\n[[compare]]\nlikelihood = "binary_logit"\n', "[[compare]] #1 needs a name"),
    ('\n[[compare]]\nname = "x"\nlikelihood = "logit"\n', "unknown likelihood 'logit'"),
    ('\n[[compare]]\nname = "x"\ncollapse_threshold = 7\n', "collapse_threshold must be 2, 3, 4 or 5"),
    ('\n[[compare]]\nname = "x"\njoint = true\npooling = "none"\n', "'x': the joint model correlates"),
    ('\n[[compare]]\nname = "x"\n[[compare]]\nname = "x"\n', "the name 'x' is used twice"),
    ('\n[[compare]]\nname = "x"\nmeasurement_error = -1\n', "measurement_error must be"),
])
def test_bad_compare_entries_fail_before_sampling(tmp_path, extra, needle):
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(study_file(tmp_path, extra)), "--out", str(out), "--quiet"])
    assert res.exit_code == EXIT_INPUT, res.output
    assert needle in " ".join(res.output.split())
    assert not out.exists()


def test_binary_primary_model_is_refused_with_the_way_out(tmp_path):
    p = study_file(tmp_path, **{'likelihood = "cumulative_logit"': 'likelihood = "binary_logit"'})
    res = runner.invoke(app, ["run", str(p), "--out", str(tmp_path / "out"), "--quiet"])
    assert res.exit_code == EXIT_INPUT
    assert "as a [[compare]] specification" in " ".join(res.output.split())


@pytest.mark.sampling
@pytest.mark.slow
def test_compare_run_reports_every_specification(tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["run", str(study_file(tmp_path, COMPARE)), "--draws", "150", "--tune", "150",
                              "--chains", "2", "--out", str(out), "--quiet", "--allow-unconverged"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    for outcome in ("protection", "prevention"):
        rows = summary["outcomes"][outcome]["specifications"]
        assert [r["name"] for r in rows] == ["primary", "binary (score >= 4)", "measurement error 0.2", "joint"]
        primary, binary, me, joint = rows
        assert set(primary["effects"]) == {"expected_score", "p_score_ge_4"}
        assert set(binary["effects"]) == {"p_score_ge_4"}
        for r in rows:
            assert r["diagnostics"]["verdict"] in ("pass", "fail") and r["loo"]["n"] == r["n_obs"]
        assert binary["loo_note"] == "not comparable: a binary outcome" and binary["elpd_diff"] is None
        assert me["loo_note"].startswith("not comparable: conditional")
        assert primary["loo_note"] == "reference"
        assert all(0 <= r["ppc_inside"] <= len(r["ppc"]["observed"]) for r in rows) and len(binary["ppc"]["observed"]) == 2
        # the joint model uses the same country-years here (no outcome missing), so its elpd is differenced
        assert joint["joint"] and joint["elpd_diff"] is not None and joint["elpd_diff_se"] > 0
        assert (out / "fits" / "compare" / "measurement_error_0.2" / f"{outcome}.nc").is_file()
    assert (out / "fits" / "compare" / "joint" / "joint.nc").is_file()
    prov = json.loads((out / "fits" / "compare" / "joint" / "joint.provenance.json").read_text())
    assert {"seed", "data_hash", "dag_hash", "model_spec", "versions"} <= set(prov)
    corr = summary["joint_model"]["correlations"]
    assert len(corr) == 6 and {c["kind"] for c in corr} == {"intercepts", "slopes", "intercept-slope",
                                                           "within outcome"}
    html = (out / "report.html").read_text()
    assert "Bayesian specifications side by side" in html and "Joint 3-P model: correlation" in html
    assert "intercept:protection ~ intercept:prevention" in html


def test_elpd_is_differenced_on_the_country_years_both_models_use():
    import numpy as np
    import pandas as pd

    from tipcausal.posterior.loo import compare_elpd

    ref_rows = pd.DataFrame({"country": list("AABBCC"), "year": [1, 2, 1, 2, 1, 2]})
    ref_pointwise = np.array([-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])

    def row_for(rows, pointwise):
        return compare_elpd(rows, np.asarray(pointwise), ref_rows, ref_pointwise)

    same = row_for(ref_rows, ref_pointwise + 0.5)
    assert same.diff == pytest.approx(3.0) and same.note == ""
    subset = row_for(ref_rows.iloc[[5, 0, 3]].reset_index(drop=True), [-5.0, -0.5, -4.5])  # rows C2, A1, B2
    assert subset.diff == pytest.approx(0.5 + 1.0 - 0.5)
    assert subset.note == "on the 3 country-years both models use"
    other = row_for(pd.DataFrame({"country": ["A", "D"], "year": [1, 1]}), [-1.0, -1.0])
    assert other.diff is None and other.note.startswith("not comparable: other country-years")


def test_shipped_real_study_specifications_are_valid_and_joint_needs_two_outcomes(tmp_path):
    from tipcausal.core.errors import InputError
    from tipcausal.models.spec import ModelSpec
    from tipcausal.study.config import alternative_specs
    from tipcausal.study.config import load_study

    study = load_study("real")
    assert len(study.alternatives) == 7
    specs = {o: ModelSpec(outcome=o, treatment="v2cscnsult", covariates=("v2x_corr",)) for o in study.outcomes}
    for alt in study.alternatives:
        assert set(alternative_specs(alt, specs)) == set(study.outcomes)
    joint = next(a for a in study.alternatives if a.joint)
    with pytest.raises(InputError, match="'joint 3-P': the joint model needs at least two outcomes"):
        alternative_specs(joint, {"prosecution": specs["prosecution"]})
