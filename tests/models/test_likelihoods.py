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
