"""The ArviZ groups a saved fit carries for ArviZ's own tools: pointwise ``log_likelihood`` and a
``posterior_predictive`` draw of every score, for every posterior draw, with the observations labelled by country
and year, so ``az.loo``, ``az.compare``, ``az.plot_ppc`` and ``az.plot_loo_pit`` work on a loaded file.

Both are evaluated from the posterior with the model's own linear predictor and likelihood, in one pass over the
same chunks PSIS-LOO reads (``posterior.loo.category_prob_chunks``). They are written into the fits of a run's
``fits/`` folder only; the fit store keeps the posterior lean (refits never read them). Log-likelihoods are float32 (about 7 significant digits;
PSIS needs far fewer) and replicated categories int8.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from tipcausal.models.likelihoods import sample_categories
from tipcausal.posterior.loo import category_prob_chunks, observed_log_prob


def observation_coords(rows: pd.DataFrame) -> dict[str, tuple[str, np.ndarray]]:
    """Country and year of each observation, as coordinates along ``obs``."""
    return {"obs_country": ("obs", rows["country"].astype(str).to_numpy()),
            "obs_year": ("obs", rows["year"].astype(int).to_numpy())}


def pointwise_groups(idata: az.InferenceData, *, seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    """``log_likelihood`` (log p(score_i | draw), float32) and ``posterior_predictive`` (a replicated category per
    draw and observation, int8, coded as ``observed_data``), each (chain, draw, obs), named ``score``."""
    post = idata.posterior
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    y = np.asarray(idata.observed_data["score"].values, dtype=np.int64)
    loglik = np.empty((n_chain * n_draw, y.size), dtype=np.float32)
    replicated = np.empty((n_chain * n_draw, y.size), dtype=np.int8)
    rng = np.random.default_rng(seed)
    for sl, probs in category_prob_chunks(idata):
        loglik[sl] = observed_log_prob(probs, y)
        replicated[sl] = sample_categories(probs, rng)
    coords = {"chain": post.coords["chain"].values, "draw": post.coords["draw"].values,
              "obs": idata.observed_data.coords["obs"].values}
    dims = ("chain", "draw", "obs")
    return (xr.Dataset({"score": (dims, loglik.reshape(n_chain, n_draw, -1))}, coords=coords),
            xr.Dataset({"score": (dims, replicated.reshape(n_chain, n_draw, -1))}, coords=coords))


def with_pointwise_groups(idata: az.InferenceData, rows: pd.DataFrame, *, seed: int) -> az.InferenceData:
    """A copy of ``idata`` with ``log_likelihood`` and ``posterior_predictive`` (``pointwise_groups``, unless it has
    them) and the
    observations' country and year (``obs_country``, ``obs_year``) on every group with an ``obs`` dimension;
    ``rows``: the model's rows, in observation order."""
    if len(rows) != idata.observed_data.sizes["obs"]:
        raise ValueError(f"{len(rows)} rows for {idata.observed_data.sizes['obs']} observations")
    groups = {name: getattr(idata, name) for name in idata.groups()}
    if not {"log_likelihood", "posterior_predictive"} <= set(groups):  # a fit read back from a run folder has them
        groups["log_likelihood"], groups["posterior_predictive"] = pointwise_groups(idata, seed=seed)
    labels = observation_coords(rows)
    out = {name: (ds.assign_coords(labels) if "obs" in ds.dims else ds) for name, ds in groups.items()}
    return az.InferenceData(**out)
