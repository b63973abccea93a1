"""Calibration of the DAG implication tests on panels simulated from a known DAG with strong
within-country correlation: how often each test rejects true implications (size) and how often it
detects a missing edge (power), for the country-clustered and the naive i.i.d. tests.

The DAG is linear-Gaussian: ``z1 -> x -> m -> y``, ``z1 -> m``, ``z2 -> y`` (so ``x _||_ y | m`` and
four more independences hold). Every variable gets a country effect and AR(1) year-to-year noise, so
that errors and regressors are both strongly correlated within country, as in country-year panels.
With ``missing_edge > 0`` the data also have ``x -> y``, which the tested DAG omits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tipcausal.causal.implications import check_implications, implied_independences
from tipcausal.causal.graph import CausalGraph, parse_dag

CALIBRATION_DAG = {
    "name": "calibration",
    "title": "Linear-Gaussian calibration DAG",
    "nodes": {n: {"column": n, "type": "continuous"} for n in ("z1", "z2", "x", "m", "y")},
    "edges": ["z1 -> x", "z1 -> m", "x -> m", "m -> y", "z2 -> y"],
}


def calibration_graph() -> CausalGraph:
    """The known DAG the calibration panels are simulated from."""
    return parse_dag(CALIBRATION_DAG, "calibration DAG")


@dataclass(frozen=True)
class PanelDesign:
    """Size and dependence of a simulated panel."""

    n_countries: int = 60
    n_years: int = 12
    icc: float = 0.7         # share of each variable's noise variance that is a country effect
    rho: float = 0.5         # AR(1) correlation of the remaining year-to-year noise
    missing_edge: float = 0.0


def _noise(rng: np.random.Generator, d: PanelDesign) -> np.ndarray:
    country = rng.normal(0.0, np.sqrt(d.icc), size=(d.n_countries, 1))
    e = np.empty((d.n_countries, d.n_years))
    sd = np.sqrt(1.0 - d.icc)
    e[:, 0] = rng.normal(0.0, sd, d.n_countries)
    for t in range(1, d.n_years):
        e[:, t] = d.rho * e[:, t - 1] + np.sqrt(1 - d.rho ** 2) * rng.normal(0.0, sd, d.n_countries)
    return (country + e).ravel()


def simulate_calibration_panel(rng: np.random.Generator, design: PanelDesign) -> pd.DataFrame:
    """One panel from the calibration DAG (columns country, year, z1, z2, x, m, y)."""
    z1 = _noise(rng, design)
    z2 = _noise(rng, design)
    x = 0.6 * z1 + _noise(rng, design)
    m = 0.5 * x + 0.4 * z1 + _noise(rng, design)
    y = 0.5 * m + 0.5 * z2 + design.missing_edge * x + _noise(rng, design)
    country = np.repeat([f"C{i:03d}" for i in range(design.n_countries)], design.n_years)
    year = np.tile(np.arange(2000, 2000 + design.n_years), design.n_countries)
    return pd.DataFrame({"country": country, "year": year, "z1": z1, "z2": z2, "x": x, "m": m, "y": y})


def calibrate(n_sims: int, seed: int, design: PanelDesign = PanelDesign(), missing_edge: float = 0.25,
              alpha: float = 0.05, progress: Callable[[int], None] | None = None) -> dict:
    """Size (true DAG, ``design.missing_edge`` ignored) and power (data with ``x -> y``) of both tests."""
    graph = calibration_graph()
    implications = implied_independences(graph)
    target = next(i for i in implications if {i.x, i.y} == {"x", "y"})
    rng = np.random.default_rng(seed)
    size_rows, power_rows = [], []
    for s in range(n_sims):
        null = simulate_calibration_panel(rng, PanelDesign(design.n_countries, design.n_years, design.icc,
                                                           design.rho, 0.0))
        t = check_implications(null, graph, implications, alpha)
        size_rows.append(t.assign(sim=s))
        alt = simulate_calibration_panel(rng, PanelDesign(design.n_countries, design.n_years, design.icc,
                                                          design.rho, missing_edge))
        t = check_implications(alt, graph, [target], alpha)
        power_rows.append(t.assign(sim=s))
        if progress:
            progress(s + 1)
    size = pd.concat(size_rows, ignore_index=True)
    power = pd.concat(power_rows, ignore_index=True)
    per_test = {kind: float((size[f"p_{kind}"] < alpha).mean()) for kind in ("clustered", "naive")}
    familywise = {kind: float(size.groupby("sim")[f"rejected_{kind}"].any().mean()) for kind in ("clustered", "naive")}
    by_implication = size.groupby("implication").agg(
        clustered=("p_clustered", lambda p: float((p < alpha).mean())),
        naive=("p_naive", lambda p: float((p < alpha).mean()))).to_dict(orient="index")
    return {
        "n_sims": n_sims, "seed": seed, "alpha": alpha, "design": design.__dict__, "missing_edge": missing_edge,
        "implications": [i.text for i in implications],
        "size_per_test": per_test,
        "size_familywise_holm": familywise,
        "size_by_implication": by_implication,
        "power": {kind: float((power[f"p_{kind}"] < alpha).mean()) for kind in ("clustered", "naive")},
        "power_tested": target.text,
    }
