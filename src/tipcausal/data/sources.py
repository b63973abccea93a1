"""Validating one source against its manifest entry and turning it into canonical ISO3-year rows.

``canonical_source`` collects every problem in a file (missing columns, country codes, years,
values off their declared scale, duplicate / conflicting / many-to-one country-years) and returns
them all; the scale checks run through a pandera schema built from the manifest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
import pandera.pandas as pa

from tipcausal.data.countries import EXCLUDED, CountryCodes
from tipcausal.data.manifest import ColumnSpec, Manifest, SourceSpec

MAX_ROWS_NAMED = 6
NON_FINITE_TEXT = {"nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}


@dataclass
class SourceFrame:
    """A validated source: canonical rows (country = ISO3, year, columns) and what was read."""

    spec: SourceSpec
    file: str
    frame: pd.DataFrame
    rows_read: int
    names: dict[str, str] = field(default_factory=dict)
    excluded: list[dict[str, str | int]] = field(default_factory=list)
    years: tuple[int, int] | None = None


def _label(iso: pd.Series, codes: pd.Series, years: pd.Series | None, lines: pd.Series, mask: pd.Series) -> str:
    idx = mask[mask].index
    items = []
    for i in idx[:MAX_ROWS_NAMED]:
        who = iso[i] if isinstance(iso[i], str) else repr(codes[i])
        items.append(f"({who}, {years[i] if years is not None else '-'}) line {lines[i]}")
    more = f" and {len(idx) - MAX_ROWS_NAMED} more" if len(idx) > MAX_ROWS_NAMED else ""
    return f"{len(idx)} row(s) (country, year): " + ", ".join(items) + more


def _values(spec: SourceSpec, col: ColumnSpec, text: pd.Series) -> tuple[pd.Series, dict[str, pd.Series]]:
    """Parse one column's text to values; returns the values and masks of rows with each problem."""
    missing = text.isin(spec.na_values) | (text == "")
    problems: dict[str, pd.Series] = {}
    if col.scale_def.categorical or col.labels:
        labels = {str(k): v for k, v in col.labels.items()}
        known = text.isin(list(labels))
        unknown = ~missing & ~known
        if col.scale_def.categorical:
            if unknown.any():
                problems[f"value not a declared category ({', '.join(labels)})"] = unknown
            return text.map(labels).where(known, None), problems
        mapped = pd.to_numeric(text.map(labels), errors="coerce")
        if unknown.any():
            problems[f"value not a declared label ({', '.join(labels)})"] = unknown
        return mapped.where(known), problems
    values = pd.to_numeric(text.where(~missing, None), errors="coerce")
    lowered = text.str.lower()
    non_finite = ~missing & (lowered.isin(NON_FINITE_TEXT) | np.isinf(values.to_numpy(dtype=float, na_value=np.nan)))
    not_numeric = ~missing & values.isna() & ~non_finite
    if non_finite.any():
        problems["non-finite value (NaN or +-Inf); leave the cell empty or declare the text in na_values"] = non_finite
    if not_numeric.any():
        examples = ", ".join(repr(v) for v in pd.unique(text[not_numeric])[:3])
        problems[f"non-numeric value ({examples})"] = not_numeric
    values = values.where(~non_finite)
    if col.missing:
        codes = [float(m) for m in col.missing]
        values = values.where(~values.isin(codes))
    return values, problems


def _schema(spec: SourceSpec) -> pa.DataFrameSchema:
    """The pandera schema for a source's declared scales."""
    columns = {}
    for col in spec.columns:
        sc = col.scale_def
        if sc.categorical:
            columns[col.name] = pa.Column(None, nullable=True)
            continue
        checks = []
        if sc.allowed:
            checks.append(pa.Check.isin(list(sc.allowed)))
        else:
            if not math.isinf(sc.low):
                checks.append(pa.Check.gt(sc.low) if sc.low_open else pa.Check.ge(sc.low))
            if not math.isinf(sc.high):
                checks.append(pa.Check.le(sc.high))
            if sc.integer:
                checks.append(pa.Check(lambda s: s == np.floor(s), element_wise=False, name="integer"))
        columns[col.name] = pa.Column(float, checks, nullable=True, coerce=True)
    return pa.DataFrameSchema(columns)


