"""Notebooks are executed end to end (.ipynb files, and paired .py scripts converted with jupytext)."""

from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

pytestmark = [pytest.mark.sampling, pytest.mark.slow]

NOTEBOOKS = sorted([*(Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.py"),
                    *(Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")])


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
    if path.stem == "03_sensitivity":
        import json

        summary = json.loads((tmp_path / "reports" / "sensitivity" / "summary.json").read_text())
        sens = summary["sensitivity"]
        assert set(sens["confounding"]) == set(sens["priors"]) == set(sens["refutations"]) == {
            "prosecution", "protection", "prevention"}
        assert {"tipping_k", "tipping_k_median", "by_country", "verdict"} <= set(sens["confounding"]["protection"])
        assert {r["name"] for r in sens["refutations"]["protection"]} >= {"placebo (within country)", "lead placebo"}
