"""In-model imputation of missing covariates (``missing = "impute"``): the binding's imputation priors and
counts, and a fit that keeps the rows complete-case analysis drops, recovers the slope, and learns the
missing values."""

import arviz as az
import numpy as np
import pytest

from helpers import confounded_panel, sampler_seed
from tipcausal.inference.diagnostics import check_fit
from tipcausal.models.binding import bind_data

from tipcausal.models.spec import ModelSpec
from tipcausal.fit import fit_specification
from tipcausal.inference.sampling import SamplerSettings

SLOPE, W_EFFECT = 0.6, 0.8


def simulate(seed: int, n_countries: int = 80, n_years: int = 12, missing_share: float = 0.35):
    """x and a confounder w share within-country variation; w drives the score; w is missing at random."""
    return confounded_panel(seed, n_countries, n_years, missing_share, slope=SLOPE, w_effect=W_EFFECT)


def spec(**options):
    return ModelSpec(outcome="y", treatment="x", covariates=("w",), country_slopes=False, year_effects="none",
                     region_intercepts=False, **options)


def test_imputation_binding_priors_and_counts():
    panel, _ = simulate(seed=1, n_countries=10, n_years=6)
    f = panel.frame
    f.loc[f["country"] == "C003", "w"] = np.nan  # a country with no observed value
    complete = bind_data(panel, spec())
    imputed = bind_data(panel, spec(missing="impute"))
    n_missing = int(f["w"].isna().sum())
    assert complete.n_obs == len(f) - n_missing and complete.dropped["w"] == n_missing
    assert imputed.n_obs == len(f) and imputed.imputed == {"w": n_missing} and "w" not in imputed.dropped
    assert imputed.miss_row.size == n_missing and len(imputed.coords["missing_value"]) == n_missing
    m, s = imputed.covariate_scale["w"]
    zw = (f["w"] - m) / s
    for r, mean, has in zip(imputed.miss_row, imputed.imp_mean, imputed.imp_has):
        c = imputed.rows["country"].iloc[r]
        obs = zw[(f["country"] == c) & f["w"].notna()]
        assert has == bool(len(obs))
        assert mean == pytest.approx(obs.mean() if len(obs) else 0.0)
        assert imputed.z_between[r, 0] == pytest.approx(mean)
        assert imputed.z_within[r, 0] == 0.0
    assert imputed.obs_dev.size == len(f) - n_missing and abs(imputed.obs_dev.sum()) < 1e-9


@pytest.mark.sampling
def test_imputation_keeps_rows_recovers_slope_and_learns_missing_values():
    panel, truth = simulate(seed=5)
    s = spec(missing="impute")
    settings = SamplerSettings(draws=1500, tune=1000, chains=4, target_accept=0.9, seed=sampler_seed(2))
    fit = fit_specification(panel, s, settings)
    run, data = fit, fit.data
    gate = check_fit(run.idata)
    assert gate.passed, gate.reasons
    assert data.n_obs == len(panel.frame)
    lo, hi = az.hdi(run.idata.posterior["slope_mean"].values.reshape(-1), hdi_prob=0.90)
    assert lo <= SLOPE <= hi
    # the imputed values move from their prior mean towards the truth: the outcome informs them
    m, sd = data.covariate_scale["w"]
    true_z = ((truth.to_numpy() - m) / sd)[data.miss_row]
    post_z = run.idata.posterior["z_missing"].mean(("chain", "draw")).values
    prior_err = np.abs(data.imp_mean - true_z).mean()  # the country mean alone
    post_err = np.abs(post_z - true_z).mean()
    assert post_err < prior_err
