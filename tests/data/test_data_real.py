"""The real-data build from ../shared/data/sources with the default manifest: known facts of the
merged panel, country harmonisation checked against the codes the sources themselves carry, and
rebuilds keyed on content hashes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tipcausal.data.build import build_panel, ensure_built, write_build
from tipcausal.data.countries import CountryCodes
from tipcausal.data.manifest import library_manifests

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def build(real_data_dir):
    return build_panel("default", real_data_dir / "sources")


def test_panel_facts_match_the_sources_readme(build):
    cov = build.coverage
    p = cov["panel"]
    assert p["years"] == list(range(2000, 2014))
    assert 180 <= p["countries_with_base_values"] <= 186          # README: 183 countries scored
    core = cov["complete_cases"]["core"]
    assert core["columns"] == ["prosecution", "protection", "prevention", "v2cscnsult", "v2x_corr"]
    assert 1900 <= core["rows"] <= 1960                              # README: about 1,930 country-years
    assert 155 <= core["countries"] <= 165                           # README: about 160 countries
    assert p["countries_by_year"][2000] in range(78, 84)             # README: 80 countries in 2000
    panel = build.panel
    assert not panel.duplicated(["country", "year"]).any()
    for col in ("prosecution", "protection", "prevention"):
        assert panel[col].dropna().isin([1, 2, 3, 4, 5]).all()
    assert "USA" not in set(panel["country"])                      # the USA has no 3P score


def test_hard_cases_are_merged(build):
    panel = build.panel.set_index(["country", "year"])
    # Namibia (ISO2 "NA") is a country, not a missing value, in every source
    assert panel.loc[("NAM", 2010), ["prosecution", "v2cscnsult", "tip_tier", "region"]].notna().all()
    # Kosovo: Cho's 1001, TIP's KOS and V-Dem's XKK are one country
    kos = panel.loc["XKX"]
    assert kos["prosecution"].notna().any() and kos["v2cscnsult"].notna().any() and kos["tip_tier"].notna().any()
    # Germany: COW 255 (3P) and GW 260 (regions) meet on DEU
    assert panel.loc[("DEU", 2005), ["prosecution", "v2cscnsult", "region"]].notna().all()
    # Serbia: Cho's 1003 and V-Dem's SRB
    assert panel.loc[("SRB", 2010), ["prosecution", "v2cscnsult"]].notna().all()


def test_every_unmatched_country_is_listed(build, real_data_dir):
    cov = build.coverage
    vdem = cov["sources"]["vdem"]
    listed = {u["country"] for u in vdem["unmatched"]}
    assert {"USA", "SSD"} <= listed
    # independent check from the raw V-Dem file: V-Dem countries (in the window) absent from the panel
    raw = pd.read_csv(real_data_dir / "sources/vdem_chaudhry_heiss_panel/panel.csv", keep_default_na=False)
    raw = raw[raw["year"].between(2000, 2013) & (raw["v2cscnsult"] != "NA")]
    iso = set(raw["iso3"].replace({"XKK": "XKX"}))
    assert listed == iso - set(build.panel["country"])
    for sid, src in cov["sources"].items():
        assert src["rows_matched"] + src["rows_unmatched"] == src["rows_in_window"], sid
    md = (build.coverage, build.info)
    from tipcausal.data.coverage import coverage_markdown
    text = coverage_markdown(*md)
    for src in cov["sources"].values():
        for u in src["unmatched"]:
            assert f"| {u['country']} |" in text


@pytest.mark.parametrize("path,code_col,system,iso_col,fixes", [
    ("vdem_chaudhry_heiss_panel/panel.csv", "cowcode", "cow", "iso3", {"XKK": "XKX"}),
    ("vdem_chaudhry_heiss_panel/panel.csv", "gwcode", "gw", "iso3", {"XKK": "XKX"}),
    ("tip_tiers/tip_tiers_orig.csv", "ccode", "cow", "iso", {"KOS": "XKX"}),
])
def test_code_conversion_agrees_with_the_sources_own_iso3(real_data_dir, path, code_col, system, iso_col, fixes):
    """COW/GW -> ISO3 through country_converter + overrides equals the ISO3 each source carries."""
    raw = pd.read_csv(real_data_dir / "sources" / path, dtype=str, keep_default_na=False)
    pairs = raw[[code_col, iso_col]].drop_duplicates()
    pairs = pairs[pairs[code_col] != "NA"]
    iso, reason = CountryCodes().convert(pairs[code_col], system)
    expected = pairs[iso_col].replace(fixes)
    bad = pairs[(iso != expected) | reason.notna()]
    assert bad.empty, bad.assign(ours=iso[bad.index], reason=reason[bad.index]).to_string()
    assert len(pairs) > 150


def test_derived_variables(build):
    panel = build.panel.set_index(["country", "year"])
    both = panel[["tip_tier", "tip_tier_lag"]].dropna()
    assert 2.5 in set(panel["tip_tier"].dropna())  # Watch List kept as 2.5
    # the lag is last year's tier of the same country
    shifted = panel["tip_tier"].groupby(level="country").shift(1)
    consecutive = panel.reset_index().groupby("country")["year"].diff().eq(1).to_numpy()
    lagged = panel["tip_tier_lag"][consecutive]
    pd.testing.assert_series_equal(lagged.dropna(), shifted[consecutive].loc[lagged.dropna().index], check_names=False)
    assert len(both) > 1000
    # log GDP per capita
    ok = panel[["gdp_pc", "log_gdp_pc"]].dropna()
    assert (abs(ok["log_gdp_pc"] - ok["gdp_pc"].map(__import__("math").log)) < 1e-12).all()
    # years since Palermo ratification: 0 up to ratification, then counts up by one a year
    ys = panel["years_since_palermo"].dropna()
    assert (ys >= 0).all() and ys.max() <= 13
    aut = panel.loc["AUT", "years_since_palermo"]
    assert list(aut.diff().dropna().unique()) in ([1.0], [0.0, 1.0])
    regions = set(panel["region"].dropna())
    assert len(regions) == 6


def test_write_and_rebuild_only_when_stale(build, real_data_dir, tmp_path):
    out = tmp_path / "processed"
    paths = write_build(build, out)
    assert set(p.name for p in paths.values()) == {"panel.parquet", "panel.csv", "coverage.md", "coverage.json",
                                                   "build.json"}
    info = json.loads((out / "build.json").read_text())
    assert set(info["source_sha256"]) == {"threep", "vdem", "tip", "kelley_simmons", "regions"}
    assert info["panel_hash"] == build.info["panel_hash"]
    csv = pd.read_csv(out / "panel.csv", keep_default_na=False, na_values=[""])
    assert "NAM" in set(csv["country"]) and len(csv) == len(build.panel)
    panel, info2, rebuilt = ensure_built("default", real_data_dir / "sources", out)
    assert not rebuilt and info2["build_key"] == build.key
    # a changed manifest (title only) is a different build
    manifest = tmp_path / "m.toml"
    manifest.write_text(library_manifests()["default"].read_text().replace('title = "3P', 'title = "Edited 3P', 1))
    _, info3, rebuilt = ensure_built(manifest, real_data_dir / "sources", out)
    assert rebuilt and info3["build_key"] != build.key
    assert info3["panel_hash"] == build.info["panel_hash"]


@pytest.mark.sampling
@pytest.mark.slow
def test_real_study_runs_end_to_end_and_cites_sources(real_data_dir, tmp_path):
    """`tipcausal run` on the real-data study (one outcome, short chains): builds the panel, fits, reports."""
    from typer.testing import CliRunner

    from tipcausal.cli import EXIT_UNCONVERGED, app
    from tipcausal.study.config import library_studies

    import re

    text = library_studies()["real"].read_text()
    assert len(re.findall(r"^\[\[compare\]\]", text, flags=re.M)) == 7  # the shipped side-by-side specifications (fitted in the full run only)
    text = re.sub(r"^\[\[compare\]\].*?(?=^\[sampler\])", "", text, flags=re.S | re.M)
    text = text.replace('outcomes = ["prosecution", "protection", "prevention"]', 'outcomes = ["protection"]')
    text = text.replace('dir = "data/processed"', f'dir = "{tmp_path / "processed"}"')
    study = tmp_path / "real.toml"
    study.write_text(text)
    out = tmp_path / "report"
    res = CliRunner().invoke(app, ["run", str(study), "--sources", str(real_data_dir / "sources"), "--draws", "150",
                                   "--tune", "200", "--chains", "2", "--out", str(out), "--quiet"])
    assert "building panel" in res.output
    assert (tmp_path / "processed" / "coverage.md").is_file()
    summary = json.loads((out / "summary.json").read_text())
    # short chains may or may not pass the gate; the exit code must say which, as the summary does
    assert res.exit_code == (0 if summary["all_passed"] else EXIT_UNCONVERGED), res.output
    assert summary["data"]["kind"] == "real" and summary["data"]["build_key"]
    assert 1900 <= summary["outcomes"]["protection"]["n_obs"] <= 1960
    assert 155 <= summary["outcomes"]["protection"]["n_countries"] <= 165
    report = (out / "report.html").read_text()
    for cited in ("Cho, S.-Y., Dreher, A. &amp; Neumayer, E. (2014)", "doi:10.23696/vdemds20",
                  "Kelley, J. G. &amp; Simmons, B. A. (2015)", "Trafficking in Persons Report"):
        assert cited in report, cited
    prov = json.loads((out / "fits" / "protection.provenance.json").read_text())
    assert prov["data_build"]["build_key"] == summary["data"]["build_key"]
    assert prov["dropped_incomplete"]["region"] > 0  # countries without a V-Dem region are counted, not silent
