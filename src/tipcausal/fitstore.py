"""A content-addressed store of fits: never fit the same thing twice.

An entry is addressed by the fit key (``tipcausal.fit.fit_key``: panel hash, spec hash(es), sampler settings with
the seed, package version and a fingerprint of the code that fits and assesses). It holds the stamped
InferenceData (``fit.nc``), the assessment (gate, effects, PSIS-LOO, predictive check; ``assessment.pkl``) and
the fit's record with the spec and library versions (``record.json``). An entry is written into a hidden staging
folder and renamed into place in one step, so readers see a whole entry or none; two writers of one key write
the same content, and the second keeps the first's. A damaged entry is reported and refitted.

The study runner, ``[[compare]]`` specifications, and (later) sensitivity refits and sweeps fit through
``FitStore.fit`` and ``FitStore.fit_joint``; with no store they fit directly. The store sits in ``models/`` (the
layout's fitted-artefacts folder) unless a study, ``$TIPCAUSAL_STORE`` or ``--store`` says otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import arviz as az
import numpy as np

from tipcausal import __version__
from tipcausal.core import io, provenance
from tipcausal.core.provenance import hash_json
from tipcausal.data.panel import Panel
from tipcausal.fit import (FitRecord, JointFit, SpecFit, Timings, code_fingerprint, fit_bound, fit_joint, fit_key,
                           fit_specification, fitted_spec, joint_from, spec_fit_key)
from tipcausal.inference.nuts import Adaptation
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.joint import bind_joint
from tipcausal.models.spec import ModelSpec

log = logging.getLogger(__name__)

STORE_ENV = "TIPCAUSAL_STORE"
DEFAULT_STORE = "models"
FILES = ("fit.nc", "assessment.pkl", "record.json")
#: Optional: where a numpyro fit's chains ended (positions, mass matrix, step size), for warm-started refits.
FINAL_STATE = "final_state.npz"
T = TypeVar("T")


@dataclass(frozen=True)
class StoreStats:
    """What a store did in this process: entries reused and entries written."""

    hits: int
    misses: int


class FitStore:
    """Fits by content key under ``root`` (``root/<key[:2]>/<key>/``)."""

    def __init__(self, root: str | Path, *, refit: bool = False) -> None:
        self.root = Path(root)
        self.refit = refit
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"FitStore({str(self.root)!r}, refit={self.refit})"

    @property
    def stats(self) -> StoreStats:
        """Hits and misses so far."""
        return StoreStats(hits=self.hits, misses=self.misses)

    def entry(self, key: str) -> Path:
        """The folder of the entry ``key``."""
        return self.root / key[:2] / key

    def fit_file(self, key: str) -> Path:
        """The stored InferenceData of the entry ``key``."""
        return self.entry(key) / "fit.nc"

    def has(self, key: str) -> bool:
        """True when a whole entry ``key`` is stored."""
        folder = self.entry(key)
        return all((folder / name).is_file() for name in FILES)

    def keys(self) -> list[str]:
        """Every stored key."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.glob("??/*") if p.is_dir() and not p.name.startswith("."))

    def size_bytes(self, key: str) -> int:
        """Bytes on disk of the entry ``key``."""
        return sum(f.stat().st_size for f in self.entry(key).iterdir() if f.is_file())

    # -- fitting through the store -------------------------------------------------------------------------

    def fit(self, panel: Panel, spec: ModelSpec, settings: SamplerSettings, *, progress: bool = False,
            predictive: bool = True, warm_from: FitRecord | None = None) -> tuple[SpecFit, bool]:
        """The fit of ``spec`` on ``panel`` with ``settings``, and whether it came from the store. ``predictive``:
        assessed with PSIS-LOO and the predictive check (added to a stored entry assessed without them);
        ``warm_from``: the fit whose final state its chains start from (part of the key)."""
        data = bind_data(panel, spec)
        key = spec_fit_key(panel, spec, data, settings, warm_from)
        if not self.refit:
            loaded = self._load(key)
            if loaded is not None:
                idata, payload, record = loaded
                self.hits += 1
                assessment = payload["assessment"]
                if predictive and not assessment.predictive:
                    assessment = assessment.with_predictive(idata, data, seed=settings.seed)
                    self._write_assessment(key, {"assessment": assessment})
                return SpecFit(spec=spec, data=data, idata=idata, assessment=assessment, record=record), True
        fit = fit_bound(panel, spec, data, settings, progress=progress, predictive=predictive, warm_from=warm_from)
        self._save(key, fit.idata, {"assessment": fit.assessment}, fit.record, [fitted_spec(spec, data)])
        self.misses += 1
        return fit, False

    def fit_joint(self, panel: Panel, specs: list[ModelSpec], settings: SamplerSettings, *,
                  progress: bool = False) -> tuple[JointFit, bool]:
        """The joint fit of ``specs`` on ``panel`` with ``settings``, and whether it came from the store."""
        key = fit_key(panel.hash, tuple(s.hash for s in specs), settings)
        if not self.refit:
            loaded = self._load(key)
            if loaded is not None:
                idata, payload, record = loaded
                self.hits += 1
                return joint_from(specs, bind_joint(panel, specs), idata, payload["gate"],
                                  payload["assessments"], record), True
        fit = fit_joint(panel, specs, settings, progress=progress)
        payload = {"gate": fit.gate, "assessments": {o: f.assessment for o, f in fit.outcomes.items()}}
        self._save(key, fit.idata, payload, fit.record, list(specs))
        self.misses += 1
        return fit, False

    def derived(self, kind: str, inputs: dict[str, Any], compute: Callable[[], T]) -> tuple[T, bool]:
        """A result derived deterministically from ``inputs`` (e.g. the frequentist baselines of a panel),
        computed once and read back afterwards; keyed by ``inputs``, the package version and code fingerprint."""
        key = hash_json({"kind": kind, "inputs": inputs, "tipcausal": __version__, "code": code_fingerprint()})
        path = self.root / "derived" / kind / f"{key}.pkl"
        if not self.refit and path.is_file():
            try:
                with open(path, "rb") as fh:
                    return pickle.load(fh), True
            except Exception as exc:  # damaged: computed again
                log.warning("fit store: %s is damaged (%s); computing again", path, exc)
        value = compute()
        io.write_atomic_with(path, lambda tmp: tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))
        return value, False

    # -- entries ---------------------------------------------------------------------------------------------

    def _load(self, key: str) -> tuple[az.InferenceData, dict[str, Any], FitRecord] | None:
        if not self.has(key):
            return None
        folder = self.entry(key)
        try:
            idata = az.from_netcdf(folder / "fit.nc", engine="h5netcdf")
            idata.load()
            with open(folder / "assessment.pkl", "rb") as fh:
                payload = pickle.load(fh)
            raw = json.loads((folder / "record.json").read_text(encoding="utf-8"))
        except Exception as exc:  # a damaged entry is refitted, never used
            log.warning("fit store: entry %s is damaged (%s); fitting again", folder, exc)
            return None
        if raw.get("key") != key or idata.posterior.attrs.get("tipcausal_fit_key") != key:
            log.warning("fit store: entry %s does not hold key %s; fitting again", folder, key)
            return None
        final = None
        if (folder / FINAL_STATE).is_file():
            try:
                with np.load(folder / FINAL_STATE) as arrays:
                    final = Adaptation.from_arrays(arrays)
            except Exception as exc:  # only warm starts need it: those refits start cold
                log.warning("fit store: %s is damaged (%s); fits from it start cold", folder / FINAL_STATE, exc)
        record = FitRecord(settings=SamplerSettings(**raw["settings"]), timings=Timings(**raw["timings"]),
                           key=key, panel_hash=raw["panel_hash"],
                           notes=(*raw["notes"], f"reused from the fit store ({folder})"), final=final)
        return idata, payload, record

    def _write_assessment(self, key: str, payload: dict[str, Any]) -> None:
        """Replace an entry's assessment (atomically: readers see the old one or the new one)."""
        io.write_atomic_with(self.entry(key) / "assessment.pkl",
                             lambda tmp: tmp.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)))

    def _save(self, key: str, idata: az.InferenceData, payload: dict[str, Any], record: FitRecord,
              specs: list[ModelSpec]) -> None:
        final = self.entry(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".staging-{key}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            # uncompressed: zlib saved 8% of a default-study fit (draws compress badly) and took 0.45 s of 0.8
            idata.to_netcdf(str(staging / "fit.nc"), engine="h5netcdf", compress=False)
            with open(staging / "assessment.pkl", "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
            raw = {"key": key, "panel_hash": record.panel_hash, "settings": record.settings.to_dict(),
                   "timings": record.timings.to_dict(), "notes": list(record.notes),
                   "seed": record.settings.seed, "model_specs": [s.to_dict() for s in specs],
                   "model_hashes": [s.hash for s in specs], "versions": provenance.library_versions(),
                   "created": provenance.utc_now()}
            (staging / "record.json").write_text(provenance.canonical_json(raw), encoding="utf-8")
            if record.final is not None:
                with open(staging / FINAL_STATE, "wb") as fh:
                    np.savez(fh, **record.final.to_arrays())
            for name in (*FILES, FINAL_STATE) if record.final is not None else FILES:
                with open(staging / name, "rb") as fh:
                    os.fsync(fh.fileno())
            if final.exists():
                if not self.refit and self.has(key):
                    return  # another writer stored the same key first: same inputs, same content
                old = final.parent / f".old-{key}-{os.getpid()}"
                os.rename(final, old)
                shutil.rmtree(old, ignore_errors=True)
            os.rename(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def resolve_store(path: str | Path | None, *, default: str | None = DEFAULT_STORE, refit: bool = False
                  ) -> FitStore | None:
    """The store at ``path``, else at ``$TIPCAUSAL_STORE``, else at ``default`` (None: no store)."""
    where = path if path is not None else os.environ.get(STORE_ENV) or default
    return FitStore(where, refit=refit) if where else None


def fit_stored(store: FitStore | None, panel: Panel, spec: ModelSpec, settings: SamplerSettings, *,
               progress: bool = False, predictive: bool = True,
               warm_from: FitRecord | None = None) -> tuple[SpecFit, bool]:
    """Fit through ``store`` (None: fit directly); returns the fit and whether it was reused. ``predictive``:
    assess with PSIS-LOO and the predictive check (refits that read only the gate and effects skip them);
    ``warm_from``: start the chains from that fit's final state and mass matrix."""
    if store is None:
        return fit_specification(panel, spec, settings, progress=progress, predictive=predictive,
                                 warm_from=warm_from), False
    return store.fit(panel, spec, settings, progress=progress, predictive=predictive, warm_from=warm_from)


def derived_stored(store: FitStore | None, kind: str, inputs: dict[str, Any], compute: Callable[[], T]) -> T:
    """``compute()`` through ``store``'s derived results (None: computed directly)."""
    return compute() if store is None else store.derived(kind, inputs, compute)[0]


def fit_joint_stored(store: FitStore | None, panel: Panel, specs: list[ModelSpec], settings: SamplerSettings, *,
                     progress: bool = False) -> tuple[JointFit, bool]:
    """Fit the joint model through ``store`` (None: fit directly); returns the fit and whether it was reused."""
    if store is None:
        return fit_joint(panel, specs, settings, progress=progress), False
    return store.fit_joint(panel, specs, settings, progress=progress)
