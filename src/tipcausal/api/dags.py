"""DAGs from Python: load one, draw a study's, and test its implications on the study's panel."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from tipcausal.causal.graph import CausalGraph, load_dag
from tipcausal.causal.implications import implication_report
from tipcausal.report.figures import draw_dag
from tipcausal.study.config import Study
from tipcausal.study.runner import Prepared


def plot_dag(study: Study, graph: CausalGraph | None = None) -> Figure:
    """The study's DAG (or ``graph``, another DAG with its treatment and outcomes) with the study's treatment,
    outcomes and adjustment set; shows inline in Jupyter."""
    return draw_dag(graph if graph is not None else load_dag(study.dag), study)


def check_dag(prepared: Prepared, alpha: float = 0.05) -> pd.DataFrame:
    """Each conditional independence the study's DAG implies, tested on its panel: country-clustered F tests
    (Holm-adjusted) beside the naive i.i.d. test and DoWhy's graph refutation."""
    return implication_report(prepared.panel.frame, prepared.graph, alpha=alpha)


__all__ = ["check_dag", "load_dag", "plot_dag"]
