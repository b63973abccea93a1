"""Data from Python: build the real country-year panel from its source files, or simulate one from the default
DAG's structural model with known effects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tipcausal.core.rundir import check_output_dir
from tipcausal.data.build import Build, build_panel, default_sources_dir, write_build
from tipcausal.simulation.structural import SimulatedPanel, SimulationConfig, simulate_panel


def build_data(manifest: str | Path | None = None, sources: str | Path | None = None,
               out: str | Path = "data/processed", *, progress: Callable[[str], None] | None = None
               ) -> tuple[Build, dict[str, Path]]:
    """Build the panel of a source manifest (a library name or a TOML path; default: the library's) from the
    source files in ``sources`` (default: ``$TIPCAUSAL_DATA/sources``) and write it (Parquet and CSV) with its
    coverage report into ``out``, all-or-nothing. Bad sources raise one error listing every problem, before
    anything is written."""
    check_output_dir(out)
    build = build_panel(manifest, sources if sources is not None else default_sources_dir(), progress=progress)
    return build, write_build(build, out)


def simulate(out: str | Path | None = None, *, seed: int = 20241122, n_countries: int = 180,
             config: SimulationConfig | None = None) -> SimulatedPanel:
    """A panel simulated from the default DAG's structural model (``config``: its parameters; default the ones
    calibrated to the real panel, with ``n_countries``), with its true effects; written to ``out`` (panel.csv,
    truth.json, latent.csv) when given."""
    sim = simulate_panel(seed, config if config is not None else SimulationConfig(n_countries=n_countries))
    if out is not None:
        sim.save(out)
    return sim


__all__ = ["SimulationConfig", "build_data", "simulate"]
