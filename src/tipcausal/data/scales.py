"""Measurement scales a source column can declare; each says which values are valid."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Valid values of a column: a closed range, integrality, an allowed set, or labelled categories."""

    description: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    integer: bool = False
    allowed: tuple[float, ...] = ()
    categorical: bool = False

    def rule(self) -> str:
        """The rule in words, for error messages."""
        if self.categorical:
            return "one of the declared category labels"
        if self.allowed:
            return "one of " + ", ".join(f"{a:g}" for a in self.allowed)
        kind = "an integer" if self.integer else "a number"
        if math.isinf(self.low) and math.isinf(self.high):
            return kind
        if math.isinf(self.high):
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        return f"{kind} in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"


SCALES: dict[str, Scale] = {
    "score_1_5": Scale("3P index score: 1 (no compliance) to 5 (full compliance)", 1, 5, integer=True),
    "vdem_latent": Scale("V-Dem measurement-model (latent) scale, point estimate; roughly -5 to 5", -6, 6),
    "vdem_sd": Scale("V-Dem measurement-model standard deviation (the _sd column)", 0, 6),
    "unit_interval": Scale("V-Dem index or share from 0 to 1", 0, 1),
    "binary": Scale("indicator 0/1", 0, 1, integer=True),
    "percent": Scale("percentage 0-100", 0, 100),
    "positive": Scale("strictly positive quantity (e.g. GDP per capita, population)", 0, math.inf, low_open=True),
    "count": Scale("non-negative count", 0, math.inf, integer=True),
    "real": Scale("any finite number"),
    "tip_tier": Scale("US TIP report tier: 1, 2, 2.5 (Watch List) or 3", 1, 3, allowed=(1, 2, 2.5, 3)),
    "category": Scale("category coded by labels given in the manifest", categorical=True),
}
