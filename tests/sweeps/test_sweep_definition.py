"""The [sweep] table: validation before anything samples, the factorial minus exclusions, invalid
specifications listed with their reasons, and seeds derived from content rather than position."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tipcausal.core.errors import InputError
from tipcausal.study.config import build_study
from tipcausal.sweeps.definition import parse_sweep, plan_sweep
from tipcausal.sweeps.runner import run_sweep

DATA = {"kind": "simulated", "seed": 7, "n_countries": 40}


def _study(tmp_path, **sweep):
    return build_study("default", data=DATA, sweep=sweep, output={"dir": str(tmp_path / "out")})


@pytest.fixture(scope="module")
def prepared():
    from tipcausal.study.runner import prepare

    return prepare(build_study("default", data=DATA))


@pytest.mark.parametrize("sweep, message", [
    ({"bogus": [1]}, "[sweep] has unknown key(s) bogus"),
    ({"likelihood": ["binary_logit:7"]}, "the threshold after ':' must be 2, 3, 4 or 5"),
    ({"likelihood": "cumulative_probit"}, "[sweep] likelihood must be a non-empty list"),
    ({"pooling": ["partial", "partial"]}, "lists a value twice"),
    ({"priors": ["tight"]}, "'tight' is neither 'default' nor a [sweep.prior_sets.tight] table"),
    ({"years": [[2013, 2000]]}, "values must be 'all' or [first, last] years"),
    ({"outcomes": ["corruption"]}, "corruption not among the study's outcomes"),
    ({"exclude": [{"colour": "red"}]}, "[sweep] exclude #1 must be a table of choice"),
    ({"sampler": {"draws": 0}}, "[sweep.sampler]: sampler setting draws must be an integer >= 1"),
    ({"dag": ["no_such_dag"]}, "no_such_dag"),
])
def test_bad_sweep_tables_are_refused_naming_the_key(tmp_path, sweep, message):
    with pytest.raises(InputError) as err:
        parse_sweep(_study(tmp_path, **sweep))
    assert message in str(err.value)


def test_no_sweep_table_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"no \[sweep\] table"):
        parse_sweep(build_study(None, causal={"dag": "default", "treatment": "cso_consultation",
                                              "outcomes": ["prosecution"], "adjustment": ["region"]}, data=DATA))


def test_sample_restrictions_outside_the_panel_are_bad_input(tmp_path, prepared):
    with pytest.raises(InputError, match=r"\[sweep\] leave_out: region:Atlantis: the panel .* has no region"):
        plan_sweep(_study(tmp_path, leave_out=["none", "region:Atlantis"]), prepared)
    with pytest.raises(InputError, match=r"\[sweep\] years: 1950-1960 is outside the panel's years"):
        plan_sweep(_study(tmp_path, years=[[1950, 1960]]), prepared)


def test_factorial_minus_exclusions_with_invalid_combinations_listed(tmp_path, prepared):
    study = _study(tmp_path, likelihood=["cumulative_logit", "cumulative_probit", "binary_logit"],
                   year_effects=["random", "none"], dag=["default", "treaties"], lagged_treatment=[False, True],
                   measurement_error=["none", 0.3],
                   exclude=[{"likelihood": "binary_logit", "year_effects": "none"}])
    plan = plan_sweep(study, prepared)
    # 3 x 2 x 2 x 2 x 2 = 48 combinations; the rule removes binary + no year effects: 2 x 2 x 2 = 8
    assert plan.excluded == 8
    assert len(plan.points) + len(plan.invalid) == 40
    reasons = {b.reason for b in plan.invalid}
    # the treaties DAG adjusts for years since Palermo, which the simulated panel lacks
    assert any("no column(s) years_since_palermo" in r and "treaties" in r for r in reasons)
    # measurement error cannot be combined with a lagged treatment (ModelSpec's own check)
    assert any("measurement_error and lagged_treatment cannot be combined" in r for r in reasons)
    assert len(plan.invalid) == 20 + 5  # every treaties combination, and the 5 default-DAG ME + lag ones
    assert len(plan.points) == 15
    labels = [p.label for p in plan.points]
    assert labels[0] == "primary" and len(set(labels)) == len(labels)
    assert {p.choices["likelihood"] for p in plan.points} == {"cumulative_logit", "cumulative_probit",
                                                             "binary_logit:4"}
    binary = next(p for p in plan.points if p.choices["likelihood"] == "binary_logit:4")
    assert all(t.spec.likelihood == "binary_logit" and t.spec.collapse_threshold == 4 for t in binary.tasks)
    assert len(plan.tasks) == 15 * 3


def test_invalid_specifications_are_refused_before_anything_runs(tmp_path):
    study = _study(tmp_path, dag=["default", "treaties"])
    with pytest.raises(InputError) as err:
        run_sweep(study, store=str(tmp_path / "store"))
    text = str(err.value)
    assert "1 specification(s) cannot be fitted" in text and "dag=treaties" in text and "--skip-invalid" in text
    assert not (tmp_path / "out").exists() and not (tmp_path / "store").exists()


def test_seeds_derive_from_content_not_position(tmp_path, prepared):
    forward = plan_sweep(_study(tmp_path, likelihood=["cumulative_logit", "cumulative_probit"],
                                year_effects=["random", "none"], seed=5), prepared)
    backward = plan_sweep(_study(tmp_path, likelihood=["cumulative_probit", "cumulative_logit"],
                                 year_effects=["none", "random"], seed=5), prepared)
    seeds = {(p.label, t.outcome): (t.settings.seed, t.key) for p in forward.points for t in p.tasks}
    assert [p.label for p in forward.points] != [p.label for p in backward.points]
    assert seeds == {(p.label, t.outcome): (t.settings.seed, t.key) for p in backward.points for t in p.tasks}
    assert len({s for s, _ in seeds.values()}) == len(seeds)  # every fit its own seed
    other = plan_sweep(_study(tmp_path, likelihood=["cumulative_logit", "cumulative_probit"],
                              year_effects=["random", "none"], seed=6), prepared)
    assert all(t.settings.seed != seeds[(p.label, t.outcome)][0] for p in other.points for t in p.tasks)


def test_named_prior_sets_and_restrictions_reach_the_specs(tmp_path, prepared):
    tight = {"slope_sd": {"dist": "HalfNormal", "params": {"sigma": 0.2}}}
    plan = plan_sweep(_study(tmp_path, priors=["default", "tight"], prior_sets={"tight": tight},
                             years=["all", [2005, 2013]], leave_out=["none", "region:MENA"],
                             outcomes=["protection"]), prepared)
    assert len(plan.points) == 8 and not plan.invalid
    by = {(p.choices["priors"], p.choices["years"], p.choices["leave_out"]): p.tasks[0] for p in plan.points}
    base, restricted = by[("default", "all", "none")], by[("tight", "2005-2013", "region:MENA")]
    assert restricted.spec.priors["slope_sd"].params == {"sigma": 0.2}
    assert base.spec.priors["slope_sd"] != restricted.spec.priors["slope_sd"]
    frame = restricted.panel.frame
    assert frame["year"].between(2005, 2013).all() and "MENA" not in set(frame["region"])
    assert restricted.panel.hash != base.panel.hash and base.panel.hash == prepared.panel.hash
    with pytest.raises(InputError, match=r"\[sweep.prior_sets.bad\]: unknown prior name\(s\) nope"):
        parse_sweep(_study(tmp_path, priors=["bad"], prior_sets={"bad": {"nope": tight["slope_sd"]}}))


@pytest.mark.parametrize("how", ["shift", "permute"])
def test_null_refits_move_consultation_within_country_on_one_panel_per_replicate(tmp_path, prepared, how):
    from tipcausal.sweeps.definition import null_panel, null_tasks

    frame = prepared.panel.frame.copy()
    frame.loc[frame.index[::17], "v2cscnsult"] = float("nan")  # some missing values: they stay where they are
    panel = replace(prepared.panel, frame=frame, hash="")
    moved = null_panel(panel, "v2cscnsult", seed=3, how=how)
    new = moved.frame
    assert new["v2cscnsult"].isna().equals(frame["v2cscnsult"].isna())
    mean = lambda f: f.groupby("country")["v2cscnsult"].mean()  # noqa: E731
    assert np.allclose(mean(new), mean(frame))  # country means kept: only the within variation is scrambled
    assert not np.allclose(new["v2cscnsult"].fillna(0), frame["v2cscnsult"].fillna(0))
    assert new.drop(columns=["v2cscnsult"]).equals(frame.drop(columns=["v2cscnsult"]))
    if how == "shift":  # each country's observed series, in year order, is a rotation of its own
        series = lambda f: {c: g.sort_values("year")["v2cscnsult"].dropna().to_numpy()  # noqa: E731
                            for c, g in f.groupby("country")}
        old, rotated = series(frame), series(new)
        assert all(any(np.array_equal(np.roll(old[c], k), rotated[c]) for k in range(len(old[c])))
                   for c in old)
    # the within-country association with the outcome is gone (it is not in the original panel)
    within = lambda f: np.corrcoef(f["v2cscnsult"] - f.groupby("country")["v2cscnsult"].transform("mean"),  # noqa
                                   f["protection"] - f.groupby("country")["protection"].transform("mean"))[0, 1]
    full = prepared.panel.frame
    shuffled = [within(null_panel(prepared.panel, "v2cscnsult", seed=s, how=how).frame) for s in range(20)]
    assert abs(np.mean(shuffled)) < 3 * np.std(shuffled) / np.sqrt(20) + 0.01 and within(full) > np.max(shuffled)

    study = _study(tmp_path, likelihood=["cumulative_logit", "cumulative_probit"], years=["all", [2005, 2013]],
                   outcomes=["protection"], null={"count": 2, "method": how})
    plan = plan_sweep(study, prepared)
    rep1, rep2 = null_tasks(plan, prepared.panel, 1), null_tasks(plan, prepared.panel, 2)
    assert [t.spec_id for t in rep1] == [t.spec_id for t in plan.tasks]
    assert [t.spec.hash for t in rep1] == [t.spec.hash for t in plan.tasks]
    full1 = {t.panel.hash for t, p in zip(rep1, plan.tasks) if p.panel.hash == prepared.panel.hash}
    assert len(full1) == 1  # one permuted panel per replicate, shared by the specifications on all years
    keys = {t.key for t in plan.tasks} | {t.key for t in rep1} | {t.key for t in rep2}
    assert len(keys) == 3 * len(plan.tasks)
    assert null_tasks(plan, prepared.panel, 1)[0].key == rep1[0].key  # content-derived: the same again
    restricted = next(t for t in rep1 if t.panel.hash not in full1)
    assert restricted.panel.frame["year"].between(2005, 2013).all()


def test_specifications_that_are_the_same_model_share_one_fit_and_keep_their_rows(tmp_path, prepared):
    from tipcausal.sweeps.runner import _table, dry_run
    from tipcausal.sweeps.task import FitResult, empty_row

    # "auto" under the study's own DAG is the study's adjustment set: two choices, one model
    study = _study(tmp_path, adjustment=["study", "auto"], outcomes=["protection"])
    plan = plan_sweep(study, prepared)
    a, b = plan.points
    assert a.spec_id != b.spec_id and a.tasks[0].key == b.tasks[0].key
    dry = dry_run(study, store=str(tmp_path / "store"))
    assert dry.shared == 1 and dry.stored == 0
    text = dry.describe()
    assert "(1 the same model as another specification's, fitted once)" in text
    assert "estimated time for the 1 missing fit(s)" in text
    # the one fit (run under a's id) fills both rows, each under its own specification's id and choices
    results = {a.tasks[0].key: FitResult(row=empty_row(a.tasks[0], "error", "boom"), reused=False, seconds=0.0,
                                         worker="")}
    frame, _ = _table(plan, results)
    assert list(frame["spec_id"]) == [a.spec_id, b.spec_id]
    assert list(frame["adjustment"]) == ["study", "auto"]
