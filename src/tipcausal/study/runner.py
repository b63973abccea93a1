"""The runner: takes a study through every stage and returns its typed results.

``prepare(study)`` makes every check that can fail on bad input before any sampling (DAG, data,
identification, model specs, ``[[compare]]`` entries). ``run_study(study)`` then runs the DAG checks, fits one
hierarchical ordinal model per outcome through ``fit_specification``, fits the ``[[compare]]``
specifications, hands each fit to the store and returns a ``StudyResult``. Writing summary.json and the report
is the caller's (``tipcausal.api.run``), so results never call back up into the runner.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import networkx as nx

from tipcausal.causal.graph import CausalGraph, library_dags, load_dag
from tipcausal.causal.identify import Identification, identify_outcome
from tipcausal.causal.implications import implication_report
from tipcausal.causal.variants import VariantIdentification, identify_variants
from tipcausal.core import provenance
from tipcausal.core.errors import InputError
from tipcausal.data.panel import Panel
from tipcausal.fit import SpecFit
from tipcausal.fitstore import FitStore, derived_stored, fit_stored
from tipcausal.inference.sampling import reserve_devices
from tipcausal.models.spec import ModelSpec
from tipcausal.posterior.pointwise import Pointwise
from tipcausal.posterior.baselines import fit_baselines
from tipcausal.sensitivity.settings import DEFAULT_BENCHMARKS, SensitivitySettings
from tipcausal.sensitivity.suite import run_sensitivity
from tipcausal.simulation.structural import SimulatedPanel
from tipcausal.study.compare import comparison_with, fit_alternatives
from tipcausal.study.config import Study, alternative_specs
from tipcausal.study.panels import study_panel
from tipcausal.study.results import (OutcomeResult, PosteriorChecks, Specification, StudyResult, Truth,
                                     posterior_checks)
from tipcausal.study.store import FitContext, fit_provenance, save_fit

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Prepared:
    """A study checked against its DAG and data, ready to fit: nothing here has sampled."""

    graph: CausalGraph
    panel: Panel
    simulation: SimulatedPanel | None
    identification: dict[str, Identification]
    specs: dict[str, ModelSpec]
    #: the ``[sensitivity]`` benchmarks: panel column -> DAG node id, in order (the first is the reference)
    benchmarks: dict[str, str] = field(default_factory=dict)
    #: the negative-control outcome's column (or None)
    negative_control_column: str | None = None


def identify_study(study: Study, graph: CausalGraph) -> dict[str, Identification]:
    """Identification of the study's treatment effect on each outcome (raises on a refused set)."""
    graph.check_roles(study.treatment, study.outcomes)
    return {o: identify_outcome(graph, study.treatment, o, study.adjustment, study.assume_absorbed,
                                override=study.override) for o in study.outcomes}


def _covariates(study: Study, graph: CausalGraph) -> tuple[str, ...]:
    covariates = []
    for node_id in study.adjustment:
        node = graph.node(node_id)
        if node.type == "categorical":
            if node.column != "region" or not study.model_options.get("region_intercepts", True):
                raise InputError(f"{study.source}: categorical adjustment node {node_id!r} is only supported as the "
                                 "model's region level (column 'region' with region_intercepts = true)")
            continue
        covariates.append(node.column)
    return tuple(covariates)


