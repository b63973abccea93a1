"""The ``tipcausal`` command line (typer).

Exit codes: 0 success; 2 bad input (nothing sampled, nothing written); 3 a fit failed the
diagnostics gate (results written and flagged; use --allow-unconverged to exit 0 anyway).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from tipcausal import __version__, api
from tipcausal.api import InputError, load_study

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None)  # help text as written
console = Console(stderr=True, soft_wrap=True)

EXIT_INPUT = 2
EXIT_UNCONVERGED = 3
EXIT_INTERRUPTED = 130


def _interrupted(what: str) -> None:
    """Ctrl-C: one line, exit 130 at once (a sampler thread still computing is not waited for)."""
    console.print(f"[bold yellow]interrupted:[/] {escape(what)}", highlight=False)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def _fail_input(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    raise typer.Exit(EXIT_INPUT)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tipcausal {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """tipcausal: Bayesian causal workbench for CSO consultation and anti-trafficking efforts (3P index). Start
    with `tipcausal run` to run the embedded default study."""


@app.command()
def run(
    study: Annotated[Optional[str], typer.Argument(help="Study TOML file or library study name (default: the "
                                                        "embedded default study).")] = None,
    draws: Annotated[Optional[int], typer.Option(help="Posterior draws per chain.")] = None,
    tune: Annotated[Optional[int], typer.Option(help="Tuning (warm-up) steps per chain.")] = None,
    chains: Annotated[Optional[int], typer.Option(help="Number of chains.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Sampler seed (integer).")] = None,
    sampler: Annotated[Optional[str], typer.Option(help="Sampler backend: numpyro | pymc | nutpie.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: the study's [output] dir).")] = None,
    sources: Annotated[Optional[Path], typer.Option(help="Source files folder for studies on built real data "
                                                         "(default: the study's [data] sources, else "
                                                         "$TIPCAUSAL_DATA/sources).")] = None,
    allow_unconverged: Annotated[bool, typer.Option("--allow-unconverged",
                                                    help="Exit 0 even if a fit fails the diagnostics gate "
                                                         "(results stay flagged as failed).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No sampler progress bars.")] = False,
    store: Annotated[Optional[Path], typer.Option(help="Fit store folder: fits whose data, spec, sampler settings "
                                                       "and code match a stored one are reused (default: the "
                                                       "study's [output] store, else $TIPCAUSAL_STORE, else "
                                                       "models).")] = None,
    refit: Annotated[bool, typer.Option("--refit", help="Fit every model again, replacing its stored fit.")] = False,
    no_store: Annotated[bool, typer.Option("--no-store", help="Fit without the fit store (nothing reused or "
                                                              "stored).")] = False,
) -> None:
    """Run a study end to end: DAG -> identification -> hierarchical ordinal fits -> effects -> report."""
    try:
        spec = load_study(study).with_overrides(draws=draws, tune=tune, chains=chains, seed=seed, backend=sampler,
                                                output_dir=str(out) if out else None,
                                                allow_unconverged=allow_unconverged or None,
                                                sources=str(sources) if sources else None,
                                                store=False if no_store else (str(store) if store else None),
                                                refit=refit or None)
        done = api.run(spec, progress=lambda m: console.print(m, highlight=False, markup=False),
                       show_sampler_progress=not quiet)
        result = done.result
    except InputError as exc:
        _fail_input(exc)
        return
    except KeyboardInterrupt:
        _interrupted("the run stopped before finishing; the output folder is as it was before the run")
        return
    if result.failed_specifications:
        console.print("[bold yellow]compared specification(s) failing the diagnostics gate (flagged in the report, "
                      "not to be reported):[/] " + escape(", ".join(result.failed_specifications)), highlight=False)
    if not result.passed:
        failed = [o for o, r in result.outcomes.items() if not r.gate.passed]
        for o in failed:
            console.print(f"[bold red]DIAGNOSTICS FAILED[/] {o}: " + escape("; ".join(result.outcomes[o].gate.reasons)),
                          highlight=False)
        if not spec.allow_unconverged:
            console.print("[bold red]unconverged results were written but are flagged; rerun with more draws/tune "
                          "or pass --allow-unconverged to accept them[/]")
            raise typer.Exit(EXIT_UNCONVERGED)
    console.print(f"[green]report:[/] {done.report_path}", highlight=False)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A finished run's output folder (with summary.json and fits/).")],
) -> None:
    """Render a finished run's report and summary.json again with this version's code, from the run's own fit
    files (no sampling), keeping its sensitivity section."""
    try:
        done = api.rerender(run_dir, progress=lambda m: console.print(m, highlight=False, markup=False))
    except InputError as exc:
        _fail_input(exc)
        return
    except KeyboardInterrupt:
        _interrupted("stopped before finishing; the run folder is as it was")
        return
    console.print(f"[green]report:[/] {done.report_path}", highlight=False)


@app.command()
def sensitivity(
    study: Annotated[Optional[str], typer.Argument(help="Study TOML file or library study name (default: the "
                                                        "embedded default study).")] = None,
    only: Annotated[Optional[list[str]], typer.Option(help="Only this analysis: confounding | priors | refute "
                                                           "(repeat for several; default: the study's "
                                                           "[sensitivity] analyses).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: the study's [output] dir).")] = None,
    store: Annotated[Optional[Path], typer.Option(help="Fit store folder (default: the study's [output] store, "
                                                       "else $TIPCAUSAL_STORE, else models).")] = None,
    sources: Annotated[Optional[Path], typer.Option(help="Source files folder for studies on built real data.")] = None,
    allow_unconverged: Annotated[bool, typer.Option("--allow-unconverged",
                                                    help="Exit 0 even if a primary fit fails the diagnostics "
                                                         "gate.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No sampler progress bars.")] = False,
) -> None:
    """Sensitivity analyses of a study (unobserved confounding, prior power-scaling, panel-aware refutations),
    reusing its stored fits; written into summary.json (sensitivity) and report.html."""
    try:
        spec = load_study(study).with_overrides(output_dir=str(out) if out else None,
                                                allow_unconverged=allow_unconverged or None,
                                                sources=str(sources) if sources else None,
                                                store=str(store) if store else None)
        done = api.sensitivity(spec, only=tuple(only) if only else None,
                               progress=lambda m: console.print(m, highlight=False, markup=False),
                               show_sampler_progress=not quiet)
    except InputError as exc:
        _fail_input(exc)
        return
    except KeyboardInterrupt:
        _interrupted("the sensitivity run stopped before finishing; the output folder is as it was before the run")
        return
    result = done.result
    if not result.passed and not spec.allow_unconverged:
        failed = [o for o, r in result.outcomes.items() if not r.gate.passed]
        console.print("[bold red]DIAGNOSTICS FAILED[/] " + escape(", ".join(failed)) + ": the sensitivity of an "
                      "unconverged fit is flagged in the report; rerun with more draws or pass --allow-unconverged",
                      highlight=False)
        raise typer.Exit(EXIT_UNCONVERGED)
    console.print(f"[green]report:[/] {done.report_path}", highlight=False)


@app.command()
def sweep(
    study: Annotated[Optional[str], typer.Argument(help="Study TOML file (or library name) with a [sweep] table.")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Address of an existing Dask scheduler (e.g. "
                                                          "tcp://10.0.0.5:8786; tls://... with --security). Default: "
                                                          "an embedded local cluster on 127.0.0.1.")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes of the embedded cluster (default: one per "
                                                        "two cores).")] = None,
    store: Annotated[Optional[Path], typer.Option(help="Fit store folder, shared by every worker (default: the "
                                                       "study's [output] store, else $TIPCAUSAL_STORE, else "
                                                       "models).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: <the study's [output] dir>/sweep).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the specifications, how many fits are stored, "
                                                            "and an estimated time; fit nothing.")] = False,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Fit the valid specifications and list the "
                                                                      "invalid ones (default: refuse).")] = False,
    security: Annotated[Optional[Path], typer.Option(help="YAML file of distributed.Security arguments (tls_ca_file, "
                                                          "tls_client_cert, tls_client_key, require_encryption) for a "
                                                          "TLS scheduler (default: the Dask config's).")] = None,
    sources: Annotated[Optional[Path], typer.Option(help="Source files folder for studies on built real data.")] = None,
) -> None:
    """Specification sweep: every combination of the study's [sweep] choices, fitted on Dask through the fit store
    (resumable: a rerun fits only what is missing), written as sweep.parquet/.csv/.json and sweep.html."""
    try:
        spec = load_study(study).with_overrides(sources=str(sources) if sources else None)
        say = lambda m: console.print(m, highlight=False, markup=False)  # noqa: E731
        if dry_run:
            plan = api.sweep_dry_run(spec, store=str(store) if store else None, workers=workers,
                                     skip_invalid=True, progress=say)
            typer.echo(plan.describe())
            return
        done = api.sweep(spec, scheduler=scheduler, workers=workers, store=str(store) if store else None,
                         out=out, skip_invalid=skip_invalid, security=_security(security), progress=say)
    except InputError as exc:
        _fail_input(exc)
        return
    except KeyboardInterrupt:
        _interrupted("the sweep stopped; every finished fit is in the store, and a rerun fits only the rest")
        return
    console.print(f"[green]sweep:[/] {done.html_path}", highlight=False)


@app.command()
def design(
    study: Annotated[Optional[str], typer.Argument(help="Study TOML file (or library name) with a [sweep] table "
                                                        "(and optionally [design]).")] = None,
    sims: Annotated[Optional[int], typer.Option(help="Simulated panels (default: [design] sims, else 50).")] = None,
    scheduler: Annotated[Optional[str], typer.Option(help="Address of an existing Dask scheduler (default: an "
                                                          "embedded local cluster on 127.0.0.1).")] = None,
    workers: Annotated[Optional[int], typer.Option(help="Worker processes of the embedded cluster (default: one per "
                                                        "two cores).")] = None,
    store: Annotated[Optional[Path], typer.Option(help="Fit store folder, shared by every worker (default: as for "
                                                       "sweep).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Output folder (default: <the study's [output] dir>/design).")] = None,
    security: Annotated[Optional[Path], typer.Option(help="YAML file of distributed.Security arguments for a TLS "
                                                          "scheduler.")] = None,
) -> None:
    """Design diagnosis: the sweep's specifications fitted on panels simulated from the default DAG's structural model
    with known effects; bias, RMSE, 90% coverage and power per specification (design.csv, design.html)."""
    try:
        say = lambda m: console.print(m, highlight=False, markup=False)  # noqa: E731
        done = api.design(load_study(study), sims=sims, scheduler=scheduler, workers=workers,
                          store=str(store) if store else None, out=out, security=_security(security), progress=say)
    except InputError as exc:
        _fail_input(exc)
        return
    except KeyboardInterrupt:
        _interrupted("the design diagnosis stopped; every finished fit is in the store, and a rerun fits only the rest")
        return
    console.print(done.summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"), highlight=False,
                  markup=False)
    console.print(f"[green]design:[/] {done.html_path}", highlight=False)


def _security(path: Path | None) -> object:
    """A ``distributed.Security`` from a YAML file of its arguments (None: Dask's configured TLS settings)."""
    if path is None:
        return None
    import yaml
    from distributed import Security

    try:
        options = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Security(**options)
    except (OSError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not a YAML file of distributed.Security arguments ({exc})") from None


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder for panel.csv, truth.json and latent.csv.")] = Path(
        "data/processed/simulated"),
    seed: Annotated[int, typer.Option(help="Simulation seed (integer).")] = 20241122,
    n_countries: Annotated[int, typer.Option(help="Number of countries.")] = 180,
) -> None:
    """Simulate a panel from the default DAG's structural model and save it with its true effects."""
    sim = api.simulate(out, seed=seed, n_countries=n_countries)
    console.print(f"{sim.panel!r}", highlight=False, markup=False)
    for p, e in sim.truth["effects"].items():
        console.print(f"  true effect on {p}: expected score {e['expected_score']:+.3f}, "
                      f"P(score>=4) {e['p_score_ge_4']:+.3f}", highlight=False)
    console.print(f"wrote panel.csv, truth.json and latent.csv in {out}", highlight=False)


