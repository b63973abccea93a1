"""Conditional effects: the probability of each score as consultation is moved from where it was, by -2 to +2
standard deviations (``do(x := x + d)`` for every country-year at once, as the average effects do for d = 1),
averaged over the observed country-years; brms's ``conditional_effects`` for an ordinal outcome, on the
intervention scale the causal estimand uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np

from tipcausal.models.families import family_of
from tipcausal.models.likelihoods import SCORE_MIN, cumulative_first
from tipcausal.models.predictor import from_idata, linear_predictor, treatment_shift

#: Treatment shifts drawn, in SDs of consultation.
SHIFTS = tuple(float(d) for d in np.linspace(-2.0, 2.0, 17))


@dataclass(frozen=True)
class ConditionalCurves:
    """P(score = k) (or, collapsed, P(score >= T)) per treatment shift: the mean and 94% interval over draws."""

    shifts: tuple[float, ...]
    labels: tuple[str, ...]
    mean: np.ndarray  # (shift, category)
    low: np.ndarray
    high: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"shifts": list(self.shifts), "labels": list(self.labels), "mean": self.mean.tolist(),
                "low": self.low.tolist(), "high": self.high.tolist()}


def conditional_curves(idata: az.InferenceData, *, seed: int, n_draws: int = 400,
                       shifts: tuple[float, ...] = SHIFTS) -> ConditionalCurves:
    """The curves of a fit from ``n_draws`` posterior draws (chosen with ``seed``)."""
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    pick = np.sort(np.random.default_rng(seed).choice(total, size=min(n_draws, total), replace=False))
    params, cut, data = from_idata(idata, draws=pick)
    fam, threshold = family_of(idata)
    eta0 = linear_predictor(params, data)
    unit = treatment_shift(params, data, 1.0)  # eta is linear in the shift
    # P(score = k) averaged over rows is the difference of the row-averaged cumulative probabilities
    cum = np.stack([cumulative_first(eta0 + d * unit, cut, fam.link).mean(axis=-1).T for d in shifts], axis=1)
    edge = np.ones(cum.shape[:-1] + (1,))
    curves = np.diff(np.concatenate([0.0 * edge, cum, edge], axis=-1), axis=-1)  # (draws, shifts, K)
    if fam.binary:
        curves, labels = curves[..., 1:], (f"P(score >= {threshold})",)
    else:
        labels = tuple(f"P(score = {SCORE_MIN + k})" for k in range(curves.shape[-1]))
    low, high = np.quantile(curves, [0.03, 0.97], axis=0)
    return ConditionalCurves(shifts=tuple(shifts), labels=labels, mean=curves.mean(axis=0), low=low, high=high)
