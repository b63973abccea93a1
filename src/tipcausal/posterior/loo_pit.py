"""LOO-PIT for ordinal scores: where each country-year's observed score falls in its leave-one-out predictive
distribution, from the PSIS-LOO weights of the fit's ``Pointwise`` (``az.psislw``, ArviZ's own Pareto-smoothed
importance sampling, at ``az.loo``'s relative efficiency, as ``az.loo_pit`` weights).

A score is discrete, so the plain PIT piles up at a few values; the randomised PIT, F(y - 1) + U (F(y) - F(y - 1))
with U uniform, is exactly uniform when the predictive distribution is right (Czado, Gneiting and Held 2009).
A U-shape means predictions too narrow, a hump too wide, a slope a shifted level. ``az.plot_loo_pit`` works on a
run's saved fits too (they carry ``log_likelihood`` and ``posterior_predictive``), but treats the scores as
continuous.
"""

from __future__ import annotations

import numpy as np

from tipcausal.posterior.pointwise import BLOCK, Pointwise


def loo_pit(pointwise: Pointwise, *, seed: int) -> np.ndarray:
    """The randomised LOO-PIT value of every observation (uniform on [0, 1] under a calibrated model), from the
    fit's PSIS-LOO weights and P(score <= observed | draw)."""
    log_weights = pointwise.psis.log_weights  # (draws, obs), normalised over draws
    at_most, log_lik = pointwise.replicates(seed).at_most, pointwise.log_lik
    upper, lower = np.empty(log_weights.shape[1]), np.empty(log_weights.shape[1])
    for start in range(0, upper.size, BLOCK):  # a block of observations at a time: no full-size temporaries
        block = slice(start, start + BLOCK)
        weights = np.exp(log_weights[:, block], dtype=float)
        upper[block] = np.einsum("do,do->o", weights, at_most[:, block], dtype=float)  # LOO P(score <= y)
        lower[block] = upper[block] - np.einsum("do,do->o", weights, np.exp(log_lik[:, block]))  # LOO P(score < y)
    u = np.random.default_rng(seed).uniform(size=upper.size)
    return np.clip(lower + u * (upper - lower), 0.0, 1.0)
