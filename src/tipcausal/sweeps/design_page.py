"""The design page: per outcome, one sentence, the bias and coverage figure, and the table of every specification's
bias, RMSE, 90% coverage and power with Monte Carlo standard errors; then the provenance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tipcausal.core.figure import InlineFigure
from tipcausal.report.figures import to_data_uri
from tipcausal.sweeps.page import effect, percent, plain, template_environment

ESTIMAND_WORDS = {"expected_score": "the expected score"}


def estimand_words(estimand: str) -> str:
    """ "the expected score" or "P(score >= T)"."""
    return ESTIMAND_WORDS.get(estimand, f"P(score >= {estimand.rsplit('_', 1)[-1]})")


def design_figure(summary: pd.DataFrame, outcome: str, nominal: float) -> InlineFigure:
    """Bias (with 2 Monte Carlo SEs) and interval coverage (with the band ``nominal`` +- 1.96 MC SEs) of each
    specification's average effect, one row per specification and estimand."""
    part = summary[summary["outcome"] == outcome].reset_index(drop=True)
    labels = [f"{r.spec_label} [{estimand_words(r.estimand)}]" for r in part.itertuples()]
    fig = InlineFigure(figsize=(11, 1.2 + 0.42 * len(part)))
    ax_bias, ax_cov = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1.3, 1]})
    y = np.arange(len(part))[::-1]
    ax_bias.errorbar(part["bias"], y, xerr=2 * part["bias_mcse"].fillna(0), fmt="o", color="#1f4e79", capsize=3)
    ax_bias.axvline(0, color="#7f8c8d", lw=1)
    ax_bias.set_yticks(y, labels, fontsize=8)
    ax_bias.set_xlabel("bias of the posterior mean (+- 2 MC SE)", fontsize=9)
    ax_cov.errorbar(part["coverage"], y, xerr=1.96 * part["coverage_mcse"].fillna(0), fmt="none", ecolor="#34495e",
                    capsize=3)  # the observed coverage's MC interval; green/red: within 1.96 nominal MC SEs of 90%
    for yi, r in zip(y, part.itertuples()):
        ax_cov.plot(r.coverage, yi, "s", color="#1e8449" if r.coverage_ok else "#c0392b")
    ax_cov.axvline(nominal, color="#7f8c8d", lw=1, ls="--")
    ax_cov.set_xlim(0, 1.02)
    ax_cov.set_xlabel("90% interval coverage\n(green: within MC error of 90%)", fontsize=9)
    fig.suptitle(f"Design diagnosis: {outcome}", fontsize=11)
    fig.tight_layout()
    return fig


def design_sentence(summary: pd.DataFrame, outcome: str) -> str:
    """One plain-language sentence: which specifications recover the effect on this outcome, and which do not."""
    part = summary[(summary["outcome"] == outcome) & (summary["n_ok"] > 0)]
    if part.empty:
        return f"{outcome}: no simulated fit passed the diagnostics gate, so nothing can be said about the design."
    good = part[part["coverage_ok"] & ((part["bias"].abs() <= 2 * part["bias_mcse"].fillna(0)))]
    bad = part[~part.index.isin(good.index)]
    sims = int(part["n_sims"].max())
    words = [f"{outcome} ({sims} simulated panels):"]
    if not good.empty:
        words.append("unbiased within Monte Carlo error with 90% intervals covering as they should: "
                     + "; ".join(f"{r.spec_label} on {estimand_words(r.estimand)}" for r in good.itertuples()) + ".")
    if not bad.empty:
        words.append("Not to be trusted here: " + "; ".join(
            f"{r.spec_label} on {estimand_words(r.estimand)} (bias {effect(r.bias)} +- {plain(r.bias_mcse)}, "
            f"coverage {percent(r.coverage)})" for r in bad.itertuples()) + ".")
    return " ".join(words)


def render_design_page(summary: pd.DataFrame, meta: Mapping[str, Any], nominal: float) -> str:
    """The design page as one self-contained HTML string (``nominal``: the coverage the intervals should have)."""
    env = template_environment()
    env.filters["estimand"] = estimand_words
    outcomes = list(dict.fromkeys(summary["outcome"]))
    sections = [{"outcome": o, "sentence": design_sentence(summary, o),
                 "figure": to_data_uri(design_figure(summary, o, nominal)),
                 "rows": summary[summary["outcome"] == o].to_dict("records")} for o in outcomes]
    provenance = [(str(k), str(v)) for k, v in meta.items() if k != "title"]
    return env.get_template("design.html.j2").render(title=str(meta.get("title", "Design diagnosis")),
                                                     sections=sections, provenance=provenance, nominal=nominal)
