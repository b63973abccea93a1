"""Figures that show themselves in Jupyter.

tipcausal builds figures as plain matplotlib ``Figure`` objects (no pyplot state: importing tipcausal changes
nothing in a user's session, and figures need no closing). Jupyter draws a figure inline only when pyplot's
inline backend has registered it, so a plain ``Figure`` shows as the text ``<Figure size ...>``. ``InlineFigure``
is a ``Figure`` that also renders itself as PNG (``_repr_png_``), whatever the backend.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

INLINE_DPI = 100


class InlineFigure(Figure):
    """A matplotlib ``Figure`` that displays as a PNG image in Jupyter."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=INLINE_DPI, bbox_inches="tight")
        return buf.getvalue()
