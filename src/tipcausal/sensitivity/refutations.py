"""Refutations that respect the panel, each a refit through the one fitting path (and the fit store), each with a
verdict in words and in data.

- **placebo (within country)**: the treatment permuted among each country's rows (country means kept). The
  within-country effect on the expected score must vanish; draws of ``placebo`` refits are pooled.
- **between placebo**: in the same refits, the country means of the treatment are also permuted among the
  countries of a region (the within-country deviations move with their country's rows, so each country's
  deviations still average to zero): the between coefficient must vanish. One set of refits serves both
  placebos, since the within slope rests only on the deviations and the between coefficient only on the means.
- **lead**: next year's treatment added as a covariate; its within-country coefficient on today's score,
  given today's treatment, must be zero (the future cannot cause the present: a non-zero lead points at
  time-varying confounding or reverse causation).
- **negative control** (when the study names one): the effect on an outcome the treatment cannot reach must
  vanish.
- **leave one region out**: a refit per region; every fold's 90% interval must cover the full estimate.
  A fold drops the region's countries from the model (a new structure: it compiles once per fold). Keeping
  them without rows, as the countries left out below do, left the region's zero-sum entry and its countries'
  levels prior-only and mixed badly (every fold failed the gate on the default study).
- **leave one country out**: PSIS importance weights (drop a country's log likelihood) where Pareto k <= 0.7.
  A refitted fold drops the country's rows but keeps the full fit's countries, regions and years, so it is the
  same model on less data (the country without rows is drawn from its prior, which integrates out) with the
  same parameters, padded to the same rows, and reuses the full fit's compiled program.
  With country-specific intercepts and slopes most countries' k is above it (each country's own parameters
  rest on its own rows: 133 of 180 on the default study), so the ``max_country_refits`` countries that weigh most
  in the average effect (share of rows times distance of their effect from the average) are refitted; no
  country checked may move the effect by more than half its posterior SD.
- **random common cause**: an independent standard normal covariate added; the effect must not move by more
  than a quarter of its posterior SD or the practical-equivalence margin, whichever is larger.

Verdicts use a region of practical equivalence (ROPE): ``rope`` times the size of the estimate it tests
against. A placebo-type statistic **fails** when its 90% interval excludes zero and lies wholly outside the
ROPE, **passes** when its interval includes zero or lies wholly inside the ROPE, and is **inconclusive**
otherwise (a small but precise non-zero value straddling the margin). Refits that fail the diagnostics gate are
left out and counted; with none left a refutation is inconclusive. DoWhy's own refuters run beside these on
DoWhy's linear-regression estimate (pooled rows: they ignore the panel), for comparison only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import arviz as az
import numpy as np

from tipcausal.core.provenance import hash_json
from tipcausal.data.panel import KeptLevels, Panel
from tipcausal.fit import SpecFit
from tipcausal.fitstore import FitStore, fit_stored
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import kept_levels
from tipcausal.models.spec import ModelSpec
from tipcausal.posterior.effects import effect_draws
from tipcausal.posterior.loo import pointwise_log_likelihood
from tipcausal.sensitivity import panels as altered
from tipcausal.sensitivity.settings import RefuteSettings

log = logging.getLogger(__name__)

PROB = 0.90
K_MAX = 0.7
LEAD = "lead_treatment"
RANDOM_CAUSE = "random_common_cause"
#: Warmup steps of a warm-started refit: step size only (the primary fit's mass matrix kept), or mass matrix too.
WARM_TUNE = 150
WARM_MASS_TUNE = 300

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Refutation:
    """One refutation's verdict (``pass`` / ``fail`` / ``inconclusive``), statistic, interval and rule."""

    name: str
    verdict: str
    statistic: str
    value: float | None
    interval: tuple[float, float] | None
    rule: str
    sentence: str
    n_refits: int = 0
    n_failed_gate: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The summary.json form (one row of ``sensitivity.refutations.<P>``)."""
        return {"name": self.name, "verdict": self.verdict, "statistic": self.statistic, "value": self.value,
                "interval": None if self.interval is None else list(self.interval), "rule": self.rule,
                "sentence": self.sentence, "n_refits": self.n_refits, "n_failed_gate": self.n_failed_gate,
                "details": self.details}


def rope_verdict(draws: np.ndarray, rope: float) -> tuple[str, float, tuple[float, float]]:
    """(verdict, mean, 90% interval) of a statistic that should be zero, against the margin ``rope`` (> 0)."""
    flat = np.asarray(draws, dtype=float).reshape(-1)
    lo, hi = (float(v) for v in az.hdi(flat, hdi_prob=PROB))
    mean = float(flat.mean())
    if lo <= 0.0 <= hi or (-rope <= lo and hi <= rope):
        verdict = "pass"
    elif hi < -rope or lo > rope:
        verdict = "fail"
    else:
        verdict = "inconclusive"
    return verdict, mean, (lo, hi)


def _rule(rope: float, what: str) -> str:
    return (f"fail if the {int(PROB * 100)}% interval of the {what} excludes 0 and lies wholly outside the ROPE "
            f"+-{rope:.3g}; pass if it includes 0 or lies wholly inside it; inconclusive otherwise")


def _seed(base: int, *parts: Any) -> int:
    return int(hash_json([base, *parts]), 16) % (2 ** 31 - 1)


class Refitter:
    """Refits of one outcome's primary fit with the refutation sampler settings, through the store. Each refit
    starts where the primary fit's chains ended when ``refute.warm_start`` (and the primary has a final state):
    ``warm="step"`` for refits with the primary's parameters and posterior scales (a country left out): its
    mass matrix is kept and ``WARM_TUNE`` warmup steps adapt the step size only; ``warm="mass"`` for refits with
    parameters the primary lacks, whose meaning moves or whose posterior scale moves (a covariate added; a
    region left out, which shrinks the zero-sum region block; a placebo, whose country slopes' SD falls towards
    zero once the treatment is permuted): ``WARM_MASS_TUNE`` warmup steps re-estimate the mass matrix in Stan's windows,
    starting from the primary's (keeping it for new entries mixed badly: the lead placebo's new between
    coefficient reached R-hat 1.02)."""

    def __init__(self, fit: SpecFit, panel: Panel, settings: SamplerSettings, refute: RefuteSettings,
                 store: FitStore | None, progress: Progress) -> None:
        self.fit, self.panel, self.store, self.say = fit, panel, store, progress
        self.warm_from = fit.record if refute.warm_start and fit.record.final is not None else None
        self.settings = replace(settings, draws=refute.draws or settings.draws, tune=refute.tune or settings.tune,
                                chains=refute.chains or settings.chains)
        self.warm_settings = {"step": replace(self.settings, tune=refute.tune or WARM_TUNE),
                              "mass": replace(self.settings, tune=refute.tune or WARM_MASS_TUNE, warm_mass=True)}
        self.n = 0

    def __call__(self, panel: Panel, spec: ModelSpec, label: str, index: int | None = None, *,
                 warm: str | None = None) -> SpecFit:
        """A refit of ``spec`` on ``panel``; ``index`` numbers the repeats of one refutation (None: a single one);
        ``warm``: ``"step"`` or ``"mass"`` to start from the primary's final state (see the class), None cold."""
        warm_from = self.warm_from if warm else None
        base = self.warm_settings[warm] if warm_from is not None and warm else self.settings
        settings = replace(base, seed=_seed(self.settings.seed, self.fit.spec.outcome, label, index or 0))
        fit, reused = fit_stored(self.store, panel, spec, settings, predictive=False, warm_from=warm_from)
        self.n += 1
        self.say(f"      {self.fit.spec.outcome}: {label}{'' if index is None else f' {index + 1}'}: "
                 f"{'reused' if reused else 'fitted'}{f' (warm, {warm})' if warm_from is not None else ''}"
                 + ("" if fit.passed else f" (failed the gate, left out: {'; '.join(fit.gate.reasons)})"))
        return fit


