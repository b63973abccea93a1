"""The sweep page: a self-contained HTML page of a specification sweep (figures embedded as PNG data URIs).

It opens with one plain-language sentence per outcome, then shows each outcome's specification curve, joint
summary, decision importance, stacking weights and failed specifications, and ends with the full table and the
provenance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from tipcausal.report.figures import to_data_uri
from tipcausal.sweeps.analysis import ANOVA_METHOD, decision_importance, joint_summary, stacking_weights
from tipcausal.sweeps.curve import curve_figure, effect_label, importance_figure

EFFECT_PREFIXES = ("es_", "pge_", "slope_")
IMPORTANCE_METRIC = "pge_median"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, (float, np.floating)) and math.isnan(v))


def effect(v: Any, digits: int = 3) -> str:
    """An effect with its sign and ``digits`` decimals ("n/a" when missing)."""
    return "n/a" if _missing(v) else f"{float(v):+.{digits}f}"


def plain(v: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals ("n/a" when missing)."""
    return "n/a" if _missing(v) else f"{float(v):.{digits}f}"


def percent(v: Any) -> str:
    """A share as a whole percentage ("n/a" when missing)."""
    return "n/a" if _missing(v) else f"{float(v):.0%}"


def _cell(column: str, v: Any) -> str:
    """A value of the sweep table as text: effects signed to 3 decimals, whole numbers without decimals."""
    if _missing(v):
        return "n/a" if isinstance(v, (float, np.floating)) else ""
    if isinstance(v, (float, np.floating)):
        if column.startswith(EFFECT_PREFIXES) and not column.endswith("p_positive") and column != "pge_threshold":
            return effect(v)
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.3f}"
    return str(v)


def template_environment() -> Environment:
    """The Jinja environment of the sweep and design pages (package templates, autoescaped, number filters)."""
    env = Environment(loader=PackageLoader("tipcausal", "sweeps/templates"), autoescape=True,
                      undefined=StrictUndefined)
    env.filters.update(effect=effect, plain=plain, percent=percent)
    return env


def headline(outcome: str, rows: pd.DataFrame, summary: Mapping[str, Any], importance: pd.DataFrame) -> str:
    """One plain-language sentence on one outcome's sweep: how many specifications passed the gate, the median
    effect on P(score >= threshold), how many are clearly of its sign, and the choices that move it most."""
    name = outcome.replace("_", " ").capitalize()
    n_total, n_ok = len(rows), int((rows["status"] == "ok").sum())
    if n_ok == 0:
        return (f"{name}: none of the {n_total} specifications passed the diagnostics gate; "
                "nothing here can be inferred.")
    parts = [f"{name}: {n_ok} of {n_total} specifications passed the diagnostics gate"]
    k = summary["n_specs"]
    on = effect_label(rows[rows["status"] == "ok"], "pge")
    if k == 0:
        return parts[0] + f"; none has an estimate of the effect on {on}."
    med = summary["median_effect"]
    if med >= 0:
        parts.append(f"the median effect on {on} is {effect(med)}, "
                     f"{round(summary['share_positive'] * k)} of {k} have P(effect > 0) > 0.95")
    else:
        parts.append(f"the median effect on {on} is {effect(med)}, "
                     f"{round(summary['share_negative'] * k)} of {k} have P(effect > 0) < 0.05")
    top = importance[importance["choice"] != "residual"].head(2)
    if top.empty:
        parts.append("no choice varies among them")
    else:
        items = [f"{r.choice} ({percent(r.share)})" for r in top.itertuples()]
        items[0] = items[0][:-1] + " of the curve's variance)"
        oneway = "" if (top["method"] == ANOVA_METHOD).all() else ", each on its own"
        parts.append(("the choices that move the estimate most are " + " and ".join(items) if len(items) > 1
                      else f"the choice that moves the estimate most is {items[0]}") + oneway)
    if summary["p_median"] is not None:
        parts.append(f"against {summary['null_reps']} refits without the effect, p = {plain(summary['p_median'])} "
                     f"for the median and {plain(summary['p_share'])} for the share")
    return "; ".join(parts) + "."


