"""Simulation-based calibration harness: a small run of the model as shipped shows no gross
miscalibration, and the same harness flags scores coded off by one. (The full 200-simulation run and the
centred-funnel variant are in benchmarks/sbc_run.py.)"""

import numpy as np
import pytest

from tipcausal.checks.sbc import QUANTITIES, SBCDesign, design_panel, run_sbc, uniformity

pytestmark = [pytest.mark.sampling]


def test_uniformity_test_separates_flat_from_piled_ranks():
    rng = np.random.default_rng(0)
    assert uniformity(rng.integers(0, 101, 400), 100) > 0.01
    assert uniformity(np.full(40, 100), 100) < 1e-6


def test_prior_draws_give_sorted_cutpoints_and_valid_scores():
    import pymc as pm

    from tipcausal.checks.sbc import _truth_quantities, sbc_spec
    from tipcausal.models.binding import bind_data
    from tipcausal.models.build import build_model

    design = SBCDesign()
    panel = design_panel(design)
    data = bind_data(panel, sbc_spec())
    with build_model(sbc_spec(), data):
        prior = pm.sample_prior_predictive(draws=1, random_seed=5)
    truth, y = _truth_quantities(prior, data, np.random.default_rng(5))
    cuts = [truth[f"cutpoint_{k}"] for k in range(4)]
    assert cuts == sorted(cuts) and set(np.unique(y)) <= {0, 1, 2, 3, 4} and y.size == data.n_obs
    assert set(truth) == set(QUANTITIES)


@pytest.mark.slow
def test_small_sbc_run_and_a_broken_variant_is_flagged():
    design = SBCDesign(n_countries=25, n_years=6, draws=200, tune=250)
    ok = run_sbc(10, seed=7, design=design)
    assert ok["n_fail_0_001"] == 0, ok["pvalues"]
    broken = run_sbc(8, seed=7, design=SBCDesign(n_countries=25, n_years=6, draws=200, tune=250,
                                                 variant="off_by_one"))
    assert broken["n_fail_0_001"] >= 2, broken["pvalues"]
    assert broken["flagged"], broken["flag_reasons"]
    # fitted scores are one category too high, so the fitted cutpoints sit too low: true cutpoints rank high
    assert np.mean(broken["ranks"]["cutpoint_0"]) > 0.8 * broken["n_ranks"]
