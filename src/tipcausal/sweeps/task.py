"""One sweep fit as a function a Dask worker runs: fit (or reuse) through the fit store, return the table row.

``run_fit(task, store_root)`` is the whole task: it sets JAX up for the worker (one host device per chain,
float64, the store of compiled programs) before anything imports JAX, fits through the one fitting path and the
content-addressed store (so an interrupted sweep loses at most the fits in flight), and turns the fit into its
table row. A fit that raises becomes a row with ``status = "error"`` and the reason; it does not stop the sweep.
The row holds only what the stored fit determines (no timings, no worker names), so a fit made now and the same
fit read back from the store give the same row, bit for bit.
"""

from __future__ import annotations

import math
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipcausal.sweeps.definition import FitTask
from tipcausal.sweeps.table import STATS

NAN = float("nan")


@dataclass(frozen=True)
class FitResult:
    """What a worker sends back: the row, the pointwise elpd with its rows (for stacking), and how it went."""

    row: dict[str, Any]
    reused: bool
    seconds: float
    worker: str
    rows: pd.DataFrame | None = field(default=None, repr=False)
    pointwise: np.ndarray | None = field(default=None, repr=False)


def _stats(prefix: str, summary: Any) -> dict[str, float]:
    if summary is None:
        return {f"{prefix}_{s}": NAN for s in STATS}
    return {f"{prefix}_{s}": float(getattr(summary, s)) for s in STATS}


def empty_row(task: FitTask, status: str, reasons: str) -> dict[str, Any]:
    """A row without numbers (a fit that raised)."""
    threshold = task.spec.collapse_threshold if task.spec.family.binary else 4
    return {"spec_id": task.spec_id, "outcome": task.outcome, "status": status, "reasons": reasons,
            "n_obs": -1, "n_countries": -1, **_stats("es", None), "pge_threshold": threshold, **_stats("pge", None),
            **_stats("slope", None), "elpd_loo": NAN, "elpd_se": NAN, "pareto_k_max": NAN, "max_rhat": NAN,
            "min_ess_bulk": NAN, "divergences": -1, "seed": task.settings.seed, "store_key": task.key}


def fit_row(task: FitTask, fit: Any) -> dict[str, Any]:
    """The table row of a fitted specification."""
    a = fit.assessment
    average = a.effects.average
    binary = task.spec.family.binary
    threshold = task.spec.collapse_threshold if binary else 4
    gate = a.gate
    loo = a.loo if task.spec.family.loo_comparable else None
    return {"spec_id": task.spec_id, "outcome": task.outcome, "status": "ok" if gate.passed else "gate_failed",
            "reasons": "" if gate.passed else "; ".join(gate.reasons), "n_obs": int(fit.data.n_obs),
            "n_countries": int(fit.data.rows["country"].nunique()),
            **_stats("es", None if binary else average["expected_score"]), "pge_threshold": threshold,
            **_stats("pge", average[f"p_score_ge_{threshold}"]), **_stats("slope", a.effects.slope_mean),
            "elpd_loo": NAN if loo is None else float(loo.elpd_loo), "elpd_se": NAN if loo is None else float(loo.se),
            "pareto_k_max": NAN if loo is None else float(loo.pareto_k_max), "max_rhat": float(gate.max_rhat),
            "min_ess_bulk": float(gate.min_ess_bulk), "divergences": int(gate.divergences),
            "seed": task.settings.seed, "store_key": task.key}


def run_fit(task: FitTask, store_root: str) -> FitResult:
    """Fit ``task`` through the store at ``store_root`` (reusing a stored fit) and return its row."""
    from tipcausal.inference.sampling import configure_jax

    configure_jax(task.settings.chains)
    from tipcausal.fitstore import FitStore
    from tipcausal.inference.memory import release_memory

    start = time.perf_counter()
    worker = f"{os.uname().nodename}:{os.getpid()}"
    try:
        fit, reused = FitStore(Path(store_root)).fit(task.panel, task.spec, task.settings)
    except Exception as exc:  # a failed fit is a row with its reason, never the end of the sweep
        reason = f"{type(exc).__name__}: {exc}".strip()
        tail = traceback.format_exc(limit=3).strip().splitlines()[-1]
        result = FitResult(row=empty_row(task, "error", reason if reason else tail), reused=False,
                           seconds=time.perf_counter() - start, worker=worker)
    else:
        loo = fit.assessment.loo
        comparable = task.spec.family.loo_comparable and loo is not None and math.isfinite(loo.elpd_loo)
        result = FitResult(row=fit_row(task, fit), reused=reused, seconds=time.perf_counter() - start,
                           worker=worker,
                           rows=fit.data.rows[["country", "year"]].reset_index(drop=True) if comparable else None,
                           pointwise=np.asarray(loo.pointwise) if comparable else None)
        del fit
    release_memory()  # a worker meets many structures: its resident size stays bounded
    return result
