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

from tipcausal.inference.sampling import configure_jax

DRAWS = int(os.environ.get("TIPCAUSAL_NB_DRAWS", "1000"))
for note in configure_jax(4):  # one CPU device per chain, before JAX is imported
    print(note)

# %% [markdown]
# ## 1. Measurement error: plain model against the measurement-error model

# %%
import arviz as az

from tipcausal.inference.diagnostics import check_fit
from tipcausal.checks.measurement_error import simulate_me_panel
from tipcausal.fit import fit_joint, fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec

sim = simulate_me_panel(seed=1000)
print(f"true within slope {sim.true_slope:.3f} per SD; reliability of within variation {sim.reliability:.2f}")
fits = {}
for label, options in {"plain": {}, "measurement error": {"measurement_error": "x_sd"}}.items():
    spec = ModelSpec(outcome="y", treatment="x", covariates=(), country_slopes=False, year_effects="none",
                     region_intercepts=False, **options)
    run = fit_specification(sim.panel, spec, SamplerSettings(draws=DRAWS, tune=DRAWS, chains=4, seed=3))
    fits[label] = run.idata
    gate = check_fit(run.idata)
    print(f"{label:>18}: {gate.verdict.upper()} {'; '.join(gate.reasons)}")
az.summary({k: v.posterior["slope_mean"] for k, v in fits.items()}, hdi_prob=0.9)

# %%
axes = az.plot_forest([fits["plain"], fits["measurement error"]], model_names=list(fits), var_names=["slope_mean"],
                      hdi_prob=0.9, combined=True)
axes[0].axvline(sim.true_slope, color="k", linestyle="--", label="truth")
axes[0].legend();

# %% [markdown]
# ## 2. The joint 3-P model

# %%
from tipcausal.models.joint import correlation_summary, outcome_view
from tipcausal.simulation.structural import SimulationConfig, simulate_panel
from tipcausal.posterior.effects import summarise_effects

panel = simulate_panel(20241122, SimulationConfig(n_countries=60)).panel
specs = [ModelSpec(outcome=p, treatment="v2cscnsult", covariates=("v2x_corr", "v2x_polyarchy", "log_gdp_pc"))
         for p in ("prosecution", "protection", "prevention")]
run = fit_joint(panel, specs, SamplerSettings(draws=DRAWS, tune=DRAWS, chains=4, seed=1))
print(run.gate.verdict.upper(), run.gate.reasons)

# %%
import pandas as pd

pd.DataFrame(correlation_summary(run.idata)).round(2)

# %% [markdown]
# Each P's slice of the joint fit reads like a single-outcome fit, so effects on the score scale
# come from the same code as everywhere else.

# %%
pd.DataFrame({s.outcome: summarise_effects(outcome_view(run.idata, s.outcome)).average["expected_score"].to_dict()
              for s in specs}).T.round(3)
