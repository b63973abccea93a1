"""Binding a panel to a model spec: complete cases, standardisation, within/between split, indices.

This is the only place the panel's columns become model arrays; the result is plain data
(``ModelData``) so a builder can be re-bound to new data without rebuilding the spec.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tipcausal.data.panel import Panel
from tipcausal.errors import InputError
from tipcausal.models.likelihoods import N_CATEGORIES, scores_to_categories
from tipcausal.models.spec import ModelSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelData:
    """Arrays for one outcome's model, with coordinates and the constants used to standardise."""

    categories: np.ndarray
    country_idx: np.ndarray
    year_idx: np.ndarray
    region_of_country: np.ndarray
    x_within: np.ndarray
    x_between: np.ndarray
    z_within: np.ndarray
    z_between: np.ndarray
    coords: dict[str, list]
    rows: pd.DataFrame
    treatment_mean: float
    treatment_sd: float
    covariate_scale: dict[str, tuple[float, float]] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def n_obs(self) -> int:
        """Number of country-years in the model."""
        return len(self.categories)

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-observation arrays the linear predictor reads."""
        return {"country_idx": self.country_idx, "year_idx": self.year_idx, "x_within": self.x_within,
                "x_between": self.x_between, "z_within": self.z_within, "z_between": self.z_between}


def _split(values: np.ndarray, country_idx: np.ndarray, n_countries: int, within_between: bool):
    if not within_between:
        return values, np.zeros_like(values)
    sums = np.zeros((n_countries,) + values.shape[1:])
    np.add.at(sums, country_idx, values)
    counts = np.bincount(country_idx, minlength=n_countries).reshape((-1,) + (1,) * (values.ndim - 1))
    means = (sums / counts)[country_idx]
    return values - means, means


def bind_data(panel: Panel, spec: ModelSpec) -> ModelData:
    """Select complete cases for ``spec``, standardise, split within/between and index countries/years."""
    frame = panel.frame
    needed = [spec.outcome, spec.treatment, *spec.covariates]
    missing_cols = [c for c in needed if c not in frame.columns]
    if missing_cols:
        raise InputError(f"{panel.source}: column(s) {', '.join(missing_cols)} needed by the model of "
                         f"{spec.outcome!r} are not in the panel")
    if "region" not in frame.columns:
        raise InputError(f"{panel.source}: the panel has no 'region' column (needed for the region level)")
    if spec.lagged_treatment:  # the treatment of year t - 1 of the same country (missing if that year is absent)
        prior = frame[["country", "year", spec.treatment]].assign(year=lambda d: d["year"] + 1)
        frame = frame.drop(columns=[spec.treatment]).merge(prior, on=["country", "year"], how="left")
    dropped = {c: int(frame[c].isna().sum()) for c in [*needed, "region"]}
    complete = frame[[*needed, "region"]].notna().all(axis=1)
    for col, n in dropped.items():
        if n:
            log.info("%s: %d country-year(s) missing %s dropped (complete-case analysis)", spec.outcome, n, col)
    df = frame.loc[complete, ["country", "year", "region", *needed]].sort_values(["country", "year"])
    df = df.reset_index(drop=True)
    if len(df) < 10:
        raise InputError(f"{panel.source}: only {len(df)} complete country-year(s) for {spec.outcome!r}")

    regions_per_country = df.groupby("country")["region"].nunique()
    inconsistent = regions_per_country[regions_per_country > 1]
    if len(inconsistent):
        raise InputError(f"{panel.source}: column 'region' changes within country for "
                         f"{', '.join(map(str, inconsistent.index[:8]))}")

    countries = sorted(df["country"].unique().tolist())
    years = sorted(int(y) for y in df["year"].unique())
    regions = sorted(df["region"].astype(str).unique().tolist())
    country_idx = df["country"].map({c: i for i, c in enumerate(countries)}).to_numpy(np.int64)
    year_idx = df["year"].map({y: i for i, y in enumerate(years)}).to_numpy(np.int64)
    region_map = df.groupby("country")["region"].first().astype(str)
    region_of_country = np.array([regions.index(region_map[c]) for c in countries], dtype=np.int64)

    x = df[spec.treatment].to_numpy(float)
    x_mean, x_sd = float(x.mean()), float(x.std(ddof=1))
    if not x_sd > 0:
        raise InputError(f"{panel.source}: the treatment {spec.treatment!r} does not vary")
    x_within, x_between = _split((x - x_mean) / x_sd, country_idx, len(countries), spec.within_between)

    scale: dict[str, tuple[float, float]] = {}
    z = np.zeros((len(df), len(spec.covariates)))
    for j, col in enumerate(spec.covariates):
        v = df[col].to_numpy(float)
        m, s = float(v.mean()), float(v.std(ddof=1))
        if not s > 0:
            raise InputError(f"{panel.source}: covariate {col!r} does not vary")
        scale[col] = (m, s)
        z[:, j] = (v - m) / s
    z_within, z_between = _split(z, country_idx, len(countries), spec.within_between)

    coords = {"country": countries, "year": years, "region": regions, "covariate": list(spec.covariates),
              "cutpoint": [f"{k}|{k + 1}" for k in range(1, N_CATEGORIES)], "obs": list(range(len(df)))}
    return ModelData(categories=scores_to_categories(df[spec.outcome]), country_idx=country_idx, year_idx=year_idx,
                     region_of_country=region_of_country, x_within=x_within, x_between=x_between,
                     z_within=z_within, z_between=z_between, coords=coords, rows=df[["country", "year", "region"]],
                     treatment_mean=x_mean, treatment_sd=x_sd, covariate_scale=scale, dropped=dropped)
