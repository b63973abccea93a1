"""Parameter recovery for each cumulative likelihood (logit and probit) and the pooling options, on panels
simulated from the model itself with known within-country slope, cutpoints and country SD."""

import numpy as np
import pytest

from helpers import link_panel, sampler_seed
from tipcausal.data.panel import Panel
from tipcausal.inference.diagnostics import check_fit
from tipcausal.posterior.effects import RECOVERY_PROB

from tipcausal.models.spec import ModelSpec
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings

pytestmark = pytest.mark.sampling

SLOPE, BETWEEN, COUNTRY_SD = 0.5, 0.3, 0.8
CUTS = np.array([-1.5, -0.5, 0.5, 1.5])


def simulate(link: str, seed: int, n_countries: int = 90, n_years: int = 12) -> Panel:
    return link_panel(link, seed, n_countries, n_years, slope=SLOPE, between=BETWEEN, country_sd=COUNTRY_SD)


def fit(panel: Panel, **options):
    spec = ModelSpec(outcome="y", treatment="x", covariates=(), country_slopes=False, year_effects="none",
                     region_intercepts=False, **options)
    settings = SamplerSettings(draws=1500, tune=1000, chains=4, target_accept=0.9, seed=sampler_seed(4))
    return fit_specification(panel, spec, settings).idata


def covered(draws, truth, prob: float = RECOVERY_PROB) -> bool:
    import arviz as az
    lo, hi = az.hdi(np.asarray(draws).reshape(-1), hdi_prob=prob)
    return lo <= truth <= hi


# The target (the within slope) is checked at 90%. The seven nuisance quantities are checked at 99%, so that
# a calibrated fit fails some check with probability about 7% rather than about 50% (eight 90% checks).
NUISANCE_PROB = 0.99


@pytest.mark.parametrize("likelihood,link", [("cumulative_logit", "logit"), ("cumulative_probit", "probit")])
def test_each_likelihood_recovers_its_parameters(likelihood, link):
    idata = fit(simulate(link, seed=31), likelihood=likelihood)
    gate = check_fit(idata)
    assert gate.passed, gate.reasons
    post = idata.posterior
    assert covered(post["slope_mean"], SLOPE)
    assert covered(post["between_effect"], BETWEEN, NUISANCE_PROB)
    assert covered(post["country_sd"], COUNTRY_SD, NUISANCE_PROB)
    for k, c in enumerate(CUTS):
        assert covered(post["cutpoints"].isel(cutpoint=k), c, NUISANCE_PROB), k


def test_wrong_link_is_visible_in_the_slope():
    """A probit fit to logistic data puts the slope on the probit scale (about 1/1.7 of the logit slope)."""
    idata = fit(simulate("logit", seed=31), likelihood="cumulative_probit")
    ratio = float(idata.posterior["slope_mean"].mean()) / SLOPE
    assert 0.45 < ratio < 0.8


def test_complete_pooling_ignores_country_heterogeneity():
    """With country intercepts left out (complete pooling) the between-country slope absorbs nothing and the
    model fits worse: its cutpoints shrink towards zero (the country spread is pushed into the noise)."""
    panel = simulate("logit", seed=32)
    partial = fit(panel)
    complete = fit(panel, pooling="complete")
    spread = lambda idata: float(np.ptp(idata.posterior["cutpoints"].mean(("chain", "draw")).values))  # noqa: E731
    assert spread(complete) < spread(partial)
    assert covered(partial.posterior["slope_mean"], SLOPE)


@pytest.mark.parametrize("threshold", [3, 4])
def test_binary_likelihood_recovers_the_same_slope_and_its_cutpoint(threshold):
    """Under a cumulative logit, P(score >= T) = logistic(eta - c_{T-1}): the binary logit of the collapsed score
    has the same slope, between effect and country SD, and the cutpoint at T as its single threshold (the
    binary fit has less information, so its intervals are wider)."""
    idata = fit(simulate("logit", seed=31), likelihood="binary_logit", collapse_threshold=threshold)  # the panel above
    gate = check_fit(idata)
    assert gate.passed, gate.reasons
    post = idata.posterior
    assert post.sizes["cutpoint"] == 1
    assert covered(post["slope_mean"], SLOPE)
    assert covered(post["between_effect"], BETWEEN, NUISANCE_PROB)
    assert covered(post["country_sd"], COUNTRY_SD, NUISANCE_PROB)
    assert covered(post["cutpoints"].isel(cutpoint=0), CUTS[threshold - 2], NUISANCE_PROB)
