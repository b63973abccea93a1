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
# # Sensitivity analysis of the default study, from Python
#
# Three questions a methodologist asks of every estimate, answered on the default study's fits:
#
# 1. **Unobserved confounding**: how strong would a confounder have to be to overturn the effect, overall and
#    country by country? The within/between split absorbs anything constant within a country, so only a
#    *time-varying* confounder can move the within-country effect; a time-invariant one biases the between
#    coefficient instead. Both are analysed apart.
# 2. **Priors**: does the answer lean on a prior? Each prior is power-scaled on its own and the causal quantities
#    are watched.
# 3. **Refutations**: does the pipeline pass placebo and falsification tests that respect the panel?
#
# `tc.run_sensitivity` runs the study (reusing its stored fits) and the analyses, and writes them into
# summary.json (`sensitivity`) and report.html. `TIPCAUSAL_NB_DRAWS` runs everything with fewer draws and refits
# (the test suite does; short runs fail the diagnostics gate, and the report and the tables say so).

# %%
import os
from dataclasses import replace

DRAWS = int(os.environ.get("TIPCAUSAL_NB_DRAWS", "0"))  # 0: the study's own sampler settings and counts

# %%
import tipcausal as tc

study = tc.load_study("default").with_overrides(output_dir="../reports/sensitivity")
if DRAWS:
    s = study.sensitivity
    study = replace(study.with_overrides(draws=DRAWS, tune=DRAWS),
                    sensitivity=replace(s, refute=replace(s.refute, placebo=1, draws=DRAWS,
                                                          tune=DRAWS, leave_region_out=False,
                                                          random_common_cause=False, max_country_refits=0)))
study.sensitivity

# %%
run = tc.run_sensitivity(study, progress=print, show_sampler_progress=False)
sens = run.result.sensitivity
run

# %% [markdown]
# ## 1. Unobserved confounding
#
# One plain-language verdict per outcome, then the tipping points: `k` is how many times as strong as corruption
# (within countries) the confounder must be; the robustness value is the share of residual variance it must
# explain in both consultation and the latent score.

# %%
for outcome, analysis in sens.confounding.items():
    print(analysis.verdict, "\n")

# %%
import pandas as pd

pd.DataFrame({o: {"tipping k (95%)": a.to_dict()["tipping_k"], "tipping k (median)": a.to_dict()["tipping_k_median"],
                  "RV (95%)": a.tipping["expected_score"].rv_certain,
                  "RV (median)": a.tipping["expected_score"].rv_median,
                  "between: tipping k": (a.between or {}).get("tipping_k", {}).get(a.reference)}
              for o, a in sens.confounding.items()}).T

# %%
summary = run.document["sensitivity"]  # summary.json's sensitivity section
run.plot_confounding()

# %% [markdown]
# Per-country tipping points: for each country, the strength at which its effect's median reaches zero, and (for
# countries whose sign is 95% certain without confounding) at which that certainty is lost.

# %%
protection = pd.DataFrame(summary["confounding"]["protection"]["by_country"])
protection.sort_values("tipping_rv_median", ascending=False).head(10)

# %%
run.plot_country_tipping()

# %% [markdown]
# The adjusted effect at any strength, e.g. a confounder explaining 2% of both residual variances:

# %%
{k: round(v.mean, 4) for k, v in run.adjusted_effects("protection", r2_treatment=0.02, r2_outcome=0.02).items()}

# %% [markdown]
# ## 2. Prior sensitivity (power-scaling, one prior partition at a time)

# %%
pd.DataFrame([{"outcome": o, **{k: v for k, v in row.items() if k != "by_quantity"}}
              for o, rows in summary["priors"].items() for row in rows])

# %%
run.plot_prior_sensitivity()

# %% [markdown]
# ## 3. Refutations that respect the panel

# %%
pd.DataFrame([{"outcome": o, "refutation": r["name"], "verdict": r["verdict"], "value": r["value"],
               "refits": r["n_refits"], "failed gate": r["n_failed_gate"]}
              for o, rows in summary["refutations"].items() for r in rows])

# %%
for o, rows in sens.refutations.items():
    for r in rows:
        print(r.sentence)

# %% [markdown]
# Everything above is in `summary.json` under `sensitivity`, and in the report's section 8:

# %%
print(run.report())
