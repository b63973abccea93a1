"""DAGs from Python: load one, draw a study's (inline or to a file), identify the effect under it (and under
every library DAG), and test its implications on the study's panel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from tipcausal.causal.graph import CausalGraph, load_dag
from tipcausal.causal.implications import implication_report
from tipcausal.causal.variants import identify_variants as _identify_variants
from tipcausal.core.errors import InputError
from tipcausal.core.io import write_atomic_with, write_text_atomic
from tipcausal.report.figures import draw_dag
from tipcausal.study.config import Study
from tipcausal.study.panels import study_panel
from tipcausal.study.runner import Prepared, identify_study

IMAGE_FORMATS = (".png", ".svg", ".pdf")


def plot_dag(study: Study, graph: CausalGraph | None = None) -> Figure:
    """The study's DAG (or ``graph``, another DAG with its treatment and outcomes) with the study's treatment,
    outcomes and adjustment set; shows inline in Jupyter."""
    return draw_dag(graph if graph is not None else load_dag(study.dag), study)


def save_dag(study: Study, path: str | Path, graph: CausalGraph | None = None) -> Path:
    """``plot_dag`` written to ``path`` (.png, .svg or .pdf), atomically."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_FORMATS:
        raise InputError(f"{path}: the image must end in {', '.join(IMAGE_FORMATS[:-1])} or {IMAGE_FORMATS[-1]}")
    fig = plot_dag(study, graph)
    write_atomic_with(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip(".").lower(), dpi=130,
                                                    bbox_inches="tight"))
    return path


def identify(study: Study, graph: CausalGraph | None = None) -> dict[str, Any]:
    """The identification of the study's treatment effect on each outcome under its DAG (or ``graph``): DoWhy's
    backdoor sets and the guard-rails (minimal and efficient sets, front-door, instruments, open paths), by
    outcome."""
    return identify_study(study, graph if graph is not None else load_dag(study.dag))


def identify_variants(study: Study) -> dict[str, Any]:
    """The same identification under every library DAG, each adjusting for its own efficient set, by DAG name."""
    return _identify_variants(study.treatment, study.outcomes, study.assume_absorbed)


def check_dag(study: Study | Prepared, graph: CausalGraph | None = None, *, alpha: float = 0.05,
              progress: Callable[[str], None] | None = None, out: str | Path | None = None) -> pd.DataFrame:
    """Each conditional independence the DAG implies (the study's, or ``graph``), tested on the study's panel:
    country-clustered F tests (Holm-adjusted) beside the naive i.i.d. test and DoWhy's graph refutation. A
    ``Study`` has only its panel loaded (``progress`` hears about it), a ``Prepared`` study is used as it is. The
    table's ``attrs["panel_source"]`` names the panel; ``out``: also written there as CSV, atomically."""
    if isinstance(study, Prepared):
        panel, graph = study.panel, graph if graph is not None else study.graph
    else:
        graph = graph if graph is not None else load_dag(study.dag)
        panel, _ = study_panel(study, graph, say=progress)
    table = implication_report(panel.frame, graph, alpha=alpha)
    table.attrs["panel_source"] = panel.source
    if out is not None:
        write_text_atomic(Path(out), table.to_csv(index=False))
    return table


__all__ = ["check_dag", "identify", "identify_variants", "load_dag", "plot_dag", "save_dag"]
