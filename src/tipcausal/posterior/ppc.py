"""Posterior predictive checks: replicated 1..5 score shares against the observed ones, and the mean score by
year and by region against its replicated distribution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pandas as pd

from tipcausal.models.families import family_of
from tipcausal.models.likelihoods import SCORE_MIN, category_probs, sample_categories
from tipcausal.models.predictor import from_idata, linear_predictor


@dataclass(frozen=True)
class Replicated:
    """Observed values of a statistic against its replicated values' mean and 94% interval."""

    observed: tuple[float, ...]
    replicated_mean: tuple[float, ...]
    replicated_low: tuple[float, ...]
    replicated_high: tuple[float, ...]

    @property
    def inside(self) -> int:
        """How many observed values lie inside their 94% predictive interval."""
        return int(sum(lo <= o <= hi for o, lo, hi in zip(self.observed, self.replicated_low, self.replicated_high)))

    def _intervals(self) -> dict[str, list]:
        return {"observed": list(self.observed), "replicated_mean": list(self.replicated_mean),
                "replicated_low": list(self.replicated_low), "replicated_high": list(self.replicated_high)}


@dataclass(frozen=True, kw_only=True)
class PredictiveCheck(Replicated):
    """Observed share of each score and the replicated shares' mean and 94% interval."""

    score: tuple[Any, ...]

    def to_dict(self) -> dict[str, list]:
        """The summary.json form."""
        return {"score": list(self.score), **self._intervals()}


def _replicated(idata: az.InferenceData, seed: int, n_draws: int) -> tuple[np.ndarray, np.ndarray, Any, int]:
    """Replicated categories (draws, n) for ``n_draws`` posterior draws, the observed ones, the family and its
    collapse threshold."""
    rng = np.random.default_rng(seed)
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    pick = rng.choice(total, size=min(n_draws, total), replace=False)
    params, cut, data = from_idata(idata, draws=pick)
    fam, threshold = family_of(idata)
    probs = category_probs(linear_predictor(params, data), cut, fam.link)  # (draws, n, K)
    observed = np.asarray(idata.observed_data["score"].values)
    return sample_categories(probs, rng), observed, fam, threshold


def predictive_shares(idata: az.InferenceData, *, seed: int, n_draws: int = 200) -> PredictiveCheck:
    """Observed score shares and replicated shares (``n_draws`` posterior draws, multinomial noise)."""
    replicated, observed, fam, threshold = _replicated(idata, seed, n_draws)
    labels = fam.ppc_labels(threshold)
    n_cat = len(labels)
    shares = np.stack([(replicated == k).mean(axis=-1) for k in range(n_cat)], axis=-1)
    obs_shares = np.bincount(observed, minlength=n_cat) / len(observed)
    low, high = np.quantile(shares, [0.03, 0.97], axis=0)
    return PredictiveCheck(score=tuple(labels), observed=tuple(obs_shares.tolist()),
                           replicated_mean=tuple(shares.mean(axis=0).tolist()), replicated_low=tuple(low.tolist()),
                           replicated_high=tuple(high.tolist()))


@dataclass(frozen=True, kw_only=True)
class GroupedCheck(Replicated):
    """A predictive check by group (year or region): the observed mean score of each group (the share at or above
    the threshold for a binary outcome) against the replicated means' mean and 94% interval."""

    by: str
    statistic: str
    groups: tuple[str, ...]
    n: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form."""
        return {"by": self.by, "statistic": self.statistic, "groups": list(self.groups), "n": list(self.n),
                **self._intervals()}


def grouped_checks(idata: az.InferenceData, rows: pd.DataFrame, *, seed: int, by: tuple[str, ...] = ("year", "region"),
                   n_draws: int = 200) -> dict[str, GroupedCheck]:
    """A ``GroupedCheck`` per column of ``rows`` (the model's rows in observation order) named in ``by``, from one
    set of replicated scores (the draws ``predictive_shares`` uses with the same seed)."""
    replicated, observed, fam, threshold = _replicated(idata, seed, n_draws)
    if len(rows) != observed.size:
        raise ValueError(f"{len(rows)} rows for {observed.size} observations")
    # the statistic: the mean score (categories are coded from 0) or, collapsed, the share at or above the threshold
    offset, statistic = (0, f"share with score >= {threshold}") if fam.binary else (SCORE_MIN, "mean score")
    checks = {}
    for column in by:
        if column not in rows.columns:
            continue
        values = rows[column].to_numpy()
        groups = sorted(pd.unique(values))  # years in order, regions by name
        obs, mean, low, high, n = [], [], [], [], []
        for g in groups:
            mask = values == g
            means = replicated[:, mask].mean(axis=1) + offset
            obs.append(float(observed[mask].mean() + offset))
            mean.append(float(means.mean()))
            lo, hi = np.quantile(means, [0.03, 0.97])
            low.append(float(lo))
            high.append(float(hi))
            n.append(int(mask.sum()))
        checks[column] = GroupedCheck(by=column, statistic=statistic, groups=tuple(str(g) for g in groups), n=tuple(n),
                                      observed=tuple(obs), replicated_mean=tuple(mean), replicated_low=tuple(low),
                                      replicated_high=tuple(high))
    return checks
