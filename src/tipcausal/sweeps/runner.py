"""A whole sweep: check the study, plan and validate every specification, fit what the store lacks on Dask, and
write the table and the page into the output folder all-or-nothing.

``run_sweep(study, ...)`` returns a ``SweepRun`` (the table, the plan, where it was written). ``dry_run(study)``
plans and validates without fitting and says how many fits are already stored and how long the rest may take.
Outputs (``[sweep]``'s folder, default ``<study output>/sweep``): ``sweep.parquet`` and ``sweep.csv`` (the table:
``sweeps.table``), ``sweep.json`` (the definition, the invalid and failed specifications, the analysis per
outcome, provenance, timings) and ``sweep.html``.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipcausal import __version__
from tipcausal.core import io, provenance
from tipcausal.core.errors import InputError
from tipcausal.core.rundir import check_output_dir, staged_run
from tipcausal.fitstore import FitStore, resolve_store
from tipcausal.sensitivity.panels import REARRANGEMENTS
from tipcausal.study.config import Study, load_study
from tipcausal.study.runner import prepare
from tipcausal.sweeps.definition import FitTask, SweepPlan, null_tasks, parse_sweep, plan_sweep
from tipcausal.sweeps.engine import default_workers, fit_on_cluster
from tipcausal.sweeps.table import sweep_frame

Say = Callable[[str], None]
#: Seconds per fit assumed by ``--dry-run`` when the store has no timing to go by (default study, one P, 4 chains
#: x (500 + 1000), 2 cores: about 30 s including compilation).
FALLBACK_FIT_S = 30.0


@dataclass(frozen=True)
class DryRun:
    """What a sweep would do: its plan, the fits already stored and an estimated time for the rest."""

    plan: SweepPlan
    stored: int
    estimate_s: float
    workers: int
    null_fits: int = 0
    shared: int = 0  # fits that another specification's identical model (same fit key) already counts

    def describe(self) -> str:
        """The specifications, one per line, then the counts and the estimate."""
        total = len(self.plan.tasks) + self.null_fits
        nulls = f" + {self.null_fits} null refits" if self.null_fits else ""
        same = f" ({self.shared} the same model as another specification's, fitted once)" if self.shared else ""
        lines = [f"{len(self.plan.points)} specification(s) x {len(self.plan.settings.outcomes)} outcome(s) = "
                 f"{len(self.plan.tasks)} fits{nulls}{same}; {self.stored} already in the store; "
                 f"{self.plan.excluded} excluded by rules; {len(self.plan.invalid)} invalid"]
        for p in self.plan.points:
            lines.append(f"  {p.index + 1:>3}  {p.spec_id}  {p.label}")
        for bad in self.plan.invalid:
            lines.append(f"  invalid: {bad.describe()}")
        lines.append(f"estimated time for the {total - self.shared - self.stored} missing fit(s) on {self.workers} "
                     f"worker(s): about {self.estimate_s / 60:.1f} min")
        return "\n".join(lines)


@dataclass(frozen=True)
class SweepRun:
    """A finished sweep: the table (one row per specification and outcome) and where it was written."""

    frame: pd.DataFrame
    plan: SweepPlan
    out_dir: Path
    document: dict[str, Any] = field(repr=False)
    pointwise: dict[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] = field(repr=False, default_factory=dict)
    null: pd.DataFrame | None = field(repr=False, default=None)

    @property
    def html_path(self) -> Path:
        """The sweep page."""
        return self.out_dir / "sweep.html"

    def summary(self, family: str = "pge") -> pd.DataFrame:
        """The joint statistics of each outcome's curve (median effect, shares with P(effect > 0) > 0.95 / < 0.05,
        Stouffer Z, null p-values when null refits were made), one row per outcome."""
        from tipcausal.sweeps.analysis import joint_summary

        rows = []
        for outcome in self.plan.settings.outcomes:
            part = self.frame[self.frame["outcome"] == outcome]
            null = None if self.null is None else self.null[self.null["outcome"] == outcome]
            rows.append(joint_summary(part, family, null))
        return pd.DataFrame(rows)

    def plot_curve(self, outcome: str, family: str = "pge") -> Any:
        """The specification curve of ``outcome`` (a figure that shows inline in Jupyter)."""
        from tipcausal.sweeps.curve import curve_figure

        if outcome not in self.plan.settings.outcomes:
            raise ValueError(f"{outcome!r} is not among the sweep's outcomes {', '.join(self.plan.settings.outcomes)}")
        return curve_figure(self.frame[self.frame["outcome"] == outcome], self.plan.settings.varied, family,
                            title=outcome)

    def _repr_html_(self) -> str:
        from tipcausal.core.htmltable import html_table

        counts = self.frame["status"].value_counts().to_dict()
        rows = [("specifications", len(self.plan.points)), ("outcomes", self.plan.settings.outcomes),
                ("choices varied", self.plan.settings.varied or "none"),
                ("fits", ", ".join(f"{v} {k}" for k, v in counts.items())),
                ("null replicates", self.plan.settings.null_count), ("page", str(self.html_path))]
        return html_table(rows, caption="Specification sweep") + self.summary().to_html(index=False, na_rep="n/a")


def sweep_store(study: Study, store: str | None) -> FitStore:
    """The fit store a sweep runs through (``store``, else the study's, else ``$TIPCAUSAL_STORE``, else ``models``).
    A sweep always has one: it is what makes it resumable."""
    where = store if store is not None else (study.store if isinstance(study.store, str) else None)
    resolved = resolve_store(where)
    assert resolved is not None
    check_output_dir(resolved.root, "fit store folder")
    return resolved


def _plan(study: Study, skip_invalid: bool, say: Say | None) -> tuple[SweepPlan, Any]:
    settings = parse_sweep(study)  # the table first: a bad [sweep] is reported before the data are read
    prepared = prepare(study, say)
    plan = plan_sweep(study, prepared, settings)
    if plan.invalid and not skip_invalid:
        listed = "\n".join(f"  - {bad.describe()}" for bad in plan.invalid)
        raise InputError(f"{study.source}: [sweep]: {len(plan.invalid)} specification(s) cannot be fitted:\n{listed}\n"
                         "Remove them with [[sweep.exclude]] rules, or pass --skip-invalid to fit the others.")
    if not plan.points:
        raise InputError(f"{study.source}: [sweep]: no valid specification to fit")
    return plan, prepared


def _null_replicates(plan: SweepPlan, prepared: Any) -> list[list[FitTask]]:
    """The fits of each null replicate (``[sweep.null] count`` of them)."""
    return [null_tasks(plan, prepared.panel, rep) for rep in range(1, plan.settings.null_count + 1)]


def _fit_seconds(store: FitStore, plan: SweepPlan) -> float:
    """Median wall time of stored fits with the sweep's sampler length (the fallback when there are none)."""
    base = plan.tasks[0].settings
    times = []
    for key in store.keys()[:500]:
        try:
            raw = json.loads((store.entry(key) / "record.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        s = raw.get("settings", {})
        if (s.get("draws"), s.get("tune"), s.get("chains")) == (base.draws, base.tune, base.chains):
            times.append(float(raw.get("timings", {}).get("wall_s", 0.0)))
    return statistics.median(times) if times else FALLBACK_FIT_S * (base.draws + base.tune) / 1500


def dry_run(study: Study | str | Path | None = None, *, store: str | None = None, workers: int | None = None,
            skip_invalid: bool = True, progress: Say | None = None) -> DryRun:
    """Plan and validate the sweep without fitting (invalid specifications are listed, not raised, unless
    ``skip_invalid`` is False)."""
    study = study if isinstance(study, Study) else load_study(study)
    plan, prepared = _plan(study, skip_invalid, progress)
    st = sweep_store(study, store)
    nulls = [t for rep in _null_replicates(plan, prepared) for t in rep]
    keys = {t.key for t in plan.tasks + nulls}
    stored = sum(st.has(k) for k in keys)
    n = workers or default_workers()
    estimate = (len(keys) - stored) * _fit_seconds(st, plan) / n
    return DryRun(plan=plan, stored=stored, estimate_s=estimate, workers=n, null_fits=len(nulls),
                  shared=len(plan.tasks) + len(nulls) - len(keys))


def _table(plan: SweepPlan, results: dict[str, Any]) -> tuple[pd.DataFrame, dict[tuple[str, str], Any]]:
    rows, pointwise = [], {}
    for point in plan.points:
        for task in point.tasks:
            r = results[task.key]
            # spec_id: a fit shared by two specifications (same model) carries the id of the one that ran it
            rows.append({**r.row, "spec_id": point.spec_id, "spec_label": point.label, **point.choices})
            if r.pointwise is not None and r.row["status"] == "ok":
                pointwise[(point.spec_id, task.outcome)] = (r.rows, r.pointwise)
    return sweep_frame(rows, tuple(plan.settings.choices)), pointwise


def _null_table(plan: SweepPlan, nulls: list[list[FitTask]], results: dict[str, Any]) -> pd.DataFrame | None:
    """The null refits' rows (the sweep table's columns plus ``null_rep``), or None without null refits."""
    if not nulls:
        return None
    labels = {p.spec_id: p for p in plan.points}
    rows = [{**results[t.key].row, "spec_id": t.spec_id, "spec_label": labels[t.spec_id].label,
             **labels[t.spec_id].choices, "null_rep": rep}
            for rep, tasks in enumerate(nulls, 1) for t in tasks]
    frame = sweep_frame(rows, tuple(plan.settings.choices))
    frame["null_rep"] = [r["null_rep"] for r in rows]
    return frame


def _analysis(frame: pd.DataFrame, plan: SweepPlan, pointwise: dict[tuple[str, str], Any],
              null: pd.DataFrame | None = None) -> dict[str, Any]:
    from tipcausal.sweeps.analysis import decision_importance, joint_summary, stacking_weights

    out = {}
    for outcome in plan.settings.outcomes:
        part = frame[frame["outcome"] == outcome]
        ok = part[part["status"] == "ok"].set_index("spec_id")
        stack = {sid: v for (sid, o), v in pointwise.items() if o == outcome and sid in ok.index}
        effects = {sid: (float(ok.loc[sid, "pge_mean"]), float(ok.loc[sid, "pge_p_positive"])) for sid in stack}
        out[outcome] = {"joint": joint_summary(part, "pge", null=None if null is None else
                                                null[null["outcome"] == outcome]),
                        "importance": decision_importance(part, plan.settings.varied).to_dict("records"),
                        "stacking": stacking_weights(stack, effects)}
    return out


def run_sweep(study: Study | str | Path | None = None, *, scheduler: str | None = None, workers: int | None = None,
              store: str | None = None, out: str | Path | None = None, skip_invalid: bool = False,
              security: Any = None, progress: Say | None = None) -> SweepRun:
    """Run the study's sweep (fitting only what the store lacks) and write its outputs into ``out`` (default
    ``<study output>/sweep``) all-or-nothing. ``scheduler``: a Dask scheduler address (else an embedded local
    cluster of ``workers`` processes); ``security``: a ``distributed.Security`` for a TLS scheduler."""
    started = time.perf_counter()
    study = study if isinstance(study, Study) else load_study(study)
    out_dir = check_output_dir(out if out is not None else Path(study.output_dir) / "sweep")
    plan, prepared = _plan(study, skip_invalid, progress)
    st = sweep_store(study, store)
    nulls = _null_replicates(plan, prepared)
    tasks = plan.tasks + [t for rep in nulls for t in rep]
    keys = {t.key for t in tasks}
    stored = sum(st.has(k) for k in keys)
    say = progress or (lambda _msg: None)
    moved = REARRANGEMENTS[plan.settings.null_method]
    say(f"[sweep] {len(plan.points)} specification(s) x {len(plan.settings.outcomes)} outcome(s): "
        f"{len(plan.tasks)} fits" + (f" + {len(tasks) - len(plan.tasks)} null refits ({len(nulls)} replicate(s) "
                                     f"with consultation {moved} within country)" if nulls else "")
        + (f" ({len(tasks) - len(keys)} the same model as another's, fitted once)" if len(keys) < len(tasks) else "")
        + f", {stored} already in the store {st.root}")
    results, memory = fit_on_cluster(tasks, str(Path(st.root).resolve()), scheduler=scheduler, workers=workers,
                                     security=security, say=say)
    frame, pointwise = _table(plan, results)
    null = _null_table(plan, nulls, results)
    analysis = _analysis(frame, plan, pointwise, null)
    meta = run_provenance(f"Specification sweep: {study.title or study.name}", study, plan, tasks, st, scheduler,
                          results, memory, started, seed=plan.settings.seed, data_hash=prepared.panel.hash,
                          data_source=prepared.panel.source)
    wall = meta["wall_s"]
    document = {"definition": plan.settings.to_dict(), "specifications": [
        {"spec_id": p.spec_id, "label": p.label, "choices": p.choices,
         "model_specs": {t.outcome: t.spec.to_dict() for t in p.tasks}} for p in plan.points],
        "invalid": [{"choices": b.choices, "reason": b.reason} for b in plan.invalid], "excluded": plan.excluded,
        "failed": frame.loc[frame["status"] != "ok", ["spec_id", "outcome", "status", "reasons"]].to_dict("records"),
        "analysis": analysis, "provenance": meta}
    from tipcausal.sweeps.page import render_sweep_page

    with staged_run(out_dir) as staging:
        frame.to_parquet(staging / "sweep.parquet", index=False)
        frame.to_csv(staging / "sweep.csv", index=False)
        if null is not None:
            null.to_parquet(staging / "sweep_null.parquet", index=False)
        io.write_json_atomic(staging / "sweep.json", document)
        html = render_sweep_page(frame, plan.settings.varied, plan.settings.outcomes, meta, nulls=null,
                                 pointwise=pointwise)
        io.write_text_atomic(staging / "sweep.html", html)
    say(f"[sweep] wrote {out_dir / 'sweep.html'}, sweep.parquet, sweep.csv and sweep.json ({wall:.0f} s)")
    return SweepRun(frame=frame, plan=plan, out_dir=out_dir, document=document, pointwise=pointwise, null=null)


def run_provenance(title: str, study: Study, plan: SweepPlan, tasks: list[FitTask], store: FitStore,
                   scheduler: str | None, results: dict[str, Any], memory: dict[str, float], started: float,
                   **what: Any) -> dict[str, Any]:
    """What sweep.json and design.json record of a run: the study, ``what`` (seed, data hash, ...), the DAG
    hashes of the plan's DAG choices, sampler, store, scheduler, fit counts, wall time since ``started``
    (``time.perf_counter``), worker peak memory, library versions and the time."""
    from tipcausal.causal.graph import load_dag

    return {"title": title, "study": study.name, "source": study.source, "tipcausal": __version__, **what,
            "dag_hashes": {c.label: load_dag(c.value).hash for c in plan.settings.choices["dag"]},
            "sampler": tasks[0].settings.to_dict() | {"seed": "derived per fit"}, "store": str(store.root),
            "scheduler": scheduler or "embedded local cluster", "fits": len(tasks),
            "reused": sum(r.reused for r in results.values()), "wall_s": round(time.perf_counter() - started, 1),
            "worker_peak_rss_mb": memory, "versions": provenance.library_versions(), "created": provenance.utc_now()}
