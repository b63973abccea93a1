"""Causal effects on the outcome scale, computed from any saved fit by intervening on the treatment.

For every posterior draw and every observed country-year, the linear predictor is evaluated as
fitted and with the treatment raised by one standard deviation (``do(x := x + 1 SD)``, holding
the country means that proxy time-invariant confounding fixed). The difference in the expected
score, and in the probability of a score of 4 or more, is averaged over the observed rows (the
average effect) and over each country's rows (country effects). Everything needed is in the
InferenceData (posterior + constant_data), so effects do not depend on the sampler backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import xarray as xr

from tipcausal.models.families import family_of
from tipcausal.models.predictor import from_idata, linear_predictor, treatment_shift

HDI_PROB = 0.94
RECOVERY_PROB = 0.90
CHUNK = 200


@dataclass(frozen=True)
class EffectSummary:
    """Posterior summary of one effect: mean, 94% HDI, 90% HDI, P(effect > 0), and the median with the 5%, 25%,
    75% and 95% quantiles (equal-tailed 50% and 90% intervals, as a specification curve draws them)."""

    mean: float
    hdi_low: float
    hdi_high: float
    hdi90_low: float
    hdi90_high: float
    p_positive: float
    median: float = float("nan")
    q05: float = float("nan")
    q25: float = float("nan")
    q75: float = float("nan")
    q95: float = float("nan")

    def to_dict(self) -> dict[str, float]:
        """Plain-data form."""
        return {"mean": self.mean, "hdi_low": self.hdi_low, "hdi_high": self.hdi_high,
                "hdi90_low": self.hdi90_low, "hdi90_high": self.hdi90_high, "p_positive": self.p_positive,
                "median": self.median, "q05": self.q05, "q25": self.q25, "q75": self.q75, "q95": self.q95}


def summarise(draws: np.ndarray) -> EffectSummary:
    """Summarise a (chain, draw) array of effect draws."""
    flat = np.asarray(draws, dtype=float).reshape(-1)
    h94 = az.hdi(flat, hdi_prob=HDI_PROB)
    h90 = az.hdi(flat, hdi_prob=RECOVERY_PROB)
    q05, q25, median, q75, q95 = (float(v) for v in np.quantile(flat, [0.05, 0.25, 0.5, 0.75, 0.95]))
    return EffectSummary(mean=float(flat.mean()), hdi_low=float(h94[0]), hdi_high=float(h94[1]),
                         hdi90_low=float(h90[0]), hdi90_high=float(h90[1]), p_positive=float((flat > 0).mean()),
                         median=median, q05=q05, q25=q25, q75=q75, q95=q95)


def _hdi_columns(ordered: np.ndarray, prob: float) -> tuple[np.ndarray, np.ndarray]:
    """ArviZ's HDI (the narrowest interval holding floor(prob * n) + 1 sorted draws, the first if several) of each
    column of ``ordered`` (draws sorted along axis 0)."""
    n = ordered.shape[0]
    inc = int(np.floor(prob * n))
    low = np.argmin(np.subtract(ordered[inc:], ordered[:n - inc], dtype=np.float64), axis=0)
    cols = np.arange(ordered.shape[1])
    return ordered[low, cols], ordered[low + inc, cols]


def summarise_columns(draws: np.ndarray) -> list[EffectSummary]:
    """``summarise`` of each column of a (draws, k) array at once (the same numbers: ArviZ's HDI, NumPy's
    quantiles), for the per-country effects."""
    flat = np.asarray(draws, dtype=float)
    ordered = np.sort(flat, axis=0)
    lo94, hi94 = _hdi_columns(ordered, HDI_PROB)
    lo90, hi90 = _hdi_columns(ordered, RECOVERY_PROB)
    q05, q25, median, q75, q95 = np.quantile(flat, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    by_column = np.ascontiguousarray(flat.T)  # each column's mean summed in the order ``summarise`` sums it
    mean, positive = by_column.mean(axis=1), (by_column > 0).mean(axis=1)
    return [EffectSummary(mean=float(mean[j]), hdi_low=float(lo94[j]), hdi_high=float(hi94[j]),
                          hdi90_low=float(lo90[j]), hdi90_high=float(hi90[j]), p_positive=float(positive[j]),
                          median=float(median[j]), q05=float(q05[j]), q25=float(q25[j]), q75=float(q75[j]),
                          q95=float(q95[j])) for j in range(flat.shape[1])]


def effect_names(idata: az.InferenceData) -> tuple[str, ...]:
    """The effects a fit supports: expected score and P(score >= 4) (ordinal), or P(score >= T) (binary)."""
    fam, threshold = family_of(idata)
    return fam.effect_names(threshold)


def effect_draws(idata: az.InferenceData, shift_sd: float = 1.0) -> xr.Dataset:
    """Draws of the average and per-country effects of raising the treatment by ``shift_sd`` SDs.

    Returns a Dataset with each of ``effect_names(idata)`` (chain, draw), e.g. ``expected_score`` and
    ``p_score_ge_4``, and ``country_<name>`` (chain, draw, country) for each country with rows.
    """
    post = idata.posterior
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    params_all, cut_all, data = from_idata(idata)
    fam, threshold = family_of(idata)
    cidx = data["country_idx"]
    present, column = np.unique(cidx, return_inverse=True)  # a fold's kept countries without rows have no effect
    countries = post.coords["country"].values[present]
    n_country = len(countries)
    membership = np.zeros((len(cidx), n_country))
    membership[np.arange(len(cidx)), column] = 1.0
    membership /= membership.sum(axis=0, keepdims=True)  # column c averages country c's rows
    total = n_chain * n_draw
    names = fam.effect_names(threshold)
    avg = {k: np.empty(total) for k in names}
    by_country = {k: np.empty((total, n_country)) for k in names}
    for start in range(0, total, CHUNK):
        sl = slice(start, min(start + CHUNK, total))
        params = {k: v[sl] for k, v in params_all.items()}
        cut = cut_all[sl]
        eta0 = linear_predictor(params, data)
        eta1 = eta0 + treatment_shift(params, data, shift_sd)
        diffs = fam.effects(eta0, eta1, cut, threshold)
        for k, d in diffs.items():
            avg[k][sl] = d.mean(axis=-1)
            by_country[k][sl] = d @ membership
    coords = {"chain": post.coords["chain"].values, "draw": post.coords["draw"].values, "country": countries}
    ds = xr.Dataset(coords=coords)
    for k in names:
        ds[k] = (("chain", "draw"), avg[k].reshape(n_chain, n_draw))
        ds[f"country_{k}"] = (("chain", "draw", "country"), by_country[k].reshape(n_chain, n_draw, n_country))
    return ds


@dataclass(frozen=True)
class Effects:
    """The causal quantities of one fit: average effects by name, per-country effects, the within slope's mean
    and the SD of country slopes (None with a common slope)."""

    average: Mapping[str, EffectSummary]
    by_country: Mapping[str, Mapping[str, EffectSummary]]
    slope_mean: EffectSummary
    slope_sd: EffectSummary | None

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form: ``effects``, ``by_country``, ``slope_mean`` and ``slope_sd`` (no P(> 0))."""
        sd = None if self.slope_sd is None else {k: v for k, v in self.slope_sd.to_dict().items()
                                                 if k != "p_positive"}
        return {"effects": {k: v.to_dict() for k, v in self.average.items()},
                "by_country": {c: {k: v.to_dict() for k, v in e.items()} for c, e in self.by_country.items()},
                "slope_sd": sd, "slope_mean": self.slope_mean.to_dict()}


def summarise_effects(idata: az.InferenceData, draws: xr.Dataset | None = None) -> Effects:
    """Average effects, per-country effects, the within slope and the slope SD of one fit."""
    draws = effect_draws(idata) if draws is None else draws
    names = effect_names(idata)
    post = idata.posterior
    countries = [str(c) for c in draws.coords["country"].values]
    columns = {k: summarise_columns(draws[f"country_{k}"].transpose("chain", "draw", "country").values.reshape(
        -1, len(countries))) for k in names}
    by_country = {c: {k: columns[k][j] for k in names} for j, c in enumerate(countries)}
    return Effects(average={k: summarise(draws[k].values) for k in names}, by_country=by_country,
                   slope_mean=summarise(post["slope_mean"].values),
                   slope_sd=summarise(post["slope_sd"].values) if "slope_sd" in post else None)
