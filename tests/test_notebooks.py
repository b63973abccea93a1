"""The notebooks (.ipynb, each paired with a jupytext percent script) are in sync with their scripts, use the
Python API only, and the quickstart and model-family notebooks execute end to end (the sensitivity and sweep
notebooks: ``test_notebooks_analyses.py``, a separate file so that pytest-xdist runs them on another worker)."""

import re

import jupytext
import pytest

from notebook_run import FOLDER, NOTEBOOKS, execute, html_outputs, notebook


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def test_every_notebook_is_paired_and_in_sync():
    """Each notebook has its percent script and both hold the same cells (``jupytext --sync`` after an edit)."""
    scripts = sorted(FOLDER.glob("[0-9][0-9]_*.py"))
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in scripts] and NOTEBOOKS
    for nb_path, py_path in zip(NOTEBOOKS, scripts):
        assert _cells(jupytext.read(nb_path)) == _cells(jupytext.read(py_path)), (
            f"{nb_path.name} and {py_path.name} differ: run jupytext --sync {nb_path}")


def test_every_notebook_is_executed_by_a_test():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_model_family", "03_sensitivity", "04_sweeps"]


def test_notebooks_use_the_python_api_only():
    """The notebooks import ``tipcausal as tc`` and nothing below the package top."""
    for path in NOTEBOOKS:
        script = path.with_suffix(".py").read_text(encoding="utf-8")
        below = re.findall(r"^\s*(?:from|import)\s+(tipcausal\.[\w.]+)", script, flags=re.MULTILINE)
        assert not below, f"{path.name} imports {', '.join(below)}: use the API at the package top"
        assert "import tipcausal as tc" in script, path.name


@pytest.mark.sampling
@pytest.mark.slow
def test_quickstart_executes(tmp_path, monkeypatch):
    outputs, images = execute(notebook("01_quickstart"), tmp_path, monkeypatch)
    assert (tmp_path / "reports" / "quickstart" / "report.html").is_file()
    assert len(images) >= 4  # the study's DAG, a library DAG, the effects, the country plot
    assert len(html_outputs(outputs)) >= 5  # the study, the panel's checks, the identification, the run, summary()


@pytest.mark.sampling
@pytest.mark.slow
def test_model_family_executes(tmp_path, monkeypatch):
    outputs, images = execute(notebook("02_model_family"), tmp_path, monkeypatch)
    assert any("diagnostics gate" in t for t in html_outputs(outputs))  # a fit's own display
    assert len(images) >= 1  # the forest plot against the truth
