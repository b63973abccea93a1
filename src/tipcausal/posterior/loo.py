"""Model comparison: PSIS-LOO per fit, with Pareto-k diagnostics naming the influential country-years.

The pointwise log-likelihood and the PSIS weights are a fit's ``posterior.pointwise.Pointwise``, evaluated from the
posterior with the same linear predictor and ordinal likelihood the model uses (``models/predictor.py``,
``models/likelihoods.py``), so they work for every sampler backend and for saved fits; the store does not keep
them (they are large).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from tipcausal.posterior.pointwise import Pointwise

K_WARN = 0.7


def pointwise_log_likelihood(idata: az.InferenceData) -> np.ndarray:
    """log p(score_i | draw) as (chain, draw, obs)."""
    pointwise = Pointwise(idata)
    return pointwise.log_lik.reshape(*pointwise.shape, -1)


@dataclass(frozen=True)
class LooSummary:
    """PSIS-LOO of one fit: elpd_loo, its SE, p_loo, Pareto-k counts and the most influential country-years;
    ``pointwise`` holds each observation's elpd (not part of the summary)."""

    elpd_loo: float
    se: float
    p_loo: float
    n: int
    pareto_k_max: float
    n_k_over_0_7: int
    n_k_over_1: int
    influential: tuple[dict[str, Any], ...]
    pointwise: np.ndarray = field(repr=False, compare=False)

    @property
    def warning(self) -> bool:
        """True when some country-year has Pareto k > 0.7 (the estimate is unreliable there)."""
        return self.n_k_over_0_7 > 0

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form."""
        return {"elpd_loo": self.elpd_loo, "se": self.se, "p_loo": self.p_loo, "n": self.n,
                "pareto_k_max": self.pareto_k_max, "n_k_over_0_7": self.n_k_over_0_7, "n_k_over_1": self.n_k_over_1,
                "warning": self.warning, "influential": list(self.influential)}


def loo_summary(pointwise: Pointwise, rows: pd.DataFrame) -> LooSummary:
    """PSIS-LOO of one fit (``az.loo``'s numbers, from its ``Pointwise`` quantities), naming the country-years
    with Pareto k > 0.7. ``rows`` are the model's observations (country, year) in order."""
    psis = pointwise.psis
    loo_i, lppd_i, k = psis.loo_i, psis.lppd_i, psis.pareto_k
    bad = np.flatnonzero(k > K_WARN)
    worst = bad[np.argsort(-k[bad])][:10]
    return LooSummary(
        elpd_loo=float(loo_i.sum()), se=float(np.sqrt(loo_i.size * np.var(loo_i))),
        p_loo=float(lppd_i.sum() - loo_i.sum()), n=int(k.size),
        pareto_k_max=float(k.max()), n_k_over_0_7=int(bad.size), n_k_over_1=int((k > 1).sum()),
        influential=tuple({"country": str(rows["country"].iloc[i]), "year": int(rows["year"].iloc[i]),
                           "k": float(k[i])} for i in worst),
        pointwise=loo_i)


def elpd_difference(pointwise: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """elpd of a model minus a reference's on the same observations, and the SE of that difference."""
    diff = np.asarray(pointwise) - np.asarray(reference)
    return float(diff.sum()), float(np.sqrt(diff.size * diff.var(ddof=1)))


@dataclass(frozen=True)
class ElpdComparison:
    """elpd of a specification minus the primary model's (``diff``, ``se``), or why it is not compared."""

    diff: float | None = None
    se: float | None = None
    note: str = ""


def compare_elpd(rows: pd.DataFrame, pointwise: np.ndarray, reference_rows: pd.DataFrame,
                 reference_pointwise: np.ndarray) -> ElpdComparison:
    """Difference elpd against a reference model on the country-years both use; not comparable when this model
    has country-years the reference lacks."""
    keys = ["country", "year"]
    mine = rows[keys].reset_index(drop=True)
    ref = reference_rows[keys].reset_index(drop=True).reset_index().merge(mine.reset_index(), on=keys,
                                                                          suffixes=("_ref", ""))
    if len(ref) < len(mine):
        return ElpdComparison(note=f"not comparable: other country-years ({len(mine)} rows)")
    diff, se = elpd_difference(np.asarray(pointwise)[ref["index"].to_numpy()],
                               np.asarray(reference_pointwise)[ref["index_ref"].to_numpy()])
    note = f"on the {len(mine)} country-years both models use" if len(mine) < len(reference_rows) else ""
    return ElpdComparison(diff=diff, se=se, note=note)