def _main_effect(fit: SpecFit) -> str:
    return next(iter(fit.assessment.effects.average))


def _effect(fit: SpecFit) -> np.ndarray:
    return np.asarray(effect_draws(fit.idata)[_main_effect(fit)].values).reshape(-1)


def _pooled(fits: list[SpecFit], pick: Callable[[SpecFit], np.ndarray]) -> tuple[np.ndarray | None, int]:
    ok = [f for f in fits if f.passed]
    return (np.concatenate([pick(f) for f in ok]) if ok else None), len(fits) - len(ok)


def _placebo_like(name: str, draws: np.ndarray | None, n: int, failed: int, rope: float, what: str,
                  sentence_ok: str, sentence_fail: str) -> Refutation:
    if draws is None:
        return Refutation(name, "inconclusive", what, None, None, _rule(rope, what),
                          f"{name}: no refit passed the diagnostics gate ({failed} of {n} failed)", n, failed)
    verdict, mean, interval = rope_verdict(draws, rope)
    text = {"pass": sentence_ok, "fail": sentence_fail,
            "inconclusive": "a small non-zero value that straddles the margin of practical equivalence"}[verdict]
    sentence = (f"{name}: {verdict}: {what} {mean:+.3f} [{interval[0]:+.3f}, {interval[1]:+.3f}] over {n - failed} "
                f"refit(s): {text}")
    return Refutation(name, verdict, what, mean, interval, _rule(rope, what), sentence, n, failed)


