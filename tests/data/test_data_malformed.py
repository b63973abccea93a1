"""Malformed source files: each gives one clear error naming the file, column and (country, year) rows,
makes `tipcausal data build` exit non-zero, and leaves the output folder exactly as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from tipcausal.cli import EXIT_INPUT, app
from tipcausal.data.build import build_panel

runner = CliRunner()

MANIFEST = """
[manifest]
name = "mini"
window = [2000, 2003]
valid_years = [1945, 2030]
base = "threep"

[manifest.complete_cases]
core = ["prosecution", "protection", "prevention", "v2cscnsult", "v2x_corr"]

[[source]]
id = "threep"
path = "threep.csv"
country = { column = "ccode", system = "cow" }
year = "year"
[source.columns]
prosecution = { from = "prosecution", scale = "score_1_5" }
protection = { from = "protection", scale = "score_1_5" }
prevention = { from = "prevention", scale = "score_1_5" }

[[source]]
id = "vdem"
path = "vdem.csv"
country = { column = "iso3", system = "iso3" }
year = "year"
[source.columns]
v2cscnsult = { from = "v2cscnsult", scale = "vdem_latent" }
v2x_corr = { from = "v2x_corr", scale = "unit_interval" }

[[source]]
id = "tip"
path = "tip.csv"
country = { column = "iso", system = "iso3" }
year = "year"
na_values = ["", "NA"]
[source.columns]
tip_tier = { from = "tier", scale = "tip_tier", labels = { "Tier 1" = 1, "Tier 2" = 2, "Watchlist" = 2.5, "Tier 3" = 3 } }

[[source]]
id = "women"
path = "women.csv"
country = { column = "country", system = "name" }
year = "year"
[source.columns]
women_parliament = { from = "women_par", scale = "percent", missing = [-1] }

[[source]]
id = "regions"
path = "regions.csv"
country = { column = "gwcode", system = "gw" }
[source.columns]
region = { from = "region6", scale = "category", labels = { "1" = "East", "2" = "Latin", "4" = "Africa", "6" = "Asia" } }

