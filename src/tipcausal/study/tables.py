"""A finished study's results as tidy pandas tables: effects per outcome and specification with the gate, and
effects per country. The Python API returns them; the run writes the per-country table beside summary.json."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tipcausal.study.results import StudyResult

BY = ("outcome", "country")


def summary_table(result: StudyResult) -> pd.DataFrame:
    """One row per outcome, specification and effect: posterior mean, 94% and 90% HDI, P(effect > 0), and the
    fit's diagnostics gate (verdict, max R-hat, min bulk ESS, divergences). The primary model is ``primary``."""
    rows: list[dict[str, Any]] = []
    for outcome, r in result.outcomes.items():
        for s in r.specifications:
            gate = s.fit.gate
            for effect, e in s.fit.assessment.effects.average.items():
                rows.append({"outcome": outcome, "specification": s.name, "effect": effect, **e.to_dict(),
                             "gate": gate.verdict, "max_rhat": gate.max_rhat, "min_ess_bulk": gate.min_ess_bulk,
                             "divergences": gate.divergences, "n_obs": s.fit.data.n_obs})
    return pd.DataFrame(rows)


def effects_table(result: StudyResult, by: str = "outcome", *, outcome: str | None = None) -> pd.DataFrame:
    """The primary fits' effects of +1 SD consultation: ``by="outcome"`` one row per outcome and effect (the
    average over the model's country-years); ``by="country"`` one row per outcome, country and effect (the
    average over that country's rows), with the country's name where the data have one. ``outcome``: just one."""
    if by not in BY:
        raise ValueError(f"by must be one of {', '.join(BY)}, got {by!r}")
    if outcome is not None and outcome not in result.outcomes:
        raise ValueError(f"no outcome {outcome!r}; the study has {', '.join(result.outcomes)}")
    names = result.panel.country_names()
    rows: list[dict[str, Any]] = []
    for o, r in result.outcomes.items():
        if outcome is not None and o != outcome:
            continue
        if by == "outcome":
            for effect, e in r.effects.average.items():
                rows.append({"outcome": o, "effect": effect, **e.to_dict(), "gate": r.gate.verdict})
            continue
        for country, effects in r.effects.by_country.items():
            for effect, e in effects.items():
                rows.append({"outcome": o, "country": country, "name": names.get(country, country),
                             "effect": effect, **e.to_dict(), "gate": r.gate.verdict})
    return pd.DataFrame(rows)
