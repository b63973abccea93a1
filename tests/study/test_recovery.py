"""End-to-end recovery on the default simulated study, at the default settings, through the study runner.

Tolerances: the true average effect must lie in the 90% HDI, widened by 3 Monte Carlo standard
errors of the posterior mean (the HDI endpoints carry Monte Carlo error of about that size).
"""

import json

import arviz as az
import pandas as pd
import pytest

from tipcausal.posterior.effects import effect_draws
from tipcausal import api
from tipcausal.study.config import load_study

pytestmark = [pytest.mark.sampling, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("default_run")
    study = load_study("default").with_overrides(output_dir=str(out))
    return api.run(study, show_sampler_progress=False)


@pytest.fixture(scope="module")
def result(run):
    return run.result


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
    for anchor in ("answer", "headline", "dag", "identification", "variants", "dagtests", "diagnostics", "effects", "countries", "ppc",
                   "priors", "provenance"):
        assert f'id="{anchor}"' in html
    assert html.count("data:image/png;base64,") >= 5
    assert "cso_consultation &lt;- political_will -&gt; prosecution" in html
    assert "<code>region _||_ corruption | gdp, democracy</code>" in html
    assert html.count("(this study)") == 3 and "will_proxies" in html
    assert "All fits passed" in html
    # the answer comes first: a sentence per outcome with its numbers, before the DAG and identification
    doc = json.loads((result.out_dir / "summary.json").read_text())
    first = html[:html.index('id="dag"')]
    for o, e in doc["outcomes"].items():
        es = e["effects"]["expected_score"]
        assert f"{o.capitalize()}: raising CSO consultation by one SD" in first
        assert f"{es['mean']:+.2f} (94% HDI {es['hdi_low']:+.2f} to {es['hdi_high']:+.2f})" in first
        assert f"probability of an increase is {es['p_positive']:.2f}" in first
    assert first.count("political_will is constant within each country") == 1  # said once, not per outcome
    assert html.count('class="country-forest"') == 3  # a labelled country forest plot per outcome


def test_python_api_tables_match_the_summary(run):
    """``summary()`` and ``effects()`` are the same numbers as summary.json, one tidy row each; the per-country
    table written beside summary.json is ``effects(by="country")``."""
    doc = json.loads(run.summary_path.read_text())
    table = run.summary()
    assert set(table.columns) >= {"outcome", "specification", "effect", "mean", "hdi_low", "hdi_high", "p_positive",
                                  "gate", "max_rhat", "min_ess_bulk", "divergences"}
    primary = table[table["specification"] == "primary"].set_index(["outcome", "effect"])
    for o, e in doc["outcomes"].items():
        for k, v in e["effects"].items():
            assert primary.loc[(o, k), "mean"] == pytest.approx(v["mean"], rel=1e-12)
            assert primary.loc[(o, k), "gate"] == e["diagnostics"]["verdict"]
    by_country = run.effects(by="country")
    n_countries = {o: len(r.effects.by_country) for o, r in run.result.outcomes.items()}
    assert len(by_country) == 2 * sum(n_countries.values())
    written = pd.read_csv(run.out_dir / api.COUNTRY_EFFECTS, dtype={"country": str})
    assert len(written) == len(by_country)
    assert written["mean"].to_numpy() == pytest.approx(by_country["mean"].to_numpy(), rel=1e-9)
    one = by_country[(by_country.outcome == "protection") & (by_country.effect == "expected_score")].iloc[0]
    assert one["mean"] == pytest.approx(
        run.result.outcomes["protection"].effects.by_country[one["country"]]["expected_score"].mean)
    with pytest.raises(ValueError, match="by must be one of"):
        run.effects(by="region")


def test_python_api_figures_and_displays(run, tmp_path):
    """Every plotting method returns a figure that renders itself as PNG (Jupyter shows it inline without pyplot);
    the study, the fit and the run display as HTML; ``report(path)`` renders a copy."""
    figures = [run.plot_effects(), run.plot_countries("protection"), run.plot_countries(limit=None),
               run.plot_ppc(), run.plot_dag(), run.plot_ppc("grouped"), run.plot_ppc("loo_pit"),
               run.plot_conditional()]
    for fig in figures:
        png = fig._repr_png_()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    labels = [t.get_text() for t in figures[1].axes[0].get_yticklabels()]
    assert len(labels) == 40 and all(labels)  # the 20 lowest and 20 highest countries, each labelled
    assert len(figures[2].axes[0].get_yticklabels()) == len(run.result.outcomes["prosecution"].effects.by_country)
    assert "diagnostics gate" in run.result.outcomes["protection"].fit._repr_html_()
    assert "<table>" in run.result.study._repr_html_() and "<table>" in run._repr_html_()
    assert "Identification of" in run.result.outcomes["protection"].identification._repr_html_()
    assert set(run.fits) == set(run.outcomes) and run.idata("protection") is run.fits["protection"]
    with pytest.raises(KeyError, match="no specification"):
        run.idata("protection", "nope")
    with pytest.raises(ValueError, match="kind must be one of shares, grouped, loo_pit"):
        run.plot_ppc("nope")
    with pytest.raises(ValueError, match="the world map needs a real-data panel"):
        run.plot_map()  # a simulated panel's countries are not ISO3 codes (tests/report/test_world_map.py)
    copy = run.report(tmp_path / "copy.html")
    assert copy.read_text(encoding="utf-8") == run.report_path.read_text(encoding="utf-8")

