"""Posterior predictive check of score shares: replicated 1..5 shares against the observed ones."""

from __future__ import annotations

import arviz as az
import numpy as np

from tipcausal.models.families import family_of
from tipcausal.models.likelihoods import category_probs
from tipcausal.models.predictor import from_idata, linear_predictor


def predictive_shares(idata: az.InferenceData, *, seed: int, n_draws: int = 200) -> dict[str, list]:
    """Observed score shares and replicated shares (``n_draws`` posterior draws, multinomial noise)."""
    rng = np.random.default_rng(seed)
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    pick = rng.choice(total, size=min(n_draws, total), replace=False)
    params, cut, data = from_idata(idata, draws=pick)
    fam, threshold = family_of(idata)
    probs = category_probs(linear_predictor(params, data), cut, fam.link)  # (draws, n, K)
    cum = probs.cumsum(axis=-1)
    u = rng.random(probs.shape[:-1])[..., None]
    replicated = (u > cum[..., :-1]).sum(axis=-1)  # inverse-CDF draw of a category per row
    n_cat = probs.shape[-1]
    shares = np.stack([(replicated == k).mean(axis=-1) for k in range(n_cat)], axis=-1)
    observed = np.asarray(idata.observed_data["score"].values)
    obs_shares = np.bincount(observed, minlength=n_cat) / len(observed)
    low, high = np.quantile(shares, [0.03, 0.97], axis=0)
    labels = fam.ppc_labels(threshold)
    return {"score": labels, "observed": obs_shares.tolist(),
            "replicated_mean": shares.mean(axis=0).tolist(), "replicated_low": low.tolist(),
            "replicated_high": high.tolist()}
