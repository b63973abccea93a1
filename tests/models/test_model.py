"""The PyMC model against the shared NumPy predictor: same log-likelihood at the same point."""

from dataclasses import replace

import numpy as np
import pytest

from tipcausal.models.binding import bind_data
from tipcausal.models.likelihoods import category_probs
from tipcausal.models.predictor import linear_predictor, split_latent
from tipcausal.models.build import build_model
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.core.errors import InputError

COVS = ("v2x_corr", "v2x_polyarchy", "log_gdp_pc")


@pytest.fixture(scope="module")
def bound(small_sim):
    spec = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=COVS)
    return spec, bind_data(small_sim.panel, spec)


def test_binding_standardises_and_splits(bound, small_sim):
    spec, d = bound
    x = small_sim.panel.frame.sort_values(["country", "year"])["v2cscnsult"].to_numpy()
    np.testing.assert_allclose(d.x_within + d.x_between, (x - x.mean()) / x.std(ddof=1), atol=1e-12)
    for c in range(len(d.coords["country"])):
        assert abs(d.x_within[d.country_idx == c].mean()) < 1e-12
    assert d.categories.min() == 0 and d.categories.max() == 4


def test_logp_and_gradient_finite_at_initial_point(bound):
    spec, d = bound
    model = build_model(spec, d)
    ip = model.initial_point()
    assert np.isfinite(model.compile_logp()(ip))
    assert np.isfinite(model.compile_dlogp()(ip)).all()


@pytest.mark.parametrize("options", [{}, {"within_between": False, "year_effects": "none"},
                                     {"country_slopes": False, "region_intercepts": False},
                                     {"likelihood": "cumulative_probit", "year_effects": "random_walk"},
                                     {"pooling": "none"}, {"pooling": "complete", "likelihood": "cumulative_probit"},
                                     {"likelihood": "binary_logit", "collapse_threshold": 3},
                                     {"year_effects": "fixed"}, {"measurement_error": 0.15},
                                     {"measurement_error": 0.15, "within_between": False},
                                     {"missing": "impute"}, {"missing": "impute", "within_between": False}])
def test_model_likelihood_equals_numpy_predictor(small_sim, options):
    spec = ModelSpec(outcome="prevention", treatment="v2cscnsult", covariates=COVS, **options)
    panel = small_sim.panel
    if spec.missing == "impute":  # knock out covariate values, two in one row, a whole country for one covariate
        frame = panel.frame.copy()
        for row, col in ((3, "v2x_corr"), (3, "log_gdp_pc"), (40, "v2x_corr"), (77, "v2x_polyarchy")):
            frame.loc[frame.index[row], col] = np.nan
        frame.loc[frame["country"] == frame["country"].iloc[-1], "log_gdp_pc"] = np.nan
        panel = replace(panel, frame=frame)
    d = bind_data(panel, spec)
    if spec.missing == "impute":
        assert d.miss_row.size > 5 and d.n_obs == len(panel.frame.dropna(subset=["prevention", "v2cscnsult"]))
    model = build_model(spec, d)
    rng = np.random.default_rng(0)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    names = ["intercept", "slope", "cutpoints"] + [n for n in ("year_effect", "between_effect", "covariate_within",
                                                               "covariate_between", "x_true", "z_missing")
                                                   if n in model.named_vars]
    outputs = model.replace_rvs_by_values([model[n] for n in names])
    params = dict(zip(names, model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")(point)))
    cut = params.pop("cutpoints")
    if "x_true" in params:
        params["x_within"], params["x_between"] = split_latent(params.pop("x_true"), d.country_idx,
                                                               len(d.coords["country"]), spec.within_between)
    eta = linear_predictor(params, d.arrays())
    probs = category_probs(eta, cut, spec.link)
    numpy_ll = np.log(probs[np.arange(d.n_obs), d.categories]).sum()
    pymc_ll = model.compile_fn(model.logp(vars=[model["score"]], sum=True), inputs=model.value_vars,
                               on_unused_input="ignore")(point)
    # probit: PyMC evaluates normal-CDF differences in a more stable form; agreement to ~1e-9 relative
    assert pymc_ll == pytest.approx(numpy_ll, rel=1e-9 if spec.link == "logit" else 1e-8)


def test_spec_errors_list_valid_names():
    with pytest.raises(InputError, match="valid names: binary_logit, cumulative_logit, cumulative_probit"):
        ModelSpec(outcome="y", treatment="x", covariates=(), likelihood="probit_ish")
    with pytest.raises(InputError, match="unknown prior name"):
        ModelSpec(outcome="y", treatment="x", covariates=(), priors={"nope": Prior("Normal", {})})


def test_spec_hash_changes_with_priors():
    a = ModelSpec(outcome="y", treatment="x", covariates=("c",))
    b = a.with_priors({"slope_sd": Prior("HalfNormal", {"sigma": 0.3})})
    assert a.hash != b.hash and a.hash == ModelSpec(outcome="y", treatment="x", covariates=("c",)).hash


def test_structure_flags_must_be_booleans():
    with pytest.raises(InputError, match="country_slopes must be true or false"):
        ModelSpec(outcome="y", treatment="x", covariates=(), country_slopes="yes")


def test_pooling_shapes_the_intercepts(small_sim):
    spec = ModelSpec(outcome="prevention", treatment="v2cscnsult", covariates=COVS, pooling="complete")
    model = build_model(spec, bind_data(small_sim.panel, spec))
    assert "country_sd" not in model.named_vars and "z_country" not in model.named_vars
    none = ModelSpec(outcome="prevention", treatment="v2cscnsult", covariates=COVS, pooling="none")
    model = build_model(none, bind_data(small_sim.panel, none))
    assert "country_intercept" in model.named_vars and "region_effect" not in model.named_vars
    assert set(none.active_priors()) >= {"country_intercept"} and "country_sd" not in none.active_priors()
    with pytest.raises(InputError, match="unknown pooling option 'some'; valid names: complete, none, partial"):
        ModelSpec(outcome="p", treatment="t", covariates=(), pooling="some")


def test_lagged_treatment_uses_last_years_value(small_sim):
    spec = ModelSpec(outcome="prevention", treatment="v2cscnsult", covariates=COVS, lagged_treatment=True)
    d = bind_data(small_sim.panel, spec)
    plain = bind_data(small_sim.panel, ModelSpec(outcome="prevention", treatment="v2cscnsult", covariates=COVS))
    frame = small_sim.panel.frame.set_index(["country", "year"])["v2cscnsult"]
    rows = d.rows.reset_index(drop=True)
    x = d.x_within + d.x_between  # standardised lagged treatment
    raw = np.array([frame[(c, y - 1)] for c, y in zip(rows["country"], rows["year"])])
    np.testing.assert_allclose(x, (raw - raw.mean()) / raw.std(ddof=1), atol=1e-12)
    first_years = small_sim.panel.frame.groupby("country")["year"].min()
    assert not any(y == first_years[c] for c, y in zip(rows["country"], rows["year"]))
    assert d.dropped["v2cscnsult"] >= len(first_years) and d.n_obs < plain.n_obs
