"""Measurement error in consultation: the measurement-error model against the plain model over many
simulated panels with known error (a statistical study, not a timing).

    python benchmarks/me_simulation.py --sims 20

For each simulation (``tipcausal.checks.measurement_error``: 80 countries x 12 years, within-country SD of true
consultation 0.5, measurement SD 0.4, so the within variation's reliability is about 0.61) both models are
fitted (numpyro, 4 chains x 800 draws) and the script prints, per model, the mean ratio of the estimated
within slope to the truth, the coverage of the 90% HDI, and the share of fits passing the convergence gate.
Writes benchmarks/results/me_simulation.json with every fit's numbers.
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
    ap.add_argument("--sims", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--me-sd", type=float, default=0.4)
    args = ap.parse_args()
    os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
    import arviz as az
    import numpy as np

    from tipcausal.inference.diagnostics import check_fit
    from tipcausal.simulation.measurement_error import simulate_me_panel
    from tipcausal.fit import fit_specification
    from tipcausal.models.spec import ModelSpec
    from tipcausal.inference.sampling import SamplerSettings, configure_jax

    configure_jax(4)
    rows = []
    start = time.perf_counter()
    for i in range(args.sims):
        sim = simulate_me_panel(seed=args.seed + i, me_sd=args.me_sd)
        row = {"seed": args.seed + i, "truth": sim.true_slope, "reliability": sim.reliability}
        for label, extra in (("plain", {}), ("measurement_error", {"measurement_error": "x_sd"})):
            spec = ModelSpec(outcome="y", treatment="x", covariates=(), country_slopes=False, year_effects="none",
                             region_intercepts=False, **extra)
            run = fit_specification(sim.panel, spec, SamplerSettings(draws=800, tune=800, chains=4,
                                                                     target_accept=0.9, seed=3))
            draws = run.idata.posterior["slope_mean"].values.reshape(-1)
            lo, hi = az.hdi(draws, hdi_prob=0.90)
            row[label] = {"mean": float(draws.mean()), "hdi90": [float(lo), float(hi)],
                          "covers": bool(lo <= sim.true_slope <= hi), "passed": check_fit(run.idata).passed}
        rows.append(row)
        print(f"\r  {i + 1}/{args.sims} simulations ({(time.perf_counter() - start) / (i + 1):.0f} s each)",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"{args.sims} simulations, measurement SD {args.me_sd}, mean reliability "
          f"{np.mean([r['reliability'] for r in rows]):.2f}")
    print(f"{'model':<20}{'estimate / truth':>18}{'90% HDI coverage':>18}{'gate passed':>13}")
    summary = {}
    for label in ("plain", "measurement_error"):
        ratio = np.array([r[label]["mean"] / r["truth"] for r in rows])
        cover = np.mean([r[label]["covers"] for r in rows])
        passed = np.mean([r[label]["passed"] for r in rows])
        se = ratio.std(ddof=1) / np.sqrt(len(ratio))
        summary[label] = {"ratio_mean": float(ratio.mean()), "ratio_se": float(se), "coverage90": float(cover),
                          "passed": float(passed)}
        print(f"{label:<20}{ratio.mean():>11.3f} ± {se:.3f}{cover:>18.2f}{passed:>13.2f}")
    out = Path(__file__).parent / "results" / "me_simulation.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "summary": summary, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
