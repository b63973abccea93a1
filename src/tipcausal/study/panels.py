"""The panel a study runs on: simulated from the default DAG, read from a CSV file, or built from sources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tipcausal.causal.graph import CausalGraph
from tipcausal.data.build import default_sources_dir, ensure_built
from tipcausal.data.panel import Panel, PanelSchema, load_panel_csv, validate_panel
from tipcausal.simulation.structural import SimulatedPanel, SimulationConfig, simulate_panel
from tipcausal.study.config import BuiltData, CsvData, SimulatedData, Study

Progress = Callable[[str], None]


def study_panel(study: Study, graph: CausalGraph, say: Progress | None = None) -> tuple[Panel, SimulatedPanel | None]:
    """The study's panel, checked against ``graph``'s columns, and the simulation (with its truth) when the data
    are simulated."""
    panel, sim = _load(study, graph, say)
    graph.check_columns(panel.frame.columns, panel.source)
    return panel, sim


def _load(study: Study, graph: CausalGraph, say: Progress | None) -> tuple[Panel, SimulatedPanel | None]:
    source = study.data
    if isinstance(source, SimulatedData):
        sim = simulate_panel(source.seed, SimulationConfig(n_countries=source.n_countries))
        return sim.panel, sim
    numeric = tuple(c for n, c in graph.columns().items()
                    if graph.node(n).type != "categorical" and n not in study.outcomes)
    schema = PanelSchema(outcomes=tuple(graph.node(o).column for o in study.outcomes), numeric=numeric)
    if isinstance(source, CsvData):
        return load_panel_csv(source.path, schema, kind="real"), None
    assert isinstance(source, BuiltData)
    sources = Path(source.sources) if source.sources else default_sources_dir()
    frame, info, _ = ensure_built(source.manifest, sources, source.dir, progress=say)
    return built_panel(frame, info, schema, Path(source.dir) / "panel.parquet"), None


def built_panel(frame: Any, info: dict[str, Any], schema: PanelSchema, source: Path) -> Panel:
    """A Panel over a built real-data panel; rows missing a group column stay and are dropped per model."""
    schema = replace(schema, group_columns=())
    validate_panel(frame, schema, str(source))
    meta = {"citations": [f"{s['title']}: {s['citation']}" for s in info["sources"].values()],
            "build_key": info["build_key"], "manifest": info["manifest"], "source_sha256": info["source_sha256"],
            "derived": info["derived"], "coverage": str(source.parent / "coverage.md")}
    return Panel(frame=frame, schema=schema, kind="real", source=str(source), meta=meta)