def placebo_refits(fit: SpecFit, panel: Panel, refit: Refitter, cfg: RefuteSettings) -> tuple[list[SpecFit], bool]:
    """``cfg.placebo`` refits on panels with the treatment permuted within country and, when the model has a
    between coefficient and ``cfg.between_placebo``, its country means permuted within region as well (one set of
    refits serves both placebos: the within slope rests on the deviations, the between coefficient on the means);
    and whether the means were permuted."""
    spec = fit.spec
    columns = [spec.treatment] + ([spec.measurement_error] if isinstance(spec.measurement_error, str) else [])
    between = cfg.between_placebo and "between_effect" in fit.idata.posterior
    fits = []
    for i in range(cfg.placebo):
        rng = np.random.default_rng(_seed(refit.settings.seed, spec.outcome, "placebo-permutation", i))
        permuted = altered.permute_within_country(panel, fit.data.rows, columns, rng)
        if between:
            permuted = altered.permute_between_within_region(permuted, fit.data.rows, spec.treatment, rng)
        fits.append(refit(permuted, spec, "placebo", i, warm="mass"))
    return fits, between


def within_placebo(fit: SpecFit, fits: list[SpecFit], cfg: RefuteSettings) -> Refutation:
    """The pooled placebo effect of the within-country permutations must vanish."""
    draws, failed = _pooled(fits, _effect)
    rope = cfg.rope * abs(fit.assessment.effects.average[_main_effect(fit)].mean)
    return _placebo_like("placebo (within country)", draws, len(fits), failed, max(rope, 1e-12),
                         "placebo effect on the expected score", "the pipeline finds no effect where there is none",
                         "the pipeline finds an effect of a treatment shuffled within country")


def between_placebo(fit: SpecFit, fits: list[SpecFit], cfg: RefuteSettings) -> Refutation:
    """The pooled between coefficient of the refits whose country means were permuted within region must vanish."""
    draws, failed = _pooled(fits, lambda f: np.asarray(f.idata.posterior["between_effect"].values).reshape(-1))
    estimate = float(np.asarray(fit.idata.posterior["between_effect"].values).mean())
    return _placebo_like("between placebo", draws, len(fits), failed, max(cfg.rope * abs(estimate), 1e-12),
                         "placebo between coefficient", "no between association survives the permutation",
                         "a between association survives permuting country means within region")


