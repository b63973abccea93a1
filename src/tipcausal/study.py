"""Study files (TOML) and the runner that takes a study through every stage.

``load_study(path_or_name)`` reads and validates a study; ``run_study(study)`` checks the DAG and
data, identifies the effect per outcome (refusing bad adjustment sets before any sampling), fits
one hierarchical ordinal model per outcome, gates convergence, computes effects, saves each fit
(netCDF + provenance JSON, atomically) and writes ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import arviz as az

from tipcausal import provenance
from tipcausal.dag.spec import CausalGraph, load_dag
from tipcausal.data.panel import Panel, PanelSchema, load_panel_csv, validate_panel
from tipcausal.diagnostics import GateResult
from tipcausal.errors import InputError
from tipcausal.identify import Identification, identify_outcome
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.registry import library_files, lookup, resolve_file
from tipcausal.sampling import SAMPLERS
from tipcausal.specifications import alternative_specs, parse_alternatives

log = logging.getLogger(__name__)

SECTIONS = {
    "study": {"name", "title"},
    "causal": {"dag", "treatment", "outcomes", "adjustment", "assume_absorbed", "override"},
    "data": {"kind", "seed", "n_countries", "path", "manifest", "sources", "dir"},
    "model": {"likelihood", "country_slopes", "region_intercepts", "year_effects", "within_between", "pooling",
              "lagged_treatment", "collapse_threshold", "measurement_error", "missing", "priors"},
    "sampler": {"backend", "draws", "tune", "chains", "target_accept", "seed"},
    "output": {"dir", "allow_unconverged"},
    "compare": set(),  # an array of tables, checked by specifications.parse_alternatives
}
DATA_KINDS = {"simulated": "panel simulated from the default DAG", "csv": "a panel CSV file",
              "built": "the real-data panel built from a source manifest (tipcausal data build)"}


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample: backend, draws, tuning, chains, target acceptance and seed."""

    backend: str = "numpyro"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.9
    seed: int = 1


