"""The one fitting path: ``fit_specification(panel, spec, settings) -> SpecFit`` and
``fit_joint(panel, specs, settings) -> JointFit``.

These are the only functions that bind data, build a model, sample and assess; the study runner, ``[[compare]]``
specifications, the joint model, SBC, the benchmarks, the notebooks and the tests all call them. A fit is a
pure function of (panel, spec, settings): its ``key`` hashes the panel hash, the spec hash, the sampler
settings (seed included) and the package version, and is stamped into the InferenceData with the likelihood
family, so effects, PPC and LOO of the fit (or of a saved copy) can never use another family. The returned
objects are frozen; persistence is the study store's job, not the fit's.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from pathlib import Path
from dataclasses import dataclass, field, replace
from typing import Any

import arviz as az

from tipcausal import __version__
from tipcausal.core.htmltable import cell, html_table
from tipcausal.core.provenance import hash_json
from tipcausal.data.panel import Panel
from tipcausal.inference.diagnostics import GateResult, check_fit
from tipcausal.inference.nuts import Adaptation
from tipcausal.inference.sampling import SamplerRun, SamplerSettings, sample
from tipcausal.models.binding import ModelData, bind_data
from tipcausal.models.build import build_model
from tipcausal.models.families import stamp_family
from tipcausal.models.joint import bind_joint, build_joint_model, correlation_summary, outcome_view
from tipcausal.models.spec import ModelSpec
from tipcausal.posterior.effects import Effects, effect_draws, effect_names, summarise_effects
from tipcausal.posterior.loo import LooSummary, loo_summary
from tipcausal.posterior.pointwise import Pointwise
from tipcausal.posterior.ppc import PredictiveCheck, predictive_shares

#: Minimum bulk ESS of the effect draws (the average effects the report states) for the gate to pass.
EFFECT_ESS_MIN = 400
KEY_ATTR = "tipcausal_fit_key"


@dataclass(frozen=True)
class Timings:
    """Seconds a fit took: wall clock, compilation and sampling."""

    wall_s: float
    compile_s: float
    sampling_s: float

    def to_dict(self) -> dict[str, float]:
        """Plain-data form."""
        return {"wall_s": self.wall_s, "compile_s": self.compile_s, "sampling_s": self.sampling_s}


@dataclass(frozen=True)
class FitRecord:
    """How a fit was made: sampler settings (seed included), timings, its content key, the panel hash and the
    sampler's notes."""

    settings: SamplerSettings
    timings: Timings
    key: str
    panel_hash: str
    notes: tuple[str, ...] = ()
    final: Adaptation | None = field(default=None, repr=False)  # where its chains ended (numpyro fits)


@dataclass(frozen=True)
class Assessment:
    """What is reported of one outcome's fit: the gate, effects, PSIS-LOO and the predictive check (the last two
    None for a fit assessed without them: a refit whose refutation reads only its gate and effects)."""

    gate: GateResult
    effects: Effects
    loo: LooSummary | None
    ppc: PredictiveCheck | None

    @property
    def predictive(self) -> bool:
        """True when PSIS-LOO and the predictive check were computed."""
        return self.loo is not None and self.ppc is not None

    def with_predictive(self, idata: az.InferenceData, data: ModelData, *, seed: int,
                        pointwise: Pointwise | None = None) -> Assessment:
        """This assessment with PSIS-LOO and the predictive check (computed when missing; ``pointwise``: the fit's
        observation-level quantities, when some are evaluated already)."""
        if self.predictive:
            return self
        pointwise = pointwise if pointwise is not None else Pointwise(idata)
        return replace(self, loo=loo_summary(pointwise, data.rows), ppc=predictive_shares(idata, seed=seed))

    @property
    def pointwise_elpd(self) -> Any:
        """Each observation's elpd (for comparisons on common country-years)."""
        if self.loo is None:
            raise ValueError("this fit was assessed without PSIS-LOO")
        return self.loo.pointwise


