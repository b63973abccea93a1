import numpy as np
import pytest

from tipcausal.models import likelihoods as lk


def test_recode_roundtrip_and_rejects_missing():
    scores = np.array([1, 2, 5, 3])
    cats = lk.scores_to_categories(scores)
    assert cats.tolist() == [0, 1, 4, 2]
    assert lk.categories_to_scores(cats).tolist() == scores.tolist()
    with pytest.raises(ValueError):
        lk.scores_to_categories(np.array([1.0, np.nan]))


def test_expected_score_and_tail_match_category_probabilities():
    rng = np.random.default_rng(3)
    eta = rng.normal(size=50)
    cut = np.sort(rng.normal(size=4) * 2)
    probs = lk.category_probs(eta, cut)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-12)
    assert (probs >= 0).all()
    np.testing.assert_allclose(lk.expected_score(eta, cut), (probs * np.arange(1, 6)).sum(-1), atol=1e-12)
    np.testing.assert_allclose(lk.prob_score_at_least(eta, cut, 4), probs[:, 3:].sum(-1), atol=1e-12)


def test_expected_score_increases_with_eta():
    cut = np.array([-2.0, -0.5, 0.5, 2.0])
    e = lk.expected_score(np.linspace(-5, 5, 21), cut)
    assert np.all(np.diff(e) > 0) and 1 < e[0] < e[-1] < 5


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_cutpoint_first_and_observed_interval_agree_with_category_probabilities(link):
    """The fast layouts the effects, LOO and the replicated scores use give the same probabilities: the
    cumulative ones to 1e-15 (logit through tanh) over predictors far into both tails, and the observed
    category's probability bit for bit (its log is the pointwise log-likelihood)."""
    rng = np.random.default_rng(5)
    eta = np.concatenate([rng.normal(size=(3, 200)) * 3, np.linspace(-40, 40, 3 * 20).reshape(3, 20)], axis=1)
    cut = np.sort(rng.normal(size=(3, 4)) * 2, axis=-1)
    cum = lk.cumulative_probs(eta, cut, link)  # (draws, n, K-1)
    np.testing.assert_allclose(np.moveaxis(lk.cumulative_first(eta, cut, link), 0, -1), cum, rtol=0, atol=1e-15)
    y = rng.integers(0, 5, size=eta.shape[1])
    y[:5] = [0, 4, 0, 4, 2]
    below, at_most = lk.observed_interval(eta, cut, y, link)
    probs = lk.category_probs(eta, cut, link)
    assert np.array_equal(at_most - below, probs[:, np.arange(y.size), y])
    padded = np.concatenate([np.zeros(cum.shape[:-1] + (1,)), cum, np.ones(cum.shape[:-1] + (1,))], axis=-1)
    assert np.array_equal(at_most, padded[:, np.arange(y.size), y + 1])