@dataclass(frozen=True)
class Study:
    """A validated study file: causal question, data, model options, sampler and output."""

    name: str
    title: str
    source: str
    dag: str
    treatment: str
    outcomes: tuple[str, ...]
    adjustment: tuple[str, ...]
    assume_absorbed: tuple[str, ...]
    override: bool
    data_kind: str
    data_seed: int
    n_countries: int
    data_path: str | None
    model_options: dict[str, Any]
    priors: dict[str, Prior]
    alternatives: tuple[Any, ...]
    sampler: SamplerSettings
    output_dir: str
    allow_unconverged: bool
    data_manifest: str = "default"
    data_sources: str | None = None
    data_dir: str = "data/processed"

    def with_overrides(self, *, draws: int | None = None, tune: int | None = None, chains: int | None = None,
                       seed: int | None = None, backend: str | None = None, output_dir: str | None = None,
                       allow_unconverged: bool | None = None, sources: str | None = None) -> Study:
        """A copy with command-line overrides applied (None keeps the study's value)."""
        s = self.sampler
        sampler = replace(s, draws=draws if draws is not None else s.draws,
                          tune=tune if tune is not None else s.tune,
                          chains=chains if chains is not None else s.chains,
                          seed=seed if seed is not None else s.seed,
                          backend=backend if backend is not None else s.backend)
        lookup(SAMPLERS, sampler.backend, "sampler")
        return replace(self, sampler=sampler, output_dir=output_dir or self.output_dir,
                       data_sources=sources or self.data_sources,
                       allow_unconverged=self.allow_unconverged if allow_unconverged is None else allow_unconverged)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form recorded in provenance."""
        return {"name": self.name, "title": self.title, "source": self.source, "dag": self.dag,
                "treatment": self.treatment, "outcomes": list(self.outcomes), "adjustment": list(self.adjustment),
                "assume_absorbed": list(self.assume_absorbed), "override": self.override,
                "data": {"kind": self.data_kind, "seed": self.data_seed, "n_countries": self.n_countries,
                         "path": self.data_path, "manifest": self.data_manifest, "sources": self.data_sources,
                         "dir": self.data_dir},
                "model": self.model_options, "compare": [a.to_dict() for a in self.alternatives],
                "sampler": self.sampler.__dict__, "output_dir": self.output_dir}


def library_studies() -> dict[str, Path]:
    """Names and paths of the study files that ship with tipcausal."""
    return library_files("studies", ".toml")


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"{where} must be {names}, got {value!r}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of node ids")
    return tuple(value)


def load_study(path_or_name: str | Path | None = None) -> Study:
    """Read a study by library name (default ``"default"``) or path, and validate every field."""
    path = resolve_file("default" if path_or_name is None else path_or_name, library_studies(), "study")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    src = str(path)
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise InputError(f"{src}: unknown section(s) {', '.join(sorted(unknown))}; valid: {', '.join(SECTIONS)}")
    for section, keys in SECTIONS.items():
        if section == "compare":
            continue
        bad = set(raw.get(section, {})) - keys
        if bad:
            raise InputError(f"{src}: [{section}] has unknown key(s) {', '.join(sorted(bad))}; "
                             f"valid keys: {', '.join(sorted(keys))}")
    st, causal, data = raw.get("study", {}), raw.get("causal", {}), raw.get("data", {})
    model, samp, out = dict(raw.get("model", {})), raw.get("sampler", {}), raw.get("output", {})
    for key in ("treatment", "outcomes"):
        if key not in causal:
            raise InputError(f"{src}: [causal] must name the {key}")
    kind = data.get("kind", "simulated")
    lookup(DATA_KINDS, kind, "data kind")
    data_path = data.get("path")
    if kind == "csv":
        if not data_path:
            raise InputError(f"{src}: [data] kind = 'csv' needs path = 'FILE.csv'")
        data_path = str((path.parent / data_path).resolve()) if not Path(data_path).is_absolute() else data_path
    manifest = _typed(data.get("manifest", "default"), str, f"{src}: [data] manifest")
    if Path(manifest).suffix:  # a path, relative to the study file
        manifest = str((path.parent / manifest).resolve()) if not Path(manifest).is_absolute() else manifest
    sources = data.get("sources")
    if sources is not None:
        sources = _typed(sources, str, f"{src}: [data] sources")
        sources = str((path.parent / sources).resolve()) if not Path(sources).is_absolute() else sources
    priors = {}
    for name, p in (model.pop("priors", {}) or {}).items():
        if not isinstance(p, dict) or "dist" not in p or not isinstance(p.get("params", {}), dict):
            raise InputError(f"{src}: [model.priors] {name} must be {{ dist = \"Name\", params = {{ ... }} }}")
        priors[name] = Prior(dist=p["dist"], params=dict(p.get("params", {})))
    sampler = SamplerSettings(
        backend=_typed(samp.get("backend", "numpyro"), str, f"{src}: [sampler] backend"),
        draws=_typed(samp.get("draws", 1000), int, f"{src}: [sampler] draws"),
        tune=_typed(samp.get("tune", 1000), int, f"{src}: [sampler] tune"),
        chains=_typed(samp.get("chains", 4), int, f"{src}: [sampler] chains"),
        target_accept=float(_typed(samp.get("target_accept", 0.9), (int, float), f"{src}: [sampler] target_accept")),
        seed=_typed(samp.get("seed", 1), int, f"{src}: [sampler] seed"),
    )
    lookup(SAMPLERS, sampler.backend, "sampler")
    study = Study(
        name=_typed(st.get("name", path.stem), str, f"{src}: [study] name"),
        title=_typed(st.get("title", ""), str, f"{src}: [study] title"),
        source=src,
        dag=str(causal.get("dag", "default")),
        treatment=_typed(causal["treatment"], str, f"{src}: [causal] treatment"),
        outcomes=_strings(causal["outcomes"], f"{src}: [causal] outcomes"),
        adjustment=_strings(causal.get("adjustment", []), f"{src}: [causal] adjustment"),
        assume_absorbed=_strings(causal.get("assume_absorbed", []), f"{src}: [causal] assume_absorbed"),
        override=_typed(causal.get("override", False), bool, f"{src}: [causal] override"),
        data_kind=kind,
        data_seed=_typed(data.get("seed", 1), int, f"{src}: [data] seed"),
        n_countries=_typed(data.get("n_countries", 180), int, f"{src}: [data] n_countries"),
        data_path=data_path,
        model_options=model,
        priors=priors,
        alternatives=parse_alternatives(raw.get("compare"), src, SECTIONS["model"] - {"priors"}),
        sampler=sampler,
        output_dir=_typed(out.get("dir", f"reports/{path.stem}"), str, f"{src}: [output] dir"),
        allow_unconverged=_typed(out.get("allow_unconverged", False), bool, f"{src}: [output] allow_unconverged"),
        data_manifest=manifest,
        data_sources=sources,
        data_dir=_typed(data.get("dir", "data/processed"), str, f"{src}: [data] dir"),
    )
    if study.data_kind == "simulated" and study.n_countries < 12:
        raise InputError(f"{src}: [data] n_countries must be at least 12")
    return study


# --------------------------------------------------------------------------------------------
# running


@dataclass
class OutcomeResult:
    """Everything one outcome's fit produced."""

    outcome: str
    identification: Identification
    spec: ModelSpec
    idata: az.InferenceData
    gate: GateResult
    effects: dict[str, Any]
    ppc: dict[str, list]
    n_obs: int
    n_countries: int
    fit_path: Path
    provenance: dict[str, Any]
    truth: dict[str, Any] | None = None
    baselines: list[Any] = field(default_factory=list)
    loo: dict[str, Any] = field(default_factory=dict)
    specifications: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StudyResult:
    """A finished study run: per-outcome results, the summary and where outputs were written."""

    study: Study
    graph: CausalGraph
    panel: Panel
    outcomes: dict[str, OutcomeResult] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    out_dir: Path = Path(".")
    variants: dict[str, Any] = field(default_factory=dict)
    dag_tests: dict[str, Any] = field(default_factory=dict)
    joint: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        """True when every outcome's primary fit passed the diagnostics gate."""
        return all(r.gate.passed for r in self.outcomes.values())

    @property
    def failed_specifications(self) -> list[str]:
        """``outcome: name`` of each [[compare]] specification whose fit failed the gate."""
        return [f"{o}: {row['name']}" for o, r in self.outcomes.items() for row in r.specifications
                if row["name"] != "primary" and row["diagnostics"]["verdict"] != "pass"]

    def _repr_html_(self) -> str:
        from tipcausal.report.render import summary_table_html

        return summary_table_html(self.summary)


