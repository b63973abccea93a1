"""Drawing a causal graph: a matplotlib Figure in layers (causes left, outcomes right), roles styled apart.

The figure is a plain ``Figure`` (no pyplot state), so drawing changes nothing in a user's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import networkx as nx
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tipcausal.core.figure import InlineFigure


class DrawableGraph(Protocol):
    """What drawing needs of a graph (``CausalGraph`` has it): its networkx form, its nodes, a name."""

    name: str
    title: str

    def to_networkx(self) -> nx.DiGraph: ...

    def node(self, node_id: str) -> Any: ...

STYLE = {
    "treatment": "#1b6ca8",
    "outcome": "#c0392b",
    "latent": "#ffffff",
    "adjusted": "#f4d03f",
    "absorbed": "#d5d8dc",
    "other": "#eaf2f8",
}

def dag_figure(graph: DrawableGraph, treatment: str, outcomes: Sequence[str], adjustment: Sequence[str] = (),
               absorbed: Sequence[str] = ()) -> Figure:
    """The DAG in layers (causes left, outcomes right), roles styled apart; latent nodes dashed."""
    g = graph.to_networkx()
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for n in nodes:
            g.nodes[n]["layer"] = layer
    for o in outcomes:  # outcomes share the last column
        g.nodes[o]["layer"] = max(d["layer"] for _, d in g.nodes(data=True))
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical", scale=1.0)
    fig = InlineFigure(figsize=(11, 6.2))
    ax = fig.subplots()
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=14, edge_color="#7f8c8d", width=1.0,
                           node_size=2600, connectionstyle="arc3,rad=0.06")
    highlight = [(treatment, o) for o in outcomes if g.has_edge(treatment, o)]
    nx.draw_networkx_edges(g, pos, edgelist=highlight, ax=ax, arrows=True, arrowsize=16,
                           edge_color=STYLE["treatment"], width=2.4, node_size=2600)
    for n, (x, y) in pos.items():
        node = graph.node(n)
        role = ("treatment" if n == treatment else "outcome" if n in outcomes else "absorbed" if n in absorbed
                else "latent" if node.latent else "adjusted" if n in adjustment else "other")
        text_color = "white" if role in ("treatment", "outcome") else "#1c2833"
        ax.text(x, y, node.label.replace(" ", "\n", 1) if len(node.label) > 14 else node.label, ha="center",
                va="center", fontsize=9, color=text_color, zorder=3,
                bbox={"boxstyle": "round,pad=0.45", "fc": STYLE[role], "ec": "#566573",
                      "ls": "--" if node.latent else "-", "lw": 1.2})
    handles = [Line2D([], [], marker="s", ls="", ms=11, mfc=STYLE[k], mec="#566573", label=lbl)
               for k, lbl in [("treatment", "treatment"), ("outcome", "outcome"), ("adjusted", "adjusted for"),
                              ("absorbed", "latent, assumed absorbed by country effects"),
                              ("latent", "latent (dashed)"), ("other", "not adjusted")]]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.13), ncol=3, frameon=False, fontsize=8.5)
    ax.set_title(graph.title or graph.name, fontsize=11)
    ax.axis("off")
    ax.margins(0.08)
    return fig
