"""Report figures. Each function returns a matplotlib Figure and never calls ``show()``.

Figures are built as plain ``Figure`` objects (no pyplot state, no backend switch), so importing
this module changes nothing in a user's session and figures need no closing.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import arviz as az
import numpy as np
from matplotlib.figure import Figure

from tipcausal.causal.adjustment import minimal_adjustment_sets, optimal_adjustment_set
from tipcausal.causal.drawing import STYLE, dag_figure
from tipcausal.causal.graph import CausalGraph
from tipcausal.core.figure import InlineFigure
from tipcausal.posterior.conditional import ConditionalCurves
from tipcausal.posterior.effects import EffectSummary
from tipcausal.posterior.ppc import GroupedCheck, PredictiveCheck
from tipcausal.study.config import Study

EFFECT_LABELS = {"expected_score": "Expected score (1-5)", "p_score_ge_4": "P(score >= 4)"}


def to_data_uri(fig: Figure, dpi: int = 110) -> str:
    """PNG data URI of a figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def forest_figure(summary: Mapping[str, Any]) -> Figure:
    """Average effects of +1 SD consultation per outcome: means, 94% HDIs, truth where known."""
    outcomes = list(summary)
    fig = InlineFigure(figsize=(10, 0.9 + 0.75 * len(outcomes)))
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


def caterpillar_figure(by_country: Mapping[str, Mapping[str, Mapping[str, EffectSummary]]], truth: Mapping[str, Any] | None = None,
                       key: str = "expected_score") -> Figure:
    """Country effects for each outcome, sorted, with 94% HDIs (and true values for simulated data)."""
    outcomes = list(by_country)
    fig = InlineFigure(figsize=(4.2 * len(outcomes), 4.2))
    axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)
    for ax, o in zip(axes[0], outcomes):
        items = sorted(by_country[o].items(), key=lambda kv: kv[1][key].mean)
        x = np.arange(len(items))
        means = np.array([v[key].mean for _, v in items])
        lo = np.array([v[key].hdi_low for _, v in items])
        hi = np.array([v[key].hdi_high for _, v in items])
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


