"""Saving fits: the InferenceData as netCDF and its provenance as JSON beside it, each written atomically.

The runner hands every fit to ``save_fit`` with the study's context (``FitContext``); the provenance records
the seed, data hash, DAG hash, model spec, sampler settings, fit key, timings, the gate and library versions.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import arviz as az
import h5py
import pandas as pd

from tipcausal.core import io, provenance
from tipcausal.fit import JointFit, SpecFit
from tipcausal.fitstore import FitStore
from tipcausal.posterior.groups import with_pointwise_groups


@dataclass(frozen=True)
class FitContext:
    """What a saved fit records about the study it belongs to."""

    study: str
    study_file: str
    data_hash: str
    data_kind: str
    data_source: str
    data_build: dict[str, Any]
    dag_hash: str
    dag_source: str
    versions: dict[str, str]
    allow_unconverged: bool = False


def fit_provenance(fit: SpecFit | JointFit, label: str, context: FitContext,
                   identification: dict[str, Any] | None = None) -> dict[str, Any]:
    """The provenance of one fit (``label``: the outcome, or ``joint: P1, P2, ...``)."""
    data = fit.data if isinstance(fit, SpecFit) else next(iter(fit.outcomes.values())).data
    spec = fit.spec if isinstance(fit, SpecFit) else fit.specs[0]
    prov = {
        "study": context.study, "study_file": context.study_file, "outcome": label, "seed": fit.record.settings.seed,
        "sampler": fit.record.settings.to_dict(), "data_hash": context.data_hash, "data_kind": context.data_kind,
        "data_source": context.data_source, "dag_hash": context.dag_hash, "dag_source": context.dag_source,
        "data_build": context.data_build, "model_spec": spec.to_dict(), "model_hash": spec.hash,
        "fit_key": fit.record.key, "treatment_sd": data.treatment_sd, "treatment_mean": data.treatment_mean,
        "covariate_scale": data.covariate_scale, "dropped_incomplete": data.dropped, "imputed": data.imputed,
        "versions": context.versions, "created": provenance.utc_now(), "timings": fit.record.timings.to_dict(),
        "sampler_notes": list(fit.record.notes), "diagnostics": fit.gate.to_dict(),
        "allow_unconverged": context.allow_unconverged,
    }
    if identification is not None:
        prov["identification"] = identification
    return prov


def _same_fit_file(path: Path | None, prov: dict[str, Any]) -> bool:
    """True when ``path`` is a run folder's fit file of the fit ``prov`` describes (same fit key and seed, so the
    same draws and the same pointwise groups) with its ArviZ groups."""
    if path is None or not path.is_file():
        return False
    try:
        with h5py.File(path, "r") as fh:
            if not {"log_likelihood", "posterior_predictive", "posterior"} <= set(fh):
                return False
            attrs = fh["posterior"].attrs
            recorded = json.loads(attrs.get("tipcausal_provenance", "{}"))
            return attrs.get("tipcausal_fit_key") == prov["fit_key"] and recorded.get("seed") == prov["seed"]
    except (OSError, ValueError):  # unreadable, partly written or unparsable: write it again
        return False


def save_fit(idata: az.InferenceData, prov: dict[str, Any], path: Path, *, store: FitStore | None = None,
             rows: pd.DataFrame | None = None, previous: Path | None = None) -> Path:
    """Write a fit as netCDF plus ``<name>.provenance.json``, each atomically (verified before rename).

    ``rows`` (the model's rows, in observation order): the file also gets the ``log_likelihood`` and
    ``posterior_predictive`` groups and the observations' country and year (``posterior.groups``), for ArviZ's
    tools. Otherwise, with a ``store`` (which holds every fit that went through it, reused or just fitted), the
    stored file's bytes are copied and the provenance attribute set in place (HDF5): the file ``to_netcdf``
    would write, in a fraction of the time. ``previous``: where an earlier run of the same study keeps this fit
    (its output folder); when that file holds the same fit with its groups, its bytes are copied (a rerun with
    unchanged inputs evaluates nothing again)."""
    if rows is not None and _same_fit_file(previous, prov):
        stored = previous
    else:
        if rows is not None:
            idata = with_pointwise_groups(idata, rows, seed=prov["seed"])
        stored = store.fit_file(prov["fit_key"]) if store is not None and rows is None else None
        if stored is not None and not stored.is_file():  # a store that holds no file for it (a run folder's)
            stored = None
    summary = provenance.canonical_json({k: prov[k] for k in ("seed", "data_hash", "dag_hash", "model_hash")})
    idata.posterior.attrs["tipcausal_provenance"] = summary

    def verify(tmp: Path) -> None:
        with h5py.File(tmp, "r") as fh:
            if "posterior" not in fh or fh["posterior"].attrs.get("tipcausal_fit_key") != prov["fit_key"]:
                raise OSError(f"{tmp}: written fit has no posterior, or another fit's")

    def copy(tmp: Path) -> None:
        shutil.copyfile(stored, tmp)
        with h5py.File(tmp, "r+") as fh:
            fh["posterior"].attrs["tipcausal_provenance"] = summary

    writer = copy if stored is not None else (lambda tmp: idata.to_netcdf(str(tmp), engine="h5netcdf"))
    io.write_atomic_with(path, writer, verify)
    io.write_json_atomic(path.with_suffix(".provenance.json"), prov)
    return path
