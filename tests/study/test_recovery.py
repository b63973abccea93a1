"""End-to-end recovery on the default simulated study, at the default settings, through the study runner.

Tolerances: the true average effect must lie in the 90% HDI, widened by 3 Monte Carlo standard
errors of the posterior mean (the HDI endpoints carry Monte Carlo error of about that size).
"""

import json

import arviz as az
import pytest

from tipcausal.posterior.effects import effect_draws
from tipcausal import api
from tipcausal.study.config import load_study

pytestmark = [pytest.mark.sampling, pytest.mark.slow]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("default_run")
    study = load_study("default").with_overrides(output_dir=str(out))
    return api.run(study, show_sampler_progress=False).result


def test_recovers_the_average_effects(result):
    for outcome, r in result.outcomes.items():
        draws = effect_draws(r.idata)
        for key in ("expected_score", "p_score_ge_4"):
            e = r.effects.average[key]
            mcse = float(az.mcse(draws[[key]])[key])
            truth = getattr(r.truth, key)
            assert e.hdi90_low - 3 * mcse <= truth <= e.hdi90_high + 3 * mcse, (outcome, key, e, truth)
        if abs(r.truth.expected_score) > 0.1:  # clearly non-zero truth: the sign must be right
            assert r.effects.average["expected_score"].mean * r.truth.expected_score > 0
            assert r.effects.average["expected_score"].p_positive > 0.9
        sd = r.effects.slope_sd
        assert sd.hdi_low <= r.truth.slope_sd <= sd.hdi_high, (outcome, sd)


def test_gate_and_summary_shape(result):
    s = json.loads((result.out_dir / "summary.json").read_text())
    assert s["data"]["kind"] == "simulated" and s["data"]["hash"] == result.panel.hash
    assert set(s["outcomes"]) == {"prosecution", "protection", "prevention"}
    for o, e in s["outcomes"].items():
        assert set(e["effects"]) == {"expected_score", "p_score_ge_4"}
        for v in e["effects"].values():
            assert {"mean", "hdi_low", "hdi_high", "p_positive"} <= set(v)
        assert {"mean", "hdi_low", "hdi_high"} <= set(e["slope_sd"])
        assert {"verdict", "max_rhat", "min_ess_bulk", "min_ess_tail", "divergences"} <= set(e["diagnostics"])
        assert e["diagnostics"]["verdict"] == "pass", e["diagnostics"]["reasons"]
        assert {"expected_score", "p_score_ge_4", "slope_sd"} <= set(e["truth"])
        assert e["identification"]["status"] == "conditional"
    p = s["provenance"]
    assert {"seed", "dag_hash", "versions", "data_hash", "model_specs"} <= set(p)


def test_fits_saved_with_provenance(result):
    for outcome, r in result.outcomes.items():
        idata = az.from_netcdf(r.fit_path)
        assert {"posterior", "sample_stats", "constant_data", "observed_data"} <= set(idata.groups())
        prov = json.loads(r.fit_path.with_suffix(".provenance.json").read_text())
        assert prov["data_hash"] == result.panel.hash and prov["seed"] == 1
        assert prov["model_spec"]["outcome"] == outcome and prov["versions"]["pymc"].startswith("5.28")
        # effects are computable from the saved file alone
        assert effect_draws(idata)["expected_score"].mean() == pytest.approx(
            r.effects.average["expected_score"].mean, rel=1e-9)
    assert not list(result.out_dir.rglob("*.tmp"))


def test_report_has_every_section(result):
    html = (result.out_dir / "report.html").read_text()
    for anchor in ("dag", "identification", "variants", "dagtests", "diagnostics", "effects", "countries", "ppc",
                   "priors", "provenance"):
        assert f'id="{anchor}"' in html
    assert html.count("data:image/png;base64,") >= 5
    assert "cso_consultation &lt;- political_will -&gt; prosecution" in html
    assert "<code>region _||_ corruption | gdp, democracy</code>" in html
    assert html.count("(this study)") == 3 and "will_proxies" in html
    assert "All fits passed" in html
