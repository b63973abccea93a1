"""Identification of one causal question under every library DAG (each adjusting for its own efficient set)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tipcausal.causal.graph import library_dags, load_dag
from tipcausal.causal.identify import Identification, identify_with_dag


@dataclass(frozen=True)
class VariantIdentification:
    """The question under one DAG: its identification per outcome, or why the DAG does not apply."""

    dag: str
    rationale: str
    results: Mapping[str, Identification] = field(default_factory=dict)
    not_applicable: str | None = None

    def to_dict(self) -> dict | str:
        """The summary.json form: per outcome its status, adjustment and open path, or the reason it does not
        apply."""
        if self.not_applicable is not None:
            return self.not_applicable
        return {o: {"status": i.status, "adjustment": list(i.adjustment), "open_path": i.open_path_text}
                for o, i in self.results.items()}


def identify_variants(treatment: str, outcomes: tuple[str, ...], assume_absorbed: tuple[str, ...] = ()
                      ) -> dict[str, VariantIdentification]:
    """Identification of ``treatment`` -> each outcome under every library DAG, by DAG name."""
    out: dict[str, VariantIdentification] = {}
    for name in sorted(library_dags()):
        g = load_dag(name)
        missing = [n for n in (treatment, *outcomes) if n not in g.node_ids]
        if missing:
            out[name] = VariantIdentification(name, g.rationale,
                                              not_applicable=f"not applicable: the DAG has no node(s) "
                                                             f"{', '.join(missing)}")
            continue
        out[name] = VariantIdentification(name, g.rationale, identify_with_dag(g, treatment, outcomes, assume_absorbed))
    return out
