"""Inference across a sweep's specifications: which choices move the estimate, joint tests of the curve, stacking.

Each function takes ONE outcome's rows of the sweep table (``tipcausal.sweeps.table``); only ``status == "ok"``
rows (those that passed the diagnostics gate) enter the statistics.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
import xarray as xr
from arviz.stats.stats_utils import ELPDData
from scipy import stats
from statsmodels.stats.anova import anova_lm

#: Columns of :func:`decision_importance`'s frame.
IMPORTANCE_COLUMNS = ("choice", "df", "sum_sq", "share", "method")

ANOVA_METHOD = "type-II ANOVA of the additive model"
P_CLIP = 1e-4
SIGNIFICANT = 0.95


def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows that passed the diagnostics gate (the only ones that enter inference)."""
    return frame[frame["status"] == "ok"]


def single_outcome(frame: pd.DataFrame) -> str | None:
    """The one outcome of ``frame`` (None when it has no rows); a ValueError when it holds several."""
    outcomes = list(pd.unique(frame["outcome"]))
    if len(outcomes) > 1:
        raise ValueError(f"expected the rows of one outcome, got {outcomes}: "
                         "select one with frame[frame.outcome == ...]")
    return str(outcomes[0]) if outcomes else None


def varying_choices(frame: pd.DataFrame, choices: Sequence[str]) -> list[str]:
    """The choices with more than one value among ``frame``'s rows, in the order given."""
    return [c for c in choices if c in frame and frame[c].nunique(dropna=False) > 1]


# --------------------------------------------------------------------------------------------------------------
# Decision importance


def decision_importance(frame: pd.DataFrame, choices: Sequence[str], metric: str = "pge_median") -> pd.DataFrame:
    """How much of the variance of one outcome's specification curve (``metric`` across the ok specifications)
    each choice explains.

    Rows: one per choice with more than one value among the ok rows (``df``, ``sum_sq``, ``share`` = sum_sq over
    the total sum of squares of the metric), sorted by share, largest first, then a ``residual`` row. Shares come
    from a type-II ANOVA of the additive OLS model ``metric ~ C(choice_1) + C(choice_2) + ...`` (they need not sum
    to 1 when the design is unbalanced). When that model leaves no residual degrees of freedom or its design is
    singular (choices confounded with one another, as in one-at-a-time sweeps), each choice's share is its own
    one-way eta-squared instead (these overlap; the residual share is then NaN); ``method`` says which.
    Empty (with the columns) when fewer than 2 ok rows carry the metric, no choice varies or the metric is constant.
    """
    single_outcome(frame)
    rows = ok_rows(frame)
    rows = rows[np.isfinite(rows[metric].to_numpy(dtype=float))]
    varying = varying_choices(rows, choices)
    empty = pd.DataFrame(columns=list(IMPORTANCE_COLUMNS))
    if len(rows) < 2 or not varying:
        return empty
    y = rows[metric].to_numpy(dtype=float)
    total = float(np.sum((y - y.mean()) ** 2))
    if total <= 0:
        return empty
    data = pd.DataFrame({f"c{i}": rows[c].astype(str).to_numpy() for i, c in enumerate(varying)})
    data["y"] = y
    with warnings.catch_warnings():  # a singular design is detected below and handled
        warnings.simplefilter("ignore")
        fit = smf.ols("y ~ " + " + ".join(f"C(c{i})" for i in range(len(varying))), data).fit()
    exog = fit.model.exog
    singular = np.linalg.matrix_rank(exog) < exog.shape[1]
    if fit.df_resid >= 1 and not singular:
        table = anova_lm(fit, typ=2)
        out = [{"choice": c, "df": float(table.loc[f"C(c{i})", "df"]), "sum_sq": float(table.loc[f"C(c{i})", "sum_sq"]),
                "method": ANOVA_METHOD} for i, c in enumerate(varying)]
        residual = {"choice": "residual", "df": float(fit.df_resid), "sum_sq": float(fit.ssr), "method": ANOVA_METHOD}
    else:
        why = "singular design" if singular else "no residual degrees of freedom"
        method = f"one-way eta-squared ({why} in the additive model)"
        out = []
        for i, c in enumerate(varying):
            one = smf.ols(f"y ~ C(c{i})", data).fit()
            out.append({"choice": c, "df": float(one.df_model), "sum_sq": float(one.ess), "method": method})
        residual = {"choice": "residual", "df": float(max(fit.df_resid, 0.0)), "sum_sq": np.nan, "method": method}
    for r in [*out, residual]:
        r["share"] = r["sum_sq"] / total
    out.sort(key=lambda r: -r["share"])
    return pd.DataFrame([*out, residual], columns=list(IMPORTANCE_COLUMNS)).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------------------
