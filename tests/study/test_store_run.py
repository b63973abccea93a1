"""``tipcausal run`` through the fit store: an unchanged rerun reads every fit back (and says so), with the same
draws and report numbers; ``--refit`` fits again; ``--no-store`` leaves no store behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pytest

from helpers import small_study


def _run(study: Path, out: Path, *extra: str, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "TIPCAUSAL_STORE"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2] / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, "-m", "tipcausal.cli", "run", str(study), "--out", str(out), "--quiet",
                           "--draws", "150", "--tune", "150", "--seed", "2", "--allow-unconverged", *extra],
                          capture_output=True, text=True, env=env, timeout=900, cwd=cwd)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.sampling
def test_an_unchanged_rerun_reuses_every_fit(tmp_path):
    study, store = small_study(tmp_path), tmp_path / "models"
    first = _run(study, tmp_path / "a", "--store", str(store))
    assert "reused the stored" not in first and "0 fit(s) reused, 2 fitted and stored" in first
    second = _run(study, tmp_path / "b", "--store", str(store))
    assert second.count("reused the stored fit") == 2 and "2 fit(s) reused, 0 fitted" in second
    for outcome in ("protection", "prevention"):
        a = az.from_netcdf(tmp_path / "a" / "fits" / f"{outcome}.nc")
        b = az.from_netcdf(tmp_path / "b" / "fits" / f"{outcome}.nc")
        for name in a.posterior.data_vars:
            np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)
        # the second run wrote the stored fit with the same provenance and fit key
        assert b.posterior.attrs["tipcausal_provenance"] == a.posterior.attrs["tipcausal_provenance"]
        assert b.posterior.attrs["tipcausal_fit_key"] == a.posterior.attrs["tipcausal_fit_key"]
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert sa["outcomes"] == sb["outcomes"]
    third = _run(study, tmp_path / "c", "--store", str(store), "--refit")
    assert "reused the stored" not in third and "0 fit(s) reused, 2 fitted and stored" in third
    assert len(list(store.glob("??/*"))) == 2
    # no --store: models/ under the current folder; --no-store: nothing stored
    here = tmp_path / "elsewhere"
    here.mkdir()
    fourth = _run(study, tmp_path / "d", "--no-store", cwd=here)
    assert "fit store" not in fourth and not (here / "models").exists()
    _run(study, tmp_path / "e", "--draws", "100", cwd=here)
    assert len(list((here / "models").glob("??/*"))) == 2
