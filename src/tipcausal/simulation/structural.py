"""Simulated country-year panels from the default DAG's structural causal model, with known truth.

``simulate_panel(seed)`` draws a panel shaped like the real 3P / V-Dem study panel (about 180
countries in six regions, 2000-2013, unbalanced with fewer countries scored in early years) from
structural equations that follow the default DAG (``library/dags/default.yaml``):

    region -> gdp -> democracy -> corruption
    international_pressure (latent) -> political_will (latent) <- corruption
    {region, democracy, political_will} -> cso_consultation
    {region, gdp, democracy, corruption, political_will, cso_consultation} -> each P

Every outcome is an ordered-logit draw, scored 1..5. The causal effect of consultation varies by
country and by P. The returned ``SimulatedPanel`` carries the true parameters and the true
average and per-country effects of raising consultation by one (sample) standard deviation,
computed with the same ``do``-style shift that ``tipcausal.posterior.effects`` applies to a fit, so a
study can check recovery. Marginals are calibrated to the real panel (see ``SimulationConfig``).

Use it to check a design: change the effect sizes, shorten the panel, or set
``will_time_sd > 0`` to break the "political will is constant within country" assumption the
default study relies on, and see what the model recovers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from tipcausal.data.panel import Panel, PanelSchema
from tipcausal.models.likelihoods import expected_score, prob_score_at_least
from tipcausal.core.io import write_json_atomic, write_text_atomic

OUTCOMES = ("prosecution", "protection", "prevention")
TREATMENT_COLUMN = "v2cscnsult"
COVARIATE_COLUMNS = ("v2x_corr", "v2x_polyarchy", "log_gdp_pc")
YEARS = tuple(range(2000, 2014))

#: Structural parents used by the simulator, by DAG node id; a test checks them against the DAG.
STRUCTURAL_PARENTS: dict[str, tuple[str, ...]] = {
    "gdp": ("region",),
    "democracy": ("region", "gdp"),
    "corruption": ("gdp", "democracy"),
    "political_will": ("international_pressure", "corruption"),
    "cso_consultation": ("region", "democracy", "political_will"),
    **{p: ("region", "gdp", "democracy", "corruption", "political_will", "cso_consultation")
       for p in OUTCOMES},
}

#: Six V-Dem politico-geographic regions (e_regionpol_6C) and their country counts (sum 180).
REGIONS: dict[str, int] = {
    "E. Europe & C. Asia": 28,
    "Latin America & Caribbean": 32,
    "MENA": 19,
    "Sub-Saharan Africa": 46,
    "W. Europe & N. America": 21,
    "Asia & Pacific": 34,
}

#: Countries with a 3P score per year in the real index (2000..2013), for 183 countries.
REAL_COUNTRIES_SCORED = (80, 90, 119, 135, 152, 159, 163, 169, 174, 175, 180, 182, 183, 182)

#: Real marginal score shares 1..5 (3P index, 2000-2013).
REAL_SCORE_SHARES: dict[str, tuple[float, ...]] = {
    "prosecution": (0.031, 0.285, 0.098, 0.314, 0.272),
    "protection": (0.120, 0.316, 0.329, 0.183, 0.053),
    "prevention": (0.057, 0.173, 0.391, 0.267, 0.112),
}


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of the structural model. Defaults are calibrated to the real panel.

    Effects are on the logit scale per one sample SD of consultation: ``effect_mean[p]`` is the
    mean over countries of the country slope, ``effect_sd[p]`` the SD of country slopes.
    ``will_time_sd`` adds a year-to-year component to political will (0 keeps it constant within
    country, the assumption under which country effects absorb it).
    """

    n_countries: int = 180
    effect_mean: dict[str, float] = field(
        default_factory=lambda: {"prosecution": 0.05, "protection": 0.65, "prevention": 0.60})
    effect_sd: dict[str, float] = field(
        default_factory=lambda: {"prosecution": 0.25, "protection": 0.35, "prevention": 0.30})
    will_loading: dict[str, float] = field(
        default_factory=lambda: {"prosecution": 0.8, "protection": 0.45, "prevention": 0.5})
    country_sd: dict[str, float] = field(
        default_factory=lambda: {"prosecution": 1.2, "protection": 0.9, "prevention": 0.9})
    year_trend: dict[str, float] = field(
        default_factory=lambda: {"prosecution": 1.4, "protection": 0.6, "prevention": 1.2})
    score_shares: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(REAL_SCORE_SHARES))
    consultation_mean: float = 0.77
    consultation_sd: float = 1.31
    consultation_within_sd: float = 0.34
    will_time_sd: float = 0.0
    #: year-to-year persistence of that component (AR(1) coefficient; consultation's own dynamics use 0.7, so a
    #: lead of consultation carries information on today's will only when this differs from 0.7)
    will_time_rho: float = 0.7
    observed_share_after_entry: float = 0.99

    def __post_init__(self) -> None:
        """Refuse values the simulator cannot use (ValueError naming the field and the value)."""
        _check_config(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-able)."""
        return asdict(self)


_PER_P_FLOATS = {"effect_mean": None, "effect_sd": 0.0, "will_loading": None, "country_sd": 0.0, "year_trend": None}
_NON_NEGATIVE = (lambda v: v >= 0, " >= 0.0")
_SCALARS = {"consultation_mean": (lambda v: True, ""), "consultation_sd": _NON_NEGATIVE,
            "consultation_within_sd": _NON_NEGATIVE, "will_time_sd": _NON_NEGATIVE,
            "will_time_rho": (lambda v: abs(v) < 1, " in (-1, 1)"),
            "observed_share_after_entry": (lambda v: 0 < v <= 1, " in (0, 1]")}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _check_config(cfg: SimulationConfig) -> None:
    if not isinstance(cfg.n_countries, int) or isinstance(cfg.n_countries, bool) or cfg.n_countries < 1:
        raise ValueError(f"n_countries must be a positive integer, got {cfg.n_countries!r}")
    for name, floor in _PER_P_FLOATS.items():
        table = getattr(cfg, name)
        if not isinstance(table, dict) or set(table) != set(OUTCOMES):
            raise ValueError(f"{name} must give a number for each of {', '.join(OUTCOMES)}, got {table!r}")
        for p, v in table.items():
            if not _number(v) or (floor is not None and v < floor):
                raise ValueError(f"{name}.{p} must be a finite number" + (f" >= {floor}" if floor is not None else "")
                                 + f", got {v!r}")
    shares = cfg.score_shares
    if not isinstance(shares, dict) or set(shares) != set(OUTCOMES):
        raise ValueError(f"score_shares must give five shares for each of {', '.join(OUTCOMES)}, got {shares!r}")
    for p, v in shares.items():
        if (not isinstance(v, (list, tuple)) or len(v) != 5 or not all(_number(x) and x > 0 for x in v)
                or abs(sum(v) - 1.0) > 0.01):
            raise ValueError(f"score_shares.{p} must be five positive shares of scores 1-5 summing to 1 "
                             f"(within 0.01), got {v!r}")
    for name, (ok, bounds) in _SCALARS.items():
        v = getattr(cfg, name)
        if not _number(v) or not ok(v):
            raise ValueError(f"{name} must be a finite number{bounds}, got {v!r}")


@dataclass(frozen=True)
class SimulatedPanel:
    """A simulated panel and its truth: parameters, per-row latent predictors, true effects."""

    panel: Panel
    seed: int
    config: SimulationConfig
    truth: dict[str, Any]
    latent: pd.DataFrame  # per row: country, year, political_will, eta_<p>, slope_<p>

    def true_effects(self, rows: pd.DataFrame | None = None) -> dict[str, dict[str, Any]]:
        """True average/per-country effects of +1 SD consultation over ``rows`` (default: all)."""
        latent = self.latent
        if rows is not None:
            latent = latent.merge(rows[["country", "year"]], on=["country", "year"], how="inner")
        return {p: _effects_from_latent(latent, p, np.asarray(self.truth["cutpoints"][p]))
                for p in OUTCOMES}

    def true_average(self, outcome: str, rows: pd.DataFrame, threshold: int = 4, scale: float = 1.0
                     ) -> dict[str, float]:
        """The true average effect of raising consultation by ``scale`` panel SDs (a fit's +1 SD over its own rows
        is ``its SD / truth["treatment_sd"]`` of them) over ``rows`` (country, year) on ``outcome``'s expected
        score and on P(score >= ``threshold``): the estimands of a fit on those rows."""
        latent = self.latent.merge(rows[["country", "year"]], on=["country", "year"], how="inner")
        cut = np.asarray(self.truth["cutpoints"][outcome])
        eta = latent[f"eta_{outcome}"].to_numpy()
        shifted = eta + scale * latent[f"slope_{outcome}"].to_numpy()
        return {"expected_score": float((expected_score(shifted, cut) - expected_score(eta, cut)).mean()),
                f"p_score_ge_{threshold}": float((prob_score_at_least(shifted, cut, threshold)
                                                  - prob_score_at_least(eta, cut, threshold)).mean())}

    def save(self, directory: str | Path) -> dict[str, Path]:
        """Write panel.csv, truth.json and latent.csv into ``directory`` (each atomically)."""
        directory = Path(directory)
        paths = {
            "panel": directory / "panel.csv",
            "truth": directory / "truth.json",
            "latent": directory / "latent.csv",
        }
        write_text_atomic(paths["panel"], self.panel.frame.to_csv(index=False, lineterminator="\n"))
        write_text_atomic(paths["latent"], self.latent.to_csv(index=False, lineterminator="\n"))
        write_json_atomic(paths["truth"], {"seed": self.seed, "data_hash": self.panel.hash,
                                           "config": self.config.to_dict(), **self.truth})
        return paths


def simulation_schema() -> PanelSchema:
    """Schema of a simulated panel (the same column names as the real study panel)."""
    return PanelSchema(outcomes=OUTCOMES, numeric=(TREATMENT_COLUMN, *COVARIATE_COLUMNS),
                       year_min=YEARS[0], year_max=YEARS[-1])


def _entry_years(rng: np.random.Generator, n: int) -> np.ndarray:
    """Year each country is first scored, matching the real index's growth in coverage."""
    counts = np.round(np.maximum.accumulate(REAL_COUNTRIES_SCORED) * n / max(REAL_COUNTRIES_SCORED))
    counts = np.minimum(counts.astype(int), n)
    counts[-1] = n
    entry = np.empty(n, dtype=int)
    order = rng.permutation(n)
    start = 0
    for year, total in zip(YEARS, counts):
        entry[order[start:total]] = year
        start = max(start, total)
    return entry


