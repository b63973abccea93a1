"""Figures of a sweep: the specification curve of one outcome with its indicator panel, and the decision importance.

The curve follows Simonsohn, Simmons & Nelson (2020) and the look of R's specr: specifications sorted by their
median effect above a panel of dots saying which choices each one made. Figures are ``InlineFigure`` objects,
never shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from tipcausal.causal.drawing import STYLE
from tipcausal.core.figure import InlineFigure
from tipcausal.sweeps.analysis import ANOVA_METHOD, single_outcome, varying_choices

FAILED_LABEL = "failed the gate / error (not in inference)"
GREY = "#7f8c8d"
INK = "#1c2833"
#: Diverging colours of P(effect > 0): red (effect below zero) through grey (0.5) to blue (above zero).
P_CMAP = LinearSegmentedColormap.from_list("p_positive", [STYLE["outcome"], "#aab7b8", STYLE["treatment"]]
                                           ).with_extremes(bad="#d5d8dc")
P_NORM = TwoSlopeNorm(vcenter=0.5, vmin=0.0, vmax=1.0)

# figure geometry, inches
LEFT, RIGHT = 2.3, 1.0
COLUMN = 0.11
GAP = 2.0  # columns between the last ok specification and the first one apart
LABEL_AFTER = 6  # ok columns needed before the rotated "failed" label clears the legend
TOP_H, ROW_H, NOBS_H = 2.8, 0.19, 0.55


def effect_label(frame: pd.DataFrame, family: str) -> str:
    """What the family's effect is on, in words: "P(score >= 4)" or "the expected score (1-5)"."""
    if family == "es":
        return "the expected score (1-5)"
    thresholds = sorted(set(frame["pge_threshold"].dropna().astype(float))) if "pge_threshold" in frame else []
    if len(thresholds) == 1:
        return f"P(score >= {thresholds[0]:g})"
    if not thresholds:
        return "P(score >= threshold)"
    return "P(score >= threshold) (thresholds " + ", ".join(f"{t:g}" for t in thresholds) + ")"


