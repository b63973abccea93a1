import numpy as np
import pytest

from tipcausal.causal.graph import load_dag
from tipcausal.simulation.structural import OUTCOMES, REAL_SCORE_SHARES, STRUCTURAL_PARENTS, SimulationConfig, simulate_panel


def test_deterministic_in_seed():
    a, b, c = simulate_panel(5), simulate_panel(5), simulate_panel(6)
    assert a.panel.hash == b.panel.hash
    assert a.panel.hash != c.panel.hash
    with pytest.raises(TypeError):
        simulate_panel(1.5)


def test_shape_is_like_the_real_index(sim):
    f = sim.panel.frame
    assert f["country"].nunique() == 180 and f["region"].nunique() == 6
    assert (f["year"].min(), f["year"].max()) == (2000, 2013)
    per_year = f.groupby("year")["country"].nunique()
    assert 70 <= per_year[2000] <= 90 and per_year[2012] >= 170  # fewer countries scored early
    assert not f.duplicated(["country", "year"]).any()
    for p in OUTCOMES:
        assert set(f[p].unique()) <= {1, 2, 3, 4, 5}


def test_marginals_calibrated(sim):
    f = sim.panel.frame
    n = len(f)
    for p in OUTCOMES:
        shares = f[p].value_counts(normalize=True).sort_index().to_numpy()
        target = np.array(REAL_SCORE_SHARES[p])
        # cutpoints are calibrated to the realised linear predictor, so only the independent logistic noise
        # of each row moves a share: its SE is at most 0.5/sqrt(n); allow 4 SE
        assert np.abs(shares - target).max() < 4 * 0.5 / np.sqrt(n)
    corr = f[list(OUTCOMES)].corrwith(f["v2cscnsult"])
    assert corr.between(0.28, 0.6).all(), corr
    assert abs(f["v2cscnsult"].mean() - 0.77) < 0.05 and abs(f["v2cscnsult"].std() - 1.31) < 0.05


def test_truth_effects_have_the_documented_signs(sim):
    e = sim.truth["effects"]
    assert abs(e["prosecution"]["expected_score"]) < 0.05
    assert e["protection"]["expected_score"] > 0.15 and e["prevention"]["expected_score"] > 0.15
    assert sim.truth["slope_sd"] == SimulationConfig().effect_sd
    # per-country truths average back to the overall truth (weighted by rows)
    f = sim.panel.frame
    w = f.groupby("country").size()
    by = sim.truth["effects_by_country"]["protection"]
    avg = sum(by[c]["expected_score"] * w[c] for c in w.index) / w.sum()
    assert avg == pytest.approx(e["protection"]["expected_score"], rel=1e-9)


def test_structural_equations_follow_the_default_dag():
    g = load_dag("default").to_networkx()
    for node, parents in STRUCTURAL_PARENTS.items():
        assert set(parents) == set(g.predecessors(node)), node


def test_time_varying_will_option_changes_data():
    a = simulate_panel(3, SimulationConfig(n_countries=30))
    b = simulate_panel(3, SimulationConfig(n_countries=30, will_time_sd=0.5))
    assert a.panel.hash != b.panel.hash


def test_save_writes_panel_and_truth(tmp_path, small_sim):
    paths = small_sim.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"panel.csv", "truth.json", "latent.csv"}
    import json
    truth = json.loads(paths["truth"].read_text())
    assert truth["data_hash"] == small_sim.panel.hash and truth["seed"] == 7