def _standardise(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std(ddof=1)


def _calibrate_cutpoints(eta: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    """Cutpoints c_k with mean_i P(y_i <= k | eta_i) equal to the cumulative target shares."""
    cumulative = np.cumsum(shares)[:-1] / np.sum(shares)
    return np.array([
        brentq(lambda c, q=q: float(np.mean(expit(c - eta))) - q, -30.0, 30.0) for q in cumulative
    ])


def _effects_from_latent(latent: pd.DataFrame, outcome: str, cutpoints: np.ndarray) -> dict[str, Any]:
    eta = latent[f"eta_{outcome}"].to_numpy()
    shifted = eta + latent[f"slope_{outcome}"].to_numpy()  # +1 SD of consultation
    d_score = expected_score(shifted, cutpoints) - expected_score(eta, cutpoints)
    d_ge4 = prob_score_at_least(shifted, cutpoints, 4) - prob_score_at_least(eta, cutpoints, 4)
    per = pd.DataFrame({"country": latent["country"].to_numpy(), "expected_score": d_score,
                        "p_score_ge_4": d_ge4}).groupby("country", sort=True).mean()
    return {
        "expected_score": float(d_score.mean()),
        "p_score_ge_4": float(d_ge4.mean()),
        "by_country": {c: {"expected_score": float(r.expected_score), "p_score_ge_4": float(r.p_score_ge_4)}
                       for c, r in per.iterrows()},
    }


def _country_regions(n_countries: int) -> tuple[list[str], np.ndarray]:
    """Region names and the region index of each simulated country, sized in proportion to ``REGIONS``."""
    scale = n_countries / sum(REGIONS.values())
    sizes = {r: max(1, int(round(k * scale))) for r, k in REGIONS.items()}
    largest = max(sizes, key=sizes.get)
    sizes[largest] += n_countries - sum(sizes.values())
    region_names = list(REGIONS)
    region = np.repeat(np.arange(len(region_names)), [sizes[r] for r in region_names])
    return region_names, region


def _country_draws(rng: np.random.Generator, region: np.ndarray, n_c: int) -> dict[str, np.ndarray]:
    """Country-level draws: baseline GDP, democracy, corruption, latent pressure, consultation, effort, entry year."""
    region_gdp = np.array([8.7, 8.5, 8.9, 6.9, 10.4, 8.0])
    region_dem = np.array([0.2, 0.8, -1.1, -0.1, 2.2, 0.0])
    gdp_c = region_gdp[region] + rng.normal(0, 0.85, n_c)
    dem_c = region_dem[region] + 0.3 * (gdp_c - 8.3) + rng.normal(0, 0.9, n_c)
    corr_c = 0.45 - 0.5 * (gdp_c - 8.3) - 0.45 * dem_c + rng.normal(0, 0.9, n_c)
    pressure_c = rng.normal(0, 1, n_c)  # latent: international pressure and other causes of will
    cso_c = rng.normal(0, 0.6, n_c)
    shared_c = rng.normal(0, 1, n_c)  # country effort common to the three Ps
    entry = _entry_years(rng, n_c)
    return {"region": region, "gdp": gdp_c, "democracy": dem_c, "corruption": corr_c, "pressure": pressure_c,
            "consultation": cso_c, "shared": shared_c, "entry": entry}


def _ar1(rng: np.random.Generator, n_c: int, n_t: int, sd: float, rho: float = 0.7) -> np.ndarray:
    """A stationary AR(1) series over years for each country (countries by years)."""
    e = rng.normal(0, sd, (n_c, n_t))
    out = np.empty_like(e)
    out[:, 0] = e[:, 0] / np.sqrt(1 - rho**2)
    for j in range(1, n_t):
        out[:, j] = rho * out[:, j - 1] + e[:, j]
    return out


def _country_year_processes(rng: np.random.Generator, cfg: SimulationConfig,
                            country: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Country-year GDP, democracy, corruption, political will and consultation (countries by years)."""
    n_c = cfg.n_countries
    n_t = len(YEARS)
    t = np.arange(n_t)
    region_cso = np.array([0.0, 0.2, -0.3, 0.1, 0.2, -0.2])
    gdp_c, dem_c, corr_c = country["gdp"], country["democracy"], country["corruption"]
    gdp = gdp_c[:, None] + 0.02 * t[None, :] + _ar1(rng, n_c, n_t, 0.07)
    dem_logit = dem_c[:, None] + 0.45 * (gdp - gdp_c[:, None]) + _ar1(rng, n_c, n_t, 0.12)
    democracy = expit(dem_logit)
    corr_logit = (corr_c[:, None] - 0.55 * (gdp - gdp_c[:, None]) - 0.55 * (dem_logit - dem_c[:, None])
                  + _ar1(rng, n_c, n_t, 0.10))
    corruption = expit(corr_logit)
    corr_std = (corruption - 0.55) / 0.30
    will = (0.8 * country["pressure"][:, None] - 0.6 * corr_std
            + (_ar1(rng, n_c, n_t, cfg.will_time_sd, cfg.will_time_rho) if cfg.will_time_sd > 0 else 0.0))
    cso_latent = (region_cso[country["region"]][:, None] + country["consultation"][:, None] + 0.4 * (dem_logit - 0.2)
                  + 0.35 * will + _ar1(rng, n_c, n_t, cfg.consultation_within_sd * np.sqrt(1 - 0.7**2)))
    # put consultation on the V-Dem-like scale of the real panel
    consultation = cfg.consultation_mean + cfg.consultation_sd * (cso_latent - cso_latent.mean()) / cso_latent.std()
    return {"gdp": gdp, "democracy": democracy, "corruption": corruption, "will": will,
            "consultation": consultation}


def _scored_rows(rng: np.random.Generator, cfg: SimulationConfig, entry: np.ndarray,
                 process: dict[str, np.ndarray]) -> dict[str, Any]:
    """The scored country-years: their indices, treatment, covariates (raw and standardised) and political will."""
    n_c, n_t = cfg.n_countries, len(YEARS)
    years = np.array(YEARS)
    observed = (years[None, :] >= entry[:, None]) & (rng.random((n_c, n_t)) < cfg.observed_share_after_entry)
    observed[np.arange(n_c), entry - YEARS[0]] = True
    ci, ti = np.nonzero(observed)

    x = process["consultation"][ci, ti]
    x_std = (x - x.mean()) / x.std(ddof=1)  # one SD = the sample SD over scored country-years
    covs = {"v2x_corr": process["corruption"][ci, ti], "v2x_polyarchy": process["democracy"][ci, ti],
            "log_gdp_pc": process["gdp"][ci, ti]}
    cov_std = {k: _standardise(v) for k, v in covs.items()}
    return {"ci": ci, "ti": ti, "x": x, "x_std": x_std, "covs": covs, "cov_std": cov_std,
            "will": process["will"][ci, ti]}


def _panel_frames(rows: dict[str, Any], region_names: list[str], region: np.ndarray,
                  country_codes: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The panel frame of the scored rows (before outcomes) and the latent frame with their political will."""
    ci, ti, covs = rows["ci"], rows["ti"], rows["covs"]
    frame = pd.DataFrame({
        "country": country_codes[ci],
        "year": np.array(YEARS)[ti].astype(int),
        "region": np.array(region_names)[region[ci]],
        TREATMENT_COLUMN: np.round(rows["x"], 4),
        "v2x_corr": np.round(covs["v2x_corr"], 4),
        "v2x_polyarchy": np.round(covs["v2x_polyarchy"], 4),
        "log_gdp_pc": np.round(covs["log_gdp_pc"], 4),
    })
    latent = pd.DataFrame({"country": frame["country"], "year": frame["year"],
                           "political_will": rows["will"]})
    return frame, latent


def _simulate_outcomes(rng: np.random.Generator, cfg: SimulationConfig, country: dict[str, np.ndarray],
                       rows: dict[str, Any], frame: pd.DataFrame, latent: pd.DataFrame,
                       country_codes: np.ndarray) -> dict[str, Any]:
    """Draw each P's scores into ``frame`` (its predictor and slopes into ``latent``) and return their truth."""
    n_c = cfg.n_countries
    n_t = len(YEARS)
    t = np.arange(n_t)
    ci, ti, region = rows["ci"], rows["ti"], country["region"]
    truth: dict[str, Any] = {"cutpoints": {}, "effect_mean": {}, "slope_sd": {}, "country_slopes": {},
                             "year_effects": {}, "coefficients": {}}
    covariate_coef = {  # per standardised covariate, logit scale
        "prosecution": {"v2x_corr": -0.25, "v2x_polyarchy": 0.15, "log_gdp_pc": 0.35},
        "protection": {"v2x_corr": -0.25, "v2x_polyarchy": 0.20, "log_gdp_pc": 0.25},
        "prevention": {"v2x_corr": -0.25, "v2x_polyarchy": 0.25, "log_gdp_pc": 0.20},
    }
    region_out = {
        "prosecution": np.array([0.3, 0.0, -0.3, -0.4, 0.5, -0.1]),
        "protection": np.array([0.0, 0.1, -0.3, -0.2, 0.6, -0.2]),
        "prevention": np.array([0.1, 0.1, -0.3, -0.1, 0.4, -0.2]),
    }
    for p in OUTCOMES:
        slopes = cfg.effect_mean[p] + cfg.effect_sd[p] * rng.normal(0, 1, n_c)
        intercepts = region_out[p][region] + cfg.country_sd[p] * (0.8 * country["shared"] + 0.6 * rng.normal(0, 1, n_c))
        year_eff = cfg.year_trend[p] * (np.sqrt(t / (n_t - 1)) - 0.5) + rng.normal(0, 0.08, n_t)
        year_eff -= year_eff.mean()
        eta = (intercepts[ci] + year_eff[ti] + slopes[ci] * rows["x_std"]
               + sum(covariate_coef[p][k] * rows["cov_std"][k] for k in rows["covs"])
               + cfg.will_loading[p] * rows["will"])
        cut = _calibrate_cutpoints(eta, cfg.score_shares[p])
        u = rng.logistic(0, 1, len(eta))
        frame[p] = (np.searchsorted(cut, eta + u) + 1).astype(int)  # category k -> score k + 1
        latent[f"eta_{p}"] = eta
        latent[f"slope_{p}"] = slopes[ci]
        truth["cutpoints"][p] = cut.tolist()
        truth["effect_mean"][p] = cfg.effect_mean[p]
        truth["slope_sd"][p] = cfg.effect_sd[p]
        truth["country_slopes"][p] = dict(zip(country_codes.tolist(), slopes.round(6).tolist()))
        truth["year_effects"][p] = dict(zip([str(y) for y in YEARS], year_eff.round(6).tolist()))
        truth["coefficients"][p] = covariate_coef[p] | {"political_will": cfg.will_loading[p]}
    return truth


def simulate_panel(seed: int, config: SimulationConfig | None = None) -> SimulatedPanel:
    """Simulate a country-year panel from the default DAG's structural model (deterministic in ``seed``)."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__}")
    cfg = config or SimulationConfig()
    rng = np.random.default_rng(seed)
    region_names, region = _country_regions(cfg.n_countries)
    country = _country_draws(rng, region, cfg.n_countries)  # country-level draws
    process = _country_year_processes(rng, cfg, country)  # country-year processes (AR(1) within country)
    rows = _scored_rows(rng, cfg, country["entry"], process)  # which country-years are scored
    country_codes = np.array([f"S{i + 1:03d}" for i in range(cfg.n_countries)])
    frame, latent = _panel_frames(rows, region_names, region, country_codes)
    truth = _simulate_outcomes(rng, cfg, country, rows, frame, latent, country_codes)
    truth["treatment_sd"] = float(rows["x"].std(ddof=1))
    truth["structural_parents"] = {k: list(v) for k, v in STRUCTURAL_PARENTS.items()}

    panel = Panel(frame=frame, schema=simulation_schema(), kind="simulated",
                  source=f"tipcausal.simulation.structural.simulate_panel(seed={seed})")
    sim = SimulatedPanel(panel=panel, seed=int(seed), config=cfg, truth=truth, latent=latent)
    effects = sim.true_effects()
    truth["effects"] = {p: {k: v for k, v in e.items() if k != "by_country"} for p, e in effects.items()}
    truth["effects_by_country"] = {p: e["by_country"] for p, e in effects.items()}
    return sim


def load_truth(path: str | Path) -> dict[str, Any]:
    """Read a truth.json written by ``SimulatedPanel.save``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
