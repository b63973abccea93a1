"""Render a finished study into a self-contained HTML report (figures embedded as PNG data URIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tipcausal.core.io import write_text_atomic
from tipcausal.models.spec import PRIOR_ROLES
from tipcausal.fitstore import FitStore
from tipcausal.report import figures, sensitivity_figures
from tipcausal.report.figure_store import FigureStore
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


def _sensitivity_uris(sens: dict[str, Any] | None, figs: FigureStore) -> dict[str, str]:
    """Data URIs of the sensitivity section's figures (those its analyses produced)."""
    if not sens:
        return {}
    uris = {}
    if sens["confounding"]:
        conf = sens["confounding"]
        uris["contour"] = figs.uri("contour", conf, lambda: sensitivity_figures.contour_figure(conf))
        uris["countries"] = figs.uri("country_tipping", conf,
                                     lambda: sensitivity_figures.country_tipping_figure(conf))
    if sens["priors"]:
        priors = sens["priors"]
        uris["priors"] = figs.uri("power_scaling", priors, lambda: sensitivity_figures.power_scaling_figure(priors))
    return uris


def build_context(result: StudyResult, summary: dict[str, Any], store: FitStore | None = None) -> dict[str, Any]:
    """Everything the template shows: the typed results, their summary and figure data URIs (drawn once per
    content through ``store``'s derived results, when given)."""
    study = result.study
    figs = FigureStore(store)
    first = next(iter(result.outcomes.values()))
    truth_by_country = {o: r.truth.by_country for o, r in result.outcomes.items() if r.truth}
    checks = {o: r.posterior_checks for o, r in result.outcomes.items()}
    by_country = {o: r.effects.by_country for o, r in result.outcomes.items()}
    names = result.panel.country_names()
    dag_inputs = (result.graph.hash, study.treatment, study.outcomes, study.adjustment, study.assume_absorbed)
    forest = {o: {"effects": e["effects"], "truth": e.get("truth")} for o, e in summary["outcomes"].items()}
    rank_vars = ["slope_mean", "slope_sd", "country_sd", "year_sd"]
    return {
        "study": study,
        "summary": summary,
        "results": result.outcomes,
        "graph": result.graph,
        "panel": result.panel,
        "dag_uri": figs.uri("dag", dag_inputs, lambda: figures.dag_figure(
            result.graph, study.treatment, study.outcomes, study.adjustment, study.assume_absorbed)),
        "forest_uri": figs.uri("forest", forest, lambda: figures.forest_figure(forest)),
        "caterpillar_uri": figs.uri("caterpillar", (by_country, truth_by_country), lambda: figures.caterpillar_figure(
            by_country, truth_by_country or None)),
        "country_forest_uris": {o: figs.uri("country_forest", (o, by_country[o], names, truth_by_country.get(o)),
                                            lambda o=o: figures.country_forest_figure(
                                                o, by_country[o], names, truth=truth_by_country.get(o)), dpi=90)
                                for o in result.outcomes},
        "world_map_uri": figs.uri("world_map", (by_country, names), lambda: world_map_figure(by_country, names=names),
                                  dpi=80) if result.panel.kind == "real" else None,
        "conditional_uri": figs.uri("conditional", {o: c.conditional for o, c in checks.items()},
                                    lambda: figures.conditional_figure({o: c.conditional for o, c in checks.items()}),
                                    dpi=90),
        "loo_pit_uri": figs.uri("loo_pit", {o: c.loo_pit for o, c in checks.items()},
                                lambda: figures.loo_pit_figure({o: c.loo_pit for o, c in checks.items()}), dpi=80),
        "grouped_ppc_uri": figs.uri("grouped_ppc", {o: c.grouped for o, c in checks.items()},
                                    lambda: figures.grouped_ppc_figure({o: c.grouped for o, c in checks.items()}),
                                    dpi=80),
        "ppc_uri": figs.uri("ppc", {o: r.ppc for o, r in result.outcomes.items()},
                            lambda: figures.ppc_figure({o: r.ppc for o, r in result.outcomes.items()})),
        "rank_uris": {o: figs.uri("rank", (r.fit.record.key, rank_vars),
                                  lambda r=r: figures.trace_rank_figure(r.idata, rank_vars), dpi=80)
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
        "sens_uris": _sensitivity_uris(summary.get("sensitivity"), figs),
    }


def render_report(result: StudyResult, summary: dict[str, Any], store: FitStore | None = None) -> str:
    """The report as an HTML string (figures through ``store``'s derived results, when given)."""
    return _environment().get_template("report.html.j2").render(**build_context(result, summary, store))


def write_report(result: StudyResult, summary: dict[str, Any], path: str | Path,
                 store: FitStore | None = None) -> Path:
    """Render and write the report atomically (figures through ``store``'s derived results, when given)."""
    return write_text_atomic(path, render_report(result, summary, store))
