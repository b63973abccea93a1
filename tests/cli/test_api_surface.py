"""What the CLI needs from the Python API is there at the package top: DAG identification, drawing to a file,
implication tests on a study's panel, simulated and built data, and the error types (the import-linter contract
keeps the CLI on this surface)."""

from __future__ import annotations

import json

import pytest

import tipcausal as tc


def test_every_api_name_resolves_from_the_package_top():
    from tipcausal import API

    for name in API:
        assert getattr(tc, name) is getattr(__import__("tipcausal.api", fromlist=[name]), name)


def test_identify_save_and_check_a_dag_from_python(tmp_path):
    study = tc.load_study("default")
    ident = tc.identify(study)
    assert set(ident) == set(study.outcomes)
    assert all(set(r.adjustment) == set(study.adjustment) for r in ident.values())
    variants = tc.identify_variants(study)
    assert "default" in variants and len(variants) >= 4
    path = tc.save_dag(study, tmp_path / "dag.svg")
    assert path.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "<svg"))
    with pytest.raises(tc.InputError, match=r"dag\.gif: the image must end in \.png, \.svg or \.pdf"):
        tc.save_dag(study, tmp_path / "dag.gif")
    assert not (tmp_path / "dag.gif").exists()
    table = tc.check_dag(study, out=tmp_path / "implications.csv")
    assert len(table) > 0 and "simulate_panel" in table.attrs["panel_source"]
    assert (tmp_path / "implications.csv").read_text(encoding="utf-8").startswith("implication,")


def test_simulate_writes_the_panel_with_its_truth(tmp_path):
    sim = tc.simulate(tmp_path / "sim", seed=5, n_countries=15)
    assert sim.panel.frame["country"].nunique() == 15
    truth = json.loads((tmp_path / "sim" / "truth.json").read_text(encoding="utf-8"))
    assert truth["seed"] == 5 and truth["data_hash"] == sim.panel.hash
    with pytest.raises(ValueError, match="will_time_rho must be a finite number in"):
        tc.SimulationConfig(will_time_rho=1.5)