def lead_placebo(fit: SpecFit, panel: Panel, refit: Refitter, cfg: RefuteSettings) -> Refutation:
    """Next year's treatment as a covariate; its within-country coefficient must be zero."""
    spec = fit.spec
    lead_spec = replace(spec, covariates=(*spec.covariates, LEAD))
    f = refit(altered.with_lead(panel, spec.treatment, LEAD), lead_spec, "lead", warm="mass")
    if not f.passed:
        return Refutation("lead placebo", "inconclusive", "lead coefficient", None, None, "", "lead placebo: the "
                          "refit failed the diagnostics gate", 1, 1)
    j = list(lead_spec.covariates).index(LEAD)
    draws = np.asarray(f.idata.posterior["covariate_within"].values)[..., j].reshape(-1)
    rope = max(cfg.rope * abs(float(np.asarray(fit.idata.posterior["slope_mean"].values).mean())), 1e-12)
    out = _placebo_like("lead placebo", draws, 1, 0, rope, "within coefficient of next year's consultation (logit "
                        "per SD)", "future consultation does not predict today's score given today's",
                        "future consultation predicts today's score: time-varying confounding or reverse causation")
    return replace(out, details={"n_obs": f.data.n_obs})


def negative_control(fit: SpecFit, panel: Panel, refit: Refitter, cfg: RefuteSettings,
                     column: str | None) -> Refutation | None:
    """The effect on an outcome the treatment cannot reach (the study's negative control) must vanish."""
    if column is None:
        return None
    f = refit(panel, replace(fit.spec, outcome=column), "negative control", warm="mass")
    draws = _effect(f) if f.passed else None
    rope = max(cfg.rope * abs(fit.assessment.effects.average[_main_effect(fit)].mean), 1e-12)
    return _placebo_like(f"negative control ({column})", draws, 1, 0 if f.passed else 1, rope,
                         "effect on the negative-control outcome", "no effect on an outcome it cannot reach",
                         "an effect on an outcome consultation cannot reach: confounding")


def _kept(fit: SpecFit) -> KeptLevels | None:
    """What a country left out of ``fit`` keeps: its countries, regions, years and row count, so the fold has the
    same parameters and compiled program (the country is drawn from its prior, which integrates out). Not for
    the measurement-error model, whose latent treatment lives on the rows."""
    return kept_levels(fit.data) if fit.data.x_se is None else None


def leave_region_out(fit: SpecFit, panel: Panel, refit: Refitter) -> Refutation:
    """A refit per region left out; every fold's 90% interval must cover the full-data estimate."""
    name = _main_effect(fit)
    full = fit.assessment.effects.average[name].mean
    folds, failed = {}, 0
    for i, region in enumerate(sorted(fit.data.rows["region"].astype(str).unique())):
        f = refit(altered.without(panel, "region", region), fit.spec, "leave region out", i, warm="mass")
        if not f.passed:
            failed += 1
            continue
        s = f.assessment.effects.average[name]
        folds[region] = {"mean": s.mean, "hdi90_low": s.hdi90_low, "hdi90_high": s.hdi90_high,
                         "p_positive": s.p_positive, "n_obs": f.data.n_obs}
    rule = (f"pass if every fold's {int(PROB * 100)}% interval covers the full-data estimate ({full:+.3f}); fail "
            "otherwise, naming the region whose absence moves it; inconclusive if a fold failed the gate")
    if not folds:
        return Refutation("leave one region out", "inconclusive", "effect without each region", None, None, rule,
                          "leave one region out: no refit passed the gate", failed, failed)
    off = [r for r, s in folds.items() if not s["hdi90_low"] <= full <= s["hdi90_high"]]
    lo = min(s["mean"] for s in folds.values())
    hi = max(s["mean"] for s in folds.values())
    verdict = "fail" if off else ("inconclusive" if failed else "pass")
    sentence = (f"leave one region out: {verdict}: the effect on the expected score ranges {lo:+.3f} to {hi:+.3f} "
                f"over {len(folds)} folds" + (f"; without {', '.join(off)} its interval excludes the full "
                                              "estimate" if off else "; every fold checked covers the full estimate")
                + (f"; {failed} fold(s) failed the diagnostics gate and are not checked" if failed else ""))
    return Refutation("leave one region out", verdict, "effect without each region (range of means)", None,
                      (lo, hi), rule, sentence, len(folds) + failed, failed, {"folds": folds})