Progress = Callable[[str], None]


def _load_panel(study: Study, graph: CausalGraph, say: Progress | None = None):
    """The study's panel (and the simulation truth, for simulated data)."""
    if study.data_kind == "simulated":
        from tipcausal.simulate import SimulationConfig, simulate_panel

        sim = simulate_panel(study.data_seed, SimulationConfig(n_countries=study.n_countries))
        return sim.panel, sim
    numeric = tuple(c for n, c in graph.columns().items()
                    if graph.node(n).type != "categorical" and n not in study.outcomes)
    schema = PanelSchema(outcomes=tuple(graph.node(o).column for o in study.outcomes), numeric=numeric)
    if study.data_kind == "csv":
        return load_panel_csv(study.data_path, schema, kind="real"), None
    from tipcausal.data.build import default_sources_dir, ensure_built

    sources = Path(study.data_sources) if study.data_sources else default_sources_dir()
    frame, info, _ = ensure_built(study.data_manifest, sources, study.data_dir, progress=say)
    return built_panel(frame, info, schema, Path(study.data_dir) / "panel.parquet"), None


def built_panel(frame: Any, info: dict[str, Any], schema: PanelSchema, source: Path) -> Panel:
    """A Panel over a built real-data panel; rows missing a group column stay and are dropped per model."""
    schema = replace(schema, group_columns=())
    validate_panel(frame, schema, str(source))
    meta = {"citations": [f"{s['title']}: {s['citation']}" for s in info["sources"].values()],
            "build_key": info["build_key"], "manifest": info["manifest"], "source_sha256": info["source_sha256"],
            "derived": info["derived"], "coverage": str(source.parent / "coverage.md")}
    return Panel(frame=frame, schema=schema, kind="real", source=str(source), meta=meta)


