"""Shared test helpers: fits fabricated from random parameter values (no sampling), for tests of the posterior,
summary and report code on every model structure."""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr

from tipcausal.data.panel import Panel
from tipcausal.fit import SpecFit, Timings, assess, fit_key
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import ModelData, bind_data
from tipcausal.models.families import stamp_family
from tipcausal.models.spec import ModelSpec

CHAINS, DRAWS = 2, 20


def _posterior(spec: ModelSpec, data: ModelData, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random draws of every variable the predictor, effects and report read, shaped (chain, draw, ...)."""
    n_c, n_y = len(data.coords["country"]), len(data.coords["year"])
    n_cov, n_cut = len(data.coords["covariate"]), len(data.coords["cutpoint"])

    def draw(*shape, scale=0.3):
        return rng.normal(0, scale, (CHAINS, DRAWS, *shape))

    post = {"cutpoints": np.sort(draw(n_cut, scale=1.0), axis=-1), "intercept": draw(n_c),
            "slope_mean": draw(), "slope": draw(n_c)}
    if spec.country_slopes:
        post["slope_sd"] = np.abs(draw()) + 0.1
    if spec.pooling == "partial":
        post["country_sd"] = np.abs(draw()) + 0.5
    if spec.year_effects != "none":
        post["year_effect"] = draw(n_y)
        if spec.year_effects != "fixed":
            post["year_sd"] = np.abs(draw()) + 0.1
    if spec.within_between:
        post["between_effect"] = draw()
    if n_cov:
        post["covariate_within"] = draw(n_cov)
        if spec.within_between:
            post["covariate_between"] = draw(n_cov)
    if data.miss_row.size:
        post["z_missing"] = draw(data.miss_row.size, scale=1.0)
    if data.x_se is not None:
        post["x_true"] = data.x_std + draw(data.n_obs, scale=0.1)
    return post


def fabricated_fit(panel: Panel, spec: ModelSpec, seed: int = 0) -> SpecFit:
    """A ``SpecFit`` of ``spec`` on ``panel`` whose posterior is random parameter values (no sampling), with
    sample statistics, constant and observed data in the layout every backend returns; assessed for real."""
    rng = np.random.default_rng(seed)
    data = bind_data(panel, spec)
    dims = {"cutpoints": ["cutpoint"], "intercept": ["country"], "slope": ["country"], "year_effect": ["year"],
            "covariate_within": ["covariate"], "covariate_between": ["covariate"], "z_missing": ["missing_value"],
            "x_true": ["obs"]}
    posterior = az.from_dict(posterior=_posterior(spec, data, rng), coords=data.coords, dims=dims).posterior
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((CHAINS, DRAWS), bool)),
                        "energy": (("chain", "draw"), rng.normal(0, 1, (CHAINS, DRAWS)))})
    constant = xr.Dataset({k: (("obs", "covariate") if v.ndim == 2 else ("miss" if k.startswith("miss_") else "obs"),
                               v) for k, v in data.arrays().items()})
    observed = xr.Dataset({"score": ("obs", data.categories)})
    idata = az.InferenceData(posterior=posterior, sample_stats=stats, constant_data=constant, observed_data=observed)
    settings = SamplerSettings(draws=DRAWS, tune=0, chains=CHAINS, seed=seed)
    key = fit_key(panel.hash, (spec.hash,), settings)
    stamp_family(idata, spec.family, spec.collapse_threshold)
    return SpecFit(spec=spec, data=data, idata=idata, assessment=assess(idata, data, seed=seed), settings=settings,
                   timings=Timings(0.0, 0.0, 0.0), key=key, panel_hash=panel.hash)
