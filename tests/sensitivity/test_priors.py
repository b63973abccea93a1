"""Prior sensitivity by power-scaling: a strong, wrong prior on the slope mean is flagged as prior-data conflict;
the default priors are not flagged on the same panel."""

import pytest

from helpers import sampler_seed
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.sensitivity.priors import log_prior, partitions_of, prior_sensitivity, scaled_prior
from tipcausal.simulation.structural import SimulationConfig, simulate_panel

COVS = ("v2x_corr", "v2x_polyarchy", "log_gdp_pc")


def test_scaled_prior_widens_and_narrows_the_scale():
    assert scaled_prior(Prior("Normal", {"mu": 0.0, "sigma": 1.0}), 2.0).params == {"mu": 0.0, "sigma": 2.0}
    assert scaled_prior(Prior("Exponential", {"lam": 1.0}), 2.0).params == {"lam": 0.5}
    assert scaled_prior(Prior("HalfNormal", {"sigma": 1.0}), 0.5).params == {"sigma": 0.5}


@pytest.mark.sampling
def test_wrong_strong_slope_prior_is_flagged_and_default_priors_are_not():
    panel = simulate_panel(11, SimulationConfig(n_countries=60)).panel
    settings = SamplerSettings(draws=1000, tune=500, chains=4, seed=sampler_seed(2))
    base = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=COVS)
    default = fit_specification(panel, base, settings)
    # true mean slope +0.65 logit per SD; the prior puts it at -0.5 with SD 0.1
    wrong = fit_specification(panel, base.with_priors({"slope_mean": Prior("Normal", {"mu": -0.5, "sigma": 0.1})}),
                              settings)
    assert default.passed and wrong.passed
    lp = log_prior(default)
    parts = partitions_of(default.spec, set(lp.data_vars))
    assert {"cutpoints", "slope_mean", "slope_sd", "country_sd", "year_sd", "between_effect"} <= set(parts)
    assert not any(v.startswith("z_") for v in parts.values())
    flagged = {p.partition: p for p in prior_sensitivity(wrong)}
    assert flagged["slope_mean"].diagnosis == "prior-data conflict", flagged["slope_mean"].to_dict()
    assert flagged["slope_mean"].pareto_k <= 0.7
    for p in prior_sensitivity(default):
        assert not p.flagged, p.to_dict()