data_app = typer.Typer(help="Build the real-data panel from source files.", no_args_is_help=True,
                       rich_markup_mode=None)
app.add_typer(data_app, name="data")


@data_app.command("build")
def data_build(
    manifest: Annotated[Optional[str], typer.Option(help="Source manifest TOML or library name.")] = None,
    sources: Annotated[Optional[Path], typer.Option(help="Folder holding the source files (default: "
                                                         "$TIPCAUSAL_DATA/sources).")] = None,
    out: Annotated[Path, typer.Option(help="Output folder for the panel and coverage report.")] = Path(
        "data/processed"),
) -> None:
    """Build the country-year panel (Parquet + CSV) and its coverage report (Markdown + JSON)."""
    try:
        build, paths = api.build_data(manifest, sources, out,
                                      progress=lambda m: console.print(m, highlight=False, markup=False))
    except InputError as exc:
        _fail_input(exc)
        return
    cov = build.coverage
    console.print(f"panel: {cov['panel']['rows']} country-years, {cov['panel']['countries_with_base_values']} "
                  f"countries with base values, {cov['window'][0]}-{cov['window'][1]}", highlight=False)
    for name, cc in cov["complete_cases"].items():
        console.print(f"  complete cases [{name}]: {cc['rows']} country-years, {cc['countries']} countries",
                      highlight=False, markup=False)
    for sid, src in cov["sources"].items():
        if src["unmatched"]:
            console.print(f"  {sid}: unmatched " + ", ".join(f"{u['country']} ({u['reason']})"
                                                           for u in src["unmatched"]), highlight=False, markup=False)
    console.print("wrote " + ", ".join(str(p) for p in paths.values()), highlight=False)


