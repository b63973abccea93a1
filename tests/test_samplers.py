"""Sampler wiring: every backend returns the same InferenceData layout (tiny draws, not inference)."""

import numpy as np
import pytest

from tipcausal.errors import InputError
from tipcausal.models.binding import bind_data
from tipcausal.models.pymc_builder import build_model
from tipcausal.models.spec import ModelSpec
from tipcausal.sampling import sample

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def model(small_sim):
    spec = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))
    return build_model(spec, bind_data(small_sim.panel, spec))


@pytest.mark.parametrize("backend", ["numpyro", "pymc", "nutpie"])
def test_backend_layout(model, backend):
    run = sample(model, backend=backend, draws=30, tune=30, chains=2, seed=11, progress=False)
    post = run.idata.posterior
    # the same variables in every backend: the model's free and deterministic variables, nothing internal
    expected = {v.name for v in model.free_RVs + model.deterministics}
    assert set(post.data_vars) == expected
    assert dict(post.sizes)["chain"] == 2 and dict(post.sizes)["draw"] == 30
    for name, dims in {"slope": ("chain", "draw", "country"), "cutpoints": ("chain", "draw", "cutpoint"),
                       "year_effect": ("chain", "draw", "year"), "slope_sd": ("chain", "draw")}.items():
        assert post[name].dims == dims
    assert post["slope"].dtype == np.float64
    assert {"constant_data", "observed_data", "sample_stats"} <= set(run.idata.groups())
    assert "diverging" in run.idata.sample_stats and "energy" in run.idata.sample_stats
    assert run.wall_s >= run.sampling_s >= 0 and run.wall_s >= run.compile_s > 0


def test_unknown_backend_lists_valid(model):
    with pytest.raises(InputError, match="valid names: numpyro, nutpie, pymc"):
        sample(model, backend="stan", seed=1)


def test_bad_settings_refused(model):
    with pytest.raises(InputError, match="draws must be an integer"):
        sample(model, draws=0, seed=1)
