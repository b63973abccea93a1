"""Executing a notebook as a user's kernel would (shared by the two notebook test files, which pytest-xdist runs
on different workers): nbclient, short sampling, pyplot's inline backend, and the checks every notebook passes
(no error, no warning on stderr, every figure an image)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jupytext
from nbclient import NotebookClient

FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))


def notebook(stem: str) -> Path:
    """The committed notebook ``stem`` (e.g. ``01_quickstart``)."""
    path = FOLDER / f"{stem}.ipynb"
    assert path in NOTEBOOKS, path
    return path


def execute(path: Path, tmp_path: Path, monkeypatch: Any) -> tuple[list[dict], list[dict]]:
    """Run ``path`` in a fresh kernel in ``tmp_path/notebooks``; its outputs and, of them, its images."""
    monkeypatch.setenv("TIPCAUSAL_NB_DRAWS", "100")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # a user's kernel: pyplot figures display inline
    nb = jupytext.read(path)
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    warned = [o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"
              and "Warning" in o["text"]]
    assert not warned, warned
    # every figure is an image, never the text of a Figure object
    texts = [o["data"].get("text/plain", "") for o in outputs if "data" in o and "image/png" not in o["data"]]
    assert not [t for t in texts if "Figure size" in str(t)]
    return outputs, [o for o in outputs if "image/png" in o.get("data", {})]


def html_outputs(outputs: list[dict]) -> list[str]:
    """The HTML displays among ``outputs``."""
    return [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
