"""Design diagnosis: which specifications can be trusted here, checked on panels with known effects.

``run_design(study)`` simulates ``sims`` panels from the study's structural model (``tipcausal.simulation``, the
default DAG's equations, with the user's structural parameters from ``[design.simulation]``), fits every
specification of the study's ``[sweep]`` on each through the sweep engine (Dask, the fit store: resumable), and
reports per specification and outcome the bias, RMSE, 90% interval coverage and power (share of fits with
P(effect > 0) > 0.95) of the average effect of +1 SD consultation, on the expected score and on P(score >= T),
each with its Monte Carlo standard error (DeclareDesign's ``diagnose_design``, for a DAG-driven hierarchical
ordinal model). The truth of each fit is the simulated average effect over the rows that fit used.

``[design]`` keys: ``sims`` (default 50), ``seed`` (of the simulations; default the study's data seed),
``n_countries`` (default: the study's simulated panel size, else 180), ``outcomes`` (default the sweep's),
``[design.simulation]`` (any ``SimulationConfig`` field, e.g. ``will_time_sd = 0.3`` or
``effect_mean = { prosecution = 0.2 }``), ``[design.sampler]`` (on top of ``[sweep.sampler]``) and
``[design.sweep]`` (the choices to diagnose, instead of ``[sweep]``'s; same keys).
Only fits that passed the diagnostics gate enter the statistics; the others are counted.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipcausal.core import io
from tipcausal.core.errors import InputError
from tipcausal.core.provenance import hash_json
from tipcausal.core.rundir import check_output_dir, staged_run
from tipcausal.models.binding import bind_data
from tipcausal.simulation.structural import SimulatedPanel, SimulationConfig, simulate_panel
from tipcausal.study.config import SimulatedData, Study, load_study
from tipcausal.study.runner import prepare
from tipcausal.sweeps.definition import SAMPLER_KEYS, FitTask, SweepPlan, parse_sweep, plan_sweep, tasks_on
from tipcausal.sweeps.engine import fit_on_cluster
from tipcausal.sweeps.runner import run_provenance, sweep_store
from tipcausal.sweeps.table import sweep_frame

Say = Callable[[str], None]
KEYS = {"sims", "seed", "n_countries", "outcomes", "simulation", "sampler", "sweep"}
DEFAULT_SIMS = 50
NOMINAL = 0.90  # the interval whose coverage is checked: the equal-tailed 90% interval (q05, q95)
POWER_P = 0.95  # a "detection": P(effect > 0) > 0.95
SUMMARY_COLUMNS = ("spec_id", "spec_label", "outcome", "estimand", "n_sims", "n_ok", "truth_mean", "estimate_mean",
                   "bias", "bias_mcse", "rmse", "coverage", "coverage_mcse", "coverage_ok", "power", "power_mcse")


@dataclass(frozen=True)
class DesignSettings:
    """The validated ``[design]`` table."""

    sims: int
    seed: int
    n_countries: int
    outcomes: tuple[str, ...] | None
    simulation: dict[str, Any]
    sampler: dict[str, Any]
    sweep: dict[str, Any] | None = None

    def config(self) -> SimulationConfig:
        """The structural parameters of the simulated panels."""
        base = SimulationConfig(n_countries=self.n_countries)
        merged = {}
        for k, v in self.simulation.items():
            current = getattr(base, k)
            merged[k] = {**current, **v} if isinstance(current, dict) and isinstance(v, dict) else v
        return replace(base, **merged)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (design.json)."""
        return {"sims": self.sims, "seed": self.seed, "n_countries": self.n_countries,
                "outcomes": None if self.outcomes is None else list(self.outcomes), "simulation": self.simulation,
                "sampler": self.sampler, "sweep": self.sweep}


