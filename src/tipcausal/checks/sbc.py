"""Simulation-based calibration (Talts et al. 2018) of the hierarchical ordinal model.

Each simulation draws every parameter from the prior, simulates scores from the model on a fixed
design (countries, years, treatment), fits the model to them with the production sampler and records
the rank of the true value among thinned posterior draws, for: the average within slope, the average
effect of +1 SD on the expected score, the cutpoints, the hierarchical SDs, the between effect and the
log-likelihood of the simulated data. For a correct model and sampler the ranks are uniform; a
chi-square test per quantity checks this, and a set-up is flagged when a quantity fails it at p < 0.001
or more than 10% of the fits diverge (SBC's sampler-diagnostic check). ``VARIANTS`` holds deliberately broken set-ups the harness
must flag: centred country effects (a funnel the sampler cannot explore), scores coded off by one, and a
fitting prior that disagrees with the simulating one.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from tipcausal.data.panel import Panel, PanelSchema
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.build import build_model
from tipcausal.models.likelihoods import category_probs, expected_score
from tipcausal.models.predictor import PARAMETER_NAMES, from_idata, linear_predictor
from tipcausal.models.spec import ModelSpec, Prior

NARROW_SLOPE_PRIOR = {"slope_sd": Prior("HalfNormal", {"sigma": 0.1})}
QUANTITIES = ("slope_mean", "effect_expected_score", "between_effect", "country_sd", "slope_sd", "cutpoint_0",
              "cutpoint_1", "cutpoint_2", "cutpoint_3", "log_likelihood")


@dataclass(frozen=True)
class SBCDesign:
    """The fixed design every simulation shares, and how each fit samples."""

    n_countries: int = 30
    n_years: int = 8
    draws: int = 250
    tune: int = 300
    chains: int = 2
    thin: int = 5            # ranks among draws * chains / thin posterior draws
    variant: str = "correct"


def design_panel(design: SBCDesign, seed: int = 0) -> Panel:
    """Countries, years, regions and a treatment with country means and within-country variation."""
    rng = np.random.default_rng(seed)
    c = np.repeat(np.arange(design.n_countries), design.n_years)
    x = rng.normal(0, 1, design.n_countries)[c] + rng.normal(0, 0.5, c.size)
    frame = pd.DataFrame({"country": [f"C{i:03d}" for i in c],
                          "year": np.tile(np.arange(2000, 2000 + design.n_years), design.n_countries),
                          "region": "all", "x": x, "y": 3})
    return Panel(frame=frame, schema=PanelSchema(outcomes=("y",), numeric=("x",)), kind="simulated",
                 source="SBC design")


def sbc_spec() -> ModelSpec:
    """The hierarchical ordinal model under calibration (country intercepts and slopes, between effect)."""
    return ModelSpec(outcome="y", treatment="x", covariates=(), year_effects="none", region_intercepts=False)


def fit_spec(variant: str) -> ModelSpec:
    """The spec a variant fits: the model as shipped, centred country effects, or a narrow slope-SD prior."""
    spec = sbc_spec()
    if variant == "centred":
        return replace(spec, parameterisation="centred")
    if variant == "narrow_slope_prior":
        return spec.with_priors(NARROW_SLOPE_PRIOR)
    return spec


def _truth_quantities(prior: Any, data: Any, rng: np.random.Generator) -> tuple[dict[str, float], np.ndarray]:
    """True quantities of one prior draw and categories simulated from it.

    Forward sampling ignores the ordered transform, so the prior draw of the cutpoints is sorted here: the
    ordered-Normal prior the sampler sees is exactly the law of sorted i.i.d. Normal draws. The scores are
    then simulated from the sorted cutpoints (not taken from PyMC's prior predictive).
    """
    p = {k: np.asarray(prior.prior[k].values)[0, 0] for k in prior.prior.data_vars}
    p["cutpoints"] = np.sort(p["cutpoints"])
    params = {k: p[k] for k in PARAMETER_NAMES if k in p}
    eta = linear_predictor(params, data.arrays())
    probs = category_probs(eta, p["cutpoints"])
    y = (rng.random(eta.shape)[:, None] > probs.cumsum(axis=-1)[:, :-1]).sum(axis=-1).astype(np.int64)
    truth = {"slope_mean": float(p["slope_mean"]), "between_effect": float(p["between_effect"]),
             "country_sd": float(p["country_sd"]), "slope_sd": float(p["slope_sd"])}
    for k in range(4):
        truth[f"cutpoint_{k}"] = float(p["cutpoints"][k])
    eta1 = linear_predictor(params, data.arrays(), shift=1.0)
    truth["effect_expected_score"] = float((expected_score(eta1, p["cutpoints"]) -
                                            expected_score(eta, p["cutpoints"])).mean())
    truth["log_likelihood"] = float(np.log(category_probs(eta, p["cutpoints"])[np.arange(y.size), y]).sum())
    return truth, y


def _posterior_quantities(idata: Any, y: np.ndarray, thin: int) -> dict[str, np.ndarray]:
    post = idata.posterior
    pick = np.arange(0, post.sizes["chain"] * post.sizes["draw"], thin)
    params, cut, arrays = from_idata(idata, draws=pick)
    eta = linear_predictor(params, arrays)
    eta1 = linear_predictor(params, arrays, shift=1.0)
    scalar = {k: np.asarray(post[k].values).reshape(-1)[pick] for k in ("slope_mean", "country_sd", "slope_sd")}
    out = {**scalar, "between_effect": params["between_effect"],
           "effect_expected_score": (expected_score(eta1, cut) - expected_score(eta, cut)).mean(axis=-1),
           "log_likelihood": np.log(category_probs(eta, cut)[:, np.arange(y.size), y]).sum(axis=-1)}
    for k in range(4):
        out[f"cutpoint_{k}"] = cut[:, k]
    return out


def one_simulation(i: int, seed: int, design: SBCDesign, panel: Panel) -> dict[str, Any]:
    """Ranks of the true quantities for simulation ``i`` (plus its divergences)."""
    logging.getLogger("pymc").setLevel(logging.WARNING)
    spec = sbc_spec()
    data = bind_data(panel, spec)
    with build_model(spec, data):
        prior = pm.sample_prior_predictive(draws=1, random_seed=seed * 100_003 + i)
    truth, y = _truth_quantities(prior, data, np.random.default_rng(seed * 100_003 + i))
    fit_y = np.clip(y + 1, 0, 4) if design.variant == "off_by_one" else y
    frame = panel.frame.copy()
    frame["y"] = fit_y + 1  # back to the 1-5 score scale; bind_data recodes again
    fit_panel = replace(panel, frame=frame, hash="")
    settings = SamplerSettings(backend="numpyro", draws=design.draws, tune=design.tune, chains=design.chains,
                               target_accept=0.9, seed=seed + i)
    fit = fit_specification(fit_panel, fit_spec(design.variant), settings)
    post = _posterior_quantities(fit.idata, y, design.thin)
    ranks = {q: int((post[q] < truth[q]).sum()) for q in QUANTITIES}
    divergences = int(fit.idata.sample_stats["diverging"].values.sum())
    return {"sim": i, "ranks": ranks, "truth": truth, "divergences": divergences, "n_ranks": len(post["slope_mean"])}


def uniformity(ranks: np.ndarray, n_ranks: int, bins: int = 10) -> float:
    """Chi-square p-value of rank uniformity over ``bins`` equal bins of 0..n_ranks."""
    counts = np.histogram(ranks, bins=bins, range=(-0.5, n_ranks + 0.5))[0]
    return float(stats.chisquare(counts).pvalue)


def run_sbc(n_sims: int, seed: int, design: SBCDesign = SBCDesign(),
            progress: Callable[[int, dict], None] | None = None, sims_per_process: int = 25) -> dict[str, Any]:
    """Run ``n_sims`` simulations and test each quantity's rank histogram for uniformity.

    Simulations run in a child process that is replaced every ``sims_per_process`` fits: every fit JIT-
    compiles a new XLA program, and one process runs out of memory mappings after about a hundred.
    """
    panel = design_panel(design)
    sims: list[dict[str, Any]] = []
    context = multiprocessing.get_context("spawn")
    for start in range(0, n_sims, sims_per_process):  # a fresh process per chunk (max_tasks_per_child hangs on 3.11)
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            futures = [pool.submit(one_simulation, i, seed, design, panel)
                       for i in range(start, min(start + sims_per_process, n_sims))]
            for future in futures:
                sims.append(future.result())
                if progress:
                    progress(len(sims), sims[-1])
    n_ranks = sims[0]["n_ranks"]
    bins = max(4, min(20, n_sims // 10))
    pvalues = {q: uniformity(np.array([s["ranks"][q] for s in sims]), n_ranks, bins) for q in QUANTITIES}
    n_fail = sum(p < 0.001 for p in pvalues.values())
    divergent_fits = sum(s["divergences"] > 0 for s in sims)
    reasons = ([f"{n_fail} quantity(ies) with non-uniform ranks (p < 0.001)"] if n_fail else []) + (
        [f"{divergent_fits} of {n_sims} fits diverged"] if divergent_fits > 0.1 * n_sims else [])
    return {"flagged": bool(reasons), "flag_reasons": reasons, "n_sims": n_sims, "seed": seed, "design": design.__dict__, "n_ranks": n_ranks, "bins": bins,
            "pvalues": pvalues, "n_fail_0_05": sum(p < 0.05 for p in pvalues.values()),
            "n_fail_0_001": sum(p < 0.001 for p in pvalues.values()),
            "divergences": sum(s["divergences"] for s in sims),
            "divergent_fits": divergent_fits,
            "ranks": {q: [s["ranks"][q] for s in sims] for q in QUANTITIES}}


VARIANTS = {"correct": "the model as shipped (non-centred country effects)",
            "centred": "centred country intercepts and slopes (parameterisation = 'centred': a funnel when the SDs are "
                       "small)",
            "off_by_one": "scores coded one category too high when fitting (simulated y, fitted min(y + 1, 5))",
            "narrow_slope_prior": "fitted with slope_sd ~ HalfNormal(0.1) while simulated from HalfNormal(0.5) "
                                  "(a prior that disagrees with the simulator)"}
