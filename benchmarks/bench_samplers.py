"""Benchmark the default study's fits per sampler: wall time (compile and sampling apart) and
minimum bulk ESS per second of sampling. Prints a table and writes benchmarks/results/*.json.

    python benchmarks/bench_samplers.py                      # numpyro, pymc, nutpie, hand; all three Ps
    python benchmarks/bench_samplers.py --samplers numpyro hand --outcomes protection

``numpyro`` is tipcausal's default path; ``hand`` is a hand-written NumPyro model of the same likelihood
(``hand_numpyro.py``) run with numpyro's own MCMC. ESS/s is min bulk ESS over sampling seconds; "e2e" is min
bulk ESS over the sampler's whole wall time (compile included).

tipcausal's store of compiled programs (TIPCAUSAL_JAX_CACHE) is pointed at a fresh temporary folder (a cold
compile, as on a new machine) unless --warm-cache is given. PyTensor's own cache (pymc, nutpie) is whatever
~/.pytensor holds; the first pymc/nutpie fit on a new machine compiles cold.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samplers", nargs="+", default=["numpyro", "pymc", "nutpie", "hand"])
    ap.add_argument("--outcomes", nargs="+", default=["prosecution", "protection", "prevention"])
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warm-cache", action="store_true", help="keep the user's store of compiled programs")
    args = ap.parse_args()
    if not args.warm_cache:
        os.environ["TIPCAUSAL_JAX_CACHE"] = tempfile.mkdtemp(prefix="tipcausal-jax-cache-")

    from tipcausal.inference.sampling import configure_jax

    configure_jax(args.chains)
    import arviz as az

    from tipcausal.inference.diagnostics import check_fit
    from tipcausal.fit import fit_specification
    from tipcausal.inference.sampling import SamplerSettings
    from tipcausal.study.config import load_study
    from tipcausal.study.runner import prepare

    study = load_study("default")
    prepared = prepare(study)
    panel, specs = prepared.panel, prepared.specs
    rows = []
    print(f"default study, {panel!r}; {args.chains} chains x {args.tune} tune + {args.draws} draws; "
          f"{os.cpu_count()} CPU cores; python {platform.python_version()}", flush=True)
    header = f"{'sampler':8} {'outcome':12} {'wall s':>7} {'compile s':>9} {'sample s':>8} {'min ESS':>8} " \
             f"{'ESS/s':>7} {'e2e':>6} {'div':>4} {'gate':>5}"
    print(header, flush=True)
    for backend in args.samplers:
        for outcome in args.outcomes:
            spec = specs[outcome]
            if backend == "hand":
                sys.path.insert(0, str(Path(__file__).parent))
                from hand_numpyro import fit_hand_numpyro
                from tipcausal.models.binding import bind_data

                h = fit_hand_numpyro(bind_data(panel, spec), spec, draws=args.draws, tune=args.tune,
                                     chains=args.chains, target_accept=study.sampler.target_accept,
                                     seed=study.sampler.seed,
                                     warmup_tree_depth=study.sampler.warmup_tree_depth)
                row = {"sampler": "hand", "outcome": outcome, "wall_s": h["wall_s"], "compile_s": h["compile_s"],
                       "sampling_s": h["sampling_s"], "min_ess_bulk": h["min_ess_bulk"],
                       "min_ess_per_s": h["min_ess_bulk"] / h["sampling_s"],
                       "min_ess_per_s_e2e": h["min_ess_bulk"] / h["wall_s"], "divergences": h["divergences"],
                       "gate": "-", "reasons": []}
                rows.append(row)
                print(f"{'hand':8} {outcome:12} {h['wall_s']:7.1f} {h['compile_s']:9.1f} {h['sampling_s']:8.1f} "
                      f"{h['min_ess_bulk']:8.0f} {row['min_ess_per_s']:7.1f} {row['min_ess_per_s_e2e']:6.1f} "
                      f"{h['divergences']:4d} {'-':>5}", flush=True)
                continue
            settings = SamplerSettings(backend=backend, draws=args.draws, tune=args.tune, chains=args.chains,
                                       target_accept=study.sampler.target_accept, seed=study.sampler.seed)
            t0 = time.perf_counter()
            run = fit_specification(panel, spec, settings)
            wall = time.perf_counter() - t0
            run_t = run.record.timings
            ess = float(az.ess(run.idata.posterior, method="bulk").to_array().min())
            gate = check_fit(run.idata)
            draw_grads = int(run.idata.sample_stats["n_steps"].sum())
            warm_grads = run.idata.posterior.attrs.get("warmup_gradient_evaluations")  # numpyro only
            row = {"sampler": backend, "outcome": outcome, "wall_s": run_t.wall_s, "fit_wall_s": wall,
                   "draw_gradients": draw_grads, "warmup_gradients": warm_grads,
                   "compile_s": run_t.compile_s, "sampling_s": run_t.sampling_s, "min_ess_bulk": ess,
                   "min_ess_per_s": ess / run_t.sampling_s, "min_ess_per_s_e2e": ess / run_t.wall_s,
                   "divergences": gate.divergences, "gate": gate.verdict, "reasons": list(gate.reasons)}
            rows.append(row)
            print(f"{backend:8} {outcome:12} {run_t.wall_s:7.1f} {run_t.compile_s:9.1f} {run_t.sampling_s:8.1f} "
                  f"{ess:8.0f} {row['min_ess_per_s']:7.1f} {row['min_ess_per_s_e2e']:6.1f} {gate.divergences:4d} "
                  f"{gate.verdict:>5}  gradients: warmup {'-' if warm_grads is None else f'{warm_grads / 1e3:.0f}k'}, "
                  f"draws {draw_grads / 1e3:.0f}k  "
                  f"{'; '.join(gate.reasons)}", flush=True)
    out = Path(__file__).parent / "results" / f"samplers-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "cores": os.cpu_count(), "rows": rows}, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