def parse_design(study: Study, sims: int | None = None) -> DesignSettings:
    """The study's ``[design]`` table (optional), validated; ``sims`` overrides its count."""
    raw = study.tables.get("design") or {}
    where = f"{study.source}: [design]"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be a table")
    bad = set(raw) - KEYS
    if bad:
        raise InputError(f"{where} has unknown key(s) {', '.join(sorted(bad))}; valid keys: {', '.join(sorted(KEYS))}")
    count = raw.get("sims", DEFAULT_SIMS) if sims is None else sims
    if not isinstance(count, int) or isinstance(count, bool) or count < 2:
        raise InputError(f"{where} sims must be an integer >= 2, got {count!r}")
    simulated = isinstance(study.data, SimulatedData)
    seed = raw.get("seed", study.data.seed if simulated else 1)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"{where} seed must be an integer >= 0, got {seed!r}")
    n = raw.get("n_countries", study.data.n_countries if simulated else 180)
    if not isinstance(n, int) or isinstance(n, bool) or n < 12:
        raise InputError(f"{where} n_countries must be an integer >= 12, got {n!r}")
    simulation = dict(raw.get("simulation") or {})
    known = {f.name for f in fields(SimulationConfig)} - {"n_countries"}
    if set(simulation) - known:
        raise InputError(f"{where}.simulation has unknown key(s) {', '.join(sorted(set(simulation) - known))}; "
                         f"valid: {', '.join(sorted(known))}")
    try:
        DesignSettings(count, seed, n, None, simulation, {}).config()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}.simulation: {exc}") from None
    sampler = dict(raw.get("sampler") or {})
    if set(sampler) - SAMPLER_KEYS:
        raise InputError(f"{where}.sampler has unknown key(s) {', '.join(sorted(set(sampler) - SAMPLER_KEYS))}; "
                         f"valid: {', '.join(sorted(SAMPLER_KEYS))}")
    outcomes = raw.get("outcomes")
    if outcomes is not None and (not isinstance(outcomes, list) or not outcomes
                                 or any(o not in study.outcomes for o in outcomes)):
        raise InputError(f"{where} outcomes must be a non-empty list among {', '.join(study.outcomes)}, "
                         f"got {outcomes!r}")
    sweep = raw.get("sweep")
    if sweep is not None and (not isinstance(sweep, dict) or not sweep):
        raise InputError(f"{where}.sweep must be a table of sweep choices (the [sweep] keys), got {sweep!r}")
    return DesignSettings(sims=count, seed=seed, n_countries=n, outcomes=None if outcomes is None else tuple(outcomes),
                          simulation=simulation, sampler=sampler, sweep=sweep)


@dataclass(frozen=True)
class SimulatedFit:
    """One fit of the design: a specification on simulated panel ``sim`` and the true effects on its rows."""

    sim: int
    task: FitTask
    truth: dict[str, float]


def _sim_seed(settings: DesignSettings, i: int) -> int:
    return int(hash_json({"design_seed": settings.seed, "sim": i})[:8], 16) % (2 ** 31 - 1)


def _truth(sim: SimulatedPanel, task: FitTask) -> dict[str, float]:
    """The true average effects of +1 SD consultation over the fit's own rows, in the fit's units (its SD of
    consultation over those rows, not the full panel's). With a lagged treatment this is the same-year effect of
    the simulation (which has no lagged effect). NaN when the fit cannot bind (it then fails as a fit)."""
    try:
        data = bind_data(task.panel, task.spec)
    except InputError:
        return {"truth_es": math.nan, "truth_pge": math.nan}
    threshold = task.spec.collapse_threshold if task.spec.family.binary else 4
    scale = data.treatment_sd / float(sim.truth["treatment_sd"])
    truth = sim.true_average(task.outcome, data.rows, threshold, scale=scale)
    return {"truth_es": truth["expected_score"], "truth_pge": truth[f"p_score_ge_{threshold}"]}