def _stacking(outcome: str, rows: pd.DataFrame,
              pointwise: Mapping[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] | None) -> dict[str, Any] | None:
    """Stacking of one outcome's specifications that entered inference and have comparable LOO (None without
    pointwise elpd for the outcome)."""
    entries = {sid: v for (sid, o), v in (pointwise or {}).items() if o == outcome}
    if not entries:
        return None
    by_id = rows.set_index("spec_id")
    usable, excluded, effects = {}, {}, {}
    for sid, value in entries.items():
        if sid not in by_id.index:
            excluded[sid] = "not in the sweep table"
            continue
        r = by_id.loc[sid]
        if r["status"] != "ok":
            excluded[sid] = f"status {r['status']} (not in inference)"
        elif _missing(r["elpd_loo"]):
            excluded[sid] = "LOO not comparable (binary specification)"
        elif _missing(r["pge_mean"]) or _missing(r["pge_p_positive"]):
            excluded[sid] = "no effect estimate"
        else:
            usable[sid] = value
            effects[sid] = (float(r["pge_mean"]), float(r["pge_p_positive"]))
    result = stacking_weights(usable, effects)
    excluded.update(result["excluded"])
    label = lambda sid: str(by_id.loc[sid, "spec_label"]) if sid in by_id.index else ""  # noqa: E731
    return {**result,
            "rows": [{"spec_id": sid, "spec_label": label(sid), "weight": w, "mean": effects[sid][0],
                      "p_positive": effects[sid][1]}
                     for sid, w in sorted(result["weights"].items(), key=lambda kv: -kv[1])],
            "excluded_rows": [{"spec_id": sid, "spec_label": label(sid), "reason": why}
                              for sid, why in excluded.items()]}


def outcome_section(frame: pd.DataFrame, outcome: str, choices: Sequence[str], nulls: pd.DataFrame | None = None,
                    pointwise: Mapping[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] | None = None
                    ) -> dict[str, Any]:
    """Everything the page shows for one outcome: headline sentence, figures, summaries and tables."""
    rows = frame[frame["outcome"] == outcome]
    null = None if nulls is None else nulls[nulls["outcome"] == outcome]
    ok = rows[rows["status"] == "ok"]
    families = ["pge"] + (["es"] if ok["es_median"].notna().any() else [])
    summaries = {f: joint_summary(rows, f, null) for f in families}
    importance = decision_importance(rows, choices, IMPORTANCE_METRIC)
    name = outcome.replace("_", " ").capitalize()
    failed = rows[rows["status"] != "ok"]
    return {
        "outcome": outcome, "name": name, "n_total": len(rows), "n_ok": len(ok),
        "sentence": headline(outcome, rows, summaries["pge"], importance),
        "curves": {f: to_data_uri(curve_figure(rows, choices, f, title=f"{name}: effect on {effect_label(ok, f)}"))
                   for f in families},
        "effect_on": {f: effect_label(ok, f) for f in families},
        "summaries": summaries,
        "importance": importance.to_dict("records"),
        "importance_fallback": bool(len(importance)) and not (importance["method"] == ANOVA_METHOD).all(),
        "importance_uri": to_data_uri(importance_figure(importance, title=f"{name}: which choices move the estimate")),
        "stacking": _stacking(outcome, rows, pointwise),
        "failed": failed[["spec_id", "spec_label", "status", "reasons"]].to_dict("records"),
    }


def _provenance_value(v: Any) -> str:
    if isinstance(v, Mapping):
        return ", ".join(f"{k}: {_provenance_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_provenance_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def render_sweep_page(frame: pd.DataFrame, choices: Sequence[str], outcomes: Sequence[str], meta: Mapping[str, Any],
                      nulls: pd.DataFrame | None = None,
                      pointwise: Mapping[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] | None = None) -> str:
    """The sweep page as one self-contained HTML string.

    ``frame``: the sweep table (``tipcausal.sweeps.table``); ``choices``: its choice columns; ``outcomes``: the
    outcomes to show, in order; ``meta``: ``title`` and any provenance (seed, data and DAG hashes, sampler
    settings, versions, store, wall time: every other key is shown as a row); ``nulls``: null refits (the table's
    columns plus ``null_rep``) for the joint tests; ``pointwise``: (spec_id, outcome) -> (the model's
    observations as country and year, their pointwise PSIS-LOO elpd) for stacking.
    """
    sections = [outcome_section(frame, o, choices, nulls, pointwise) for o in outcomes]
    columns = [str(c) for c in frame.columns]
    table = [[_cell(c, v) for c, v in zip(columns, r)] for r in frame.itertuples(index=False, name=None)]
    provenance = [(str(k), _provenance_value(v)) for k, v in meta.items() if k != "title"]
    return template_environment().get_template("sweep.html.j2").render(
        title=str(meta.get("title") or "Specification sweep"), sections=sections, columns=columns, table=table,
        provenance=provenance, n_specs=int(frame["spec_id"].nunique()), choices=list(choices),
        varying=[c for c in choices if c in frame and frame[c].nunique() > 1], nulls=nulls is not None)
