"""The joint 3-P model: one hierarchical ordinal model of several outcomes whose country intercepts and
country slopes are correlated across outcomes (LKJ prior), so that evidence on one P informs the others.

Per outcome the model is the single-outcome model (``pymc_builder``) with partial pooling and country
slopes; what changes is that the 2P country effects (P intercept deviations, P slope deviations) are
drawn jointly from a multivariate normal with an LKJ-distributed correlation matrix. Variables carry an
``outcome`` dim; ``outcome_view`` slices a fit into the single-outcome layout, so effects, the predictive
check and LOO read it exactly as they read a single-outcome fit.

=====================  ===================  ====================================================
name                   dims                 meaning
=====================  ===================  ====================================================
cutpoints              outcome, cutpoint    ordered thresholds per outcome
region_effect          outcome, region      region means of intercepts (zero-sum per outcome)
country_chol           -                    packed LKJ Cholesky factor with auxiliary row scales; its
                                            normalised rows are the correlation's Cholesky factor
z_country_effects      country, effect      non-centred country effects
country_sd, slope_sd   outcome              SDs of country intercepts and slopes
country_corr           pair                 correlation of each pair of country effects
intercept, slope       outcome, country     deterministic country intercepts and slopes
score_<outcome>        obs                  observed category of each outcome
=====================  ===================  ====================================================
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from tipcausal.data.panel import Panel
from tipcausal.core.errors import InputError
from tipcausal.models.binding import ModelData, bind_data
from tipcausal.models import components
from tipcausal.models.predictor import linear_predictor
from tipcausal.models.spec import ModelSpec

SCORE_PREFIX = "score_"


def check_joint_specs(specs: list[ModelSpec]) -> None:
    """Refuse specs the joint model does not support (with the reason), before any data is read."""
    if len(specs) < 2:
        raise InputError("the joint model needs at least two outcomes")
    first = specs[0]
    for s in specs:
        if replace(s, outcome=first.outcome) != first:
            raise InputError("the joint model needs the same model options for every outcome")
    if first.family.binary:
        raise InputError("the joint model is ordinal: likelihood must be cumulative_logit or cumulative_probit")
    if first.pooling != "partial" or not first.country_slopes:
        raise InputError("the joint model correlates country intercepts and slopes: it needs pooling = 'partial' "
                         "and country_slopes = true")
    if first.measurement_error is not None or first.missing != "complete_case" or first.lagged_treatment:
        raise InputError("the joint model does not support measurement_error, missing = 'impute' or "
                         "lagged_treatment; fit those per outcome")


def bind_joint(panel: Panel, specs: list[ModelSpec]) -> list[ModelData]:
    """Bind every outcome on the same rows: country-years complete for all outcomes and the shared variables."""
    check_joint_specs(specs)
    outcomes = [s.outcome for s in specs]
    frame = panel.frame
    missing = [o for o in outcomes if o not in frame.columns]
    if missing:
        raise InputError(f"{panel.source}: outcome column(s) {', '.join(missing)} are not in the panel")
    keep = frame[outcomes].notna().all(axis=1)
    shared = replace(panel, frame=frame.loc[keep].reset_index(drop=True))
    datas = [bind_data(shared, s) for s in specs]
    for s, d in zip(specs, datas):
        d.dropped.update({o: int(frame[o].isna().sum()) for o in outcomes})
        if not d.rows[["country", "year"]].equals(datas[0].rows[["country", "year"]]):
            raise InputError(f"{panel.source}: the outcomes do not share their complete cases ({s.outcome})")
    return datas


def effect_labels(outcomes: list[str]) -> list[str]:
    """Names of the 2P correlated country effects: intercepts first, then slopes."""
    return [f"intercept:{o}" for o in outcomes] + [f"slope:{o}" for o in outcomes]


def pair_labels(outcomes: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Labels and (row, column) indices of the upper-triangle pairs of country effects."""
    labels = effect_labels(outcomes)
    rows, cols = np.triu_indices(len(labels), k=1)
    return [f"{labels[i]} ~ {labels[j]}" for i, j in zip(rows, cols)], rows, cols


