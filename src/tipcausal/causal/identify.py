"""Identification of the effect of the treatment on each outcome: DoWhy plus explicit guard-rails.

For each outcome, DoWhy's ``CausalModel.identify_effect`` gives the estimand; tipcausal checks the
backdoor criterion itself (networkx d-separation) to name an open backdoor path when the effect is
not identified, and to vet the adjustment set the study names:

* an adjustment variable that descends from the treatment or from an outcome is refused;
* the named set, together with the latent confounders the study declares absorbed by country
  effects (``assume_absorbed``), must block every backdoor path; if not, the open path is named.

When the DAG does not identify the effect from observed variables (political will is latent), the
result is ``status = "conditional"``: it rests on the extra assumptions listed in ``assumptions``,
which every report and summary repeats. A refused set raises ``IdentificationError`` unless the
study sets ``override = true``, in which case the result is kept with ``status = "overridden"``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass, replace
from typing import Literal

import networkx as nx
import numpy as np
import pandas as pd

from tipcausal.causal.adjustment import is_valid_backdoor_set, minimal_adjustment_sets, optimal_adjustment_set
from tipcausal.causal.graph import CausalGraph
from tipcausal.core.errors import IdentificationError
from tipcausal.core.htmltable import html_table

Status = Literal["identified", "conditional", "overridden", "not_identified"]


@dataclass(frozen=True)
class Identification:
    """What the DAG says about the effect of ``treatment`` on ``outcome``, and what the study assumes."""

    outcome: str
    treatment: str
    status: Status
    backdoor_identified: bool
    dowhy_backdoor_sets: tuple[tuple[str, ...], ...]
    dowhy_estimand: str
    adjustment: tuple[str, ...]
    assume_absorbed: tuple[str, ...]
    open_path: tuple[str, ...] | None
    open_path_text: str | None
    assumptions: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()
    minimal_sets: tuple[tuple[str, ...], ...] = ()
    optimal_set: tuple[str, ...] | None = None
    minimal_sets_assumed: tuple[tuple[str, ...], ...] = ()
    optimal_set_assumed: tuple[str, ...] | None = None
    frontdoor: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()

    def _repr_html_(self) -> str:
        rows = [("status", self.status), ("back-door identified from observed variables", self.backdoor_identified),
                ("adjustment set", self.adjustment), ("assumed absorbed", self.assume_absorbed),
                ("open back-door path", self.open_path_text or "none"),
                ("efficient adjustment set", self.optimal_set if self.optimal_set is not None else "none"),
                ("efficient set given the absorbed latent", self.optimal_set_assumed
                 if self.optimal_set_assumed is not None else "none"),
                *[("assumption", a) for a in self.assumptions], *[("refused", r) for r in self.refusals]]
        return html_table(rows, caption=f"Identification of {self.treatment} -> {self.outcome}")

    def to_dict(self) -> dict:
        """Plain-data form for summaries and provenance."""
        return {
            "status": self.status,
            "backdoor_identified": self.backdoor_identified,
            "minimal_adjustment_sets": [list(s) for s in self.minimal_sets],
            "optimal_adjustment_set": list(self.optimal_set) if self.optimal_set is not None else None,
            "minimal_adjustment_sets_assumed": [list(s) for s in self.minimal_sets_assumed],
            "optimal_adjustment_set_assumed": (list(self.optimal_set_assumed)
                                               if self.optimal_set_assumed is not None else None),
            "frontdoor": list(self.frontdoor),
            "instruments": list(self.instruments),
            "dowhy_backdoor_sets": [list(s) for s in self.dowhy_backdoor_sets],
            "adjustment": list(self.adjustment),
            "assume_absorbed": list(self.assume_absorbed),
            "open_path": self.open_path_text,
            "assumptions": list(self.assumptions),
            "refusals": list(self.refusals),
        }


def _path_is_open(g: nx.DiGraph, path: list[str], given: set[str]) -> bool:
    """d-connection of one path given a conditioning set."""
    for a, m, b in zip(path, path[1:], path[2:]):
        collider = g.has_edge(a, m) and g.has_edge(b, m)
        if collider:
            if m not in given and not (nx.descendants(g, m) & given):
                return False
        elif m in given:
            return False
    return True


def open_backdoor_path(g: nx.DiGraph, treatment: str, outcome: str, given: set[str]) -> tuple[str, ...] | None:
    """The shortest backdoor path from treatment to outcome left open by ``given``, as its nodes."""
    skeleton = g.to_undirected(as_view=True)
    for path in sorted(nx.all_simple_paths(skeleton, treatment, outcome, cutoff=8), key=len):
        if len(path) < 3 or not g.has_edge(path[1], path[0]):
            continue  # not a backdoor path (must start with an arrow into the treatment)
        if _path_is_open(g, path, given):
            return tuple(path)
    return None


def path_text(g: nx.DiGraph, path: tuple[str, ...]) -> str:
    """A path written with its edge directions, e.g. ``t <- u -> y``."""
    out = [path[0]]
    for a, b in zip(path, path[1:]):
        out += ["<-" if g.has_edge(b, a) else "->", b]
    return " ".join(out)


def _dowhy_identify(graph: CausalGraph, treatment: str, outcome: str) -> tuple[str, tuple[tuple[str, ...], ...],
                                                                              tuple[str, ...], tuple[str, ...]]:
    """Run DoWhy's identification; return its printed estimand, backdoor sets, frontdoor and IV variables."""
    from dowhy import CausalModel  # heavy import, only when identifying

    observed = list(graph.observed)
    frame = pd.DataFrame(np.zeros((2, len(observed))), columns=observed)
    sink = io.StringIO()
    logging.getLogger("dowhy").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink):
        warnings.simplefilter("ignore")
        model = CausalModel(data=frame, treatment=treatment, outcome=outcome, graph=graph.to_dot())
        estimand = model.identify_effect(proceed_when_unidentifiable=False)
    sets = []
    for key, variables in (estimand.backdoor_variables or {}).items():
        if variables is not None and key.startswith("backdoor"):
            sets.append(tuple(sorted(variables)))
    frontdoor = tuple(sorted(estimand.frontdoor_variables or ()))
    instruments = tuple(sorted(estimand.instrumental_variables or ()))
    return str(estimand), tuple(sorted(set(sets))), frontdoor, instruments


