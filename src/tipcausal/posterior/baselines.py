"""Classical baselines (statsmodels) beside the Bayesian models, on the same complete-case rows:

* ``logit_clustered``: logistic regression of score >= threshold (the published "collapsed" form) on
  consultation, the adjustment covariates, region and year dummies; country-clustered SEs; with the
  average marginal effect of +1 SD consultation on P(score >= threshold);
* ``logit_country_fe``: conditional (fixed-effects) logit grouped by country, with year dummies:
  a within-country estimate, like the hierarchical model's slope (statsmodels' ``ConditionalLogit``
  likelihood, vectorised over countries: ``posterior.fe_logit``);
* ``ordered_probit``: ordered probit of the 1-5 score with the same regressors; country-clustered SEs.

The treatment and numeric covariates are standardised over the rows used, so every coefficient is per
+1 SD of consultation, the same unit as the Bayesian effects.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from tipcausal.posterior.fe_logit import fit_fe_logit

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Baseline:
    """One classical estimate of the effect of +1 SD consultation."""
    name: str
    label: str
    specification: str
    scale: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int
    countries: int
    ame: float | None = None
    ame_ci_low: float | None = None
    ame_ci_high: float | None = None
    converged: bool = True
    note: str = ""

    def to_dict(self) -> dict:
        """Plain-data form."""
        return asdict(self)


def _frame(frame: pd.DataFrame, outcome: str, treatment: str, covariates: tuple[str, ...]) -> pd.DataFrame:
    cols = [outcome, treatment, *covariates, "region"]
    return frame.dropna(subset=cols).sort_values(["country", "year"]).reset_index(drop=True)


def _regressors(df: pd.DataFrame, treatment: str, covariates: tuple[str, ...], region: bool,
                year: bool) -> pd.DataFrame:
    z = lambda s: (s - s.mean()) / s.std(ddof=1)  # noqa: E731
    parts = [z(df[treatment].astype(float)).rename("treatment")]
    parts += [z(df[c].astype(float)).rename(c) for c in covariates]
    if region:
        parts.append(pd.get_dummies(df["region"].astype(str), prefix="region", drop_first=True, dtype=float))
    if year:
        parts.append(pd.get_dummies(df["year"].astype(int), prefix="year", drop_first=True, dtype=float))
    return pd.concat(parts, axis=1)


def _interval(est: float, se: float) -> tuple[float, float]:
    return est - Z95 * se, est + Z95 * se


def logit_clustered(df: pd.DataFrame, outcome: str, treatment: str, covariates: tuple[str, ...],
                    threshold: int) -> Baseline:
    """Pooled logit of score >= threshold, country-clustered SEs, with the AME on P(score >= threshold)."""
    X = sm.add_constant(_regressors(df, treatment, covariates, region=True, year=True))
    y = (df[outcome] >= threshold).astype(float)
    groups = pd.factorize(df["country"])[0]
    fit = sm.Logit(y, X).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
    lo, hi = fit.conf_int().loc["treatment"]
    margeff = fit.get_margeff(at="overall")
    k = list(X.columns).index("treatment") - 1  # margeff excludes the constant
    me_lo, me_hi = margeff.conf_int()[k]
    return Baseline(
        name="logit_clustered", label=f"Logit, score >= {threshold}, clustered SEs",
        specification=f"P({outcome} >= {threshold}) ~ consultation + {' + '.join(covariates) or '1'} + region + year; "
                      "SEs clustered by country",
        scale="log-odds per +1 SD", estimate=float(fit.params["treatment"]), ci_low=float(lo), ci_high=float(hi),
        p_value=float(fit.pvalues["treatment"]), n=len(df), countries=int(df["country"].nunique()),
        ame=float(margeff.margeff[k]), ame_ci_low=float(me_lo), ame_ci_high=float(me_hi),
        converged=bool(fit.mle_retvals.get("converged", True)))


def logit_country_fe(df: pd.DataFrame, outcome: str, treatment: str, covariates: tuple[str, ...],
                     threshold: int) -> Baseline:
    """Conditional logit with country fixed effects (within-country), year dummies."""
    y = (df[outcome] >= threshold).astype(float)
    varies = y.groupby(df["country"]).transform("nunique") > 1
    used = df[varies].reset_index(drop=True)
    X = _regressors(used, treatment, covariates, region=False, year=True)
    fit = fit_fe_logit(y[varies].to_numpy(), X.to_numpy(), used["country"].to_numpy())
    est, se = float(fit.params[0]), float(fit.bse[0])
    lo, hi = _interval(est, se)
    return Baseline(
        name="logit_country_fe", label=f"Conditional logit, country FE, score >= {threshold}",
        specification=f"P({outcome} >= {threshold}) ~ consultation + {' + '.join(covariates) or '1'} + year | country "
                      "(conditional likelihood)",
        scale="log-odds per +1 SD (within country)", estimate=est, ci_low=lo, ci_high=hi,
        p_value=float(2 * stats.norm.sf(abs(est / se))), n=len(used), countries=int(used["country"].nunique()),
        converged=fit.converged and bool(np.isfinite(se)),
        note=f"{int((~varies).sum())} rows of countries whose collapsed outcome never changes carry no information")


def ordered_probit(df: pd.DataFrame, outcome: str, treatment: str, covariates: tuple[str, ...],
                   threshold: int) -> Baseline:
    """Ordered probit of the 1-5 score, country-clustered SEs."""
    X = _regressors(df, treatment, covariates, region=True, year=True)
    groups = pd.factorize(df["country"])[0]
    model = OrderedModel(df[outcome].astype(int).to_numpy(), X.to_numpy(), distr="probit")
    fit = model.fit(method="bfgs", disp=0, maxiter=3000, cov_type="cluster", cov_kwds={"groups": groups})
    est, se = float(fit.params[0]), float(fit.bse[0])
    lo, hi = _interval(est, se)
    return Baseline(
        name="ordered_probit", label="Ordered probit, clustered SEs",
        specification=f"{outcome} (1-5) ~ consultation + {' + '.join(covariates) or '1'} + region + year; "
                      "SEs clustered by country",
        scale="probit index per +1 SD", estimate=est, ci_low=lo, ci_high=hi, p_value=float(fit.pvalues[0]),
        n=len(df), countries=int(df["country"].nunique()), converged=bool(fit.mle_retvals.get("converged", True)))


BASELINES: dict[str, Callable[..., Baseline]] = {
    "logit_clustered": logit_clustered,
    "logit_country_fe": logit_country_fe,
    "ordered_probit": ordered_probit,
}


def fit_baselines(frame: pd.DataFrame, outcome: str, treatment: str, covariates: tuple[str, ...],
                  threshold: int = 4) -> list[Baseline]:
    """Every baseline on the complete cases for ``outcome``; a fit that fails is reported, not dropped, and one
    whose optimiser stopped short (statsmodels' ConvergenceWarning) is marked not converged."""
    df = _frame(frame, outcome, treatment, covariates)
    out = []
    for name, fn in BASELINES.items():
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                baseline = fn(df, outcome, treatment, covariates, threshold)
            if any(issubclass(w.category, ConvergenceWarning) for w in caught):
                baseline = replace(baseline, converged=False,
                                   note="; ".join(filter(None, [baseline.note, "the optimiser did not converge"])))
            out.append(baseline)
        except (np.linalg.LinAlgError, ValueError) as exc:
            out.append(Baseline(name=name, label=name, specification="", scale="", estimate=None, ci_low=None,
                                ci_high=None, p_value=None, n=len(df), countries=int(df["country"].nunique()),
                                converged=False, note=f"fit failed: {exc}"))
    return out
