"""Report figures. Each function returns a matplotlib Figure and never calls ``show()``.

Figures are built as plain ``Figure`` objects (no pyplot state, no backend switch), so importing
this module changes nothing in a user's session and figures need no closing.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from tipcausal.dag.spec import CausalGraph

STYLE = {
    "treatment": "#1b6ca8",
    "outcome": "#c0392b",
    "latent": "#ffffff",
    "adjusted": "#f4d03f",
    "absorbed": "#d5d8dc",
    "other": "#eaf2f8",
}
EFFECT_LABELS = {"expected_score": "Expected score (1-5)", "p_score_ge_4": "P(score >= 4)"}


def to_data_uri(fig: Figure, dpi: int = 110) -> str:
    """PNG data URI of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def dag_figure(graph: CausalGraph, treatment: str, outcomes: Sequence[str], adjustment: Sequence[str] = (),
               absorbed: Sequence[str] = ()) -> Figure:
    """The DAG in layers (causes left, outcomes right), roles styled apart; latent nodes dashed."""
    g = graph.to_networkx()
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for n in nodes:
            g.nodes[n]["layer"] = layer
    for o in outcomes:  # outcomes share the last column
        g.nodes[o]["layer"] = max(d["layer"] for _, d in g.nodes(data=True))
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical", scale=1.0)
    fig = Figure(figsize=(11, 6.2))
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


def forest_figure(summary: Mapping[str, Any]) -> Figure:
    """Average effects of +1 SD consultation per outcome: means, 94% HDIs, truth where known."""
    outcomes = list(summary)
    fig = Figure(figsize=(10, 0.9 + 0.75 * len(outcomes)))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key in zip(axes, EFFECT_LABELS):
        for i, o in enumerate(outcomes):
            e = summary[o]["effects"][key]
            y = len(outcomes) - 1 - i
            ax.plot([e["hdi_low"], e["hdi_high"]], [y, y], color=STYLE["treatment"], lw=2.5)
            ax.plot([e["hdi90_low"], e["hdi90_high"]], [y, y], color=STYLE["treatment"], lw=5, alpha=0.35)
            ax.plot(e["mean"], y, "o", color=STYLE["treatment"], ms=7)
            truth = (summary[o].get("truth") or {}).get(key)
            if truth is not None:
                ax.plot(truth, y, "x", color=STYLE["outcome"], ms=10, mew=2.5,
                        label="true value (simulation)" if i == 0 else None)
        ax.axvline(0, color="#7f8c8d", lw=1, ls="--")
        ax.set_yticks(range(len(outcomes)), [o.capitalize() for o in reversed(outcomes)])
        ax.set_xlabel(f"Effect of +1 SD consultation on {EFFECT_LABELS[key].lower()}")
        ax.grid(axis="x", alpha=0.3)
    if any((summary[o].get("truth") or {}).get(k) is not None for o in outcomes for k in EFFECT_LABELS):
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", fontsize=8, frameon=False)
    fig.suptitle("Average causal effect (posterior mean, 90% and 94% HDI)", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def caterpillar_figure(by_country: Mapping[str, Mapping[str, Any]], truth: Mapping[str, Any] | None = None,
                       key: str = "expected_score") -> Figure:
    """Country effects for each outcome, sorted, with 94% HDIs (and true values for simulated data)."""
    outcomes = list(by_country)
    fig = Figure(figsize=(4.2 * len(outcomes), 4.2))
    axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)
    for ax, o in zip(axes[0], outcomes):
        items = sorted(by_country[o].items(), key=lambda kv: kv[1][key]["mean"])
        x = np.arange(len(items))
        means = np.array([v[key]["mean"] for _, v in items])
        lo = np.array([v[key]["hdi_low"] for _, v in items])
        hi = np.array([v[key]["hdi_high"] for _, v in items])
        ax.vlines(x, lo, hi, color=STYLE["treatment"], alpha=0.35, lw=1.2)
        ax.plot(x, means, ".", color=STYLE["treatment"], ms=3.5, label="posterior mean, 94% HDI")
        t = (truth or {}).get(o)
        if t:
            ax.plot(x, [t[c][key] for c, _ in items], ".", color=STYLE["outcome"], ms=3, alpha=0.8,
                    label="true value")
        ax.axhline(0, color="#7f8c8d", lw=1, ls="--")
        ax.set_title(f"{o.capitalize()} ({len(items)} countries)", fontsize=10)
        ax.set_xlabel("countries, sorted by posterior mean")
        ax.set_xticks([])
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(f"Effect of +1 SD on {EFFECT_LABELS[key].lower()}")
    axes[0][0].legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def ppc_figure(ppc: Mapping[str, Mapping[str, list]]) -> Figure:
    """Observed score shares against posterior predictive shares (mean and 94% interval) per outcome."""
    outcomes = list(ppc)
    fig = Figure(figsize=(4.2 * len(outcomes), 3.4))
    axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)
    for ax, o in zip(axes[0], outcomes):
        p = ppc[o]
        s = np.array(p["score"])
        ax.bar(s, p["observed"], color="#d6eaf8", edgecolor="#5d6d7e", label="observed")
        mean = np.array(p["replicated_mean"])
        ax.errorbar(s, mean, yerr=[mean - np.array(p["replicated_low"]), np.array(p["replicated_high"]) - mean],
                    fmt="o", color=STYLE["outcome"], capsize=4, label="replicated (94%)")
        ax.set_title(o.capitalize(), fontsize=10)
        ax.set_xlabel("score")
        ax.set_xticks(s)
    axes[0][0].set_ylabel("share of country-years")
    axes[0][0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def trace_rank_figure(idata: Any, var_names: Sequence[str]) -> Figure:
    """Rank plots per chain for the key hyperparameters (flat histograms = well mixed)."""
    import arviz as az

    names = [v for v in var_names if v in idata.posterior]
    fig = Figure(figsize=(3.2 * len(names), 2.6))
    axes = fig.subplots(1, len(names), squeeze=False)
    az.plot_rank(idata, var_names=names, ax=axes[0])
    fig.tight_layout()
    return fig