def load_panel_for(study: Study, graph: CausalGraph, say: Progress | None = None) -> Panel:
    """The study's panel (simulated, CSV or built), validated against ``graph``'s columns."""
    panel, _ = _load_panel(study, graph, say)
    graph.check_columns(panel.frame.columns, panel.source)
    return panel


def identify_variants(study: Study, rationales: dict[str, str] | None = None
                      ) -> dict[str, dict[str, Identification] | str]:
    """Identification of the study's question under every library DAG (each with its efficient set);
    ``rationales``, when given, is filled with each DAG's rationale."""
    from tipcausal.dag.spec import library_dags
    from tipcausal.identify import identify_with_dag

    rationales = {} if rationales is None else rationales
    out: dict[str, dict[str, Identification] | str] = {}
    for name in sorted(library_dags()):
        g = load_dag(name)
        rationales[name] = g.rationale
        missing = [n for n in (study.treatment, *study.outcomes) if n not in g.node_ids]
        if missing:
            out[name] = f"not applicable: the DAG has no node(s) {', '.join(missing)}"
            continue
        out[name] = identify_with_dag(g, study.treatment, study.outcomes, study.assume_absorbed)
    return out


def identify_study(study: Study, graph: CausalGraph) -> dict[str, Identification]:
    """Identification of the study's treatment effect on each outcome (raises on a refused set)."""
    graph.check_roles(study.treatment, study.outcomes)
    return {o: identify_outcome(graph, study.treatment, o, study.adjustment, study.assume_absorbed,
                                override=study.override) for o in study.outcomes}


def prepare(study: Study, progress: Progress | None = None) -> tuple[CausalGraph, Panel, Any, dict[str, Identification], dict[str, ModelSpec]]:
    """Every check that can fail on bad input, before any sampling: DAG, data, identification, specs."""
    graph = load_dag(study.dag)
    panel, sim = _load_panel(study, graph, progress)
    graph.check_columns(panel.frame.columns, panel.source)
    covariates = []
    for node_id in study.adjustment:
        node = graph.node(node_id)
        if node.type == "categorical":
            if node.column != "region" or not study.model_options.get("region_intercepts", True):
                raise InputError(f"{study.source}: categorical adjustment node {node_id!r} is only supported as the "
                                 "model's region level (column 'region' with region_intercepts = true)")
            continue
        covariates.append(node.column)
    idents = identify_study(study, graph)
    try:
        specs = {o: ModelSpec(outcome=graph.node(o).column, treatment=graph.node(study.treatment).column,
                              covariates=tuple(covariates), **study.model_options).with_priors(study.priors)
                 for o in study.outcomes}
    except TypeError as exc:
        raise InputError(f"{study.source}: [model]: {exc}") from None
    if any(s.binary for s in specs.values()):
        raise InputError(f"{study.source}: the primary model must be ordinal (cumulative_logit or cumulative_probit); "
                         "fit binary_logit as a [[compare]] specification beside it")
    for alt in study.alternatives:
        alternative_specs(alt, specs)
    return graph, panel, sim, idents, specs


