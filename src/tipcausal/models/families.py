"""Likelihood families as registered objects carrying their behaviour.

A ``Family`` knows its link, whether it collapses the scores to ``score >= T``, how many cutpoints it has,
how scores become observed categories, its PyMC observation model, the effects it supports and how to
compute them, the labels of its predictive check and whether its PSIS-LOO is comparable with an ordinal
model's. Nothing outside this module branches on a likelihood or link name: code asks the family.

A fit records its family in ``posterior.attrs`` (``stamp_family``); ``family_of(idata)`` reads it back, so
effects, the predictive check and LOO of a saved fit use the family it was fitted with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from tipcausal.core.registry import lookup
from tipcausal.models.likelihoods import (LINK_CDF, N_CATEGORIES, SCORE_MIN, cumulative_first, expected_score,
                                          prob_score_at_least, scores_to_categories)

LIKELIHOOD_ATTR = "tipcausal_likelihood"
LINK_ATTR = "tipcausal_link"
COLLAPSE_ATTR = "tipcausal_collapse"


#: Stands in for the infinite outer cutpoints of the lowest and highest category (a finite number keeps every
#: gradient finite; the link's CDF is 0 or 1 there to the last bit).
OUTER_CUT = 1e6


def _observed_interval(value: Any, eta: Any, cutpoints: Any) -> tuple[Any, Any]:
    """Each row's two cutpoints around its observed category, less eta: (c_{y-1} - eta, c_y - eta). Picked by
    indicator products, not by indexing: the gradient of an index is a scatter, which XLA runs slowly on CPU."""
    k = pt.arange(cutpoints.shape[-1])
    at = value[..., None]
    above = pt.eq(at, k).astype("float64")  # c_y is the upper cutpoint of y <= K - 2
    below = pt.eq(at - 1, k).astype("float64")  # c_{y-1} the lower one of y >= 1
    top = pt.eq(value, cutpoints.shape[-1]).astype("float64")
    bottom = pt.eq(value, 0).astype("float64")
    high = (above * cutpoints).sum(axis=-1) + OUTER_CUT * top
    low = (below * cutpoints).sum(axis=-1) - OUTER_CUT * bottom
    return low - eta, high - eta


def _interval_logp(link: str) -> Callable[..., Any]:
    """log P(category = y) = log(F(c_y - eta) - F(c_{y-1} - eta)), evaluated from the two cutpoints around each
    row's observed category only (the model's one observation term: no K-column probability matrix)."""

    def logp(value: Any, eta: Any, cutpoints: Any) -> Any:
        low, high = _observed_interval(value, eta, cutpoints)
        if link == "logit":  # F(h) - F(l) directly: a sign switch as below cost a fifth of the whole gradient
            p = pt.sigmoid(high) - pt.sigmoid(low)
        else:  # read from the upper tail (F(-l) - F(-h)) when l > 0: Phi is 1 to the last bit from about 8.3
            sign = pt.switch(pt.gt(low, 0.0), -1.0, 1.0)
            p = 0.5 * sign * (pt.erfc(-sign * high / np.sqrt(2.0)) - pt.erfc(-sign * low / np.sqrt(2.0)))
        return pt.log(pt.clip(p, 1e-300, 1.0))

    return logp


def _interval_random(link: str) -> Callable[..., np.ndarray]:
    """Categories drawn given eta and the cutpoints (prior predictive draws, e.g. for SBC)."""

    def random(eta: np.ndarray, cutpoints: np.ndarray, rng: np.random.Generator | None = None,
               size: tuple[int, ...] | None = None) -> np.ndarray:
        eta = np.broadcast_to(eta, size) if size else np.asarray(eta)
        cuts = np.asarray(cutpoints)
        cuts = np.moveaxis(np.broadcast_to(cuts, eta.shape + cuts.shape[-1:]), -1, 0)  # (K - 1, *eta.shape)
        cum = LINK_CDF[link](cuts - eta)  # P(category <= k)
        return (cum < rng.uniform(size=eta.shape)).sum(axis=0).astype(np.int64)

    return random


@dataclass(frozen=True)
class Family:
    """One likelihood: its link and whether scores are collapsed to ``score >= T`` (one cutpoint)."""

    name: str
    description: str
    link: str
    binary: bool

    @property
    def cdf(self) -> Callable[[np.ndarray], np.ndarray]:
        """The link's CDF (NumPy): logistic or standard normal."""
        return LINK_CDF[self.link]

    @property
    def loo_comparable(self) -> bool:
        """Whether its elpd is on the same observations' scale as an ordinal model's (not for 0/1 outcomes)."""
        return not self.binary

    def n_cutpoints(self) -> int:
        """Cutpoints of the observation model: K - 1 for ordinal scores, 1 for a collapsed score."""
        return 1 if self.binary else N_CATEGORIES - 1

    def cutpoint_labels(self, threshold: int) -> list[str]:
        """Names of the cutpoints (the ``cutpoint`` coordinate)."""
        if self.binary:
            return [f"<{threshold}|>={threshold}"]
        return [f"{k}|{k + 1}" for k in range(SCORE_MIN, SCORE_MIN + N_CATEGORIES - 1)]

    def initial_cutpoints(self, batch: tuple[int, ...] = ()) -> np.ndarray:
        """Initial values of the ordered cutpoints (spread over -2..2; 0 for one cutpoint)."""
        first = np.zeros(1) if self.binary else np.linspace(-2.0, 2.0, self.n_cutpoints())
        return np.tile(first, batch + (1,)) if batch else first

    def categories(self, scores: Any, threshold: int) -> np.ndarray:
        """Observed categories from 1..K scores: 0..K-1, or 0/1 for ``score >= threshold``."""
        categories = scores_to_categories(scores)
        if self.binary:
            return (categories >= threshold - SCORE_MIN).astype(np.int64)
        return categories

    def observe(self, name: str, eta: Any, cutpoints: Any, observed: np.ndarray) -> Any:
        """The PyMC observation model of the categories given the linear predictor and cutpoints."""
        return pm.CustomDist(name, eta, cutpoints, logp=_interval_logp(self.link), random=_interval_random(self.link),
                             signature="(),(k)->()", dtype="int64", observed=observed, dims="obs")

    def effect_names(self, threshold: int) -> tuple[str, ...]:
        """Effects it supports: the expected score and P(score >= 4), or P(score >= T) for a collapsed score."""
        return (f"p_score_ge_{threshold}",) if self.binary else ("expected_score", "p_score_ge_4")

    def outcome_means(self, eta: np.ndarray, cut: np.ndarray, threshold: int,
                      names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Per-row value of each effect's outcome quantity (expected score, P(score >= 4) or P(score >= T)) at
        predictor ``eta`` (draws first); ``names``: only these."""
        names = self.effect_names(threshold) if names is None else names
        if self.binary:  # P(score >= T) = 1 - F(c - eta) with the single cutpoint c
            return {n: 1.0 - self.cdf(cut[..., :1] - eta) for n in names}
        if set(names) == {"expected_score", "p_score_ge_4"}:  # both from one set of cumulative probabilities
            cum = cumulative_first(eta, cut, link=self.link)  # (cutpoint, ..., row)
            return {"expected_score": SCORE_MIN + cum.shape[0] - cum.sum(axis=0),
                    "p_score_ge_4": 1.0 - cum[4 - SCORE_MIN - 1]}
        quantity = {"expected_score": lambda: expected_score(eta, cut, link=self.link),
                    "p_score_ge_4": lambda: prob_score_at_least(eta, cut, 4, link=self.link)}
        return {n: quantity[n]() for n in names}

    def effects(self, eta0: np.ndarray, eta1: np.ndarray, cut: np.ndarray, threshold: int) -> dict[str, np.ndarray]:
        """Per-row differences of each effect between predictors ``eta1`` and ``eta0`` (draws first)."""
        before, after = self.outcome_means(eta0, cut, threshold), self.outcome_means(eta1, cut, threshold)
        return {n: after[n] - before[n] for n in before}

    def ppc_labels(self, threshold: int) -> list[Any]:
        """Labels of the predictive check's categories."""
        if self.binary:
            return [f"<{threshold}", f">={threshold}"]
        return list(range(SCORE_MIN, SCORE_MIN + N_CATEGORIES))

    def describe(self, threshold: int) -> str:
        """Its name, with the collapse threshold of a collapsed score."""
        return self.name + (f" (score >= {threshold})" if self.binary else "")


FAMILIES: dict[str, Family] = {
    "cumulative_logit": Family("cumulative_logit", "ordered logistic (cumulative logit) on scores 1-5 recoded to 0-4",
                               link="logit", binary=False),
    "cumulative_probit": Family("cumulative_probit", "ordered probit (cumulative probit) on scores 1-5 recoded "
                                "to 0-4", link="probit", binary=False),
    "binary_logit": Family("binary_logit", "logistic regression of score >= collapse_threshold (scores collapsed "
                           "to 0/1)", link="logit", binary=True),
}


def family(name: str) -> Family:
    """The family registered under ``name`` (an unknown name is an InputError listing the valid ones)."""
    return lookup(FAMILIES, name, "likelihood")


def stamp_family(idata: Any, fam: Family, threshold: int) -> None:
    """Record a fit's family, link and collapse threshold (0 for ordinal) in its posterior attributes."""
    attrs = idata.posterior.attrs
    attrs[LIKELIHOOD_ATTR] = fam.name
    attrs[LINK_ATTR] = fam.link
    attrs[COLLAPSE_ATTR] = int(threshold) if fam.binary else 0


def family_of(idata: Any) -> tuple[Family, int]:
    """The family and collapse threshold a fit was made with (fits without a family attribute: from link and
    threshold; fits recording nothing: the cumulative logit)."""
    attrs = idata.posterior.attrs
    threshold = int(attrs.get(COLLAPSE_ATTR, 0))
    name = attrs.get(LIKELIHOOD_ATTR)
    if name is None:
        link = str(attrs.get(LINK_ATTR, "logit"))
        name = "binary_logit" if threshold else f"cumulative_{link}"
    return family(str(name)), threshold