def prepare(study: Study, progress: Progress | None = None) -> Prepared:
    """Every check that can fail on bad input, before any sampling: DAG, data, identification, specs. With the
    numpyro backend, one CPU device per chain is reserved for JAX first, before anything here can import it."""
    if study.sampler.backend == "numpyro":
        for note in reserve_devices(study.sampler.chains):
            (progress or log.info)(note)
    graph = load_dag(study.dag)
    panel, sim = study_panel(study, graph, progress)
    covariates = _covariates(study, graph)
    idents = identify_study(study, graph)
    try:
        specs = {o: ModelSpec(outcome=graph.node(o).column, treatment=graph.node(study.treatment).column,
                              covariates=covariates, **study.model_options).with_priors(study.priors)
                 for o in study.outcomes}
    except TypeError as exc:
        raise InputError(f"{study.source}: [model]: {exc}") from None
    if any(s.family.binary for s in specs.values()):
        raise InputError(f"{study.source}: the primary model must be ordinal (cumulative_logit or cumulative_probit); "
                         "fit binary_logit as a [[compare]] specification beside it")
    for alt in study.alternatives:
        alternative_specs(alt, specs)
    benchmarks, negative = sensitivity_inputs(study, graph, panel)
    return Prepared(graph=graph, panel=panel, simulation=sim, identification=idents, specs=specs,
                    benchmarks=benchmarks, negative_control_column=negative)


def sensitivity_inputs(study: Study, graph: CausalGraph, panel: Panel) -> tuple[dict[str, str], str | None]:
    """The ``[sensitivity]`` benchmarks (panel column -> node id) and the negative control's column, checked against the
    DAG and the panel: a benchmark must be a numeric adjustment node; a negative control must be a DAG node that
    the treatment cannot reach, with integer scores in the panel."""
    s = study.sensitivity
    where = f"{study.source}: [sensitivity.confounding] benchmarks"
    numeric = [n for n in study.adjustment if graph.node(n).type != "categorical"]
    if s.confounding.benchmarks == DEFAULT_BENCHMARKS:
        chosen = [b for b in s.confounding.benchmarks if b in numeric] or numeric
    else:
        for b in s.confounding.benchmarks:
            if b not in numeric:
                raise InputError(f"{where}: {b!r} is not a numeric adjustment node of the study; benchmarks must "
                                 f"be among {', '.join(numeric) or '(none)'}")
        chosen = list(s.confounding.benchmarks)
    columns = {graph.node(b).column: b for b in chosen}
    nc = s.refute.negative_control
    if nc is None:
        return columns, None
    where = f"{study.source}: [sensitivity.refute] negative_control"
    if nc not in graph.node_ids:
        raise InputError(f"{where}: {nc!r} is not a node of the DAG {graph.source}; nodes: "
                         f"{', '.join(graph.node_ids)}")
    if nc == study.treatment or nx.has_path(graph.to_networkx(), study.treatment, nc):
        raise InputError(f"{where}: {nc!r} can be reached from the treatment {study.treatment!r} in the DAG, so "
                         "it cannot be a negative control (the treatment may really affect it)")
    column = graph.node(nc).column
    if column not in panel.frame.columns:
        raise InputError(f"{where}: the panel {panel.source} has no column {column!r} for {nc!r}")
    values = panel.frame[column].dropna()
    bad = panel.frame.loc[values.index[(values != values.round()) | ~values.between(panel.schema.score_min,
                                                                                        panel.schema.score_max)]]
    if len(bad):
        rows = ", ".join(f"({r.country}, {r.year})" for r in bad.head(8).itertuples())
        raise InputError(f"{where}: column {column!r} of {panel.source} must hold integer scores "
                         f"{panel.schema.score_min}-{panel.schema.score_max}; not at rows {rows}")
    return columns, column


def _variants(study: Study, store: FitStore | None) -> dict[str, VariantIdentification]:
    """Identification under every library DAG (DoWhy; computed once per question and DAG library with a store)."""
    dags = {name: provenance.hash_json(Path(path).read_text(encoding="utf-8"))
            for name, path in sorted(library_dags().items())}
    inputs = {"treatment": study.treatment, "outcomes": list(study.outcomes),
              "assume_absorbed": list(study.assume_absorbed), "dags": dags}
    return derived_stored(store, "dag-variants", inputs,
                          lambda: identify_variants(study.treatment, study.outcomes, study.assume_absorbed))


