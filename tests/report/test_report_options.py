"""A valid model never crashes the report: the summary and the report render for every combination of the model
options that change a fit's variables or the template's branches (likelihood, country slopes, region level,
pooling, year effects, within/between), and for each remaining option on its own, on fits fabricated without
sampling (tests/helpers.py). The figures are checked with real rendering on the sparsest and the fullest
structure; in the grid they are replaced by a placeholder, since they do not depend on the template."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import fabricated_fit
from tipcausal.report import render
from tipcausal.study.compare import comparison_with
from tipcausal.study.config import load_study
from tipcausal.study.results import OutcomeResult, Specification, StudyResult
from tipcausal.study.runner import dag_checks, prepare
from tipcausal.study.summary import build_summary

GRID = {"likelihood": ["cumulative_logit", "cumulative_probit"], "country_slopes": [True, False],
        "region_intercepts": [True, False], "pooling": ["partial", "none", "complete"],
        "year_effects": ["random", "random_walk", "fixed", "none"], "within_between": [True, False]}
ALONE = [{"lagged_treatment": True}, {"measurement_error": 0.3}, {"missing": "impute"},
         {"parameterisation": "centred"}, {"parameterisation": "non_centred"},
         {"likelihood": "cumulative_probit", "country_slopes": False, "year_effects": "none", "pooling": "complete"}]
OUTCOME = "protection"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    default = load_study("default")
    study = replace(default, outcomes=(OUTCOME,), data=replace(default.data, n_countries=24))
    prepared = prepare(study)
    variants, tests = dag_checks(study, prepared.graph, prepared.panel)
    return study, prepared, variants, tests, tmp_path_factory.mktemp("report")


def _result(base, options: dict, with_binary: bool = False) -> StudyResult:
    study, prepared, variants, tests, out = base
    spec = replace(prepared.specs[OUTCOME], **options)
    fit = fabricated_fit(prepared.panel, spec)
    rows = [Specification("primary", fit, out / "fits" / f"{OUTCOME}.nc", comparison_with(fit, None))]
    if with_binary:
        binary = fabricated_fit(prepared.panel, replace(spec, likelihood="binary_logit"), seed=1)
        rows.append(Specification("binary", binary, out / "fits" / "b.nc", comparison_with(binary, fit)))
    outcome = OutcomeResult(outcome=OUTCOME, identification=prepared.identification[OUTCOME], fit=fit,
                            fit_path=rows[0].fit_path, specifications=tuple(rows))
    return StudyResult(study=study, graph=prepared.graph, panel=prepared.panel, outcomes={OUTCOME: outcome},
                       out_dir=Path(out), variants=variants, dag_tests=tests, versions={"tipcausal": "test"},
                       created="now")


def _render(result: StudyResult) -> str:
    html = render.render_report(result, build_summary(result))
    assert 'id="provenance"' in html and "Traceback" not in html
    return html


def test_report_renders_with_real_figures_on_the_sparsest_and_fullest_structures(base):
    sparse = _result(base, {"country_slopes": False, "pooling": "complete", "year_effects": "none",
                            "within_between": False, "region_intercepts": False})
    html = _render(sparse)
    assert "(common slope)" in html and html.count("data:image/png;base64,") >= 5
    full = _render(_result(base, {}, with_binary=True))
    assert "not comparable: a binary outcome" in full


FIGURES = ("dag_figure", "forest_figure", "caterpillar_figure", "country_forest_figure", "ppc_figure",
           "trace_rank_figure", "grouped_ppc_figure", "conditional_figure", "loo_pit_figure")


def test_a_report_rendered_again_through_a_store_draws_no_figure(base, tmp_path, monkeypatch):
    """Figures are kept in the store's derived results by what they draw: the same results render the same
    report without drawing; other results draw their own figures."""
    from tipcausal.fitstore import FitStore

    result = _result(base, {})
    summary = build_summary(result)
    first = render.render_report(result, summary, FitStore(tmp_path / "store"))
    assert first.count("data:image/png;base64,") >= 5

    def not_again(*args, **kwargs):
        raise AssertionError("a figure was drawn again")

    for name in (*FIGURES, "to_data_uri"):
        monkeypatch.setattr(render.figures, name, not_again)
    assert render.render_report(result, summary, FitStore(tmp_path / "store")) == first
    changed = _result(base, {"likelihood": "cumulative_probit"})
    with pytest.raises(AssertionError, match="drawn again"):
        render.render_report(changed, build_summary(changed), FitStore(tmp_path / "store"))


@pytest.mark.slow
def test_every_option_combination_renders(base, monkeypatch):
    for name in FIGURES:
        monkeypatch.setattr(render.figures, name, lambda *a, **k: None)
    monkeypatch.setattr(render.figures, "to_data_uri", lambda fig, dpi=110: "data:,")
    combos = [dict(zip(GRID, values)) for values in itertools.product(*GRID.values())] + ALONE
    for options in combos:
        result = _result(base, options, with_binary=options.get("year_effects") == "fixed")
        html = _render(result)
        summary = build_summary(result)
        entry = summary["outcomes"][OUTCOME]
        assert (entry["slope_sd"] is None) == (not result.outcomes[OUTCOME].spec.country_slopes), options
        assert result.outcomes[OUTCOME].spec.describe().split(",")[0] in html, options
    assert len(combos) == 2 * 2 * 2 * 3 * 4 * 2 + len(ALONE)