def run_study(study: Study, *, progress: Progress | None = None, show_sampler_progress: bool = True) -> StudyResult:
    """Run every stage of ``study`` and write its outputs; never raises on an unconverged fit."""
    from tipcausal.baselines import fit_baselines
    from tipcausal.fitting import assess, mark, sample_spec
    from tipcausal.models.binding import bind_data
    from tipcausal.models.pymc_builder import build_model
    from tipcausal.report.render import write_report
    from tipcausal.sampling import configure_jax
    from tipcausal.specifications import run_alternatives, spec_row

    say = progress or (lambda msg: log.info(msg))
    if study.sampler.backend == "numpyro":
        for note in configure_jax(study.sampler.chains):  # before anything below can import JAX
            say(note)
    graph, panel, sim, idents, specs = prepare(study, say)
    out_dir = Path(study.output_dir)
    say(f"study {study.name!r}: {panel!r}")
    for outcome, ident in idents.items():
        say(f"  {outcome}: identification {ident.status}"
            + (f" (open path: {ident.open_path_text})" if ident.open_path_text else ""))
    result = StudyResult(study=study, graph=graph, panel=panel, out_dir=out_dir)
    result.variants, result.dag_tests = dag_checks(study, graph, panel)
    say(f"DAG tests: {result.dag_tests['n_rejected']} of {result.dag_tests['n_tested']} implied independence(s) "
        f"rejected by country-clustered tests (Holm, alpha {result.dag_tests['alpha']})")
    versions = provenance.library_versions()
    if sim is not None:
        sim.save(out_dir / "data")
    s = study.sampler

    def save(run: Any, spec: ModelSpec, data: Any, gate: GateResult | None, settings: SamplerSettings,
             path: Path, outcome: str) -> dict[str, Any]:
        prov = {
            "study": study.name, "study_file": study.source, "outcome": outcome, "seed": settings.seed,
            "sampler": {**settings.__dict__}, "data_hash": panel.hash, "data_kind": panel.kind,
            "data_source": panel.source, "dag_hash": graph.hash, "dag_source": graph.source, "data_build": panel.meta,
            "model_spec": spec.to_dict(), "model_hash": spec.hash, "treatment_sd": data.treatment_sd,
            "treatment_mean": data.treatment_mean, "covariate_scale": data.covariate_scale,
            "dropped_incomplete": data.dropped, "imputed": data.imputed, "versions": versions,
            "created": provenance.utc_now(),
            "timings": {"wall_s": run.wall_s, "compile_s": run.compile_s, "sampling_s": run.sampling_s},
            "sampler_notes": list(run.notes), "diagnostics": None if gate is None else gate.to_dict(),
        }
        if outcome in idents:
            prov["identification"] = idents[outcome].to_dict()
        save_fit(run.idata, prov, path)
        return prov

    references: dict[str, tuple[Any, Any]] = {}
    for i, outcome in enumerate(study.outcomes, 1):
        spec = specs[outcome]
        data = bind_data(panel, spec)
        say(f"[{i}/{len(study.outcomes)}] {outcome}: {data.n_obs} country-years, {len(data.coords['country'])} "
            f"countries; sampling with {s.backend} ({s.chains} chains x {s.tune} tune + {s.draws} draws)")
        run = sample_spec(build_model(spec, data), s, progress=show_sampler_progress)
        mark(run.idata, spec)
        a = assess(run.idata, data, seed=s.seed)
        fit_path = out_dir / "fits" / f"{outcome}.nc"
        prov = save(run, spec, data, a.gate, s, fit_path, outcome)
        truth = None
        if sim is not None:
            t_eff = sim.true_effects(data.rows)[outcome]
            truth = {"expected_score": t_eff["expected_score"], "p_score_ge_4": t_eff["p_score_ge_4"],
                     "slope_sd": sim.truth["slope_sd"][outcome], "slope_mean": sim.truth["effect_mean"][outcome],
                     "by_country": t_eff["by_country"]}
        es = a.effects["effects"]["expected_score"]
        verdict = "PASS" if a.gate.passed else "FAIL: " + "; ".join(a.gate.reasons)
        say(f"    {outcome}: diagnostics {verdict}; effect on expected score {es['mean']:+.3f} "
            f"[{es['hdi_low']:+.3f}, {es['hdi_high']:+.3f}]")
        if a.loo["warning"]:
            say(f"    {outcome}: PSIS-LOO warning: {a.loo['n_k_over_0_7']} country-year(s) with Pareto k > 0.7")
        references[outcome] = (data.rows, a.pointwise_elpd)
        r = OutcomeResult(
            outcome=outcome, identification=idents[outcome], spec=spec, idata=run.idata, gate=a.gate,
            effects=a.effects, ppc=a.ppc, n_obs=data.n_obs, n_countries=len(data.coords["country"]),
            fit_path=fit_path, provenance=prov, truth=truth,
            baselines=fit_baselines(panel.frame, spec.outcome, spec.treatment, spec.covariates), loo=a.loo)
        r.specifications.append(spec_row("primary", spec, data, a, fit_path))
        result.outcomes[outcome] = r
    if study.alternatives:
        rows, result.joint = run_alternatives(
            study.alternatives, specs, panel, s, references, out_dir,
            save, say, show_sampler_progress)
        for outcome, extra in rows.items():
            result.outcomes[outcome].specifications.extend(extra)
    result.summary = build_summary(result, versions)
    provenance.write_json_atomic(out_dir / "summary.json", result.summary)
    write_report(result, out_dir / "report.html")
    say(f"wrote {out_dir / 'report.html'}, {out_dir / 'summary.json'} and the fits in {out_dir / 'fits'}")
    return result


