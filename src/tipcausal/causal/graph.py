"""Declarative DAG files (YAML): loading, validation and the ``CausalGraph`` they become.

A DAG file looks like::

    name: default
    title: Determinants of anti-trafficking efforts
    rationale: |
      Why these nodes and edges.
    nodes:
      cso_consultation: {label: CSO consultation, column: v2cscnsult, type: continuous}
      political_will:   {label: Political will, latent: true}
    edges:
      - political_will -> cso_consultation
      - cso_consultation -> prosecution

Optional top-level ``treatment`` and ``outcomes`` declare the DAG's default roles; loading then checks
that they are observed nodes with a directed path from the treatment to each outcome.
Node keys: ``label``, ``column`` (the panel column; required unless ``latent: true``), ``latent``,
``type`` (continuous, ordinal, binary, categorical), ``lag`` (years, default 0), ``note``.
Library DAGs ship in ``tipcausal/library/dags`` and are loaded by name.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from tipcausal.causal.drawing import dag_figure
from tipcausal.core.errors import DagError
from tipcausal.core.provenance import hash_json
from tipcausal.core.registry import library_files, resolve_file

NODE_TYPES = ("continuous", "ordinal", "binary", "categorical")
NODE_KEYS = {"label", "column", "latent", "type", "lag", "note"}
TOP_KEYS = {"name", "title", "rationale", "nodes", "edges", "treatment", "outcomes"}


@dataclass(frozen=True)
class Node:
    """A DAG node: an observed panel column or a latent variable."""

    id: str
    label: str
    column: str | None
    latent: bool
    type: str
    lag: int = 0
    note: str = ""


@dataclass(frozen=True)
class CausalGraph:
    """A validated acyclic causal graph with its source and content hash."""

    name: str
    title: str
    rationale: str
    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    source: str
    treatment: str | None = None
    outcomes: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        """Hash of the graph's content (nodes and edges), independent of comments and order."""
        return hash_json({"nodes": sorted((asdict(n) for n in self.nodes), key=lambda d: d["id"]),
                          "edges": sorted(self.edges)})

    def node(self, node_id: str) -> Node:
        """The node called ``node_id``."""
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise DagError(f"{self.source}: no node {node_id!r}; nodes are {', '.join(self.node_ids)}")

    @property
    def node_ids(self) -> tuple[str, ...]:
        """Node ids in file order."""
        return tuple(n.id for n in self.nodes)

    @property
    def latent(self) -> tuple[str, ...]:
        """Ids of latent (unobserved) nodes."""
        return tuple(n.id for n in self.nodes if n.latent)

    @property
    def observed(self) -> tuple[str, ...]:
        """Ids of observed nodes."""
        return tuple(n.id for n in self.nodes if not n.latent)

    def to_networkx(self) -> nx.DiGraph:
        """The graph as a networkx DiGraph with node attributes."""
        g = nx.DiGraph()
        for n in self.nodes:
            g.add_node(n.id, **asdict(n))
        g.add_edges_from(self.edges)
        return g

    def to_dot(self) -> str:
        """The graph in DOT syntax (the form DoWhy reads)."""
        lines = [f'  "{n.id}";' for n in self.nodes]
        lines += [f'  "{a}" -> "{b}";' for a, b in self.edges]
        return "digraph {\n" + "\n".join(lines) + "\n}"

    def _repr_png_(self) -> bytes:
        """Inline drawing in Jupyter (roles from the DAG file's treatment/outcomes)."""
        buf = io.BytesIO()
        dag_figure(self, self.treatment, self.outcomes).savefig(buf, format="png", dpi=90, bbox_inches="tight")
        return buf.getvalue()

    def columns(self) -> dict[str, str]:
        """Observed node id -> panel column."""
        return {n.id: n.column for n in self.nodes if not n.latent and n.column}

    def check_roles(self, treatment: str, outcomes: Iterable[str]) -> None:
        """Raise DagError unless treatment and outcomes are observed nodes and each outcome is reachable."""
        g = self.to_networkx()
        for role, node_id in [("treatment", treatment), *[("outcome", o) for o in outcomes]]:
            if node_id not in g:
                raise DagError(f"{self.source}: the {role} {node_id!r} is not a node of the DAG; "
                               f"nodes are {', '.join(self.node_ids)}")
            if self.node(node_id).latent:
                raise DagError(f"{self.source}: the {role} {node_id!r} is marked latent; it must be observed")
        for o in outcomes:
            if not nx.has_path(g, treatment, o):
                raise DagError(f"{self.source}: no directed path from the treatment {treatment!r} to the "
                               f"outcome {o!r}; the DAG says it has no effect to estimate")

    def check_columns(self, available: Iterable[str], data_source: str) -> None:
        """Raise DagError naming every observed node whose column is not in ``available``."""
        have = set(available)
        missing = [f"{node} -> column {col!r}" for node, col in self.columns().items() if col not in have]
        if missing:
            raise DagError(f"{self.source}: observed node(s) mapped to column(s) missing from {data_source}: "
                           + "; ".join(missing))


