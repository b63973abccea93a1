"""The convergence gate on InferenceData built from dicts (no sampling), and on a real funnel fit."""

import arviz as az
import numpy as np
import pytest

from tipcausal.inference.diagnostics import check_fit


def make(posterior, diverging=None, energy=None, seed=0):
    rng = np.random.default_rng(seed)
    chains, draws = next(iter(posterior.values())).shape[:2]
    stats = {"diverging": np.zeros((chains, draws), bool) if diverging is None else diverging,
             "energy": rng.normal(size=(chains, draws)) if energy is None else energy}
    return az.from_dict(posterior=posterior, sample_stats=stats)


def good(seed=0):
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(size=(4, 1000)), "b": rng.normal(size=(4, 1000, 3))}


def test_iid_draws_pass():
    g = check_fit(make(good()))
    assert g.passed, g.reasons
    assert g.max_rhat < 1.01 and g.min_ess_bulk > 400 and g.divergences == 0


def test_nan_draws_fail():
    post = good()
    post["b"][1, 10, 2] = np.nan
    g = check_fit(make(post))
    assert not g.passed
    assert any("non-finite draws in b" in r for r in g.reasons)


def test_stuck_chain_fails_on_rhat():
    post = good()
    post["a"][2] = post["a"][2] * 0.1 + 3.0
    g = check_fit(make(post))
    assert not g.passed and g.max_rhat > 1.01 and g.worst["rhat"] == "a"


def test_divergences_fail():
    div = np.zeros((4, 1000), bool)
    div[0, :3] = True
    g = check_fit(make(good(), diverging=div))
    assert not g.passed and g.divergences == 3


def test_low_bfmi_fails():
    energy = np.cumsum(np.random.default_rng(1).normal(size=(4, 1000)), axis=1)  # random walk -> E-BFMI ~ 0
    g = check_fit(make(good(), energy=energy))
    assert not g.passed and any("E-BFMI" in r for r in g.reasons)
    idata = make(good(), energy=energy)
    assert g.min_bfmi == pytest.approx(float(np.min(az.bfmi(idata))), rel=1e-12)  # ArviZ's E-BFMI


def test_autocorrelated_draws_fail_on_ess():
    rng = np.random.default_rng(2)
    x = np.zeros((4, 1000))
    for t in range(1, 1000):
        x[:, t] = 0.995 * x[:, t - 1] + rng.normal(size=4) * 0.1
    g = check_fit(make({"a": x}))
    assert not g.passed and g.min_ess_bulk < 400


@pytest.mark.sampling
def test_centred_funnel_fit_fails_the_gate():
    import pymc as pm

    from tipcausal.inference.sampling import SamplerSettings, sample

    with pm.Model() as funnel:  # Neal's funnel, centred: NUTS cannot explore the neck
        v = pm.Normal("v", 0.0, 3.0)
        pm.Normal("x", 0.0, pm.math.exp(v / 2), shape=9)
    # a raw PyMC model, not a spec: the one place a test samples outside tipcausal.fit (the gate's own test)
    run = sample(funnel, SamplerSettings(draws=500, tune=500, chains=4, target_accept=0.8, seed=3), progress=False)
    g = check_fit(run.idata)
    assert not g.passed
    assert g.divergences > 0
