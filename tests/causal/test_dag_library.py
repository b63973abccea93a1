"""The DAG library and identification: every variant loads with its rationale and roles; minimal,
efficient, front-door and IV results on textbook graphs and per variant; the CLI shows and draws."""

import pytest
import yaml
from typer.testing import CliRunner

from tipcausal.cli import app
from tipcausal.causal.graph import load_dag
from tipcausal.causal.adjustment import minimal_adjustment_sets, optimal_adjustment_set
from tipcausal.causal.graph import library_dags, parse_dag
from tipcausal.core.errors import DagError
from tipcausal.causal.identify import identify_outcome, identify_with_dag

OUTCOMES = ("prosecution", "protection", "prevention")
runner = CliRunner()


def graph(edges, latent=(), **roles):
    nodes = {n: ({"latent": True} if n in latent else {"column": n}) for e in edges for n in e.split(" -> ")}
    return parse_dag({"nodes": nodes, "edges": edges, **roles}, "test")


def test_library_has_the_four_variants_with_rationale_and_roles():
    assert {"default", "tip_pressure", "will_proxies", "treaties"} <= set(library_dags())
    for name in library_dags():
        g = load_dag(name)
        assert len(g.rationale) > 200, name
        assert g.treatment == "cso_consultation" and g.outcomes == OUTCOMES, name


@pytest.mark.parametrize("name,identified,must_adjust", [
    ("default", False, {"democracy", "region"}),
    ("tip_pressure", False, {"democracy", "region", "tip_tier_lag"}),
    ("treaties", False, {"democracy", "region", "palermo"}),
    ("will_proxies", True, {"democracy", "region", "rule_of_law", "treaty_commitment"}),
])
def test_identification_per_variant(name, identified, must_adjust):
    g = load_dag(name)
    results = identify_with_dag(g, "cso_consultation", OUTCOMES, ("political_will",))
    for o, r in results.items():
        assert r.backdoor_identified is identified
        if identified:
            assert r.status == "identified" and r.open_path_text is None
            assert r.minimal_sets and set(r.minimal_sets[0]) == must_adjust
            # DoWhy finds the same minimal and efficient sets
            assert tuple(sorted(r.minimal_sets[0])) in r.dowhy_backdoor_sets
            assert tuple(sorted(r.optimal_set)) in r.dowhy_backdoor_sets
        else:
            assert r.status == "conditional" and r.minimal_sets == () and r.optimal_set is None
            assert r.open_path_text == f"cso_consultation <- political_will -> {o}"
            assert must_adjust <= set(r.minimal_sets_assumed[0]) or must_adjust <= set(r.optimal_set_assumed)
    without = identify_with_dag(g, "cso_consultation", OUTCOMES, ())
    assert all(r.status == ("identified" if identified else "not_identified") for r in without.values())


def test_minimal_and_efficient_sets_textbook():
    g = graph(["z -> t", "z -> y", "w -> y", "t -> y", "v -> t"]).to_networkx()
    assert minimal_adjustment_sets(g, "t", "y", set()) == [("z",)]
    assert optimal_adjustment_set(g, "t", "y", set()) == ("w", "z")  # outcome's other parents, not t's
    # M-bias: adjusting for nothing suffices; the collider m alone is invalid, {m, a} valid but not minimal
    m = graph(["a -> t", "a -> m", "b -> m", "b -> y", "t -> y"]).to_networkx()
    assert minimal_adjustment_sets(m, "t", "y", set()) == [()]
    # two alternative minimal sets
    two = graph(["a -> t", "a -> b", "b -> y", "t -> y"]).to_networkx()
    assert minimal_adjustment_sets(two, "t", "y", set()) == [("a",), ("b",)]


def test_frontdoor_and_instrument_are_reported():
    fd = graph(["u -> t", "u -> y", "t -> m", "m -> y"], latent=("u",))
    r = identify_outcome(fd, "t", "y", (), ("u",))
    assert r.frontdoor == ("m",) and not r.backdoor_identified
    assert any("front-door criterion through {m}" in a for a in r.assumptions)
    iv = graph(["u -> t", "u -> y", "z -> t", "t -> y"], latent=("u",))
    r = identify_outcome(iv, "t", "y", (), ("u",))
    assert r.instruments == ("z",)
    assert any("instrument(s) {z}" in a for a in r.assumptions)


def test_declared_roles_are_checked_on_load(tmp_path):
    with pytest.raises(DagError, match="no directed path from the treatment 'y' to the outcome 't'"):
        graph(["t -> y"], treatment="y", outcomes=["t"])
    with pytest.raises(DagError, match="declare both 'treatment' and 'outcomes'"):
        graph(["t -> y"], treatment="t")
    with pytest.raises(DagError, match="treatment 'q' is not a node"):
        graph(["t -> y"], treatment="q", outcomes=["y"])


def test_repr_png_and_dag_show(tmp_path):
    png = load_dag("treaties")._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000
    out = tmp_path / "dag.svg"
    res = runner.invoke(app, ["dag", "show", "tip_pressure", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().lstrip().startswith("<?xml") and "TIP tier (t-1)" in out.read_text()
    res = runner.invoke(app, ["dag", "show", "default", "--out", str(tmp_path / "dag.gif")])
    assert res.exit_code == 2 and ".png, .svg or .pdf" in res.output


def test_dag_identify_cli_lists_every_variant():
    res = runner.invoke(app, ["dag", "identify", "--variants"])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    for name in ("tip_pressure", "will_proxies", "treaties"):
        assert f"DAG variant {name}" in text
    assert "will_proxies: prosecution: identified" in text
    assert "minimal adjustment sets (observed only): none; efficient (O-set): none" in text
    assert "given absorbed {political_will}: minimal {democracy, region}; efficient {corruption, democracy, gdp, region}" in text


def test_same_year_tier_is_refused_as_outcome_descendant(tmp_path):
    doc = yaml.safe_load(library_dags()["tip_pressure"].read_text())
    doc["nodes"]["tip_tier"] = {"label": "TIP tier (same year)", "column": "tip_tier"}
    doc["edges"] += ["prosecution -> tip_tier", "protection -> tip_tier", "prevention -> tip_tier"]
    g = parse_dag(doc, "same-year")
    from tipcausal.core.errors import IdentificationError
    with pytest.raises(IdentificationError, match="'tip_tier' is a descendant of the outcome 'prosecution'"):
        identify_outcome(g, "cso_consultation", "prosecution", ("region", "democracy", "tip_tier"),
                         ("political_will",))
