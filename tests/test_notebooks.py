"""The notebooks (.ipynb, each paired with a jupytext percent script) are executed end to end, and each pair is
in sync."""

import re
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient


FOLDER = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("[0-9][0-9]_*.ipynb"))


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_is_paired_and_in_sync():
    """Each notebook has its percent script and both hold the same cells (``jupytext --sync`` after an edit)."""
    scripts = sorted(FOLDER.glob("[0-9][0-9]_*.py"))
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in scripts] and NOTEBOOKS
    for nb_path, py_path in zip(NOTEBOOKS, scripts):
        assert _cells(jupytext.read(nb_path)) == _cells(jupytext.read(py_path)), (
            f"{nb_path.name} and {py_path.name} differ: run jupytext --sync {nb_path}")


def test_notebooks_use_the_python_api_only():
    """The notebooks import ``tipcausal as tc`` and nothing below the package top."""
    for path in NOTEBOOKS:
        script = path.with_suffix(".py").read_text(encoding="utf-8")
        below = re.findall(r"^\s*(?:from|import)\s+(tipcausal\.[\w.]+)", script, flags=re.MULTILINE)
        assert not below, f"{path.name} imports {', '.join(below)}: use the API at the package top"
        assert "import tipcausal as tc" in script, path.name


@pytest.mark.sampling
@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
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
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    if path.stem == "01_quickstart":
        assert (tmp_path / "reports" / "quickstart" / "report.html").is_file()
        assert len(images) >= 4  # the study's DAG, a library DAG, the effects, the country plot
        tables = [o for o in outputs if "text/html" in o.get("data", {})]
        assert len(tables) >= 5  # the study, the panel's checks, the identification, the run, summary()
    if path.stem == "02_model_family":
        tables = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
        assert any("diagnostics gate" in t for t in tables)  # a fit's own display
        assert len(images) >= 1  # the forest plot against the truth
    if path.stem == "03_sensitivity":
        import json

        summary = json.loads((tmp_path / "reports" / "sensitivity" / "summary.json").read_text())
        sens = summary["sensitivity"]
        assert set(sens["confounding"]) == set(sens["priors"]) == set(sens["refutations"]) == {
            "prosecution", "protection", "prevention"}
        assert {"tipping_k", "tipping_k_median", "by_country", "verdict"} <= set(sens["confounding"]["protection"])
        assert {r["name"] for r in sens["refutations"]["protection"]} >= {"placebo (within country)", "lead placebo"}
    if path.stem == "04_sweeps":
        import pandas as pd

        frame = pd.read_parquet(tmp_path / "reports" / "sweep_demo" / "sweep" / "sweep.parquet")
        assert len(frame) == 4 and set(frame["likelihood"]) == {"cumulative_logit", "cumulative_probit"}
        design = pd.read_csv(tmp_path / "reports" / "sweep_demo" / "design" / "design.csv")
        assert set(design["spec_label"]) == {"primary", "pooling=complete, within_between=false"}
        assert len(images) >= 2  # the specification curve and the design figure