def dag_checks(study: Study, graph: CausalGraph, panel: Panel, alpha: float = 0.05,
               store: FitStore | None = None) -> tuple[dict[str, VariantIdentification], dict[str, Any]]:
    """Identification under every library DAG, and the clustered tests of the study DAG's implications."""
    variants = _variants(study, store)
    table = implication_report(panel.frame, graph, alpha=alpha)
    rows = []
    for r in table.to_dict(orient="records"):
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        clean["given"] = list(clean.get("given") or [])
        rows.append(clean)
    tested = [r for r in rows if r.get("p_clustered") is not None]
    tests = {"alpha": alpha, "rows": rows, "n_tested": len(tested),
             "n_rejected": sum(bool(r["rejected_clustered"]) for r in tested),
             "n_rejected_naive": sum(bool(r["rejected_naive"]) for r in tested),
             "method": "OLS of the later variable on the earlier one + conditioning set; country-clustered CR1 "
                       "F test (G-1 df); Holm across implications"}
    return variants, tests


def _truth(sim: SimulatedPanel | None, fit: SpecFit, outcome: str) -> Truth | None:
    if sim is None:
        return None
    t = sim.true_effects(fit.data.rows)[outcome]
    return Truth(expected_score=t["expected_score"], p_score_ge_4=t["p_score_ge_4"],
                 slope_sd=sim.truth["slope_sd"][outcome], slope_mean=sim.truth["effect_mean"][outcome],
                 by_country=t["by_country"])


def _report_fit(say: Progress, outcome: str, fit: SpecFit) -> None:
    gate, a = fit.gate, fit.assessment
    es = a.effects.average["expected_score"]
    verdict = "PASS" if gate.passed else "FAIL: " + "; ".join(gate.reasons)
    say(f"    {outcome}: {fit.data.n_obs} country-years, {len(fit.data.coords['country'])} countries; diagnostics "
        f"{verdict}; effect on expected score {es.mean:+.3f} [{es.hdi_low:+.3f}, {es.hdi_high:+.3f}]")
    if a.loo.warning:
        say(f"    {outcome}: PSIS-LOO warning: {a.loo.n_k_over_0_7} country-year(s) with Pareto k > 0.7")


def _context(study: Study, prepared: Prepared, versions: dict[str, str]) -> FitContext:
    panel, graph = prepared.panel, prepared.graph
    return FitContext(study=study.name, study_file=study.source, data_hash=panel.hash, data_kind=panel.kind,
                      data_source=panel.source, data_build=panel.meta, dag_hash=graph.hash,
                      dag_source=graph.source, versions=versions, allow_unconverged=study.allow_unconverged)


def _fit_primary(study: Study, prepared: Prepared, context: FitContext, dirs: tuple[Path, Path], say: Progress,
                 progress: bool, store: FitStore | None) -> dict[str, tuple[SpecFit, Path, PosteriorChecks]]:
    write_dir, out_dir = dirs
    s = study.sampler
    fits = {}
    for i, outcome in enumerate(study.outcomes, 1):
        say(f"[{i}/{len(study.outcomes)}] {outcome}: sampling with {s.backend} "
            f"({s.chains} chains x {s.tune} tune + {s.draws} draws)")
        fit, reused = fit_stored(store, prepared.panel, prepared.specs[outcome], s, progress=progress)
        if reused:
            say(f"    {outcome}: reused the stored fit {fit.record.key[:12]} (same data, spec, sampler settings "
                "and code; --refit fits again)")
        prov = fit_provenance(fit, outcome, context, prepared.identification[outcome].to_dict())
        path = out_dir / "fits" / f"{outcome}.nc"
        pointwise = fit.pointwise()  # evaluated once for the saved groups and LOO-PIT, then let go
        save_fit(fit.idata, prov, write_dir / "fits" / f"{outcome}.nc", store=store, rows=fit.data.rows,
                 previous=path if write_dir != out_dir else None, pointwise=pointwise)
        checks = _checks(store, fit, pointwise)
        _report_fit(say, outcome, fit)
        fits[outcome] = (fit.lean(), path, checks)
    return fits


