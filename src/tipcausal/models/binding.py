"""Binding a panel to a model spec: complete cases, standardisation, within/between split, indices.

This is the only place the panel's columns become model arrays; the result is plain data
(``ModelData``) so a builder can be re-bound to new data without rebuilding the spec.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tipcausal.data.panel import KeptLevels, Panel
from tipcausal.core.errors import InputError
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
    #: measurement-error model: the standardised observed treatment and its measurement SD per row
    x_std: np.ndarray | None = None
    x_se: np.ndarray | None = None
    #: in-model imputation. Per missing value: (row, covariate), the country's observed mean (standardised; 0
    #: if it has none), whether it has any, and the row's within-country treatment deviation. Per observed value
    #: of an imputed covariate: its covariate, its deviation from the country mean and the treatment deviation.
    miss_row: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    miss_col: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    imp_mean: np.ndarray = field(default_factory=lambda: np.zeros(0))
    imp_has: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    imp_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    obs_col: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    obs_dev: np.ndarray = field(default_factory=lambda: np.zeros(0))
    obs_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    imputed: dict[str, int] = field(default_factory=dict)
    #: the row count a sampler pads the arrays to (a country left out by a refutation: the full fit's; 0: its own)
    pad_rows: int = 0

    @property
    def n_obs(self) -> int:
        """Number of country-years in the model."""
        return len(self.categories)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays the linear predictor reads (plus those of the measurement-error and imputation options)."""
        out = {"country_idx": self.country_idx, "year_idx": self.year_idx, "x_within": self.x_within,
               "x_between": self.x_between, "z_within": self.z_within, "z_between": self.z_between}
        if self.x_se is not None:
            out |= {"x_std": self.x_std, "x_se": self.x_se}
        if self.miss_row.size:
            out |= {"miss_row": self.miss_row, "miss_col": self.miss_col}
        return out

    def country_arrays(self) -> dict[str, np.ndarray]:
        """Per country: the treatment's and the covariates' country means (constant within a country, so their
        terms can sit in the country level instead of in every row's predictor)."""
        n = len(self.coords["country"])
        counts = np.maximum(np.bincount(self.country_idx, minlength=n), 1).astype(float)
        x = np.bincount(self.country_idx, weights=self.x_between, minlength=n) / counts
        z = np.zeros((n, self.z_between.shape[1]))
        np.add.at(z, self.country_idx, self.z_between)
        return {"x_between_country": x, "z_between_country": z / counts[:, None]}


def _split(values: np.ndarray, country_idx: np.ndarray, n_countries: int, within_between: bool):
    if not within_between:
        return values, np.zeros_like(values)
    sums = np.zeros((n_countries,) + values.shape[1:])
    np.add.at(sums, country_idx, values)
    counts = np.bincount(country_idx, minlength=n_countries).reshape((-1,) + (1,) * (values.ndim - 1))
    means = (sums / np.maximum(counts, 1))[country_idx]  # a kept country without rows has no mean to take
    return values - means, means


def _rows_error(panel: Panel, column: str, rows: pd.DataFrame, problem: str) -> InputError:
    listed = ", ".join(f"({r.country}, {int(r.year)})" for r in rows.head(10).itertuples())
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return InputError(f"{panel.source}: column {column!r}: {problem}; rows {listed}{more}")


def _country_means(z: np.ndarray, observed: np.ndarray, country_idx: np.ndarray, n_countries: int):
    """Per-country mean of each column over observed entries, and how many entries each mean used."""
    sums = np.zeros((n_countries, z.shape[1]))
    counts = np.zeros((n_countries, z.shape[1]))
    np.add.at(sums, country_idx, np.where(observed, z, 0.0))
    np.add.at(counts, country_idx, observed.astype(float))
    return np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0), counts


def _split_observed(z: np.ndarray, miss: np.ndarray, country_idx: np.ndarray, n_countries: int,
                    within_between: bool) -> tuple[np.ndarray, np.ndarray]:
    """Within/between split of covariates with missing entries: country means over observed values (0, the
    standardised grand mean, for a country with none); within deviations 0 at missing entries (the model adds
    the imputed deviation there)."""
    if not miss.any():
        return _split(z, country_idx, n_countries, within_between)
    if not within_between:
        return np.where(miss, 0.0, z), np.zeros_like(z)
    means, _ = _country_means(z, ~miss, country_idx, n_countries)
    between = means[country_idx]
    return np.where(miss, 0.0, z - between), between


