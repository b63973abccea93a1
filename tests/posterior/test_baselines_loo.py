"""Classical baselines recover known coefficients and show the confounding the within estimators avoid;
PSIS-LOO is computed from the model's own likelihood for any fit."""

import arviz as az
import numpy as np
import pandas as pd
import pytest

from tipcausal.posterior.baselines import fit_baselines
from tipcausal.posterior.loo import loo_summary, pointwise_log_likelihood
from tipcausal.posterior.pointwise import Pointwise
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
    assert all(b.converged for b in out.values()), out  # the FE logit stopped at 100 BFGS iterations here once
    assert out["logit_clustered"].ci_low > 0
    assert out["logit_country_fe"].ci_low < 0 < out["logit_country_fe"].ci_high
    assert out["logit_country_fe"].n < out["logit_clustered"].n  # countries with a constant outcome drop out


def test_a_baseline_whose_optimiser_stops_short_is_marked_not_converged(monkeypatch):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    frame, _ = logit_panel(11)
    fit = OrderedModel.fit
    monkeypatch.setattr(OrderedModel, "fit", lambda self, **kw: fit(self, **{**kw, "maxiter": 2}))
    out = {b.name: b for b in fit_baselines(frame, "score", "x", ("w",))}
    assert not out["ordered_probit"].converged and "did not converge" in out["ordered_probit"].note
    assert out["logit_clustered"].converged and out["logit_country_fe"].converged


def test_fixed_effects_logit_is_statsmodels_conditional_logit():
    """Ours is statsmodels' ConditionalLogit likelihood vectorised over countries: the same log-likelihood and
    score at any point, and (at statsmodels' own converged Newton fit) the same estimates and standard errors."""
    from statsmodels.discrete.conditional_models import ConditionalLogit

    from tipcausal.posterior.fe_logit import _Groups, fit_fe_logit

    rng = np.random.default_rng(8)
    groups = np.repeat(np.arange(60), rng.integers(3, 15, size=60))
    X = rng.normal(size=(groups.size, 3))
    alpha = rng.normal(size=60)[groups] * 2
    y = (rng.logistic(size=groups.size) < alpha + X @ np.array([0.8, -0.5, 0.0])).astype(float)
    keep = pd.Series(y).groupby(groups).transform("nunique").to_numpy() > 1
    y, X, groups = y[keep], X[keep], groups[keep]
    theirs = ConditionalLogit(y, X, groups=groups)
    for beta in (np.zeros(3), rng.normal(size=3)):
        value, grad = _Groups(y, X, groups).loglike_and_grad(beta)
        assert value == pytest.approx(theirs.loglike(beta), rel=1e-12)
        np.testing.assert_allclose(grad, theirs.score(beta), rtol=1e-9, atol=1e-9)
    ref = theirs.fit(method="newton", disp=0, maxiter=100)
    ours = fit_fe_logit(y, X, groups)
    assert ours.converged
    np.testing.assert_allclose(ours.params, ref.params, atol=1e-6)
    np.testing.assert_allclose(ours.bse, ref.bse, rtol=1e-4)
    # a tolerance the optimiser cannot reach is reported, not hidden
    assert not fit_fe_logit(y, X, groups, tol=1e-30, max_newton=1).converged


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
    loo = loo_summary(Pointwise(idata), data.rows)
    assert loo.n == data.n_obs and np.isfinite(loo.elpd_loo) and loo.se > 0
    # prior draws predict badly and unevenly: many k > 0.7, each named by country and year
    assert loo.warning and loo.n_k_over_0_7 >= 1
    first = loo.influential[0]
    assert first["country"] in set(data.rows["country"]) and first["k"] > 0.7


def test_loo_summary_is_arviz_loo_on_the_same_log_likelihood(prior_fit):
    """One PSIS per fit, shared with LOO-PIT, and the same numbers as ``az.loo`` (its relative efficiency from the
    posterior's mean ESS): the 60 prior draws as 3 chains of 20."""
    import warnings

    idata, data = prior_fit
    three = {name: da.values.reshape((3, 20) + da.shape[2:]) for name, da in idata.posterior.data_vars.items()}
    chains = az.from_dict(posterior=three, constant_data={k: v.values for k, v in idata.constant_data.items()},
                          observed_data={"score": idata.observed_data["score"].values},
                          dims={name: list(idata.posterior[name].dims[2:]) for name in three})
    pointwise = Pointwise(chains)
    ours = loo_summary(pointwise, data.rows)
    ll = pointwise.log_lik.reshape(3, 20, -1)
    with_ll = az.InferenceData(posterior=chains.posterior, log_likelihood=az.from_dict(
        log_likelihood={"score": ll}).log_likelihood)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = az.loo(with_ll, pointwise=True)
    assert pointwise.psis.reff != 1.0  # from the three chains' ESS, as az.loo computes it
    assert ours.elpd_loo == pytest.approx(float(theirs.elpd_loo), rel=1e-12)
    assert ours.se == pytest.approx(float(theirs.se), rel=1e-12)
    assert ours.p_loo == pytest.approx(float(theirs.p_loo), rel=1e-12)
    np.testing.assert_allclose(ours.pointwise, np.asarray(theirs.loo_i), rtol=1e-12)
    np.testing.assert_allclose(pointwise.psis.pareto_k, np.asarray(theirs.pareto_k), rtol=1e-12)
