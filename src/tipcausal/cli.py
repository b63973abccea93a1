"""The ``tipcausal`` command line (typer).

Exit codes: 0 success; 2 bad input (nothing sampled, nothing written); 3 a fit failed the
diagnostics gate (results written and flagged; use --allow-unconverged to exit 0 anyway).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from tipcausal.errors import InputError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="tipcausal: Bayesian causal workbench for CSO consultation and anti-trafficking efforts "
                       "(3P index). Start with `tipcausal run` to run the embedded default study.")
console = Console(stderr=True, soft_wrap=True)

EXIT_INPUT = 2
EXIT_UNCONVERGED = 3


def _fail_input(exc: Exception) -> None:
    console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
    raise typer.Exit(EXIT_INPUT)


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
) -> None:
    """Run a study end to end: DAG -> identification -> hierarchical ordinal fits -> effects -> report."""
    from tipcausal.study import load_study, run_study

    try:
        spec = load_study(study).with_overrides(draws=draws, tune=tune, chains=chains, seed=seed, backend=sampler,
                                                output_dir=str(out) if out else None,
                                                allow_unconverged=allow_unconverged or None,
                                                sources=str(sources) if sources else None)
        result = run_study(spec, progress=lambda m: console.print(m, highlight=False, markup=False),
                           show_sampler_progress=not quiet)
    except InputError as exc:
        _fail_input(exc)
        return
    if not result.passed:
        failed = [o for o, r in result.outcomes.items() if not r.gate.passed]
        for o in failed:
            console.print(f"[bold red]DIAGNOSTICS FAILED[/] {o}: " + escape("; ".join(result.outcomes[o].gate.reasons)),
                          highlight=False)
        if not spec.allow_unconverged:
            console.print("[bold red]unconverged results were written but are flagged; rerun with more draws/tune "
                          "or pass --allow-unconverged to accept them[/]")
            raise typer.Exit(EXIT_UNCONVERGED)
    console.print(f"[green]report:[/] {result.out_dir / 'report.html'}", highlight=False)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Folder for panel.csv, truth.json and latent.csv.")] = Path(
        "data/processed/simulated"),
    seed: Annotated[int, typer.Option(help="Simulation seed (integer).")] = 20241122,
    n_countries: Annotated[int, typer.Option(help="Number of countries.")] = 180,
) -> None:
    """Simulate a panel from the default DAG's structural model and save it with its true effects."""
    from tipcausal.simulate import SimulationConfig, simulate_panel

    sim = simulate_panel(seed, SimulationConfig(n_countries=n_countries))
    paths = sim.save(out)
    console.print(f"{sim.panel!r}", highlight=False, markup=False)
    for p, e in sim.truth["effects"].items():
        console.print(f"  true effect on {p}: expected score {e['expected_score']:+.3f}, "
                      f"P(score>=4) {e['p_score_ge_4']:+.3f}", highlight=False)
    console.print("wrote " + ", ".join(str(p) for p in paths.values()), highlight=False)


data_app = typer.Typer(help="Build the real-data panel from source files.", no_args_is_help=True)
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
    from tipcausal.data.build import build_panel, default_sources_dir, write_build

    try:
        build = build_panel(manifest, sources or default_sources_dir(),
                            progress=lambda m: console.print(m, highlight=False, markup=False))
        paths = write_build(build, out)
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


dag_app = typer.Typer(help="Inspect DAGs: check, identify.", no_args_is_help=True)
app.add_typer(dag_app, name="dag")


@dag_app.command("check")
def dag_check(dag: Annotated[str, typer.Argument(help="Library DAG name or YAML path.")] = "default") -> None:
    """Load and validate a DAG file (acyclic, nodes mapped, edges well formed)."""
    from tipcausal.dag import load_dag

    try:
        g = load_dag(dag)
    except InputError as exc:
        _fail_input(exc)
        return
    console.print(f"{g.source}: OK - {len(g.nodes)} nodes ({len(g.latent)} latent: {', '.join(g.latent) or 'none'}), "
                  f"{len(g.edges)} edges, hash {g.hash}", highlight=False)


@dag_app.command("identify")
def dag_identify(study: Annotated[Optional[str], typer.Argument(help="Study TOML or library name.")] = None) -> None:
    """Identify the effect of the study's treatment on each outcome (DoWhy + guard-rails)."""
    from tipcausal.dag import load_dag
    from tipcausal.study import identify_study, load_study

    try:
        s = load_study(study)
        for o, r in identify_study(s, load_dag(s.dag)).items():
            console.print(f"[bold]{o}[/]: {r.status}; open backdoor path: {r.open_path_text or 'none'}; "
                          f"DoWhy backdoor sets: {[list(x) for x in r.dowhy_backdoor_sets] or 'none'}", highlight=False)
            for a in r.assumptions:
                console.print(f"   - {a}", highlight=False, markup=False)
    except InputError as exc:
        _fail_input(exc)


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())


if __name__ == "__main__":
    main()
