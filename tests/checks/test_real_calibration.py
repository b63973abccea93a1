"""The simulator's calibration targets, checked against the real 3P and V-Dem files."""

import numpy as np
import pandas as pd
import pytest

from tipcausal.simulation.structural import REAL_COUNTRIES_SCORED, REAL_SCORE_SHARES

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def real(real_data_dir):
    src = real_data_dir / "sources"
    p = pd.read_csv(src / "cho_3p_index" / "criminalization-cho-tiers_jk_2015-08-10.csv")
    v = pd.read_csv(src / "vdem_chaudhry_heiss_panel" / "panel.csv")
    p = p[p["year"].between(2000, 2013)]
    return p, p.merge(v, left_on=["ccode", "year"], right_on=["cowcode", "year"])


def test_score_shares_match_the_real_index(real):
    p, _ = real
    for outcome, target in REAL_SCORE_SHARES.items():
        shares = p[outcome].value_counts(normalize=True).sort_index().to_numpy()
        np.testing.assert_allclose(shares, target, atol=0.001)


def test_coverage_growth_matches_the_real_index(real):
    p, _ = real
    counts = p.dropna(subset=["prosecution"]).groupby("year")["ccode"].nunique()
    assert tuple(counts.loc[2000:2013]) == REAL_COUNTRIES_SCORED


def test_simulated_correlations_are_close_to_real(real, sim):
    _, m = real
    cc = m.dropna(subset=["prosecution", "protection", "prevention", "v2cscnsult", "v2x_corr"])
    assert 1800 <= len(cc) <= 2000  # about 1,930 complete country-years
    outcomes = ["prosecution", "protection", "prevention"]
    real_corr = cc[outcomes].corrwith(cc["v2cscnsult"])
    sim_f = sim.panel.frame
    sim_corr = sim_f[outcomes].corrwith(sim_f["v2cscnsult"])
    assert (abs(real_corr - sim_corr) < 0.1).all(), (real_corr, sim_corr)
    real_within = cc.groupby("ccode")["v2cscnsult"].std().mean()
    sim_within = sim_f.groupby("country")["v2cscnsult"].std().mean()
    assert abs(real_within - sim_within) < 0.1
