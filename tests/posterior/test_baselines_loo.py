"""Classical baselines recover known coefficients and show the confounding the within estimators avoid;
PSIS-LOO is computed from the model's own likelihood for any fit."""

import arviz as az
import numpy as np
import pandas as pd
import pytest

from tipcausal.posterior.baselines import fit_baselines
from tipcausal.posterior.loo import loo_summary, pointwise_log_likelihood
from tipcausal.models.binding import bind_data
from tipcausal.models.likelihoods import category_probs
from tipcausal.models.predictor import from_idata, linear_predictor
from tipcausal.models.build import build_model
from helpers import logit_panel
from tipcausal.models.spec import ModelSpec

COVS = ("v2x_polyarchy", "v2x_corr", "log_gdp_pc")


def test_baselines_recover_a_known_ordered_logit():
    frame, sd = logit_panel(11)
    out = {b.name: b for b in fit_baselines(frame, "score", "x", ("w",))}
    assert all(b.converged for b in out.values())
    # a probit index approximates a logit coefficient divided by about 1.7 (logistic vs normal latent scale)
    probit = out["ordered_probit"]
    assert probit.ci_low < 0.6 * sd / 1.70 < probit.ci_high
    for name in ("logit_clustered", "logit_country_fe"):
        b = out[name]
        assert b.ci_low < 0.6 * sd < b.ci_high, (name, b)
    assert 0 < out["logit_clustered"].ame < 0.3


def test_pooled_baselines_are_confounded_where_the_within_estimator_is_not(sim):
    """Simulated default panel: prosecution's true within-country effect is about zero; political will
    (constant within country) makes the pooled logit positive, the fixed-effects logit is not."""
    out = {b.name: b for b in fit_baselines(sim.panel.frame, "prosecution", "v2cscnsult", COVS)}
    assert out["logit_clustered"].ci_low > 0
    assert out["logit_country_fe"].ci_low < 0 < out["logit_country_fe"].ci_high
    assert out["logit_country_fe"].n < out["logit_clustered"].n  # countries with a constant outcome drop out


@pytest.fixture(scope="module")
def prior_fit(small_sim):
    """Prior draws of the real model, laid out like a fit (posterior, constant_data, observed_data)."""
    import pymc as pm

    spec = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=COVS)
    data = bind_data(small_sim.panel, spec)
    model = build_model(spec, data)
    with model:
        prior = pm.sample_prior_predictive(draws=60, random_seed=3)
    post = prior.prior.copy()
    idata = az.InferenceData(posterior=post, constant_data=prior.constant_data,
                             observed_data=prior.observed_data)
    return idata, data


def test_pointwise_log_likelihood_matches_the_model_likelihood(prior_fit):
    idata, data = prior_fit
    ll = pointwise_log_likelihood(idata)
    assert ll.shape == (1, 60, data.n_obs)
    params, cut, arrays = from_idata(idata, draws=np.array([7, 42]))
    eta = linear_predictor(params, arrays)
    probs = category_probs(eta, cut)
    expected = np.log(np.clip(probs[:, np.arange(data.n_obs), data.categories], 1e-300, None))
    np.testing.assert_allclose(ll[0, [7, 42]], expected, rtol=1e-12)


def test_loo_summary_names_influential_rows(prior_fit):
    idata, data = prior_fit
    loo = loo_summary(idata, data.rows)
    assert loo.n == data.n_obs and np.isfinite(loo.elpd_loo) and loo.se > 0
    # prior draws predict badly and unevenly: many k > 0.7, each named by country and year
    assert loo.warning and loo.n_k_over_0_7 >= 1
    first = loo.influential[0]
    assert first["country"] in set(data.rows["country"]) and first["k"] > 0.7