def _absent_columns(spec: SourceSpec, raw: pd.DataFrame, file: str) -> list[str]:
    """The problem of columns the manifest reads that the file lacks (empty if it has them all)."""
    needed = [spec.country_column, *([spec.year_column] if spec.year_column else []),
              *(c.source_column for c in spec.columns)]
    absent = [c for c in dict.fromkeys(needed) if c not in raw.columns]
    if not absent:
        return []
    return [f"{file}: missing column(s) {', '.join(repr(c) for c in absent)} "
            f"(the file has: {', '.join(map(repr, raw.columns[:20]))})"]


def _years(spec: SourceSpec, raw: pd.DataFrame, file: str, manifest: Manifest, iso: pd.Series,
           code_text: pd.Series, lines: pd.Series) -> tuple[pd.Series | None, pd.Series, list[str]]:
    """Each row's year as text (None without a year column), which rows have a bad year, and their problems."""
    problems: list[str] = []
    if not spec.year_column:
        return None, pd.Series(False, index=raw.index), problems
    ytext = raw[spec.year_column]
    num = pd.to_numeric(ytext, errors="coerce")
    not_int = num.isna() | (num != np.floor(num))
    lo, hi = manifest.valid_years
    out_of_range = ~not_int & ~num.between(lo, hi)
    years = ytext.where(not_int, num.astype("Int64").astype(str))
    if not_int.any():
        examples = ", ".join(repr(v) for v in pd.unique(ytext[not_int])[:3])
        problems.append(f"{file}: column {spec.year_column!r}: year is not an integer ({examples}) in "
                        f"{_label(iso, code_text, years, lines, not_int)}")
    if out_of_range.any():
        problems.append(f"{file}: column {spec.year_column!r}: year outside the valid range {lo}-{hi} in "
                        f"{_label(iso, code_text, years, lines, out_of_range)}")
    return years, not_int | out_of_range, problems


def _canonical_rows(spec: SourceSpec, raw: pd.DataFrame, file: str, iso: pd.Series, years: pd.Series | None,
                    bad_year: pd.Series, label: Callable[[pd.Series], str]) -> tuple[pd.DataFrame, list[str]]:
    """Canonical rows (ISO3 country, year, parsed values) and the problems parsing each column's values."""
    problems: list[str] = []
    canon = pd.DataFrame({"country": iso}, index=raw.index)
    if years is not None:
        canon["year"] = pd.to_numeric(years.where(~bad_year), errors="coerce").astype("Int64")
    for col in spec.columns:
        values, col_problems = _values(spec, col, raw[col.source_column])
        for why, mask in col_problems.items():
            problems.append(f"{file}: column {col.source_column!r}: {why} in {label(mask)}")
        canon[col.name] = values
    return canon, problems