def curve_columns(frame: pd.DataFrame, family: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The specifications a curve shows: the ok ones with an estimate in the family, sorted by its median; the
    others apart (gate failures with an estimate, and every error); and how many are left out (no estimate)."""
    med = frame[f"{family}_median"].to_numpy(dtype=float)
    finite = np.isfinite(med)
    is_ok = (frame["status"] == "ok").to_numpy()
    ok = frame[is_ok & finite].sort_values(f"{family}_median", kind="stable")
    failed = frame[~is_ok & (finite | (frame["status"] == "error").to_numpy())]
    return ok, failed, len(frame) - len(ok) - len(failed)


def _intervals(ax, x: np.ndarray, rows: pd.DataFrame, family: str, colors: list, thin: float, thick: float) -> None:
    """Thin 90% (q05-q95) and thick 50% (q25-q75) bars at ``x``, one colour per bar."""
    for lo, hi, lw in (("q05", "q95", thin), ("q25", "q75", thick)):
        a, b = rows[f"{family}_{lo}"].to_numpy(dtype=float), rows[f"{family}_{hi}"].to_numpy(dtype=float)
        keep = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
        if keep.size:
            ax.vlines(x[keep], a[keep], b[keep], colors=[colors[i] for i in keep], lw=lw, zorder=2)


def curve_figure(frame: pd.DataFrame, choices: Sequence[str], family: str = "pge", title: str = "") -> InlineFigure:
    """The specification curve of one outcome for an effect family (``"pge"`` or ``"es"``).

    Top: the ok specifications sorted by ``{family}_median``, a point at the median coloured by P(effect > 0),
    thick 50% and thin 90% bars, a dashed zero line; right of a vertical line, the rows that failed the gate or
    raised, grey and hollow where they have numbers (not in inference). Middle: one row per ``choice=value`` of
    each choice with more than one value among the specifications shown, a dot where a specification made that
    choice. Bottom: each specification's country-years. Ok rows (and gate failures) without an estimate in the
    family, such as binary specifications for ``es``, are left out, with a footnote.
    """
    outcome = single_outcome(frame)
    ok, failed, left_out = curve_columns(frame, family)
    shown = pd.concat([ok, failed])
    n_ok, n_fail = len(ok), len(failed)
    x_ok = np.arange(n_ok, dtype=float)
    gap = GAP if n_ok and n_fail else 0.0
    x_fail = n_ok + gap + np.arange(n_fail, dtype=float)
    x = np.concatenate([x_ok, x_fail])
    varying = varying_choices(shown, choices)
    levels = [(c, str(v)) for c in varying for v in pd.unique(frame[c]) if (shown[c] == v).any()]

    n_cols = len(shown) + gap
    width = float(np.clip(LEFT + RIGHT + COLUMN * n_cols, 7.0, 30.0))
    ind_h = ROW_H * max(len(levels), 1) + 0.1
    height = TOP_H + ind_h + NOBS_H + 1.2
    fig = InlineFigure(figsize=(width, height))
    grid = fig.add_gridspec(3, 1, height_ratios=[TOP_H, ind_h, NOBS_H], hspace=0.08)
    ax = fig.add_subplot(grid[0])
    ax_ind = fig.add_subplot(grid[1], sharex=ax)
    ax_n = fig.add_subplot(grid[2], sharex=ax)
    fig.subplots_adjust(left=LEFT / width, right=1 - RIGHT / width, top=1 - 0.55 / height, bottom=0.65 / height)

    many = len(shown) > 80
    thin, thick, size = (0.7, 2.2, 9) if many else (1.0, 3.5, 22)
    p = ok[f"{family}_p_positive"].to_numpy(dtype=float)
    colors = [P_CMAP(P_NORM(v)) if np.isfinite(v) else P_CMAP.get_bad() for v in p]
    _intervals(ax, x_ok, ok, family, colors, thin, thick)
    ax.scatter(x_ok, ok[f"{family}_median"].to_numpy(dtype=float), c=p, cmap=P_CMAP, norm=P_NORM, s=size,
               edgecolors=INK, linewidths=0.4, zorder=3)
    if n_fail:
        _intervals(ax, x_fail, failed, family, ["#bdc3c7"] * n_fail, thin, thick)
        ax.scatter(x_fail, failed[f"{family}_median"].to_numpy(dtype=float), s=size, facecolors="none",
                   edgecolors=GREY, linewidths=0.9, zorder=3)
    if n_fail and n_ok:  # a divider only between the two groups; the legend names the failed markers
        for a in (ax, ax_ind, ax_n):
            a.axvline(n_ok - 0.4, color=GREY, lw=0.9)
    if n_fail and n_ok >= LABEL_AFTER:  # a few ok columns would put the label under the legend
        ax.text(n_ok - 0.25, 0.98, FAILED_LABEL, transform=ax.get_xaxis_transform(), rotation=90, ha="left",
                va="top", fontsize=7, color=GREY)
    ax.axhline(0, color=GREY, lw=1, ls="--", zorder=1)
    ax.set_ylabel(f"Effect of +1 SD consultation\non {effect_label(shown if len(shown) else frame, family)}",
                  fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    if not len(shown):
        ax.text(0.5, 0.5, f"no specification with a {family} estimate", transform=ax.transAxes, ha="center",
                va="center", color=GREY)
    handles = [Line2D([], [], marker="o", ls="-", lw=thick, color=P_CMAP(0.9), mec=INK, mew=0.4,
                      label="median, 50% and 90% intervals (ok)")]
    if n_fail:
        handles.append(Line2D([], [], marker="o", ls="", mfc="none", mec=GREY, label=FAILED_LABEL))
    ax.legend(handles=handles, loc="upper left", fontsize=7, frameon=False)
    frac = 0.16 / (width - LEFT - RIGHT)
    cax = ax.inset_axes((1 + 0.2 / (width - LEFT - RIGHT), 0.05, frac, 0.9))
    bar = fig.colorbar(ScalarMappable(norm=P_NORM, cmap=P_CMAP), cax=cax)
    bar.set_label("P(effect > 0)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    auto = f"{outcome.capitalize() if outcome else 'Specification curve'}: {n_ok} specification(s) in inference"
    ax.set_title(title or auto + (f", {n_fail} apart" if n_fail else ""), fontsize=11, loc="left")

    # indicator panel: one row per choice=value, grouped by choice
    row_of = {lv: i for i, lv in enumerate(levels)}
    for j, c in enumerate(varying):
        rows = [i for (choice, _), i in row_of.items() if choice == c]
        if j % 2 == 0:
            ax_ind.axhspan(min(rows) - 0.5, max(rows) + 0.5, color="#f4f6f7", zorder=0, lw=0)
        if j:
            ax_ind.axhline(min(rows) - 0.5, color="#d5d8dc", lw=0.6)
        for part, xs, style in ((ok, x_ok, {"color": INK}), (failed, x_fail, {"facecolors": "none",
                                                                             "edgecolors": GREY})):
            if len(part):
                ys = [row_of[(c, str(v))] for v in part[c]]
                ax_ind.scatter(xs, ys, s=size * 0.6, zorder=2, **style)
    ax_ind.set_yticks(range(len(levels)), [f"{c}={v}" for c, v in levels], fontsize=7)
    ax_ind.set_ylim(max(len(levels), 1) - 0.5, -0.5)
    ax_ind.tick_params(axis="y", length=0)
    if not levels:
        ax_ind.text(0.5, 0.5, "no choice varies", transform=ax_ind.transAxes, ha="center", va="center", fontsize=7,
                    color=GREY)

    # country-years per specification
    n_obs = shown["n_obs"].to_numpy(dtype=float)
    bar_colors = ["#95a5a6"] * n_ok + ["#d5d8dc"] * n_fail
    ax_n.bar(x, np.nan_to_num(n_obs), width=0.7, color=bar_colors)
    ax_n.set_ylabel("n_obs", fontsize=7, rotation=0, ha="right", va="center")
    ax_n.yaxis.set_major_locator(MaxNLocator(2))
    ax_n.tick_params(axis="y", labelsize=6)
    ax_n.set_ylim(0, max(float(np.nanmax(n_obs)) if np.isfinite(n_obs).any() else 1.0, 1.0) * 1.1)

    ax.set_xlim(-0.7, (x.max() if x.size else 0) + 0.7)
    ax.set_xticks([])
    for a in (ax, ax_ind):
        a.tick_params(axis="x", bottom=False, labelbottom=False)
    ax_n.set_xlabel("specifications, sorted by the median effect", fontsize=8)
    if left_out:
        why = " (binary specifications have no effect on the expected score)" if family == "es" else ""
        ax_n.annotate(f"Not shown: {left_out} specification(s) with no {family}_median{why}.", xy=(0, 0),
                      xycoords="axes fraction", xytext=(0, -26),
                      textcoords="offset points", fontsize=7, color=GREY, va="top")
    return fig


def importance_figure(importance: pd.DataFrame, title: str = "") -> InlineFigure:
    """Horizontal bars of each choice's share of the curve's variance (``decision_importance``), the residual
    in grey."""
    n = len(importance)
    fig = InlineFigure(figsize=(6.5, 1.1 + 0.3 * max(n, 1)))
    ax = fig.subplots()
    if not n:
        ax.text(0.5, 0.5, "no choice varies among the ok specifications", transform=ax.transAxes, ha="center",
                va="center", color=GREY)
        ax.set_axis_off()
    else:
        y = np.arange(n)
        shares = importance["share"].to_numpy(dtype=float)
        labels = importance["choice"].astype(str).tolist()
        ax.barh(y, np.nan_to_num(shares), color=[GREY if c == "residual" else STYLE["treatment"] for c in labels],
                height=0.6)
        for yi, s in zip(y, shares):
            ax.text((s if np.isfinite(s) else 0) + 0.01, yi, f"{s:.0%}" if np.isfinite(s) else "n/a", va="center",
                    fontsize=8)
        ax.set_yticks(y, labels, fontsize=8)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_xlim(0, 1.12)
        ax.set_xlabel("share of the variance of the specification curve", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        methods = set(importance["method"])
        if methods - {ANOVA_METHOD}:
            ax.annotate("; ".join(sorted(methods)), xy=(0, 0), xycoords="axes fraction", xytext=(0, -30),
                        textcoords="offset points", fontsize=7, color=GREY, va="top")
    ax.set_title(title or "Which choices move the estimate", fontsize=10, loc="left")
    fig.tight_layout()
    return fig