[[derived]]
name = "tip_tier_lag"
kind = "lag"
of = "tip_tier"
years = 1
"""

# country: (COW code, ISO3, name, GW code, region code)
COUNTRIES = [(700, "AFG", "Afghanistan", 700, "6"), (565, "NAM", "Namibia", 565, "4"),
             (140, "BRA", "Brazil", 140, "2"), (365, "RUS", "Russia", 365, "1")]
YEARS = [2000, 2001, 2002, 2003]


def clean_files() -> dict[str, str]:
    """Small, valid sources in the layout of the real ones (text, so tests can corrupt them)."""
    threep = ["ccode,year,prosecution,protection,prevention"]
    vdem = ["iso3,year,v2cscnsult,v2x_corr"]
    tip = ["iso,year,tier"]
    women = ["country,year,women_par"]
    for i, (cow, iso, name, gw, reg) in enumerate(COUNTRIES):
        for j, y in enumerate(YEARS):
            threep.append(f"{cow},{y},{1 + (i + j) % 5},{1 + (i + 2 * j) % 5},{1 + (2 * i + j) % 5}")
            vdem.append(f"{iso},{y},{-1.5 + 0.7 * i + 0.1 * j:.2f},{0.1 + 0.2 * i:.2f}")
            tip.append(f"{iso},{y},{['Tier 1', 'Tier 2', 'Watchlist', 'Tier 3'][(i + j) % 4] if y > 2000 else 'NA'}")
            women.append(f"{name},{y},{-1 if (i, j) == (0, 0) else 5 + 3 * i + j}")
    regions = ["gwcode,region6"] + [f"{gw},{reg}" for _, _, _, gw, reg in COUNTRIES]
    return {"threep.csv": "\n".join(threep) + "\n", "vdem.csv": "\n".join(vdem) + "\n",
            "tip.csv": "\n".join(tip) + "\n", "women.csv": "\n".join(women) + "\n",
            "regions.csv": "\n".join(regions) + "\n"}


def write_sources(root: Path, files: dict[str, str | bytes], manifest: str = MANIFEST) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (root / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (root / "manifest.toml").write_text(manifest, encoding="utf-8")
    return root


def listing(folder: Path) -> dict[str, tuple[int, int, str]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def edit(name: str, old: str, new: str):
    return lambda files: {**files, name: replace_line(files[name], old, new)}


def append(name: str, line: str):
    return lambda files: {**files, name: files[name] + line + "\n"}


def whole(name: str, content: str | bytes):
    return lambda files: {**files, name: content}


# (id, corruption, text that must appear (after whitespace normalisation), row label that must appear)
CASES = [
    ("missing_column", whole("threep.csv", clean_files()["threep.csv"].replace(",protection", "", 1)),
     "missing column(s) 'protection'", "threep.csv"),
    ("score_0", edit("threep.csv", "700,2001,2", "700,2001,0"), "column 'prosecution': value(s) 0 not an integer in [1, 5]",
     "(AFG, 2001) line 3"),
    ("score_6", edit("threep.csv", "565,2002,4", "565,2002,6"), "'prosecution'", "(NAM, 2002)"),
    ("score_3_5", edit("threep.csv", "140,2003,1", "140,2003,3.5"), "value(s) 3.5 not an integer in [1, 5]", "(BRA, 2003)"),
    ("score_text", edit("threep.csv", "365,2000,4", "365,2000,high"), "column 'prosecution': non-numeric value ('high')",
     "(RUS, 2000)"),
    ("score_nan_text", edit("threep.csv", "700,2000,1", "700,2000,NaN"), "non-finite value", "(AFG, 2000)"),
    ("inf", edit("vdem.csv", "AFG,2001,-1.40", "AFG,2001,inf"), "column 'v2cscnsult': non-finite value", "(AFG, 2001)"),
    ("minus_inf", edit("vdem.csv", "NAM,2002,-0.60", "NAM,2002,-Infinity"), "column 'v2cscnsult': non-finite value",
     "(NAM, 2002)"),
    ("duplicate_row", append("threep.csv", "700,2001,2,3,2"), "duplicate country-year (identical rows)", "(AFG, 2001)"),
    ("conflicting_row", append("threep.csv", "700,2001,5,3,2"), "conflicting values for one country-year in column(s) "
     "'prosecution'", "(AFG, 2001)"),
    ("unknown_code", append("threep.csv", "9999,2001,2,3,3"), "column 'ccode': unknown Correlates of War numeric code "
     "'9999'", "('9999', 2001)"),
    ("mixed_systems", append("threep.csv", "USA,2001,2,3,3"), "mixed code systems: 'USA' is an ISO3 code", "('USA', 2001)"),
    ("ambiguous_name", edit("women.csv", "Brazil,2001", "Congo,2001"), "ambiguous country name 'Congo': could be COG or COD",
     "('Congo', 2001)"),
    ("namibia_na_in_iso3", edit("vdem.csv", "NAM,2000", "NA,2000"), "'NA' is an ISO2 code (Namibia), but the column is "
     "declared as ISO 3166-1 alpha-3", "('NA', 2000)"),
    ("year_text", edit("threep.csv", "565,2001", "565,2001a"), "column 'year': year is not an integer ('2001a')",
     "(NAM, 2001a)"),
    ("year_out_of_range", edit("vdem.csv", "RUS,2003", "RUS,1850"), "column 'year': year outside the valid range "
     "1945-2030", "(RUS, 1850)"),
    ("year_blank", edit("tip.csv", "BRA,2002", "BRA,"), "column 'year': year is not an integer", "(BRA, ) line"),
    ("country_blank", edit("vdem.csv", "BRA,2001", ",2001"), "column 'iso3': missing country code", "('', 2001)"),
    ("empty_file", whole("vdem.csv", b""), "vdem.csv: file is empty", "vdem.csv"),
    ("header_only", whole("tip.csv", "iso,year,tier\n"), "tip.csv: has a header but no data rows", "tip.csv"),
    ("bom_header", whole("vdem.csv", b"\xef\xbb\xbf" + clean_files()["vdem.csv"].encode()), "byte-order mark (BOM)",
     "vdem.csv"),
    ("non_utf8", whole("women.csv", clean_files()["women.csv"].replace("Brazil", "Br\xe9sil").encode("latin-1")),
     "not valid utf-8 text: byte 0xe9 at line", "women.csv"),
    ("many_to_one", append("vdem.csv", "KOS,2001,0.1,0.5\nXKK,2001,0.2,0.5"), "many-to-one merge, several codes map to one "
     "country ('KOS'/'XKK' -> XKX)", "(XKX, 2001)"),
    ("vdem_index_as_percent", edit("vdem.csv", "BRA,2002,0.10,0.50", "BRA,2002,0.10,50"),
     "column 'v2x_corr': value(s) 50 not a number in [0, 1] (declared scale 'unit_interval'", "(BRA, 2002)"),
    ("vdem_latent_as_0_100", edit("vdem.csv", "RUS,2001,0.70", "RUS,2001,70"),
     "column 'v2cscnsult': value(s) 70 not a number in [-6, 6] (declared scale 'vdem_latent'", "(RUS, 2001)"),
    ("percent_over_100", edit("women.csv", "Russia,2002,16", "Russia,2002,160"), "column 'women_par': value(s) 160 not a "
     "number in [0, 100]", "(RUS, 2002)"),
    ("undeclared_label", edit("tip.csv", "AFG,2001,Tier 2", "AFG,2001,Tier 4"), "column 'tier': value not a declared "
     "label", "(AFG, 2001)"),
    ("undeclared_category", edit("regions.csv", "140,2", "140,3"), "column 'region6': value not a declared category",
     "(BRA, -)"),
    ("country_level_conflict", append("regions.csv", "700,1"), "conflicting values for one country in column(s) "
     "'region6'", "(AFG, -)"),
    ("ragged_csv", append("vdem.csv", "AFG,2004,0.1,0.2,extra,fields"), "vdem.csv: cannot be read as csv", "vdem.csv"),
]


@pytest.fixture()
def built(tmp_path):
    """A valid source folder and an output folder holding a previous successful build."""
    src = write_sources(tmp_path / "src", clean_files())
    out = tmp_path / "out"
    res = runner.invoke(app, ["data", "build", "--manifest", str(src / "manifest.toml"), "--sources", str(src),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    return src, out


def test_clean_mini_build_is_right(built):
    src, out = built
    panel = pd.read_parquet(out / "panel.parquet")
    assert len(panel) == 16 and set(panel["country"]) == {"AFG", "NAM", "BRA", "RUS"}
    nam = panel[panel["country"] == "NAM"]
    assert nam["region"].eq("Africa").all()  # Namibia kept, not read as missing
    afg = panel[panel["country"] == "AFG"].set_index("year")
    assert pd.isna(afg.loc[2000, "women_parliament"])  # -1 = no legislature -> missing
    assert afg.loc[2001, "women_parliament"] == 6
    # lagged tier: 2002's lag is 2001's tier (Watchlist = 2.5 kept numeric)
    assert afg.loc[2002, "tip_tier_lag"] == afg.loc[2001, "tip_tier"] == 2
    assert panel["tip_tier"].dropna().isin([1, 2, 2.5, 3]).all() and panel["tip_tier"].isna().any()
    assert 2.5 in set(panel["tip_tier"].dropna())
    csv = pd.read_csv(out / "panel.csv", keep_default_na=False, na_values=[""])
    assert set(csv["country"]) == set(panel["country"])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_input_fails_clearly_and_leaves_output_unchanged(built, case):
    _, corrupt, needle, rows = case
    src, out = built
    before = listing(out)
    bad = write_sources(src.parent / "bad", corrupt(clean_files()))
    res = runner.invoke(app, ["data", "build", "--manifest", str(bad / "manifest.toml"), "--sources", str(bad),
                              "--out", str(out)])
    text = " ".join(res.output.split())
    assert res.exit_code == EXIT_INPUT, res.output
    assert "error:" in text and "problem(s) found" in text
    assert needle in text, text
    assert rows in text, text
    assert listing(out) == before
    assert not list(out.parent.glob(".tipcausal-build-*"))


def test_enough_malformed_cases():
    assert len(CASES) >= 25


def test_all_problems_are_reported_together(tmp_path):
    files = clean_files()
    files["threep.csv"] = replace_line(files["threep.csv"], "700,2001,2", "700,2001,0")
    files["vdem.csv"] = replace_line(files["vdem.csv"], "NAM,2000", "NA,2000")
    files["tip.csv"] = "iso,year,tier\n"
    src = write_sources(tmp_path / "src", files)
    with pytest.raises(Exception) as info:
        build_panel(src / "manifest.toml", src)
    problems = info.value.problems
    assert len(problems) == 3
    assert any("threep.csv" in p and "prosecution" in p for p in problems)
    assert any("vdem.csv" in p and "Namibia" in p for p in problems)
    assert any("tip.csv" in p and "no data rows" in p for p in problems)


def test_missing_source_file_is_named(tmp_path):
    files = clean_files()
    del files["women.csv"]
    src = write_sources(tmp_path / "src", files)
    res = runner.invoke(app, ["data", "build", "--manifest", str(src / "manifest.toml"), "--sources", str(src),
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == EXIT_INPUT
    assert "women.csv: source file of 'women' not found" in " ".join(res.output.split())
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("old,new,needle", [
    ('scale = "score_1_5"', 'scale = "likert"', "unknown scale in"),
    ('system = "cow"', 'system = "vdem_numeric"', "unknown country code system"),
    ('kind = "lag"', 'kind = "lead"', "unknown derivation kind"),
    ('base = "threep"', 'base = "threep3"', "base 'threep3' is not a source id"),
    ('of = "tip_tier"', 'of = "tier"', "'of' = 'tier' is not a column declared earlier"),
    ('window = [2000, 2003]', 'window = [2003, 2000]', "window: must be [first_year, last_year]"),
])
def test_bad_manifest_is_refused(tmp_path, old, new, needle):
    src = write_sources(tmp_path / "src", clean_files(), MANIFEST.replace(old, new, 1))
    res = runner.invoke(app, ["data", "build", "--manifest", str(src / "manifest.toml"), "--sources", str(src),
                              "--out", str(tmp_path / "out")])
    assert res.exit_code == EXIT_INPUT
    assert needle in " ".join(res.output.split()), res.output


def test_stata_and_excel_sources(tmp_path):
    """The same source as .dta and .xlsx gives the same panel as the CSV."""
    files = clean_files()
    src = write_sources(tmp_path / "src", files)
    ref = build_panel(src / "manifest.toml", src).panel
    vdem = pd.read_csv(src / "vdem.csv")
    vdem.to_stata(src / "vdem.dta", write_index=False)
    threep = pd.read_csv(src / "threep.csv")
    threep.to_excel(src / "threep.xlsx", index=False)
    manifest = MANIFEST.replace('path = "vdem.csv"', 'path = "vdem.dta"').replace('path = "threep.csv"',
                                                                                 'path = "threep.xlsx"')
    (src / "manifest2.toml").write_text(manifest)
    other = build_panel(src / "manifest2.toml", src).panel
    pd.testing.assert_frame_equal(ref, other)


def test_adding_a_measurement_sd_column_needs_only_the_manifest(tmp_path):
    """An official V-Dem release with `_sd` columns: one manifest line brings the SD into the panel."""
    files = clean_files()
    lines = files["vdem.csv"].strip().split("\n")
    files["vdem.csv"] = "\n".join([lines[0] + ",v2cscnsult_sd"] + [ln + ",0.25" for ln in lines[1:]]) + "\n"
    manifest = MANIFEST.replace('v2x_corr = { from = "v2x_corr", scale = "unit_interval" }',
                                'v2x_corr = { from = "v2x_corr", scale = "unit_interval" }\n'
                                'v2cscnsult_sd = { from = "v2cscnsult_sd", scale = "vdem_sd" }')
    src = write_sources(tmp_path / "src", files, manifest)
    panel = build_panel(src / "manifest.toml", src).panel
    assert (panel["v2cscnsult_sd"] == 0.25).all()
    files["vdem.csv"] = files["vdem.csv"].replace(",0.25\n", ",-0.25\n", 1)
    src = write_sources(tmp_path / "src2", files, manifest)
    with pytest.raises(Exception, match=r"column 'v2cscnsult_sd': value\(s\) -0.25 not a number in \[0, 6\]"):
        build_panel(src / "manifest.toml", src)
