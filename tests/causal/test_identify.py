import pytest
import yaml

from tipcausal.causal.graph import load_dag
from tipcausal.core.errors import IdentificationError
from tipcausal.causal.identify import identify_outcome

T = "cso_consultation"
ADJ = ("region", "democracy", "corruption", "gdp")


def test_default_is_conditional_and_names_the_open_path():
    g = load_dag("default")
    r = identify_outcome(g, T, "prosecution", ADJ, ("political_will",))
    assert r.status == "conditional" and not r.backdoor_identified
    assert r.open_path_text == "cso_consultation <- political_will -> prosecution"
    assert r.dowhy_backdoor_sets == ()  # DoWhy agrees: no backdoor set
    assert any("constant within country" in a for a in r.assumptions)


def test_insufficient_set_refused_with_open_path():
    g = load_dag("default")
    with pytest.raises(IdentificationError, match="cso_consultation <- region -> protection"):
        identify_outcome(g, T, "protection", ("democracy", "corruption"), ("political_will",))


def graph(tmp_path, extra_nodes, extra_edges):
    doc = {"nodes": {"t": {"column": "T"}, "y": {"column": "Y"}, "z": {"column": "Z"}, **extra_nodes},
           "edges": ["z -> t", "z -> y", "t -> y", *extra_edges]}
    p = tmp_path / "g.yaml"
    p.write_text(yaml.safe_dump(doc))
    return load_dag(p)


def test_fully_observed_dag_is_identified(tmp_path):
    r = identify_outcome(graph(tmp_path, {}, []), "t", "y", ("z",))
    assert r.status == "identified" and r.open_path_text is None
    assert ("z",) in r.dowhy_backdoor_sets


def test_descendant_of_outcome_refused(tmp_path):
    g = graph(tmp_path, {"tier": {"column": "tier"}}, ["y -> tier"])
    with pytest.raises(IdentificationError, match="'tier' is a descendant of the outcome 'y' \\(y -> tier\\)"):
        identify_outcome(g, "t", "y", ("z", "tier"))


def test_descendant_of_treatment_refused(tmp_path):
    g = graph(tmp_path, {"m": {"column": "M"}}, ["t -> m", "m -> y"])
    with pytest.raises(IdentificationError, match="'m' is a descendant of the treatment"):
        identify_outcome(g, "t", "y", ("z", "m"))


def test_collider_refused_and_override_flags(tmp_path):
    # t <- a -> c <- b -> y : adjusting for the collider c opens the path
    g = graph(tmp_path, {"a": {"column": "A"}, "b": {"column": "B"}, "c": {"column": "C"}},
              ["a -> t", "a -> c", "b -> c", "b -> y"])
    with pytest.raises(IdentificationError, match="t <- a -> c <- b -> y"):
        identify_outcome(g, "t", "y", ("z", "c"))
    r = identify_outcome(g, "t", "y", ("z", "c"), override=True)
    assert r.status == "overridden" and r.refusals
    assert any("overridden" in a for a in r.assumptions)
