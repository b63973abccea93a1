"""Simulation-based calibration of the hierarchical ordinal model (a statistical study, not a timing).

    python benchmarks/sbc_run.py                          # 200 simulations of the model as shipped
    python benchmarks/sbc_run.py --variant centred --sims 60
    python benchmarks/sbc_run.py --variant off_by_one --sims 60

Prints each quantity's rank-uniformity p-value (chi-square) and writes
benchmarks/results/sbc_<variant>.json with every rank, so the histograms can be redrawn.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sims", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--variant", default="correct")
    args = ap.parse_args()
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    from tipcausal.checks.sbc import VARIANTS, SBCDesign, run_sbc

    if args.variant not in VARIANTS:
        sys.exit(f"unknown variant {args.variant!r}; valid: {', '.join(VARIANTS)}")
    design = SBCDesign(variant=args.variant)
    start = time.perf_counter()

    def progress(done: int, sim: dict) -> None:
        rate = (time.perf_counter() - start) / done
        print(f"\r  {args.variant}: {done}/{args.sims} simulations ({rate:.1f} s each, "
              f"{sim['divergences']} divergences in the last)", end="", file=sys.stderr, flush=True)

    result = run_sbc(args.sims, args.seed, design, progress=progress)
    result["wall_s"] = time.perf_counter() - start
    print(file=sys.stderr)
    print(f"\nSBC {args.variant} ({VARIANTS[args.variant]}): {args.sims} simulations, {result['n_ranks']} thinned "
          f"posterior draws each, chi-square over {result['bins']} bins; {result['divergences']} divergences in all")
    for q, p in result["pvalues"].items():
        flag = " <- fails at 0.001" if p < 0.001 else " <- fails at 0.05" if p < 0.05 else ""
        print(f"  {q:<24} p = {p:.4f}{flag}")
    print(f"flagged: {'YES: ' + '; '.join(result['flag_reasons']) if result['flagged'] else 'no'} "
          f"({result['divergent_fits']} of {args.sims} fits had divergences)")
    print(f"failing at p < 0.05: {result['n_fail_0_05']} of {len(result['pvalues'])} (chance: about "
          f"{0.05 * len(result['pvalues']):.1f}); at p < 0.001: {result['n_fail_0_001']}; wall {result['wall_s']:.0f} s")
    out = Path(__file__).parent / "results" / f"sbc_{args.variant}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
