"""Render a finished study into a self-contained HTML report (figures embedded as PNG data URIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tipcausal.core.io import write_text_atomic
from tipcausal.models.spec import PRIOR_ROLES
from tipcausal.report import figures, sensitivity_figures
from tipcausal.report.prose import answer, caveats
from tipcausal.report.world_map import world_map_figure
from tipcausal.study.results import StudyResult

CITATIONS = {
    "simulated": ["Panel simulated by tipcausal.simulation.structural.simulate_panel from the default DAG's structural model; "
                  "marginals calibrated to the 3P Anti-Trafficking Policy Index (Cho, Dreher & Neumayer 2014) and "
                  "V-Dem v10 (Coppedge et al. 2020)."],
    "real": ["Cho, S.-Y., Dreher, A. & Neumayer, E. (2014). Determinants of Anti-Trafficking Policies: Evidence from "
             "a New Index. Scandinavian Journal of Economics 116(2).",
             "Coppedge, M. et al. (2020). V-Dem Country-Year Dataset v10. doi:10.23696/vdemds20."],
}


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("tipcausal", "report/templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined)
    env.filters["num"] = lambda v, d=3: "n/a" if v is None else f"{v:+.{d}f}" if abs(v) < 1e6 else f"{v:.3g}"
    env.filters["plain"] = lambda v, d=3: "n/a" if v is None else f"{v:.{d}f}"
    return env


def _top_bottom(by_country: dict[str, Any], key: str = "expected_score", k: int = 5) -> dict[str, list]:
    items = sorted(by_country.items(), key=lambda kv: kv[1][key].mean)
    return {"lowest": items[:k], "highest": list(reversed(items[-k:]))}


def _sensitivity_uris(sens: dict[str, Any] | None) -> dict[str, str]:
    """Data URIs of the sensitivity section's figures (those its analyses produced)."""
    if not sens:
        return {}
    uris = {}
    if sens["confounding"]:
        uris["contour"] = figures.to_data_uri(sensitivity_figures.contour_figure(sens["confounding"]))
        uris["countries"] = figures.to_data_uri(sensitivity_figures.country_tipping_figure(sens["confounding"]))
    if sens["priors"]:
        uris["priors"] = figures.to_data_uri(sensitivity_figures.power_scaling_figure(sens["priors"]))
    return uris


def build_context(result: StudyResult, summary: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows: the typed results, their summary and figure data URIs."""
    study = result.study
    first = next(iter(result.outcomes.values()))
    truth_by_country = {o: r.truth.by_country for o, r in result.outcomes.items() if r.truth}
    checks = {o: r.posterior_checks for o, r in result.outcomes.items()}
    return {
        "study": study,
        "summary": summary,
        "results": result.outcomes,
        "graph": result.graph,
        "panel": result.panel,
        "dag_uri": figures.to_data_uri(figures.dag_figure(result.graph, study.treatment, study.outcomes,
                                                          study.adjustment, study.assume_absorbed)),
        "forest_uri": figures.to_data_uri(figures.forest_figure(summary["outcomes"])),
        "caterpillar_uri": figures.to_data_uri(figures.caterpillar_figure(
            {o: r.effects.by_country for o, r in result.outcomes.items()}, truth_by_country or None)),
        "country_forest_uris": {o: figures.to_data_uri(figures.country_forest_figure(
            o, r.effects.by_country, result.panel.country_names(),
            truth=r.truth.by_country if r.truth is not None else None), dpi=90) for o, r in result.outcomes.items()},
        "world_map_uri": figures.to_data_uri(world_map_figure(
            {o: r.effects.by_country for o, r in result.outcomes.items()}, names=result.panel.country_names()),
            dpi=80) if result.panel.kind == "real" else None,
        "conditional_uri": figures.to_data_uri(figures.conditional_figure(
            {o: c.conditional for o, c in checks.items()}), dpi=90),
        "loo_pit_uri": figures.to_data_uri(figures.loo_pit_figure({o: c.loo_pit for o, c in checks.items()}), dpi=80),
        "grouped_ppc_uri": figures.to_data_uri(figures.grouped_ppc_figure({o: c.grouped for o, c in checks.items()}),
                                               dpi=80),
        "ppc_uri": figures.to_data_uri(figures.ppc_figure({o: r.ppc for o, r in result.outcomes.items()})),
        "rank_uris": {o: figures.to_data_uri(figures.trace_rank_figure(r.idata, ["slope_mean", "slope_sd",
                                                                                "country_sd", "year_sd"]), dpi=80)
                      for o, r in result.outcomes.items()},
        "top_bottom": {o: _top_bottom(r.effects.by_country) for o, r in result.outcomes.items()},
        "priors": [(name, prior.describe(), PRIOR_ROLES[name]) for name, prior in first.spec.active_priors().items()],
        "citations": result.panel.meta.get("citations") or CITATIONS[result.panel.kind],
        "any_failed": not result.passed,
        "variants": result.variants,
        "dag_tests": result.dag_tests,
        "conditional": any(r.identification.status != "identified" for r in result.outcomes.values()),
        "sens": summary.get("sensitivity"),
        "shared_assumptions": [a for a in first.identification.assumptions
                               if all(a in r.identification.assumptions for r in result.outcomes.values())],
        "answers": {o: answer(o, e, result.graph.node(study.treatment).label, summary.get("sensitivity"))
                    for o, e in summary["outcomes"].items()},
        "caveats": caveats(summary["outcomes"], summary.get("sensitivity")),
        "sens_uris": _sensitivity_uris(summary.get("sensitivity")),
    }


def render_report(result: StudyResult, summary: dict[str, Any]) -> str:
    """The report as an HTML string."""
    return _environment().get_template("report.html.j2").render(**build_context(result, summary))


def write_report(result: StudyResult, summary: dict[str, Any], path: str | Path) -> Path:
    """Render and write the report atomically."""
    return write_text_atomic(path, render_report(result, summary))
