import pytest
import yaml

from tipcausal.causal.graph import load_dag
from tipcausal.core.errors import DagError


def write(tmp_path, doc):
    p = tmp_path / "g.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


BASE = {
    "nodes": {"t": {"column": "T"}, "y": {"column": "Y", "type": "ordinal"}, "u": {"latent": True},
              "z": {"column": "Z"}},
    "edges": ["z -> t", "z -> y", "u -> t", "u -> y", "t -> y"],
}


def test_default_dag_loads():
    g = load_dag("default")
    assert "political_will" in g.latent and g.node("cso_consultation").column == "v2cscnsult"
    g.check_roles("cso_consultation", ["prosecution", "protection", "prevention"])
    assert len(g.hash) == 16


def test_unknown_library_name_lists_valid(tmp_path):
    with pytest.raises(DagError, match="library DAG names: default"):
        load_dag("nope")


def test_cycle_is_shown(tmp_path):
    doc = {**BASE, "edges": BASE["edges"] + ["y -> z"]}
    with pytest.raises(DagError, match=r"cycle: .*z -> .*y -> z|cycle: .*y -> z"):
        load_dag(write(tmp_path, doc))


def test_observed_node_without_column_named(tmp_path):
    doc = {**BASE, "nodes": {**BASE["nodes"], "w": {"label": "W"}}}
    with pytest.raises(DagError, match="node 'w' is observed but maps to no panel column"):
        load_dag(write(tmp_path, doc))


def test_column_missing_from_data_named(tmp_path):
    g = load_dag(write(tmp_path, BASE))
    with pytest.raises(DagError, match="z -> column 'Z'"):
        g.check_columns(["T", "Y"], "panel.csv")


def test_missing_treatment_and_no_path(tmp_path):
    g = load_dag(write(tmp_path, BASE))
    with pytest.raises(DagError, match="treatment 'x' is not a node"):
        g.check_roles("x", ["y"])
    with pytest.raises(DagError, match="no directed path from the treatment 'y' to the outcome 't'"):
        g.check_roles("y", ["t"])
    with pytest.raises(DagError, match="marked latent"):
        g.check_roles("u", ["y"])


def test_edge_to_undeclared_node(tmp_path):
    with pytest.raises(DagError, match="undeclared node 'q'"):
        load_dag(write(tmp_path, {**BASE, "edges": ["q -> y"]}))
