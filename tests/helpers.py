"""Shared test helpers: simulated ordinal panels with known parameters (one score generator,
``models.likelihoods.draw_scores``), and fits fabricated from random parameter values (no sampling) for tests of
the posterior, summary and report code on every model structure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from tipcausal.data.panel import Panel, PanelSchema
from tipcausal.fit import FitRecord, SpecFit, Timings, assess, fit_key
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import ModelData, bind_data
from tipcausal.models.families import stamp_family
from tipcausal.models.likelihoods import draw_scores
from tipcausal.models.spec import ModelSpec
from tipcausal.study.config import library_studies

CHAINS, DRAWS = 2, 20


def sampler_seed(seed: int) -> int:
    """A sampling test's seed, shifted by ``$TIPCAUSAL_TEST_SEED_OFFSET`` (default 0): rerun the statistical tests
    at other seeds to check that they hold by design, not by one seed's luck."""
    return seed + int(os.environ.get("TIPCAUSAL_TEST_SEED_OFFSET", "0"))


def _posterior(spec: ModelSpec, data: ModelData, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random draws of every variable the predictor, effects and report read, shaped (chain, draw, ...)."""
    n_c, n_y = len(data.coords["country"]), len(data.coords["year"])
    n_cov, n_cut = len(data.coords["covariate"]), len(data.coords["cutpoint"])

    def draw(*shape, scale=0.3):
        return rng.normal(0, scale, (CHAINS, DRAWS, *shape))

    post = {"cutpoints": np.sort(draw(n_cut, scale=1.0), axis=-1), "intercept": draw(n_c),
            "slope_mean": draw(), "slope": draw(n_c)}
    if spec.country_slopes:
        post["slope_sd"] = np.abs(draw()) + 0.1
    if spec.pooling == "partial":
        post["country_sd"] = np.abs(draw()) + 0.5
    if spec.year_effects != "none":
        post["year_effect"] = draw(n_y)
        if spec.year_effects != "fixed":
            post["year_sd"] = np.abs(draw()) + 0.1
    if spec.within_between:
        post["between_effect"] = draw()
    if n_cov:
        post["covariate_within"] = draw(n_cov)
        if spec.within_between:
            post["covariate_between"] = draw(n_cov)
    if data.miss_row.size:
        post["z_missing"] = draw(data.miss_row.size, scale=1.0)
    if data.x_se is not None:
        post["x_true"] = data.x_std + draw(data.n_obs, scale=0.1)
    return post


def fabricated_fit(panel: Panel, spec: ModelSpec, seed: int = 0) -> SpecFit:
    """A ``SpecFit`` of ``spec`` on ``panel`` whose posterior is random parameter values (no sampling), with
    sample statistics, constant and observed data in the layout every backend returns; assessed for real."""
    rng = np.random.default_rng(seed)
    data = bind_data(panel, spec)
    dims = {"cutpoints": ["cutpoint"], "intercept": ["country"], "slope": ["country"], "year_effect": ["year"],
            "covariate_within": ["covariate"], "covariate_between": ["covariate"], "z_missing": ["missing_value"],
            "x_true": ["obs"]}
    posterior = az.from_dict(posterior=_posterior(spec, data, rng), coords=data.coords, dims=dims).posterior
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((CHAINS, DRAWS), bool)),
                        "energy": (("chain", "draw"), rng.normal(0, 1, (CHAINS, DRAWS)))})
    constant = xr.Dataset({k: (("obs", "covariate") if v.ndim == 2 else ("miss" if k.startswith("miss_") else "obs"),
                               v) for k, v in data.arrays().items()})
    observed = xr.Dataset({"score": ("obs", data.categories)})
    idata = az.InferenceData(posterior=posterior, sample_stats=stats, constant_data=constant, observed_data=observed)
    settings = SamplerSettings(draws=DRAWS, tune=0, chains=CHAINS, seed=seed)
    key = fit_key(panel.hash, (spec.hash,), settings)
    stamp_family(idata, spec.family, spec.collapse_threshold)
    record = FitRecord(settings=settings, timings=Timings(0.0, 0.0, 0.0), key=key, panel_hash=panel.hash)
    return SpecFit(spec=spec, data=data, idata=idata, assessment=assess(idata, data, seed=seed), record=record)


# ---- simulated ordinal panels with known parameters (each test draws from one of these) -------------------------

CUTS = np.array([-1.5, -0.5, 0.5, 1.5])


def _frame(country: np.ndarray, n_countries: int, n_years: int, n_regions: int, **columns: Any) -> pd.DataFrame:
    """A country-year frame (countries C000.., years from 2000, regions R0.. by country number) with columns."""
    return pd.DataFrame({"country": [f"C{c:03d}" for c in country],
                         "year": np.tile(np.arange(2000, 2000 + n_years), n_countries),
                         "region": [f"R{c % n_regions}" for c in country], **columns})


def link_panel(link: str, seed: int, n_countries: int = 90, n_years: int = 12, slope: float = 0.5,
               between: float = 0.3, country_sd: float = 0.8) -> Panel:
    """One outcome ``y`` from a cumulative ``link`` model with country intercepts, a within slope on ``x`` and a
    between coefficient on its country mean."""
    rng = np.random.default_rng(seed)
    country = np.repeat(np.arange(n_countries), n_years)
    x = rng.normal(0, 1, n_countries)[country] + rng.normal(0, 0.6, country.size)
    xs = (x - x.mean()) / x.std(ddof=1)
    means = pd.Series(xs).groupby(country).transform("mean").to_numpy()
    eta = country_sd * rng.normal(0, 1, n_countries)[country] + slope * (xs - means) + between * means
    frame = _frame(country, n_countries, n_years, 4, y=draw_scores(rng, eta, CUTS, link), x=x)
    return Panel(frame=frame, schema=PanelSchema(outcomes=("y",), numeric=("x",)), kind="simulated",
                 source=f"test {link} seed {seed}")


def confounded_panel(seed: int, n_countries: int = 80, n_years: int = 12, missing_share: float = 0.35,
                     slope: float = 0.6, w_effect: float = 0.8) -> tuple[Panel, pd.Series]:
    """x and a confounder w share within-country variation; w drives the score; w is missing at random. Returns
    the panel and the true w."""
    rng = np.random.default_rng(seed)
    country = np.repeat(np.arange(n_countries), n_years)
    w = rng.normal(0, 1, n_countries)[country] + rng.normal(0, 0.8, country.size)
    x = 0.5 * w + rng.normal(0, 1, n_countries)[country] + rng.normal(0, 0.6, country.size)
    f = pd.DataFrame({"country": [f"C{c:03d}" for c in country], "x": x, "w": w,
                      "year": np.tile(np.arange(2000, 2000 + n_years), n_countries),
                      "region": [f"R{c % 4}" for c in country]})
    z = {c: (f[c] - f[c].mean()) / f[c].std(ddof=1) for c in ("x", "w")}
    within = {c: z[c] - z[c].groupby(country).transform("mean") for c in z}
    eta = 0.8 * rng.normal(0, 1, n_countries)[country] + slope * within["x"] + w_effect * within["w"]
    f["y"] = draw_scores(rng, eta.to_numpy(), CUTS)
    truth = f["w"].copy()
    f.loc[rng.random(country.size) < missing_share, "w"] = np.nan
    panel = Panel(frame=f, schema=PanelSchema(outcomes=("y",), numeric=("x", "w")), kind="simulated",
                  source=f"imputation test seed {seed}")
    return panel, truth


def joint_panel(seed: int, outcomes: tuple[str, ...], slopes: np.ndarray, country_sd: float, slope_sd: float,
                rho_intercept: float, n_countries: int = 100, n_years: int = 12) -> Panel:
    """Several outcomes whose country intercepts are correlated (``rho_intercept`` between every pair); slopes
    vary by country independently."""
    rng = np.random.default_rng(seed)
    p = len(outcomes)
    corr = np.eye(2 * p)
    corr[:p, :p] = rho_intercept + (1 - rho_intercept) * np.eye(p)
    sds = np.r_[[country_sd] * p, [slope_sd] * p]
    effects = rng.multivariate_normal(np.zeros(2 * p), corr * np.outer(sds, sds), size=n_countries)
    country = np.repeat(np.arange(n_countries), n_years)
    x = rng.normal(0, 1, n_countries)[country] + rng.normal(0, 0.7, country.size)
    xs = (x - x.mean()) / x.std(ddof=1)
    means = pd.Series(xs).groupby(country).transform("mean").to_numpy()
    frame = _frame(country, n_countries, n_years, 3, x=x)
    for k, name in enumerate(outcomes):
        eta = effects[country, k] + (slopes[k] + effects[country, p + k]) * (xs - means) + 0.2 * means
        frame[name] = draw_scores(rng, eta, CUTS)
    return Panel(frame=frame, schema=PanelSchema(outcomes=outcomes, numeric=("x",)), kind="simulated",
                 source=f"joint test seed {seed}")


def logit_panel(seed, beta=0.6, n_countries=150, n_years=12):
    """A panel from a known logit / ordered-logit model without country confounding."""
    rng = np.random.default_rng(seed)
    n = n_countries * n_years
    x = rng.normal(size=n)
    w = rng.normal(size=n)
    eta = beta * x + 0.3 * w
    cut = np.array([-2.0, -0.7, 0.7, 2.0])
    u = rng.logistic(size=n)
    score = 1 + (eta + u > cut[:, None]).sum(axis=0)
    return pd.DataFrame({"country": np.repeat([f"C{i}" for i in range(n_countries)], n_years),
                         "year": np.tile(np.arange(2000, 2000 + n_years), n_countries), "region": "R1",
                         "x": x, "w": w, "score": score}), x.std(ddof=1)


def small_study(tmp_path: Path, name: str = "s.toml", **replace: str) -> Path:
    """The default study with 30 countries and two outcomes, written into ``tmp_path``."""
    text = library_studies()["default"].read_text()
    for old, new in {"n_countries = 180": "n_countries = 30",
                     'outcomes = ["prosecution", "protection", "prevention"]': 'outcomes = ["protection", "prevention"]',
                     **replace}.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path
