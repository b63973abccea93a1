"""Adjustment sets of a DAG with latent nodes: every minimal valid backdoor set and the efficient
(optimal, "O-set") one, computed by d-separation on the graph.

``minimal_adjustment_sets`` enumerates subsets of the observed candidates in size order and keeps
the valid sets that contain no smaller valid set. ``optimal_adjustment_set`` is the O-set of
Henckel, Perkovic & Maathuis (2022): the parents of the causal nodes, minus the forbidden nodes;
it has the smallest asymptotic variance among valid sets, and exists among observed variables only
when it contains no latent node. ``given`` lets latent confounders assumed absorbed (by country
effects) count as conditioned on.
"""

from __future__ import annotations

from itertools import combinations

import networkx as nx

MAX_CANDIDATES = 16


def is_valid_backdoor_set(g: nx.DiGraph, treatment: str, outcome: str, z: set[str]) -> bool:
    """Pearl's backdoor criterion: no descendant of the treatment, blocks every backdoor path."""
    if z & (nx.descendants(g, treatment) | {treatment, outcome}):
        return False
    bd = g.copy()
    bd.remove_edges_from(list(g.out_edges(treatment)))
    return nx.is_d_separator(bd, {treatment}, {outcome}, z)


def adjustment_candidates(g: nx.DiGraph, treatment: str, outcome: str, latent: set[str]) -> list[str]:
    """Observed nodes that may be adjusted for: not the treatment's or the outcome's descendants."""
    forbidden = nx.descendants(g, treatment) | nx.descendants(g, outcome) | {treatment, outcome}
    return sorted(set(g.nodes) - forbidden - latent)


def minimal_adjustment_sets(g: nx.DiGraph, treatment: str, outcome: str, latent: set[str],
                            given: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """Every minimal valid backdoor set of observed nodes (with ``given`` conditioned on as well)."""
    candidates = adjustment_candidates(g, treatment, outcome, latent)
    if len(candidates) > MAX_CANDIDATES:
        candidates = sorted(set(candidates) & (nx.ancestors(g, treatment) | nx.ancestors(g, outcome)))
    found: list[frozenset[str]] = []
    for size in range(len(candidates) + 1):
        for combo in combinations(candidates, size):
            z = frozenset(combo)
            if any(f <= z for f in found):
                continue
            if is_valid_backdoor_set(g, treatment, outcome, set(z) | set(given)):
                found.append(z)
    return [tuple(sorted(z)) for z in found]


def optimal_adjustment_set(g: nx.DiGraph, treatment: str, outcome: str, latent: set[str],
                           given: frozenset[str] = frozenset()) -> tuple[str, ...] | None:
    """The O-set among observed nodes, or None when it needs a latent node not in ``given``."""
    causal = (nx.descendants(g, treatment) & (nx.ancestors(g, outcome) | {outcome}))
    forbidden = set().union(*(nx.descendants(g, c) | {c} for c in causal)) | {treatment}
    o_set = set().union(*(set(g.predecessors(c)) for c in causal)) - forbidden
    if (o_set & latent) - set(given):
        return None
    observed = o_set - latent
    if not is_valid_backdoor_set(g, treatment, outcome, observed | set(given)):
        return None
    return tuple(sorted(observed))
