"""Sampler wiring: every backend returns the same InferenceData layout (tiny draws, not inference), and sampler
settings are refused when they are made."""

import numpy as np
import pytest

from tipcausal.core.errors import InputError
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.build import build_model
from tipcausal.models.spec import ModelSpec

SPEC = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))


@pytest.mark.sampling
@pytest.mark.parametrize("backend", ["numpyro", "pymc", pytest.param("nutpie", marks=pytest.mark.slow)])
def test_backend_layout(small_sim, backend):
    fit = fit_specification(small_sim.panel, SPEC, SamplerSettings(backend=backend, draws=30, tune=30, chains=2,
                                                                   seed=11))
    model = build_model(SPEC, bind_data(small_sim.panel, SPEC))
    post = fit.idata.posterior
    # the same variables in every backend: the model's free and deterministic variables, nothing internal
    expected = {v.name for v in model.free_RVs + model.deterministics}
    assert set(post.data_vars) == expected
    assert dict(post.sizes)["chain"] == 2 and dict(post.sizes)["draw"] == 30
    for name, dims in {"slope": ("chain", "draw", "country"), "cutpoints": ("chain", "draw", "cutpoint"),
                       "year_effect": ("chain", "draw", "year"), "slope_sd": ("chain", "draw")}.items():
        assert post[name].dims == dims
    # per-country variables kept as float32, the rest as float64 (inference.precision), in every backend
    assert {n for n, v in post.data_vars.items() if v.dtype == np.float32} == {
        n for n, v in post.data_vars.items() if "country" in v.dims}
    assert post["slope"].dtype == np.float32 and post["cutpoints"].dtype == np.float64
    assert {"constant_data", "observed_data", "sample_stats"} <= set(fit.idata.groups())
    assert "diverging" in fit.idata.sample_stats and "energy" in fit.idata.sample_stats
    t = fit.record.timings
    assert t.wall_s >= t.sampling_s >= 0 and t.wall_s >= t.compile_s > 0
    assert post.attrs["tipcausal_likelihood"] == "cumulative_logit" and post.attrs["tipcausal_fit_key"] == fit.record.key


def test_unknown_backend_lists_valid():
    with pytest.raises(InputError, match="valid names: numpyro, nutpie, pymc"):
        SamplerSettings(backend="stan")


@pytest.mark.parametrize("bad", [dict(draws=0), dict(chains=0), dict(chains=-1), dict(tune=-5),
                                 dict(target_accept=2.0), dict(draws=1.5), dict(seed=True),
                                 dict(warmup_tree_depth=0), dict(warmup_tree_depth=11)])
def test_bad_settings_refused(bad):
    name = next(iter(bad))
    with pytest.raises(InputError, match=f"sampler setting {name} must be"):
        SamplerSettings(**bad)


def test_fit_key_changes_with_every_input(small_sim):
    from tipcausal.fit import fit_key

    s = SamplerSettings()
    base = fit_key(small_sim.panel.hash, (SPEC.hash,), s)
    assert base == fit_key(small_sim.panel.hash, (SPEC.hash,), SamplerSettings())
    others = {fit_key("other", (SPEC.hash,), s), fit_key(small_sim.panel.hash, ("other",), s),
              fit_key(small_sim.panel.hash, (SPEC.hash,), SamplerSettings(seed=2)),
              fit_key(small_sim.panel.hash, (SPEC.hash,), SamplerSettings(draws=500)),
              fit_key(small_sim.panel.hash, (SPEC.hash,), SamplerSettings(warmup_tree_depth=4))}
    assert base not in others and len(others) == 5


@pytest.mark.sampling
def test_warmup_trees_capped_and_counted(small_sim):
    """numpyro's warmup builds trees no deeper than ``warmup_tree_depth``, sampling's up to 10, and the run counts
    its warmup gradient evaluations."""
    counts = {}
    for depth in (2, 10):
        fit = fit_specification(small_sim.panel, SPEC, SamplerSettings(draws=20, tune=40, chains=2, seed=3,
                                                                       warmup_tree_depth=depth))
        counts[depth] = fit.idata.posterior.attrs["warmup_gradient_evaluations"]
        assert fit.idata.posterior.attrs["warmup_tree_depth"] == depth
    assert 2 * 40 <= counts[2] <= 2 * 40 * (2**2 - 1)  # at least one and at most 3 leapfrog steps a transition
    assert counts[10] > counts[2]  # the unadapted start takes longer trees when let
