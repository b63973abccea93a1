"""Conditional-effect curves on InferenceData built from dicts (no sampling): each point is the model's category
probability at that treatment shift, averaged over the rows."""

import arviz as az
import numpy as np

from tipcausal.models.likelihoods import category_probs
from tipcausal.posterior.conditional import SHIFTS, conditional_curves


def _idata(slope: np.ndarray, n: int = 300, n_c: int = 5):
    rng = np.random.default_rng(3)
    cidx = rng.integers(0, n_c, n)
    intercept = np.linspace(-1.0, 1.0, n_c)
    cut = np.array([-2.0, -0.5, 0.5, 2.0])
    x = rng.normal(size=n)
    shape = slope.shape[:2]
    post = {"intercept": np.broadcast_to(intercept, shape + (n_c,)).copy(), "slope": slope,
            "cutpoints": np.broadcast_to(cut, shape + (4,)).copy()}
    const = {"country_idx": cidx, "year_idx": np.zeros(n, int), "x_within": x, "x_between": np.zeros(n),
             "z_within": np.zeros((n, 0)), "z_between": np.zeros((n, 0))}
    idata = az.from_dict(posterior=post, constant_data=const, observed_data={"score": rng.integers(0, 5, n)})
    return idata, intercept[cidx], x, cut, cidx


def test_curves_are_the_model_probabilities_at_each_shift():
    slope = np.full((2, 50, 5), 0.4)
    idata, alpha, x, cut, _ = _idata(slope)
    curves = conditional_curves(idata, seed=1, n_draws=60)
    assert curves.shifts == SHIFTS and curves.labels == tuple(f"P(score = {k})" for k in range(1, 6))
    for i, d in enumerate(SHIFTS):
        expected = category_probs(alpha + 0.4 * (x + d), cut).mean(axis=0)
        np.testing.assert_allclose(curves.mean[i], expected, rtol=1e-12)
    np.testing.assert_allclose(curves.low, curves.high, rtol=1e-12)  # every draw the same: no spread
    np.testing.assert_allclose(curves.mean.sum(axis=1), 1.0)
    assert np.all(np.diff(curves.mean[:, 4]) > 0) and np.all(np.diff(curves.mean[:, 0]) < 0)


def test_uncertain_slopes_give_bands_that_widen_away_from_the_data():
    rng = np.random.default_rng(8)
    slope = np.broadcast_to(rng.normal(0.3, 0.3, (2, 200, 1)), (2, 200, 5)).copy()
    idata, *_ = _idata(slope)
    curves = conditional_curves(idata, seed=1)
    width = curves.high[:, 4] - curves.low[:, 4]
    middle = len(SHIFTS) // 2
    # the slope's uncertainty matters least near the data as observed (shift 0, where x + d is centred on 0)
    assert SHIFTS[middle] == 0.0 and width[middle] > 0
    assert width[0] > 2 * width[middle] and width[-1] > 2 * width[middle]