def country_forest_figure(outcome: str, by_country: Mapping[str, Mapping[str, EffectSummary]],
                          names: Mapping[str, str] | None = None, *, effect: str = "expected_score",
                          limit: int | None = 40, truth: Mapping[str, Any] | None = None) -> Figure:
    """One outcome's country effects as a forest plot with a labelled row per country (name and code), sorted by
    posterior mean, with 94% and 90% HDIs; ``limit``: only the ``limit // 2`` lowest and highest countries."""
    items = sorted(by_country.items(), key=lambda kv: kv[1][effect].mean)
    shown = items if limit is None or len(items) <= limit else items[:limit // 2] + items[-(limit - limit // 2):]
    gap = len(shown) < len(items)
    fig = InlineFigure(figsize=(7.5, 1.2 + 0.2 * (len(shown) + gap)))
    ax = fig.subplots()
    ys, labels = [], []
    for i, (country, e) in enumerate(shown):
        y = i + (1 if gap and i >= limit // 2 else 0)
        s = e[effect]
        ax.plot([s.hdi_low, s.hdi_high], [y, y], color=STYLE["treatment"], lw=1.2)
        ax.plot([s.hdi90_low, s.hdi90_high], [y, y], color=STYLE["treatment"], lw=4, alpha=0.35, solid_capstyle="butt")
        ax.plot(s.mean, y, "o", color=STYLE["treatment"], ms=3.5)
        if truth and country in truth:
            ax.plot(truth[country][effect], y, "x", color=STYLE["outcome"], ms=5, mew=1.5,
                    label="true value (simulation)" if not ys else None)
        name = (names or {}).get(country)
        ys.append(y)
        labels.append(f"{name} ({country})" if name and name != country else country)
    if gap:
        ax.axhline(limit // 2, color="#bdc3c7", lw=0.8, ls=":")
        ax.text(0.99, limit // 2, f"{len(items) - len(shown)} countries not shown", transform=ax.get_yaxis_transform(),
                ha="right", va="center", fontsize=7, color="#7f8c8d", backgroundcolor="white")
    ax.set_yticks(ys, labels, fontsize=7)
    ax.set_ylim(-1, max(ys) + 1)
    ax.axvline(0, color="#7f8c8d", lw=1, ls="--")
    ax.set_xlabel(f"Effect of +1 SD consultation on {EFFECT_LABELS.get(effect, effect).lower()}")
    ax.set_title(f"{outcome.capitalize()}: country effects (mean, thick 90% and thin 94% HDI; {len(items)} countries)",
                 fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    if truth:
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def _outcome_panels(outcomes: Sequence[str], height: float, *, sharey: bool) -> tuple[Figure, Any]:
    """A figure with one panel per outcome, side by side."""
    fig = InlineFigure(figsize=(4.2 * len(outcomes), height))
    return fig, fig.subplots(1, len(outcomes), sharey=sharey, squeeze=False)[0]


def ppc_figure(ppc: Mapping[str, PredictiveCheck]) -> Figure:
    """Observed score shares against posterior predictive shares (mean and 94% interval) per outcome."""
    outcomes = list(ppc)
    fig, axes = _outcome_panels(outcomes, 3.4, sharey=True)
    for ax, o in zip(axes, outcomes):
        p = ppc[o]
        s = np.array(p.score)
        ax.bar(s, p.observed, color="#d6eaf8", edgecolor="#5d6d7e", label="observed")
        mean = np.array(p.replicated_mean)
        ax.errorbar(s, mean, yerr=[mean - np.array(p.replicated_low), np.array(p.replicated_high) - mean],
                    fmt="o", color=STYLE["outcome"], capsize=4, label="replicated (94%)")
        ax.set_title(o.capitalize(), fontsize=10)
        ax.set_xlabel("score")
        ax.set_xticks(s)
    axes[0].set_ylabel("share of country-years")
    axes[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def grouped_ppc_figure(checks: Mapping[str, Mapping[str, GroupedCheck]]) -> Figure:
    """Per outcome (rows) and grouping (columns: year, region): the observed mean score of each group against the
    replicated means' mean and 94% interval."""
    outcomes = list(checks)
    bys = sorted({b for c in checks.values() for b in c}, key=lambda b: (b != "year", b))
    fig = InlineFigure(figsize=(5.2 * len(bys), 0.6 + 2.7 * len(outcomes)))
    axes = fig.subplots(len(outcomes), len(bys), squeeze=False)
    for i, o in enumerate(outcomes):
        for j, by in enumerate(bys):
            ax = axes[i][j]
            c = checks[o].get(by)
            if c is None:
                ax.set_axis_off()
                continue
            x = np.arange(len(c.groups))
            mean, low, high = (np.array(v) for v in (c.replicated_mean, c.replicated_low, c.replicated_high))
            ax.errorbar(x, mean, yerr=[mean - low, high - mean], fmt="o", ms=3, color=STYLE["outcome"], capsize=2,
                        lw=1, label="replicated (mean, 94%)")
            ax.plot(x, c.observed, "D", ms=4, color=STYLE["treatment"], label="observed")
            ax.set_xticks(x, [g if by != "year" or k % 2 == 0 else "" for k, g in enumerate(c.groups)],
                          rotation=0 if by == "year" else 30, ha="center" if by == "year" else "right", fontsize=7)
            ax.set_title(f"{o.capitalize()} by {by}: {c.inside} of {len(c.groups)} inside", fontsize=9)
            ax.set_ylabel(c.statistic, fontsize=8)
            ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=7, frameon=False, loc="best")
    fig.tight_layout()
    return fig


def loo_pit_figure(pits: Mapping[str, np.ndarray], bins: int = 10) -> Figure:
    """Per outcome: a histogram of the randomised LOO-PIT values against the 94% band of a uniform's bin counts."""
    from scipy import stats

    outcomes = list(pits)
    fig, axes = _outcome_panels(outcomes, 3.0, sharey=False)
    edges = np.linspace(0.0, 1.0, bins + 1)
    for ax, o in zip(axes, outcomes):
        pit = np.asarray(pits[o])
        counts, _ = np.histogram(pit, bins=edges)
        low, high = stats.binom.ppf([0.03, 0.97], pit.size, 1.0 / bins)
        ax.axhspan(low, high, color="#d5d8dc", alpha=0.8, lw=0, label="94% band of a uniform")
        ax.axhline(pit.size / bins, color="#7f8c8d", lw=0.8, ls=":")
        ax.stairs(counts, edges, baseline=None, color=STYLE["treatment"], lw=1.8, label="LOO-PIT counts")
        ax.set_ylim(0, max(counts.max(), high) * 1.35)
        outside = int(((counts < low) | (counts > high)).sum())
        ax.set_title(f"{o.capitalize()}: {outside} of {bins} bins outside", fontsize=10)
        ax.set_xlabel("randomised LOO-PIT")
        ax.set_xlim(0, 1)
    axes[0].set_ylabel("country-years")
    axes[0].legend(fontsize=7, frameon=False, loc="upper center", ncols=2)
    fig.tight_layout()
    return fig


def conditional_figure(curves: Mapping[str, ConditionalCurves]) -> Figure:
    """Per outcome: the probability of each score against the shift in consultation (mean and 94% band)."""
    outcomes = list(curves)
    fig, axes = _outcome_panels(outcomes, 3.4, sharey=True)
    colours = ["#b2182b", "#ef8a62", "#bdbdbd", "#67a9cf", "#2166ac"]
    for ax, o in zip(axes, outcomes):
        c = curves[o]
        x = np.array(c.shifts)
        for k, label in enumerate(c.labels):
            colour = colours[k] if len(c.labels) == len(colours) else STYLE["treatment"]
            ax.fill_between(x, c.low[:, k], c.high[:, k], color=colour, alpha=0.2, lw=0)
            ax.plot(x, c.mean[:, k], color=colour, lw=1.8, label=label)
        ax.axvline(0, color="#7f8c8d", lw=0.8, ls=":")
        ax.set_title(o.capitalize(), fontsize=10)
        ax.set_xlabel("consultation moved by (SD), every country-year")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("probability (mean, 94% band)")
    axes[-1].legend(fontsize=7, frameon=False, loc="best")
    fig.tight_layout()
    return fig


def trace_rank_figure(idata: Any, var_names: Sequence[str]) -> Figure:
    """Rank plots per chain for the key hyperparameters (flat histograms = well mixed)."""
    names = [v for v in var_names if v in idata.posterior]
    fig = InlineFigure(figsize=(3.2 * len(names), 2.6))
    axes = fig.subplots(1, len(names), squeeze=False)
    az.plot_rank(idata, var_names=names, ax=axes[0])
    fig.tight_layout()
    return fig


def draw_dag(graph: CausalGraph, study: Study | None = None) -> Figure:
    """The DAG figure. With the study's own DAG its adjustment set is shown; with another DAG that has the
    study's treatment and outcomes, that DAG's efficient adjustment set; otherwise the DAG file's roles."""
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
