"""``StudyRun``: what ``tipcausal.run`` returns. The typed results, their tables, figures that show inline in
Jupyter, each fit's InferenceData, and the report."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import arviz as az
import pandas as pd
from matplotlib.figure import Figure

from tipcausal.posterior.effects import EffectSummary
from tipcausal.report.figures import (conditional_figure, country_forest_figure, draw_dag, forest_figure,
                                      grouped_ppc_figure, loo_pit_figure, ppc_figure)
from tipcausal.report.render import write_report
from tipcausal.report.sensitivity_figures import contour_figure, country_tipping_figure, power_scaling_figure
from tipcausal.report.world_map import world_map_figure
from tipcausal.sensitivity.confounding import adjusted_effects
from tipcausal.study.results import OutcomeResult, StudyResult
from tipcausal.study.summary import summary_table_html
from tipcausal.study.tables import effects_table, summary_table


@dataclass(frozen=True)
class StudyRun:
    """A study that ran: its typed results (``result``), its summary.json content (``document``) and where the
    outputs are."""

    result: StudyResult
    document: dict[str, Any] = field(repr=False)
    summary_path: Path
    report_path: Path

    @property
    def out_dir(self) -> Path:
        """The output folder."""
        return self.result.out_dir

    @property
    def passed(self) -> bool:
        """True when every primary fit passed the diagnostics gate."""
        return self.result.passed

    @property
    def outcomes(self) -> tuple[str, ...]:
        """The outcomes, in the study's order."""
        return tuple(self.result.outcomes)

    @property
    def fits(self) -> Mapping[str, az.InferenceData]:
        """Each outcome's primary fit as ArviZ InferenceData."""
        return {o: r.idata for o, r in self.result.outcomes.items()}

    def idata(self, outcome: str, specification: str = "primary") -> az.InferenceData:
        """The InferenceData of one outcome's fit (``specification``: a ``[[compare]]`` name, default the
        primary model)."""
        r = self._outcome(outcome)
        for s in r.specifications:
            if s.name == specification:
                return s.fit.idata
        raise KeyError(f"{outcome} has no specification {specification!r}; it has "
                       f"{', '.join(s.name for s in r.specifications)}")

    def summary(self) -> pd.DataFrame:
        """Effects per outcome, specification and effect, with each fit's diagnostics gate."""
        return summary_table(self.result)

    def effects(self, by: str = "outcome", *, outcome: str | None = None) -> pd.DataFrame:
        """The primary fits' effects of +1 SD consultation, ``by="outcome"`` (average) or ``by="country"``."""
        return effects_table(self.result, by, outcome=outcome)

    def plot_effects(self) -> Figure:
        """The average effects per outcome (mean, 90% and 94% HDI; true values on simulated data)."""
        return forest_figure(self.document["outcomes"])

    def plot_countries(self, outcome: str | None = None, *, effect: str = "expected_score",
                       limit: int | None = 40) -> Figure:
        """One outcome's country effects as a labelled forest plot, sorted (default the first outcome;
        ``limit``: the ``limit / 2`` lowest and highest countries, None all)."""
        outcome = outcome or self.outcomes[0]
        r = self._outcome(outcome)
        truth = r.truth.by_country if r.truth is not None else None
        return country_forest_figure(outcome, r.effects.by_country, self.result.panel.country_names(), effect=effect,
                                     limit=limit, truth=truth)

    def plot_map(self, *, effect: str = "expected_score") -> Figure:
        """A world map per outcome of the country effects (real data: countries are ISO3 codes)."""
        if self.result.panel.kind != "real":
            raise ValueError("the world map needs a real-data panel (ISO3 country codes); this study's panel is "
                             f"{self.result.panel.kind}: use plot_countries()")
        return world_map_figure({o: r.effects.by_country for o, r in self.result.outcomes.items()}, effect=effect,
                                names=self.result.panel.country_names())

    def plot_ppc(self, kind: str = "shares") -> Figure:
        """Posterior predictive checks per outcome: ``"shares"`` (each score's share), ``"grouped"`` (the mean
        score by year and by region) or ``"loo_pit"`` (randomised LOO-PIT histograms)."""
        outcomes = self.result.outcomes
        if kind == "shares":
            return ppc_figure({o: r.ppc for o, r in outcomes.items()})
        if kind == "grouped":
            return grouped_ppc_figure({o: r.posterior_checks.grouped for o, r in outcomes.items()})
        if kind == "loo_pit":
            return loo_pit_figure({o: r.posterior_checks.loo_pit for o, r in outcomes.items()})
        raise ValueError(f"kind must be one of shares, grouped, loo_pit, not {kind!r}")

    def plot_conditional(self) -> Figure:
        """P(score = k) per outcome as consultation is moved -2..+2 SD in every country-year (mean, 94% band)."""
        return conditional_figure({o: r.posterior_checks.conditional for o, r in self.result.outcomes.items()})

    def plot_dag(self) -> Figure:
        """The study's DAG with its treatment, outcomes and adjustment set."""
        return draw_dag(self.result.graph, self.result.study)

    def plot_confounding(self) -> Figure:
        """The tipping-point contours of each outcome with the benchmark markers (needs the confounding analysis)."""
        return contour_figure(self._sensitivity("confounding"))

    def plot_country_tipping(self) -> Figure:
        """Per-country tipping points (needs the confounding analysis)."""
        return country_tipping_figure(self._sensitivity("confounding"))

    def plot_prior_sensitivity(self) -> Figure:
        """Power-scaling sensitivity of the causal quantities per prior partition (needs the prior analysis)."""
        return power_scaling_figure(self._sensitivity("priors"))

    def adjusted_effects(self, outcome: str, r2_treatment: float, r2_outcome: float) -> dict[str, EffectSummary]:
        """One outcome's within slope and average effects under a time-varying confounder of the given strength
        (partial R^2 with the within-country treatment and with the latent score)."""
        return adjusted_effects(self._outcome(outcome).fit, r2_treatment, r2_outcome)

    def _sensitivity(self, part: str) -> Any:
        found = (self.document.get("sensitivity") or {}).get(part)
        if not found:
            raise ValueError(f"this run has no {part} analysis: run tc.run_sensitivity(study) (or only=({part!r},))")
        return found

    def report(self, path: str | Path | None = None) -> Path:
        """The HTML report: the run's own (``path`` None), or a copy rendered to ``path``."""
        if path is None:
            return self.report_path
        return write_report(self.result, self.document, Path(path))

    def _outcome(self, outcome: str) -> OutcomeResult:
        if outcome not in self.result.outcomes:
            raise KeyError(f"no outcome {outcome!r}; the study has {', '.join(self.result.outcomes)}")
        return self.result.outcomes[outcome]

    def _repr_html_(self) -> str:
        study = self.result.study
        gate = ("every fit passed the diagnostics gate" if self.passed else
                "<b>a fit failed the diagnostics gate: its effects are not to be reported</b>")
        return (f"<p><b>{html.escape(study.title or study.name)}</b>: {gate}; report "
                f"<code>{html.escape(str(self.report_path))}</code></p>" + summary_table_html(self.document))
