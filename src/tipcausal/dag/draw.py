"""Drawing a DAG with a study's roles (treatment, outcomes, adjusted, absorbed) styled apart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from tipcausal.dag.spec import CausalGraph
from tipcausal.dag.adjustment import minimal_adjustment_sets, optimal_adjustment_set

if TYPE_CHECKING:
    from tipcausal.study import Study


def draw_dag(graph: CausalGraph, study: Study | None = None) -> Figure:
    """The DAG figure. With the study's own DAG its adjustment set is shown; with another DAG that has the
    study's treatment and outcomes, that DAG's efficient adjustment set; otherwise the DAG file's roles."""
    from tipcausal.report.figures import dag_figure

    if study is not None and all(n in graph.node_ids for n in (study.treatment, *study.outcomes)):
        absorbed = tuple(a for a in study.assume_absorbed if a in graph.node_ids)
        if graph.source == str(study.dag) or graph.name == study.dag:
            adjustment = study.adjustment
        else:
            g, latent, o = graph.to_networkx(), set(graph.latent), study.outcomes[0]
            optimal = optimal_adjustment_set(g, study.treatment, o, latent, frozenset(absorbed))
            minimal = minimal_adjustment_sets(g, study.treatment, o, latent, frozenset(absorbed))
            adjustment = optimal if optimal is not None else (minimal[0] if minimal else ())
        return dag_figure(graph, study.treatment, study.outcomes, adjustment, absorbed)
    return dag_figure(graph, graph.treatment, graph.outcomes)