def plan_design(study: Study, settings: DesignSettings, progress: Say | None = None
                ) -> tuple[SweepPlan, list[SimulatedFit]]:
    """The sweep's plan (validated on the first simulated panel) and every fit of every simulation."""
    if settings.sweep is not None:  # the design's own choices replace [sweep]'s (its seed and sampler are kept)
        kept = {k: v for k, v in (study.tables.get("sweep") or {}).items()
                if k in ("seed", "sampler", "outcomes", "prior_sets", "collapse_threshold")}
        study = replace(study, tables={**study.tables, "sweep": {**kept, **settings.sweep}})
    sweep = parse_sweep(study)
    if settings.outcomes is not None:
        sweep = replace(sweep, outcomes=settings.outcomes)
    sweep = replace(sweep, sampler={**sweep.sampler, **settings.sampler})
    prepared = prepare(replace(study, data=SimulatedData(seed=_sim_seed(settings, 1),
                                                         n_countries=settings.n_countries)), progress)
    config = settings.config()
    sims = [simulate_panel(_sim_seed(settings, i), config) for i in range(1, settings.sims + 1)]
    try:
        plan = plan_sweep(study, replace(prepared, panel=sims[0].panel, simulation=sims[0]), sweep)
    except InputError as exc:
        if settings.sweep is not None:
            raise
        raise InputError(f"{exc} (the design fits [sweep]'s choices on simulated panels, whose countries and "
                         "years are the simulator's: give the design its own choices in [design.sweep])") from None
    if not plan.points:
        reasons = "; ".join(b.describe() for b in plan.invalid)
        raise InputError(f"{study.source}: [sweep]: no specification can be fitted on the simulated panels: {reasons}")
    fits = [SimulatedFit(sim=i, task=t, truth=_truth(sim, t))
            for i, sim in enumerate(sims, 1) for t in tasks_on(plan, sim.panel)]
    return plan, fits


def _mcse_share(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 1e-12) / n) if n else math.nan


def diagnose(fits: pd.DataFrame) -> pd.DataFrame:
    """Per specification, outcome and estimand (``expected_score``, ``p_score_ge_T``): bias, RMSE, coverage of the
    90% interval, power, with Monte Carlo standard errors (of the bias, the coverage and the power), over the fits
    that passed the gate. ``coverage_ok``: coverage within 1.96 Monte Carlo SEs at the nominal rate of 90%."""
    out = []
    for (spec_id, outcome), group in fits.groupby(["spec_id", "outcome"], sort=False):
        ok = group[group["status"] == "ok"]
        for family, truth_col in (("es", "truth_es"), ("pge", "truth_pge")):
            est, truth = ok[f"{family}_mean"].to_numpy(float), ok[truth_col].to_numpy(float)
            keep = np.isfinite(est) & np.isfinite(truth)
            if family == "es" and not keep.any():
                continue  # a binary specification has no expected-score effect
            est, truth, part = est[keep], truth[keep], ok[keep]
            n = int(keep.sum())
            err = est - truth
            covered = ((part[f"{family}_q05"].to_numpy(float) <= truth)
                       & (truth <= part[f"{family}_q95"].to_numpy(float)))
            detected = part[f"{family}_p_positive"].to_numpy(float) > POWER_P
            coverage = float(covered.mean()) if n else math.nan
            threshold = int(group["pge_threshold"].iloc[0])
            out.append({
                "spec_id": spec_id, "spec_label": group["spec_label"].iloc[0], "outcome": outcome,
                "estimand": "expected_score" if family == "es" else f"p_score_ge_{threshold}",
                "n_sims": int(group["sim"].nunique()), "n_ok": n,
                "truth_mean": float(truth.mean()) if n else math.nan,
                "estimate_mean": float(est.mean()) if n else math.nan,
                "bias": float(err.mean()) if n else math.nan,
                "bias_mcse": float(err.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
                "rmse": float(np.sqrt((err ** 2).mean())) if n else math.nan,
                "coverage": coverage, "coverage_mcse": _mcse_share(coverage, n) if n else math.nan,
                "coverage_ok": bool(n and abs(coverage - NOMINAL) <= 1.96 * _mcse_share(NOMINAL, n)),
                "power": float(detected.mean()) if n else math.nan,
                "power_mcse": _mcse_share(float(detected.mean()), n) if n else math.nan})
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))


@dataclass(frozen=True)
class DesignRun:
    """A finished design diagnosis: the summary per specification, the fits behind it, where it was written."""

    summary: pd.DataFrame
    fits: pd.DataFrame = field(repr=False)
    out_dir: Path
    document: dict[str, Any] = field(repr=False)

    @property
    def html_path(self) -> Path:
        """The design page."""
        return self.out_dir / "design.html"

    def plot(self, outcome: str) -> Any:
        """Bias and coverage of each specification on ``outcome`` (a figure that shows inline in Jupyter)."""
        from tipcausal.sweeps.design_page import design_figure

        return design_figure(self.summary, outcome, NOMINAL)

    def _repr_html_(self) -> str:
        return ("<p><b>Design diagnosis</b> (" + str(self.html_path) + ")</p>"
                + self.summary.to_html(index=False, na_rep="n/a", float_format=lambda v: f"{v:.3f}"))