def _baselines(store: FitStore | None, panel: Panel, spec: ModelSpec) -> tuple:
    """The frequentist baselines of one outcome (computed once per panel and specification with a store)."""
    inputs = {"panel": panel.hash, "outcome": spec.outcome, "treatment": spec.treatment,
              "covariates": list(spec.covariates)}
    return derived_stored(store, "baselines", inputs,
                          lambda: tuple(fit_baselines(panel.frame, spec.outcome, spec.treatment, spec.covariates)))


def _checks(store: FitStore | None, fit: SpecFit, pointwise: Pointwise) -> PosteriorChecks:
    """The report's posterior checks of one primary fit (computed once per fit with a store; its key holds the
    seed they use)."""
    return derived_stored(store, "posterior_checks", {"fit": fit.record.key},
                          lambda: posterior_checks(fit, pointwise))


def run_study(study: Study, *, prepared: Prepared | None = None, write_dir: Path | None = None,
              progress: Progress | None = None, show_sampler_progress: bool = True,
              store: FitStore | None = None, sensitivity: SensitivitySettings | None = None) -> StudyResult:
    """Run every stage of ``study`` (``prepared``: its checked inputs, else prepared here), fitting through
    ``store`` (None: no store) and saving each fit into ``write_dir`` (default: the study's output folder) under
    the paths it will have in the output folder, then the ``sensitivity`` analyses (None: none); never raises
    on an unconverged fit."""
    say = progress or log.info
    prepared = prepared or prepare(study, say)
    panel, out_dir = prepared.panel, Path(study.output_dir)
    write_dir = write_dir or out_dir
    say(f"study {study.name!r}: {panel!r}")
    for outcome, ident in prepared.identification.items():
        say(f"  {outcome}: identification {ident.status}"
            + (f" (open path: {ident.open_path_text})" if ident.open_path_text else ""))
    variants, dag_tests = dag_checks(study, prepared.graph, panel, store=store)
    say(f"DAG tests: {dag_tests['n_rejected']} of {dag_tests['n_tested']} implied independence(s) "
        f"rejected by country-clustered tests (Holm, alpha {dag_tests['alpha']})")
    versions = provenance.library_versions()
    if prepared.simulation is not None:
        prepared.simulation.save(write_dir / "data")
    context = _context(study, prepared, versions)
    primary = _fit_primary(study, prepared, context, (write_dir, out_dir), say, show_sampler_progress, store)
    extra, joint = fit_alternatives(study.alternatives, prepared.specs, panel, study.sampler,
                                    {o: f for o, (f, _, _) in primary.items()}, (write_dir, out_dir), context,
                                    say, show_sampler_progress, store) if study.alternatives else ({}, None)
    outcomes = {}
    for outcome, (fit, path, checks) in primary.items():
        spec = fit.spec
        rows = (Specification("primary", fit, path, comparison_with(fit, None)), *extra.get(outcome, []))
        outcomes[outcome] = OutcomeResult(
            outcome=outcome, identification=prepared.identification[outcome], fit=fit, fit_path=path,
            specifications=rows, truth=_truth(prepared.simulation, fit, outcome),
            baselines=_baselines(store, panel, spec), checks=checks)
    result = StudyResult(study=study, graph=prepared.graph, panel=panel, outcomes=outcomes, out_dir=out_dir,
                         variants=variants, dag_tests=dag_tests, versions=versions, created=provenance.utc_now(),
                         joint=joint)
    if sensitivity is None or not sensitivity.analyses:
        return result
    say(f"sensitivity: {', '.join(sensitivity.analyses)}")
    names = panel.country_names()
    sens = run_sensitivity({o: r.fit for o, r in outcomes.items()}, panel, study.sampler, sensitivity,
                           benchmark_columns=tuple(prepared.benchmarks), benchmark_labels=prepared.benchmarks,
                           negative_control_column=prepared.negative_control_column, store=store,
                           country_names=names, progress=say)
    return replace(result, sensitivity=sens)
