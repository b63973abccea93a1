"""Panels with known measurement error in the treatment, to check the measurement-error model.

True consultation x* varies between countries and within them; what is observed is x = x* + e with
e ~ Normal(0, me_sd). Scores follow a cumulative logit in the *true* within deviation and country mean.
A model that treats x as exact attenuates the within slope towards zero by about the reliability of the
within variation, var(x* within) / (var(x* within) + me_sd^2); the measurement-error model should not.

The true slope is reported in the models' units (per one SD of the observed treatment), so it compares
directly with a fitted ``slope_mean``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipcausal.data.panel import Panel, PanelSchema
from tipcausal.models.likelihoods import draw_scores

CUTPOINTS = np.array([-1.5, -0.5, 0.5, 1.5])


@dataclass(frozen=True)
class MESimulation:
    """A simulated panel (columns x, x_sd, y) and the truth behind it."""

    panel: Panel
    true_slope: float
    reliability: float
    me_sd: float


def simulate_me_panel(seed: int, *, n_countries: int = 80, n_years: int = 12, within_sd: float = 0.5,
                      between_sd: float = 1.0, me_sd: float = 0.4, slope_per_unit: float = 1.2,
                      between_per_unit: float = 0.3, country_sd: float = 0.8) -> MESimulation:
    """A panel whose observed treatment ``x`` is the true one plus Normal(0, ``me_sd``) noise."""
    rng = np.random.default_rng(seed)
    country = np.repeat(np.arange(n_countries), n_years)
    mean_c = rng.normal(0.0, between_sd, n_countries)
    x_true = mean_c[country] + rng.normal(0.0, within_sd, country.size)
    x_obs = x_true + rng.normal(0.0, me_sd, country.size)
    true_means = pd.Series(x_true).groupby(country).transform("mean").to_numpy()
    eta = (country_sd * rng.normal(0.0, 1.0, n_countries)[country] + slope_per_unit * (x_true - true_means)
           + between_per_unit * true_means)
    score = draw_scores(rng, eta, CUTPOINTS)
    frame = pd.DataFrame({"country": [f"C{c:03d}" for c in country],
                          "year": np.tile(np.arange(2000, 2000 + n_years), n_countries),
                          "region": [f"R{c % 4}" for c in country], "y": score, "x": x_obs,
                          "x_sd": np.full(country.size, me_sd)})
    panel = Panel(frame=frame, schema=PanelSchema(outcomes=("y",), numeric=("x", "x_sd")), kind="simulated",
                  source=f"measurement-error simulation (seed {seed})")
    reliability = within_sd ** 2 / (within_sd ** 2 + me_sd ** 2)
    return MESimulation(panel=panel, true_slope=float(slope_per_unit * x_obs.std(ddof=1)),
                        reliability=float(reliability), me_sd=me_sd)
