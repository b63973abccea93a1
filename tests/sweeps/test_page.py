"""The sweep page: one section per outcome, headline sentences that say what ``joint_summary`` and
``decision_importance`` computed, figures embedded as PNG data URIs (no external assets), the null's p-values,
stacking where pointwise elpd was given, failed specifications with their (escaped) reasons, the full table and
the provenance."""

from __future__ import annotations

import base64
import html
import re

import numpy as np
import pandas as pd
import pytest

from test_analysis import OUTCOMES, synthetic_sweep
from tipcausal.sweeps.analysis import decision_importance, joint_summary, stacking_weights
from tipcausal.sweeps.page import render_sweep_page

LEVELS = {"likelihood": ["cumulative_logit", "cumulative_probit", "binary_logit"],
          "pooling": ["partial", "complete"], "years": ["2000-2013", "2005-2013"]}
CHOICES = ("likelihood", "pooling", "years", "priors")
SHIFTS = {("likelihood", "cumulative_probit"): 0.03, ("years", "2005-2013"): -0.012}
EVIL = "ValueError: <b>cutpoints</b> not ordered & nan"
META = {"title": "Consultation sweep <test>", "seed": 20241122, "data_hash": "d41d8cd98f00",
        "dag_hashes": {"default": "aa11", "no_media": "bb22"}, "sampler": {"chains": 4, "draws": 1000},
        "versions": {"tipcausal": "0.1.0"}, "store": "models/", "wall_time_s": 812.5}


def _frame() -> pd.DataFrame:
    return synthetic_sweep(LEVELS, OUTCOMES, shifts=SHIFTS, failed=[3], errors=[6], reasons={6: EVIL}, seed=8)


def _nulls() -> pd.DataFrame:
    reps = [synthetic_sweep(LEVELS, OUTCOMES, base=0.0, noise=0.01, seed=100 + r).assign(null_rep=r)
            for r in range(9)]
    return pd.concat(reps, ignore_index=True)


def _pointwise(frame: pd.DataFrame) -> dict:
    """Pointwise elpd for prosecution's specifications: ordinal ones on one row set (the first better), plus a
    binary one (not comparable) and the gate failure (not in inference)."""
    rows = frame[frame["outcome"] == "prosecution"].reset_index(drop=True)
    obs = pd.DataFrame({"country": [f"C{i // 8}" for i in range(40)], "year": [2000 + i % 8 for i in range(40)]})
    base = np.random.default_rng(3).normal(-1.1, 0.4, 40)
    out = {}
    for k, r in rows.iterrows():
        if r["status"] == "error":
            continue
        out[(r["spec_id"], "prosecution")] = (obs, base + (0.3 if k == 0 else 0.02 * k))
    return out


@pytest.fixture(scope="module")
def page():
    frame, nulls = _frame(), _nulls()
    pointwise = _pointwise(frame)
    return frame, nulls, pointwise, render_sweep_page(frame, CHOICES, OUTCOMES, META, nulls=nulls,
                                                      pointwise=pointwise)


def _section(text: str, outcome: str) -> str:
    start = text.index(f'<section id="outcome-{outcome}">')
    return text[start:text.index("</section>", start)]


def _sentence(text: str, outcome: str) -> str:
    m = re.search(rf'<p class="sentence" id="sentence-{outcome}">(.*?)</p>', text, re.S)
    assert m, outcome
    return html.unescape(m.group(1))


def test_page_has_every_outcome_and_the_title(page):
    frame, _, _, text = page
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>Consultation sweep &lt;test&gt;</title>" in text
    for o in OUTCOMES:
        assert f'<section id="outcome-{o}">' in text and f'href="#outcome-{o}"' in text
        assert f"<h2>{o.capitalize()}</h2>" in _section(text, o)
    # the headline comes before the first section: the first screen
    assert text.index('id="headline"') < text.index("<section")


def test_headline_numbers_match_the_analysis(page):
    frame, nulls, _, text = page
    for o in OUTCOMES:
        rows = frame[frame["outcome"] == o]
        s = joint_summary(rows, "pge", nulls[nulls["outcome"] == o])
        imp = decision_importance(rows, CHOICES)
        sentence = _sentence(text, o)
        n_ok = int((rows["status"] == "ok").sum())
        assert sentence.startswith(f"{o.capitalize()}: {n_ok} of {len(rows)} specifications passed the "
                                   "diagnostics gate")
        assert (n_ok, len(rows)) == (10, 12)
        assert f"the median effect on P(score >= 4) is {s['median_effect']:+.3f}" in sentence
        k = s["n_specs"]
        assert f"{round(s['share_positive'] * k)} of {k} have P(effect > 0) > 0.95" in sentence
        first, second = imp["choice"].iloc[0], imp["choice"].iloc[1]
        assert first == "likelihood"  # the choice with the big shift
        assert (f"the choices that move the estimate most are {first} ({imp['share'].iloc[0]:.0%} of the curve's "
                f"variance) and {second} ({imp['share'].iloc[1]:.0%})") in sentence
        assert f"against {s['null_reps']} refits without the effect, p = {s['p_median']:.3f}" in sentence
        assert s["null_reps"] == 9 and s["p_median"] == pytest.approx(0.1)  # larger than every null median


