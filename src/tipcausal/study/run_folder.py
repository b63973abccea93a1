"""A finished run's own fit files as the source of its fits, so its report can be rendered again (new code, new
report) without sampling: ``RunFolderFits`` answers the study runner's fit requests from ``<run>/fits``.

A saved fit is matched by what made it (outcome, model spec hash, panel hash and sampler settings, from its
provenance file), not by the fit key, since the key carries the code fingerprint and re-rendering after an
upgrade is the point. Each fit is assessed again by the current code. A request the folder cannot answer (a
different study, data or settings) is refused with one message naming the folder; nothing is sampled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import arviz as az

from tipcausal.core.errors import InputError
from tipcausal.data.panel import Panel
from tipcausal.fit import FitRecord, JointFit, SpecFit, Timings, assess, joint_from
from tipcausal.fitstore import FitStore
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.joint import bind_joint, outcome_view
from tipcausal.models.spec import ModelSpec


class RunFolderFits(FitStore):
    """The fits saved in a finished run's ``fits/`` folder, served like a fit store that never samples."""

    def __init__(self, run_dir: str | Path, derived_from: FitStore | None = None) -> None:
        super().__init__(Path(run_dir) / "fits")
        self.run_dir, self.derived_from = Path(run_dir), derived_from
        self.entries: list[tuple[dict[str, Any], Path]] = []
        for prov_file in sorted(self.root.rglob("*.provenance.json")):
            nc = prov_file.with_name(prov_file.name.removesuffix(".provenance.json") + ".nc")
            if nc.is_file():
                self.entries.append((json.loads(prov_file.read_text(encoding="utf-8")), nc))
        if not self.entries:
            raise InputError(f"{self.run_dir}: no saved fits (fits/*.nc with their .provenance.json): not a "
                             "finished tipcausal run folder")

    def _find(self, panel: Panel, spec: ModelSpec, settings: SamplerSettings, joint: bool) -> tuple[dict, Path]:
        for prov, path in self.entries:
            if (prov["model_hash"] == spec.hash and prov["data_hash"] == panel.hash
                    and prov["sampler"] == settings.to_dict() and str(prov["outcome"]).startswith("joint:") == joint):
                return prov, path
        raise InputError(f"{self.run_dir}: no saved fit of {spec.outcome} ({spec.describe()}) on this panel with "
                         f"these sampler settings; the folder holds "
                         f"{', '.join(sorted({str(p['outcome']) for p, _ in self.entries}))} "
                         "(re-render a run with the study, data and settings that made it, or use tipcausal run)")

    @staticmethod
    def _record(prov: dict[str, Any], settings: SamplerSettings, panel: Panel, path: Path) -> FitRecord:
        """The saved fit's record under its own key (the code that made it, not this code's fingerprint)."""
        return FitRecord(settings=settings, timings=Timings(**prov["timings"]), key=prov["fit_key"],
                         panel_hash=panel.hash,
                         notes=(*prov.get("sampler_notes", []), f"read back from the run's fit file {path}"))

    def fit(self, panel: Panel, spec: ModelSpec, settings: SamplerSettings, *, progress: bool = False,
            predictive: bool = True, warm_from: FitRecord | None = None) -> tuple[SpecFit, bool]:
        """The saved fit of ``spec`` on ``panel`` with ``settings``, assessed again; raises when there is none."""
        prov, path = self._find(panel, spec, settings, joint=False)
        idata = az.from_netcdf(path, engine="h5netcdf")
        idata.load()
        data = bind_data(panel, spec)
        assessment = assess(idata, data, seed=settings.seed, predictive=predictive)
        self.hits += 1
        return SpecFit(spec=spec, data=data, idata=idata, assessment=assessment,
                       record=self._record(prov, settings, panel, path)), True

    def fit_joint(self, panel: Panel, specs: list[ModelSpec], settings: SamplerSettings, *,
                  progress: bool = False) -> tuple[JointFit, bool]:
        """The saved joint fit of ``specs``, assessed again; raises when there is none."""
        prov, path = self._find(panel, specs[0], settings, joint=True)
        idata = az.from_netcdf(path, engine="h5netcdf")
        idata.load()
        datas = bind_joint(panel, specs)
        assessments = {s.outcome: assess(outcome_view(idata, s.outcome), d, seed=settings.seed, gate_idata=idata)
                       for s, d in zip(specs, datas)}
        self.hits += 1
        return joint_from(specs, datas, idata, next(iter(assessments.values())).gate, assessments,
                          self._record(prov, settings, panel, path)), True

    def derived(self, kind: str, inputs: dict[str, Any], compute: Any) -> tuple[Any, bool]:
        """Derived results (baselines, DAG variants): from ``derived_from`` (a fit store) when given, else
        computed again."""
        if self.derived_from is not None:
            return self.derived_from.derived(kind, inputs, compute)
        return compute(), False