dag_app = typer.Typer(help="DAGs: check, show, identify, test against the panel.", no_args_is_help=True,
                      rich_markup_mode=None)
app.add_typer(dag_app, name="dag")


@dag_app.command("check")
def dag_check(dag: Annotated[str, typer.Argument(help="Library DAG name or YAML path.")] = "default") -> None:
    """Load and validate a DAG file (acyclic, nodes mapped, edges well formed)."""
    try:
        g = api.load_dag(dag)
    except InputError as exc:
        _fail_input(exc)
        return
    console.print(f"{g.source}: OK - {len(g.nodes)} nodes ({len(g.latent)} latent: {', '.join(g.latent) or 'none'}), "
                  f"{len(g.edges)} edges, hash {g.hash}", highlight=False)


def _sets(sets) -> str:
    return "; ".join("{" + ", ".join(x) + "}" for x in sets) if sets else "none"


def _print_identification(label: str, results: dict) -> None:
    for o, r in results.items():
        console.print(f"[bold]{escape(label)}{o}[/]: {r.status}; open backdoor path: {r.open_path_text or 'none'}",
                      highlight=False)
        opt = "{" + ", ".join(r.optimal_set) + "}" if r.optimal_set is not None else "none"
        opt_a = "{" + ", ".join(r.optimal_set_assumed) + "}" if r.optimal_set_assumed is not None else "none"
        lines = [f"minimal adjustment sets (observed only): {_sets(r.minimal_sets)}; efficient (O-set): {opt}"]
        if r.assume_absorbed:
            lines.append(f"given absorbed {{{', '.join(r.assume_absorbed)}}}: minimal {_sets(r.minimal_sets_assumed)}; "
                         f"efficient {opt_a}")
        lines.append(f"front-door: {_sets([r.frontdoor] if r.frontdoor else [])}; instruments: "
                     f"{', '.join(r.instruments) or 'none'}; DoWhy backdoor sets: {_sets(r.dowhy_backdoor_sets)}")
        lines.append(f"adjusting for: {{{', '.join(r.adjustment)}}}")
        lines += list(r.assumptions)
        for line in lines:
            console.print(f"   - {line}", highlight=False, markup=False)