def dag_checks(study: Study, graph: CausalGraph, panel: Panel, alpha: float = 0.05) -> tuple[dict, dict]:
    """Identification under every library DAG, and the clustered tests of the study DAG's implications."""
    import math

    from tipcausal.dag.implications import implication_report

    rationales: dict[str, str] = {}
    variants = {name: {"rationale": rationales.get(name, ""), "results": results}
                for name, results in identify_variants(study, rationales).items()}
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


def save_fit(idata: az.InferenceData, prov: dict[str, Any], path: Path) -> Path:
    """Write a fit as netCDF plus ``<name>.provenance.json``, each atomically (verified before rename)."""
    idata.posterior.attrs["tipcausal_provenance"] = provenance.canonical_json(
        {k: prov[k] for k in ("seed", "data_hash", "dag_hash", "model_hash")})

    def verify(tmp: Path) -> None:
        check = az.from_netcdf(tmp)
        if "posterior" not in check.groups():
            raise OSError(f"{tmp}: written fit has no posterior")

    provenance.write_atomic_with(path, lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"), verify)
    provenance.write_json_atomic(path.with_suffix(".provenance.json"), prov)
    return path


def build_summary(result: StudyResult, versions: dict[str, str]) -> dict[str, Any]:
    """The documented machine-readable summary (see README, "summary.json")."""
    study = result.study
    outcomes: dict[str, Any] = {}
    for name, r in result.outcomes.items():
        entry: dict[str, Any] = {
            "effects": r.effects["effects"],
            "slope_sd": r.effects.get("slope_sd"),
            "slope_mean": r.effects["slope_mean"],
            "diagnostics": r.gate.to_dict(),
            "identification": r.identification.to_dict(),
            "n_obs": r.n_obs,
            "n_countries": r.n_countries,
            "fit": str(r.fit_path),
            "model_hash": r.spec.hash,
            "timings": r.provenance["timings"],
            "baselines": [b.to_dict() for b in r.baselines],
            "loo": r.loo,
            "specifications": r.specifications,
        }
        if r.truth is not None:
            entry["truth"] = {k: r.truth[k] for k in ("expected_score", "p_score_ge_4", "slope_sd", "slope_mean")}
        outcomes[name] = entry
    kind: Literal["simulated", "real"] = result.panel.kind
    return {
        "schema_version": 1,
        "study": study.name,
        "title": study.title,
        "data": {"kind": kind, "hash": result.panel.hash, "source": result.panel.source,
                 "rows": len(result.panel.frame), "countries": result.panel.n_countries,
                 "build_key": result.panel.meta.get("build_key"), "citations": result.panel.meta.get("citations", [])},
        "treatment": study.treatment,
        "effect_definition": "change from raising the treatment by one SD in every observed country-year "
                             "(do-operator, averaged over observed country-years); intervals are 94% HDIs",
        "all_passed": result.passed,
        "failed_specifications": result.failed_specifications,
        "outcomes": outcomes,
        "dag_tests": result.dag_tests,
        "joint_model": result.joint,
        "dag_variants": {name: (v["results"] if isinstance(v["results"], str) else
                                {o: {"status": i.status, "adjustment": list(i.adjustment),
                                     "open_path": i.open_path_text} for o, i in v["results"].items()})
                         for name, v in result.variants.items()},
        "provenance": {"seed": study.sampler.seed, "data_seed": study.data_seed if kind == "simulated" else None,
                       "data_hash": result.panel.hash, "dag_hash": result.graph.hash, "dag": result.graph.source,
                       "model_specs": {n: r.spec.to_dict() for n, r in result.outcomes.items()},
                       "sampler": study.sampler.__dict__, "versions": versions, "created": provenance.utc_now(),
                       "study": study.to_dict()},
    }
