"""Unobserved confounding on the model's own latent scale, with benchmarks and per-country tipping points.

A latent confounder U has a within-country, time-varying part W and a country-level part U_c. Because the
within/between (Mundlak) split absorbs anything constant within a country, U_c can bias only the between
coefficient; the within slope, and with it every effect of ``do(x + 1 SD)``, moves only with W. The two are
analysed apart.

The strength of W is set as two partial R^2 on the latent scale: ``r2_treatment`` (of the within-country
treatment, given the within covariates and the years) and ``r2_outcome`` (of the latent score, given the
treatment and the covariates; the residual variance of the latent score is fixed by the link: pi^2/3 for
logit, 1 for probit). Omitting W then shifts the fitted within slope by

    B = sqrt(r2_outcome * r2_treatment / (1 - r2_treatment)) * sigma_e / sd(x_within residual)

(Cinelli & Hazlett 2020's omitted-variable bias with the outcome's residual SD replaced by the link's
sigma_e). The factor sqrt(1 - r2_outcome) by which omitting W attenuates a latent-scale coefficient
(non-collapsibility) cancels against the one by which W's own effect is measured on the true scale, so B is
the bias on the scale the model was fitted on, and subtracting it from every draw of every country's slope
gives the confounding-adjusted posterior, marginal over W like the fitted one. No refits are needed; the
test ``tests/sensitivity/test_confounding.py`` checks the adjustment against a fit that observes the
confounder.

The confounder is taken to push the estimate away from zero (the direction that would explain it away).
Effects on the expected score and on P(score >= 4) are monotone in the slope, so for each posterior draw
there is one bias that brings its average effect to zero (found by bisection): the tipping points are
quantiles of those per-draw roots, exact for the posterior in hand. A country's effect has the sign of its
slope minus B, so its tipping point is a quantile of its slope draws. Strengths are stated three ways: as B,
as a robustness value (the partial R^2 that W would need with both treatment and outcome) and as k, the
multiple of an observed covariate's strength (Cinelli & Hazlett's bounds for "k times as strong as
corruption"). The same formula with the country level's residual SD (``country_sd``) in place of sigma_e
gives the between coefficient's analysis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import statsmodels.api as sm

from tipcausal.fit import SpecFit
from tipcausal.models.families import family_of
from tipcausal.models.predictor import from_idata, linear_predictor
from tipcausal.posterior.effects import EffectSummary, summarise
from tipcausal.sensitivity.ovb import Benchmark, bias, k_max, robustness_value, smallest_k

#: Residual SD of the latent score per link (the logistic's pi / sqrt(3), the standard normal's 1).
SIGMA_E = {"logit": math.pi / math.sqrt(3.0), "probit": 1.0}
#: Posterior certainty below which an effect's sign counts as uncertain.
CERTAINTY = 0.95
#: At most this many posterior draws (evenly thinned) enter the per-draw bisection.
MAX_DRAWS = 2000
BISECTION_STEPS = 20  # brackets of at most a few slope units: 1e-6 of that


def _partial_r2(y: np.ndarray, regressors: np.ndarray, j: int) -> float:
    """Partial R^2 of column j of ``regressors`` with y given the others (from its OLS t statistic)."""
    ols = sm.OLS(y, regressors).fit()
    t = float(ols.tvalues[j])
    return t * t / (t * t + float(ols.df_resid))


def _residual_sd(y: np.ndarray, regressors: np.ndarray) -> float:
    return float(np.sqrt(sm.OLS(y, regressors).fit().scale)) if regressors.shape[1] else float(np.std(y, ddof=1))


def _year_dummies(year_idx: np.ndarray) -> np.ndarray:
    levels = np.unique(year_idx)
    return (year_idx[:, None] == levels[None, :]).astype(float)


@dataclass(frozen=True)
class Scale:
    """What turns partial R^2 into bias for one coefficient: the residual SD of the outcome side (a number, or
    draws for the between part), the treatment's residual SD, and the benchmarks."""

    sd_residual: Any
    sd_treatment: float
    benchmarks: tuple[Benchmark, ...]

    def median_residual(self) -> float:
        """The outcome side's residual SD (posterior median where it varies by draw)."""
        return float(np.median(self.sd_residual))


def _outcome_r2(coef_draws: np.ndarray, z_resid_var: float, resid_sd: Any) -> float:
    """Posterior median partial R^2 of a covariate with the latent outcome: b^2 v / (b^2 v + sigma^2)."""
    explained = coef_draws ** 2 * z_resid_var
    return float(np.median(explained / (explained + np.asarray(resid_sd) ** 2)))


