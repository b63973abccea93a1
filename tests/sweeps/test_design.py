"""Design diagnosis without sampling: the [design] table, the simulated fits and their truth, the statistics
(bias, RMSE, coverage, power with Monte Carlo errors) on fits whose answers are known, and the page."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from tipcausal.core.errors import InputError
from tipcausal.models.binding import bind_data
from tipcausal.study.config import build_study
from tipcausal.sweeps.design import NOMINAL, diagnose, parse_design, plan_design
from tipcausal.sweeps.design_page import render_design_page

DATA = {"kind": "simulated", "seed": 7, "n_countries": 30}
SWEEP = {"outcomes": ["prosecution"], "pooling": ["partial", "complete"], "within_between": [True, False],
         "exclude": [{"pooling": "partial", "within_between": False}]}


def _study(design=None, **sweep):
    return build_study("default", data=DATA, sweep=sweep or SWEEP, **({"design": design} if design else {}))


@pytest.mark.parametrize("design, message", [
    ({"sims": 1}, "sims must be an integer >= 2"),
    ({"colour": 1}, "[design] has unknown key(s) colour"),
    ({"simulation": {"gravity": 1.0}}, "[design].simulation has unknown key(s) gravity"),
    ({"sampler": {"speed": 2}}, "[design].sampler has unknown key(s) speed"),
    ({"outcomes": ["corruption"]}, "outcomes must be a non-empty list among"),
    ({"n_countries": 5}, "n_countries must be an integer >= 12"),
    ({"simulation": {"effect_sd": {"protection": -0.2}}}, "[design].simulation: effect_sd.protection must be a finite"
                                                          " number >= 0.0, got -0.2"),
    ({"simulation": {"effect_mean": {"prosecution": "big"}}}, "effect_mean.prosecution must be a finite number"),
    ({"simulation": {"effect_mean": {"bribery": 0.3}}}, "effect_mean must give a number for each of prosecution"),
    ({"simulation": {"effect_mean": 0.3}}, "effect_mean must give a number for each of prosecution"),
    ({"simulation": {"will_time_rho": 1.0}}, "will_time_rho must be a finite number in (-1, 1), got 1.0"),
    ({"simulation": {"will_time_sd": "some"}}, "will_time_sd must be a finite number >= 0.0"),
    ({"simulation": {"score_shares": {"protection": [0.5, 0.5]}}}, "score_shares.protection must be five positive"),
])
def test_bad_design_tables_are_refused_naming_the_key(design, message):
    with pytest.raises(InputError) as err:
        parse_design(_study(design))
    assert message in str(err.value)


def test_design_defaults_and_structural_overrides():
    settings = parse_design(_study({"simulation": {"will_time_sd": 0.3, "effect_mean": {"prosecution": 0.4}}}))
    assert (settings.sims, settings.seed, settings.n_countries) == (50, 7, 30)
    config = settings.config()
    assert config.will_time_sd == 0.3 and config.n_countries == 30
    assert config.effect_mean["prosecution"] == 0.4 and config.effect_mean["protection"] == 0.65  # merged, not replaced
    assert parse_design(_study(), sims=5).sims == 5


def test_simulated_fits_carry_the_truth_on_their_own_rows():
    settings = parse_design(_study({"sampler": {"draws": 100, "tune": 100, "chains": 2}}), sims=3)
    plan, fits = plan_design(_study(), settings)
    assert len(plan.points) == 3 and len(fits) == 9  # 3 specifications x 3 panels, one outcome
    assert {f.sim for f in fits} == {1, 2, 3}
    assert fits[0].task.settings.draws == 100 and fits[0].task.settings.chains == 2
    assert len({f.task.panel.hash for f in fits}) == 3  # one panel per simulation, shared by its specifications
    assert len({f.task.key for f in fits}) == 9 and len({f.task.settings.seed for f in fits}) == 9
    for f in fits:
        rows = bind_data(f.task.panel, f.task.spec).rows
        assert len(rows) > 0
        assert math.isfinite(f.truth["truth_es"]) and math.isfinite(f.truth["truth_pge"])
    # on every row of a panel and in its own units, the truth is the simulation's own average effect
    from tipcausal.simulation.structural import simulate_panel

    sim = simulate_panel(11)
    whole = sim.true_average("prosecution", sim.panel.frame, 4)
    assert whole["expected_score"] == pytest.approx(sim.truth["effects"]["prosecution"]["expected_score"])
    assert whole["p_score_ge_4"] == pytest.approx(sim.truth["effects"]["prosecution"]["p_score_ge_4"])
    double = sim.true_average("prosecution", sim.panel.frame, 4, scale=2.0)
    assert abs(double["p_score_ge_4"]) > abs(whole["p_score_ge_4"])
    # the same simulations again (content-derived): the same fits, the same keys
    _, again = plan_design(_study(), settings)
    assert [f.task.key for f in again] == [f.task.key for f in fits]


def _fits(rng, n_sims=400, bias=0.0, sd=0.05, width=1.645):
    """Fabricated fits with posterior mean = truth + bias + noise and a Normal 90% interval of half-width
    ``width`` SDs: the coverage is known (0.90 for width 1.645 and no bias)."""
    truth = rng.normal(0.1, 0.02, n_sims)
    mean = truth + bias + rng.normal(0, sd, n_sims)
    frame = pd.DataFrame({"spec_id": "a", "spec_label": "primary", "outcome": "prosecution", "status": "ok",
                          "sim": np.arange(1, n_sims + 1), "pge_threshold": 4, "truth_pge": truth,
                          "truth_es": truth, "pge_mean": mean, "pge_q05": mean - width * sd,
                          "pge_q95": mean + width * sd, "pge_p_positive": 0.5, "es_mean": np.nan,
                          "es_q05": np.nan, "es_q95": np.nan, "es_p_positive": np.nan})
    return frame


def test_diagnose_recovers_known_bias_coverage_and_power():
    rng = np.random.default_rng(3)
    good = _fits(rng)
    biased = _fits(rng, bias=0.1).assign(spec_id="b", spec_label="pooling=complete", pge_p_positive=0.99)
    failed = _fits(rng, n_sims=400).assign(spec_id="c", spec_label="bad", status="gate_failed")
    summary = diagnose(pd.concat([good, biased, failed], ignore_index=True)).set_index("spec_id")
    assert list(summary.index) == ["a", "b", "c"]  # binary-like rows: no expected-score estimand
    a, b, c = summary.loc["a"], summary.loc["b"], summary.loc["c"]
    mcse = math.sqrt(0.9 * 0.1 / 400)
    assert a["estimand"] == "p_score_ge_4" and a["n_ok"] == 400
    assert abs(a["bias"]) < 3 * a["bias_mcse"] and abs(a["coverage"] - 0.9) < 3 * mcse and a["coverage_ok"]
    assert abs(a["rmse"] - 0.05) < 0.006 and a["power"] == 0.0
    # bias 0.1 against interval half-width 1.645 x 0.05: covered when the noise is in (-0.18, -0.02)
    expected = norm.cdf(-0.02 / 0.05) - norm.cdf(-0.18 / 0.05)
    assert abs(b["bias"] - 0.1) < 3 * b["bias_mcse"] and not b["coverage_ok"]
    assert abs(b["coverage"] - expected) < 3 * math.sqrt(expected * (1 - expected) / 400)
    assert b["power"] == 1.0
    assert c["n_ok"] == 0 and math.isnan(c["bias"]) and not c["coverage_ok"]  # gate failures are counted, not used


def test_design_page_names_the_untrustworthy_specification():
    rng = np.random.default_rng(4)
    frame = pd.concat([_fits(rng, 100), _fits(rng, 100, bias=0.1).assign(spec_id="b", spec_label="pooling=complete")])
    summary = diagnose(frame)
    html = render_design_page(summary, {"title": "Design <test>", "seed": 7}, NOMINAL)
    assert "Design &lt;test&gt;" in html and "data:image/png;base64," in html
    sentence = html.split('id="sentence-prosecution">')[1].split("</p>")[0]
    assert "Not to be trusted here: pooling=complete" in sentence
    assert "covering as they should: primary" in sentence


def test_a_real_country_left_out_names_the_design_table_to_use():
    study = build_study("default", data=DATA, sweep={"outcomes": ["prosecution"], "leave_out": ["none", "country:BRA"]},
                        design={"sims": 2})  # no [design.sweep]: the design takes [sweep]'s choices
    with pytest.raises(InputError) as err:
        plan_design(study, parse_design(study))
    message = str(err.value)
    assert "has no country 'BRA'" in message and "[design.sweep]" in message
