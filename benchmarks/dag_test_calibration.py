"""Calibration of the DAG implication tests on clustered panels (a statistical study, not a timing):
size of the country-clustered and naive i.i.d. tests on true implications, and power against a missing
edge, over many simulated panels. Prints a table and writes benchmarks/results/dag_test_calibration.json.

    python benchmarks/dag_test_calibration.py                 # 1000 panels per design
    python benchmarks/dag_test_calibration.py --sims 200 --icc 0.5 0.7 0.9
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tipcausal.checks.dag_test_calibration import PanelDesign, calibrate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--countries", type=int, default=60)
    ap.add_argument("--years", type=int, default=12)
    ap.add_argument("--icc", type=float, nargs="+", default=[0.7])
    ap.add_argument("--rho", type=float, default=0.5)
    ap.add_argument("--edge", type=float, default=0.35, help="strength of the missing x -> y edge (power)")
    args = ap.parse_args()

    results = []
    for icc in args.icc:
        design = PanelDesign(n_countries=args.countries, n_years=args.years, icc=icc, rho=args.rho)
        start = time.perf_counter()

        def progress(done: int) -> None:
            if done % max(1, args.sims // 20) == 0 or done == args.sims:
                print(f"\r  icc {icc}: {done}/{args.sims} panels", end="", file=sys.stderr, flush=True)

        r = calibrate(args.sims, args.seed, design, missing_edge=args.edge, progress=progress)
        r["wall_s"] = time.perf_counter() - start
        print(file=sys.stderr)
        results.append(r)

    print(f"\n{args.sims} panels per design, {args.countries} countries x {args.years} years, AR(1) rho {args.rho}, "
          f"alpha 0.05; power against a missing x -> y edge of {args.edge}")
    print(f"{'ICC':>5} {'size clustered':>15} {'size naive':>11} {'FWER clustered (Holm)':>22} {'FWER naive':>11} "
          f"{'power clustered':>16} {'power naive':>12}")
    for r in results:
        print(f"{r['design']['icc']:>5.2f} {r['size_per_test']['clustered']:>15.3f} {r['size_per_test']['naive']:>11.3f} "
              f"{r['size_familywise_holm']['clustered']:>22.3f} {r['size_familywise_holm']['naive']:>11.3f} "
              f"{r['power']['clustered']:>16.3f} {r['power']['naive']:>12.3f}")
    print("\nper implication (size at alpha 0.05, clustered / naive):")
    for r in results:
        for imp, rates in r["size_by_implication"].items():
            print(f"  ICC {r['design']['icc']:.2f}  {imp:<16} {rates['clustered']:.3f} / {rates['naive']:.3f}")
    out = Path(__file__).parent / "results" / "dag_test_calibration.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
