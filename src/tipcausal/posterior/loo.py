"""Model comparison: PSIS-LOO per fit, with Pareto-k diagnostics naming the influential country-years.

The pointwise log-likelihood is evaluated from the posterior with the same linear predictor and
ordinal likelihood the model uses (``models/predictor.py``, ``models/likelihoods.py``), so it works
for every sampler backend and for saved fits; it is not stored (it is large).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from tipcausal.models.families import family_of
from tipcausal.models.likelihoods import category_probs
from tipcausal.models.predictor import from_idata, linear_predictor

K_WARN = 0.7
CHUNK = 250


def category_prob_chunks(idata: az.InferenceData) -> Iterator[tuple[slice, np.ndarray]]:
    """P(category = k | draw) for every observation, ``CHUNK`` flattened posterior draws at a time: (the draws'
    slice, an array (draws, obs, K)), from the model's own linear predictor and link."""
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    params_all, cut_all, data = from_idata(idata)
    link = family_of(idata)[0].link
    for start in range(0, total, CHUNK):
        sl = slice(start, min(start + CHUNK, total))
        yield sl, category_probs(linear_predictor({k: v[sl] for k, v in params_all.items()}, data), cut_all[sl], link)


def observed_log_prob(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log P(observed category) per draw and observation from ``probs`` (draws, obs, K)."""
    return np.log(np.clip(probs[:, np.arange(y.size), y], 1e-300, None))


def pointwise_log_likelihood(idata: az.InferenceData) -> np.ndarray:
    """log p(score_i | draw) as (chain, draw, obs)."""
    post = idata.posterior
    y = np.asarray(idata.observed_data["score"].values, dtype=np.int64)
    out = np.empty((post.sizes["chain"] * post.sizes["draw"], y.size))
    for sl, probs in category_prob_chunks(idata):
        out[sl] = observed_log_prob(probs, y)
    return out.reshape(post.sizes["chain"], post.sizes["draw"], y.size)


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


def loo_summary(idata: az.InferenceData, rows: pd.DataFrame) -> LooSummary:
    """PSIS-LOO of one fit, naming the country-years with Pareto k > 0.7. ``rows`` are the model's observations
    (country, year) in order."""
    ll = pointwise_log_likelihood(idata)
    post = idata.posterior
    ds = xr.Dataset({"score": (("chain", "draw", "obs"), ll)},
                    coords={"chain": post.coords["chain"].values, "draw": post.coords["draw"].values})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loo = az.loo(az.InferenceData(posterior=post, log_likelihood=ds), pointwise=True)
    k = np.asarray(loo.pareto_k).reshape(-1)
    bad = np.flatnonzero(k > K_WARN)
    worst = bad[np.argsort(-k[bad])][:10]
    return LooSummary(
        elpd_loo=float(loo.elpd_loo), se=float(loo.se), p_loo=float(loo.p_loo), n=int(k.size),
        pareto_k_max=float(k.max()), n_k_over_0_7=int(bad.size), n_k_over_1=int((k > 1).sum()),
        influential=tuple({"country": str(rows["country"].iloc[i]), "year": int(rows["year"].iloc[i]),
                           "k": float(k[i])} for i in worst),
        pointwise=np.asarray(loo.loo_i).reshape(-1))


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
