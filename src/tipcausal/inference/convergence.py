"""Rank-normalised split R-hat and bulk / tail ESS (Vehtari et al. 2021) of many quantities at once.

The same numbers as ``az.rhat(method="rank")`` and ``az.ess(method="bulk" / "tail")`` (ArviZ 0.23), to rounding
(``tests/inference/test_convergence.py`` compares them on real fits), computed for every quantity of a posterior
in one pass of array operations instead of one Python call per scalar: the gate checks ~900 quantities per fit,
which took ArviZ about 3 s per fit and about a fifth of a warm-started refit's wall time.

Arrays are ``(chain, draw, quantity)``. A quantity whose draws are not all finite gets NaN (the gate fails such
fits outright); a constant one gets ESS = its number of draws, as in ArviZ.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special, stats
from scipy.fft import next_fast_len

from tipcausal.core.blocks import map_blocks

TAIL_PROBS = (0.05, 0.95)


def _split(ary: np.ndarray) -> np.ndarray:
    """Each chain's first and last halves as separate chains (the middle draw of an odd count dropped)."""
    half = ary.shape[1] // 2
    return np.concatenate([ary[:, :half], ary[:, -half:]], axis=0)


def _z_scale(ary: np.ndarray) -> np.ndarray:
    """Normal scores of the pooled ranks of each quantity (average ranks for ties, Blom's offset 3/8)."""
    m, n, k = ary.shape
    pooled = np.ascontiguousarray(ary.reshape(m * n, k).T)  # rank along contiguous rows
    ranks = stats.rankdata(pooled, method="average", axis=1)
    return special.ndtri((ranks - 0.375) / (m * n + 0.25)).T.reshape(m, n, k)


def _rhat(ary: np.ndarray) -> np.ndarray:
    """Classic R-hat of each quantity over the chains given."""
    n = ary.shape[1]
    chain_mean = ary.mean(axis=1)
    between = n * chain_mean.var(axis=0, ddof=1)
    within = ary.var(axis=1, ddof=1).mean(axis=0)
    return np.sqrt((between / within + n - 1) / n)


