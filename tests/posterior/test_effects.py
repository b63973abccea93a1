"""Effects computed from InferenceData built from dicts, against hand computations."""

import arviz as az
import numpy as np
import pytest

from tipcausal.posterior.effects import effect_draws, summarise_effects
from tipcausal.models.likelihoods import expected_score, prob_score_at_least


def idata(slope, n_chain=2, n_draw=50, seed=0):
    rng = np.random.default_rng(seed)
    n_c, n = 3, 12
    country_idx = np.repeat(np.arange(n_c), 4)
    post = {
        "intercept": rng.normal(0, 0.5, (n_chain, n_draw, n_c)),
        "slope": np.broadcast_to(np.asarray(slope, float), (n_chain, n_draw, n_c)).copy(),
        "cutpoints": np.broadcast_to(np.array([-2.0, -0.5, 0.5, 2.0]), (n_chain, n_draw, 4)).copy(),
        "slope_mean": np.zeros((n_chain, n_draw)), "slope_sd": np.ones((n_chain, n_draw)),
    }
    const = {"country_idx": country_idx, "year_idx": np.zeros(n, int), "x_within": rng.normal(size=n),
             "x_between": np.zeros(n), "z_within": np.zeros((n, 0)), "z_between": np.zeros((n, 0))}
    return az.from_dict(posterior=post, constant_data=const, coords={"country": ["A", "B", "C"]},
                        dims={"intercept": ["country"], "slope": ["country"]})


def test_zero_slope_means_zero_effect():
    d = effect_draws(idata(0.0))
    assert np.abs(d["expected_score"].values).max() == 0.0
    assert np.abs(d["country_p_score_ge_4"].values).max() == 0.0


def test_effect_matches_hand_computation():
    slopes = [0.5, -0.2, 1.0]
    idt = idata(slopes)
    d = effect_draws(idt)
    post, const = idt.posterior, idt.constant_data
    c = const["country_idx"].values
    eta = post["intercept"].values[0, 0][c] + post["slope"].values[0, 0][c] * const["x_within"].values
    cut = post["cutpoints"].values[0, 0]
    shifted = eta + np.asarray(slopes)[c]
    diff = expected_score(shifted, cut) - expected_score(eta, cut)
    assert d["expected_score"].values[0, 0] == pytest.approx(diff.mean(), rel=1e-12)
    assert d["country_expected_score"].values[0, 0, 1] == pytest.approx(diff[c == 1].mean(), rel=1e-12)
    d4 = prob_score_at_least(shifted, cut, 4) - prob_score_at_least(eta, cut, 4)
    assert d["p_score_ge_4"].values[0, 0] == pytest.approx(d4.mean(), rel=1e-12)
    s = summarise_effects(idt, d)
    assert s.by_country["B"]["expected_score"].mean < 0 < s.by_country["C"]["expected_score"].mean
    e = s.average["expected_score"]
    assert e.hdi_low <= e.hdi90_low <= e.mean <= e.hdi90_high <= e.hdi_high
    assert s.to_dict()["effects"]["expected_score"] == e.to_dict()


def test_summaries_of_many_columns_are_each_columns_own():
    """The per-country summaries, computed for every country at once, equal ``summarise`` of each country's
    draws (ArviZ's HDI and NumPy's quantiles): on continuous, tied and float32 draws."""
    from tipcausal.posterior.effects import summarise, summarise_columns

    rng = np.random.default_rng(4)
    draws = np.column_stack([rng.normal(size=4000), np.round(rng.normal(size=4000), 1),
                             rng.gamma(2.0, size=4000).astype(np.float32), np.full(4000, 0.25)])
    for j, column in enumerate(summarise_columns(draws)):
        assert column == summarise(draws[:, j].reshape(4, 1000)), j
