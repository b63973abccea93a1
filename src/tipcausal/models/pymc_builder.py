"""Build a PyMC model from a ModelSpec and bound data (no sampling here).

Variables and dims (the same in every backend's InferenceData):

=====================  ==========  ===========================================================
name                   dims        meaning
=====================  ==========  ===========================================================
cutpoints              cutpoint    ordered thresholds (logit scale)
region_effect          region      region means of intercepts (zero-sum)
country_sd, z_country  -, country  non-centred country intercepts (pooling = "partial")
country_intercept      country     independent country intercepts (pooling = "none")
intercept              country     deterministic: region_effect[region] + country_sd * z_country (partial),
                                   country_intercept (none), region_effect[region] or 0 (complete)
slope_mean, slope_sd   -           country slopes on +1 SD of the (within-country) treatment
z_slope                country     non-centred slope deviations
slope                  country     deterministic: slope_mean + slope_sd * z_slope
between_effect         -           coefficient on the country mean of the treatment
covariate_within       covariate   coefficients of within-country covariate deviations
covariate_between      covariate   coefficients of covariate country means
year_sd, z_year        -, year     non-centred zero-sum year effects, or random-walk steps
year_effect            year        deterministic: year_sd * z_year, or the centred cumulative sum of steps;
                                   a free zero-sum Normal(0, 1) per year when year_effects = "fixed"
x_country, x_true      country, obs  measurement-error model: latent true treatment (standardised) around
                                   latent country means; x_observed ~ Normal(x_true, x_se) is observed
z_missing              missing_value  in-model imputation: latent standardised covariate values;
imputation_slope, _sd  imputed_covariate  their model given the treatment; covariate_observed is observed
score                  obs         observed category (score - 1): OrderedLogistic or OrderedProbit; 0/1 for
                                   the binary likelihood (one cutpoint)
=====================  ==========  ===========================================================
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from tipcausal.models.binding import ModelData
from tipcausal.models.predictor import linear_predictor, split_latent
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


def _probit_category_probs(eta, cutpoints):
    """P(category = k) under the cumulative probit, written with erfc (which JAX implements, unlike the erfcx
    PyMC's OrderedProbit uses); the same formula as ``likelihoods.category_probs(link="probit")``."""
    cdf = 0.5 * pt.erfc(-(cutpoints[None, :] - eta[:, None]) / np.sqrt(2.0))
    n = eta.shape[0]
    cum = pt.concatenate([pt.zeros((n, 1)), cdf, pt.ones((n, 1))], axis=1)
    return pt.clip(cum[:, 1:] - cum[:, :-1], 1e-300, 1.0)


def _latent_treatment(spec: ModelSpec, data: ModelData, arrays: dict, params: dict) -> None:
    """Measurement error in the treatment: true (standardised) treatment latent around latent country means,
    observed with the given SD; the predictor then reads its within/between split instead of the data's."""
    between_sd = _prior("treatment_between_sd", spec.priors["treatment_between_sd"])
    within_sd = _prior("treatment_within_sd", spec.priors["treatment_within_sd"])
    x_country = pm.Normal("x_country", 0.0, between_sd, dims="country")
    x_true = pm.Normal("x_true", mu=x_country[data.country_idx], sigma=within_sd, dims="obs", initval=data.x_std)
    pm.Normal("x_observed", mu=x_true, sigma=arrays["x_se"], observed=data.x_std, dims="obs")
    params["x_within"], params["x_between"] = split_latent(x_true, data.country_idx, len(data.coords["country"]),
                                                           spec.within_between)


def _imputation_model(data: ModelData):
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


def build_model(spec: ModelSpec, data: ModelData) -> pm.Model:
    """A ``pm.Model`` for ``spec`` on ``data``; arrays are registered as ``pm.Data`` (constant_data)."""
    priors = spec.priors
    with pm.Model(coords=data.coords) as model:
        dims = {"z_within": ("obs", "covariate"), "z_between": ("obs", "covariate"), "miss_row": "missing_value",
                "miss_col": "missing_value"}
        arrays = {k: pm.Data(k, v, dims=dims.get(k, "obs")) for k, v in data.arrays().items()}
        region_of_country = pm.Data("region_of_country", data.region_of_country, dims="country")

        cut_prior = priors["cutpoints"]
        cutpoints = pm.Normal("cutpoints", mu=cut_prior.params.get("mu", 0.0), sigma=cut_prior.params["sigma"],
                              transform=pm.distributions.transforms.ordered, dims="cutpoint",
                              initval=np.linspace(-2.0, 2.0, len(data.coords["cutpoint"])) if not spec.binary
                              else np.zeros(1))
        if spec.pooling == "partial":  # created first: keeps the free-variable order (and seeded draws) stable
            country_sd = _prior("country_sd", priors["country_sd"])
            z_country = pm.Normal("z_country", 0.0, 1.0, dims="country")
        mean_intercept = pm.math.zeros(len(data.coords["country"]))
        if spec.region_intercepts and spec.pooling != "none":
            region_effect = _prior("region_effect", priors["region_effect"], dims="region")
            mean_intercept = region_effect[region_of_country]
        if spec.pooling == "partial":
            intercept = pm.Deterministic("intercept", mean_intercept + country_sd * z_country, dims="country")
        elif spec.pooling == "none":
            intercept = pm.Deterministic(
                "intercept", _prior("country_intercept", priors["country_intercept"], dims="country"), dims="country")
        else:
            intercept = pm.Deterministic("intercept", mean_intercept, dims="country")

        slope_mean = _prior("slope_mean", priors["slope_mean"])
        if spec.country_slopes:
            slope_sd = _prior("slope_sd", priors["slope_sd"])
            z_slope = pm.Normal("z_slope", 0.0, 1.0, dims="country")
            slope = pm.Deterministic("slope", slope_mean + slope_sd * z_slope, dims="country")
        else:
            slope = pm.Deterministic("slope", slope_mean + pm.math.zeros(len(data.coords["country"])),
                                     dims="country")

        params = {"intercept": intercept, "slope": slope}
        if spec.year_effects == "random":
            year_sd = _prior("year_sd", priors["year_sd"])
            z_year = pm.ZeroSumNormal("z_year", sigma=1.0, dims="year")
            params["year_effect"] = pm.Deterministic("year_effect", year_sd * z_year, dims="year")
        elif spec.year_effects == "random_walk":
            year_sd = _prior("year_sd", priors["year_sd"])
            z_year = pm.Normal("z_year", 0.0, 1.0, dims="year")
            walk = pm.math.cumsum(year_sd * z_year)
            params["year_effect"] = pm.Deterministic("year_effect", walk - walk.mean(), dims="year")
        elif spec.year_effects == "fixed":
            params["year_effect"] = pm.ZeroSumNormal("year_effect", sigma=1.0, dims="year")
        if data.x_se is not None:
            _latent_treatment(spec, data, arrays, params)
        if spec.within_between:
            params["between_effect"] = _prior("between_effect", priors["between_effect"])
        if spec.covariates:
            params["covariate_within"] = _prior("covariate_within", priors["covariate_within"], dims="covariate")
            if spec.within_between:
                params["covariate_between"] = _prior("covariate_between", priors["covariate_between"],
                                                     dims="covariate")
        if data.miss_row.size:
            params["z_missing"] = _imputation_model(data)
        eta = linear_predictor(params, arrays)
        if spec.link == "probit":
            pm.Categorical("score", p=_probit_category_probs(eta, cutpoints), observed=data.categories, dims="obs")
        else:
            pm.OrderedLogistic("score", eta=eta, cutpoints=cutpoints, observed=data.categories, dims="obs",
                               compute_p=False)
    return model
