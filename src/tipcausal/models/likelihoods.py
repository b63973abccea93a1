"""Ordinal (cumulative-logit or -probit) likelihood helpers shared by the simulator, the model, the
effects, the predictive check and LOO.

The 3P scores run 1..K (K = 5); PyMC's ``OrderedLogistic`` takes categories 0..K-1. The recode
happens here and nowhere else: ``scores_to_categories`` on the way in, ``categories_to_scores`` on
the way out. With cutpoints c_0 < ... < c_{K-2} and linear predictor eta,
P(category <= k) = F(c_k - eta), with F the logistic CDF (``link="logit"``) or the standard normal CDF
(``link="probit"``). Which link a fit used is its family's (``models/families.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

SCORE_MIN = 1
SCORE_MAX = 5
N_CATEGORIES = SCORE_MAX - SCORE_MIN + 1
LINK_CDF = {"logit": expit, "probit": ndtr}


def scores_to_categories(scores: pd.Series | np.ndarray, score_min: int = SCORE_MIN) -> np.ndarray:
    """Map integer scores ``score_min..`` to categories ``0..`` (the single place this recode happens)."""
    values = np.asarray(scores, dtype=float)
    if np.isnan(values).any():
        raise ValueError("scores contain missing values; drop incomplete rows first")
    return (values - score_min).astype(np.int64)


def categories_to_scores(categories: np.ndarray, score_min: int = SCORE_MIN) -> np.ndarray:
    """Inverse of ``scores_to_categories``."""
    return np.asarray(categories) + score_min


def cumulative_probs(eta: np.ndarray, cutpoints: np.ndarray, link: str = "logit") -> np.ndarray:
    """P(category <= k) for k = 0..K-2; eta (..., n), cutpoints (..., K-1) -> (..., n, K-1)."""
    eta = np.asarray(eta, dtype=float)
    cutpoints = np.asarray(cutpoints, dtype=float)
    return LINK_CDF[link](cutpoints[..., None, :] - eta[..., :, None])


def category_probs(eta: np.ndarray, cutpoints: np.ndarray, link: str = "logit") -> np.ndarray:
    """P(category = k) for k = 0..K-1; shape (..., n, K)."""
    cum = cumulative_probs(eta, cutpoints, link)
    ones = np.ones(cum.shape[:-1] + (1,))
    zeros = np.zeros_like(ones)
    return np.diff(np.concatenate([zeros, cum, ones], axis=-1), axis=-1)


def sample_categories(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category per row drawn from P(category = k) ``probs`` (..., K) by the inverse CDF; shape (...)."""
    u = rng.random(probs.shape[:-1])[..., None]
    return (u > probs.cumsum(axis=-1)[..., :-1]).sum(axis=-1)


def expected_score(eta: np.ndarray, cutpoints: np.ndarray, score_min: int = SCORE_MIN,
                   link: str = "logit") -> np.ndarray:
    """E[score | eta] on the original 1..K scale; shape (..., n)."""
    # E[category] = sum_k P(category > k) = sum_k (1 - P(category <= k))
    cum = cumulative_probs(eta, cutpoints, link)
    return score_min + (1.0 - cum).sum(axis=-1)


def prob_score_at_least(eta: np.ndarray, cutpoints: np.ndarray, score: int,
                        score_min: int = SCORE_MIN, link: str = "logit") -> np.ndarray:
    """P(score >= ``score`` | eta); shape (..., n)."""
    k = score - score_min  # category index of ``score``
    cutpoints = np.asarray(cutpoints, dtype=float)
    if k <= 0:
        return np.ones(np.shape(eta))
    return 1.0 - LINK_CDF[link](cutpoints[..., k - 1, None] - np.asarray(eta, dtype=float))


def draw_scores(rng: np.random.Generator, eta: np.ndarray, cutpoints: np.ndarray, link: str = "logit",
                score_min: int = SCORE_MIN) -> np.ndarray:
    """Scores ``score_min..`` drawn from the cumulative model at ``eta`` (one uniform per row, inverse CDF): the
    ordinal score generator the simulators share."""
    cum = cumulative_probs(eta, cutpoints, link)
    return score_min + (rng.random(np.shape(eta))[..., None] > cum).sum(axis=-1)