def _imputation_arrays(z: np.ndarray, miss: np.ndarray, x_dev: np.ndarray, country_idx: np.ndarray,
                       n_countries: int) -> dict[str, np.ndarray]:
    """What the imputation model needs (see ``ModelData``): the country's observed mean (0, the grand mean, for a
    country with none) and whether it has one, per missing value; deviations from it per observed value of each
    covariate that has missing values; and the within-country treatment deviation of each."""
    means, counts = _country_means(z, ~miss, country_idx, n_countries)
    miss_row, miss_col = np.nonzero(miss)
    imputed_cols = np.unique(miss_col)
    observed = ~miss & np.isin(np.arange(z.shape[1]), imputed_cols)[None, :]
    obs_row, obs_col = np.nonzero(observed)
    return {"miss_row": miss_row.astype(np.int64), "miss_col": miss_col.astype(np.int64),
            "imp_mean": means[country_idx[miss_row], miss_col], "imp_has": counts[country_idx[miss_row], miss_col] > 0,
            "imp_x": x_dev[miss_row], "obs_col": obs_col.astype(np.int64),
            "obs_dev": z[obs_row, obs_col] - means[country_idx[obs_row], obs_col], "obs_x": x_dev[obs_row]}


def _needed_columns(panel: Panel, spec: ModelSpec) -> tuple[list[str], str | None]:
    """The panel columns the model of ``spec`` reads (checked present, with 'region'), and its measurement-SD column."""
    frame = panel.frame
    me_col = spec.measurement_error if isinstance(spec.measurement_error, str) else None
    needed = [spec.outcome, spec.treatment, *spec.covariates] + ([me_col] if me_col else [])
    missing_cols = [c for c in needed if c not in frame.columns]
    if missing_cols:
        raise InputError(f"{panel.source}: column(s) {', '.join(missing_cols)} needed by the model of "
                         f"{spec.outcome!r} are not in the panel")
    if "region" not in frame.columns:
        raise InputError(f"{panel.source}: the panel has no 'region' column (needed for the region level)")
    return needed, me_col


def _lag_treatment(frame: pd.DataFrame, treatment: str) -> pd.DataFrame:
    """``frame`` with the treatment of year t - 1 of the same country (missing if that year is absent)."""
    prior = frame[["country", "year", treatment]].assign(year=lambda d: d["year"] + 1)
    return frame.drop(columns=[treatment]).merge(prior, on=["country", "year"], how="left")


def _model_rows(panel: Panel, spec: ModelSpec, frame: pd.DataFrame,
                needed: list[str]) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """The model's rows (sorted by country, year), the count dropped per column and imputed per covariate."""
    required = [c for c in [*needed, "region"] if spec.missing == "complete_case" or c not in spec.covariates]
    dropped = {c: int(frame[c].isna().sum()) for c in required}
    complete = frame[required].notna().all(axis=1)
    for col, n in dropped.items():
        if n:
            log.info("%s: %d country-year(s) missing %s dropped (complete-case analysis)", spec.outcome, n, col)
    imputed = {c: int(frame.loc[complete, c].isna().sum()) for c in spec.covariates if c not in required}
    for col, n in imputed.items():
        if n:
            log.info("%s: %d missing value(s) of %s imputed in the model", spec.outcome, n, col)
    df = frame.loc[complete, ["country", "year", "region", *needed]].sort_values(["country", "year"])
    df = df.reset_index(drop=True)
    if len(df) < 10:
        raise InputError(f"{panel.source}: only {len(df)} complete country-year(s) for {spec.outcome!r}")
    return df, dropped, imputed


def _check_region_constant(panel: Panel, df: pd.DataFrame) -> None:
    """Raise if a country's region changes between its rows."""
    regions_per_country = df.groupby("country")["region"].nunique()
    inconsistent = regions_per_country[regions_per_country > 1]
    if len(inconsistent):
        raise InputError(f"{panel.source}: column 'region' changes within country for "
                         f"{', '.join(map(str, inconsistent.index[:8]))}")


def _indices(panel: Panel, df: pd.DataFrame) -> tuple[dict[str, list], np.ndarray, np.ndarray, np.ndarray]:
    """Sorted country, year and region levels (the panel's kept levels, if it has them), each row's country and
    year index, and each country's region index."""
    region_map = df.groupby("country")["region"].first().astype(str)
    kept = panel.kept
    if kept is None:
        countries = sorted(df["country"].unique().tolist())
        years = sorted(int(y) for y in df["year"].unique())
    else:
        countries, years = list(kept.countries), list(kept.years)
        region_map = pd.Series(kept.regions, index=countries)
        strays = df.loc[~df["country"].isin(countries) | ~df["year"].isin(years), ["country", "year"]]
        if len(strays):
            raise _rows_error(panel, "country", strays, "rows outside the levels the panel keeps")
    regions = sorted(set(region_map.tolist()))
    country_idx = df["country"].map({c: i for i, c in enumerate(countries)}).to_numpy(np.int64)
    year_idx = df["year"].map({y: i for i, y in enumerate(years)}).to_numpy(np.int64)
    region_of_country = np.array([regions.index(region_map[c]) for c in countries], dtype=np.int64)
    return {"country": countries, "year": years, "region": regions}, country_idx, year_idx, region_of_country


