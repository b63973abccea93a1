"""The specification-curve and decision-importance figures build for small and large sweeps with failed rows and
binary specifications (no es estimate), with the panels, indicator rows, order and footnote the page relies on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from test_analysis import LEVELS, synthetic_sweep
from tipcausal.core.figure import InlineFigure
from tipcausal.sweeps.analysis import decision_importance
from tipcausal.sweeps.curve import FAILED_LABEL, LABEL_AFTER, curve_figure, importance_figure

CHOICES = ("dag", "likelihood", "pooling", "years", "priors")
SHIFTS = {("likelihood", "cumulative_probit"): 0.02, ("years", "2005-2013"): -0.01}


def _three() -> pd.DataFrame:
    """3 specifications: logit (ok), probit (failed the gate), binary (ok, no es)."""
    frame = synthetic_sweep({"likelihood": LEVELS["likelihood"]}, ("protection",), failed=[1], seed=2)
    return frame


def _sixty() -> pd.DataFrame:
    levels = {**LEVELS, "years": [f"{y}-2013" for y in (2000, 2002, 2004, 2005, 2008)]}
    frame = synthetic_sweep(levels, ("protection",), shifts=SHIFTS, failed=[3, 17, 44], errors=[10], seed=4)
    assert len(frame) == 60
    return frame


def _shown(frame: pd.DataFrame, family: str) -> pd.DataFrame:
    """The rows a curve shows: ok or gate-failed with an estimate, and every error."""
    has = frame[f"{family}_median"].notna()
    return frame[has | (frame["status"] == "error")]


def _scatter_offsets(ax) -> list[np.ndarray]:
    return [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]


def _texts(fig) -> str:
    return " ".join(t.get_text() for a in fig.axes for t in a.texts)  # annotations are texts too


@pytest.mark.parametrize("build", [_three, _sixty])
@pytest.mark.parametrize("family", ["pge", "es"])
def test_curve_figure_panels(build, family):
    frame = build()
    fig = curve_figure(frame, CHOICES, family=family)
    assert isinstance(fig, InlineFigure)
    assert len(fig.axes) == 3  # curve, indicator panel, n_obs strip
    ax, ind, nobs = fig.axes
    (bar,) = ax.child_axes  # the colorbar, inset right of the curve so the three x axes stay aligned
    assert bar.get_ylabel() == "P(effect > 0)"
    assert ax.get_shared_x_axes().joined(ax, ind) and ax.get_shared_x_axes().joined(ax, nobs)
    assert len(nobs.get_xticks()) == 0 and all(not t.get_text() for t in nobs.get_xticklabels())

    shown = _shown(frame, family)
    ok = shown[shown["status"] == "ok"]
    failed = shown[shown["status"] != "ok"]
    # indicator rows: one per choice=value among the specifications shown, grouped by choice
    labels = [t.get_text() for t in ind.get_yticklabels()]
    expected = {f"{c}={v}" for c in CHOICES if c in shown and shown[c].nunique() > 1 for v in shown[c].unique()}
    assert set(labels) == expected and len(labels) == len(expected)
    groups = [lbl.split("=")[0] for lbl in labels]
    assert groups == sorted(groups, key=groups.index)  # each choice's rows together
    assert not any(lbl.startswith("priors=") for lbl in labels)  # set, never varied
    # the ok specifications in order of their median, failed ones right of them, hollow
    ok_points, *rest = _scatter_offsets(ax)
    assert len(ok_points) == len(ok)
    assert np.all(np.diff(ok_points[:, 1]) >= 0)
    assert sorted(ok_points[:, 1]) == pytest.approx(sorted(ok[f"{family}_median"]))
    if len(failed):
        (fail_points,) = rest
        assert len(fail_points) == len(failed) and fail_points[:, 0].min() > ok_points[:, 0].max()
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert FAILED_LABEL in legend
        # the rotated label by the divider only where enough ok columns keep it clear of the legend
        assert (FAILED_LABEL in _texts(fig)) == (len(ok) >= LABEL_AFTER)
    else:
        assert rest == []
    # one n_obs bar per column shown
    assert len(nobs.patches) == len(shown)
    left_out = len(frame) - len(shown)
    assert (f"Not shown: {left_out} specification(s)" in _texts(fig)) == (left_out > 0)
    if family == "es":
        assert left_out > 0  # the binary specifications


def test_curve_with_no_ok_specification_has_no_divider_and_starts_at_the_left():
    frame = synthetic_sweep({"likelihood": LEVELS["likelihood"]}, ("protection",), failed=[0, 1, 2], seed=2)
    fig = curve_figure(frame, CHOICES)
    ax = fig.axes[0]
    ok_points, points = _scatter_offsets(ax)  # the (empty) ok scatter, then the failed one
    assert len(ok_points) == 0
    assert len(points) == 3 and points[:, 0].min() == 0  # no gap before the failed columns
    vertical = [ln for ln in ax.get_lines() if np.ptp(ln.get_xdata()) == 0 and ln.get_linestyle() == "-"]
    assert vertical == []  # nothing to divide
    assert FAILED_LABEL not in _texts(fig) and "0 specification(s) in inference, 3 apart" in ax.get_title(loc="left")


def test_curve_figure_renders_png_and_grows_with_the_sweep():
    small, large = curve_figure(_three(), CHOICES), curve_figure(_sixty(), CHOICES)
    png = small._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    assert large._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"
    assert large.get_figwidth() > small.get_figwidth()


def test_curve_figure_colours_by_p_positive():
    frame = _three()
    frame.loc[frame.index[0], "pge_p_positive"] = 0.02
    fig = curve_figure(frame, CHOICES)
    points = next(c for c in fig.axes[0].collections if isinstance(c, PathCollection))
    colours = points.cmap(points.norm(points.get_array()))
    ok = frame[frame["status"] == "ok"].sort_values("pge_median")
    low = list(ok.index).index(frame.index[0])
    assert colours[low][0] > colours[low][2]  # red for a negative effect
    assert colours[1 - low][2] > colours[1 - low][0]  # blue for a positive one


def test_curve_figure_wants_one_outcome():
    with pytest.raises(ValueError, match="one outcome"):
        curve_figure(synthetic_sweep(), CHOICES)


def test_importance_figure_bars():
    frame = _sixty()
    imp = decision_importance(frame, CHOICES)
    fig = importance_figure(imp, title="Protection")
    assert isinstance(fig, InlineFigure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == imp["choice"].tolist()
    assert imp["choice"].iloc[-1] == "residual"
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx(imp["share"].tolist())
    assert fig._repr_png_()[:4] == b"\x89PNG"
    empty = importance_figure(decision_importance(frame.iloc[:1], CHOICES))
    assert "no choice varies" in _texts(empty)