def _parse_edge(item: Any, where: str) -> tuple[str, str]:
    if isinstance(item, str) and "->" in item:
        a, b = (s.strip() for s in item.split("->", 1))
        if a and b and "->" not in b:
            return a, b
    if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(s, str) for s in item):
        return item[0].strip(), item[1].strip()
    raise DagError(f"{where}: cannot read edge {item!r}; write 'a -> b' or [a, b]")


def parse_dag(data: Any, source: str) -> CausalGraph:
    """Validate the parsed content of a DAG file and build a CausalGraph."""
    if not isinstance(data, dict):
        raise DagError(f"{source}: a DAG file must be a mapping with 'nodes' and 'edges'")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise DagError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; valid keys: {', '.join(sorted(TOP_KEYS))}")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise DagError(f"{source}: 'nodes' must be a non-empty mapping of node id -> attributes")
    nodes = []
    for node_id, attrs in raw_nodes.items():
        attrs = attrs or {}
        if not isinstance(attrs, dict):
            raise DagError(f"{source}: node {node_id!r}: attributes must be a mapping")
        bad = set(attrs) - NODE_KEYS
        if bad:
            raise DagError(f"{source}: node {node_id!r}: unknown key(s) {', '.join(sorted(bad))}; "
                           f"valid keys: {', '.join(sorted(NODE_KEYS))}")
        latent = bool(attrs.get("latent", False))
        column = attrs.get("column")
        if not latent and not column:
            raise DagError(f"{source}: node {node_id!r} is observed but maps to no panel column; "
                           "give it 'column: NAME' or mark it 'latent: true'")
        ntype = attrs.get("type", "continuous")
        if ntype not in NODE_TYPES:
            raise DagError(f"{source}: node {node_id!r}: type {ntype!r} is not one of {', '.join(NODE_TYPES)}")
        lag = attrs.get("lag", 0)
        if not isinstance(lag, int) or lag < 0:
            raise DagError(f"{source}: node {node_id!r}: lag must be a non-negative integer")
        nodes.append(Node(id=str(node_id), label=str(attrs.get("label", node_id)),
                          column=None if latent else str(column), latent=latent, type=ntype, lag=lag,
                          note=str(attrs.get("note", ""))))
    by_column: dict[str, list[str]] = {}
    for n in nodes:
        if n.column:
            by_column.setdefault(n.column, []).append(n.id)
    shared = {c: ids for c, ids in by_column.items() if len(ids) > 1}
    if shared:
        raise DagError(f"{source}: " + "; ".join(f"nodes {' and '.join(repr(i) for i in ids)} map to the same column "
                                                 f"{c!r}" for c, ids in shared.items())
                       + " (each observed node needs its own column)")
    ids = {n.id for n in nodes}
    edges = []
    for item in data.get("edges") or []:
        a, b = _parse_edge(item, source)
        for end in (a, b):
            if end not in ids:
                raise DagError(f"{source}: edge {a} -> {b} names undeclared node {end!r}")
        if a == b:
            raise DagError(f"{source}: self-loop on node {a!r}")
        edges.append((a, b))
    if len(set(edges)) != len(edges):
        dup = sorted({e for e in edges if edges.count(e) > 1})
        raise DagError(f"{source}: duplicate edge(s): {', '.join(f'{a} -> {b}' for a, b in dup)}")
    treatment = data.get("treatment")
    outcomes = data.get("outcomes") or []
    if isinstance(outcomes, str):
        outcomes = [outcomes]
    if treatment is not None and not isinstance(treatment, str) or not all(isinstance(o, str) for o in outcomes):
        raise DagError(f"{source}: 'treatment' must be a node id and 'outcomes' a list of node ids")
    graph = CausalGraph(name=str(data.get("name", Path(source).stem)), title=str(data.get("title", "")),
                        rationale=str(data.get("rationale", "")).strip(), nodes=tuple(nodes),
                        edges=tuple(edges), source=source, treatment=treatment, outcomes=tuple(outcomes))
    g = graph.to_networkx()
    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        path = " -> ".join([a for a, _ in cycle] + [cycle[0][0]])
        raise DagError(f"{source}: the graph has a cycle: {path}")
    if treatment is not None or outcomes:
        if treatment is None or not outcomes:
            raise DagError(f"{source}: declare both 'treatment' and 'outcomes' (or neither)")
        graph.check_roles(treatment, outcomes)
    return graph


class _DuplicateKey(Exception):
    """A mapping key written twice in a YAML file."""

    def __init__(self, key: object, first: int, again: int):
        super().__init__(f"key {key!r} is written twice (lines {first} and {again}); the YAML loader would keep "
                         "only the last")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses duplicate mapping keys instead of keeping the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _DuplicateKey(key, seen[key], line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def library_dags() -> dict[str, Path]:
    """Names and paths of the DAG files that ship with tipcausal."""
    return library_files("dags", ".yaml")


def load_dag(name_or_path: str | Path) -> CausalGraph:
    """Load a DAG by library name (e.g. ``"default"``) or from a YAML file path."""
    path = resolve_file(name_or_path, library_dags(), "DAG", DagError)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except _DuplicateKey as exc:
        raise DagError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise DagError(f"{path}: not valid YAML: {exc}") from None
    return parse_dag(data, str(path))