# Joint summary of the curve


def _curve_statistics(rows: pd.DataFrame, family: str) -> dict[str, Any]:
    """Median effect, shares significant each way and Stouffer's Z of the ok rows that carry the family."""
    med = rows[f"{family}_median"].to_numpy(dtype=float)
    keep = np.isfinite(med)
    med = med[keep]
    p = rows[f"{family}_p_positive"].to_numpy(dtype=float)[keep]
    k = med.size
    if k == 0:
        return {"n_specs": 0, "median_effect": None, "share_positive": None, "share_negative": None,
                "stouffer_z": None}
    p_clip = np.clip(np.where(np.isfinite(p), p, 0.5), P_CLIP, 1 - P_CLIP)
    # Stouffer's Z of the one-sided "effect <= 0" p-values 1 - P(effect > 0): sum Phi^-1(P(effect > 0)) / sqrt(K)
    z = float(stats.combine_pvalues(1 - p_clip, method="stouffer").statistic)
    return {"n_specs": int(k), "median_effect": float(np.median(med)),
            "share_positive": float(np.mean(p > SIGNIFICANT)), "share_negative": float(np.mean(p < 1 - SIGNIFICANT)),
            "stouffer_z": z}


def _null_p(observed: float, null: np.ndarray, positive: bool) -> float:
    """(1 + #null values at least as extreme as observed) / (1 + reps), in the observed direction."""
    extreme = null >= observed if positive else null <= observed
    return float((1 + np.sum(extreme)) / (1 + null.size))


def joint_summary(frame: pd.DataFrame, family: str = "pge", null: pd.DataFrame | None = None) -> dict[str, Any]:
    """Joint statistics of one outcome's specification curve for an effect family (``"pge"`` or ``"es"``).

    ``n_specs``: ok specifications with an estimate in the family (``n_no_estimate``: ok ones without, such as
    binary specifications for ``es``); ``n_failed``: rows not ok; ``median_effect``: median over specifications of
    ``{family}_median``; ``share_positive`` / ``share_negative``: share with P(effect > 0) > 0.95 / < 0.05;
    ``stouffer_z``: sum of Phi^-1(P(effect > 0), clipped to [1e-4, 1 - 1e-4]) over sqrt(K). The specifications
    share their data, so they are strongly dependent: Z is not standard normal under no effect and is calibrated
    only against the null refits.

    ``null``: the same columns plus an integer ``null_rep``, refits of the sweep on data with the effect removed
    (Simonsohn, Simmons & Nelson 2020; R's specr). Then ``null_reps`` (reps with at least one ok estimate) and
    ``p_median``, ``p_share``, ``p_stouffer`` = (1 + #reps with a statistic at least as extreme as observed) /
    (1 + reps), extremeness in the direction of the observed median's sign (a median of 0 counts as positive):
    larger median / share with P(effect > 0) > 0.95 / Z when positive, smaller median / larger share with
    P(effect > 0) < 0.05 / smaller Z when negative. Without a null the p-values are None and ``note`` says so.
    Statistics that need at least one ok specification are None without one.
    """
    outcome = single_outcome(frame)
    rows = ok_rows(frame)
    observed = _curve_statistics(rows, family)
    summary: dict[str, Any] = {
        "outcome": outcome, "family": family, **observed,
        "n_no_estimate": int(len(rows) - observed["n_specs"]),
        "n_failed": int((frame["status"] != "ok").sum()),
        "null_reps": 0, "p_median": None, "p_share": None, "p_stouffer": None, "direction": None,
        "note": "the null distribution was not computed (no refits on data with the effect removed)",
    }
    if null is None:
        return summary
    if outcome is not None and "outcome" in null:
        null = null[null["outcome"] == outcome]
    reps = [_curve_statistics(ok_rows(g), family) for _, g in null.groupby("null_rep", sort=True)]
    reps = [r for r in reps if r["n_specs"] > 0]
    summary["null_reps"] = len(reps)
    if not reps or observed["n_specs"] == 0:
        summary["note"] = ("the null was given but has no ok refits" if not reps
                           else "no ok specification to compare with the null")
        return summary
    positive = observed["median_effect"] >= 0
    direction = "positive" if positive else "negative"
    share = "share_positive" if positive else "share_negative"
    summary.update(
        direction=direction,
        p_median=_null_p(observed["median_effect"], np.array([r["median_effect"] for r in reps]), positive),
        p_share=_null_p(observed[share], np.array([r[share] for r in reps]), True),
        p_stouffer=_null_p(observed["stouffer_z"], np.array([r["stouffer_z"] for r in reps]), positive),
        note=f"p-values against {len(reps)} refits on data with the effect removed, in the {direction} direction",
    )
    return summary


