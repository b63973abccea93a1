"""Prior sensitivity of the causal quantities by power-scaling, one prior partition at a time.

Power-scaling (Kallioinen et al. 2023) reweights the posterior draws as if one prior, or the likelihood, were
raised to a power alpha near 1 (0.99 and 1.01), by Pareto-smoothed importance sampling, and measures how far
each quantity's distribution moves (cumulative Jensen-Shannon distance, CJS, per unit log alpha). The
computation is arviz-stats' ``psense`` / ``psense_summary`` (ArviZ 0.23's ``az.psens`` ignores its coords);
this module chooses what to scale and what to measure:

- each prior **partition** separately (cutpoints, slope mean and SD, country and year SDs, region effects,
  between and covariate coefficients, measurement-error SDs), because scaling every prior of a hierarchical
  model at once raises false alarms; group-level standardised terms (``z_*``, country levels, latent
  treatment) are not partitions;
- the **causal quantities**: the within slope's mean, the between coefficient, the average effects on the
  outcome scale and every country's slope (reported as the largest over countries, with its country).

The log prior of each partition comes from ``pm.compute_log_prior`` on the model rebuilt from the fit's spec
and data (no sampling); the log likelihood of the scores is recomputed from the posterior
(``posterior.loo.pointwise_log_likelihood``). Neither is stored with the fit: both are cheap to recompute
and the log likelihood is the largest array a fit would hold. Labels follow priorsense: CJS >= 0.05 under both
prior and likelihood scaling is "prior-data conflict"; prior >= 0.05 with likelihood < 0.05 is "strong prior
/ weak likelihood". A Pareto k above 0.7 at either scaling marks the partition's numbers as unreliable.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from tipcausal.fit import SpecFit
from tipcausal.models.build import build_model
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.posterior.effects import effect_draws
from tipcausal.posterior.loo import pointwise_log_likelihood

THRESHOLD = 0.05
ALPHAS = (0.99, 1.01)
K_MAX = 0.7
#: Prior partitions and the model variables whose prior density each holds (the first present is used).
PARTITIONS: dict[str, tuple[str, ...]] = {
    "cutpoints": ("cutpoints", "cutpoints_rel"),
    "slope_mean": ("slope_mean",),
    "slope_sd": ("slope_sd",),
    "country_sd": ("country_sd",),
    "year_sd": ("year_sd",),
    "region_effect": ("region_effect",),
    "between_effect": ("between_effect",),
    "covariate_within": ("covariate_within",),
    "covariate_between": ("covariate_between",),
    "treatment_between_sd": ("treatment_between_sd",),
    "treatment_within_sd": ("treatment_within_sd",),
}
DIAGNOSES = {"potential prior-data conflict": "prior-data conflict",
             "potential strong prior / weak likelihood": "strong prior / weak likelihood", "✓": "-"}
#: The prior parameter that sets each family's scale, and whether a larger value widens it.
SCALE_PARAMS = {"Normal": ("sigma", True), "HalfNormal": ("sigma", True), "StudentT": ("sigma", True),
                "HalfStudentT": ("sigma", True), "ZeroSumNormal": ("sigma", True), "Exponential": ("lam", False),
                "LKJ": ("eta", False)}


def log_prior(fit: SpecFit) -> xr.Dataset:
    """The log prior density of every free variable at every draw (no Jacobian), as (chain, draw, ...)."""
    import pymc as pm

    model = build_model(fit.spec, fit.data)
    for rv in list(model.rvs_to_initial_values):  # initial values only steer the sampler; the graph copy needs none
        model.rvs_to_initial_values[rv] = None
    return pm.compute_log_prior(fit.idata, model=model, extend_inferencedata=False, progressbar=False)


@contextlib.contextmanager
def _psense_log_quiet() -> Iterator[None]:
    """Silence arviz-stats' log line pointing at its documentation (the labels are reported instead)."""
    logger = logging.getLogger("arviz_stats.psense")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def partitions_of(spec: ModelSpec, available: set[str]) -> dict[str, str]:
    """The prior partitions of ``spec`` whose variable is among ``available``: {partition: variable}."""
    out = {}
    for name in spec.active_priors():
        for var in PARTITIONS.get(name, ()):
            if var in available:
                out[name] = var
                break
    return out


def _sensitivity_data(fit: SpecFit, lp: xr.Dataset) -> tuple[az.InferenceData, list[str]]:
    post = fit.idata.posterior
    draws = effect_draws(fit.idata)
    quantities = [q for q in ("slope_mean", "between_effect") if q in post]
    ds = post[quantities + (["slope"] if "slope_sd" in post else [])].copy()
    for name in draws.data_vars:
        if not str(name).startswith("country_"):
            ds[f"effect_{name}"] = draws[name]
            quantities.append(f"effect_{name}")
    if "slope_sd" in post:
        quantities.append("slope")
    ll = pointwise_log_likelihood(fit.idata)
    loglik = xr.Dataset({"score": (("chain", "draw", "obs"), ll)},
                        coords={"chain": post.coords["chain"], "draw": post.coords["draw"]})
    return az.InferenceData(posterior=ds, log_prior=lp, log_likelihood=loglik), quantities


