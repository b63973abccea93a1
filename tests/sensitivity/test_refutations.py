"""Panel-aware refutations: the altered panels do what they claim, the verdict rule is the stated one, and on
a simulated panel without time-varying confounding the within-country, between and lead placebos pass (their
rates over repeated panels, and the lead's power against time-varying confounding, are measured by
benchmarks/bench_sensitivity.py)."""

import numpy as np
import pytest

from helpers import sampler_seed
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.spec import ModelSpec
from tipcausal.sensitivity import panels as altered
from tipcausal.sensitivity.refutations import (Refitter, between_placebo, lead_placebo, placebo_refits, rope_verdict,
                                               within_placebo)
from tipcausal.sensitivity.settings import RefuteSettings
from tipcausal.simulation.structural import SimulationConfig, simulate_panel

COVS = ("v2x_corr", "v2x_polyarchy", "log_gdp_pc")
SPEC = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=COVS)


def _means(frame, rows, column):
    sub = rows[["country", "year"]].merge(frame[["country", "year", "region", column]], on=["country", "year"])
    return sub.groupby("country")[column].mean(), sub


def test_within_country_permutation_keeps_country_means_and_moves_rows():
    panel = simulate_panel(1, SimulationConfig(n_countries=30)).panel
    rows = bind_data(panel, SPEC).rows
    placebo = altered.permute_within_country(panel, rows, ["v2cscnsult"], np.random.default_rng(0))
    before, sub0 = _means(panel.frame, rows, "v2cscnsult")
    after, sub1 = _means(placebo.frame, rows, "v2cscnsult")
    np.testing.assert_allclose(after.to_numpy(), before.to_numpy(), rtol=1e-12)
    assert (sub0["v2cscnsult"].to_numpy() != sub1["v2cscnsult"].to_numpy()).mean() > 0.5
    assert placebo.hash != panel.hash and "placebo" in placebo.source


def test_between_permutation_keeps_deviations_and_permutes_means_within_region():
    panel = simulate_panel(1, SimulationConfig(n_countries=30)).panel
    rows = bind_data(panel, SPEC).rows
    placebo = altered.permute_between_within_region(panel, rows, "v2cscnsult", np.random.default_rng(0))
    before, sub0 = _means(panel.frame, rows, "v2cscnsult")
    after, sub1 = _means(placebo.frame, rows, "v2cscnsult")
    dev0 = sub0["v2cscnsult"] - sub0["country"].map(before)
    dev1 = sub1["v2cscnsult"] - sub1["country"].map(after)
    np.testing.assert_allclose(dev1.to_numpy(), dev0.to_numpy(), atol=1e-9)
    region = sub0.groupby("country")["region"].first()
    for _, group in region.groupby(region):
        np.testing.assert_allclose(np.sort(after[group.index]), np.sort(before[group.index]), rtol=1e-12)
    assert not np.allclose(after.to_numpy(), before.to_numpy())


def test_both_permutations_in_one_panel_shuffle_deviations_within_country_and_means_within_region():
    panel = simulate_panel(1, SimulationConfig(n_countries=30)).panel
    rows = bind_data(panel, SPEC).rows
    rng = np.random.default_rng(0)
    placebo = altered.permute_between_within_region(
        altered.permute_within_country(panel, rows, ["v2cscnsult"], rng), rows, "v2cscnsult", rng)
    before, sub0 = _means(panel.frame, rows, "v2cscnsult")
    after, sub1 = _means(placebo.frame, rows, "v2cscnsult")
    dev0 = (sub0["v2cscnsult"] - sub0["country"].map(before)).groupby(sub0["country"])
    dev1 = (sub1["v2cscnsult"] - sub1["country"].map(after)).groupby(sub1["country"])
    for (c, d0), (_, d1) in zip(dev0, dev1):  # each country keeps its own deviations, in another order
        np.testing.assert_allclose(np.sort(d1.to_numpy()), np.sort(d0.to_numpy()), atol=1e-9, err_msg=c)
    region = sub0.groupby("country")["region"].first()
    for _, group in region.groupby(region):
        np.testing.assert_allclose(np.sort(after[group.index]), np.sort(before[group.index]), rtol=1e-12)
    assert not np.allclose(after.to_numpy(), before.to_numpy())
    assert "placebo" in placebo.source and "between placebo" in placebo.source


def test_lead_is_next_years_value_in_the_same_country():
    panel = simulate_panel(1, SimulationConfig(n_countries=10)).panel
    lead = altered.with_lead(panel, "v2cscnsult", "lead").frame.set_index(["country", "year"])
    base = panel.frame.set_index(["country", "year"])["v2cscnsult"]
    for (c, y), v in lead["lead"].items():
        assert (np.isnan(v) and (c, y + 1) not in base.index) or v == base[(c, y + 1)]


@pytest.mark.parametrize("draws,rope,verdict", [
    (np.random.default_rng(0).normal(0.00, 0.05, 4000), 0.02, "pass"),      # interval covers 0
    (np.random.default_rng(0).normal(0.01, 0.002, 4000), 0.02, "pass"),     # tiny, precise: inside the ROPE
    (np.random.default_rng(0).normal(0.30, 0.05, 4000), 0.02, "fail"),      # clearly beyond the ROPE
    (np.random.default_rng(0).normal(0.03, 0.01, 4000), 0.02, "inconclusive"),  # straddles the margin
])
def test_rope_verdict_rule(draws, rope, verdict):
    assert rope_verdict(draws, rope)[0] == verdict


@pytest.mark.sampling
def test_placebo_and_lead_pass_without_time_varying_confounding():
    settings = SamplerSettings(draws=1000, tune=500, chains=4, seed=sampler_seed(3))
    cfg = RefuteSettings(placebo=2, draws=1000, tune=500)
    clean = simulate_panel(21, SimulationConfig(n_countries=80)).panel
    fit = fit_specification(clean, SPEC, settings)
    refit = Refitter(fit, clean, settings, cfg, None, lambda m: None)
    fits, permuted_means = placebo_refits(fit, clean, refit, cfg)
    assert permuted_means and len(fits) == 2 and all(not f.assessment.predictive for f in fits)
    placebo, between = within_placebo(fit, fits, cfg), between_placebo(fit, fits, cfg)
    assert placebo.n_refits == 2 and placebo.n_failed_gate == 0 and between.n_refits == 2
    lead = lead_placebo(fit, clean, refit, cfg)
    for r in (placebo, between, lead):
        # under the null both statistics sit within a few posterior SDs of 0 (SD from the 90% interval's width);
        # 3.5 SD bounds a false alarm at about 5 in 10,000 seeds
        sd = (r.interval[1] - r.interval[0]) / 3.29
        assert abs(r.value) < 3.5 * sd, r.sentence
        assert r.rule and r.sentence.startswith(f"{r.name}: {r.verdict}")
    assert fit.assessment.effects.average["expected_score"].p_positive > 0.95  # a real effect to shuffle away
