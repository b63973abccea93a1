"""Panels altered for refutations: each is a new ``Panel`` (new content hash, so its fits have their own store
keys) with the change named in its source. Permutations act on one outcome model's rows, so the country means of
the treatment over those rows are kept exactly (within-country placebo) or moved whole (between placebo)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from tipcausal.data.panel import KeptLevels, Panel, PanelSchema


def _with_frame(panel: Panel, frame: pd.DataFrame, what: str, new_numeric: tuple[str, ...] = (),
                kept: KeptLevels | None = None) -> Panel:
    schema = panel.schema if not new_numeric else PanelSchema(
        outcomes=panel.schema.outcomes, numeric=panel.schema.numeric + new_numeric,
        score_min=panel.schema.score_min, score_max=panel.schema.score_max, year_min=panel.schema.year_min,
        year_max=panel.schema.year_max, group_columns=panel.schema.group_columns)
    return replace(panel, frame=frame.reset_index(drop=True), schema=schema, source=f"{panel.source} [{what}]",
                   hash="", kept=kept)


def _row_positions(panel: Panel, rows: pd.DataFrame) -> np.ndarray:
    """Positions in ``panel.frame`` of the (country, year) rows of a model, in the model's row order."""
    index = pd.MultiIndex.from_frame(panel.frame[["country", "year"]])
    return index.get_indexer(pd.MultiIndex.from_frame(rows[["country", "year"]]))


#: how a treatment can be moved within country, and the word for what was done
REARRANGEMENTS = {"permute": "permuted", "shift": "rotated"}


def permute_within_country(panel: Panel, rows: pd.DataFrame, columns: list[str], rng: np.random.Generator, *,
                           how: str = "permute") -> Panel:
    """``columns`` (the treatment, with its measurement SD if any) moved jointly among each country's model rows:
    country means are unchanged, the within-country association with the outcome is broken. ``how="permute"``
    shuffles them; ``how="shift"`` rotates each country's series, in year order, by a random number of its rows
    (uniform over 0 .. n-1, the rotation group, so no direction is favoured), which keeps the series' serial
    dependence (its wrap-around joins its last year to its first)."""
    if how not in REARRANGEMENTS:
        raise ValueError(f"how must be one of {', '.join(REARRANGEMENTS)}, got {how!r}")
    frame = panel.frame.copy()
    pos = _row_positions(panel, rows)
    countries = rows["country"].to_numpy()
    years = rows["year"].to_numpy()
    values = frame.loc[pos, columns].to_numpy()
    out = values.copy()
    for c in np.unique(countries):
        idx = np.flatnonzero(countries == c)
        if how == "permute":
            out[idx] = values[rng.permutation(idx)]
        else:
            idx = idx[np.argsort(years[idx], kind="stable")]
            out[idx] = values[np.roll(idx, int(rng.integers(len(idx))))]
    frame.loc[pos, columns] = out
    return _with_frame(panel, frame, f"placebo: treatment {REARRANGEMENTS[how]} within country")


def permute_between_within_region(panel: Panel, rows: pd.DataFrame, column: str,
                                  rng: np.random.Generator) -> Panel:
    """Each country's mean of ``column`` over its model rows swapped with another country's of the same region,
    keeping every country's within-country deviations: the between association is broken."""
    frame = panel.frame.copy()
    pos = _row_positions(panel, rows)
    sub = rows[["country", "region"]].assign(x=frame.loc[pos, column].to_numpy(float))
    means = sub.groupby("country")["x"].mean()
    region_of = sub.groupby("country")["region"].first()
    new_mean = means.copy()
    for _, group in region_of.groupby(region_of):
        names = group.index.to_numpy()
        new_mean[names] = means[names].to_numpy()[rng.permutation(len(names))]
    shift = (new_mean - means)[sub["country"]].to_numpy()
    frame.loc[pos, column] = sub["x"].to_numpy() + shift
    return _with_frame(panel, frame, "between placebo: country means permuted within region")


def with_lead(panel: Panel, column: str, name: str) -> Panel:
    """``panel`` with ``name`` = next year's ``column`` in the same country (missing where that year is absent)."""
    nxt = panel.frame[["country", "year", column]].assign(year=lambda d: d["year"] - 1).rename(columns={column: name})
    frame = panel.frame.merge(nxt, on=["country", "year"], how="left")
    return _with_frame(panel, frame, f"lead of {column}", (name,))


def with_random_cause(panel: Panel, name: str, rng: np.random.Generator) -> Panel:
    """``panel`` with ``name``, a standard normal variable drawn independently per country-year."""
    frame = panel.frame.copy()
    frame[name] = rng.normal(0.0, 1.0, len(frame))
    return _with_frame(panel, frame, "random common cause", (name,))


def without(panel: Panel, column: str, value: str, kept: KeptLevels | None = None) -> Panel:
    """``panel`` without the rows whose ``column`` equals ``value`` (a region or a country left out); ``kept``:
    the levels its models keep although those rows are gone (see ``KeptLevels``)."""
    frame = panel.frame[panel.frame[column].astype(str) != value]
    return _with_frame(panel, frame, f"without {column} {value}", kept=kept)
