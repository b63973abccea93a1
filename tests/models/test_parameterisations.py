"""The ``centred_levels`` parameterisation is the same model as the non-centred one, written in other
coordinates: at any point, its log density (prior and likelihood, in the sampler's unconstrained space) equals
the non-centred one's at the matching point, less the constant-in-data Jacobian of z -> intercept
(n_countries * log country_sd). So the two have one posterior; only the geometry the sampler sees differs."""

from dataclasses import replace

import numpy as np
import pytest
from pymc.initial_point import make_initial_point_fn

from tipcausal.models.binding import bind_data
from tipcausal.models.build import build_model
from tipcausal.models.spec import ModelSpec


def _options():
    return [{}, {"likelihood": "cumulative_probit", "year_effects": "random_walk"},
            {"measurement_error": 0.3}, {"region_intercepts": False, "within_between": False},
            {"likelihood": "binary_logit"}, {"country_slopes": False, "year_effects": "none"}]


def _values_fn(model, outputs):
    """A function of the model's (transformed) value variables computing ``outputs``."""
    return model.compile_fn(model.replace_rvs_by_values(outputs), inputs=model.value_vars, on_unused_input="ignore",
                            point_fn=True)


@pytest.mark.parametrize("options", _options())
def test_centred_levels_is_the_non_centred_model_in_other_coordinates(small_sim, options):
    base = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr", "log_gdp_pc"),
                     parameterisation="non_centred", **options)
    levels_spec = replace(base, parameterisation="centred_levels")
    data = bind_data(small_sim.panel, base)
    nc, cl = build_model(base, data), build_model(levels_spec, data)
    assert {"country_level", "cutpoints_rel"} <= set(cl.named_vars) and "z_country" not in cl.named_vars
    nc_logp, cl_logp = nc.compile_logp(), cl.compile_logp()
    derived = _values_fn(nc, [nc["intercept"], nc["cutpoints"]])
    levels = _values_fn(cl, [cl["country_level"] - cl["intercept"]])
    start = make_initial_point_fn(model=nc, jitter_rvs=set(nc.free_RVs), return_transformed=True)
    rng = np.random.default_rng(11)
    for seed in rng.integers(0, 2**31 - 1, size=4):
        point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in start(int(seed)).items()}
        intercept, cutpoints = derived(point)
        shared = {k: v for k, v in point.items() if k in {v.name for v in cl.value_vars}}
        # the between terms depend only on the shared coefficients: evaluate them at any level
        probe = {**shared, "country_level": np.zeros_like(intercept),
                 "cutpoints_rel_ordered__": point["cutpoints_ordered__"]}
        level = intercept + levels(probe)[0]
        relative = point["cutpoints_ordered__"].copy()
        relative[0] = cutpoints[0] - level.mean()  # the ordered transform keeps the first value, then log gaps
        matched = {**shared, "country_level": level, "cutpoints_rel_ordered__": relative}
        jacobian = len(intercept) * point["country_sd_log__"]  # z -> intercept scales by country_sd
        assert float(cl_logp(matched)) == pytest.approx(float(nc_logp(point)) - jacobian, rel=1e-10, abs=1e-8)