@dag_app.command("identify")
def dag_identify(
    study: Annotated[Optional[str], typer.Argument(help="Study TOML or library name.")] = None,
    variants: Annotated[bool, typer.Option("--variants", help="Also identify under every library DAG, each "
                                                               "adjusting for its own efficient set.")] = False,
) -> None:
    """Identify the effect of the study's treatment on each outcome (DoWhy + guard-rails)."""
    try:
        s = load_study(study)
        _print_identification("", api.identify(s))
        if variants:
            for name, v in api.identify_variants(s).items():
                console.print(f"\n[bold]DAG variant {escape(name)}[/]", highlight=False)
                if v.not_applicable is not None:
                    console.print(f"   {v.not_applicable}", highlight=False, markup=False)
                else:
                    _print_identification(f"{name}: ", v.results)
    except InputError as exc:
        _fail_input(exc)


@dag_app.command("show")
def dag_show(
    dag: Annotated[str, typer.Argument(help="Library DAG name or YAML path.")] = "default",
    study: Annotated[Optional[str], typer.Option(help="Study whose roles (treatment, outcomes, adjustment) "
                                                      "style the nodes (default: the default study).")] = None,
    out: Annotated[Path, typer.Option(help="Image file to write (.png, .svg or .pdf).")] = Path("dag.png"),
) -> None:
    """Draw a DAG (treatment, outcomes, latent, adjusted and unadjusted nodes styled apart)."""
    try:
        api.save_dag(load_study(study), out, api.load_dag(dag))
    except InputError as exc:
        _fail_input(exc)
        return
    console.print(f"wrote {out}", highlight=False)


