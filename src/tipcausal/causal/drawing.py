"""Drawing a causal graph: a matplotlib Figure laid out by Graphviz's ``dot`` (causes left, outcomes right in one
column), roles styled apart, latent nodes dashed.

Graphviz (through ``pygraphviz``, whose wheels carry the library) places the nodes and routes every edge as a
spline around the other nodes, so no edge runs through the treatment's box; matplotlib draws what it computed.
The figure is a plain ``Figure`` (no pyplot state), so drawing changes nothing in a user's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path

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
EDGE = "#7f8c8d"
FONT_PT = 9.0
POINTS_PER_INCH = 72.0
MAX_WIDTH_IN = 11.0


@dataclass(frozen=True)
class Layout:
    """Where Graphviz put each node (centre, width and height, in points) and each edge's route (cubic Bezier
    control points, then the arrow's tip), inside a bounding box (x0, y0, x1, y1)."""

    nodes: dict[str, tuple[float, float, float, float]]
    edges: dict[tuple[str, str], tuple[list[tuple[float, float]], tuple[float, float] | None]]
    bbox: tuple[float, float, float, float]


def _label(node: Any) -> str:
    return node.label.replace(" ", "\n", 1) if len(node.label) > 14 else node.label


def _points(text: str) -> tuple[float, float]:
    x, y = text.split(",")[:2]
    return float(x), float(y)


def layout(graph: DrawableGraph, outcomes: Sequence[str]) -> Layout:
    """The ``dot`` layout of ``graph``, left to right, with ``outcomes`` in one rank."""
    import pygraphviz as pgv

    g = graph.to_networkx()
    a = pgv.AGraph(directed=True, strict=True, rankdir="LR", nodesep="0.22", ranksep="1.1", splines="spline")
    a.node_attr.update(shape="box", style="rounded", fontsize=str(FONT_PT), fontname="DejaVu Sans", margin="0.12,0.07")
    for n in g.nodes:
        a.add_node(n, label=_label(graph.node(n)))
    for u, v in g.edges:
        a.add_edge(u, v)
    present = [o for o in outcomes if o in g]
    if len(present) > 1:
        a.add_subgraph(present, name="outcomes", rank="same")
    a.layout(prog="dot")
    nodes = {}
    for n in g.nodes:
        attr = a.get_node(n).attr
        x, y = _points(attr["pos"])
        nodes[n] = (x, y, float(attr["width"]) * POINTS_PER_INCH, float(attr["height"]) * POINTS_PER_INCH)
    edges = {}
    for u, v in g.edges:
        tip, ctrl = None, []
        for token in a.get_edge(u, v).attr["pos"].split():
            if token.startswith("e,"):
                tip = _points(token[2:])
            elif not token.startswith("s,"):
                ctrl.append(_points(token))
        edges[(u, v)] = (ctrl, tip)
    x0, y0, x1, y1 = (float(t) for t in a.graph_attr["bb"].split(","))
    return Layout(nodes=nodes, edges=edges, bbox=(x0, y0, x1, y1))


def _edge(ax: Any, ctrl: list[tuple[float, float]], tip: tuple[float, float] | None, color: str, width: float,
          zorder: float) -> None:
    codes = [Path.MOVETO] + [Path.CURVE4] * (len(ctrl) - 1)
    ax.add_patch(FancyArrowPatch(path=Path(ctrl, codes), arrowstyle="-", color=color, lw=width, zorder=zorder))
    if tip is not None:  # Graphviz ends the spline short of the node; the arrowhead spans the gap
        ax.add_patch(FancyArrowPatch(ctrl[-1], tip, arrowstyle="-|>", mutation_scale=9 + 2 * width, color=color,
                                     lw=width, shrinkA=0, shrinkB=0, zorder=zorder))


def dag_figure(graph: DrawableGraph, treatment: str, outcomes: Sequence[str], adjustment: Sequence[str] = (),
               absorbed: Sequence[str] = ()) -> Figure:
    """The DAG laid out by Graphviz (causes left, outcomes right), roles styled apart; latent nodes dashed."""
    lay = layout(graph, outcomes)
    x0, y0, x1, y1 = lay.bbox
    pad = 12.0
    width_in = min(MAX_WIDTH_IN, (x1 - x0 + 2 * pad) / POINTS_PER_INCH)
    scale = width_in * POINTS_PER_INCH / (x1 - x0 + 2 * pad)  # the drawing shrinks to fit; fonts shrink with it
    height_in = (y1 - y0 + 2 * pad) / POINTS_PER_INCH * scale
    legend_in, title_in = 0.75, 0.35
    total_in = height_in + legend_in + title_in
    fig = InlineFigure(figsize=(width_in, total_in))
    ax = fig.add_axes((0, legend_in / total_in, 1, height_in / total_in))
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    highlight = {(treatment, o) for o in outcomes}
    for (u, v), (ctrl, tip) in lay.edges.items():
        strong = (u, v) in highlight
        _edge(ax, ctrl, tip, STYLE["treatment"] if strong else EDGE, 2.2 if strong else 1.0, 2 if strong else 1)
    for n, (x, y, w, h) in lay.nodes.items():
        node = graph.node(n)
        role = ("treatment" if n == treatment else "outcome" if n in outcomes else "absorbed" if n in absorbed
                else "latent" if node.latent else "adjusted" if n in adjustment else "other")
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=6",
                                    fc=STYLE[role], ec="#566573", lw=1.2, ls=(0, (4, 2.5)) if node.latent else "-",
                                    zorder=3))
        ax.text(x, y, _label(node), ha="center", va="center", fontsize=FONT_PT * scale, zorder=4,
                color="white" if role in ("treatment", "outcome") else "#1c2833")
    handles = [Patch(fc=STYLE[k], ec="#566573", ls=ls, lw=1.2, label=lbl)
               for k, lbl, ls in [("treatment", "treatment", "-"), ("outcome", "outcome", "-"),
                                  ("adjusted", "adjusted for", "-"), ("other", "observed, not adjusted for", "-"),
                                  ("absorbed", "latent, assumed absorbed by country effects", "--"),
                                  ("latent", "latent, not absorbed", "--")]]
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=8.5, handlelength=2.2,
               handleheight=1.1)
    fig.suptitle(graph.title or graph.name, fontsize=11, y=0.995, va="top")
    return fig
