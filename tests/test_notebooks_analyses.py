"""The sensitivity and sweep notebooks execute end to end and write what they say (the others:
``test_notebooks.py``)."""

import json

import pandas as pd
import pytest

from notebook_run import execute, notebook


@pytest.mark.sampling
@pytest.mark.slow
def test_sensitivity_executes(tmp_path, monkeypatch):
    execute(notebook("03_sensitivity"), tmp_path, monkeypatch)
    summary = json.loads((tmp_path / "reports" / "sensitivity" / "summary.json").read_text())
    sens = summary["sensitivity"]
    assert set(sens["confounding"]) == set(sens["priors"]) == set(sens["refutations"]) == {
        "prosecution", "protection", "prevention"}
    assert {"tipping_k", "tipping_k_median", "by_country", "verdict"} <= set(sens["confounding"]["protection"])
    assert {r["name"] for r in sens["refutations"]["protection"]} >= {"placebo (within country)", "lead placebo"}


@pytest.mark.sampling
@pytest.mark.slow
def test_sweeps_execute(tmp_path, monkeypatch):
    _, images = execute(notebook("04_sweeps"), tmp_path, monkeypatch)
    frame = pd.read_parquet(tmp_path / "reports" / "sweep_demo" / "sweep" / "sweep.parquet")
    assert len(frame) == 4 and set(frame["likelihood"]) == {"cumulative_logit", "cumulative_probit"}
    design = pd.read_csv(tmp_path / "reports" / "sweep_demo" / "design" / "design.csv")
    assert set(design["spec_label"]) == {"primary", "pooling=complete, within_between=false"}
    assert len(images) >= 2  # the specification curve and the design figure