def _ess(ary: np.ndarray) -> np.ndarray:
    """ESS of each quantity: FFT autocovariances, Geyer's initial positive and monotone sequences, as ArviZ."""
    m, n, k = ary.shape
    size = m * n
    constant = (ary.max(axis=(0, 1)) - ary.min(axis=(0, 1))) < np.finfo(float).resolution
    centred = ary - ary.mean(axis=1, keepdims=True)
    spec = np.fft.rfft(centred, n=next_fast_len(2 * n), axis=1)
    acov = np.fft.irfft(spec * np.conjugate(spec), n=next_fast_len(2 * n), axis=1)[:, :n] / n
    mean_var = acov[:, 0].mean(axis=0) * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus = var_plus + ary.mean(axis=1).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1.0 - (mean_var - acov.mean(axis=0)) / var_plus  # (lag, quantity)
    rho[0] = 1.0
    # pairs (rho[2j], rho[2j + 1]); pair 0 is (1, rho[1]). ArviZ's initial positive sequence visits pairs
    # j = 1 .. J while the sum of the pair before is > 0 and 2j - 1 < n - 3
    j_max = max((n - 1) // 2 - 1, 0)
    pair = rho[0:2 * j_max + 2:2] + rho[1:2 * j_max + 2:2]  # (pair, quantity)
    big_j = _last_visited(pair, j_max)
    cols = np.arange(k)
    rho_j = rho[2 * big_j, cols]
    pair_j = pair[big_j, cols]
    last = np.where((big_j == 0) | (pair_j >= 0.0) | (rho_j > 0.0), rho_j, 0.0)
    last = np.where(big_j == 0, 1.0, last)  # J = 0: max_t = -1, and the sum is rho[0] = 1
    # Geyer's monotone sequence on pairs 1 .. J-1: each pair's sum capped by the (capped) sum before it
    capped = np.minimum.accumulate(pair, axis=0)
    upto = np.arange(pair.shape[0])[:, None] < big_j[None, :]
    total = np.where(upto, capped, 0.0).sum(axis=0)
    tau = -1.0 + 2.0 * total + last
    tau = np.maximum(tau, 1.0 / np.log10(size))
    ess = size / tau
    ess = np.where(np.isnan(rho).any(axis=0) & ~constant, np.nan, ess)
    return np.where(constant, float(size), ess)


def _last_visited(pair: np.ndarray, j_max: int) -> np.ndarray:
    """For each quantity, the last pair ArviZ's positive-sequence loop visits: the first pair j >= 1 with a sum
    <= 0, or ``j_max``; 0 when pair 0's sum is <= 0 (the loop never runs)."""
    k = pair.shape[1]
    if j_max < 1:
        return np.zeros(k, dtype=int)
    nonpos = pair[1:j_max + 1] <= 0.0
    first = np.where(nonpos.any(axis=0), nonpos.argmax(axis=0) + 1, j_max)
    return np.where(pair[0] <= 0.0, 0, first)


@dataclass(frozen=True)
class Convergence:
    """Per-quantity rank-normalised split R-hat, bulk ESS and tail ESS (NaN where a draw is not finite)."""

    rhat: np.ndarray
    ess_bulk: np.ndarray
    ess_tail: np.ndarray


#: Quantities per block: every quantity is computed on its own, and blocks bound the FFT and rank temporaries
#: (about ten times the draws of the quantities in hand: a joint real-study fit has about 3,000 quantities of 8,000
#: draws, 0.2 GB of draws).
BLOCK = 256


def convergence(ary: np.ndarray) -> Convergence:
    """R-hat (the larger of bulk and folded), bulk ESS and tail ESS (the smaller ESS of the 5% and 95% quantile
    indicators) of each quantity of ``(chain, draw, k)``; quantities whose vectorised value is not finite although
    their draws are (degenerate ones: a few draws, a chain that never moves) are recomputed by ArviZ itself."""
    ary = np.asarray(ary)
    with warnings.catch_warnings():  # ArviZ's own on degenerate quantities (set here once: blocks run in threads)
        warnings.simplefilter("ignore", RuntimeWarning)
        parts = map_blocks(_convergence, _blocks(ary) or [ary])
    if len(parts) == 1:
        return parts[0]
    return Convergence(rhat=np.concatenate([p.rhat for p in parts]),
                       ess_bulk=np.concatenate([p.ess_bulk for p in parts]),
                       ess_tail=np.concatenate([p.ess_tail for p in parts]))


def _convergence(ary: np.ndarray) -> Convergence:
    ary = np.asarray(ary, dtype=float)
    if ary.shape[2] == 0 or ary.shape[1] < 4:  # ArviZ: NaN below four draws
        nan = np.full(ary.shape[2], np.nan)
        return Convergence(rhat=nan, ess_bulk=nan.copy(), ess_tail=nan.copy()) if ary.shape[2] else \
            Convergence(rhat=np.empty(0), ess_bulk=np.empty(0), ess_tail=np.empty(0))
    finite = np.isfinite(ary).all(axis=(0, 1))
    safe = np.where(finite, ary, 0.0)
    split = _split(safe)
    z = _z_scale(split)
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        rhat = np.maximum(_rhat(z), _rhat(_z_scale(folded)))
    bulk = _ess(z)
    tail = np.full(ary.shape[2], np.inf)
    flat = safe.reshape(-1, ary.shape[2])
    for q in np.quantile(flat, TAIL_PROBS, axis=0):
        tail = np.minimum(tail, _ess(_split((safe <= q).astype(float))))
    if ary.shape[0] < 2:  # ArviZ: R-hat needs two chains
        rhat[:] = np.nan
    for values, method in ((rhat, None), (bulk, "bulk"), (tail, "tail")):
        if method is None and ary.shape[0] < 2:
            continue
        for i in np.flatnonzero(finite & ~np.isfinite(values)):
            values[i] = _arviz(ary[:, :, i], method)
        values[~finite] = np.nan
    return Convergence(rhat=rhat, ess_bulk=bulk, ess_tail=tail)


def ess_mean(ary: np.ndarray) -> np.ndarray:
    """ESS of each quantity of ``(chain, draw, k)`` on its raw draws (split chains), as ``az.ess(method="mean")``."""
    ary = np.asarray(ary)
    if not ary.shape[2]:
        return np.empty(0)
    return np.concatenate(map_blocks(lambda block: _ess(_split(np.asarray(block, dtype=float))), _blocks(ary)))


def _blocks(ary: np.ndarray) -> list[np.ndarray]:
    """``(chain, draw, k)`` in slices of at most ``BLOCK`` quantities."""
    return [ary[:, :, start:start + BLOCK] for start in range(0, ary.shape[2], BLOCK)]


def _arviz(ary: np.ndarray, method: str | None) -> float:
    import arviz as az

    return float(az.rhat(ary) if method is None else az.ess(ary, method=method))