@dataclass(frozen=True)
class SpecFit:
    """One specification fitted to one panel: the stamped InferenceData, its bound data and its assessment."""

    spec: ModelSpec
    data: ModelData
    idata: az.InferenceData = field(repr=False)
    assessment: Assessment
    record: FitRecord
    #: the observation-level quantities its assessment evaluated (a fresh fit assessed with PSIS-LOO), kept for
    #: the run's saved groups and LOO-PIT; never stored, and let go with ``lean()``
    evaluated: Pointwise | None = field(default=None, repr=False, compare=False)

    def pointwise(self) -> Pointwise:
        """The fit's observation-level quantities: those its assessment evaluated, else new ones (evaluated on
        use)."""
        return self.evaluated if self.evaluated is not None else Pointwise(self.idata)

    def lean(self) -> SpecFit:
        """This fit without its evaluated observation-level quantities (they take memory: two float64 arrays of
        draws x observations)."""
        return self if self.evaluated is None else replace(self, evaluated=None)

    @property
    def gate(self) -> GateResult:
        """The diagnostics gate's verdict."""
        return self.assessment.gate

    @property
    def passed(self) -> bool:
        """True when the fit passed the gate."""
        return self.assessment.gate.passed

    def _repr_html_(self) -> str:
        gate = self.gate
        verdict = cell(gate.verdict.upper() + ("" if gate.passed else ": " + "; ".join(gate.reasons)))
        rows = [(name, e.mean, f"[{e.hdi_low:+.3f}, {e.hdi_high:+.3f}]", e.p_positive)
                for name, e in self.assessment.effects.average.items()]
        head = (f"<p><b>{cell(self.spec.outcome)}</b>: {cell(self.spec.describe())}; {self.data.n_obs} country-years; "
                f"diagnostics gate <b>{verdict}</b> (max R-hat {gate.max_rhat:.3f}, min bulk ESS "
                f"{gate.min_ess_bulk:.0f}, {gate.divergences} divergences)</p>")
        return head + html_table(rows, ["effect of +1 SD consultation", "mean", "94% HDI", "P(> 0)"])