def test_figures_are_embedded_png_data_uris(page):
    _, _, _, text = page
    uris = re.findall(r'<img src="(data:image/png;base64,[^"]+)"', text)
    # per outcome: the pge curve, the es curve (ordinal rows have es) and the importance figure
    assert len(uris) == 3 * len(OUTCOMES)
    for uri in uris:
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(https?:)?//', text) and "<link" not in text and "<script" not in text


def test_joint_summary_tables_show_the_null(page):
    frame, nulls, _, text = page
    section = _section(text, "protection")
    rows = frame[frame["outcome"] == "protection"]
    for family in ("pge", "es"):
        s = joint_summary(rows, family, nulls[nulls["outcome"] == "protection"])
        assert f"{s['median_effect']:+.3f}" in section and f"{s['p_share']:.3f}" in section
    assert "9 refits on data with the effect removed" in section and "not computed" not in section


def test_page_without_null_or_pointwise_says_so():
    frame = _frame()
    text = render_sweep_page(frame[frame["outcome"] == "prevention"], CHOICES, ["prevention"], {"title": "t"})
    assert "the null distribution was not computed" in text
    assert 'class="stacking"' not in text and "No provenance was recorded." in text
    assert "refits without the effect" not in _sentence(text, "prevention")


def test_stacking_only_where_pointwise_was_given(page):
    frame, _, pointwise, text = page
    assert text.count('<table class="stacking">') == 1
    section = _section(text, "prosecution")
    assert '<table class="stacking">' in section
    rows = frame[frame["outcome"] == "prosecution"].set_index("spec_id")
    usable = {sid: v for (sid, _), v in pointwise.items()
              if rows.loc[sid, "status"] == "ok" and np.isfinite(rows.loc[sid, "elpd_loo"])}
    expected = stacking_weights(usable, {sid: (rows.loc[sid, "pge_mean"], rows.loc[sid, "pge_p_positive"])
                                         for sid in usable})
    assert len(expected["weights"]) == 6  # the ordinal specifications in inference
    assert f"{expected['stacked_mean']:+.3f}" in section and f"{expected['stacked_p_positive']:.3f}" in section
    assert "LOO not comparable (binary specification)" in section
    assert "status gate_failed (not in inference)" in section


def test_failed_specifications_are_listed_with_escaped_reasons(page):
    frame, _, _, text = page
    section = _section(text, "protection")
    table = section[section.index('<table class="failed">'):]
    table = table[:table.index("</table>")]
    failed = frame[(frame["outcome"] == "protection") & (frame["status"] != "ok")]
    assert len(failed) == 2
    for r in failed.itertuples():
        assert r.spec_id in table and html.escape(r.reasons, quote=False) in table
    assert "R-hat 1.06 &gt; 1.01; 4 divergences" in table
    assert "&lt;b&gt;cutpoints&lt;/b&gt; not ordered &amp; nan" in table
    assert "<b>cutpoints</b>" not in text


def test_full_table_and_provenance(page):
    frame, _, _, text = page
    details = text[text.index("<details>"):text.index("</details>")]
    assert details.count("<tr>") == len(frame) + 1
    assert all(f"<th>{c}</th>" in details for c in frame.columns)
    first = frame.iloc[0]
    assert f"<td>{first['pge_median']:+.3f}</td>" in details and f"<td>{first['es_q05']:+.3f}</td>" in details
    assert f"<td>{first['spec_id']}</td>" in details
    prov = text[text.index('id="provenance"'):]
    for key, value in [("seed", "20241122"), ("data_hash", "d41d8cd98f00"),
                       ("dag_hashes", "default: aa11, no_media: bb22"), ("sampler", "chains: 4, draws: 1000"),
                       ("store", "models/"), ("wall_time_s", "812.5")]:
        assert f"<tr><th>{key}</th><td><code>{value}</code></td></tr>" in prov
    assert "<th>title</th>" not in prov
