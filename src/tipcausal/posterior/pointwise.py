"""A fit's observation-level quantities, evaluated once: log p(observed score | draw) for every draw and
observation and the Pareto-smoothed importance weights of leave-one-out (PSIS) from it.

PSIS-LOO (``posterior.loo``), the saved ``log_likelihood`` group (``posterior.groups``) and LOO-PIT
(``posterior.loo_pit``) all read the same log-likelihood and the same weights; before, each evaluated the category
probabilities again and LOO-PIT ran its own PSIS (6.2 s per default-study fit for the three, 1.9 s now). The weights are ArviZ's: ``az.psislw`` with the relative efficiency ``az.loo``
computes (the mean ESS of the posterior's quantities over the number of draws), so ``az.loo`` on a saved fit gives
the same elpd as the run.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import arviz as az
import numpy as np
from scipy.special import logsumexp

from tipcausal.core.blocks import map_blocks
from tipcausal.inference.convergence import ess_mean
from tipcausal.models.families import family_of
from tipcausal.models.likelihoods import cumulative_first, observed_interval
from tipcausal.models.predictor import from_idata, linear_predictor

CHUNK = 250  # posterior draws per pass over the predictor
BLOCK = 256  # observations per PSIS block


def predictor_chunks(idata: az.InferenceData) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """The linear predictor (draws, obs) and cutpoints (draws, K-1) of ``CHUNK`` flattened posterior draws at a
    time, with the draws' slice: the model's own predictor (``models.predictor``)."""
    post = idata.posterior
    total = post.sizes["chain"] * post.sizes["draw"]
    params_all, cut_all, data = from_idata(idata)
    for start in range(0, total, CHUNK):
        sl = slice(start, min(start + CHUNK, total))
        yield sl, linear_predictor({k: v[sl] for k, v in params_all.items()}, data), cut_all[sl]


def observed_categories(idata: az.InferenceData) -> np.ndarray:
    """The observed categories (0..K-1, or 0/1 for a collapsed score) of a fit."""
    return np.asarray(idata.observed_data["score"].values, dtype=np.int64)


@dataclass(frozen=True)
class Psis:
    """PSIS-LOO of one fit: the normalised log weights (draws, obs; float32, enough for LOO-PIT), each
    observation's Pareto k, elpd_loo and lppd (log of its mean likelihood over draws; float64), and the relative
    efficiency used."""

    log_weights: np.ndarray
    pareto_k: np.ndarray
    loo_i: np.ndarray
    lppd_i: np.ndarray
    reff: float


@dataclass(frozen=True)
class Replicates:
    """One replicated category per draw and observation (int8, drawn by the inverse CDF with ``seed``) and the
    predictive probability of a score at most the observed one (float32), both (draws, obs)."""

    categories: np.ndarray
    at_most: np.ndarray
    seed: int


def relative_efficiency(idata: az.InferenceData) -> float:
    """``az.loo``'s relative efficiency: the mean ESS (method "mean", ``inference.convergence.ess_mean``: ArviZ's
    numbers in one vectorised pass) of every posterior quantity over the number of draws; 1 for a single chain,
    or where that mean is not finite (draws that never move)."""
    post = idata.posterior
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    if chains == 1:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ess = np.concatenate([ess_mean(np.asarray(da.transpose("chain", "draw", ...).values).reshape(
            chains, draws, -1)) for da in post.data_vars.values()])
        reff = float(ess.mean() / (chains * draws))
    return reff if np.isfinite(reff) and reff > 0 else 1.0


class Pointwise:
    """The observation-level quantities of one fit's posterior, each evaluated on first use and kept:
    ``log_lik`` (draws, obs; draws flattened chain-major), ``psis`` (PSIS-LOO weights), and ``replicates(seed)``."""

    def __init__(self, idata: az.InferenceData) -> None:
        self.idata = idata
        self._replicates: Replicates | None = None  # the last seed's

    @property
    def shape(self) -> tuple[int, int]:
        """(chains, draws) of the posterior."""
        post = self.idata.posterior
        return int(post.sizes["chain"]), int(post.sizes["draw"])

    @cached_property
    def log_lik(self) -> np.ndarray:
        """log p(observed score_i | draw), (draws, obs): from the two cutpoints around each observed category."""
        y = observed_categories(self.idata)
        link = family_of(self.idata)[0].link
        out = np.empty((self.shape[0] * self.shape[1], y.size))
        for sl, eta, cut in predictor_chunks(self.idata):
            below, at_most = observed_interval(eta, cut, y, link)
            np.log(np.clip(np.subtract(at_most, below, out=at_most), 1e-300, None, out=at_most), out=out[sl])
        return out

    @cached_property
    def psis(self) -> Psis:
        """PSIS of the leave-one-out posteriors (``az.psislw`` at ``az.loo``'s relative efficiency), ``BLOCK``
        observations at a time so that no draws x observations temporary is made (ArviZ smooths each observation
        on its own either way)."""
        reff = relative_efficiency(self.idata)
        ll = self.log_lik
        n_draws, n_obs = ll.shape
        log_weights = np.empty((n_draws, n_obs), dtype=np.float32)
        pareto_k, loo_i, lppd_i = np.empty(n_obs), np.empty(n_obs), np.empty(n_obs)

        def smooth(block: slice) -> None:  # each block writes its own columns
            observed = np.ascontiguousarray(ll[:, block].T)  # (obs, draws)
            log_w, k = az.psislw(-observed, reff)  # normalised over draws
            pareto_k[block] = k
            loo_i[block] = logsumexp(log_w + observed, axis=1)
            lppd_i[block] = logsumexp(observed, axis=1) - np.log(n_draws)
            log_weights[:, block] = log_w.T

        # Pareto k warnings: the LOO summary reports them (filters set here: threads share them, and setting them
        # in each would race)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            map_blocks(smooth, [slice(s, min(s + BLOCK, n_obs)) for s in range(0, n_obs, BLOCK)])
        return Psis(log_weights=log_weights, pareto_k=pareto_k, loo_i=loo_i, lppd_i=lppd_i, reff=reff)

    def replicates(self, seed: int) -> Replicates:
        """A replicated category per draw and observation (by the inverse CDF: one uniform per draw and row from
        ``seed``, chunk by chunk) and P(score <= observed | draw), in one pass over the cumulative probabilities."""
        cached = self._replicates
        if cached is not None and cached.seed == seed:
            return cached
        y = observed_categories(self.idata)
        link = family_of(self.idata)[0].link
        total = self.shape[0] * self.shape[1]
        categories = np.empty((total, y.size), dtype=np.int8)
        at_most = np.empty((total, y.size), dtype=np.float32)
        rng = np.random.default_rng(seed)
        for sl, eta, cut in predictor_chunks(self.idata):
            cum = cumulative_first(eta, cut, link)  # (K-1, draws, obs)
            u = rng.random(eta.shape)
            categories[sl] = (u > cum).sum(axis=0)
            top = y >= cum.shape[0]  # the highest category: P(score <= y) = 1
            at_most[sl] = np.where(top, 1.0, np.take_along_axis(
                cum, np.minimum(y, cum.shape[0] - 1)[None, None, :].repeat(eta.shape[0], axis=1), axis=0)[0])
        self._replicates = Replicates(categories=categories, at_most=at_most, seed=seed)
        return self._replicates
