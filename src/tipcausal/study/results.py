"""What a study run produced, as frozen dataclasses: per outcome the primary fit, its identification, truth,
baselines and every specification side by side; the joint model; the DAG checks. ``study.summary`` turns them
into summary.json and the report renders them; nothing here writes files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from tipcausal.causal.graph import CausalGraph
from tipcausal.causal.identify import Identification
from tipcausal.causal.variants import VariantIdentification
from tipcausal.data.panel import Panel
from tipcausal.fit import JointFit, SpecFit
from tipcausal.posterior.conditional import ConditionalCurves, conditional_curves
from tipcausal.posterior.effects import Effects
from tipcausal.posterior.loo import ElpdComparison, LooSummary
from tipcausal.posterior.loo_pit import loo_pit
from tipcausal.posterior.pointwise import Pointwise
from tipcausal.posterior.ppc import GroupedCheck, PredictiveCheck, grouped_checks
from tipcausal.sensitivity.suite import SensitivityResult
from tipcausal.study.config import Study


@dataclass(frozen=True)
class Truth:
    """The simulation's true effects on the model's rows (simulated data only)."""

    expected_score: float
    p_score_ge_4: float
    slope_sd: float
    slope_mean: float
    by_country: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, float]:
        """The summary.json form (without the per-country values)."""
        return {"expected_score": self.expected_score, "p_score_ge_4": self.p_score_ge_4,
                "slope_sd": self.slope_sd, "slope_mean": self.slope_mean}


@dataclass(frozen=True)
class Specification:
    """One specification of one outcome in the side-by-side table (the primary model is the first)."""

    name: str
    fit: SpecFit
    fit_path: Path
    comparison: ElpdComparison
    joint: bool = False


@dataclass(frozen=True)
class PosteriorChecks:
    """What the report draws from a primary fit beyond its assessment: the predictive checks by year and region,
    the randomised LOO-PIT values and the conditional-effect curves (evaluated once per fit and seed; with a
    store, read back on a rerun)."""

    grouped: dict[str, GroupedCheck]
    loo_pit: np.ndarray  # (obs,)
    conditional: ConditionalCurves


def posterior_checks(fit: SpecFit, pointwise: Pointwise | None = None) -> PosteriorChecks:
    """The ``PosteriorChecks`` of one fit, at its sampler seed (``pointwise``: its observation-level quantities,
    when some are evaluated already)."""
    seed = fit.record.settings.seed
    pointwise = pointwise if pointwise is not None else fit.pointwise()
    return PosteriorChecks(grouped=grouped_checks(fit.idata, fit.data.rows, seed=seed),
                           loo_pit=loo_pit(pointwise, seed=seed), conditional=conditional_curves(fit.idata, seed=seed))


@dataclass(frozen=True)
class OutcomeResult:
    """Everything one outcome's run produced."""

    outcome: str
    identification: Identification
    fit: SpecFit
    fit_path: Path
    specifications: tuple[Specification, ...]
    baselines: tuple[Any, ...] = ()
    truth: Truth | None = None
    checks: PosteriorChecks | None = None  # the runner's (from the store on a rerun)

    @cached_property
    def posterior_checks(self) -> PosteriorChecks:
        """The report's posterior checks: the runner's, else evaluated from the fit (once)."""
        return self.checks if self.checks is not None else posterior_checks(self.fit)

    @property
    def spec(self) -> Any:
        """The primary model's spec."""
        return self.fit.spec

    @property
    def idata(self) -> Any:
        """The primary fit's InferenceData."""
        return self.fit.idata

    @property
    def gate(self) -> Any:
        """The primary fit's diagnostics gate."""
        return self.fit.gate

    @property
    def effects(self) -> Effects:
        """The primary fit's effects (average, per country, slope mean and SD)."""
        return self.fit.assessment.effects

    @property
    def ppc(self) -> PredictiveCheck:
        """The primary fit's predictive check of score shares."""
        return self.fit.assessment.ppc

    @property
    def loo(self) -> LooSummary:
        """The primary fit's PSIS-LOO summary."""
        return self.fit.assessment.loo

    @property
    def n_obs(self) -> int:
        """Country-years in the primary model."""
        return self.fit.data.n_obs

    @property
    def n_countries(self) -> int:
        """Countries in the primary model."""
        return len(self.fit.data.coords["country"])


@dataclass(frozen=True)
class JointResult:
    """The joint model fitted as a ``[[compare]]`` specification."""

    name: str
    fit: JointFit
    fit_path: Path


@dataclass(frozen=True)
class StudyResult:
    """A finished study run: per-outcome results, the joint model, the DAG checks and where fits were written."""

    study: Study
    graph: CausalGraph
    panel: Panel
    outcomes: Mapping[str, OutcomeResult]
    out_dir: Path
    variants: Mapping[str, VariantIdentification]
    dag_tests: Mapping[str, Any]
    versions: Mapping[str, str]
    created: str
    joint: JointResult | None = None
    sensitivity: SensitivityResult | None = None

    @property
    def passed(self) -> bool:
        """True when every outcome's primary fit passed the diagnostics gate."""
        return all(r.gate.passed for r in self.outcomes.values())

    @property
    def failed_specifications(self) -> list[str]:
        """``outcome: name`` of each [[compare]] specification whose fit failed the gate."""
        return [f"{o}: {s.name}" for o, r in self.outcomes.items() for s in r.specifications[1:]
                if not s.fit.passed]