def _scale_problems(spec: SourceSpec, canon: pd.DataFrame, file: str,
                    label: Callable[[pd.Series], str]) -> list[str]:
    """Problems of values off their declared scale, found by the source's pandera schema."""
    problems: list[str] = []
    by_name = {c.name: c for c in spec.columns}
    try:
        _schema(spec).validate(canon[[c.name for c in spec.columns]], lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for name, group in cases.groupby("column", sort=False):
            col = by_name[str(name)]
            rows = pd.Series(False, index=canon.index)
            rows[group["index"].dropna().astype(int).unique()] = True
            examples = ", ".join(f"{v:g}" if isinstance(v, float) else repr(v)
                                 for v in pd.unique(group["failure_case"])[:4])
            problems.append(f"{file}: column {col.source_column!r}: value(s) {examples} not {col.scale_def.rule()} "
                            f"(declared scale {col.scale!r}: {col.scale_def.description}) in {label(rows)}")
    return problems


def _duplicate_kinds(spec: SourceSpec, canon: pd.DataFrame, dup: pd.Series, keys: list[str],
                     code_text: pd.Series) -> tuple[dict[str, pd.Series], list[str], set[str]]:
    """Duplicated rows by kind (many-to-one, identical, conflicting), the merged codes and the differing columns."""
    by_name = {c.name: c for c in spec.columns}
    value_cols = [c.name for c in spec.columns]
    kinds = {"many": pd.Series(False, index=canon.index), "same": pd.Series(False, index=canon.index),
             "conflict": pd.Series(False, index=canon.index)}
    merged_codes: list[str] = []
    differing: set[str] = set()
    for _, group in canon[dup].groupby(keys, sort=False):
        sources = pd.unique(code_text[group.index])
        if len(sources) > 1:
            kinds["many"][group.index] = True
            merged_codes.append(f"{'/'.join(map(repr, sources))} -> {group['country'].iloc[0]}")
            continue
        spread = group[value_cols].astype(object).fillna("<missing>").nunique()
        if (spread <= 1).all():
            kinds["same"][group.index] = True
        else:
            kinds["conflict"][group.index] = True
            differing |= {by_name[c].source_column for c in spread[spread > 1].index}
    return kinds, merged_codes, differing


def _duplicate_problems(spec: SourceSpec, canon: pd.DataFrame, reason: pd.Series, code_text: pd.Series,
                        file: str, label: Callable[[pd.Series], str]) -> list[str]:
    """Problems of rows sharing a country(-year): many-to-one code merges, identical duplicates, conflicts."""
    keys = ["country"] if spec.country_level else ["country", "year"]
    valid = canon[keys].notna().all(axis=1) & reason.isna() & (canon["country"] != EXCLUDED)
    dup = valid & canon.duplicated(keys, keep=False)
    if not dup.any():
        return []
    unit = "country" if spec.country_level else "country-year"
    kinds, merged_codes, differing = _duplicate_kinds(spec, canon, dup, keys, code_text)
    problems: list[str] = []
    if kinds["many"].any():
        problems.append(f"{file}: column {spec.country_column!r}: many-to-one merge, several codes map to one "
                        f"country ({'; '.join(merged_codes[:4])}) in {label(kinds['many'])}")
    if kinds["same"].any():
        problems.append(f"{file}: duplicate {unit} (identical rows) in {label(kinds['same'])}")
    if kinds["conflict"].any():
        problems.append(f"{file}: conflicting values for one {unit} in column(s) "
                        f"{', '.join(map(repr, sorted(differing)))} in {label(kinds['conflict'])}")
    return problems


def _source_frame(spec: SourceSpec, raw: pd.DataFrame, file: str, codes: CountryCodes, canon: pd.DataFrame,
                  code_text: pd.Series) -> SourceFrame:
    """The validated source: canonical rows less excluded countries, with names, exclusions and year span."""
    names = {}
    if spec.name_column and spec.name_column in raw.columns:
        names = dict(zip(canon["country"], raw[spec.name_column]))
    gone = canon["country"] == EXCLUDED
    excluded = [{"code": str(c), "rows": int(n), "reason": codes.note(spec.country_system, str(c))}
                for c, n in code_text[gone].value_counts(sort=False).items()]
    frame = canon[~gone].reset_index(drop=True)
    years = (int(frame["year"].min()), int(frame["year"].max())) if "year" in frame and len(frame) else None
    return SourceFrame(spec=spec, file=file, frame=frame, rows_read=len(raw), names=names, excluded=excluded,
                       years=years)


def canonical_source(spec: SourceSpec, raw: pd.DataFrame, file: str, manifest: Manifest,
                     codes: CountryCodes) -> tuple[SourceFrame | None, list[str]]:
    """Validate ``raw`` (text cells) and return canonical rows, or None and every problem found."""
    absent = _absent_columns(spec, raw, file)
    if absent:
        return None, absent
    lines = pd.Series(np.arange(len(raw)) + 2, index=raw.index)
    code_text = raw[spec.country_column]
    iso, reason = codes.convert(code_text, spec.country_system)
    years, bad_year, problems = _years(spec, raw, file, manifest, iso, code_text, lines)
    label = partial(_label, iso, code_text, years, lines)

    for why in pd.unique(reason.dropna()):
        problems.append(f"{file}: column {spec.country_column!r}: {why} in {label(reason == why)}")
    canon, value_problems = _canonical_rows(spec, raw, file, iso, years, bad_year, label)
    problems += value_problems
    problems += _scale_problems(spec, canon, file, label)
    problems += _duplicate_problems(spec, canon, reason, code_text, file, label)
    if problems:
        return None, problems
    return _source_frame(spec, raw, file, codes, canon, code_text), []