def leave_country_out(fit: SpecFit, panel: Panel, refit: Refitter, cfg: RefuteSettings) -> Refutation:
    """Each country's influence on the average effect: by PSIS where its Pareto k allows, and by refits of the
    ``cfg.max_country_refits`` countries that weigh most in the average effect among the rest."""
    name = _main_effect(fit)
    eff = _effect(fit)
    sd, mean = float(eff.std()), float(eff.mean())
    ll = pointwise_log_likelihood(fit.idata).reshape(eff.size, -1)
    countries = fit.data.rows["country"].to_numpy()
    by_country = fit.assessment.effects.by_country
    shifts, ks, weight = {}, {}, {}
    for c in np.unique(countries):
        rows = countries == c
        lw, k = az.psislw(-ll[:, rows].sum(axis=1))
        ks[str(c)] = float(k)
        # first-order weight of the country in the average effect: its share of rows times its distance
        weight[str(c)] = rows.mean() * abs(by_country[str(c)][name].mean - mean) / sd
        if k <= K_MAX:
            w = np.exp(lw - lw.max())
            shifts[str(c)] = (float((w * eff).sum() / w.sum()) - mean) / sd
    rest = sorted((c for c in ks if c not in shifts), key=lambda c: -weight[c])
    refitted = []
    for i, c in enumerate(rest[:cfg.max_country_refits]):
        f = refit(altered.without(panel, "country", c, _kept(fit)), fit.spec, "leave country out", i, warm="step")
        if f.passed:
            shifts[c] = (f.assessment.effects.average[name].mean - mean) / sd
            refitted.append(c)
    unresolved = [c for c in rest if c not in shifts]
    rule = (f"pass if no country moves the average effect by more than 0.5 posterior SD: PSIS where Pareto k <= "
            f"{K_MAX}, else refits of the {cfg.max_country_refits} countries weighing most in the average effect "
            "(share of rows x distance of their effect from the average); fail if one does")
    moved = [c for c in shifts if abs(shifts[c]) > 0.5]
    verdict = "fail" if moved else ("pass" if shifts else "inconclusive")
    top = sorted(shifts, key=lambda c: -abs(shifts[c]))[:10]
    worst = top[0] if top else None
    sentence = ("leave one country out: " + verdict + ": " + (
        f"the most influential country checked ({worst}) moves the effect by {shifts[worst]:+.2f} posterior SD"
        if worst else "no country could be checked") + f"; {len(shifts) - len(refitted)} countries by PSIS, "
        f"{len(refitted)} by refits, {len(unresolved)} with Pareto k > {K_MAX} not refitted (their direct weight "
        f"in the average is at most {max((weight[c] for c in unresolved), default=0.0):.2f} SD)")
    return Refutation("leave one country out", verdict, "largest shift of the effect (posterior SDs)",
                      shifts[worst] if worst else None, None, rule, sentence, len(refitted), 0,
                      {"top": [{"country": c, "shift_sd": shifts[c], "pareto_k": ks[c], "refit": c in refitted}
                               for c in top], "n_psis": len(shifts) - len(refitted), "n_refit": len(refitted),
                       "unresolved": unresolved})


def random_common_cause(fit: SpecFit, panel: Panel, refit: Refitter, cfg: RefuteSettings) -> Refutation:
    """An independent random covariate added; the effect must stay where it was."""
    spec = fit.spec
    rng = np.random.default_rng(_seed(refit.settings.seed, spec.outcome, "random-cause"))
    f = refit(altered.with_random_cause(panel, RANDOM_CAUSE, rng),
              replace(spec, covariates=(*spec.covariates, RANDOM_CAUSE)), "random common cause", warm="mass")
    name = _main_effect(fit)
    eff = _effect(fit)
    margin = max(cfg.rope * abs(float(eff.mean())), 0.25 * float(eff.std()))
    rule = f"pass if the effect moves by at most max(ROPE, 0.25 posterior SD) = {margin:.3g}"
    if not f.passed:
        return Refutation("random common cause", "inconclusive", "change in the effect", None, None, rule,
                          "random common cause: the refit failed the diagnostics gate", 1, 1)
    new = f.assessment.effects.average[name]
    change = new.mean - float(eff.mean())
    verdict = "pass" if abs(change) <= margin else "fail"
    sentence = (f"random common cause: {verdict}: the effect on the expected score moves by {change:+.4f} "
                f"(margin {margin:.3g}) when an independent random covariate is added")
    return Refutation("random common cause", verdict, "change in the effect", change,
                      (new.hdi90_low - float(eff.mean()), new.hdi90_high - float(eff.mean())), rule, sentence, 1, 0)


