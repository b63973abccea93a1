"""`tipcausal sensitivity` end to end on a small study: the analyses land in summary.json and the report."""

import json
import re

import pytest
from typer.testing import CliRunner

from helpers import small_study
from tipcausal.cli import app

runner = CliRunner()


@pytest.mark.sampling
def test_sensitivity_command_writes_summary_keys_and_report_section(tmp_path):
    study = small_study(tmp_path, **{"draws = 1000": "draws = 300", "tune = 500": "tune = 300"})
    out, store = tmp_path / "out", tmp_path / "store"
    res = runner.invoke(app, ["sensitivity", str(study), "--only", "confounding", "--only", "priors", "--out",
                              str(out), "--store", str(store), "--quiet", "--allow-unconverged"])
    assert res.exit_code == 0, res.output
    sens = json.loads((out / "summary.json").read_text())["sensitivity"]
    assert sens["analyses"] == ["confounding", "priors"] and sens["refutations"] == {}
    for outcome in ("protection", "prevention"):
        c = sens["confounding"][outcome]
        assert {"tipping_k", "tipping_k_median", "by_country", "verdict"} <= set(c)
        assert len(c["by_country"]) == 30 and {"country", "tipping_k"} <= set(c["by_country"][0])
        assert c["reference_label"] == "corruption"
        rows = sens["priors"][outcome]
        assert {r["partition"] for r in rows} >= {"slope_mean", "slope_sd", "cutpoints"}
        assert all({"partition", "prior_cjs", "likelihood_cjs", "diagnosis"} <= set(r) for r in rows)
    html = (out / "report.html").read_text()
    assert '<h2 id="sensitivity">8. Sensitivity analysis</h2>' in html and "9. Provenance" in html
    for alt in ("tipping-point contour", "per-country tipping points", "power-scaling sensitivity"):
        assert re.search(f'<img src="data:image/png;base64,[A-Za-z0-9+/=]{{1000,}}" alt="{alt}">', html), alt
    # a second call reuses every stored fit
    res = runner.invoke(app, ["sensitivity", str(study), "--only", "confounding", "--out", str(out), "--store",
                              str(store), "--quiet", "--allow-unconverged"])
    assert res.exit_code == 0 and res.output.count("reused the stored fit") == 2, res.output
