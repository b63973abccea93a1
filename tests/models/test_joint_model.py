"""The joint 3-P model: parameter recovery (slope means, SDs and the cross-outcome correlation of country
effects) on panels simulated from it, the per-outcome view, and the refusals of unsupported options."""

import arviz as az
import numpy as np
import pytest

from helpers import joint_panel, sampler_seed
from tipcausal.inference.diagnostics import check_fit
from tipcausal.posterior.effects import summarise_effects
from tipcausal.core.errors import InputError
from tipcausal.models.binding import bind_data
from tipcausal.models.joint import bind_joint, correlation_summary, outcome_view
from tipcausal.models.spec import ModelSpec
from tipcausal.fit import fit_joint
from tipcausal.inference.sampling import SamplerSettings

OUTCOMES = ("p1", "p2", "p3")
SLOPES = np.array([0.5, 0.0, 0.3])
COUNTRY_SD, SLOPE_SD = 0.9, 0.5
RHO_INTERCEPT = 0.7  # between every pair of outcomes' country intercepts


def simulate_joint(seed: int, n_countries: int = 100, n_years: int = 12):
    return joint_panel(seed, OUTCOMES, SLOPES, COUNTRY_SD, SLOPE_SD, RHO_INTERCEPT, n_countries, n_years)


def specs(**options):
    base = dict(treatment="x", covariates=(), year_effects="none", region_intercepts=False)
    return [ModelSpec(outcome=o, **{**base, **options}) for o in OUTCOMES]


def covered(draws, truth, prob):
    lo, hi = az.hdi(np.asarray(draws).reshape(-1), hdi_prob=prob)
    return lo <= truth <= hi


@pytest.fixture(scope="module")
def joint_fit():
    panel = simulate_joint(seed=11)
    s = specs()
    settings = SamplerSettings(draws=1500, tune=1000, chains=4, target_accept=0.9, seed=sampler_seed(5))
    fit = fit_joint(panel, s, settings)
    return panel, fit.idata


@pytest.mark.sampling
@pytest.mark.slow
def test_joint_model_recovers_slopes_sds_and_cross_outcome_correlation(joint_fit):
    _, idata = joint_fit
    gate = check_fit(idata)
    assert gate.passed, gate.reasons
    post = idata.posterior
    # 9 quantities, each at 99%: a calibrated fit fails one of them with probability about 9%.
    for k, o in enumerate(OUTCOMES):
        assert covered(post["slope_mean"].sel(outcome=o), SLOPES[k], 0.99), o
        assert covered(post["country_sd"].sel(outcome=o), COUNTRY_SD, 0.99), o
    corr = {r["pair"]: r for r in correlation_summary(idata)}
    for a, b in (("p1", "p2"), ("p1", "p3"), ("p2", "p3")):
        pair = f"intercept:{a} ~ intercept:{b}"
        assert covered(post["country_corr"].sel(pair=pair), RHO_INTERCEPT, 0.99), pair
        # the correlation is found, not just compatible: its 94% HDI excludes 0
        assert corr[pair]["hdi_low"] > 0, corr[pair]
    # the other 12 true correlations are 0 (slopes, intercept-slope): none is excluded by its 99% HDI
    zero_pairs = [p for p, r in corr.items() if r["kind"] != "intercepts"]
    assert len(zero_pairs) == 12
    assert all(covered(post["country_corr"].sel(pair=p), 0.0, 0.99) for p in zero_pairs)


@pytest.mark.sampling
@pytest.mark.slow
def test_outcome_view_reads_like_a_single_outcome_fit(joint_fit):
    panel, idata = joint_fit
    view = outcome_view(idata, "p1")
    assert set(view.posterior["cutpoints"].dims) == {"chain", "draw", "cutpoint"}
    assert "score" in view.observed_data
    effects = summarise_effects(view)
    single = bind_data(panel, specs()[0])
    assert view.observed_data["score"].size == single.n_obs
    # +1 SD of the within treatment with a true slope of 0.5 raises the expected score
    assert effects.average["expected_score"].hdi_low > 0


def test_joint_model_refuses_unsupported_options():
    panel = simulate_joint(seed=12, n_countries=20, n_years=4)
    for bad, msg in ((dict(likelihood="binary_logit"), "ordinal"), (dict(pooling="none"), "partial"),
                     (dict(country_slopes=False), "country_slopes"), (dict(measurement_error=0.2), "measurement")):
        with pytest.raises(InputError, match=msg):
            bind_joint(panel, specs(**bad))
    with pytest.raises(InputError, match="same model options"):
        bind_joint(panel, [specs()[0], specs(year_effects="random")[1]])


def test_joint_binding_uses_rows_complete_for_every_outcome():
    panel = simulate_joint(seed=13, n_countries=20, n_years=4)
    panel.frame.loc[[0, 5], "p2"] = np.nan
    datas = bind_joint(panel, specs())
    assert all(d.n_obs == len(panel.frame) - 2 for d in datas)
    assert datas[0].dropped["p2"] == 2
