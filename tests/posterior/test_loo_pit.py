"""Randomised LOO-PIT on InferenceData built from dicts (no sampling): uniform when the scores come from the
model, not uniform when they come from another one."""

import arviz as az
import numpy as np
from scipy import stats

from tipcausal.models.likelihoods import category_probs, sample_categories
from tipcausal.posterior.loo_pit import loo_pit
from tipcausal.posterior.pointwise import Pointwise


def _idata(shift: float, n: int = 2000):
    rng = np.random.default_rng(12)
    n_c = 8
    cidx = rng.integers(0, n_c, n)
    intercept = np.linspace(-1.0, 1.0, n_c)
    cut = np.array([-2.0, -0.5, 0.5, 2.0])
    x = rng.normal(size=n)
    truth = category_probs(intercept[cidx] + 0.5 * x + shift, cut)
    y = sample_categories(truth[None], rng)[0]
    shape = (2, 100)  # every draw at the generating values except for the shift: no posterior spread
    post = {"intercept": np.broadcast_to(intercept, shape + (n_c,)).copy(), "slope": np.full(shape + (n_c,), 0.5),
            "cutpoints": np.broadcast_to(cut, shape + (4,)).copy()}
    const = {"country_idx": cidx, "year_idx": np.zeros(n, int), "x_within": x, "x_between": np.zeros(n),
             "z_within": np.zeros((n, 0)), "z_between": np.zeros((n, 0))}
    return az.from_dict(posterior=post, constant_data=const, observed_data={"score": y})


def test_pit_is_uniform_when_the_scores_come_from_the_model():
    pit = loo_pit(Pointwise(_idata(0.0)), seed=3)
    assert pit.shape == (2000,) and pit.min() >= 0 and pit.max() <= 1
    # Kolmogorov-Smirnov at the 1% level for n = 2000 (critical value 1.63 / sqrt(n))
    assert stats.kstest(pit, "uniform").statistic < 1.63 / np.sqrt(pit.size)


def test_pit_leans_when_the_model_misses_the_level():
    pit = loo_pit(Pointwise(_idata(0.8)), seed=3)  # scores generated 0.8 logits higher than the model predicts
    assert stats.kstest(pit, "uniform").statistic > 3 * 1.63 / np.sqrt(pit.size)
    assert np.mean(pit > 0.5) > 0.6  # observed scores sit high in their predictive distributions
