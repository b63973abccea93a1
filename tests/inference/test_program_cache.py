"""The per-process caches of compiled programs are bounded (a sweep worker meets dozens of structures), and a
structure dropped from them compiles again to the same draws."""

import numpy as np
import pytest

from tipcausal.fit import fit_specification
from tipcausal.inference import density, nuts
from tipcausal.inference.memory import release_memory
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec

BASE = dict(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))
OTHERS = [{"likelihood": "cumulative_probit"}, {"year_effects": "random_walk"}, {"pooling": "none"},
          {"parameterisation": "centred_levels"}, {"parameterisation": "centred"}]
SETTINGS = SamplerSettings(draws=20, tune=20, chains=2, seed=5)


@pytest.mark.sampling
def test_caches_stay_bounded_and_a_dropped_structure_gives_the_same_draws(small_sim):
    assert len(OTHERS) > density.PROGRAMS_KEPT
    spec = ModelSpec(**BASE)
    first = fit_specification(small_sim.panel, spec, SETTINGS, predictive=False)
    first_keys = set(density._PROGRAMS)
    for options in OTHERS:
        fit_specification(small_sim.panel, ModelSpec(**BASE, **options), SETTINGS, predictive=False)
        release_memory()
        assert len(density._PROGRAMS) <= density.PROGRAMS_KEPT
        assert len(nuts._SAMPLERS) <= density.PROGRAMS_KEPT
        assert sum(len(p.compiled) for p in nuts._SAMPLERS.values()) <= 2 * density.PROGRAMS_KEPT
    assert not first_keys & set(density._PROGRAMS)  # the first structure was dropped
    again = fit_specification(small_sim.panel, spec, SETTINGS, predictive=False)
    for name, var in first.idata.posterior.data_vars.items():
        np.testing.assert_array_equal(var.values, again.idata.posterior[name].values, err_msg=name)
