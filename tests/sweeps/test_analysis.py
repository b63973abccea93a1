"""Sweep inference on synthetic sweep tables of known structure: decision importance (type-II ANOVA and its
one-way fallback), the joint summary and its null p-values against hand-computed values, and stacking weights
(dominance, row-set groups, row order, and ArviZ's own route from real log-likelihood groups).

``synthetic_sweep`` (also used by test_curve.py and test_page.py) builds a full sweep table with
``tipcausal.sweeps.table.sweep_frame``; no sampling anywhere."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from tipcausal.sweeps.analysis import _elpd_data, decision_importance, joint_summary, stacking_weights
from tipcausal.sweeps.table import ROW_COLUMNS, STATS, sweep_frame

OUTCOMES = ("prosecution", "protection", "prevention")
LEVELS = {"dag": ["default", "no_media"], "likelihood": ["cumulative_logit", "cumulative_probit", "binary_logit"],
          "pooling": ["partial", "complete"], "years": ["2000-2013", "2005-2013"]}
Z90, Z50 = stats.norm.ppf(0.95), stats.norm.ppf(0.75)


def _stats(mean: float, sd: float) -> dict[str, float]:
    """Normal posterior summaries of an effect."""
    return {"mean": mean, "median": mean, "q05": mean - Z90 * sd, "q25": mean - Z50 * sd, "q75": mean + Z50 * sd,
            "q95": mean + Z90 * sd, "p_positive": float(stats.norm.cdf(mean / sd))}


def synthetic_sweep(levels: Mapping[str, Sequence[str]] = LEVELS, outcomes: Sequence[str] = OUTCOMES, *,
                    shifts: Mapping[tuple[str, str], float] | None = None, base: float = 0.03, sd: float = 0.015,
                    noise: float = 0.004, failed: Sequence[int] = (), errors: Sequence[int] = (),
                    constant: Mapping[str, str] | None = None, seed: int = 0,
                    reasons: Mapping[int, str] | None = None) -> pd.DataFrame:
    """A sweep table: the full factorial of ``levels`` (the first level of each is the primary model's) for each
    outcome, every column filled. ``pge_median`` = ``base`` + the ``shifts`` of the specification's choices +
    N(0, ``noise``) (seeded); ``es`` is 20 times that, NaN for binary likelihoods. Specification numbers in
    ``failed`` fail the gate (numbers kept), those in ``errors`` raised (numbers NaN); ``reasons`` overrides their
    reason text. ``constant``: choices the sweep sets but does not vary."""
    rng = np.random.default_rng(seed)
    shifts = shifts or {}
    constant = dict(constant or {"priors": "default"})
    names = [*levels, *constant]
    choices = tuple(names)
    rows: list[dict[str, Any]] = []
    for k, combo in enumerate(itertools.product(*levels.values())):
        chosen = {**dict(zip(levels, combo)), **constant}
        key = ",".join(f"{c}={chosen[c]}" for c in names)
        spec_id = hashlib.sha1(key.encode()).hexdigest()[:12]
        label = ", ".join(f"{c}={v}" for c, v in zip(levels, combo) if v != levels[c][0]) or "primary"
        binary = chosen.get("likelihood") == "binary_logit"
        first, last = (int(y) for y in str(chosen.get("years", "2000-2013")).split("-"))
        for o in outcomes:
            status = "error" if k in errors else "gate_failed" if k in failed else "ok"
            reason = (reasons or {}).get(k, {"ok": "", "gate_failed": "R-hat 1.06 > 1.01; 4 divergences",
                                              "error": "ValueError: cutpoints not ordered"}[status])
            centre = base + sum(shifts.get((c, v), 0.0) for c, v in chosen.items()) + rng.normal(0, noise)
            pge, es, slope = _stats(centre, sd), _stats(20 * centre, 20 * sd), _stats(8 * centre, 8 * sd)
            row: dict[str, Any] = {
                "spec_id": spec_id, "spec_label": label, **chosen, "outcome": o, "status": status, "reasons": reason,
                "n_obs": 150 * (last - first + 1) - 7, "n_countries": 150,
                **{f"es_{s}": (np.nan if binary else es[s]) for s in STATS}, "pge_threshold": 4.0,
                **{f"pge_{s}": pge[s] for s in STATS}, **{f"slope_{s}": slope[s] for s in STATS},
                "elpd_loo": np.nan if binary else -1500.0 + rng.normal(0, 10), "elpd_se": np.nan if binary else 30.0,
                "pareto_k_max": np.nan if binary else 0.45, "max_rhat": 1.06 if status == "gate_failed" else 1.003,
                "min_ess_bulk": 150.0 if status == "gate_failed" else 900.0,
                "divergences": 4 if status == "gate_failed" else 0, "seed": 1000 + k,
                "store_key": hashlib.sha1(f"{key}|{o}".encode()).hexdigest()[:16]}
            if status == "error":
                for c in row:
                    if c.startswith(("es_", "pge_", "slope_", "elpd", "pareto", "max_", "min_")) or c in (
                            "n_obs", "n_countries", "divergences"):
                        row[c] = np.nan
            rows.append(row)
    return sweep_frame(rows, choices)


def _one(frame: pd.DataFrame, outcome: str = "prosecution") -> pd.DataFrame:
    return frame[frame["outcome"] == outcome]


def test_synthetic_sweep_fills_every_column():
    frame = synthetic_sweep(failed=[1], errors=[2])
    assert list(frame.columns[:2]) == ["spec_id", "spec_label"]
    assert set(ROW_COLUMNS) <= set(frame.columns)
    ok = frame[frame["status"] == "ok"]
    assert not ok.drop(columns=[c for c in frame if c.startswith(("es_", "elpd", "pareto"))]).isna().any().any()
    assert frame["spec_id"].str.len().eq(12).all() and frame.groupby("outcome").size().eq(24).all()


# --------------------------------------------------------------------------------------------------------------
# decision importance


def _factorial(seed: int = 3, noise: float = 0.002) -> pd.DataFrame:
    levels = {"likelihood": ["cumulative_logit", "cumulative_probit", "binary_logit"],
              "pooling": ["partial", "complete"], "years": ["2000-2013", "2005-2013"]}
    shifts = {("likelihood", "cumulative_probit"): 0.05, ("likelihood", "binary_logit"): 0.10}
    return _one(synthetic_sweep(levels, ("prosecution",), shifts=shifts, noise=noise, seed=seed))


def _eta_squared(y: np.ndarray, groups: np.ndarray) -> float:
    """One-way eta-squared by hand: between-group over total sum of squares."""
    between = sum(np.sum(groups == g) * (y[groups == g].mean() - y.mean()) ** 2 for g in np.unique(groups))
    return float(between / np.sum((y - y.mean()) ** 2))


def test_importance_finds_the_choice_that_moves_the_curve():
    frame = _factorial()
    imp = decision_importance(frame, ["likelihood", "pooling", "years", "priors"])
    assert list(imp.columns) == ["choice", "df", "sum_sq", "share", "method"]
    assert imp["choice"].tolist()[0] == "likelihood" and imp["choice"].tolist()[-1] == "residual"
    assert "priors" not in imp["choice"].tolist()  # set but not varied
    share = imp.set_index("choice")["share"]
    assert share["likelihood"] > 0.9 and share["pooling"] < 0.05 and share["years"] < 0.05
    assert imp.set_index("choice").loc["likelihood", "df"] == 2 and imp.set_index("choice").loc["residual", "df"] == 7
    # a balanced factorial: type-II sums of squares are the one-way ones, and with the residual they add up
    y = frame["pge_median"].to_numpy()
    assert share["likelihood"] == pytest.approx(_eta_squared(y, frame["likelihood"].to_numpy()), rel=1e-9)
    assert share.sum() == pytest.approx(1.0, rel=1e-9)
    assert (imp["method"] == "type-II ANOVA of the additive model").all()
    assert imp["share"].iloc[:-1].is_monotonic_decreasing


def test_importance_uses_only_ok_rows():
    frame = _factorial()
    spoiled = frame.copy()
    spoiled.loc[spoiled.index[:3], "status"] = "gate_failed"
    spoiled.loc[spoiled.index[:3], "pge_median"] = [5.0, -5.0, 9.0]  # would dominate the variance if used
    expected = decision_importance(frame.iloc[3:], ["likelihood", "pooling", "years"])
    pd.testing.assert_frame_equal(decision_importance(spoiled, ["likelihood", "pooling", "years"]), expected)


def test_importance_falls_back_to_eta_squared_without_residual_df():
    # one-at-a-time: the primary and one change per choice, 3 rows for 3 parameters
    f = _factorial()
    f = f[f["years"] == "2000-2013"]
    frame = pd.concat([f[(f["likelihood"] == lik) & (f["pooling"] == pool)] for lik, pool in
                       [("cumulative_logit", "partial"), ("cumulative_probit", "partial"),
                        ("cumulative_logit", "complete")]])
    frame["pge_median"] = [0.01, 0.07, 0.02]
    imp = decision_importance(frame, ["likelihood", "pooling"]).set_index("choice")
    assert imp["method"].str.contains("one-way eta-squared").all()
    assert imp["method"].str.contains("no residual degrees of freedom").all()
    y = np.array([0.01, 0.07, 0.02])
    total = np.sum((y - y.mean()) ** 2)
    assert imp.loc["likelihood", "share"] == pytest.approx(
        (2 * (0.015 - y.mean()) ** 2 + (0.07 - y.mean()) ** 2) / total)
    assert imp.loc["pooling", "share"] == pytest.approx(
        (2 * (0.04 - y.mean()) ** 2 + (0.02 - y.mean()) ** 2) / total)
    assert np.isnan(imp.loc["residual", "share"])


def test_importance_falls_back_when_choices_are_confounded():
    frame = _factorial()
    frame = frame.assign(dag=np.where(frame["pooling"] == "partial", "default", "no_media"))  # dag == pooling
    imp = decision_importance(frame, ["likelihood", "pooling", "dag"]).set_index("choice")
    assert imp["method"].str.contains("singular design").all()
    assert imp.loc["dag", "share"] == pytest.approx(imp.loc["pooling", "share"])


def test_importance_empty_cases():
    frame = _factorial()
    for f in (frame.iloc[:1], frame.assign(status="gate_failed")):
        imp = decision_importance(f, ["likelihood"])
        assert imp.empty and list(imp.columns) == ["choice", "df", "sum_sq", "share", "method"]
    assert decision_importance(frame, ["priors"]).empty
    with pytest.raises(ValueError, match="one outcome"):
        decision_importance(synthetic_sweep(), ["likelihood"])


# --------------------------------------------------------------------------------------------------------------
# joint summary


def _small(medians: Sequence[float], ps: Sequence[float], status: Sequence[str] | None = None,
           rep: int | None = None) -> pd.DataFrame:
    frame = synthetic_sweep({"years": [f"{2000 + i}-2013" for i in range(len(medians))]}, ("prosecution",))
    frame = frame.assign(pge_median=list(medians), pge_p_positive=list(ps),
                         status=list(status or ["ok"] * len(medians)))
    return frame if rep is None else frame.assign(null_rep=rep)


OBSERVED = ([0.04, 0.02, 0.01, 0.05, 9.0], [0.99, 0.97, 0.5, 0.99999, 0.0], ["ok"] * 4 + ["gate_failed"])
# the null's reps (medians, P(effect > 0)): their medians 0.035, 0.0, 0.01, -0.02 against the observed 0.03
NULL = [([0.03, 0.04, 0.05, 0.01], [0.99, 0.99, 0.99, 0.99]),
        ([0.0, 0.0, 0.01, -0.01], [0.96, 0.97, 0.98, 0.5]),
        ([0.01, 0.01, 0.01, 0.01], [0.5, 0.5, 0.5, 0.5]),
        ([-0.02, -0.02, -0.02, -0.02], [0.2, 0.3, 0.96, 0.1])]


def _null(flip: bool = False) -> pd.DataFrame:
    reps = [_small([-m for m in med] if flip else med, [1 - p for p in ps] if flip else ps, rep=r)
            for r, (med, ps) in enumerate(NULL)]
    failed = _small([50.0], [1.0], ["error"], rep=2)  # an error row inside a rep is ignored
    return pd.concat([*reps, failed], ignore_index=True)


def test_joint_summary_matches_hand_computed_values():
    s = joint_summary(_small(*OBSERVED))
    assert (s["n_specs"], s["n_failed"], s["n_no_estimate"]) == (4, 1, 0)
    assert s["median_effect"] == pytest.approx(0.03)
    assert s["share_positive"] == pytest.approx(0.75) and s["share_negative"] == 0.0
    # Phi^-1(0.99) + Phi^-1(0.97) + Phi^-1(0.5) + Phi^-1(0.9999: clipped) over sqrt(4)
    assert s["stouffer_z"] == pytest.approx((2.326348 + 1.880794 + 0.0 + 3.719016) / 2, abs=1e-5)
    assert s["null_reps"] == 0 and s["p_median"] is None and s["p_share"] is None and s["p_stouffer"] is None
    assert "not computed" in s["note"]


def test_joint_summary_null_p_values():
    s = joint_summary(_small(*OBSERVED), null=_null())
    assert s["null_reps"] == 4 and s["direction"] == "positive"
    # medians >= 0.03: rep 0 (0.035) only
    assert s["p_median"] == pytest.approx((1 + 1) / (1 + 4))
    # shares with P > 0.95 >= 0.75: rep 0 (1.0) and rep 1 (0.75, a tie counts)
    assert s["p_share"] == pytest.approx((1 + 2) / (1 + 4))
    # Z >= 3.963: rep 0 (4 * 2.326 / 2 = 4.65) only; rep 1 is (1.751 + 1.881 + 2.054 + 0) / 2 = 2.84
    assert s["p_stouffer"] == pytest.approx((1 + 1) / (1 + 4))
    assert "4 refits" in s["note"]


def test_joint_summary_null_direction_follows_the_observed_sign():
    med, ps, status = OBSERVED
    s = joint_summary(_small([-m for m in med], [1 - p for p in ps], status), null=_null(flip=True))
    assert s["direction"] == "negative" and s["median_effect"] == pytest.approx(-0.03)
    assert s["share_negative"] == pytest.approx(0.75) and s["stouffer_z"] < 0
    assert (s["p_median"], s["p_share"], s["p_stouffer"]) == pytest.approx((2 / 5, 3 / 5, 2 / 5))
    # the unflipped null against the negative observation: no rep is as extreme in the negative direction
    s = joint_summary(_small([-m for m in med], [1 - p for p in ps], status), null=_null())
    assert (s["p_median"], s["p_share"], s["p_stouffer"]) == pytest.approx((1 / 5, 1 / 5, 1 / 5))


def test_joint_summary_es_leaves_out_binary_specifications():
    frame = _one(synthetic_sweep(failed=[0]))
    s = joint_summary(frame, family="es")
    ok = frame[frame["status"] == "ok"]
    has_es = ok["es_median"].notna()
    assert s["n_specs"] == has_es.sum() and s["n_no_estimate"] == (~has_es).sum() > 0 and s["n_failed"] == 1
    assert s["median_effect"] == pytest.approx(ok.loc[has_es, "es_median"].median())


# --------------------------------------------------------------------------------------------------------------
# stacking


def _rows(n: int, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"country": [f"C{(i + offset) // 10:02d}" for i in range(n)],
                         "year": [2000 + (i + offset) % 10 for i in range(n)]})


def _pointwise(seed: int, n: int = 60) -> np.ndarray:
    return np.random.default_rng(seed).normal(-1.2, 0.3, n)


def test_stacking_prefers_a_model_better_everywhere():
    base = _pointwise(1)
    out = stacking_weights({"a": (_rows(60), base + 0.5), "b": (_rows(60), base)},
                           {"a": (0.04, 0.99), "b": (0.01, 0.6)})
    assert out["weights"]["a"] > 0.99 and sum(out["weights"].values()) == pytest.approx(1.0)
    assert out["n_rows"] == 60 and out["excluded"] == {}
    w = out["weights"]
    assert out["stacked_mean"] == pytest.approx(w["a"] * 0.04 + w["b"] * 0.01)
    assert out["stacked_p_positive"] == pytest.approx(w["a"] * 0.99 + w["b"] * 0.6)


def test_stacking_is_insensitive_to_row_order():
    rng = np.random.default_rng(5)
    a, b, c = _pointwise(1), _pointwise(2), _pointwise(3)
    effects = {"a": (0.1, 0.9), "b": (0.2, 0.8), "c": (0.3, 0.7)}
    plain = stacking_weights({"a": (_rows(60), a), "b": (_rows(60), b), "c": (_rows(60), c)}, effects)
    perm = rng.permutation(60)
    shuffled = stacking_weights({"a": (_rows(60), a), "b": (_rows(60).iloc[perm], b[perm]), "c": (_rows(60), c)},
                                effects)
    assert shuffled["weights"] == pytest.approx(plain["weights"], abs=1e-6)
    assert sum(plain["weights"].values()) == pytest.approx(1.0)
    # b's values scrambled against its rows change the answer: the alignment matters
    wrong = stacking_weights({"a": (_rows(60), a), "b": (_rows(60).iloc[perm], b), "c": (_rows(60), c)}, effects)
    assert wrong["weights"] != pytest.approx(plain["weights"], abs=1e-3)


def test_stacking_weights_only_the_largest_group_of_row_sets():
    base = _pointwise(1)
    pointwise = {"short": (_rows(50), base[:50] + 5.0),  # best by far, but on other country-years
                 "a": (_rows(60), base + 0.2), "b": (_rows(60), base)}
    out = stacking_weights(pointwise, {"short": (1.0, 1.0), "a": (0.04, 0.99), "b": (0.01, 0.6)})
    assert set(out["weights"]) == {"a", "b"} and out["n_rows"] == 60
    assert "other country-years" in out["excluded"]["short"] and "50 rows" in out["excluded"]["short"]
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    # a tie of groups: the one holding the first spec given
    tie = stacking_weights({"x": (_rows(60, offset=5), base), "y": (_rows(60), base + 1)},
                           {"x": (0.1, 0.9), "y": (0.2, 0.8)})
    assert tie["weights"] == {"x": 1.0} and list(tie["excluded"]) == ["y"]
    assert tie["stacked_mean"] == pytest.approx(0.1) and tie["stacked_p_positive"] == pytest.approx(0.9)


def test_stacking_edge_cases():
    empty = stacking_weights({}, {})
    assert empty["weights"] == {} and empty["stacked_mean"] is None and empty["n_rows"] == 0
    one = stacking_weights({"a": (_rows(10), _pointwise(1, 10))}, {"a": (0.05, 0.97)})
    assert one["weights"] == {"a": 1.0} and one["stacked_mean"] == pytest.approx(0.05)
    bad = stacking_weights({"a": (_rows(10), _pointwise(1, 9)), "b": (_rows(10), _pointwise(2, 10)),
                            "c": (_rows(10), _pointwise(3, 10))}, {"b": (0.0, 0.5)})
    assert set(bad["excluded"]) == {"a", "c"} and bad["weights"] == {"b": 1.0}


def _normal_idata(y: np.ndarray, mu: float, sigma: float, seed: int) -> az.InferenceData:
    """Posterior draws of a normal mean (known sigma) around ``mu`` and their log-likelihood of ``y``."""
    rng = np.random.default_rng(seed)
    draws = rng.normal(mu, sigma / np.sqrt(y.size), (2, 300))
    ll = stats.norm.logpdf(y[None, None, :], draws[..., None], sigma)
    return az.InferenceData(posterior=xr.Dataset({"mu": (("chain", "draw"), draws)}),
                            log_likelihood=xr.Dataset({"y": (("chain", "draw", "obs"), ll)}))


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside arviz.compare, on pandas 3
def test_stacking_agrees_with_arviz_on_real_log_likelihoods():
    y = np.random.default_rng(11).normal(0.2, 1.0, 80)
    idatas = {"right": _normal_idata(y, y.mean(), 1.0, 1), "shifted": _normal_idata(y, y.mean() + 0.4, 1.0, 2),
              "wide": _normal_idata(y, y.mean(), 1.6, 3), "narrow": _normal_idata(y, y.mean() - 0.1, 0.8, 4)}
    loos = {k: az.loo(v, pointwise=True) for k, v in idatas.items()}
    for loo in loos.values():  # the hand-built ELPDData carries az.loo's numbers
        mine = _elpd_data(np.asarray(loo.loo_i))
        assert mine["elpd_loo"] == pytest.approx(loo.elpd_loo) and mine["se"] == pytest.approx(loo.se)
    expected = az.compare(idatas, method="stacking")["weight"]
    rows = _rows(80)
    perm = np.random.default_rng(2).permutation(80)
    out = stacking_weights({k: (rows.iloc[perm], np.asarray(loos[k].loo_i)[perm]) for k in idatas},
                           {k: (0.0, 0.5) for k in idatas})
    for k in idatas:
        assert out["weights"][k] == pytest.approx(float(expected[k]), abs=1e-6)
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    assert 0.05 < max(out["weights"].values()) < 0.999  # a real mixture, not a trivial one-model answer
