"""A world choropleth of country effects (real data, whose countries are ISO3 codes).

The country shapes are the SVG world map that ``pygal_maps_world`` ships (Kozea's pygal world-map plugin: 184
countries keyed by ISO2, nothing downloaded at run time), read with ``xml.etree`` and ``svgpathtools`` (a
maintained SVG path parser) into matplotlib paths once per process, and drawn with matplotlib like every other
figure, so the map is a PNG in the report and an inline figure in Jupyter. Each country is coloured by its
posterior mean effect on a diverging scale centred on zero (one scale for every outcome), outlined in black where
P(effect > 0) is above 0.95 or below 0.05; countries outside the model are light grey, and the model's countries
without a shape at this scale (small islands, Kosovo) are named under the map.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath

from tipcausal.core.figure import InlineFigure
from tipcausal.data.countries import iso2_codes
from tipcausal.posterior.effects import EffectSummary

SVG = "{http://www.w3.org/2000/svg}"
#: Where an outline marks a country's effect as clearly signed: P(effect > 0) beyond these.
SURE = (0.05, 0.95)
CMAP = "RdBu"
OUTSIDE = "#eeeeee"
EFFECT_TEXT = {"expected_score": "expected score (1-5)", "p_score_ge_4": "P(score >= 4)"}


@dataclass(frozen=True)
class WorldShapes:
    """Country outlines (ISO2 lower case -> matplotlib path, y pointing up) and the map's width and height."""

    paths: Mapping[str, MplPath]
    width: float
    height: float


def _to_mpl(d: str, height: float) -> tuple[list[tuple[float, float]], list[int]]:
    from svgpathtools import CubicBezier, parse_path

    vertices: list[tuple[float, float]] = []
    codes: list[int] = []
    for sub in parse_path(d).continuous_subpaths():
        start = sub.start
        vertices.append((start.real, height - start.imag))
        codes.append(MplPath.MOVETO)
        for seg in sub:
            if isinstance(seg, CubicBezier):
                points = (seg.control1, seg.control2, seg.end)
                codes += [MplPath.CURVE4] * 3
            else:  # a Line (the map holds only lines and cubic curves; anything else is drawn straight)
                points = (seg.end,)
                codes.append(MplPath.LINETO)
            vertices += [(p.real, height - p.imag) for p in points]
        vertices.append((start.real, height - start.imag))
        codes.append(MplPath.CLOSEPOLY)
    return vertices, codes


@lru_cache(maxsize=1)
def world_shapes() -> WorldShapes:
    """The world map's country outlines (parsed once per process, about a second)."""
    root = ET.fromstring((resources.files("pygal_maps_world") / "worldmap.svg").read_bytes())
    _, _, width, height = (float(v) for v in root.get("viewBox", "0 0 2475 1388").split())
    paths: dict[str, MplPath] = {}
    for group in root.iter(f"{SVG}g"):
        classes = (group.get("class") or "").split()
        if "country" not in classes:
            continue
        vertices: list[tuple[float, float]] = []
        codes: list[int] = []
        for element in group.iter(f"{SVG}path"):
            v, c = _to_mpl(element.get("d", ""), height)
            vertices += v
            codes += c
        if vertices:
            paths[classes[0]] = MplPath(np.asarray(vertices), np.asarray(codes, dtype=np.uint8))
    return WorldShapes(paths=paths, width=width, height=height)


def unmapped(countries: Sequence[str]) -> list[str]:
    """The ISO3 codes among ``countries`` that have no shape on the world map."""
    iso2, shapes = iso2_codes(), world_shapes().paths
    return sorted(c for c in countries if iso2.get(c, "").lower() not in shapes)


def world_map_figure(by_outcome: Mapping[str, Mapping[str, Mapping[str, EffectSummary]]], *,
                     effect: str = "expected_score", names: Mapping[str, str] | None = None) -> Figure:
    """One world map per outcome of its country effects (``by_outcome[outcome][iso3][effect]``), on one diverging
    colour scale; black outlines where P(effect > 0) > 0.95 or < 0.05."""
    shapes = world_shapes()
    iso2 = iso2_codes()
    outcomes = list(by_outcome)
    means = [s[effect].mean for o in outcomes for s in by_outcome[o].values()]
    bound = max((abs(m) for m in means), default=1.0) or 1.0
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-bound, vmax=bound)
    fig = InlineFigure(figsize=(9.5, 1.1 + 4.6 * len(outcomes)), layout="constrained")
    axes = fig.subplots(len(outcomes), 1, squeeze=False)[:, 0]
    mappable = None
    for ax, outcome in zip(axes, outcomes):
        effects = by_outcome[outcome]
        located = {iso2.get(c, "").lower(): c for c in effects if iso2.get(c, "").lower() in shapes.paths}
        background = [p for code, p in shapes.paths.items() if code not in located]
        ax.add_collection(PathCollection(background, facecolors=OUTSIDE, edgecolors="#b0b0b0", linewidths=0.2))
        drawn = [effects[c][effect] for c in located.values()]
        values = np.array([e.mean for e in drawn])
        sure = np.array([not SURE[0] <= e.p_positive <= SURE[1] for e in drawn], dtype=bool)
        fill = PathCollection([shapes.paths[code] for code in located], array=values, cmap=CMAP, norm=norm,
                              edgecolors=np.where(sure[:, None], [[0, 0, 0, 1]], [[0.45, 0.45, 0.45, 1]]),
                              linewidths=np.where(sure, 0.9, 0.25))
        ax.add_collection(fill)
        mappable = fill
        ax.set_xlim(0, shapes.width)
        ax.set_ylim(shapes.height * 0.12, shapes.height)  # Antarctica's strip left out
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"{outcome.capitalize()}: {len(drawn)} of {len(effects)} countries drawn, "
                     f"{int(sure.sum())} with P(effect > 0) above 0.95 or below 0.05 (outlined)", fontsize=9)
    if mappable is not None:
        bar = fig.colorbar(mappable, ax=list(axes), orientation="horizontal", fraction=0.03, pad=0.01, aspect=50,
                           shrink=0.8)
        bar.set_label(f"Posterior mean effect of +1 SD consultation on {EFFECT_TEXT.get(effect, effect)}; "
                      "grey: not in the model", fontsize=8)
    missing = unmapped(sorted({c for o in outcomes for c in by_outcome[o]}))
    if missing:
        label = ", ".join(f"{(names or {}).get(c, c)}" for c in missing)
        fig.supxlabel(textwrap.fill(f"In the model but too small for the map or without a shape: {label}", 150),
                      fontsize=7, color="#555555")
    return fig