@dataclass(frozen=True)
class JointFit:
    """Several outcomes fitted in one model: the whole fit, its gate, and one ``SpecFit`` view per outcome."""

    specs: tuple[ModelSpec, ...]
    idata: az.InferenceData = field(repr=False)
    gate: GateResult
    outcomes: Mapping[str, SpecFit]
    correlations: tuple[dict[str, Any], ...]
    record: FitRecord

    @property
    def passed(self) -> bool:
        """True when the whole fit passed the gate."""
        return self.gate.passed


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the source of every module that decides a fit's draws or its assessment (models, inference,
    posterior, this module), so an edited installation never reuses a stored fit made by other code."""
    root = Path(__file__).parent
    files = sorted([root / "fit.py", *(p for sub in ("models", "inference", "posterior")
                                       for p in (root / sub).rglob("*.py"))])
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(root).as_posix().encode())
        digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def fit_key(panel_hash: str, spec_hashes: tuple[str, ...], settings: SamplerSettings,
            warm_from: str | None = None) -> str:
    """The content key of a fit: panel hash, spec hash(es), sampler settings (seed included), package version,
    the code fingerprint, and the key of the fit it started warm from (if any)."""
    content = {"panel": panel_hash, "specs": list(spec_hashes), "sampler": settings.to_dict(),
               "tipcausal": __version__, "code": code_fingerprint()}
    return hash_json(content if warm_from is None else {**content, "warm_from": warm_from})


def fitted_spec(spec: ModelSpec, data: ModelData) -> ModelSpec:
    """The spec whose model is fitted to ``data``: in-model imputation with nothing to impute on these rows is the
    complete-case model (the same rows, standardisation and model, so the same draws), and shares its fit key."""
    if spec.missing == "impute" and not data.miss_row.size:
        return replace(spec, missing="complete_case")
    return spec


def spec_fit_key(panel: Panel, spec: ModelSpec, data: ModelData, settings: SamplerSettings,
                 warm_from: FitRecord | None = None) -> str:
    """The fit key of ``spec`` bound to ``data`` (``bind_data(panel, spec)``): that of the model it fits."""
    return fit_key(panel.hash, (fitted_spec(spec, data).hash,), settings, warm_key(warm_from, settings))


def warm_key(warm_from: FitRecord | None, settings: SamplerSettings) -> str | None:
    """The fit key a warm start comes from (None: a cold start: no earlier fit, one with no final state, or a
    backend other than numpyro, which starts cold)."""
    usable = warm_from is not None and warm_from.final is not None and settings.backend == "numpyro"
    return warm_from.key if usable else None


def assess(idata: az.InferenceData, data: ModelData, *, seed: int,
           gate_idata: az.InferenceData | None = None, predictive: bool = True,
           pointwise: Pointwise | None = None) -> Assessment:
    """Gate, effects, and (``predictive``) LOO and PPC of a single-outcome fit (``gate_idata``: the whole fit it
    is a view of; ``pointwise``: its observation-level quantities, evaluated here for PSIS-LOO)."""
    draws = effect_draws(idata)
    gate = check_fit(gate_idata if gate_idata is not None else idata, extra=draws[list(effect_names(idata))],
                     extra_ess_min=EFFECT_ESS_MIN)
    light = Assessment(gate=gate, effects=summarise_effects(idata, draws), loo=None, ppc=None)
    return light.with_predictive(idata, data, seed=seed, pointwise=pointwise) if predictive else light


def _sample(model: Any, spec: ModelSpec, key: str, settings: SamplerSettings, progress: bool,
            warm_from: FitRecord | None = None, min_rows: int = 0) -> SamplerRun:
    """The one call of the sampler: sample ``model`` (warm from ``warm_from``'s final state, if given) and stamp
    the family and fit key into the posterior."""
    run = sample(model, settings, progress=progress, warm=warm_from.final if warm_from is not None else None,
                 min_rows=min_rows)
    stamp_family(run.idata, spec.family, spec.collapse_threshold)
    run.idata.posterior.attrs[KEY_ATTR] = key
    return run


def _record(run: SamplerRun, settings: SamplerSettings, key: str, panel: Panel) -> FitRecord:
    timings = Timings(wall_s=run.wall_s, compile_s=run.compile_s, sampling_s=run.sampling_s)
    return FitRecord(settings=settings, timings=timings, key=key, panel_hash=panel.hash, notes=run.notes,
                     final=run.final)


def fit_specification(panel: Panel, spec: ModelSpec, settings: SamplerSettings, *,
                      progress: bool = False, predictive: bool = True, warm_from: FitRecord | None = None) -> SpecFit:
    """Fit ``spec`` to ``panel`` with ``settings``: bind, build, sample, stamp and assess (PSIS-LOO and the
    predictive check only when ``predictive``). ``warm_from``: an earlier fit whose final state and mass matrix
    the chains start from (numpyro; warmup then adapts the step size only)."""
    return fit_bound(panel, spec, bind_data(panel, spec), settings, progress=progress, predictive=predictive,
                     warm_from=warm_from)


def fit_bound(panel: Panel, spec: ModelSpec, data: ModelData, settings: SamplerSettings, *,
              progress: bool = False, predictive: bool = True, warm_from: FitRecord | None = None) -> SpecFit:
    """``fit_specification`` of ``spec`` already bound to ``panel`` as ``data``."""
    key = spec_fit_key(panel, spec, data, settings, warm_from)
    run = _sample(build_model(spec, data), spec, key, settings, progress, warm_from, data.pad_rows)
    pointwise = Pointwise(run.idata) if predictive else None
    assessment = assess(run.idata, data, seed=settings.seed, predictive=predictive, pointwise=pointwise)
    return SpecFit(spec=spec, data=data, idata=run.idata, assessment=assessment,
                   record=_record(run, settings, key, panel), evaluated=pointwise)


def fit_joint(panel: Panel, specs: list[ModelSpec], settings: SamplerSettings, *, progress: bool = False) -> JointFit:
    """Fit the joint model of ``specs``' outcomes (LKJ-correlated country effects) and assess each outcome."""
    datas = bind_joint(panel, specs)
    key = fit_key(panel.hash, tuple(s.hash for s in specs), settings)
    run = _sample(build_joint_model(specs, datas), specs[0], key, settings, progress)
    record = _record(run, settings, key, panel)
    assessments = {}
    for spec, data in zip(specs, datas):
        view = outcome_view(run.idata, spec.outcome)
        assessments[spec.outcome] = assess(view, data, seed=settings.seed, gate_idata=run.idata)
    gate = next(iter(assessments.values())).gate
    return joint_from(specs, datas, run.idata, gate, assessments, record)


def joint_from(specs: list[ModelSpec], datas: list[ModelData], idata: az.InferenceData, gate: GateResult,
               assessments: Mapping[str, Assessment], record: FitRecord) -> JointFit:
    """A ``JointFit`` from its parts (a fresh fit, or one read back from a store)."""
    views = {spec.outcome: SpecFit(spec=spec, data=data, idata=outcome_view(idata, spec.outcome),
                                   assessment=assessments[spec.outcome], record=record)
             for spec, data in zip(specs, datas)}
    return JointFit(specs=tuple(specs), idata=idata, gate=gate, outcomes=views,
                    correlations=tuple(correlation_summary(idata)), record=record)
