"""The coverage report of a data build: what each source contributed, what did not match and why,
missing shares and complete cases (JSON-ready dict and Markdown)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from tipcausal.data.countries import CountryCodes
    from tipcausal.data.manifest import Manifest
    from tipcausal.data.sources import SourceFrame


def complete_cases(panel: pd.DataFrame, columns: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """Rows and countries with every one of ``columns`` present, overall and by year."""
    cols = [c for c in columns if c in panel.columns]
    absent = [c for c in columns if c not in panel.columns]
    ok = panel[cols].notna().all(axis=1) if not absent else pd.Series(False, index=panel.index)
    rows = panel[ok]
    return {"columns": list(columns), "absent_columns": absent, "rows": int(ok.sum()),
            "countries": int(rows["country"].nunique()),
            "by_year": {int(y): int(n) for y, n in rows.groupby("year").size().items()}}


def _source_coverage(sf: SourceFrame, manifest: Manifest, panel: pd.DataFrame, codes: CountryCodes,
                     is_base: bool) -> dict[str, Any]:
    spec, frame = sf.spec, sf.frame
    lo, hi = manifest.window
    cols = [c.name for c in spec.columns]
    observed = frame[frame[cols].notna().any(axis=1)]
    name = lambda iso: sf.names.get(iso) or codes.name_of(iso)  # noqa: E731
    panel_countries = set(panel["country"])
    entry: dict[str, Any] = {"title": spec.title, "file": sf.file, "citation": spec.citation,
                             "rows_read": sf.rows_read, "countries": int(frame["country"].nunique()),
                             "countries_with_values": int(observed["country"].nunique()),
                             "country_system": spec.country_system, "columns": cols}
    if spec.country_level:
        entry["years"] = None
        in_window = observed
        keys = ["country"]
    else:
        entry["years"] = list(sf.years) if sf.years else None
        in_window = observed[observed["year"].between(lo, hi)]
        keys = ["country", "year"]
        entry["rows_outside_window"] = int(len(observed) - len(in_window))
    matched = in_window.merge(panel[keys].drop_duplicates(), on=keys, how="inner")
    entry["rows_in_window"] = int(len(in_window))
    entry["rows_matched"] = int(len(matched))
    entry["rows_unmatched"] = int(len(in_window) - len(matched))
    unmatched = []
    if is_base:
        window_countries = set(in_window["country"])
        for iso in sorted(set(frame["country"]) - window_countries):
            unmatched.append({"country": iso, "name": name(iso), "rows": int((frame["country"] == iso).sum()),
                              "reason": f"no {'/'.join(cols)} value in {lo}-{hi}"})
    else:
        for iso, group in in_window.groupby("country"):
            if iso not in panel_countries:
                unmatched.append({"country": iso, "name": name(iso), "rows": len(group),
                                  "reason": f"country not in the base source ({manifest.base})"})
            elif not spec.country_level:
                years = set(group["year"]) - set(panel.loc[panel["country"] == iso, "year"])
                if years:
                    unmatched.append({"country": iso, "name": name(iso), "rows": len(years),
                                      "reason": "year(s) without a base row: " + ", ".join(map(str, sorted(years)))})
        present = set(in_window["country"])
        entry["base_countries_absent"] = [{"country": iso, "name": codes.name_of(iso)}
                                          for iso in sorted(panel_countries - present)]
    entry["unmatched"] = unmatched
    entry["excluded_codes"] = sf.excluded
    return entry


def measure_coverage(manifest: Manifest, frames: dict[str, SourceFrame], panel: pd.DataFrame,
                     codes: CountryCodes) -> dict[str, Any]:
    """Coverage of every source against the built panel, missing shares and complete cases."""
    base_cols = [c.name for c in manifest.source(manifest.base).columns]
    scored = panel[panel[base_cols].notna().any(axis=1)]
    value_cols = [c for c in panel.columns if c not in ("country", "country_name", "year")]
    return {
        "manifest": str(manifest.path),
        "window": list(manifest.window),
        "panel": {"rows": len(panel), "countries": int(panel["country"].nunique()),
                  "rows_with_base_values": len(scored), "countries_with_base_values": int(scored["country"].nunique()),
                  "years": sorted(int(y) for y in scored["year"].unique()),
                  "countries_by_year": {int(y): int(n) for y, n in scored.groupby("year")["country"].nunique().items()}},
        "sources": {sid: _source_coverage(sf, manifest, panel, codes, sid == manifest.base)
                    for sid, sf in frames.items()},
        "missing_share": {c: round(float(panel[c].isna().mean()), 4) for c in value_cols},
        "complete_cases": {name: complete_cases(panel, cols) for name, cols in manifest.complete_cases.items()},
    }


def coverage_markdown(cov: dict[str, Any], info: dict[str, Any]) -> str:
    """The coverage report as Markdown."""
    p = cov["panel"]
    lines = [f"# Data build coverage report", "",
             f"Manifest: `{cov['manifest']}`  ", f"Build key: `{info['build_key']}`  ",
             f"Panel hash: `{info['panel_hash']}`  ", f"Built: {info['created']}", "",
             "## Panel", "",
             f"- window {cov['window'][0]}-{cov['window'][1]}: {p['rows']} country-years, {p['countries']} countries",
             f"- with base-source values: {p['rows_with_base_values']} country-years, "
             f"{p['countries_with_base_values']} countries",
             "- countries per year: " + ", ".join(f"{y}: {n}" for y, n in p["countries_by_year"].items()), "",
             "## Complete cases", "", "| set | columns | country-years | countries |", "|---|---|---|---|"]
    for name, cc in cov["complete_cases"].items():
        lines.append(f"| {name} | {', '.join(cc['columns'])} | {cc['rows']} | {cc['countries']} |")
    lines += ["", "## Sources", ""]
    for sid, s in cov["sources"].items():
        years = f"{s['years'][0]}-{s['years'][1]}" if s["years"] else "country-level"
        lines += [f"### {sid}: {s['title']}", "", f"- file: `{s['file']}` ({s['country_system']} codes)",
                  f"- citation: {s['citation']}",
                  f"- read {s['rows_read']} rows, {s['countries']} countries ({s['countries_with_values']} with values), "
                  f"years {years}",
                  f"- rows with values in the window: {s['rows_in_window']}; matched to panel rows: "
                  f"{s['rows_matched']}; unmatched: {s['rows_unmatched']}"]
        if "rows_outside_window" in s:
            lines.append(f"- rows with values outside the window (not used): {s['rows_outside_window']}")
        if s["unmatched"]:
            lines += ["", "Unmatched countries:", "", "| ISO3 | name | rows | reason |", "|---|---|---|---|"]
            lines += [f"| {u['country']} | {u['name']} | {u['rows']} | {u['reason']} |" for u in s["unmatched"]]
        if s.get("excluded_codes"):
            lines += ["", "Excluded codes (declared historical states in the override table): "
                      + "; ".join(f"{e['code']} ({e['rows']} rows): {e['reason']}" for e in s["excluded_codes"])]
        if s.get("base_countries_absent"):
            lines += ["", f"Panel countries with no data in this source ({len(s['base_countries_absent'])}): "
                      + ", ".join(f"{a['country']} ({a['name']})" for a in s["base_countries_absent"])]
        lines.append("")
    lines += ["## Missing share per column", "", "| column | missing |", "|---|---|"]
    lines += [f"| {c} | {v:.1%} |" for c, v in cov["missing_share"].items()]
    lines += ["", "## Derived variables", ""]
    lines += [f"- `{n}` ({d['kind']} of `{d['of']}`): {d['doc']}" for n, d in info["derived"].items()]
    return "\n".join(lines) + "\n"
