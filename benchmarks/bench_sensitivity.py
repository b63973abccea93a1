"""Sensitivity analyses: their cost on the default study, and how they behave over repeated simulated panels.
Prints figures; writes benchmarks/results/sensitivity-*.json.

    python benchmarks/bench_sensitivity.py suite [--keep DIR]   # `tipcausal sensitivity` on the default study:
                                                            # wall time (empty store, then rerun), seconds per analysis
    python benchmarks/bench_sensitivity.py panels --n 10    # repeated 80-country panels (protection):
        - without time-varying confounding: within-country placebo (2 refits pooled) and lead placebo verdicts
          (their pass rates are the nominal-rate check);
        - with time-varying political will (will_time_sd 1, persistence rho 0.7 and 0.95 or --rho): the lead placebo's
          verdict, whether the plain fit's 90% interval and the confounding analysis at the true strength
          (measured by a fit that observes political will) cover the true average effect, and whether that
          analysis flags it (the plain posterior mean outside the adjusted 90% interval).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def suite(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        out, store = base / "out", base / "store"
        if args.keep and store.exists():
            raise SystemExit(f"{store} exists: --keep needs a fresh folder (the first run is with an empty store)")
        runs = {}
        for label in ("empty store", "rerun"):
            cmd = [sys.executable, "-m", "tipcausal.cli", "sensitivity", args.study, "--out", str(out), "--store",
                   str(store), "--quiet"]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode not in (0, 3):
                print(proc.stdout[-3000:], proc.stderr[-3000:])
                raise SystemExit(proc.returncode)
            summary = json.loads((out / "summary.json").read_text())
            sens = summary["sensitivity"]
            rows = [r for rs in sens.get("refutations", {}).values() for r in rs]
            refits, failed = sum(r["n_refits"] for r in rows), sum(r["n_failed_gate"] for r in rows)
            runs[label] = {"wall_s": wall, "exit": proc.returncode, "seconds": sens["seconds"],
                           "refutation_counts": sens["refutation_counts"], "refits_counted": refits,
                           "refits_failed_gate": failed,
                           "fits_in_store": len([p for p in store.glob("??/*") if p.is_dir()])}
            print(f"{label}: {wall:.0f} s (exit {proc.returncode}); refits counted by the refutations {refits} "
                  f"(the placebo refits twice: within and between), {failed} of them failed the gate; "
                  f"{runs[label]['fits_in_store']} fits in the store (primaries included)")
            for key, sec in sens["seconds"].items():
                print(f"    {key:28s} {sec:7.1f} s")
        print("verdicts:", json.dumps(runs["empty store"]["refutation_counts"]))
        kinds: dict[str, list[tuple[float, float]]] = {}
        for record in store.glob("??/*/record.json"):
            raw = json.loads(record.read_text())
            notes = " ".join(raw.get("notes", []))
            kind = ("warm, mass matrix re-estimated" if "re-estimated the mass matrix" in notes else
                    "warm, step size only" if "warm start" in notes else "cold")
            kinds.setdefault(kind, []).append((raw["timings"]["sampling_s"], raw["timings"]["wall_s"]))
        for kind, times in sorted(kinds.items()):
            sampling, wall = (sorted(t[i] for t in times) for i in (0, 1))
            print(f"  {kind:32s} {len(times):3d} fits: median sampling {sampling[len(times) // 2]:5.1f} s, "
                  f"median sampler wall {wall[len(times) // 2]:5.1f} s")
        runs["by_start"] = {k: len(v) for k, v in kinds.items()}
        for o, c in sens["confounding"].items():
            print(f"  {o}: tipping k {c['tipping_k']}, median {c['tipping_k_median']}; {c['verdict'][:160]}...")
        for o, rows in sens["refutations"].items():
            for r in rows:
                print(f"  {o}: {r['sentence'][:150]}")
    return {"study": args.study, "runs": runs}


def panels(args: argparse.Namespace) -> dict:
    from tipcausal.inference.sampling import SamplerSettings, configure_jax

    configure_jax(4)
    import numpy as np

    from tipcausal.data.panel import Panel, PanelSchema
    from tipcausal.fit import fit_specification
    from tipcausal.models.spec import ModelSpec
    from tipcausal.sensitivity.confounding import adjusted_effects, moves_estimate, within_scale
    from tipcausal.sensitivity.refutations import Refitter, lead_placebo, placebo_refits, within_placebo
    from tipcausal.sensitivity.settings import RefuteSettings
    from tipcausal.simulation.structural import SimulationConfig, simulate_panel

    covs = ("v2x_corr", "v2x_polyarchy", "log_gdp_pc")
    outcome = "protection"
    spec = ModelSpec(outcome=outcome, treatment="v2cscnsult", covariates=covs)
    cfg = RefuteSettings(placebo=2, draws=1000, tune=500)
    rows = []
    for i in range(args.n):
        seed = 1000 + i
        settings = SamplerSettings(draws=1000, tune=500, chains=4, seed=seed)
        row: dict = {"seed": seed}
        if not args.no_clean:
            clean = simulate_panel(seed, SimulationConfig(n_countries=80)).panel
            fit = fit_specification(clean, spec, settings)
            refit = Refitter(fit, clean, settings, cfg, None, lambda m: None)
            placebos, _ = placebo_refits(fit, clean, refit, cfg)
            row["clean"] = {"gate": fit.passed, "placebo": within_placebo(fit, placebos, cfg).verdict,
                            "lead": lead_placebo(fit, clean, refit, cfg).verdict}
        for rho in args.rho:
            sim = simulate_panel(seed, SimulationConfig(n_countries=80, will_time_sd=1.0, will_time_rho=rho))
            frame = sim.panel.frame.merge(sim.latent[["country", "year", "political_will"]], on=["country", "year"])
            panel = Panel(frame=frame, kind="simulated", source="with political will",
                          schema=PanelSchema(outcomes=sim.panel.schema.outcomes,
                                             numeric=sim.panel.schema.numeric + ("political_will",)))
            plain = fit_specification(panel, spec, settings)
            oracle = fit_specification(panel, ModelSpec(outcome=outcome, treatment="v2cscnsult",
                                                        covariates=(*covs, "political_will")), settings)
            will = within_scale(oracle, ["political_will"]).benchmarks[0]
            truth = sim.true_effects(plain.data.rows)[outcome]["expected_score"]
            adj = adjusted_effects(plain, will.r2_treatment, will.r2_outcome)["expected_score"]
            p = plain.assessment.effects.average["expected_score"]
            lead = lead_placebo(plain, panel, Refitter(plain, panel, settings, cfg, None, lambda m: None), cfg)
            row[f"rho_{rho}"] = {"gate": plain.passed and oracle.passed, "truth": truth,
                                 "plain": [p.mean, p.hdi90_low, p.hdi90_high],
                                 "adjusted": [adj.mean, adj.hdi90_low, adj.hdi90_high],
                                 "oracle": oracle.assessment.effects.average["expected_score"].mean,
                                 "r2": [will.r2_treatment, will.r2_outcome], "lead": lead.verdict,
                                 "plain_covers": p.hdi90_low <= truth <= p.hdi90_high,
                                 "analysis_flags": moves_estimate(p, adj),
                                 "adjusted_covers": adj.hdi90_low <= truth <= adj.hdi90_high}
        rows.append(row)
        print(json.dumps(row))
    n = len(rows)

    def share(get) -> str:
        return f"{sum(bool(get(r)) for r in rows)}/{n}"

    if not args.no_clean:
        print(f"\nwithout time-varying confounding: placebo pass {share(lambda r: r['clean']['placebo'] == 'pass')}, "
              f"lead pass {share(lambda r: r['clean']['lead'] == 'pass')}")
    for rho in args.rho:
        k = f"rho_{rho}"
        print(f"time-varying will (sd 1, rho {rho}): lead fails {share(lambda r: r[k]['lead'] == 'fail')}; "
              f"the confounding analysis at the true strength flags it (the plain mean outside its adjusted 90% "
              f"interval) {share(lambda r: r[k]['analysis_flags'])}; lead or analysis "
              f"{share(lambda r: r[k]['lead'] == 'fail' or r[k]['analysis_flags'])}; "
              f"plain 90% interval covers the truth {share(lambda r: r[k]['plain_covers'])}; adjusted at the true "
              f"strength covers {share(lambda r: r[k]['adjusted_covers'])}; "
              f"mean |adjusted - oracle| {np.mean([abs(r[k]['adjusted'][0] - r[k]['oracle']) for r in rows]):.4f} vs "
              f"|plain - oracle| {np.mean([abs(r[k]['plain'][0] - r[k]['oracle']) for r in rows]):.4f}")
    return {"n": n, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("suite")
    s.add_argument("--study", default="default")
    s.add_argument("--keep", help="folder to keep the output and the store in (default: a temporary one)")
    p = sub.add_parser("panels")
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--rho", type=float, nargs="+", default=[0.7, 0.95],
                   help="persistences of the time-varying political will to simulate (consultation's own is 0.7)")
    p.add_argument("--no-clean", action="store_true", help="skip the panels without time-varying confounding")
    args = parser.parse_args()
    result = {"suite": suite, "panels": panels}[args.what](args)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"sensitivity-{args.what}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1, default=float))
    print(f"wrote {path}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