def _scale(fit: SpecFit, x: np.ndarray, z: np.ndarray, groups: np.ndarray, coefficient: str,
           sd_residual: Any, benchmark_columns: Sequence[str]) -> Scale:
    """A coefficient's scale from its treatment ``x``, the covariates ``z`` and fixed effects of ``groups`` (years
    within countries, regions between them): the treatment's residual SD and each benchmark's partial R^2 with
    the treatment (OLS) and with the outcome side (``coefficient`` draws against ``sd_residual``)."""
    dummies = _year_dummies(groups)
    design = np.column_stack([z, dummies])
    covariates = list(fit.spec.covariates)
    draws = np.asarray(fit.idata.posterior[coefficient].values) if benchmark_columns else None
    marks = []
    for col in benchmark_columns:
        j = covariates.index(col)
        z_given = np.column_stack([np.delete(z, j, axis=1), dummies, x])
        z_var = _residual_sd(z[:, j], z_given) ** 2
        marks.append(Benchmark(col, _partial_r2(x, design, j),
                               _outcome_r2(draws[..., j].reshape(-1), z_var, sd_residual)))
    return Scale(sd_residual=sd_residual, sd_treatment=_residual_sd(x, design), benchmarks=tuple(marks))


def within_scale(fit: SpecFit, benchmark_columns: Sequence[str]) -> Scale:
    """The within slope's scale: sigma_e, the within treatment's SD given the within covariates and years, and
    each benchmark covariate's partial R^2 with the within treatment and with the latent score."""
    data = fit.data
    return _scale(fit, np.asarray(data.x_within, dtype=float), np.asarray(data.z_within, dtype=float),
                  np.asarray(data.year_idx), "covariate_within", SIGMA_E[family_of(fit.idata)[0].link],
                  benchmark_columns)


def between_scale(fit: SpecFit, benchmark_columns: Sequence[str]) -> Scale | None:
    """The between coefficient's scale (None when the model has no between term or no country SD): the
    country level's residual SD (``country_sd`` draws), the country-mean treatment's SD given the covariates'
    country means and the regions, and the benchmarks' partial R^2 at the country level."""
    post = fit.idata.posterior
    if "between_effect" not in post or "country_sd" not in post:
        return None
    ca = fit.data.country_arrays()
    return _scale(fit, np.asarray(ca["x_between_country"], dtype=float),
                  np.asarray(ca["z_between_country"], dtype=float), np.asarray(fit.data.region_of_country),
                  "covariate_between", np.asarray(post["country_sd"].values).reshape(-1), benchmark_columns)


