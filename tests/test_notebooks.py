"""Notebooks are executed end to end (paired .py scripts, converted with jupytext)."""

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.sampling, pytest.mark.slow]

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.py"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("TIPCAUSAL_NB_DRAWS", "100")
    nb = jupytext.read(path)
    workdir = tmp_path / "notebooks"
    workdir.mkdir()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    if path.stem == "01_quickstart":
        assert (tmp_path / "reports" / "quickstart" / "report.html").is_file()
