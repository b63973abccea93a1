"""The world choropleth: every country shape of the map's package is read, each model country is coloured by
its own effect, clearly signed effects are outlined, and the countries it cannot draw are named."""

import numpy as np
import pytest

from tipcausal.posterior.effects import EffectSummary
from tipcausal.report.world_map import unmapped, world_map_figure, world_shapes


def _effect(mean: float, p_positive: float) -> dict[str, EffectSummary]:
    return {"expected_score": EffectSummary(mean=mean, hdi_low=mean - 0.1, hdi_high=mean + 0.1,
                                            hdi90_low=mean - 0.08, hdi90_high=mean + 0.08, p_positive=p_positive)}


def test_shapes_cover_the_world_inside_the_view_box():
    shapes = world_shapes()
    assert len(shapes.paths) >= 180
    assert {"hu", "rs", "me", "mm", "jm", "gr", "gb", "us", "br", "in", "ng"} <= set(shapes.paths)
    margin = 0.005 * shapes.width  # curves' control points may reach a little past the edge (New Zealand's)
    for code, path in shapes.paths.items():
        box = path.get_extents()
        assert -margin <= box.x0 < box.x1 <= shapes.width + margin, code
        assert -margin <= box.y0 < box.y1 <= shapes.height + margin, code


def test_each_country_is_coloured_by_its_effect_and_sure_ones_outlined():
    effects = {"FRA": _effect(0.20, 0.99), "HUN": _effect(-0.10, 0.02), "BRA": _effect(0.01, 0.55),
               "IND": _effect(0.05, 0.80), "XKX": _effect(0.03, 0.70), "TON": _effect(0.0, 0.5)}
    fig = world_map_figure({"prosecution": effects, "protection": {"FRA": _effect(-0.3, 0.01)}},
                           names={"XKX": "Kosovo", "TON": "Tonga"})
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == 2
    background, fill = axes[0].collections
    assert len(background.get_paths()) == len(world_shapes().paths) - 4  # every country but the four drawn
    np.testing.assert_allclose(sorted(fill.get_array()), [-0.10, 0.01, 0.05, 0.20])
    by_value = dict(zip(fill.get_array(), fill.get_linewidths()))
    assert by_value[0.20] > by_value[0.05] and by_value[-0.10] > by_value[0.01]  # P > 0.95 and P < 0.05
    assert "4 of 6 countries drawn, 2 with P(effect > 0) above 0.95 or below 0.05" in axes[0].get_title()
    norm = fill.norm
    assert norm.vmin == pytest.approx(-0.3) and norm.vmax == pytest.approx(0.3)  # one scale for every outcome
    assert "Kosovo" in fig._supxlabel.get_text() and "Tonga" in fig._supxlabel.get_text()
    assert unmapped(["FRA", "XKX", "TON"]) == ["TON", "XKX"]


def test_the_report_shows_the_map_on_real_data_only(tmp_path):
    from dataclasses import replace
    from pathlib import Path

    from helpers import fabricated_fit
    from tipcausal.data.countries import iso2_codes
    from tipcausal.report import render
    from tipcausal.study.compare import comparison_with
    from tipcausal.study.config import load_study
    from tipcausal.study.results import OutcomeResult, Specification, StudyResult
    from tipcausal.study.runner import dag_checks, prepare
    from tipcausal.study.summary import build_summary

    default = load_study("default")
    study = replace(default, outcomes=("protection",), data=replace(default.data, n_countries=24))
    prepared = prepare(study)
    variants, tests = dag_checks(study, prepared.graph, prepared.panel)
    simulated = prepared.panel
    codes = sorted(simulated.frame["country"].unique())
    iso3 = [c for c in sorted(iso2_codes()) if iso2_codes()[c].lower() in world_shapes().paths][:len(codes)]
    real = replace(simulated, frame=simulated.frame.assign(country=simulated.frame["country"].map(
        dict(zip(codes, iso3)))), kind="real")

    def html(panel):
        fit = fabricated_fit(panel, prepared.specs["protection"])
        rows = (Specification("primary", fit, tmp_path / "p.nc", comparison_with(fit, None)),)
        outcome = OutcomeResult(outcome="protection", identification=prepared.identification["protection"],
                                fit=fit, fit_path=rows[0].fit_path, specifications=rows)
        result = StudyResult(study=study, graph=prepared.graph, panel=panel, outcomes={"protection": outcome},
                             out_dir=Path(tmp_path), variants=variants, dag_tests=tests, versions={"tipcausal": "test"},
                             created="now")
        return render.render_report(result, build_summary(result))

    assert 'alt="world map of country effects"' in html(real)
    assert 'alt="world map of country effects"' not in html(simulated)
