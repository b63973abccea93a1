"""The country-year panel: schema, validation (all problems at once) and content hash."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from tipcausal.core.errors import DataValidationError, InputError
from tipcausal.core.provenance import hash_frame, hash_json

KEY_COLUMNS = ("country", "year")
MAX_ROWS_NAMED = 8


@dataclass(frozen=True)
class PanelSchema:
    """What a panel must hold: keys, ordinal outcomes with their score range, numeric columns."""

    outcomes: tuple[str, ...]
    numeric: tuple[str, ...]
    score_min: int = 1
    score_max: int = 5
    year_min: int = 1990
    year_max: int = 2030
    group_columns: tuple[str, ...] = ("region",)

    @property
    def required(self) -> tuple[str, ...]:
        """Every column the panel must have."""
        return KEY_COLUMNS + self.group_columns + self.outcomes + self.numeric


@dataclass(frozen=True)
class KeptLevels:
    """The levels a model of a panel keeps even where none of its rows remain, and the row count its arrays are
    padded to: a country left out by a refutation keeps the full fit's countries, regions and years, so its model
    has the full fit's parameters (a country without rows is drawn from its prior, which integrates out) and
    lowers to the full fit's compiled program. (A region left out does not use it: ARCHITECTURE says why.)"""

    countries: tuple[str, ...]
    #: the region of each of ``countries``
    regions: tuple[str, ...]
    years: tuple[int, ...]
    rows: int


@dataclass(frozen=True)
class Panel:
    """A validated country-year panel (one row per country-year) with where it came from."""

    frame: pd.DataFrame
    schema: PanelSchema
    kind: Literal["simulated", "real"]
    source: str
    hash: str = field(default="")
    meta: dict = field(default_factory=dict)
    #: levels its models keep without rows (a country left out by a refutation); None: the levels its rows have
    kept: KeptLevels | None = None

    def __post_init__(self) -> None:
        if not self.hash:
            digest = hash_frame(self.frame)
            if self.kept is not None:
                digest = hash_json([digest, self.kept.countries, self.kept.regions, self.kept.years,
                                    self.kept.rows])
            object.__setattr__(self, "hash", digest)

    @property
    def n_countries(self) -> int:
        """Number of distinct countries."""
        return int(self.frame["country"].nunique())

    def country_names(self) -> dict[str, str]:
        """Country code -> name where the panel has names (built real data), else empty."""
        if "country_name" not in self.frame.columns:
            return {}
        return {str(k): str(v) for k, v in self.frame.groupby("country")["country_name"].first().items()}

    def __repr__(self) -> str:
        years = self.frame["year"]
        return (f"Panel(kind={self.kind!r}, rows={len(self.frame)}, countries={self.n_countries}, "
                f"years={years.min()}-{years.max()}, hash={self.hash!r}, source={self.source!r})")


def _rows(frame: pd.DataFrame, mask: pd.Series) -> str:
    """Name the (country, year) rows selected by ``mask``, at most MAX_ROWS_NAMED of them."""
    bad = frame.loc[mask]
    if set(KEY_COLUMNS) <= set(frame.columns):
        items = [f"({c}, {y})" for c, y in zip(bad["country"], bad["year"])]
    else:
        items = [f"line {i + 2}" for i in bad.index]
    more = f" and {len(items) - MAX_ROWS_NAMED} more" if len(items) > MAX_ROWS_NAMED else ""
    return f"{len(items)} row(s): " + ", ".join(items[:MAX_ROWS_NAMED]) + more


def validate_panel(frame: pd.DataFrame, schema: PanelSchema, source: str) -> None:
    """Check ``frame`` against ``schema``; raise one DataValidationError listing every problem."""
    problems: list[str] = []
    missing = [c for c in schema.required if c not in frame.columns]
    if missing:
        raise DataValidationError(source, [f"missing column(s): {', '.join(missing)}"])
    if frame.empty:
        raise DataValidationError(source, ["no rows"])

    year = pd.to_numeric(frame["year"], errors="coerce")
    bad_year = year.isna() | (year != np.floor(year)) | ~year.between(schema.year_min, schema.year_max)
    if bad_year.any():
        problems.append(f"column 'year': not an integer year in {schema.year_min}-{schema.year_max} "
                        f"in {_rows(frame, bad_year)}")
    bad_country = frame["country"].isna() | (frame["country"].astype(str).str.strip() == "")
    if bad_country.any():
        problems.append(f"column 'country': missing country code in {_rows(frame, bad_country)}")
    dup = frame.duplicated(list(KEY_COLUMNS), keep=False) & ~bad_country
    if dup.any():
        problems.append(f"duplicate country-years in {_rows(frame, dup)}")
    for col in schema.group_columns:
        if frame[col].isna().any():
            problems.append(f"column {col!r}: missing value in {_rows(frame, frame[col].isna())}")

    for col in schema.outcomes:
        values = pd.to_numeric(frame[col], errors="coerce")
        not_numeric = values.isna() & frame[col].notna()
        if not_numeric.any():
            problems.append(f"column {col!r}: non-numeric score in {_rows(frame, not_numeric)}")
        present = values.notna()
        off_scale = present & ((values != np.floor(values)) | ~values.between(schema.score_min, schema.score_max))
        if off_scale.any():
            problems.append(f"column {col!r}: score not an integer {schema.score_min}-{schema.score_max} "
                            f"in {_rows(frame, off_scale)}")
    for col in schema.numeric:
        values = pd.to_numeric(frame[col], errors="coerce")
        not_numeric = values.isna() & frame[col].notna()
        if not_numeric.any():
            problems.append(f"column {col!r}: non-numeric value in {_rows(frame, not_numeric)}")
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            problems.append(f"column {col!r}: infinite value in {_rows(frame, pd.Series(infinite, index=frame.index))}")
    if problems:
        raise DataValidationError(source, problems)


def load_panel_csv(path: str | Path, schema: PanelSchema, kind: Literal["simulated", "real"]) -> Panel:
    """Read a panel CSV, validate it against ``schema`` and return a Panel."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: the panel path is a folder; give the panel CSV file")
    if not path.is_file():
        raise InputError(f"{path}: panel file not found")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = [h.strip() for h in next(csv.reader(fh), [])]
        frame = pd.read_csv(path, keep_default_na=False, na_values=["", "NaN", "nan"])
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(str(path), [f"cannot be read as CSV (UTF-8): {exc}"]) from None
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataValidationError(str(path), [f"duplicate column header(s) {', '.join(map(repr, dup))}: each "
                                              "column must be named once"])
    validate_panel(frame, schema, str(path))
    frame = frame.astype({"year": int})
    return Panel(frame=frame, schema=schema, kind=kind, source=str(path))