def build_joint_model(specs: list[ModelSpec], datas: list[ModelData]) -> pm.Model:
    """A ``pm.Model`` of all outcomes with LKJ-correlated country intercepts and slopes."""
    check_joint_specs(specs)
    spec, base = specs[0], datas[0]
    outcomes = [s.outcome for s in specs]
    n_out, n_country = len(outcomes), len(base.coords["country"])
    priors = spec.priors
    pairs, rows, cols = pair_labels(outcomes)
    coords = {**base.coords, "outcome": outcomes, "effect": effect_labels(outcomes), "pair": pairs}
    with pm.Model(coords=coords) as model:
        arrays = components.data_arrays(base)
        cutpoints = components.cutpoints(spec, batch=("outcome",), batch_sizes=(n_out,))
        country_sd = components.prior("country_sd", priors["country_sd"], dims="outcome")
        slope_sd = components.prior("slope_sd", priors["slope_sd"], dims="outcome")
        corr_chol, corr = _lkj_correlation_cholesky(2 * n_out, priors["country_corr_eta"].params["eta"])
        stds = pt.concatenate([country_sd, slope_sd])
        z = pm.Normal("z_country_effects", 0.0, 1.0, dims=("country", "effect"))
        effects = pt.dot(z, (stds[:, None] * corr_chol).T)  # (country, 2P)
        pm.Deterministic("country_corr", corr[rows, cols], dims="pair")
        mean_intercept = pt.zeros((n_out, n_country))
        if spec.region_intercepts:
            region_effect = components.prior("region_effect", priors["region_effect"], dims=("outcome", "region"))
            mean_intercept = region_effect[:, base.region_of_country]
        intercept = pm.Deterministic("intercept", mean_intercept + effects[:, :n_out].T, dims=("outcome", "country"))
        slope_mean = components.prior("slope_mean", priors["slope_mean"], dims="outcome")
        slope = pm.Deterministic("slope", slope_mean[:, None] + effects[:, n_out:].T, dims=("outcome", "country"))
        year_effect = components.year_effects(spec, batch=("outcome",))
        shared: dict[str, Any] = components.between_and_covariates(spec, batch=("outcome",))
        for k, (outcome, data) in enumerate(zip(outcomes, datas)):
            params = {"intercept": intercept[k], "slope": slope[k], **{n: v[k] for n, v in shared.items()}}
            if year_effect is not None:
                params["year_effect"] = year_effect[k]
            spec.family.observe(SCORE_PREFIX + outcome, linear_predictor(params, arrays), cutpoints[k],
                                data.categories)
    return model


def _lkj_correlation_cholesky(n: int, eta: float):
    """The Cholesky factor of an LKJ(eta) correlation matrix, and the matrix.

    ``pm.LKJCholeskyCov`` parameterises the covariance's Cholesky factor directly: the off-diagonal entries of
    row i scale with the i-th SD, so when an SD shrinks they form a funnel that traps chains (observed: two of
    four chains stuck with country SDs near 0, step size 1e-5). Here the LKJ factor's scales are auxiliary
    (LogNormal(0, 0.25), so every row stays near unit length) and its rows are normalised: the correlation
    is exactly LKJ(eta), independent of the SDs, which the model draws on their own (the same prior as
    ``LKJCholeskyCov`` with ``sd_dist``, without the funnel).
    """
    chol, corr, scales = pm.LKJCholeskyCov("country_chol", n=n, eta=eta,
                                           sd_dist=pm.LogNormal.dist(mu=0.0, sigma=0.25, shape=n),
                                           compute_corr=True, store_in_trace=False)
    return chol / scales[:, None], corr


def outcome_view(idata: az.InferenceData, outcome: str) -> az.InferenceData:
    """One outcome's slice of a joint fit, laid out as a single-outcome fit (``score``, no outcome dim)."""
    post = idata.posterior
    keep = [v for v, da in post.data_vars.items() if "outcome" in da.dims]
    view = post[keep].sel(outcome=outcome).drop_vars("outcome")
    view.attrs = dict(post.attrs)
    observed = xr.Dataset({"score": idata.observed_data[SCORE_PREFIX + outcome]})
    groups = {"posterior": view, "observed_data": observed, "constant_data": idata.constant_data}
    if "sample_stats" in idata.groups():
        groups["sample_stats"] = idata.sample_stats
    return az.InferenceData(**groups)


def correlation_summary(idata: az.InferenceData, hdi_prob: float = 0.94) -> list[dict[str, Any]]:
    """Posterior mean, HDI and P(> 0) of every correlation of country effects, cross-outcome pairs first."""
    corr = idata.posterior["country_corr"]
    out = []
    for pair in corr.coords["pair"].values:
        draws = np.asarray(corr.sel(pair=pair).values).reshape(-1)
        lo, hi = az.hdi(draws, hdi_prob=hdi_prob)
        a, b = str(pair).split(" ~ ")
        kind = ("intercepts" if a.startswith("intercept") and b.startswith("intercept") else
                "slopes" if a.startswith("slope") and b.startswith("slope") else "intercept-slope")
        same = a.split(":", 1)[1] == b.split(":", 1)[1]
        out.append({"pair": str(pair), "kind": kind if not same else "within outcome", "mean": float(draws.mean()),
                    "hdi_low": float(lo), "hdi_high": float(hi), "p_positive": float((draws > 0).mean())})
    order = {"intercepts": 0, "slopes": 1, "intercept-slope": 2, "within outcome": 3}
    return sorted(out, key=lambda r: order[r["kind"]])
