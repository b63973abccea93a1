"""The models' observation term: log P(observed category) from the two cutpoints around it, and categories drawn
from the same probabilities (prior predictive draws)."""

import numpy as np
import pymc as pm
import pytest
from scipy.special import log_ndtr

from tipcausal.models import likelihoods as lk
from tipcausal.models.families import FAMILIES


def _observation_logp(family: str, eta: np.ndarray, cut: np.ndarray, y: np.ndarray) -> np.ndarray:
    with pm.Model(coords={"obs": np.arange(len(y))}) as model:
        FAMILIES[family].observe("score", pm.Data("eta", eta, dims="obs"), pm.Data("cut", cut), y)
    return model.compile_fn(model.logp(vars=[model["score"]], sum=False)[0], inputs=[])({})


@pytest.mark.parametrize("family", ["cumulative_logit", "cumulative_probit", "binary_logit"])
def test_observation_logp_is_the_log_of_the_category_probability(family):
    fam = FAMILIES[family]
    rng = np.random.default_rng(11)
    k = fam.n_cutpoints()
    cut = np.sort(rng.normal(size=k) * 2)
    eta = np.concatenate([rng.normal(size=300) * 3, np.linspace(-6, 6, 50)])
    probs = lk.category_probs(eta, cut, link=fam.link)
    y = np.array([rng.choice(k + 1, p=p / p.sum()) for p in probs])
    logp = _observation_logp(family, eta, cut, y)
    np.testing.assert_allclose(logp, np.log(probs[np.arange(len(y)), y]), rtol=1e-10)


def test_probit_observation_logp_is_exact_far_in_the_upper_tail():
    """A top score observed 10-30 SD above the predictor: Phi(l) is 1 to the last bit there, and the
    probability 1 - Phi(l) = Phi(-l) is read from the upper tail."""
    cut = np.array([-1.0, 0.0, 1.0, 2.0])
    eta = -np.array([8.0, 10.0, 20.0, 30.0])
    y = np.full(4, 4)
    logp = _observation_logp("cumulative_probit", eta, cut, y)
    np.testing.assert_allclose(logp, log_ndtr(-(cut[-1] - eta)), rtol=1e-10)


@pytest.mark.parametrize("family", ["cumulative_logit", "cumulative_probit"])
def test_drawn_categories_follow_the_category_probabilities(family):
    fam = FAMILIES[family]
    cut = np.array([-1.5, -0.2, 0.4, 1.8])
    n = 20_000
    with pm.Model(coords={"obs": np.arange(n)}) as model:
        FAMILIES[family].observe("score", np.full(n, 0.3), cut, np.zeros(n, dtype=np.int64))
    draws = pm.draw(model["score"], random_seed=7)
    expected = lk.category_probs(np.array([0.3]), cut, link=fam.link)[0]
    share = np.bincount(draws, minlength=5) / n
    se = np.sqrt(expected * (1 - expected) / n)
    assert np.all(np.abs(share - expected) < 4.5 * se), (share, expected)
