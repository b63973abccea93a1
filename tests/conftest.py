"""Shared fixtures. JAX gets one CPU device per chain before any test imports it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tipcausal.inference.sampling import reserve_devices

reserve_devices(4)  # one CPU device per chain, as a run asks for, before any test imports JAX

REAL_DATA_ENV = "TIPCAUSAL_DATA"
REQUIRE_ENV = "TIPCAUSAL_REQUIRE_REAL_DATA"


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real source-data folder (``$TIPCAUSAL_DATA``); skip, or fail under CI, when it is absent."""
    value = os.environ.get(REAL_DATA_ENV)
    path = Path(value) if value else None
    if path is None or not (path / "sources").is_dir():
        msg = (f"real data not found: set {REAL_DATA_ENV} to the shared data folder (the one holding sources/); "
               f"got {value!r}")
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(msg + f" ({REQUIRE_ENV}=1 forbids skipping)")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def sim():
    """The default simulated panel (seed of the default study)."""
    from tipcausal.simulation.structural import simulate_panel

    return simulate_panel(20241122)


@pytest.fixture(scope="session")
def small_sim():
    """A small simulated panel (40 countries) for fast sampler wiring tests."""
    from tipcausal.simulation.structural import SimulationConfig, simulate_panel

    return simulate_panel(7, SimulationConfig(n_countries=40))


@pytest.fixture(autouse=True)
def _own_fit_store(tmp_path_factory, monkeypatch):
    """Each test fits through its own empty fit store, so no test reuses another's fits (or writes models/)."""
    monkeypatch.setenv("TIPCAUSAL_STORE", str(tmp_path_factory.mktemp("store")))
