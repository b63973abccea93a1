"""Model components written once and shared by the single-outcome builder (``build``) and the joint builder
(``joint``): priors from data, the data arrays, ordered cutpoints, country intercepts (centred or not) and
slopes, year effects, the between and covariate coefficients, the latent (measured-with-error) treatment and
in-model imputation.

Each component is called inside a ``pm.Model`` context. ``batch`` dims (the joint model's ``("outcome",)``)
give every variable a leading axis; the single-outcome model passes none. The order in which a builder calls
the components is the order of the free variables, which fixes the seeded draws: keep it when editing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from tipcausal.core.registry import lookup
from tipcausal.models.binding import ModelData
from tipcausal.models.predictor import split_latent
from tipcausal.models.spec import ModelSpec, Prior

PRIOR_FAMILIES = {
    "Normal": pm.Normal,
    "HalfNormal": pm.HalfNormal,
    "StudentT": pm.StudentT,
    "HalfStudentT": pm.HalfStudentT,
    "Exponential": pm.Exponential,
    "ZeroSumNormal": pm.ZeroSumNormal,
}

ARRAY_DIMS = {"z_within": ("obs", "covariate"), "z_between": ("obs", "covariate"), "miss_row": "missing_value",
              "miss_col": "missing_value", "x_between_country": "country",
              "z_between_country": ("country", "covariate")}


def prior(name: str, spec_prior: Prior, **kwargs: Any) -> Any:
    """A PyMC variable ``name`` drawn from a prior given as data."""
    family = lookup(PRIOR_FAMILIES, spec_prior.dist, "prior distribution")
    return family(name, **spec_prior.params, **kwargs)


def uses_country_levels(spec: ModelSpec) -> bool:
    """True when the country intercepts are drawn as centred country levels (``country_levels``)."""
    return spec.parameterisation == "centred_levels" and spec.pooling == "partial"


def data_arrays(data: ModelData, country_means: bool = False) -> dict[str, Any]:
    """The predictor's arrays registered as ``pm.Data`` (the fit's constant_data), the region index, and (for
    ``country_levels``) the per-country means."""
    values = data.arrays() | (data.country_arrays() if country_means else {})
    arrays = {k: pm.Data(k, v, dims=ARRAY_DIMS.get(k, "obs")) for k, v in values.items()}
    pm.Data("region_of_country", data.region_of_country, dims="country")
    return arrays


def cutpoints(spec: ModelSpec, batch: tuple[str, ...] = (), batch_sizes: tuple[int, ...] = ()) -> Any:
    """Ordered cutpoints with the spec's prior (a Normal with an ordered transform)."""
    cut = spec.priors["cutpoints"]
    return pm.Normal("cutpoints", mu=cut.params.get("mu", 0.0), sigma=cut.params["sigma"],
                     transform=pm.distributions.transforms.ordered, dims=(*batch, "cutpoint"),
                     initval=spec.family.initial_cutpoints(batch_sizes))


def country_intercepts(spec: ModelSpec, data: ModelData, region_of_country: Any) -> Any:
    """Country intercepts: around region means with an estimated SD (partial pooling; non-centred, or centred
    when the spec says so), independent (no pooling) or the region means alone (complete pooling). The
    ``centred_levels`` parameterisation draws them in ``country_levels`` instead."""
    priors, n_country = spec.priors, len(data.coords["country"])
    centred = spec.parameterisation == "centred"
    if spec.pooling == "partial":  # created first: keeps the free-variable order (and seeded draws) stable
        country_sd = prior("country_sd", priors["country_sd"])
        if not centred:
            z_country = pm.Normal("z_country", 0.0, 1.0, dims="country")
    mean_intercept = pm.math.zeros(n_country)
    if spec.region_intercepts and spec.pooling != "none":
        region_effect = prior("region_effect", priors["region_effect"], dims="region")
        mean_intercept = region_effect[region_of_country]
    if spec.pooling == "partial" and centred:
        return pm.Normal("intercept", mean_intercept, country_sd, dims="country")
    if spec.pooling == "partial":
        return pm.Deterministic("intercept", mean_intercept + country_sd * z_country, dims="country")
    if spec.pooling == "none":
        return pm.Deterministic("intercept", prior("country_intercept", priors["country_intercept"], dims="country"),
                                dims="country")
    return pm.Deterministic("intercept", mean_intercept, dims="country")


def country_levels(spec: ModelSpec, data: ModelData, region_of_country: Any, arrays: dict[str, Any],
                   params: dict[str, Any]) -> tuple[Any, Any]:
    """Country intercepts and cutpoints under ``centred_levels``: (intercept, cutpoints).

    Each country's level (its intercept plus its between terms: the treatment's and covariates' country means
    times their coefficients) is drawn directly around its region mean plus those terms, with SD
    ``country_sd``; the cutpoints are drawn relative to the mean level. The prior is the same as in the
    non-centred model (intercept ~ Normal(region mean, country_sd); cutpoints ~ ordered Normal, independent of
    the levels), but the posterior loses two ridges a diagonal mass matrix cannot follow: the between
    coefficients against every country's deviation, and the cutpoints against the common level. A latent
    (measured-with-error) treatment's country mean enters the level's mean the same way.
    """
    priors = spec.priors
    country_sd = prior("country_sd", priors["country_sd"])
    mean = pm.math.zeros(region_of_country.shape[0])
    if spec.region_intercepts:
        mean = prior("region_effect", priors["region_effect"], dims="region")[region_of_country]
    between = pm.math.zeros(region_of_country.shape[0])
    if "between_effect" in params:
        if "x_between" in params:  # latent treatment: its country mean, read at each country's first row
            first_rows = np.unique(data.country_idx, return_index=True)[1]
            between = between + params["between_effect"] * params["x_between"][first_rows]
        else:
            between = between + params["between_effect"] * arrays["x_between_country"]
    if "covariate_between" in params:
        between = between + (params["covariate_between"] * arrays["z_between_country"]).sum(axis=-1)
    level = pm.Normal("country_level", mean + between, country_sd, dims="country")
    intercept = pm.Deterministic("intercept", level - between, dims="country")
    cut, mean_level = priors["cutpoints"], level.mean()
    relative = pm.Normal("cutpoints_rel", mu=cut.params.get("mu", 0.0) - mean_level, sigma=cut.params["sigma"],
                         transform=pm.distributions.transforms.ordered, dims="cutpoint",
                         initval=spec.family.initial_cutpoints())
    return intercept, pm.Deterministic("cutpoints", relative + mean_level, dims="cutpoint")