@dag_app.command("test")
def dag_test(
    study: Annotated[Optional[str], typer.Argument(help="Study TOML or library name (its panel is used).")] = None,
    dag: Annotated[Optional[str], typer.Option(help="DAG to test (default: the study's).")] = None,
    alpha: Annotated[float, typer.Option(help="Family-wise error rate (Holm).")] = 0.05,
    sources: Annotated[Optional[Path], typer.Option(help="Source files folder for built real data.")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Also write the table as CSV.")] = None,
) -> None:
    """Test the DAG's implied conditional independences on the study's panel, clustered by country."""
    try:
        s = load_study(study).with_overrides(sources=str(sources) if sources else None)
        g = api.load_dag(dag or s.dag)
        table = api.check_dag(s, g, alpha=alpha, out=out,
                              progress=lambda m: console.print(m, highlight=False, markup=False))
    except InputError as exc:
        _fail_input(exc)
        return
    console.print(f"DAG {g.name}: {len(table)} implied independence(s) tested on {table.attrs['panel_source']} "
                  f"(country-clustered regression tests, Holm at alpha = {alpha}; naive i.i.d. and DoWhy for "
                  "comparison)", highlight=False, markup=False)
    for r in table.itertuples():
        if isinstance(r.skipped, str):
            console.print(f"  {r.implication}: not tested ({r.skipped})", highlight=False, markup=False)
            continue
        verdict = "REJECTED" if r.rejected_clustered else "not rejected"
        dowhy = "n/a" if r.p_dowhy is None or r.p_dowhy != r.p_dowhy else f"{r.p_dowhy:.3g}"
        console.print(f"  {r.implication}: {verdict} (clustered p = {r.p_clustered:.3g}, Holm {r.p_clustered_holm:.3g}; "
                      f"naive p = {r.p_naive:.3g}; DoWhy p = {dowhy}; n = {r.n}, {r.countries} countries)",
                      highlight=False, markup=False)
    if out:
        console.print(f"wrote {out}", highlight=False)


def main() -> None:
    """Console-script entry point (SIGUSR1 prints every thread's stack to stderr: where a run is stuck)."""
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.exit(app())


if __name__ == "__main__":
    main()
