"""summary.json: the only code that knows its schema (schema_version 1; keys are only ever added).

``build_summary(result)`` turns a ``StudyResult`` into the documented machine-readable summary (see README,
"summary.json"); ``spec_row`` is one specification's line of ``outcomes.<P>.specifications``. Fit paths are
written relative to the output folder.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from tipcausal.study.results import Specification, StudyResult

SCHEMA_VERSION = 1
EFFECT_DEFINITION = ("change from raising the treatment by one SD in every observed country-year "
                     "(do-operator, averaged over observed country-years); intervals are 94% HDIs")


def relative_path(path: Path, out_dir: Path) -> str:
    """``path`` relative to the output folder (as given when it lies elsewhere)."""
    try:
        return os.path.relpath(path, out_dir) if Path(path).resolve().is_relative_to(Path(out_dir).resolve()) \
            else str(path)
    except ValueError:
        return str(path)


def spec_row(s: Specification, out_dir: Path) -> dict[str, Any]:
    """One specification's line in the side-by-side table."""
    fit, spec, data, a = s.fit, s.fit.spec, s.fit.data, s.fit.assessment
    notes = []
    if spec.missing == "impute":
        notes.append(f"{sum(data.imputed.values())} covariate value(s) imputed")
    if spec.measurement_error is not None and not isinstance(spec.measurement_error, str):
        notes.append("measurement SD given by the study, not measured")
    effects = a.effects.to_dict()
    return {
        "name": s.name,
        "description": ("joint 3-P model (LKJ-correlated country effects); " if s.joint else "")
        + spec.describe() + "".join(f"; {n}" for n in notes),
        "likelihood": spec.likelihood, "joint": s.joint, "n_obs": data.n_obs,
        "n_countries": len(data.coords["country"]), "diagnostics": fit.gate.to_dict(),
        "effects": effects["effects"], "slope_mean": effects["slope_mean"],
        "slope_sd": effects["slope_sd"], "loo": a.loo.to_dict(), "fit": relative_path(s.fit_path, out_dir),
        "model_hash": spec.hash, "elpd_diff": s.comparison.diff, "elpd_diff_se": s.comparison.se,
        "loo_note": s.comparison.note, "ppc": a.ppc.to_dict(), "ppc_inside": a.ppc.inside,
    }


def _outcome_entry(result: StudyResult, name: str) -> dict[str, Any]:
    r = result.outcomes[name]
    effects = r.effects.to_dict()
    entry: dict[str, Any] = {
        "effects": effects["effects"],
        "slope_sd": effects["slope_sd"],
        "slope_mean": effects["slope_mean"],
        "diagnostics": r.gate.to_dict(),
        "identification": r.identification.to_dict(),
        "n_obs": r.n_obs,
        "n_countries": r.n_countries,
        "fit": relative_path(r.fit_path, result.out_dir),
        "model_hash": r.spec.hash,
        "timings": r.fit.record.timings.to_dict(),
        "baselines": [b.to_dict() for b in r.baselines],
        "loo": r.loo.to_dict(),
        "specifications": [spec_row(s, result.out_dir) for s in r.specifications],
    }
    if r.truth is not None:
        entry["truth"] = r.truth.to_dict()
    return entry


def _joint_entry(result: StudyResult) -> dict[str, Any] | None:
    if result.joint is None:
        return None
    fit = result.joint.fit
    first = next(iter(fit.outcomes.values()))
    return {"name": result.joint.name, "correlations": list(fit.correlations), "n_obs": first.data.n_obs,
            "n_countries": len(first.data.coords["country"]), "diagnostics": first.gate.to_dict()}


def build_summary(result: StudyResult) -> dict[str, Any]:
    """The documented machine-readable summary (see README, "summary.json")."""
    study, panel = result.study, result.panel
    kind = panel.kind
    return {
        "schema_version": SCHEMA_VERSION,
        "study": study.name,
        "title": study.title,
        "data": {"kind": kind, "hash": panel.hash, "source": panel.source, "rows": len(panel.frame),
                 "countries": panel.n_countries, "build_key": panel.meta.get("build_key"),
                 "citations": panel.meta.get("citations", [])},
        "treatment": study.treatment,
        "effect_definition": EFFECT_DEFINITION,
        "all_passed": result.passed,
        "failed_specifications": result.failed_specifications,
        "outcomes": {name: _outcome_entry(result, name) for name in result.outcomes},
        "dag_tests": dict(result.dag_tests),
        "joint_model": _joint_entry(result),
        "dag_variants": {name: v.to_dict() for name, v in result.variants.items()},
        "sensitivity": None if result.sensitivity is None else result.sensitivity.to_dict(),
        "provenance": {"seed": study.sampler.seed,
                       "data_seed": getattr(study.data, "seed", None) if kind == "simulated" else None,
                       "data_hash": panel.hash, "dag_hash": result.graph.hash, "dag": result.graph.source,
                       "model_specs": {n: r.spec.to_dict() for n, r in result.outcomes.items()},
                       "sampler": study.sampler.to_dict(), "versions": dict(result.versions),
                       "created": result.created, "allow_unconverged": study.allow_unconverged,
                       "study": study.to_dict()},
    }


def summary_table_html(summary: dict[str, Any]) -> str:
    """A compact HTML table of a study summary (rich display in Jupyter)."""
    rows = []
    for o, e in summary.get("outcomes", {}).items():
        es, ge4, d = e["effects"]["expected_score"], e["effects"]["p_score_ge_4"], e["diagnostics"]
        rows.append(f"<tr><td>{html.escape(o)}</td><td>{es['mean']:+.3f} [{es['hdi_low']:+.3f}, {es['hdi_high']:+.3f}]"
                    f"</td><td>{ge4['mean']:+.3f}</td><td>{es['p_positive']:.2f}</td>"
                    f"<td><b>{d['verdict'].upper()}</b></td></tr>")
    return ("<table><thead><tr><th>outcome</th><th>effect on expected score (94% HDI)</th>"
            "<th>on P(score&ge;4)</th><th>P(&gt;0)</th><th>diagnostics</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")
