"""Build a PyMC model from a ModelSpec and bound data (no sampling here).

Variables and dims (the same in every backend's InferenceData):

=====================  ==========  ===========================================================
name                   dims        meaning
=====================  ==========  ===========================================================
cutpoints              cutpoint    ordered thresholds (logit scale)
region_effect          region      region means of intercepts (zero-sum)
country_sd, z_country  -, country  non-centred country intercepts
intercept              country     deterministic: region_effect[region] + country_sd * z_country
slope_mean, slope_sd   -           country slopes on +1 SD of the (within-country) treatment
z_slope                country     non-centred slope deviations
slope                  country     deterministic: slope_mean + slope_sd * z_slope
between_effect         -           coefficient on the country mean of the treatment
covariate_within       covariate   coefficients of within-country covariate deviations
covariate_between      covariate   coefficients of covariate country means
year_sd, z_year        -, year     non-centred zero-sum year effects
year_effect            year        deterministic: year_sd * z_year
score                  obs         observed category (score - 1)
=====================  ==========  ===========================================================
"""

from __future__ import annotations

import numpy as np
import pymc as pm

from tipcausal.models.binding import ModelData
from tipcausal.models.likelihoods import N_CATEGORIES
from tipcausal.models.predictor import linear_predictor
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.registry import lookup

PRIOR_FAMILIES = {
    "Normal": pm.Normal,
    "HalfNormal": pm.HalfNormal,
    "StudentT": pm.StudentT,
    "HalfStudentT": pm.HalfStudentT,
    "Exponential": pm.Exponential,
    "ZeroSumNormal": pm.ZeroSumNormal,
}


def _prior(name: str, prior: Prior, **kwargs):
    family = lookup(PRIOR_FAMILIES, prior.dist, "prior distribution")
    return family(name, **prior.params, **kwargs)


def build_model(spec: ModelSpec, data: ModelData) -> pm.Model:
    """A ``pm.Model`` for ``spec`` on ``data``; arrays are registered as ``pm.Data`` (constant_data)."""
    priors = spec.priors
    with pm.Model(coords=data.coords) as model:
        arrays = {k: pm.Data(k, v, dims=("obs", "covariate") if k.startswith("z_") else "obs")
                  for k, v in data.arrays().items()}
        region_of_country = pm.Data("region_of_country", data.region_of_country, dims="country")

        cut_prior = priors["cutpoints"]
        cutpoints = pm.Normal("cutpoints", mu=cut_prior.params.get("mu", 0.0), sigma=cut_prior.params["sigma"],
                              transform=pm.distributions.transforms.ordered, dims="cutpoint",
                              initval=np.linspace(-2.0, 2.0, N_CATEGORIES - 1))
        country_sd = _prior("country_sd", priors["country_sd"])
        z_country = pm.Normal("z_country", 0.0, 1.0, dims="country")
        mean_intercept = 0.0
        if spec.region_intercepts:
            region_effect = _prior("region_effect", priors["region_effect"], dims="region")
            mean_intercept = region_effect[region_of_country]
        intercept = pm.Deterministic("intercept", mean_intercept + country_sd * z_country, dims="country")

        slope_mean = _prior("slope_mean", priors["slope_mean"])
        if spec.country_slopes:
            slope_sd = _prior("slope_sd", priors["slope_sd"])
            z_slope = pm.Normal("z_slope", 0.0, 1.0, dims="country")
            slope = pm.Deterministic("slope", slope_mean + slope_sd * z_slope, dims="country")
        else:
            slope = pm.Deterministic("slope", slope_mean + 0.0 * z_country, dims="country")

        params = {"intercept": intercept, "slope": slope}
        if spec.year_effects == "random":
            year_sd = _prior("year_sd", priors["year_sd"])
            z_year = pm.ZeroSumNormal("z_year", sigma=1.0, dims="year")
            params["year_effect"] = pm.Deterministic("year_effect", year_sd * z_year, dims="year")
        if spec.within_between:
            params["between_effect"] = _prior("between_effect", priors["between_effect"])
        if spec.covariates:
            params["covariate_within"] = _prior("covariate_within", priors["covariate_within"], dims="covariate")
            if spec.within_between:
                params["covariate_between"] = _prior("covariate_between", priors["covariate_between"],
                                                     dims="covariate")
        eta = linear_predictor(params, arrays)
        pm.OrderedLogistic("score", eta=eta, cutpoints=cutpoints, observed=data.categories, dims="obs",
                           compute_p=False)
    return model
