"""tipcausal: a Bayesian causal modeling workbench for anti-trafficking policy research.

    import tipcausal as tc
    run = tc.run("default")            # a library study, a study file, or tc.build_study(...)
    run.summary()                      # effects per outcome and specification, with the diagnostics gate
    run.plot_countries("prosecution")  # figures show inline in Jupyter

The package is organised by pipeline stage (see ARCHITECTURE.md): data -> causal -> models -> inference ->
posterior -> fit -> sensitivity -> study -> report -> api -> cli. Importing the package is cheap: the API
(``tipcausal.api``) is imported when one of its names is first used, and no sampler, JAX or DoWhy import
happens until a stage needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: the Python API's names, imported from ``tipcausal.api`` on first use
API = ("Study", "StudyRun", "Prepared", "build_study", "library_studies", "load_dag", "load_study", "plot_dag",
       "save_dag", "prepare", "rerender", "run", "run_sensitivity", "check_dag", "identify", "identify_variants",
       "build_data", "simulate", "SimulationConfig", "sweep", "sweep_dry_run", "design", "DryRun", "SweepRun",
       "DesignRun", "InputError", "DataValidationError", "ModelSpec", "SamplerSettings", "fit_model", "fit_joint",
       "effects_table", "correlations_table", "simulate_measurement_error")

__all__ = ["__version__", *API]


def __getattr__(name: str) -> Any:
    if name in API:  # (``run_sensitivity``, not ``sensitivity``: ``tipcausal.sensitivity`` is the subpackage)
        return getattr(importlib.import_module("tipcausal.api"), name)
    raise AttributeError(f"module 'tipcausal' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(API))
