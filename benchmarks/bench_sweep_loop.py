"""The sweep on Dask against fitting the same specifications one after another with PyMC's default NUTS
sampler in a loop (the speed-up the sweep issue asks for), measured on a subset and extrapolated.

    python benchmarks/bench_sweep_loop.py real --specs 1 9 17 --outcomes prosecution
    python benchmarks/bench_sweep_loop.py real --sweep-json reports/real/sweep/sweep.json

Each subset fit goes through ``fit_specification`` exactly as the sweep's worker does (bind, build, sample,
assess: PSIS-LOO, the predictive check, effects), with the sweep's sampler settings except ``backend = "pymc"``
(``pm.sample``: PyTensor's C backend, one process per chain on the machine's cores). The loop's cost of the whole
sweep is the subset's mean wall time per fit times the sweep's fit count; the sweep's own cost is the wall time
recorded in ``sweep.json`` (run ``tipcausal sweep STUDY`` first). Prints one line per fit and the ratio.
Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", nargs="?", default="real")
    ap.add_argument("--specs", nargs="+", type=int, default=[1, 9, 17],
                    help="specification numbers as `tipcausal sweep --dry-run` lists them")
    ap.add_argument("--outcomes", nargs="+", default=["prosecution"])
    ap.add_argument("--sweep-json", type=Path, default=None,
                    help="the sweep's sweep.json (default: <study output dir>/sweep/sweep.json)")
    args = ap.parse_args()

    from tipcausal.fit import fit_specification
    from tipcausal.study.config import load_study
    from tipcausal.sweeps.runner import _plan

    study = load_study(args.study)
    plan, _ = _plan(study, True, None)
    chosen = [t for p in plan.points if p.index + 1 in args.specs for t in p.tasks if t.outcome in args.outcomes]
    if not chosen:
        raise SystemExit(f"no fit among specifications {args.specs} x outcomes {args.outcomes}")
    base = chosen[0].settings
    print(f"{args.study}: {len(plan.tasks)} sweep fits; subset {len(chosen)} fit(s) with PyMC's NUTS "
          f"({base.chains} chains x {base.tune} tune + {base.draws} draws, target_accept {base.target_accept}, "
          f"cores={min(base.chains, os.cpu_count() or 1)}); {os.cpu_count()} CPU cores; "
          f"python {platform.python_version()}", flush=True)
    print(f"{'spec':>4} {'outcome':12} {'wall s':>7} {'sample s':>8} {'min ESS':>8} {'div':>4} {'gate':>5}  choices",
          flush=True)
    walls = []
    for task in chosen:
        settings = dataclasses.replace(task.settings, backend="pymc")
        start = time.perf_counter()
        fit = fit_specification(task.panel, task.spec, settings)
        wall = time.perf_counter() - start
        walls.append(wall)
        gate = fit.assessment.gate
        label = next(p.label for p in plan.points if p.spec_id == task.spec_id)
        print(f"{task.index + 1:>4} {task.outcome:12} {wall:7.1f} {fit.record.timings.sampling_s:8.1f} "
              f"{gate.min_ess_bulk:8.0f} {gate.divergences:4d} {'pass' if gate.passed else 'FAIL':>5}  {label}",
              flush=True)
    per_fit = statistics.mean(walls)
    loop = per_fit * len(plan.tasks)
    path = args.sweep_json or Path(study.output_dir) / "sweep" / "sweep.json"
    print(f"PyMC loop: {per_fit:.1f} s per fit (mean of {len(walls)}), x {len(plan.tasks)} fits = {loop:.0f} s "
          f"({loop / 60:.1f} min)")
    if not path.is_file():
        print(f"no {path}: run `tipcausal sweep {args.study}` for the sweep's wall time")
        return
    meta = json.loads(path.read_text(encoding="utf-8"))
    run = meta["provenance"]
    wall, fits, reused = float(run["wall_s"]), int(run["fits"]), int(run.get("reused", 0))
    if reused:
        print(f"warning: {reused} of the sweep's {fits} fits were reused from the store; its wall time is not a "
              f"from-scratch figure")
    print(f"sweep on Dask ({path}): {wall:.0f} s ({wall / 60:.1f} min) for {fits} fits, {wall / fits:.1f} s per fit")
    print(f"speed-up: {loop / wall:.2f}x")


if __name__ == "__main__":
    main()
