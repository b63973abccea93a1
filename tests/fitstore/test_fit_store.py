"""The content-addressed fit store: a fit is reused only when its key matches, bit for bit; a compiled program
from JAX's persistent cache gives the same draws as a fresh compile; damaged entries are refitted."""

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import replace

import numpy as np
import pytest

from tipcausal.fit import fit_key, spec_fit_key
from tipcausal.fitstore import FitStore
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.spec import ModelSpec

SPEC = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))
SETTINGS = SamplerSettings(draws=100, tune=100, chains=2, seed=5)


def _same_posterior(a, b):
    assert set(a.posterior.data_vars) == set(b.posterior.data_vars)
    for name in a.posterior.data_vars:
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values, err_msg=name)
    np.testing.assert_array_equal(a.sample_stats["diverging"].values, b.sample_stats["diverging"].values)


@pytest.mark.sampling
def test_a_stored_fit_is_reused_only_for_its_key(small_sim, tmp_path):
    store = FitStore(tmp_path / "models")
    first, reused = store.fit(small_sim.panel, SPEC, SETTINGS)
    assert not reused and store.has(first.record.key) and store.stats.misses == 1
    again, reused = store.fit(small_sim.panel, SPEC, SETTINGS)
    assert reused and store.stats.hits == 1
    _same_posterior(first.idata, again.idata)
    assert again.assessment.effects == first.assessment.effects and again.gate == first.gate
    np.testing.assert_array_equal(again.assessment.loo.pointwise, first.assessment.loo.pointwise)
    assert any("fit store" in n for n in again.record.notes)
    record = json.loads((store.entry(first.record.key) / "record.json").read_text())
    assert record["seed"] == 5 and record["model_hashes"] == [SPEC.hash] and "pymc" in record["versions"]
    # another seed is another key: fitted, not reused
    other, reused = store.fit(small_sim.panel, SPEC, SamplerSettings(draws=100, tune=100, chains=2, seed=6))
    assert not reused and other.record.key != first.record.key
    assert not np.array_equal(other.idata.posterior["slope_mean"].values, first.idata.posterior["slope_mean"].values)
    assert sorted(store.keys()) == sorted([first.record.key, other.record.key])
    assert not [p for p in (tmp_path / "models").rglob(".*")]  # no staging folders left behind


@pytest.mark.sampling
def test_a_damaged_entry_is_refitted_and_refit_replaces(small_sim, tmp_path, caplog):
    store = FitStore(tmp_path / "models")
    first, _ = store.fit(small_sim.panel, SPEC, SETTINGS)
    nc = store.entry(first.record.key) / "fit.nc"
    nc.write_bytes(nc.read_bytes()[:1000])  # truncated, as by a full disk
    again, reused = store.fit(small_sim.panel, SPEC, SETTINGS)
    assert not reused and "damaged" in caplog.text
    _same_posterior(first.idata, again.idata)  # same key, same draws
    refitting = FitStore(tmp_path / "models", refit=True)
    third, reused = refitting.fit(small_sim.panel, SPEC, SETTINGS)
    assert not reused and refitting.stats.misses == 1 and store.has(third.record.key)


@pytest.mark.sampling
def test_imputation_with_nothing_to_impute_shares_the_complete_case_fit(small_sim, tmp_path):
    store = FitStore(tmp_path / "models")
    first, _ = store.fit(small_sim.panel, SPEC, SETTINGS)
    impute = replace(SPEC, missing="impute")
    same, reused = store.fit(small_sim.panel, impute, SETTINGS)
    assert reused and same.record.key == first.record.key and same.spec == impute
    assert same.data.imputed == {"v2x_corr": 0}
    _same_posterior(first.idata, same.idata)
    # one value to impute makes another model: another key
    frame = small_sim.panel.frame.copy()
    frame.loc[frame.index[3], "v2x_corr"] = np.nan
    holed = replace(small_sim.panel, frame=frame, hash="")
    keys = [spec_fit_key(holed, s, bind_data(holed, s), SETTINGS) for s in (SPEC, impute)]
    assert bind_data(holed, impute).miss_row.size == 1 and keys[0] != keys[1]
    assert first.record.key not in keys


SCRIPT = textwrap.dedent("""
    import sys, numpy as np
    from tipcausal.inference.sampling import configure_jax, SamplerSettings
    configure_jax(2)
    from tipcausal.simulation.structural import SimulationConfig, simulate_panel
    from tipcausal.fit import fit_specification
    from tipcausal.models.spec import ModelSpec
    panel = simulate_panel(7, SimulationConfig(n_countries=40)).panel
    spec = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))
    fit = fit_specification(panel, spec, SamplerSettings(draws=100, tune=100, chains=2, seed=5))
    np.savez(sys.argv[1], **{k: fit.idata.posterior[k].values for k in fit.idata.posterior.data_vars})
    from tipcausal.inference import executables
    print("executables", executables.stats().hits, executables.stats().misses)
""")


@pytest.mark.sampling
def test_fresh_compile_executable_store_and_fit_store_give_the_same_draws(small_sim, tmp_path):
    cache = tmp_path / "jax-cache"
    env = {**os.environ, "TIPCAUSAL_JAX_CACHE": str(cache), "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT)
    counts = {}
    for name in ("fresh", "cached"):
        done = subprocess.run([sys.executable, str(script), str(tmp_path / f"{name}.npz")], env=env, check=True,
                              timeout=600, capture_output=True, text=True)
        counts[name] = [int(v) for v in done.stdout.split("executables")[-1].split()]
        if name == "fresh":
            entries = set((cache / "executables").iterdir())
            assert entries, "the first process kept no compiled program"
    assert counts == {"fresh": [0, 2], "cached": [2, 0]}, counts  # (hits, misses): init and advance
    assert set((cache / "executables").iterdir()) == entries, "the second process compiled programs again"
    fresh, cached = np.load(tmp_path / "fresh.npz"), np.load(tmp_path / "cached.npz")
    store = FitStore(tmp_path / "models")
    stored, _ = store.fit(small_sim.panel, SPEC, SETTINGS)
    loaded, reused = store.fit(small_sim.panel, SPEC, SETTINGS)
    assert reused and stored.record.key == fit_key(small_sim.panel.hash, (SPEC.hash,), SETTINGS)
    for name in fresh.files:
        np.testing.assert_array_equal(fresh[name], cached[name], err_msg=name)
        np.testing.assert_array_equal(fresh[name], loaded.idata.posterior[name].values, err_msg=name)