def pareto_k(log_density: np.ndarray) -> float:
    """The larger Pareto k of the importance weights for power-scaling ``log_density`` by 0.99 and 1.01."""
    flat = np.asarray(log_density).reshape(-1)
    ks = []
    for alpha in ALPHAS:
        _, k = az.psislw((alpha - 1.0) * flat)
        ks.append(float(k))
    return max(ks)


@dataclass(frozen=True)
class PartitionSensitivity:
    """One prior partition's power-scaling result on the causal quantities."""

    partition: str
    variable: str
    prior: str
    by_quantity: Mapping[str, Mapping[str, Any]]  # quantity -> {prior_cjs, likelihood_cjs, diagnosis}
    pareto_k: float

    @property
    def worst(self) -> tuple[str, Mapping[str, Any]]:
        """The population-level quantity most sensitive to this prior."""
        items = [kv for kv in self.by_quantity.items() if kv[0] != "country_slopes"]
        return max(items, key=lambda kv: kv[1]["prior_cjs"])

    @property
    def diagnosis(self) -> str:
        """The worst label over the population-level quantities ('-' when none is flagged). Country slopes are
        left out: the slope SD's prior shrinks them by design, and the largest of many countries' CJS is
        reported beside it (``country_slopes``) rather than judged."""
        labels = [q["diagnosis"] for name, q in self.by_quantity.items() if name != "country_slopes"]
        for label in ("prior-data conflict", "strong prior / weak likelihood"):
            if label in labels:
                return label
        return "-"

    @property
    def flagged(self) -> bool:
        """True when some causal quantity is sensitive to this prior (and the weights are reliable)."""
        return self.diagnosis != "-"

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form (one row of ``sensitivity.priors.<P>``)."""
        quantity, worst = self.worst
        return {"partition": self.partition, "variable": self.variable, "prior": self.prior,
                "prior_cjs": worst["prior_cjs"], "likelihood_cjs": worst["likelihood_cjs"],
                "diagnosis": self.diagnosis, "most_sensitive": quantity, "pareto_k": self.pareto_k,
                "reliable": self.pareto_k <= K_MAX, "by_quantity": {k: dict(v) for k, v in self.by_quantity.items()}}


def _rows(table: Any, quantities: list[str]) -> dict[str, dict[str, Any]]:
    """psense_summary's table folded to one row per quantity (country slopes: the largest, with its country)."""
    out: dict[str, dict[str, Any]] = {}
    for label, row in table.iterrows():
        label = str(label)
        base = label.split("[")[0]
        if base not in quantities:
            continue
        entry = {"prior_cjs": float(row["prior"]), "likelihood_cjs": float(row["likelihood"]),
                 "diagnosis": DIAGNOSES.get(str(row["diagnosis"]), str(row["diagnosis"]))}
        if "[" in label:
            entry["country"] = label.split("[", 1)[1].rstrip("]")
            key = "country_slopes"
            flagged = (out.get(key, {}).get("n_flagged", 0)) + (entry["prior_cjs"] >= THRESHOLD)
            if key not in out or out[key]["prior_cjs"] < entry["prior_cjs"]:
                out[key] = entry
            out[key]["n_flagged"] = int(flagged)
        else:
            out[base] = entry
    return out


def prior_sensitivity(fit: SpecFit, partitions: tuple[str, ...] | None = None) -> tuple[PartitionSensitivity, ...]:
    """Power-scaling sensitivity of ``fit``'s causal quantities to each of its prior partitions (default all)."""
    from arviz_stats import psense_summary

    lp = log_prior(fit)
    found = partitions_of(fit.spec, set(lp.data_vars))
    chosen = {p: v for p, v in found.items() if partitions is None or p in partitions}
    data, quantities = _sensitivity_data(fit, lp)
    out = []
    for part, var in chosen.items():
        with _psense_log_quiet():
            table = psense_summary(data, var_names=quantities, prior_var_names=[var], round_to=6)
        lp_part = np.asarray(lp[var].values)
        lp_part = lp_part.reshape(lp_part.shape[0], lp_part.shape[1], -1).sum(axis=-1)
        out.append(PartitionSensitivity(partition=part, variable=var, prior=fit.spec.priors[part].describe(),
                                        by_quantity=_rows(table, quantities), pareto_k=pareto_k(lp_part)))
    return tuple(out)


def scaled_prior(prior: Prior, factor: float) -> Prior:
    """``prior`` with its scale multiplied by ``factor`` (> 1 widens, < 1 narrows)."""
    param, larger_widens = SCALE_PARAMS.get(prior.dist, ("sigma", True))
    if param not in prior.params:
        raise ValueError(f"prior {prior.describe()} has no scale parameter {param!r} to widen or narrow")
    value = prior.params[param] * (factor if larger_widens else 1.0 / factor)
    return Prior(prior.dist, {**prior.params, param: value})