def dowhy_refuters(fit: SpecFit, panel: Panel, seed: int) -> list[Refutation]:
    """DoWhy's placebo, random-common-cause and data-subset refuters on its linear-regression estimate of the
    same adjustment (pooled rows, no panel structure), for comparison."""
    import warnings

    from dowhy import CausalModel

    spec = fit.spec
    cols = [spec.outcome, spec.treatment, *spec.covariates]
    df = panel.frame[cols].dropna().reset_index(drop=True).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CausalModel(data=df, treatment=spec.treatment, outcome=spec.outcome,
                            common_causes=list(spec.covariates))
        estimand = model.identify_effect(proceed_when_unidentifiable=True)
        estimate = model.estimate_effect(estimand, method_name="backdoor.linear_regression")
        out = []
        for method, kwargs, should_vanish in (
                ("placebo_treatment_refuter", {"placebo_type": "permute", "num_simulations": 100}, True),
                ("random_common_cause", {"num_simulations": 100}, False),
                ("data_subset_refuter", {"subset_fraction": 0.8, "num_simulations": 100}, False)):
            np.random.seed(seed)
            res = model.refute_estimate(estimand, estimate, method_name=method, random_seed=seed, **kwargs)
            p = (res.refutation_result or {}).get("p_value")
            significant = bool((res.refutation_result or {}).get("is_statistically_significant", False))
            verdict = ("fail" if significant else "pass") if p is not None else "inconclusive"
            out.append(Refutation(
                f"DoWhy {method}", verdict, "new effect (linear regression, pooled rows)", float(res.new_effect),
                None, "DoWhy's test: fail if the refuted estimate differs significantly (p < 0.05) from the "
                      + ("null" if should_vanish else "original estimate"),
                f"DoWhy {method}: {verdict}: estimate {float(estimate.value):+.4f} -> {float(res.new_effect):+.4f}"
                + (f" (p = {p:.3g})" if p is not None else "") + "; rows pooled, panel ignored",
                details={"original": float(estimate.value), "p_value": None if p is None else float(p)}))
    return out


def refute_outcome(fit: SpecFit, panel: Panel, settings: SamplerSettings, cfg: RefuteSettings,
                   store: FitStore | None, negative_control_column: str | None = None,
                   progress: Progress | None = None) -> tuple[Refutation, ...]:
    """Every configured refutation of one outcome's primary fit."""
    say = progress or log.info
    refit = Refitter(fit, panel, settings, cfg, store, say)
    placebos, between = placebo_refits(fit, panel, refit, cfg)
    out: list[Refutation | None] = [within_placebo(fit, placebos, cfg),
                                    between_placebo(fit, placebos, cfg) if between else None]
    if cfg.lead and not fit.spec.lagged_treatment and fit.spec.measurement_error is None:
        out.append(lead_placebo(fit, panel, refit, cfg))
    out.append(negative_control(fit, panel, refit, cfg, negative_control_column))
    if cfg.leave_region_out:
        out.append(leave_region_out(fit, panel, refit))
    if cfg.leave_country_out:
        out.append(leave_country_out(fit, panel, refit, cfg))
    if cfg.random_common_cause:
        out.append(random_common_cause(fit, panel, refit, cfg))
    if cfg.dowhy:
        out.extend(dowhy_refuters(fit, panel, settings.seed))
    return tuple(r for r in out if r is not None)


def verdict_counts(rows: tuple[Refutation, ...]) -> dict[str, int]:
    """How many refutations passed, failed and were inconclusive."""
    return {v: sum(r.verdict == v for r in rows) for v in ("pass", "fail", "inconclusive")}

