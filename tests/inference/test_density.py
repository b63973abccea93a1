"""The compiled log density with data as arguments: it equals PyMC's own log density (padding adds exactly
nothing), and models that differ only in data share one program."""

import numpy as np
import pytest

from tipcausal.data.panel import Panel
from tipcausal.inference.density import model_density
from tipcausal.models.binding import bind_data
from tipcausal.models.build import build_model
from tipcausal.models.spec import ModelSpec

SPEC = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",))


def _random_points(model, density, n, seed):
    from pymc.initial_point import make_initial_point_fn

    fn = make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs), return_transformed=True)
    rng = np.random.default_rng(seed)
    points = []
    for s in rng.integers(0, 2**31 - 1, size=n):
        point = fn(int(s))
        points.append({k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in point.items()})
    return points


@pytest.mark.parametrize("options", [{}, {"likelihood": "cumulative_probit", "year_effects": "random_walk"},
                                     {"measurement_error": 0.3}, {"pooling": "none"},
                                     {"parameterisation": "centred_levels"}, {"parameterisation": "centred"},
                                     {"parameterisation": "centred_levels", "measurement_error": 0.3}])
def test_density_equals_pymc_logp(small_sim, options):
    import jax

    spec = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",), **options)
    model = build_model(spec, bind_data(small_sim.panel, spec))
    density = model_density(model)
    if "measurement_error" in options:  # a free variable on the rows: no padding
        assert density.padded_rows == density.n_rows
    else:
        assert density.padded_rows % 64 == 0 and density.padded_rows > density.n_rows
    pymc_logp = model.compile_logp()
    ours = jax.jit(density.program.logp)
    for point in _random_points(model, density, 5, seed=3):
        expected = float(pymc_logp(point))
        got = float(ours(density.flatten(point), density.data))
        assert np.isfinite(expected)
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-8)


def test_models_differing_only_in_data_share_one_program(small_sim):
    spec = SPEC
    data = bind_data(small_sim.panel, spec)
    first = model_density(build_model(spec, data))
    # three country-years fewer (every country keeps rows): the same bucket of 64 rows, one program
    panel = small_sim.panel
    frame = panel.frame
    drop = frame.index[frame["year"] == frame["year"].max()][:3]
    fewer = Panel(frame=frame.drop(index=drop), schema=panel.schema, kind=panel.kind, source=panel.source)
    smaller = model_density(build_model(spec, bind_data(fewer, spec)))
    assert smaller.n_rows == first.n_rows - 3 and smaller.padded_rows == first.padded_rows
    assert smaller.program is first.program
    other = ModelSpec(outcome="prevention", treatment="v2cscnsult", covariates=("v2x_corr",))
    second = model_density(build_model(other, bind_data(small_sim.panel, other)))
    assert second.cached and second.program is first.program
    assert any(not np.array_equal(a, b) for a, b in zip(first.data, second.data))
    changed = ModelSpec(outcome="protection", treatment="v2cscnsult", covariates=("v2x_corr",),
                        year_effects="random_walk")
    third = model_density(build_model(changed, bind_data(small_sim.panel, changed)))
    assert third.program.key != first.program.key


@pytest.mark.parametrize("left_out", ["country", "region"])
def test_fold_keeping_levels_shares_the_program_and_adds_only_prior_terms(small_sim, left_out):
    """A fold that keeps the full fit's levels (a refutation's country or region left out) lowers to the full
    fit's program, and its log density is the dropped fold's plus the standard-normal prior terms of the
    parameters of the countries without rows (which integrate out): the same posterior for everything else."""
    import jax
    from scipy.stats import norm

    from tipcausal.models.binding import kept_levels
    from tipcausal.sensitivity import panels as altered

    spec = SPEC  # non-centred: a country's own parameters are z_country and z_slope, N(0, 1) a priori
    full_data = bind_data(small_sim.panel, spec)
    full = model_density(build_model(spec, full_data))
    value = (full_data.coords["country"][0] if left_out == "country"
             else full_data.coords["region"][int(full_data.region_of_country[0])])
    kept_data = bind_data(altered.without(small_sim.panel, left_out, value, kept_levels(full_data)), spec)
    kept_model = build_model(spec, kept_data)
    kept = model_density(kept_model, min_rows=kept_data.pad_rows)
    assert kept.program is full.program and kept.padded_rows == full.padded_rows
    assert kept_data.coords == {**full_data.coords, "obs": list(range(kept_data.n_obs))}
    dropped_data = bind_data(altered.without(small_sim.panel, left_out, value), spec)
    dropped_model = build_model(spec, dropped_data)
    dropped = model_density(dropped_model)
    assert len(dropped_data.coords["country"]) < len(kept_data.coords["country"])
    gone = np.isin(kept_data.coords["country"], dropped_data.coords["country"], invert=True)
    assert np.array_equal(np.flatnonzero(gone), np.setdiff1d(np.arange(gone.size), kept_data.country_idx))

    if left_out == "region":  # the dropped fold's zero-sum region block has one entry fewer: another prior
        assert len(dropped_data.coords["region"]) == len(kept_data.coords["region"]) - 1
        return
    ours_kept, ours_dropped = jax.jit(kept.program.logp), jax.jit(dropped.program.logp)
    for point in _random_points(kept_model, kept, 4, seed=11):
        sub = {k: (v[~gone] if k in ("z_country", "z_slope") else v) for k, v in point.items()}
        extra = norm.logpdf(point["z_country"][gone]).sum() + norm.logpdf(point["z_slope"][gone]).sum()
        got = float(ours_kept(kept.flatten(point), kept.data))
        expected = float(ours_dropped(dropped.flatten(sub), dropped.data)) + extra
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-8)
