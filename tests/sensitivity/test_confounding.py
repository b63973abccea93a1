"""Unobserved confounding: the bias formula is exact where it must be (OLS), and on the latent scale of a
hierarchical ordinal fit the analytic adjustment reproduces a fit that observes the confounder."""

import numpy as np
import pytest

from helpers import sampler_seed
from tipcausal.data.panel import Panel, PanelSchema
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec
from tipcausal.posterior.effects import effect_draws
from tipcausal.sensitivity.confounding import (EffectRoots, adjusted_effects, analyse_confounding, moves_estimate,
                                              within_scale)
from tipcausal.sensitivity.ovb import bias, partial_r2_bounds, robustness_value
from tipcausal.simulation.structural import SimulationConfig, simulate_panel


def _rss(y, *cols):
    X = np.column_stack([np.ones(len(y)), *cols])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    return float(r @ r), beta


def test_bias_is_the_exact_omitted_variable_bias_of_ols():
    rng = np.random.default_rng(0)
    n = 5000
    u = rng.normal(size=n)
    d = 0.6 * u + rng.normal(size=n)
    y = 0.4 * d + 0.9 * u + rng.normal(size=n)
    rss_short, b_short = _rss(y, d)
    rss_long, b_long = _rss(y, d, u)
    rss_d, _ = _rss(d)
    rss_du, _ = _rss(d, u)
    r2_treatment = 1 - rss_du / rss_d
    r2_outcome = 1 - rss_long / rss_short
    b = bias(r2_treatment, r2_outcome, np.sqrt(rss_short / n), np.sqrt(rss_d / n))
    assert b == pytest.approx(b_short[1] - b_long[1], rel=1e-9)
    # the robustness value is the common partial R^2 that produces a given bias
    rv = robustness_value(b, np.sqrt(rss_short / n), np.sqrt(rss_d / n))
    assert bias(rv, rv, np.sqrt(rss_short / n), np.sqrt(rss_d / n)) == pytest.approx(b, rel=1e-9)


def test_benchmark_bounds_scale_with_k_and_stop_where_undefined():
    r2d1, r2y1 = partial_r2_bounds(1.0, 0.05, 0.1)
    r2d2, r2y2 = partial_r2_bounds(2.0, 0.05, 0.1)
    assert r2d1 == pytest.approx(0.05 / 0.95) and r2d2 == pytest.approx(2 * r2d1)
    assert r2y2 > r2y1 > 0.1
    assert all(np.isnan(partial_r2_bounds(25.0, 0.05, 0.1)))


def _panel_with_will(seed: int, will_time_sd: float):
    sim = simulate_panel(seed, SimulationConfig(n_countries=80, will_time_sd=will_time_sd))
    frame = sim.panel.frame.merge(sim.latent[["country", "year", "political_will"]], on=["country", "year"])
    schema = PanelSchema(outcomes=sim.panel.schema.outcomes, numeric=sim.panel.schema.numeric + ("political_will",))
    return sim, Panel(frame=frame, schema=schema, kind="simulated", source="simulated with political will")


def _mcse(draws: np.ndarray) -> float:
    import arviz as az
    ds = az.convert_to_dataset({"x": np.asarray(draws).reshape(4, -1)})
    return float(az.mcse(ds)["x"])


@pytest.mark.sampling
def test_adjustment_at_the_true_strength_matches_a_fit_that_observes_the_confounder():
    """Political will varies within countries (will_time_sd = 1): the plain model is biased. Its strength, as
    partial R^2 with the within treatment and the latent score, is measured from a fit that includes it; the
    analytic adjustment of the plain fit at that strength must land on that fit's effect, up to Monte Carlo
    error and a small share (15%) of the confounding bias it removes."""
    sim, panel = _panel_with_will(3, 1.0)
    covs = ("v2x_corr", "v2x_polyarchy", "log_gdp_pc")
    settings = SamplerSettings(draws=1000, tune=500, chains=4, seed=sampler_seed(1))
    plain = fit_specification(panel, ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=covs),
                              settings)
    oracle = fit_specification(panel, ModelSpec(outcome="protection", treatment="v2cscnsult",
                                                covariates=(*covs, "political_will")), settings)
    assert plain.passed and oracle.passed, (plain.gate.reasons, oracle.gate.reasons)
    will = within_scale(oracle, ["political_will"]).benchmarks[0]
    adjusted = adjusted_effects(plain, will.r2_treatment, will.r2_outcome)["expected_score"]
    o_draws = effect_draws(oracle.idata)["expected_score"].values
    roots = EffectRoots(plain, 1.0)
    scale = within_scale(plain, [])
    a_draws = roots.effects(float(bias(will.r2_treatment, will.r2_outcome, scale.sd_residual,
                                       scale.sd_treatment)))["expected_score"]
    mc = np.hypot(_mcse(o_draws), _mcse(a_draws))
    o_mean = float(o_draws.mean())
    p_mean = plain.assessment.effects.average["expected_score"].mean
    assert abs(p_mean - o_mean) > 10 * mc  # the confounding is real
    assert abs(adjusted.mean - o_mean) <= 4 * mc + 0.15 * abs(p_mean - o_mean), (adjusted.mean, o_mean, p_mean)
    # at the true strength the analysis flags the confounding: the plain estimate lies outside the adjusted interval
    assert moves_estimate(plain.assessment.effects.average["expected_score"], adjusted)
    # the whole analysis runs on the same fit and states the within/between split
    analysis = analyse_confounding(plain, ["v2x_corr", "log_gdp_pc"], labels={"v2x_corr": "corruption"})
    d = analysis.to_dict()
    assert d["tipping_k"] is None or d["tipping_k"] >= 0
    assert 0 < d["effects"]["expected_score"]["rv_certain"] <= d["effects"]["expected_score"]["rv_median"]
    assert "cannot move it" in d["verdict"] and "corruption" in d["verdict"]
    grid = np.asarray(d["grid"]["p_direction"])
    assert grid[0, 0] == pytest.approx(plain.assessment.effects.average["expected_score"].p_positive, abs=0.01)
    assert np.all(np.diff(grid, axis=0) <= 1e-12) and np.all(np.diff(grid, axis=1) <= 1e-12)
    assert len(d["by_country"]) == 80
    assert all(set(b["moves_estimate"]) == set(b["effects"]) for b in d["benchmarks"])
