"""Small HTML tables for the rich display of tipcausal objects in Jupyter (``_repr_html_``)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any


def cell(value: Any) -> str:
    """A value as escaped HTML text (floats to 3 decimals, sequences joined by commas)."""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)):
        return html.escape(", ".join(str(v) for v in value)) or "&mdash;"
    return html.escape(str(value))


def html_table(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None, caption: str | None = None) -> str:
    """An HTML table of ``rows`` (cells escaped), with an optional header row and a bold caption above it."""
    head = "" if header is None else "<thead><tr>" + "".join(f"<th>{cell(h)}</th>" for h in header) + "</tr></thead>"
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    top = f"<p><b>{html.escape(caption)}</b></p>" if caption else ""
    return f"{top}<table>{head}<tbody>{body}</tbody></table>"
