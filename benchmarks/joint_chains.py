"""How often a chain of the joint 3-P model gets stuck: fit the joint-model test's panel at several sampler seeds
and print, per seed, the gate and each chain's step size, mean tree depth and country SDs (a stuck chain has a
step size near 0, tree depth 10 and SDs near 0).

    python benchmarks/joint_chains.py --seeds 1 2 3 4 5 6 7 8 9 10 [--draws 1500]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    ap.add_argument("--draws", type=int, default=1500)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--panel-seed", type=int, default=11)
    args = ap.parse_args()

    from tipcausal.inference.sampling import SamplerSettings, configure_jax

    configure_jax(4)
    import numpy as np

    from helpers import joint_panel
    from tipcausal.fit import fit_joint
    from tipcausal.models.spec import ModelSpec

    outcomes = ("p1", "p2", "p3")
    panel = joint_panel(args.panel_seed, outcomes, np.array([0.5, 0.0, 0.3]), 0.9, 0.5, 0.7)
    specs = [ModelSpec(outcome=o, treatment="x", covariates=(), year_effects="none", region_intercepts=False)
             for o in outcomes]
    stuck_fits = stuck_chains = passed = 0
    for seed in args.seeds:
        start = time.perf_counter()
        fit = fit_joint(panel, specs, SamplerSettings(draws=args.draws, tune=args.tune, chains=4, seed=seed))
        stats, post, g = fit.idata.sample_stats, fit.idata.posterior, fit.gate
        step = stats["step_size"].mean("draw").values
        depth = stats["tree_depth"].mean("draw").values
        stuck = (step < 1e-3) | (depth > 9)
        stuck_chains += int(stuck.sum())
        stuck_fits += int(stuck.any())
        passed += g.passed
        print(f"seed {seed:3d}: gate {g.verdict} (R-hat {g.max_rhat:.3f}, bulk ESS {g.min_ess_bulk:.0f}, tail ESS "
              f"{g.min_ess_tail:.0f}, divergences {g.divergences}) {'; '.join(g.reasons)}  "
              f"{time.perf_counter() - start:.0f} s", flush=True)
        for c in range(step.size):
            sds = post["country_sd"].isel(chain=c).mean("draw").values.round(2)
            print(f"    chain {c}: step {step[c]:.4f}, tree depth {depth[c]:.1f}, country SDs {sds}"
                  + ("  STUCK" if stuck[c] else ""))
    n = len(args.seeds)
    print(f"{n} seeds x 4 chains ({args.tune} tune + {args.draws} draws): {stuck_chains} stuck chain(s) in "
          f"{stuck_fits} fit(s); {passed} of {n} fits pass the gate")


if __name__ == "__main__":
    main()
