"""Omitted-variable bias from partial R^2 (Cinelli & Hazlett 2020), on any coefficient whose outcome side has a
known residual SD: the bias, the robustness value that inverts it, and the bounds of a confounder "k times as
strong as" an observed covariate (sensemakr's ``ovb_partial_r2_bound``, the same formulas). Written here because
no maintained Python package provides them for a model other than OLS (PySensemakr's benchmark bounds fail under
pandas 3)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import numpy as np


def bias(r2_treatment: Any, r2_outcome: Any, sd_residual: Any, sd_treatment: float) -> Any:
    """The omitted confounder's bias on a coefficient (latent scale), from its two partial R^2."""
    r2d = np.asarray(r2_treatment, dtype=float)
    r2y = np.asarray(r2_outcome, dtype=float)
    return np.sqrt(r2y * r2d / (1.0 - r2d)) * np.asarray(sd_residual) / sd_treatment


def robustness_value(bias_needed: Any, sd_residual: Any, sd_treatment: float) -> Any:
    """The partial R^2 a confounder needs with both treatment and outcome to produce ``bias_needed``
    (0 where no bias is needed)."""
    f2 = (np.maximum(np.asarray(bias_needed, dtype=float), 0.0) * sd_treatment / np.asarray(sd_residual)) ** 2
    return 0.5 * (np.sqrt(f2 ** 2 + 4.0 * f2) - f2)


def partial_r2_bounds(k: float, r2_treatment_j: float, r2_outcome_j: float) -> tuple[float, float]:
    """Partial R^2 of a confounder ``k`` times as strong as covariate j (with the treatment and with the
    outcome), from j's own partial R^2 (Cinelli & Hazlett 2020, section 6; sensemakr's
    ``ovb_partial_r2_bound``). Returns (nan, nan) where k is too large for j (R^2 would exceed 1)."""
    r2d = k * r2_treatment_j / (1.0 - r2_treatment_j)
    if k * r2_treatment_j >= 1.0 or r2d >= 1.0:
        return math.nan, math.nan
    r2zxj = k * r2_treatment_j ** 2 / ((1.0 - k * r2_treatment_j) * (1.0 - r2_treatment_j))
    if r2zxj >= 1.0:
        return math.nan, math.nan
    r2y = ((math.sqrt(k) + math.sqrt(r2zxj)) / math.sqrt(1.0 - r2zxj)) ** 2 * r2_outcome_j / (1.0 - r2_outcome_j)
    return r2d, min(r2y, 1.0)


def k_max(r2_treatment_j: float) -> float:
    """The largest multiple of covariate j for which the bounds are defined."""
    return (1.0 - r2_treatment_j) / r2_treatment_j if r2_treatment_j > 0 else math.inf


@dataclass(frozen=True)
class Benchmark:
    """One observed covariate's strength, for "a confounder k times as strong as it"."""

    covariate: str
    r2_treatment: float  # partial R^2 with the treatment, given the other regressors (OLS t statistic)
    r2_outcome: float  # posterior median partial R^2 with the latent score, given the treatment and the rest

    def bounds(self, k: float) -> tuple[float, float]:
        """(r2_treatment, r2_outcome) of a confounder ``k`` times as strong."""
        return partial_r2_bounds(k, self.r2_treatment, self.r2_outcome)

    def bias(self, k: float, sd_residual: float, sd_treatment: float) -> float:
        """The bias that confounder would produce (nan beyond k_max)."""
        r2d, r2y = self.bounds(k)
        return float(bias(r2d, r2y, sd_residual, sd_treatment)) if not math.isnan(r2d) else math.nan

    def k_for_bias(self, target: float, sd_residual: float, sd_treatment: float) -> float | None:
        """The multiple k at which the confounder's bias reaches ``target`` (0 when none is needed; None when
        no defined multiple reaches it)."""
        return smallest_k(lambda k: self.bias(k, sd_residual, sd_treatment) >= target, k_max(self.r2_treatment))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"covariate": self.covariate, "r2_treatment": self.r2_treatment, "r2_outcome": self.r2_outcome}


def smallest_k(reached: Callable[[float], bool], kmax: float) -> float | None:
    """The smallest multiple k in [0, kmax) at which ``reached(k)`` turns true, for a condition that stays true
    once reached (bisection): 0 if it holds at 0, None if it never holds below kmax."""
    if reached(0.0):
        return 0.0
    hi = min(kmax, 1e6) * (1.0 - 1e-9)
    if not reached(hi):
        return None
    lo = 0.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if reached(mid) else (mid, hi)
    return hi
