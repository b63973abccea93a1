"""Posterior predictive shares on InferenceData built from dicts (no sampling)."""

import arviz as az
import numpy as np

from tipcausal.models.likelihoods import category_probs
from tipcausal.posterior.ppc import predictive_shares


def test_replicated_shares_match_model_probabilities():
    rng = np.random.default_rng(4)
    n, n_c = 400, 4
    cidx = rng.integers(0, n_c, n)
    intercept = np.array([-1.0, 0.0, 0.5, 1.5])
    cut = np.array([-2.0, -0.5, 0.5, 2.0])
    x = rng.normal(size=n)
    shape = (2, 100)
    post = {"intercept": np.broadcast_to(intercept, shape + (n_c,)).copy(),
            "slope": np.full(shape + (n_c,), 0.3), "cutpoints": np.broadcast_to(cut, shape + (4,)).copy()}
    const = {"country_idx": cidx, "year_idx": np.zeros(n, int), "x_within": x, "x_between": np.zeros(n),
             "z_within": np.zeros((n, 0)), "z_between": np.zeros((n, 0))}
    expected = category_probs(intercept[cidx] + 0.3 * x, cut).mean(axis=0)
    observed = np.array([0, 1, 1, 2, 4] * (n // 5))
    idata = az.from_dict(posterior=post, constant_data=const, observed_data={"score": observed})
    out = predictive_shares(idata, seed=9, n_draws=200)
    # every draw is the same parameter value, so replicated shares vary only by multinomial noise:
    # the mean over 200 replications has SE <= 0.5 / sqrt(200 * n); allow 4 SE
    np.testing.assert_allclose(out.replicated_mean, expected, atol=4 * 0.5 / np.sqrt(200 * n))
    np.testing.assert_allclose(out.observed, [0.2, 0.4, 0.2, 0.0, 0.2])
    assert out.score == (1, 2, 3, 4, 5)
    assert all(lo <= m <= hi for lo, m, hi in zip(out.replicated_low, out.replicated_mean, out.replicated_high))