def kept_levels(data: ModelData) -> KeptLevels:
    """The levels and row count of a fit's data, for a fold that must keep them (see ``KeptLevels``)."""
    regions = data.coords["region"]
    return KeptLevels(countries=tuple(data.coords["country"]),
                      regions=tuple(regions[i] for i in data.region_of_country),
                      years=tuple(int(y) for y in data.coords["year"]), rows=max(data.n_obs, data.pad_rows))


def _treatment(panel: Panel, spec: ModelSpec, df: pd.DataFrame) -> tuple[np.ndarray, float, float]:
    """The treatment values and their mean and sample SD (raising if it does not vary)."""
    x = df[spec.treatment].to_numpy(float)
    x_mean, x_sd = float(x.mean()), float(x.std(ddof=1))
    if not x_sd > 0:
        raise InputError(f"{panel.source}: the treatment {spec.treatment!r} does not vary")
    return x, x_mean, x_sd


def _measurement_error(panel: Panel, spec: ModelSpec, df: pd.DataFrame, me_col: str | None, x: np.ndarray,
                       x_mean: float, x_sd: float) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The standardised observed treatment and its standardised measurement SD per row (None, None without one)."""
    if spec.measurement_error is None:
        return None, None
    se = df[me_col].to_numpy(float) if me_col else np.full(len(df), float(spec.measurement_error))
    bad = ~(se > 0)
    if bad.any():
        raise _rows_error(panel, me_col or "measurement_error", df.loc[bad], "a measurement SD must be > 0")
    return (x - x_mean) / x_sd, se / x_sd


def _standardised_covariates(panel: Panel, spec: ModelSpec,
                             df: pd.DataFrame) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """The covariates standardised over their observed values (NaN where missing), and each one's mean and SD."""
    scale: dict[str, tuple[float, float]] = {}
    z = np.zeros((len(df), len(spec.covariates)))
    for j, col in enumerate(spec.covariates):
        v = df[col].to_numpy(float)
        m, s = float(np.nanmean(v)), float(np.nanstd(v, ddof=1))
        if not s > 0:
            raise InputError(f"{panel.source}: covariate {col!r} does not vary")
        scale[col] = (m, s)
        z[:, j] = (v - m) / s
    return z, scale


def _coords(spec: ModelSpec, df: pd.DataFrame, levels: dict[str, list],
            imputation: dict[str, np.ndarray]) -> dict[str, list]:
    """The model's coordinates: levels, covariates, cutpoints, rows and, when imputing, the missing values."""
    miss_row, miss_col = imputation["miss_row"], imputation["miss_col"]
    coords = {**levels, "covariate": list(spec.covariates),
              "cutpoint": spec.family.cutpoint_labels(spec.collapse_threshold), "obs": list(range(len(df)))}
    if miss_row.size:
        coords["missing_value"] = [f"{df['country'].iloc[r]} {int(df['year'].iloc[r])} {spec.covariates[j]}"
                                   for r, j in zip(miss_row, miss_col)]
        coords["imputed_covariate"] = [spec.covariates[j] for j in np.unique(miss_col)]
        coords["observed_value"] = list(range(imputation["obs_col"].size))
    return coords


def bind_data(panel: Panel, spec: ModelSpec) -> ModelData:
    """Select complete cases for ``spec``, standardise, split within/between and index countries/years."""
    needed, me_col = _needed_columns(panel, spec)
    frame = _lag_treatment(panel.frame, spec.treatment) if spec.lagged_treatment else panel.frame
    df, dropped, imputed = _model_rows(panel, spec, frame, needed)
    _check_region_constant(panel, df)
    levels, country_idx, year_idx, region_of_country = _indices(panel, df)
    n_countries = len(levels["country"])

    x, x_mean, x_sd = _treatment(panel, spec, df)
    x_within, x_between = _split((x - x_mean) / x_sd, country_idx, n_countries, spec.within_between)
    x_std, x_se = _measurement_error(panel, spec, df, me_col, x, x_mean, x_sd)

    z, scale = _standardised_covariates(panel, spec, df)
    miss = np.isnan(z)
    x_dev, _ = _split((x - x_mean) / x_sd, country_idx, n_countries, True)
    imputation = _imputation_arrays(z, miss, x_dev, country_idx, n_countries)
    z_within, z_between = _split_observed(z, miss, country_idx, n_countries, spec.within_between)

    coords = _coords(spec, df, levels, imputation)
    categories = spec.family.categories(df[spec.outcome], spec.collapse_threshold)
    return ModelData(categories=categories, country_idx=country_idx, year_idx=year_idx,
                     region_of_country=region_of_country, x_within=x_within, x_between=x_between,
                     z_within=z_within, z_between=z_between, coords=coords, rows=df[["country", "year", "region"]],
                     treatment_mean=x_mean, treatment_sd=x_sd, covariate_scale=scale, dropped=dropped,
                     x_std=x_std, x_se=x_se, imputed=imputed, pad_rows=panel.kept.rows if panel.kept else 0,
                     **imputation)