def identify_outcome(graph: CausalGraph, treatment: str, outcome: str, adjustment: tuple[str, ...],
                     assume_absorbed: tuple[str, ...] = (), override: bool = False) -> Identification:
    """Identify the effect of ``treatment`` on ``outcome`` and vet the study's adjustment set."""
    g = graph.to_networkx()
    for node in (*adjustment, *assume_absorbed):
        if node not in g:
            raise IdentificationError(f"adjustment node {node!r} is not in the DAG {graph.name!r}; "
                                      f"nodes are {', '.join(graph.node_ids)}")
    latent = set(graph.latent)
    bad_latent = [n for n in adjustment if n in latent]
    if bad_latent:
        raise IdentificationError(f"cannot adjust for latent node(s) {', '.join(bad_latent)}; list them "
                                  "under assume_absorbed if country effects are assumed to absorb them")

    refusals: list[str] = []
    treat_desc = nx.descendants(g, treatment)
    out_desc = nx.descendants(g, outcome)
    for node in adjustment:
        if node in out_desc or node == outcome:
            path = nx.shortest_path(g, outcome, node)
            refusals.append(f"{node!r} is a descendant of the outcome {outcome!r} ({' -> '.join(path)}); "
                            "it is a consequence of the outcome, not a confounder")
        elif node in treat_desc:
            path = nx.shortest_path(g, treatment, node)
            refusals.append(f"{node!r} is a descendant of the treatment ({' -> '.join(path)}); adjusting for it "
                            "blocks part of the effect or opens a collider path")

    # Is the effect identified from observed variables at all? (the maximal candidate set)
    forbidden = treat_desc | {treatment, outcome}
    candidates = (nx.ancestors(g, treatment) | nx.ancestors(g, outcome)) - forbidden - latent
    backdoor_ok = is_valid_backdoor_set(g, treatment, outcome, candidates)
    open_path = None if backdoor_ok else open_backdoor_path(g, treatment, outcome, candidates)
    open_text = path_text(g, open_path) if open_path else None

    dowhy_text, dowhy_sets, frontdoor, instruments = _dowhy_identify(graph, treatment, outcome)
    absorbed = frozenset(assume_absorbed)
    minimal = tuple(minimal_adjustment_sets(g, treatment, outcome, latent))
    optimal = optimal_adjustment_set(g, treatment, outcome, latent)
    minimal_assumed = tuple(minimal_adjustment_sets(g, treatment, outcome, latent, absorbed)) if absorbed else minimal
    optimal_assumed = optimal_adjustment_set(g, treatment, outcome, latent, absorbed) if absorbed else optimal

    given = set(adjustment) | set(assume_absorbed)
    assumptions: list[str] = []
    if not refusals and not is_valid_backdoor_set(g, treatment, outcome, given):
        found = open_backdoor_path(g, treatment, outcome, given)
        where = path_text(g, found) if found else "(a collider or descendant path)"
        refusals.append(f"the adjustment set {{{', '.join(adjustment)}}}"
                        + (f" with absorbed {{{', '.join(assume_absorbed)}}}" if assume_absorbed else "")
                        + f" leaves the backdoor path {where} open")
    if not backdoor_ok:
        where = open_text or "through a latent node"
        assumptions.append(f"Not identified by the DAG: the backdoor path {where} stays open whatever observed "
                           "variables are adjusted for.")
    if not backdoor_ok and (frontdoor or instruments):
        routes = ([f"the front-door criterion through {{{', '.join(frontdoor)}}}"] if frontdoor else []) + (
            [f"the instrument(s) {{{', '.join(instruments)}}}"] if instruments else [])
        assumptions.append("The DAG identifies the effect by " + " and by ".join(routes) + " (DoWhy estimand); "
                           "tipcausal's hierarchical models estimate backdoor-adjusted effects, so this route is "
                           "reported, not estimated.")
    if assume_absorbed:
        assumptions.append(f"Assumed: {', '.join(assume_absorbed)} is constant within country over the panel, so "
                           "country intercepts and the country means of the treatment and covariates absorb it "
                           "(within-country identification).")
    if refusals:
        if not override:
            raise IdentificationError(f"adjustment for {outcome!r} refused: " + "; ".join(refusals)
                                      + ". Set override = true in the study's [causal] table to run anyway "
                                      "(results are then flagged).")
        assumptions.append("Guard-rails overridden by the study: " + "; ".join(refusals))
    status: Status = "overridden" if refusals else ("identified" if backdoor_ok else "conditional")
    return Identification(outcome=outcome, treatment=treatment, status=status, backdoor_identified=backdoor_ok,
                          dowhy_backdoor_sets=dowhy_sets, dowhy_estimand=dowhy_text, adjustment=tuple(adjustment),
                          assume_absorbed=tuple(assume_absorbed), open_path=open_path,
                          open_path_text=open_text,
                          assumptions=tuple(assumptions), refusals=tuple(refusals), minimal_sets=minimal,
                          optimal_set=optimal, minimal_sets_assumed=minimal_assumed,
                          optimal_set_assumed=optimal_assumed, frontdoor=frontdoor, instruments=instruments)



def identify_with_dag(graph: CausalGraph, treatment: str, outcomes: tuple[str, ...],
                      assume_absorbed: tuple[str, ...] = ()) -> dict[str, Identification]:
    """What ``graph`` implies for each outcome, adjusting for its own efficient (O-) set.

    Used to compare the DAG library's variants: the adjustment set is the graph's optimal set given
    the absorbed latents (or, failing that, its first minimal set; else nothing), so nothing is refused.
    """
    graph.check_roles(treatment, outcomes)
    g = graph.to_networkx()
    latent = set(graph.latent)
    absorbed = tuple(a for a in assume_absorbed if a in g)
    out = {}
    for o in outcomes:
        optimal = optimal_adjustment_set(g, treatment, o, latent, frozenset(absorbed))
        minimal = minimal_adjustment_sets(g, treatment, o, latent, frozenset(absorbed))
        adjustment = optimal if optimal is not None else (minimal[0] if minimal else ())
        result = identify_outcome(graph, treatment, o, tuple(adjustment), absorbed, override=True)
        if optimal is None and not minimal:
            result = replace(result, status="not_identified", refusals=(),
                             assumptions=tuple(a for a in result.assumptions if not a.startswith("Guard-rails")))
        out[o] = result
    return out
