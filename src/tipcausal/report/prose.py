"""The report's opening answer: per outcome, a few sentences a colleague can read first (the effect on both
scales with its interval and P(effect > 0), the gate, the assumption it rests on, what the sensitivity analysis
says), built from summary.json's content."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _interval(e: Mapping[str, float], digits: int = 2) -> str:
    return f"{e['mean']:+.{digits}f} (94% HDI {e['hdi_low']:+.{digits}f} to {e['hdi_high']:+.{digits}f})"


def _assumption(ident: Mapping[str, Any]) -> str:
    if ident["status"] == "identified":
        used = ", ".join(ident["adjustment"]) or "nothing"
        return f"The effects are identified from observed variables (adjusting for {used})."
    absorbed = ", ".join(ident["assume_absorbed"])
    if absorbed:
        return (f"Each effect rests on one assumption beyond the DAG: {absorbed} is constant within each country, so "
                f"the within/between split absorbs it (otherwise the path {ident['open_path']} stays open).")
    return f"The effect is not identified: the path {ident['open_path']} stays open."


def _sensitivity(outcome: str, sens: Mapping[str, Any]) -> str:
    parts = []
    conf = (sens.get("confounding") or {}).get(outcome)
    if conf:
        main = conf["effects"].get("expected_score") or next(iter(conf["effects"].values()))
        if main["rv_certain"] > 0:
            parts.append(f"a time-varying confounder explaining {100 * main['rv_certain']:.1f}% of the residual "
                         f"variance of both consultation and the latent score would make its sign uncertain")
        else:
            parts.append("its sign is not 95% certain even without unobserved confounding")
    priors = (sens.get("priors") or {}).get(outcome)
    if priors is not None:
        flagged = [r["partition"] for r in priors if r["diagnosis"] != "-"]  # PartitionSensitivity.flagged
        parts.append("no prior drives it" if not flagged else f"the prior(s) on {', '.join(flagged)} move it")
    counts = (sens.get("refutation_counts") or {}).get(outcome)
    if counts:
        parts.append(f"refutations: {counts.get('pass', 0)} pass, {counts.get('fail', 0)} fail, "
                     f"{counts.get('inconclusive', 0)} inconclusive")
    return ("Sensitivity: " + "; ".join(parts) + ".") if parts else ""


def answer(outcome: str, entry: Mapping[str, Any], treatment: str, sens: Mapping[str, Any] | None) -> str:
    """The opening sentences about one outcome (plain text): the effect on both scales, P(increase), the gate,
    and what the sensitivity analysis says when it ran."""
    effects = entry["effects"]
    gate = entry["diagnostics"]
    if gate["verdict"] != "pass":
        return (f"{outcome.capitalize()}: the fit FAILED the diagnostics gate ({'; '.join(gate.get('reasons', []))}): "
                f"its effect is not to be reported.")
    es = effects.get("expected_score")
    if es is not None:
        text = (f"{outcome.capitalize()}: raising {treatment} by one SD within a country changes the expected score "
                f"(1-5) by {_interval(es)} and P(score >= 4) by {_interval(effects['p_score_ge_4'])}; the posterior "
                f"probability of an increase is {es['p_positive']:.2f}. The fit passed the diagnostics gate.")
    else:
        name, e = next(iter(effects.items()))
        text = (f"{outcome.capitalize()}: raising {treatment} by one SD changes {name} by {_interval(e)}; the "
                f"posterior probability of an increase is {e['p_positive']:.2f}. The fit passed the diagnostics gate.")
    return text + (" " + _sensitivity(outcome, sens) if sens else "")


def caveats(outcomes: Mapping[str, Mapping[str, Any]], sens: Mapping[str, Any] | None) -> list[str]:
    """The sentences the outcomes share, each once: the assumption each effect rests on (one sentence per distinct
    assumption) and, without a sensitivity analysis, that none ran."""
    seen: list[str] = []
    for o, entry in outcomes.items():
        text = _assumption(entry["identification"]).replace(f" -> {o}", " -> each outcome")
        if text not in seen:
            seen.append(text)
    if not sens:
        seen.append("No sensitivity analysis was run (`tipcausal sensitivity` adds it).")
    return seen
