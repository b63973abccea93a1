"""The ArviZ groups a saved fit carries for ArviZ's own tools: pointwise ``log_likelihood`` and a
``posterior_predictive`` draw of every score, for every posterior draw, with the observations labelled by country
and year, so ``az.loo``, ``az.compare``, ``az.plot_ppc`` and ``az.plot_loo_pit`` work on a loaded file.

Both come from the fit's ``posterior.pointwise.Pointwise``: the log-likelihood PSIS-LOO read, and the categories
replicated in the pass that LOO-PIT reads too. They are written into the fits of a run's ``fits/`` folder only;
the fit store keeps the posterior lean (refits never read them). Log-likelihoods are float32 (about 7 significant
digits; PSIS needs far fewer) and replicated categories int8.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from tipcausal.posterior.pointwise import Pointwise


def observation_coords(rows: pd.DataFrame) -> dict[str, tuple[str, np.ndarray]]:
    """Country and year of each observation, as coordinates along ``obs``."""
    return {"obs_country": ("obs", rows["country"].astype(str).to_numpy()),
            "obs_year": ("obs", rows["year"].astype(int).to_numpy())}


def pointwise_groups(pointwise: Pointwise, *, seed: int) -> tuple[xr.Dataset, xr.Dataset]:
    """``log_likelihood`` (log p(score_i | draw), float32) and ``posterior_predictive`` (a replicated category per
    draw and observation, int8, coded as ``observed_data``), each (chain, draw, obs), named ``score``."""
    idata = pointwise.idata
    post = idata.posterior
    shape = pointwise.shape + (-1,)
    coords = {"chain": post.coords["chain"].values, "draw": post.coords["draw"].values,
              "obs": idata.observed_data.coords["obs"].values}
    dims = ("chain", "draw", "obs")
    loglik = pointwise.log_lik.astype(np.float32).reshape(shape)
    replicated = pointwise.replicates(seed).categories.reshape(shape)
    return (xr.Dataset({"score": (dims, loglik)}, coords=coords),
            xr.Dataset({"score": (dims, replicated)}, coords=coords))


def with_pointwise_groups(idata: az.InferenceData, rows: pd.DataFrame, *, seed: int,
                          pointwise: Pointwise | None = None) -> az.InferenceData:
    """A copy of ``idata`` with ``log_likelihood`` and ``posterior_predictive`` (``pointwise_groups``, unless it has
    them; from ``pointwise``, the fit's already evaluated quantities, when given) and the observations' country and
    year (``obs_country``, ``obs_year``) on every group with an ``obs`` dimension; ``rows``: the model's rows, in
    observation order."""
    if len(rows) != idata.observed_data.sizes["obs"]:
        raise ValueError(f"{len(rows)} rows for {idata.observed_data.sizes['obs']} observations")
    groups = {name: getattr(idata, name) for name in idata.groups()}
    if not {"log_likelihood", "posterior_predictive"} <= set(groups):  # a fit read back from a run folder has them
        groups["log_likelihood"], groups["posterior_predictive"] = pointwise_groups(
            pointwise if pointwise is not None else Pointwise(idata), seed=seed)
    labels = observation_coords(rows)
    out = {name: (ds.assign_coords(labels) if "obs" in ds.dims else ds) for name, ds in groups.items()}
    return az.InferenceData(**out)
