"""Batch speed: the default study end to end (cold, warm, rerun unchanged), the real study, and refits that
differ only in data. Prints figures; writes benchmarks/results/batch-*.json.

    python benchmarks/bench_batch.py study            # default study: cold / warm caches / rerun (store hits)
    python benchmarks/bench_batch.py refits --n 20    # 20 placebo-data refits of one P in one process
    python benchmarks/bench_batch.py real --runs cold rerun   # the real study (needs $TIPCAUSAL_DATA)

"cold" runs with an empty compiled-program store and an empty fit store; "warm" keeps the compiled programs
of the cold run but an empty store; "rerun" repeats the warm run unchanged (every fit from the store). Each run
is a fresh ``tipcausal run`` process; peak resident memory is that process's (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cli_run(study: str, out: Path, cache: Path, store: Path, extra: list[str] = ()) -> dict:
    env = {**os.environ, "TIPCAUSAL_JAX_CACHE": str(cache)}
    env.pop("TIPCAUSAL_STORE", None)
    cmd = [sys.executable, "-m", "tipcausal.cli", "run", study, "--out", str(out), "--store", str(store),
           "--quiet", *extra]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak resident memory
        wall = time.perf_counter() - t0
        log.seek(0)
        text = log.read()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(text[-3000:])
        raise SystemExit(f"tipcausal run failed with exit {code}")
    reused = text.count("reused the stored")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "reused": reused, "output_tail": text[-800:]}


def _store_sizes(store: Path) -> list[float]:
    return [sum(f.stat().st_size for f in entry.iterdir()) / 2**20 for entry in store.glob("??/*") if entry.is_dir()]


def bench_study(study: str, runs: tuple[str, ...] = ("cold", "warm", "rerun")) -> dict:
    work = Path(tempfile.mkdtemp(prefix="tipcausal-bench-"))
    cache, store, out = work / "jax-cache", work / "store", work / "out"
    rows = {}
    for label, fresh_cache, fresh_store in (("cold", True, True), ("warm", False, True), ("rerun", False, False)):
        if label not in runs:
            continue
        if fresh_cache:
            shutil.rmtree(cache, ignore_errors=True)
        if fresh_store:
            shutil.rmtree(store, ignore_errors=True)
        rows[label] = _cli_run(study, out, cache, store)
        r = rows[label]
        print(f"{study} {label:6}: {r['wall_s']:7.1f} s end to end, peak RSS {r['peak_rss_mb']:6.0f} MB, "
              f"{r['reused']} fit(s) from the store", flush=True)
    sizes = _store_sizes(store)
    summary = json.loads((out / "summary.json").read_text())
    print(f"store: {len(sizes)} fit(s), {min(sizes):.1f}-{max(sizes):.1f} MB each", flush=True)
    for outcome, o in summary["outcomes"].items():
        g = o.get("diagnostics", {})
        print(f"  {outcome}: gate {g.get('verdict')}, divergences {g.get('divergences')}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return {"study": study, "runs": rows, "store_mb_per_fit": sizes}


def bench_refits(n: int, outcome: str, draws: int, tune: int) -> dict:
    from tipcausal.inference.sampling import configure_jax

    os.environ["TIPCAUSAL_JAX_CACHE"] = tempfile.mkdtemp(prefix="tipcausal-jax-cache-")
    configure_jax(4)
    import numpy as np

    from tipcausal.data.panel import Panel
    from tipcausal.fit import fit_specification
    from tipcausal.inference.sampling import SamplerSettings
    from tipcausal.study.config import load_study
    from tipcausal.study.runner import prepare

    prepared = prepare(load_study("default"))
    panel, spec = prepared.panel, prepared.specs[outcome]
    settings = SamplerSettings(draws=draws, tune=tune)
    rng = np.random.default_rng(0)
    rows = []
    t_all = time.perf_counter()
    for i in range(n):
        frame = panel.frame.copy()
        if i:  # placebo data: the treatment permuted within each country (same shape, other values)
            col = spec.treatment
            frame[col] = frame.groupby("country")[col].transform(lambda s: rng.permutation(s.to_numpy()))
        data = Panel(frame=frame, schema=panel.schema, kind=panel.kind, source=panel.source)
        fit = fit_specification(data, spec, settings)
        t = fit.record.timings
        rows.append({"i": i, "wall_s": t.wall_s, "compile_s": t.compile_s, "sampling_s": t.sampling_s,
                     "gate": fit.gate.verdict})
        print(f"refit {i:2d}: sampler wall {t.wall_s:6.1f} s, outside NUTS {t.compile_s:5.2f} s, sampling "
              f"{t.sampling_s:6.1f} s, gate {fit.gate.verdict}", flush=True)
    total = sum(r["wall_s"] for r in rows)
    bound = sum(r["sampling_s"] for r in rows) + rows[0]["compile_s"]
    print(f"{n} data-only fits of {outcome}: sampler time {total:.1f} s; sum of sampling + first compile "
          f"{bound:.1f} s (target: at most that); refits 2..{n} spent {sum(r['compile_s'] for r in rows[1:]):.1f} s "
          f"outside NUTS in all; whole loop {time.perf_counter() - t_all:.1f} s", flush=True)
    return {"outcome": outcome, "draws": draws, "tune": tune, "rows": rows, "sampler_total_s": total,
            "bound_s": bound}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("part", choices=["study", "refits", "real"])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--outcome", default="protection")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--runs", nargs="+", default=["cold", "warm", "rerun"], choices=["cold", "warm", "rerun"],
                    help="which end-to-end runs of a study (the real study: cold rerun)")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU cores; python {sys.version.split()[0]}", flush=True)
    if args.part == "study":
        result = bench_study("default", tuple(args.runs))
    elif args.part == "real":
        if not os.environ.get("TIPCAUSAL_DATA"):
            raise SystemExit("set TIPCAUSAL_DATA to the shared data folder")
        result = bench_study("real", tuple(args.runs))
    else:
        result = bench_refits(args.n, args.outcome, args.draws, args.tune)
    out = Path(__file__).parent / "results" / f"batch-{args.part}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "cores": os.cpu_count(), "result": result}, indent=2,
                              default=str))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