# --------------------------------------------------------------------------------------------------------------
# Stacking


def _elpd_data(loo_i: np.ndarray) -> ELPDData:
    """An ArviZ ELPDData (log scale) from a pointwise PSIS-LOO elpd array, as ``arviz.loo(pointwise=True)``
    returns it; p_loo, the draw count and Pareto k are not known here and are NaN."""
    n = loo_i.size
    return ELPDData(
        data=[float(loo_i.sum()), float(np.sqrt(n * np.var(loo_i))), np.nan, np.nan, n, False,
              xr.DataArray(loo_i, dims=["obs"], name="loo_i"), xr.DataArray(np.full(n, np.nan), dims=["obs"]),
              "log", 0.7],
        index=["elpd_loo", "se", "p_loo", "n_samples", "n_data_points", "warning", "loo_i", "pareto_k", "scale",
               "good_k"])


def stacking_weights(pointwise: Mapping[str, tuple[pd.DataFrame, np.ndarray]],
                     effects: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """Stacking weights (Yao, Vehtari, Simpson & Gelman 2018) of one outcome's comparable specifications, and the
    stacked effect.

    ``pointwise``: spec_id -> (its observations as a frame with ``country`` and ``year``, in the model's order;
    its pointwise PSIS-LOO elpd, one value per observation). ``effects``: spec_id -> (posterior mean of the effect,
    P(effect > 0)). Stacking compares predictive densities of the same data, so only specifications on the same
    country-years are stacked: the largest group of specifications sharing one set of country-years (ties: the
    group holding the first spec_id given); the others are listed in ``excluded`` with the reason. Weights come
    from ``arviz.compare(method="stacking")`` and sum to 1; one comparable specification gets weight 1.

    Returns ``weights`` (spec_id -> w), ``excluded`` (spec_id -> reason), ``n_rows`` (country-years stacked),
    ``stacked_mean`` (sum of w * mean: the mean of the stacked mixture) and ``stacked_p_positive`` (sum of
    w * P(effect > 0): exactly the mixture's P(effect > 0)); the last two are None without weights.
    """
    excluded: dict[str, str] = {}
    aligned: dict[str, tuple[tuple[tuple[str, int], ...], np.ndarray]] = {}
    for spec_id, (rows, values) in pointwise.items():
        values = np.asarray(values, dtype=float).reshape(-1)
        if spec_id not in effects:
            excluded[spec_id] = "no effect summary"
            continue
        if len(rows) != values.size:
            excluded[spec_id] = f"{values.size} pointwise values for {len(rows)} country-years"
            continue
        if not np.all(np.isfinite(values)):
            excluded[spec_id] = "non-finite pointwise elpd"
            continue
        keys = list(zip(rows["country"].astype(str), rows["year"].astype(int)))
        if len(set(keys)) != len(keys):
            excluded[spec_id] = "repeated country-years"
            continue
        order = sorted(range(len(keys)), key=keys.__getitem__)
        aligned[spec_id] = (tuple(keys[i] for i in order), values[order])
    groups: dict[tuple[tuple[str, int], ...], list[str]] = {}
    for spec_id, (keys, _) in aligned.items():
        groups.setdefault(keys, []).append(spec_id)
    result: dict[str, Any] = {"weights": {}, "excluded": excluded, "n_rows": 0, "stacked_mean": None,
                              "stacked_p_positive": None}
    if not groups:
        return result
    # dicts keep insertion order, so on ties max() keeps the group met first, the one holding the first spec_id
    keys, members = max(groups.items(), key=lambda kv: len(kv[1]))
    for other_keys, other in groups.items():
        if other_keys != keys:
            for spec_id in other:
                excluded[spec_id] = (f"other country-years ({len(other_keys)} rows; the stacked specifications "
                                     f"use {len(keys)})")
    if len(members) == 1:
        weights = {members[0]: 1.0}
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = az.compare({s: _elpd_data(aligned[s][1]) for s in members}, method="stacking")
        w = np.clip(np.array([float(table.loc[s, "weight"]) for s in members]), 0.0, None)
        w = w / w.sum()
        weights = dict(zip(members, (float(x) for x in w)))
    result.update(
        weights=weights, n_rows=len(keys),
        stacked_mean=float(sum(w * float(effects[s][0]) for s, w in weights.items())),
        stacked_p_positive=float(sum(w * float(effects[s][1]) for s, w in weights.items())))
    return result