def country_slopes(spec: ModelSpec, data: ModelData) -> Any:
    """Country slopes on the within-country treatment: around their mean with an estimated SD (centred only when
    the spec says ``centred``), or one common slope."""
    priors, n_country = spec.priors, len(data.coords["country"])
    slope_mean = prior("slope_mean", priors["slope_mean"])
    if not spec.country_slopes:
        return pm.Deterministic("slope", slope_mean + pm.math.zeros(n_country), dims="country")
    slope_sd = prior("slope_sd", priors["slope_sd"])
    if spec.parameterisation == "centred":
        return pm.Normal("slope", slope_mean, slope_sd, dims="country")
    z_slope = pm.Normal("z_slope", 0.0, 1.0, dims="country")
    return pm.Deterministic("slope", slope_mean + slope_sd * z_slope, dims="country")


def year_effects(spec: ModelSpec, batch: tuple[str, ...] = ()) -> Any | None:
    """Year effects (None without): zero-sum with a common SD (random), a centred random walk, or free
    zero-sum Normal(0, 1) effects (fixed)."""
    if spec.year_effects == "none":
        return None
    dims = (*batch, "year")
    if spec.year_effects == "fixed":
        return pm.ZeroSumNormal("year_effect", sigma=1.0, dims=dims)
    year_sd = prior("year_sd", spec.priors["year_sd"], dims=batch or None)
    scale = year_sd[:, None] if batch else year_sd
    if spec.year_effects == "random":
        z_year = pm.ZeroSumNormal("z_year", sigma=1.0, dims=dims)
        return pm.Deterministic("year_effect", scale * z_year, dims=dims)
    z_year = pm.Normal("z_year", 0.0, 1.0, dims=dims)
    walk = pt.cumsum(scale * z_year, axis=-1)
    return pm.Deterministic("year_effect", walk - walk.mean(axis=-1, keepdims=True), dims=dims)


def between_and_covariates(spec: ModelSpec, batch: tuple[str, ...] = ()) -> dict[str, Any]:
    """The between coefficient of the treatment's country mean (with the within/between split) and the
    coefficients of the adjustment covariates' within deviations and country means."""
    priors, params = spec.priors, {}
    if spec.within_between:
        params["between_effect"] = prior("between_effect", priors["between_effect"], dims=batch or None)
    if spec.covariates:
        names = ("covariate_within", "covariate_between") if spec.within_between else ("covariate_within",)
        for name in names:
            params[name] = prior(name, priors[name], dims=(*batch, "covariate"))
    return params


def latent_treatment(spec: ModelSpec, data: ModelData, arrays: dict[str, Any]) -> dict[str, Any]:
    """Measurement error in the treatment: true (standardised) treatment latent around latent country means,
    observed with the given SD; returns its within/between split, which the predictor reads instead of the
    data's."""
    between_sd = prior("treatment_between_sd", spec.priors["treatment_between_sd"])
    within_sd = prior("treatment_within_sd", spec.priors["treatment_within_sd"])
    x_country = pm.Normal("x_country", 0.0, between_sd, dims="country")
    x_true = pm.Normal("x_true", mu=x_country[data.country_idx], sigma=within_sd, dims="obs", initval=data.x_std)
    pm.Normal("x_observed", mu=x_true, sigma=arrays["x_se"], observed=data.x_std, dims="obs")
    within, between = split_latent(x_true, data.country_idx, len(data.coords["country"]), spec.within_between)
    return {"x_within": within, "x_between": between}


def imputation(data: ModelData) -> Any:
    """Missing covariate values as parameters. Each imputed covariate's within-country deviation is modelled as
    Normal(b * treatment deviation, s), fitted on its observed values; a missing value is drawn from that model
    around its country's observed mean (or from N(b * deviation, 1), the marginal, for a country with none). The
    treatment is in the imputation model so imputed confounders keep their association with it."""
    imputed = data.coords["imputed_covariate"]
    pos = {name: k for k, name in enumerate(imputed)}
    covariates = data.coords["covariate"]
    obs_k = np.array([pos[covariates[j]] for j in data.obs_col], dtype=np.int64)
    miss_k = np.array([pos[covariates[j]] for j in data.miss_col], dtype=np.int64)
    slope = pm.Normal("imputation_slope", 0.0, 1.0, dims="imputed_covariate")
    sd = pm.HalfNormal("imputation_sd", 1.0, dims="imputed_covariate")
    pm.Normal("covariate_observed", mu=slope[obs_k] * data.obs_x, sigma=sd[obs_k], observed=data.obs_dev,
              dims="observed_value")
    sigma = pt.where(data.imp_has, sd[miss_k], 1.0)
    return pm.Normal("z_missing", mu=data.imp_mean + slope[miss_k] * data.imp_x, sigma=sigma, dims="missing_value")
