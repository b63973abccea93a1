"""DAG figures are laid out by Graphviz: outcomes share the right-hand rank, no edge runs through the treatment's
box, latent nodes are dashed and every legend swatch is distinguishable."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.patches import FancyBboxPatch

from tipcausal.causal.drawing import dag_figure, layout
from tipcausal.causal.graph import library_dags, load_dag

TREATMENT = "cso_consultation"
OUTCOMES = ("prosecution", "protection", "prevention")


def _bezier(ctrl: list[tuple[float, float]], n: int = 60) -> np.ndarray:
    """Points along a piecewise cubic Bezier curve (Graphviz's 3k + 1 control points)."""
    p = np.asarray(ctrl, dtype=float)
    t = np.linspace(0, 1, n)[:, None]
    out = []
    for i in range(0, len(p) - 3, 3):
        a, b, c, d = p[i:i + 4]
        out.append((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c + t ** 3 * d)
    return np.concatenate(out)


@pytest.mark.parametrize("name", sorted(library_dags()))
def test_no_edge_crosses_the_treatment_and_outcomes_share_a_rank(name):
    graph = load_dag(name)
    if TREATMENT not in graph.node_ids:
        pytest.skip(f"{name} has no {TREATMENT}")
    lay = layout(graph, OUTCOMES)
    x, y, w, h = lay.nodes[TREATMENT]
    for (u, v), (ctrl, _tip) in lay.edges.items():
        assert len(ctrl) >= 4 and (len(ctrl) - 1) % 3 == 0
        if TREATMENT in (u, v):
            continue
        pts = _bezier(ctrl)
        inside = (np.abs(pts[:, 0] - x) < w / 2 - 1) & (np.abs(pts[:, 1] - y) < h / 2 - 1)
        assert not inside.any(), f"{name}: edge {u} -> {v} runs through the treatment's box"
    xs = {lay.nodes[o][0] for o in OUTCOMES if o in lay.nodes}
    assert len(xs) == 1 and xs.pop() == max(n[0] for n in lay.nodes.values())  # one column, the right-most


def test_latent_nodes_are_dashed_and_legend_swatches_differ():
    graph = load_dag("default")
    fig = dag_figure(graph, TREATMENT, OUTCOMES, adjustment=("region", "democracy", "corruption", "gdp"),
                     absorbed=("political_will",))
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(graph.node_ids)
    dashed = sum(p.get_linestyle() not in ("-", "solid") for p in boxes)
    assert dashed == len(graph.latent)
    handles = fig.legends[0].legend_handles
    styles = {(tuple(np.round(h.get_facecolor(), 3)), str(h.get_linestyle())) for h in handles}
    assert len(styles) == len(handles) == 6
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
