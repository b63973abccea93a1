"""The vectorised R-hat and ESS give ArviZ's numbers, quantity by quantity (a deterministic computation: the
tolerance is rounding, not Monte Carlo error)."""

import warnings

import arviz as az
import numpy as np
import pytest

from tipcausal.inference.convergence import convergence


def _ar1(rng, phi, chains, draws, offset=0.0, df=None):
    noise = rng.standard_t(df, size=(chains, draws)) if df else rng.normal(size=(chains, draws))
    x = np.zeros((chains, draws))
    x[:, 0] = noise[:, 0]
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x + offset * np.arange(chains)[:, None]


def _quantities(seed, chains, draws):
    rng = np.random.default_rng(seed)
    cols = [_ar1(rng, phi, chains, draws) for phi in (-0.7, -0.2, 0.0, 0.5, 0.9, 0.99)]
    cols += [_ar1(rng, 0.3, chains, draws, offset=0.2), _ar1(rng, 0.3, chains, draws, df=2),
             np.cumsum(rng.normal(size=(chains, draws)), axis=1),  # a random walk: tiny ESS, large R-hat
             rng.integers(0, 2, size=(chains, draws)).astype(float),  # heavy ties
             np.round(rng.normal(size=(chains, draws)), 1),  # ties in the ranks
             np.full((chains, draws), 2.5)]  # constant: ESS = number of draws
    return np.stack(cols, axis=2)


@pytest.mark.parametrize("chains,draws", [(4, 1000), (4, 999), (2, 60), (1, 200), (6, 37)])
def test_matches_arviz_quantity_by_quantity(chains, draws):
    ary = _quantities(chains * 1000 + draws, chains, draws)
    got = convergence(ary)
    for i in range(ary.shape[2]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = (float(az.rhat(ary[:, :, i])), float(az.ess(ary[:, :, i], method="bulk")),
                   float(az.ess(ary[:, :, i], method="tail")))
        mine = (got.rhat[i], got.ess_bulk[i], got.ess_tail[i])
        np.testing.assert_allclose(mine, ref, rtol=1e-9, equal_nan=True, err_msg=f"quantity {i}")


def test_non_finite_draws_give_nan_and_leave_the_others_alone():
    ary = _quantities(5, 4, 200)
    clean = convergence(ary)
    ary[2, 17, 3] = np.nan
    ary[0, 0, 5] = np.inf
    got = convergence(ary)
    for values, ref in ((got.rhat, clean.rhat), (got.ess_bulk, clean.ess_bulk), (got.ess_tail, clean.ess_tail)):
        assert np.isnan(values[[3, 5]]).all()
        keep = np.setdiff1d(np.arange(ary.shape[2]), [3, 5])
        np.testing.assert_array_equal(values[keep], ref[keep])


def test_blocks_of_quantities_give_the_numbers_of_all_at_once():
    """Quantities are computed in blocks (bounded temporaries); each quantity's numbers do not depend on its
    block (to the last bit or two: the FFT batches differ)."""
    from tipcausal.inference.convergence import BLOCK, _convergence, convergence, ess_mean

    rng = np.random.default_rng(9)
    ary = np.cumsum(rng.normal(size=(4, 300, BLOCK * 2 + 7)), axis=1) * 0.05 + rng.normal(size=(4, 300, 1))
    whole, blocks = _convergence(ary), convergence(ary)
    for name in ("rhat", "ess_bulk", "ess_tail"):
        np.testing.assert_allclose(getattr(blocks, name), getattr(whole, name), rtol=1e-13)
    assert ess_mean(ary).shape == (ary.shape[2],)
