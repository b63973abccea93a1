"""Build a PyMC model from a ModelSpec and bound data (no sampling here).

Variables and dims (the same in every backend's InferenceData):

=====================  ==========  ===========================================================
name                   dims        meaning
=====================  ==========  ===========================================================
cutpoints              cutpoint    ordered thresholds (logit scale); under centred_levels a deterministic:
                                   cutpoints_rel + the mean country level
cutpoints_rel          cutpoint    centred_levels: ordered thresholds relative to the mean country level
country_level          country     centred_levels: intercept + between terms, drawn around region_effect[region]
                                   + between terms with SD country_sd
region_effect          region      region means of intercepts (zero-sum)
country_sd, z_country  -, country  non-centred country intercepts (pooling = "partial", parameterisation =
                                   "non_centred"; with "centred", ``intercept`` is drawn directly)
country_intercept      country     independent country intercepts (pooling = "none")
intercept              country     deterministic: region_effect[region] + country_sd * z_country (partial),
                                   country_level - between terms (centred_levels),
                                   country_intercept (none), region_effect[region] or 0 (complete)
slope_mean, slope_sd   -           country slopes on +1 SD of the (within-country) treatment
z_slope                country     non-centred slope deviations (centred: ``slope`` is drawn directly)
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
score                  obs         observed category (score - 1), cumulative logit or probit from the two
                                   cutpoints around it (``families.Family.observe``); 0/1 for
                                   the binary likelihood (one cutpoint)
=====================  ==========  ===========================================================
"""

from __future__ import annotations

import pymc as pm

from tipcausal.models import components
from tipcausal.models.binding import ModelData
from tipcausal.models.predictor import linear_predictor
from tipcausal.models.spec import ModelSpec


def build_model(spec: ModelSpec, data: ModelData) -> pm.Model:
    """A ``pm.Model`` for ``spec`` on ``data``; arrays are registered as ``pm.Data`` (constant_data)."""
    with pm.Model(coords=data.coords) as model:
        levels = components.uses_country_levels(spec)
        arrays = components.data_arrays(data, country_means=levels)
        cutpoints = None if levels else components.cutpoints(spec)
        params = {} if levels else {"intercept": components.country_intercepts(spec, data,
                                                                               model["region_of_country"])}
        params["slope"] = components.country_slopes(spec, data)
        year_effect = components.year_effects(spec)
        if year_effect is not None:
            params["year_effect"] = year_effect
        if data.x_se is not None:
            params.update(components.latent_treatment(spec, data, arrays))
        params.update(components.between_and_covariates(spec))
        if levels:
            params["intercept"], cutpoints = components.country_levels(spec, data, model["region_of_country"],
                                                                       arrays, params)
        if data.miss_row.size:
            params["z_missing"] = components.imputation(data)
        spec.family.observe("score", linear_predictor(params, arrays), cutpoints, data.categories)
    return model