def run_design(study: Study | str | Path | None = None, *, sims: int | None = None,
               choices: dict[str, Any] | None = None, scheduler: str | None = None,
               workers: int | None = None, store: str | None = None, out: str | Path | None = None,
               security: Any = None, progress: Say | None = None) -> DesignRun:
    """Diagnose the study's sweep specifications on ``sims`` simulated panels (see the module docstring); outputs
    (``design_fits.parquet``, ``design.csv``, ``design.json``, ``design.html``) go to ``out`` (default
    ``<study output>/design``) all-or-nothing. ``choices``: the sweep choices to diagnose (``[sweep]`` keys),
    instead of ``[design.sweep]`` or ``[sweep]``."""
    started = time.perf_counter()
    study = study if isinstance(study, Study) else load_study(study)
    settings = parse_design(study, sims)
    if choices is not None:
        if not isinstance(choices, dict) or not choices:
            raise InputError(f"{study.source}: design choices must be a non-empty dict of sweep choices, got {choices!r}")
        settings = replace(settings, sweep=choices)
    out_dir = check_output_dir(out if out is not None else Path(study.output_dir) / "design")
    say = progress or (lambda _msg: None)
    plan, planned = plan_design(study, settings, progress)
    for b in plan.invalid:
        say(f"[design] skipped (invalid): {b.describe()}")
    st = sweep_store(study, store)
    tasks = [f.task for f in planned]
    stored = sum(st.has(t.key) for t in tasks)
    say(f"[design] {len(plan.points)} specification(s) x {len(plan.settings.outcomes)} outcome(s) x {settings.sims} "
        f"simulated panels ({settings.n_countries} countries): {len(tasks)} fits, {stored} already in the store")
    results, memory = fit_on_cluster(tasks, str(Path(st.root).resolve()), scheduler=scheduler, workers=workers,
                                     security=security, say=say)
    points = {p.spec_id: p for p in plan.points}
    rows = [{**results[f.task.key].row, "spec_id": f.task.spec_id, "spec_label": points[f.task.spec_id].label,
             **points[f.task.spec_id].choices, "sim": f.sim, **f.truth} for f in planned]
    frame = sweep_frame(rows, tuple(plan.settings.choices))
    for column in ("sim", "truth_es", "truth_pge"):
        frame[column] = [r[column] for r in rows]
    summary = diagnose(frame)
    panels = sorted({f.task.panel.hash for f in planned})
    meta = run_provenance(f"Design diagnosis: {study.title or study.name}", study, plan, tasks, st, scheduler,
                          results, memory, started, seed=settings.seed,
                          data_hash=hash_json(panels), data_source=f"{len(panels)} simulated panels (hash of their "
                          f"hashes)", design=settings.to_dict(), simulation=settings.config().to_dict())
    document = {"summary": json.loads(summary.to_json(orient="records")),  # NaN (no ok fit) as null
                "specifications": [{"spec_id": p.spec_id, "label": p.label, "choices": p.choices} for p in plan.points],
                "invalid": [{"choices": b.choices, "reason": b.reason} for b in plan.invalid],
                "excluded": plan.excluded, "provenance": meta}
    from tipcausal.sweeps.design_page import render_design_page

    with staged_run(out_dir) as staging:
        frame.to_parquet(staging / "design_fits.parquet", index=False)
        summary.to_csv(staging / "design.csv", index=False)
        io.write_json_atomic(staging / "design.json", document)
        io.write_text_atomic(staging / "design.html", render_design_page(summary, meta, NOMINAL))
    say(f"[design] wrote {out_dir / 'design.html'}, design.csv, design_fits.parquet and design.json")
    return DesignRun(summary=summary, fits=frame, out_dir=out_dir, document=document)