class EffectRoots:
    """Per posterior draw, the within-slope bias that brings each average effect to zero, and the effects
    under any given bias (draws thinned evenly to at most ``MAX_DRAWS``)."""

    def __init__(self, fit: SpecFit, direction: float) -> None:
        post = fit.idata.posterior
        total = post.sizes["chain"] * post.sizes["draw"]
        self.pick = np.unique(np.linspace(0, total - 1, min(total, MAX_DRAWS)).astype(int))
        params, self.cut, arrays = from_idata(fit.idata, self.pick)
        self.fam, self.threshold = family_of(fit.idata)
        self.eta0 = linear_predictor(params, arrays)
        self.slope_rows = params["slope"][:, arrays["country_idx"]]
        self.direction = direction
        self.names = self.fam.effect_names(self.threshold)
        self.base = {k: v.mean(axis=-1) for k, v in self.fam.outcome_means(self.eta0, self.cut,
                                                                          self.threshold).items()}

    def effects(self, b: Any, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Average effects per draw with the within slope moved towards zero by ``b`` (scalar or per draw)."""
        shift = self.direction * np.broadcast_to(np.asarray(b, dtype=float), (len(self.pick),))[:, None]
        after = self.fam.outcome_means(self.eta0 + self.slope_rows - shift, self.cut, self.threshold, names)
        return {k: v.mean(axis=-1) - self.base[k] for k, v in after.items()}

    def roots(self) -> dict[str, np.ndarray]:
        """Per effect, each draw's bias at which its average effect (in the estimate's direction) is zero."""
        s = self.direction * self.slope_rows
        lo0, hi0 = np.minimum(s.min(axis=1), 0.0), np.maximum(s.max(axis=1), 0.0)
        out = {}
        for name in self.names:
            lo, hi = lo0.copy(), hi0.copy()
            for _ in range(BISECTION_STEPS):
                mid = 0.5 * (lo + hi)
                positive = self.direction * self.effects(mid, (name,))[name] > 0
                lo, hi = np.where(positive, mid, lo), np.where(positive, hi, mid)
            out[name] = 0.5 * (lo + hi)
        return out


def _q(values: np.ndarray, prob: float) -> float:
    return float(np.quantile(values, prob))


@dataclass(frozen=True)
class Tipping:
    """How strong a confounder must be to make an estimate's sign uncertain (``certain``: P(sign) < 0.95)
    and to move its median to zero, as bias, robustness value and multiples k of each benchmark."""

    bias_certain: float
    bias_median: float
    rv_certain: float
    rv_median: float
    rv_interval: tuple[float, float]  # 90% posterior interval of the robustness value (per-draw roots)
    k_certain: Mapping[str, float | None]
    k_median: Mapping[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"bias_certain": self.bias_certain, "bias_median": self.bias_median,
                "rv_certain": self.rv_certain, "rv_median": self.rv_median, "rv_interval": list(self.rv_interval),
                "k_certain": dict(self.k_certain), "k_median": dict(self.k_median)}


def tipping_from_roots(roots: np.ndarray, scale: Scale) -> Tipping:
    """Tipping points from per-draw roots (the bias that brings each draw to zero)."""
    sd_res = scale.median_residual()
    b_cert, b_med = max(_q(roots, 1.0 - CERTAINTY), 0.0), max(_q(roots, 0.5), 0.0)
    rv = robustness_value(roots, sd_res, scale.sd_treatment)
    return Tipping(
        bias_certain=b_cert, bias_median=b_med,
        rv_certain=float(robustness_value(b_cert, sd_res, scale.sd_treatment)),
        rv_median=float(robustness_value(b_med, sd_res, scale.sd_treatment)),
        rv_interval=(_q(rv, 0.05), _q(rv, 0.95)),
        k_certain={b.covariate: b.k_for_bias(b_cert, sd_res, scale.sd_treatment) for b in scale.benchmarks},
        k_median={b.covariate: b.k_for_bias(b_med, sd_res, scale.sd_treatment) for b in scale.benchmarks})


@dataclass(frozen=True)
class BenchmarkRow:
    """The estimates under a confounder k times as strong as one covariate."""

    covariate: str
    label: str
    k: float
    r2_treatment: float
    r2_outcome: float
    bias: float
    slope_mean: EffectSummary
    effects: Mapping[str, EffectSummary]
    #: per effect: whether this confounder moves the estimate beyond its own uncertainty (``moves_estimate``)
    moves: Mapping[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"covariate": self.covariate, "label": self.label, "k": self.k, "r2_treatment": self.r2_treatment,
                "r2_outcome": self.r2_outcome, "bias": self.bias, "slope_mean": self.slope_mean.to_dict(),
                "effects": {k: v.to_dict() for k, v in self.effects.items()},
                "moves_estimate": dict(self.moves)}


def moves_estimate(plain: EffectSummary, adjusted: EffectSummary) -> bool:
    """Whether a posited confounder moves an estimate beyond its uncertainty: the plain fit's posterior mean lies
    outside the adjusted 90% interval (the confounding analysis's flag at a given strength, whatever the sign)."""
    return not adjusted.hdi90_low <= plain.mean <= adjusted.hdi90_high


@dataclass(frozen=True)
class ConfoundingAnalysis:
    """One outcome's unobserved-confounding analysis: within part (effects and slope) and between part."""

    outcome: str
    direction: float
    scale: Scale
    tipping: Mapping[str, Tipping]  # per average effect (expected_score, p_score_ge_4 / p_score_ge_T)
    slope_tipping: Tipping
    by_country: tuple[dict[str, Any], ...]
    benchmarks: tuple[BenchmarkRow, ...]
    grid: Mapping[str, Any]
    between: Mapping[str, Any] | None
    verdict: str
    reference: str | None
    country_names: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # benchmark column -> its DAG node id

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form (``sensitivity.confounding.<P>``)."""
        main = self.tipping["expected_score"] if "expected_score" in self.tipping else next(iter(self.tipping.values()))
        ref = self.reference
        return {
            "tipping_k": main.k_certain.get(ref) if ref else None,
            "tipping_k_median": main.k_median.get(ref) if ref else None,
            "reference_benchmark": ref,
            "reference_label": self.labels.get(ref, ref) if ref else None,
            "benchmark_labels": dict(self.labels),
            "direction": "positive" if self.direction > 0 else "negative",
            "effects": {k: v.to_dict() for k, v in self.tipping.items()},
            "within_slope": self.slope_tipping.to_dict(),
            "scale": {"sigma_e": self.scale.median_residual(), "sd_treatment_within": self.scale.sd_treatment,
                      "benchmarks": [b.to_dict() for b in self.scale.benchmarks]},
            "benchmarks": [b.to_dict() for b in self.benchmarks],
            "by_country": list(self.by_country),
            "grid": dict(self.grid),
            "between": None if self.between is None else dict(self.between),
            "verdict": self.verdict,
        }


def _adjusted(roots: EffectRoots, fit: SpecFit, b: float) -> tuple[EffectSummary, dict[str, EffectSummary]]:
    slope = np.asarray(fit.idata.posterior["slope_mean"].values).reshape(-1)[roots.pick]
    return (summarise(slope - roots.direction * b),
            {k: summarise(v) for k, v in roots.effects(b).items()})


def adjusted_effects(fit: SpecFit, r2_treatment: float, r2_outcome: float) -> dict[str, EffectSummary]:
    """The average effects and the within slope mean under a time-varying confounder of the given strength
    (partial R^2 with the within treatment and with the latent score), pushing the estimate towards zero."""
    direction = _direction(fit)
    roots = EffectRoots(fit, direction)
    scale = within_scale(fit, [])
    b = float(bias(r2_treatment, r2_outcome, scale.sd_residual, scale.sd_treatment))
    slope, effects = _adjusted(roots, fit, b)
    return {"slope_mean": slope, **effects}


def _direction(fit: SpecFit) -> float:
    names = list(fit.assessment.effects.average)
    return 1.0 if fit.assessment.effects.average[names[0]].mean >= 0 else -1.0


def _grid(roots: np.ndarray, scale: Scale, r2_max: float, n: int = 41) -> dict[str, Any]:
    axis = np.linspace(0.0, r2_max, n)
    b = bias(axis[:, None], axis[None, :], scale.sd_residual, scale.sd_treatment)  # rows: treatment, cols: outcome
    p = (roots[None, None, :] > b[..., None]).mean(axis=-1)
    return {"r2_treatment": axis.round(6).tolist(), "r2_outcome": axis.round(6).tolist(),
            "p_direction": p.round(4).tolist(), "bias": b.round(6).tolist()}


def _between(fit: SpecFit, scale: Scale | None, ks: Sequence[float]) -> dict[str, Any] | None:
    if scale is None:
        return None
    post = fit.idata.posterior
    gamma = np.asarray(post["between_effect"].values).reshape(-1)
    direction = 1.0 if np.median(gamma) >= 0 else -1.0
    resid = np.asarray(scale.sd_residual)

    def p_dir(b: np.ndarray | float) -> float:
        return float((direction * gamma - b > 0).mean())

    rows, tip = [], {}
    for mark in scale.benchmarks:
        for k in ks:
            r2d, r2y = mark.bounds(k)
            if math.isnan(r2d):
                continue
            b = bias(r2d, r2y, resid, scale.sd_treatment)
            rows.append({"covariate": mark.covariate, "k": k, "r2_treatment": r2d, "r2_outcome": r2y,
                         "between_effect": summarise(gamma - direction * b).to_dict()})

        def uncertain_at(k: float, mark: Benchmark = mark) -> bool:
            r2d, r2y = mark.bounds(k)
            return p_dir(bias(r2d, r2y, resid, scale.sd_treatment)) < CERTAINTY

        tip[mark.covariate] = smallest_k(uncertain_at, k_max(mark.r2_treatment))
    return {"estimate": summarise(gamma).to_dict(), "p_direction": p_dir(0.0), "tipping_k": tip,
            "benchmarks": rows, "sd_treatment_between": scale.sd_treatment,
            "country_sd_median": scale.median_residual()}


def _strength(k: float | None, label: str) -> str:
    if k is None:
        return f"no multiple of {label}'s strength (within countries) reaches it"
    return f"a time-varying confounder {k:.2g} times as strong as {label}"


def _verdict(outcome: str, tip: Tipping, estimate: EffectSummary, between: Mapping[str, Any] | None,
             reference: str | None, label: str) -> str:
    sign = "positive" if estimate.mean >= 0 else "negative"
    p_sign = max(estimate.p_positive, 1 - estimate.p_positive)
    parts = [f"{outcome}: the within-country effect on the expected score is {sign} ({estimate.mean:+.3f}, "
             f"P(sign) {p_sign:.2f})"]
    if p_sign < CERTAINTY:
        parts.append("its sign is not 95% certain even without unobserved confounding, so there is no tipping point "
                     "to reach")
    else:
        k_text = f" ({_strength(tip.k_certain.get(reference), label)})" if reference else ""
        med = f" ({_strength(tip.k_median.get(reference), label)})" if reference else ""
        parts.append(f"it loses 95% certainty under a confounder explaining {100 * tip.rv_certain:.1f}% of the "
                     f"residual variance of both within-country consultation and the latent score{k_text}, and its "
                     f"median reaches zero at {100 * tip.rv_median:.1f}%{med}")
    parts.append("a confounder constant within countries cannot move it (the within/between split absorbs it)")
    if between is not None and reference is not None:
        if between["p_direction"] < CERTAINTY:
            parts.append("the between coefficient, which such a confounder does bias, is not 95% certain in sign "
                         "to begin with")
        else:
            k_b = between["tipping_k"].get(reference)
            strength = (f"{k_b:.2g} times as strong as {label}'s country mean" if k_b is not None
                        else f"of no multiple of {label}'s strength")
            parts.append(f"that confounder would bias the between coefficient instead, whose sign becomes uncertain "
                         f"under a country-level confounder {strength}")
    return "; ".join(parts) + "."


def analyse_confounding(fit: SpecFit, benchmark_columns: Sequence[str], ks: Sequence[float] = (0.5, 1, 2, 3),
                        r2_max: float = 0.3, country_names: Mapping[str, str] | None = None,
                        labels: Mapping[str, str] | None = None) -> ConfoundingAnalysis:
    """The confounding analysis of one outcome's fit, benchmarked against ``benchmark_columns`` (covariates of
    the spec, named in sentences by ``labels``; the first is the reference for the headline tipping point) at
    multiples ``ks``."""
    direction = _direction(fit)
    scale = within_scale(fit, benchmark_columns)
    roots = EffectRoots(fit, direction)
    per_draw = roots.roots()
    tipping = {k: tipping_from_roots(v, scale) for k, v in per_draw.items()}
    post = fit.idata.posterior
    slope_mean = np.asarray(post["slope_mean"].values).reshape(-1)
    slope_tip = tipping_from_roots(direction * slope_mean, scale)
    reference = benchmark_columns[0] if benchmark_columns else None
    slopes = np.asarray(post["slope"].values)
    slopes = slopes.reshape(-1, slopes.shape[-1])
    by_country = []
    sd_res = scale.median_residual()
    for i, c in enumerate(post.coords["country"].values):
        s = slopes[:, i]
        d = 1.0 if np.median(s) >= 0 else -1.0
        t = tipping_from_roots(d * s, scale)
        by_country.append({"country": str(c), "name": (country_names or {}).get(str(c), str(c)),
                           "direction": "positive" if d > 0 else "negative",
                           "p_direction": float((d * s > 0).mean()),
                           "tipping_bias": t.bias_certain, "tipping_rv": t.rv_certain,
                           "tipping_k": t.k_certain.get(reference) if reference else None,
                           "tipping_rv_median": t.rv_median,
                           "tipping_k_median": t.k_median.get(reference) if reference else None})
    rows = []
    for mark in scale.benchmarks:
        for k in ks:
            r2d, r2y = mark.bounds(k)
            if math.isnan(r2d):
                continue
            b = float(bias(r2d, r2y, sd_res, scale.sd_treatment))
            slope_s, eff = _adjusted(roots, fit, b)
            moves = {n: moves_estimate(fit.assessment.effects.average[n], e) for n, e in eff.items()}
            rows.append(BenchmarkRow(mark.covariate, (labels or {}).get(mark.covariate, mark.covariate), float(k),
                                     r2d, r2y, b, slope_s, eff, moves))
    main = "expected_score" if "expected_score" in per_draw else next(iter(per_draw))
    between = _between(fit, between_scale(fit, benchmark_columns), ks)
    label = (labels or {}).get(reference, reference) if reference else ""
    verdict = _verdict(fit.spec.outcome, tipping[main], fit.assessment.effects.average[main], between, reference,
                       label)
    return ConfoundingAnalysis(outcome=fit.spec.outcome, direction=direction, scale=scale, tipping=tipping,
                               slope_tipping=slope_tip, by_country=tuple(by_country), benchmarks=tuple(rows),
                               grid=_grid(per_draw[main], scale, r2_max), between=between, verdict=verdict,
                               reference=reference, country_names=dict(country_names or {}),
                               labels=dict(labels or {}))
