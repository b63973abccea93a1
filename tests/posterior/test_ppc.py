"""Posterior predictive shares on InferenceData built from dicts (no sampling)."""

import arviz as az
import numpy as np
import pytest

from tipcausal.models.likelihoods import category_probs
from tipcausal.posterior.ppc import predictive_shares


def test_replicated_shares_match_model_probabilities():
    rng = np.random.default_rng(4)
    n, n_c = 400, 4
    cidx = rng.integers(0, n_c, n)
    intercept = np.array([-1.0, 0.0, 0.5, 1.5])
    cut = np.array([-2.0, -0.5, 0.5, 2.0])
    x = rng.normal(size=n)
    shape = (2, 100)
    post = {"intercept": np.broadcast_to(intercept, shape + (n_c,)).copy(),
            "slope": np.full(shape + (n_c,), 0.3), "cutpoints": np.broadcast_to(cut, shape + (4,)).copy()}
    const = {"country_idx": cidx, "year_idx": np.zeros(n, int), "x_within": x, "x_between": np.zeros(n),
             "z_within": np.zeros((n, 0)), "z_between": np.zeros((n, 0))}
    expected = category_probs(intercept[cidx] + 0.3 * x, cut).mean(axis=0)
    observed = np.array([0, 1, 1, 2, 4] * (n // 5))
    idata = az.from_dict(posterior=post, constant_data=const, observed_data={"score": observed})
    out = predictive_shares(idata, seed=9, n_draws=200)
    # every draw is the same parameter value, so replicated shares vary only by multinomial noise:
    # the mean over 200 replications has SE <= 0.5 / sqrt(200 * n); allow 4 SE
    np.testing.assert_allclose(out.replicated_mean, expected, atol=4 * 0.5 / np.sqrt(200 * n))
    np.testing.assert_allclose(out.observed, [0.2, 0.4, 0.2, 0.0, 0.2])
    assert out.score == (1, 2, 3, 4, 5)
    assert all(lo <= m <= hi for lo, m, hi in zip(out.replicated_low, out.replicated_mean, out.replicated_high))


def test_grouped_checks_by_year_and_region_match_model_probabilities():
    """Each group's replicated mean score centres on the model's expected score for that group's rows, its
    observed mean is the data's, and the grouped and overall checks read the same replicated draws."""
    import pandas as pd

    from tipcausal.posterior.ppc import grouped_checks

    rng = np.random.default_rng(5)
    n, n_c = 600, 6
    cidx = np.repeat(np.arange(n_c), n // n_c)
    years = np.tile(np.arange(2000, 2010), n // 10)
    regions = np.array(["Africa", "Asia", "Europe"])[cidx % 3]
    intercept = np.array([-1.5, -0.5, 0.0, 0.5, 1.0, 2.0])
    cut = np.array([-2.0, -0.5, 0.5, 2.0])
    x = rng.normal(size=n)
    shape = (2, 100)
    post = {"intercept": np.broadcast_to(intercept, shape + (n_c,)).copy(),
            "slope": np.full(shape + (n_c,), 0.3), "cutpoints": np.broadcast_to(cut, shape + (4,)).copy()}
    const = {"country_idx": cidx, "year_idx": years - 2000, "x_within": x, "x_between": np.zeros(n),
             "z_within": np.zeros((n, 0)), "z_between": np.zeros((n, 0))}
    probs = category_probs(intercept[cidx] + 0.3 * x, cut)
    expected = probs @ np.arange(1, 6)
    observed = rng.integers(0, 5, n)
    idata = az.from_dict(posterior=post, constant_data=const, observed_data={"score": observed})
    rows = pd.DataFrame({"country": cidx, "year": years, "region": regions})
    checks = grouped_checks(idata, rows, seed=9, n_draws=200)
    assert set(checks) == {"year", "region"}
    assert checks["year"].groups == tuple(str(y) for y in range(2000, 2010))
    assert checks["region"].groups == ("Africa", "Asia", "Europe") and sum(checks["region"].n) == n
    for by, check in checks.items():
        for g, m, o, k in zip(check.groups, check.replicated_mean, check.observed, check.n):
            mask = rows[by].astype(str).to_numpy() == g
            # 200 replications of a mean over k rows: SE <= 2 / sqrt(200 k) (score SD <= 2); allow 4 SE
            assert abs(m - expected[mask].mean()) < 4 * 2 / np.sqrt(200 * k)
            assert o == observed[mask].mean() + 1
    shares = predictive_shares(idata, seed=9, n_draws=200)
    overall = sum(w * m for w, m in zip(checks["region"].n, checks["region"].replicated_mean)) / n
    assert overall == pytest.approx(float(np.dot(shares.replicated_mean, np.arange(1, 6))), rel=1e-12)
