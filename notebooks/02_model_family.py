# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The model family from Python: measurement error and the joint 3-P model
#
# Two models that go beyond one ordinal regression per P:
#
# 1. **Measurement error in consultation.** V-Dem's `v2cscnsult` is an estimate with a standard
#    error. Treating it as exact attenuates the within-country slope; `measurement_error = ...`
#    makes true consultation latent. Here on a panel where the truth is known.
# 2. **The joint model** of the three Ps, with country intercepts and slopes correlated across
#    Ps (LKJ prior), on the default simulated panel.
#
# Set `TIPCAUSAL_NB_DRAWS` to run with fewer draws (the test suite does; short runs may fail the
# diagnostics gate, which is printed below each fit).

# %%
import os

import arviz as az
import pandas as pd

import tipcausal as tc

DRAWS = int(os.environ.get("TIPCAUSAL_NB_DRAWS", "1000"))
SAMPLER = tc.SamplerSettings(draws=DRAWS, tune=DRAWS, chains=4, seed=3)

# %% [markdown]
# ## 1. Measurement error: plain model against the measurement-error model

# %%
sim = tc.simulate_measurement_error(seed=1000)
print(f"true within slope {sim.true_slope:.3f} per SD; reliability of within variation {sim.reliability:.2f}")
fits = {}
for label, options in {"plain": {}, "measurement error": {"measurement_error": "x_sd"}}.items():
    spec = tc.ModelSpec(outcome="y", treatment="x", covariates=(), country_slopes=False, year_effects="none",
                        region_intercepts=False, **options)
    fits[label] = tc.fit_model(sim.panel, spec, SAMPLER)
    gate = fits[label].gate
    print(f"{label:>18}: {gate.verdict.upper()} {'; '.join(gate.reasons)}")
az.summary({k: f.idata.posterior["slope_mean"] for k, f in fits.items()}, hdi_prob=0.9)

# %%
axes = az.plot_forest([f.idata for f in fits.values()], model_names=list(fits), var_names=["slope_mean"],
                      hdi_prob=0.9, combined=True)
axes[0].axvline(sim.true_slope, color="k", linestyle="--", label="truth")
axes[0].legend();

# %% [markdown]
# Each fit shows its gate and effects when it is the last thing in a cell:

# %%
fits["measurement error"]

# %% [markdown]
# ## 2. The joint 3-P model

# %%
panel = tc.simulate(seed=20241122, n_countries=60).panel
specs = [tc.ModelSpec(outcome=p, treatment="v2cscnsult", covariates=("v2x_corr", "v2x_polyarchy", "log_gdp_pc"))
         for p in ("prosecution", "protection", "prevention")]
joint = tc.fit_joint(panel, specs, tc.SamplerSettings(draws=DRAWS, tune=DRAWS, chains=4, seed=1))
print(joint.gate.verdict.upper(), joint.gate.reasons)

# %%
tc.correlations_table(joint).round(2)

# %% [markdown]
# Each P's slice of the joint fit reads like a single-outcome fit, so effects on the score scale
# come from the same code as everywhere else.

# %%
tc.effects_table(joint).round(3)
