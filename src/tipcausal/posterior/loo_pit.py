"""LOO-PIT for ordinal scores: where each country-year's observed score falls in its leave-one-out predictive
distribution, from the PSIS weights of ``az.psislw`` (ArviZ's own Pareto-smoothed importance sampling).

A score is discrete, so the plain PIT piles up at a few values; the randomised PIT, F(y - 1) + U (F(y) - F(y - 1))
with U uniform, is exactly uniform when the predictive distribution is right (Czado, Gneiting and Held 2009).
A U-shape means predictions too narrow, a hump too wide, a slope a shifted level. ``az.plot_loo_pit`` works on a
run's saved fits too (they carry ``log_likelihood`` and ``posterior_predictive``), but treats the scores as
continuous.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np

from tipcausal.posterior.loo import category_prob_chunks, observed_log_prob


def loo_pit(idata: az.InferenceData, *, seed: int) -> np.ndarray:
    """The randomised LOO-PIT value of every observation (uniform on [0, 1] under a calibrated model)."""
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    y = np.asarray(idata.observed_data["score"].values, dtype=np.int64)
    rows = np.arange(y.size)
    # one pass over the category probabilities: log p(y | draw) for the weights, P(score <= y | draw) for the PIT
    log_lik = np.empty((total, y.size))
    at_most = np.empty((total, y.size))
    for sl, probs in category_prob_chunks(idata):
        log_lik[sl] = observed_log_prob(probs, y)
        at_most[sl] = np.cumsum(probs, axis=-1)[:, rows, y]
    with warnings.catch_warnings():  # Pareto k warnings: the LOO table reports them
        warnings.simplefilter("ignore")
        log_w, _ = az.psislw(-log_lik.T)  # (obs, draws), normalised over draws
    weights = np.exp(log_w).T  # (draws, obs)
    upper = (weights * at_most).sum(axis=0)  # LOO P(score <= y)
    lower = upper - (weights * np.exp(log_lik)).sum(axis=0)  # LOO P(score < y)
    u = np.random.default_rng(seed).uniform(size=y.size)
    return np.clip(lower + u * (upper - lower), 0.0, 1.0)
