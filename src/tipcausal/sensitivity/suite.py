"""The sensitivity suite of a study: confounding, priors and refutations for each outcome's primary fit.

``run_sensitivity`` takes the fits a study already has (read back from the fit store when unchanged), runs the
analyses its ``[sensitivity]`` settings ask for, and returns a frozen ``SensitivityResult`` whose ``to_dict``
is summary.json's ``sensitivity`` entry. Refits (prior confirmations, refutations) go through the fit store with
the same compiled model structure, so only the data or priors change between them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tipcausal.data.panel import Panel
from tipcausal.fit import SpecFit
from tipcausal.fitstore import FitStore, fit_stored
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.sensitivity.confounding import ConfoundingAnalysis, analyse_confounding
from tipcausal.sensitivity.priors import PartitionSensitivity, prior_sensitivity, scaled_prior
from tipcausal.sensitivity.refutations import Refutation, refute_outcome, verdict_counts
from tipcausal.sensitivity.settings import SensitivitySettings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PriorCheck:
    """One outcome's prior sensitivity: every partition's power-scaling, and the refits confirming a flag."""

    partitions: tuple[PartitionSensitivity, ...]
    confirmations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_list(self) -> list[dict[str, Any]]:
        """The summary.json form (``sensitivity.priors.<P>``)."""
        rows = []
        for p in self.partitions:
            row = p.to_dict()
            if p.partition in self.confirmations:
                row["confirmation"] = dict(self.confirmations[p.partition])
            rows.append(row)
        return rows


@dataclass(frozen=True)
class SensitivityResult:
    """What the suite found, per outcome, with the settings it ran with and how long each analysis took."""

    settings: SensitivitySettings
    confounding: Mapping[str, ConfoundingAnalysis]
    priors: Mapping[str, PriorCheck]
    refutations: Mapping[str, tuple[Refutation, ...]]
    seconds: Mapping[str, float]

    def to_dict(self) -> dict[str, Any]:
        """summary.json's ``sensitivity`` entry."""
        return {
            "analyses": list(self.settings.analyses),
            "settings": self.settings.to_dict(),
            "confounding": {o: a.to_dict() for o, a in self.confounding.items()},
            "priors": {o: p.to_list() for o, p in self.priors.items()},
            "refutations": {o: [r.to_dict() for r in rows] for o, rows in self.refutations.items()},
            "refutation_counts": {o: verdict_counts(rows) for o, rows in self.refutations.items()},
            "seconds": dict(self.seconds),
        }


def _confirm(fit: SpecFit, panel: Panel, sampler: SamplerSettings, part: PartitionSensitivity, factor: float,
             store: FitStore | None, say: Progress) -> dict[str, Any]:
    """Refits with one partition's prior widened and narrowed by ``factor``: the effect under each."""
    spec = fit.spec
    name = next(iter(fit.assessment.effects.average))
    out: dict[str, Any] = {"factor": factor, "original": {"prior": spec.priors[part.partition].describe(),
                                                          **fit.assessment.effects.average[name].to_dict()}}
    for label, f in (("widened", factor), ("narrowed", 1.0 / factor)):
        prior = scaled_prior(spec.priors[part.partition], f)
        refit, reused = fit_stored(store, panel, spec.with_priors({part.partition: prior}), sampler,
                                   predictive=False)
        say(f"      {spec.outcome}: prior {part.partition} {label} to {prior.describe()}: "
            f"{'reused' if reused else 'fitted'}")
        out[label] = {"prior": prior.describe(), "passed_gate": refit.passed,
                      **refit.assessment.effects.average[name].to_dict()}
    return out


def run_sensitivity(fits: Mapping[str, SpecFit], panel: Panel, sampler: SamplerSettings,
                    settings: SensitivitySettings, *, benchmark_columns: tuple[str, ...],
                    benchmark_labels: Mapping[str, str] | None = None,
                    negative_control_column: str | None = None, store: FitStore | None = None,
                    country_names: Mapping[str, str] | None = None,
                    progress: Progress | None = None) -> SensitivityResult:
    """The analyses ``settings.analyses`` asks for, on each outcome's primary fit in ``fits``."""
    say = progress or log.info
    confounding, priors, refutations, seconds = {}, {}, {}, {}
    for outcome, fit in fits.items():
        if "confounding" in settings.analyses:
            t = time.perf_counter()
            c = settings.confounding
            confounding[outcome] = analyse_confounding(fit, benchmark_columns, c.k, c.r2_max, country_names,
                                                        benchmark_labels)
            seconds[f"confounding.{outcome}"] = time.perf_counter() - t
            say(f"    {outcome}: confounding: {confounding[outcome].verdict}")
        if "priors" in settings.analyses:
            t = time.perf_counter()
            parts = prior_sensitivity(fit, settings.priors.partitions or None)
            flagged = [p for p in parts if p.flagged and p.pareto_k <= 0.7]
            say(f"    {outcome}: priors: {len(parts)} partition(s) power-scaled, "
                f"{len(flagged)} flagged" + (f" ({', '.join(p.partition for p in flagged)})" if flagged else ""))
            confirm = {p.partition: _confirm(fit, panel, sampler, p, settings.priors.factor, store, say)
                       for p in flagged} if settings.priors.confirm else {}
            priors[outcome] = PriorCheck(parts, confirm)
            seconds[f"priors.{outcome}"] = time.perf_counter() - t
        if "refute" in settings.analyses:
            t = time.perf_counter()
            r = settings.refute
            say(f"    {outcome}: refutations ({r.chains or sampler.chains} chains x {r.tune or sampler.tune} tune + "
                f"{r.draws or sampler.draws} draws per refit)")
            rows = refute_outcome(fit, panel, sampler, settings.refute, store, negative_control_column, say)
            refutations[outcome] = rows
            seconds[f"refute.{outcome}"] = time.perf_counter() - t
            for r in rows:
                say(f"      {r.sentence}")
    return SensitivityResult(settings=settings, confounding=confounding, priors=priors, refutations=refutations,
                             seconds=seconds)
