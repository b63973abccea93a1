"""Posterior predictive check of score shares: replicated 1..5 shares against the observed ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np

from tipcausal.models.families import family_of
from tipcausal.models.likelihoods import category_probs, sample_categories
from tipcausal.models.predictor import from_idata, linear_predictor


@dataclass(frozen=True)
class PredictiveCheck:
    """Observed share of each score and the replicated shares' mean and 94% interval."""

    score: tuple[Any, ...]
    observed: tuple[float, ...]
    replicated_mean: tuple[float, ...]
    replicated_low: tuple[float, ...]
    replicated_high: tuple[float, ...]

    @property
    def inside(self) -> int:
        """How many observed shares lie inside their 94% predictive interval."""
        return int(sum(lo <= o <= hi for o, lo, hi in zip(self.observed, self.replicated_low, self.replicated_high)))

    def to_dict(self) -> dict[str, list]:
        """The summary.json form."""
        return {"score": list(self.score), "observed": list(self.observed),
                "replicated_mean": list(self.replicated_mean), "replicated_low": list(self.replicated_low),
                "replicated_high": list(self.replicated_high)}


def predictive_shares(idata: az.InferenceData, *, seed: int, n_draws: int = 200) -> PredictiveCheck:
    """Observed score shares and replicated shares (``n_draws`` posterior draws, multinomial noise)."""
    rng = np.random.default_rng(seed)
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    pick = rng.choice(total, size=min(n_draws, total), replace=False)
    params, cut, data = from_idata(idata, draws=pick)
    fam, threshold = family_of(idata)
    probs = category_probs(linear_predictor(params, data), cut, fam.link)  # (draws, n, K)
    replicated = sample_categories(probs, rng)
    n_cat = probs.shape[-1]
    shares = np.stack([(replicated == k).mean(axis=-1) for k in range(n_cat)], axis=-1)
    observed = np.asarray(idata.observed_data["score"].values)
    obs_shares = np.bincount(observed, minlength=n_cat) / len(observed)
    low, high = np.quantile(shares, [0.03, 0.97], axis=0)
    labels = fam.ppc_labels(threshold)
    return PredictiveCheck(score=tuple(labels), observed=tuple(obs_shares.tolist()),
                           replicated_mean=tuple(shares.mean(axis=0).tolist()), replicated_low=tuple(low.tolist()),
                           replicated_high=tuple(high.tolist()))
