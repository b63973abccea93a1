"""Warm-started refits: the earlier fit's final state maps onto a new layout by variable and coordinate, a warm
refit on the same data recovers the cold fit's posterior (within Monte Carlo error), it passes the gate after a
short step-size-only warmup, its key names the fit it started from, and a country left out keeps the others'
entries; a warm start that re-estimates the mass matrix samples the same posterior too, and learns the scale of
an entry the earlier fit lacked."""

from dataclasses import replace

import arviz as az
import numpy as np
import pytest

from helpers import sampler_seed
from tipcausal.fit import fit_key
from tipcausal.fitstore import FitStore
from tipcausal.inference.nuts import Adaptation
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec
from tipcausal.sensitivity import panels as altered
from tipcausal.simulation.structural import SimulationConfig, simulate_panel

SPEC = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))


def test_final_state_maps_by_label_and_fills_the_rest():
    final = Adaptation(position=np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
                       inverse_mass=np.array([[0.1, 0.2, 0.4], [0.3, 0.5, 0.7]]), step_size=np.array([0.2, 0.3]),
                       labels=("a", "z[X]", "z[Y]"))
    fallback = np.full((3, 4), -9.0)
    position, inverse, step, shared = final.start_for(("z[Y]", "b", "a", "z[W]"), fallback)
    np.testing.assert_array_equal(position[:, 0], [3.0, 6.0, 3.0])  # chain 2 takes chain 0's state
    np.testing.assert_array_equal(position[:, 2], [1.0, 4.0, 1.0])
    np.testing.assert_array_equal(position[:, [1, 3]], -9.0)  # not shared: the jittered start
    np.testing.assert_allclose(inverse[:, 3], [0.3, 0.6, 0.3])  # a new country of z: z's median inverse mass
    np.testing.assert_array_equal(inverse[:, 1], 1.0)  # a new variable: unit mass
    np.testing.assert_array_equal(step, [0.2, 0.3, 0.2])
    assert shared == 0.5
    back = Adaptation.from_arrays(final.to_arrays())
    assert back.labels == final.labels
    for name in ("position", "inverse_mass", "step_size"):
        np.testing.assert_array_equal(getattr(back, name), getattr(final, name))


@pytest.mark.sampling
def test_warm_refit_recovers_the_cold_posterior_and_passes_the_gate(tmp_path):
    panel = simulate_panel(5, SimulationConfig(n_countries=60)).panel
    cold = SamplerSettings(draws=1000, tune=500, chains=4, seed=sampler_seed(4))
    store = FitStore(tmp_path / "store")
    primary, _ = store.fit(panel, SPEC, cold)
    assert primary.passed and primary.record.final is not None
    assert primary.record.final.position.shape == primary.record.final.inverse_mass.shape
    warm_settings = SamplerSettings(draws=1000, tune=150, chains=4, seed=sampler_seed(5))
    again, reused = store.fit(panel, SPEC, warm_settings, warm_from=primary.record, predictive=False)
    assert not reused and again.passed, again.gate.reasons
    assert any("warm start: 100%" in n for n in again.record.notes)
    assert again.record.key != fit_key(panel.hash, (SPEC.hash,), warm_settings)  # not the key of a cold start
    # the same data: the warm chains sample the same posterior (difference within 4 Monte Carlo SEs)
    for name in ("slope_mean", "between_effect", "slope_sd"):
        a, b = primary.idata.posterior[name], again.idata.posterior[name]
        se = np.hypot(float(az.mcse(a).to_array().squeeze()), float(az.mcse(b).to_array().squeeze()))
        assert abs(float(a.mean()) - float(b.mean())) < 4 * se, name
    # a country left out: the other countries' entries start from their own final state (mapped by name)
    country = str(panel.frame["country"].iloc[0])
    fold, _ = store.fit(altered.without(panel, "country", country), SPEC, warm_settings, warm_from=primary.record,
                        predictive=False)
    assert fold.passed, fold.gate.reasons
    assert any("warm start: 100%" in n for n in fold.record.notes)  # every entry of the fold is one of the 60's
    labels = fold.record.final.labels
    assert len(labels) < len(primary.record.final.labels) and not any(f",{country}]" in x or f"[{country}]" in x
                                                                        for x in labels)

    # re-estimating the mass matrix (Stan's windows from the primary's): the same posterior on the same data, and
    # a covariate the primary lacks gets its own scale rather than the unit guess it starts from
    mass_settings = SamplerSettings(draws=1000, tune=300, chains=4, seed=sampler_seed(6), warm_mass=True)
    remass, _ = store.fit(panel, SPEC, mass_settings, warm_from=primary.record, predictive=False)
    assert remass.passed, remass.gate.reasons
    assert any("re-estimated the mass matrix" in n for n in remass.record.notes)
    assert remass.record.key != again.record.key
    # the step-size-only warm start kept the primary's mass matrix; this one re-estimated it
    np.testing.assert_array_equal(again.record.final.inverse_mass, primary.record.final.inverse_mass)
    assert np.abs(np.log(remass.record.final.inverse_mass / primary.record.final.inverse_mass)).max() > 0.05
    for name in ("slope_mean", "between_effect", "slope_sd"):
        a, b = primary.idata.posterior[name], remass.idata.posterior[name]
        se = np.hypot(float(az.mcse(a).to_array().squeeze()), float(az.mcse(b).to_array().squeeze()))
        assert abs(float(a.mean()) - float(b.mean())) < 4 * se, name
    extra = altered.with_random_cause(panel, "noise", np.random.default_rng(7))
    spec = replace(SPEC, covariates=(*SPEC.covariates, "noise"))
    wider, _ = store.fit(extra, spec, mass_settings, warm_from=primary.record, predictive=False)
    assert wider.passed, wider.gate.reasons
    labels = wider.record.final.labels
    new = [i for i, x in enumerate(labels) if x in ("covariate_within[noise]", "covariate_between[noise]")]
    assert len(new) == 2
    # started at the median inverse mass of covariate_within / _between; ended at the posterior variance's scale
    post = wider.idata.posterior
    for i, var in zip(new, ("covariate_within", "covariate_between")):
        variance = float(post[var].sel({post[var].dims[-1]: "noise"}).var())
        ratio = wider.record.final.inverse_mass[:, i] / variance
        assert np.all((ratio > 1 / 3) & (ratio < 3)), (var, ratio)
