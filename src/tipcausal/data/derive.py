"""Derived variables made during the build (lags, logs, years since an event), one function per kind."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tipcausal.data.manifest import DerivedSpec


def lag(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    """Value of ``spec.of`` in year t - years for the same country (missing if that year is absent)."""
    prior = frame[["country", "year", spec.of]].copy()
    prior["year"] = prior["year"] + spec.years
    merged = frame[["country", "year"]].merge(prior, on=["country", "year"], how="left")
    return pd.Series(merged[spec.of].to_numpy(), index=frame.index)


def log(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    """Natural log of a positive variable (the scale check guarantees positivity)."""
    return np.log(frame[spec.of].astype(float))


def years_since_first(frame: pd.DataFrame, spec: DerivedSpec) -> pd.Series:
    """Years since the country's first year with ``of`` == 1; censored after the source's last year."""
    values = frame[spec.of]
    first = frame.loc[values == 1].groupby("country")["year"].min()
    last = frame.loc[values.notna()].groupby("country")["year"].max()
    f = frame["country"].map(first).astype(float)
    end = frame["country"].map(last).astype(float)
    year = frame["year"].astype(float)
    since = np.where(np.isnan(f), 0.0, np.clip(year - f, 0, None))
    # after the last observed year, a country not yet ratified is unknown (right-censored)
    unknown = np.isnan(f) & (year > end) | (np.isnan(f) & np.isnan(end))
    ratified_later = ~np.isnan(f) & (year < f) & (year > end)
    return pd.Series(np.where(unknown | ratified_later, np.nan, since), index=frame.index)


DERIVE: dict[str, Callable[[pd.DataFrame, DerivedSpec], pd.Series]] = {
    "lag": lag,
    "log": log,
    "years_since_first": years_since_first,
}
