"""Figures of the sensitivity section, drawn from summary.json's ``sensitivity`` entry (plain data), each a
matplotlib Figure that is never shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from tipcausal.causal.drawing import STYLE
from tipcausal.core.figure import InlineFigure

MARKERS = ("o", "s", "^", "D", "v")


def contour_figure(confounding: Mapping[str, Any]) -> Figure:
    """Per outcome: P(effect in its direction) over the grid of a time-varying confounder's partial R^2 with
    the within-country treatment (x) and the latent score (y); the 0.95 and 0.5 contours; benchmark markers."""
    outcomes = list(confounding)
    fig = InlineFigure(figsize=(4.8 * len(outcomes) + 1.0, 4.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), squeeze=False)[0])
    for n, (ax, o) in enumerate(zip(axes, outcomes)):
        c = confounding[o]
        g = c["grid"]
        x, y = np.asarray(g["r2_treatment"]), np.asarray(g["r2_outcome"])
        p = np.asarray(g["p_direction"]).T  # rows: outcome R^2, columns: treatment R^2
        mesh = ax.pcolormesh(x, y, p, vmin=0.0, vmax=1.0, cmap="RdYlBu", shading="auto")
        lines = ax.contour(x, y, p, levels=[0.5, 0.95], colors=["k", "k"], linestyles=["--", "-"], linewidths=1.3)
        ax.clabel(lines, fmt={0.5: "median 0", 0.95: "P = 0.95"}, fontsize=8)
        for i, name in enumerate(sorted({b["covariate"] for b in c["benchmarks"]})):
            pts = [b for b in c["benchmarks"] if b["covariate"] == name]
            ax.plot([b["r2_treatment"] for b in pts], [b["r2_outcome"] for b in pts], MARKERS[i % len(MARKERS)],
                    color="k", mfc="white", ms=6, label=f"k x {pts[0].get('label', name)}")
            for b in pts:
                if b["r2_treatment"] <= x[-1] and b["r2_outcome"] <= y[-1]:
                    ax.annotate(f"{b['k']:g}", (b["r2_treatment"], b["r2_outcome"]), fontsize=7,
                                xytext=(3, 3), textcoords="offset points")
        ax.set_xlim(0, x[-1])
        ax.set_ylim(0, y[-1])
        ax.set_title(f"{o}: P(effect {'> 0' if c['direction'] == 'positive' else '< 0'})", fontsize=10)
        ax.set_xlabel("partial R² of U with within-country consultation", fontsize=8)
        if n == 0:
            ax.set_ylabel("partial R² of U with the latent score", fontsize=8)
        ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(mesh, ax=list(axes), shrink=0.85, label="posterior probability of the estimate's sign")
    return fig


def country_tipping_figure(confounding: Mapping[str, Any], label: int = 4) -> Figure:
    """Per outcome: each country's tipping points as robustness values, countries sorted: where its slope's
    median reaches zero (open), and where its sign loses 95% certainty (filled, for countries 95% certain without
    confounding); the most robust named."""
    outcomes = list(confounding)
    fig = InlineFigure(figsize=(4.8 * len(outcomes), 3.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), squeeze=False)[0])
    for n, (ax, o) in enumerate(zip(axes, outcomes)):
        rows = sorted(confounding[o]["by_country"], key=lambda r: r["tipping_rv_median"])
        med = np.array([r["tipping_rv_median"] for r in rows])
        cert = np.array([r["tipping_rv"] for r in rows])
        x = np.arange(len(rows))
        pos = np.array([r["direction"] == "positive" for r in rows])
        for mask, colour, name in ((pos, STYLE["treatment"], "positive"), (~pos, STYLE["outcome"], "negative")):
            ax.scatter(x[mask], med[mask], s=10, facecolors="none", edgecolors=colour,
                       label=f"median reaches 0 ({name} slope)")
            sure = mask & (cert > 0)
            ax.scatter(x[sure], cert[sure], s=10, c=colour, label=f"95% certainty lost ({name})" if sure.any() else None)
        for i in range(max(len(rows) - label, 0), len(rows)):
            ax.annotate(rows[i]["name"], (i, med[i]), fontsize=7, xytext=(-4, 2), textcoords="offset points",
                        ha="right")
        ax.set_title(f"{o}: {int((cert > 0).sum())} of {len(rows)} countries 95% certain", fontsize=10)
        ax.set_xlabel("countries, by tipping point", fontsize=8)
        if n == 0:
            ax.set_ylabel("tipping robustness value (partial R²)", fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
    return fig


def power_scaling_figure(priors: Mapping[str, Any], threshold: float = 0.05) -> Figure:
    """Per outcome: each prior partition's largest prior-scaling CJS over the causal quantities (bars) and the
    likelihood-scaling CJS of that quantity (dots), against the 0.05 threshold."""
    outcomes = list(priors)
    n = max((len(priors[o]) for o in outcomes), default=1)
    fig = InlineFigure(figsize=(4.8 * len(outcomes), 1.2 + 0.32 * n), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(outcomes), squeeze=False, sharey=True)[0])
    for ax, o in zip(axes, outcomes):
        rows = priors[o]
        ys = np.arange(len(rows))[::-1]
        flagged = [r["diagnosis"] != "-" for r in rows]
        ax.barh(ys, [r["prior_cjs"] for r in rows],
                color=[STYLE["outcome"] if f else STYLE["treatment"] for f in flagged], alpha=0.8, label="prior")
        ax.plot([r["likelihood_cjs"] for r in rows], ys, "k.", label="likelihood")
        ax.axvline(threshold, color="k", lw=0.8, ls="--")
        ax.set_yticks(ys, [r["partition"] for r in rows], fontsize=8)
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_title(f"{o}: power-scaling CJS", fontsize=10)
        ax.set_xlabel("CJS distance (per unit log alpha)")
    axes[0].legend(fontsize=7, loc="lower right")
    return fig
