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

from tipcausal.posterior.loo import category_prob_chunks, pointwise_log_likelihood


def loo_pit(idata: az.InferenceData, *, seed: int) -> np.ndarray:
    """The randomised LOO-PIT value of every observation (uniform on [0, 1] under a calibrated model)."""
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    y = np.asarray(idata.observed_data["score"].values, dtype=np.int64)
    ll = pointwise_log_likelihood(idata).reshape(total, y.size)
    with warnings.catch_warnings():  # Pareto k warnings: the LOO table reports them
        warnings.simplefilter("ignore")
        log_w, _ = az.psislw(-ll.T)  # (obs, draws), normalised over draws
    weights = np.exp(log_w)
    at_most = np.zeros(y.size)
    below = np.zeros(y.size)
    rows = np.arange(y.size)
    for sl, probs in category_prob_chunks(idata):
        p_y = probs[:, rows, y]
        p_le = np.cumsum(probs, axis=-1)[:, rows, y]
        w = weights[:, sl].T  # (draws, obs)
        at_most += (w * p_le).sum(axis=0)
        below += (w * (p_le - p_y)).sum(axis=0)
    u = np.random.default_rng(seed).uniform(size=y.size)
    return np.clip(below + u * (at_most - below), 0.0, 1.0)
