"""Cost of one value-and-gradient of a model's log density (the unit NUTS pays per leapfrog step), per likelihood,
on the real panel's primary structure. Prints figures; writes benchmarks/results/gradient-*.json.

    TIPCAUSAL_DATA=../shared/data python benchmarks/bench_gradient.py [--likelihoods cumulative_logit ...]

One chain on one device: ``model_density``'s log density under ``jax.value_and_grad``, evaluated 2,000 times in a
``lax.scan`` (the parameter vector moved a little each time, so nothing is constant-folded), best and median of 5
runs of the scan. JAX has one CPU device here, so XLA gives the one chain every core; with four host devices (a
study's four chains) the same logit gradient took 85-87 us against 66-69 us (2026-12-08). Run it alone on the
machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
import warnings
from pathlib import Path

STEPS = 2000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--likelihoods", nargs="+", default=["cumulative_logit", "cumulative_probit", "binary_logit"])
    ap.add_argument("--study", default="real")
    args = ap.parse_args()

    from tipcausal.inference.sampling import configure_jax

    configure_jax(1)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from tipcausal.inference.density import model_density
    from tipcausal.models.binding import bind_data
    from tipcausal.models.build import build_model
    from tipcausal.study.config import load_study
    from tipcausal.study.runner import prepare

    with warnings.catch_warnings():  # that the study's 4 chains would run one after another: one is run here
        warnings.simplefilter("ignore", RuntimeWarning)
        prepared = prepare(load_study(args.study))
    panel, base = prepared.panel, prepared.specs["prosecution"]
    rows = []
    for likelihood in args.likelihoods:
        spec = dataclasses.replace(base, likelihood=likelihood)
        density = model_density(build_model(spec, bind_data(panel, spec)))
        data = tuple(jnp.asarray(a) for a in density.data)
        value_and_grad = jax.value_and_grad(lambda theta: density.program.logp(theta, data))

        @jax.jit
        def loop(theta):
            def body(carry, _):
                value, grad = value_and_grad(carry)
                return carry + 1e-6 * grad, value
            return jax.lax.scan(body, theta, None, length=STEPS)

        theta = jnp.asarray(np.random.default_rng(0).normal(0.0, 0.1, density.dim))
        jax.block_until_ready(loop(theta))  # compile
        times = []
        for _ in range(5):
            start = time.perf_counter()
            jax.block_until_ready(loop(theta))
            times.append((time.perf_counter() - start) / STEPS * 1e6)
        row = {"likelihood": likelihood, "best_us": min(times), "median_us": statistics.median(times),
               "dim": density.dim, "rows": density.n_rows, "padded_rows": density.padded_rows}
        rows.append(row)
        print(f"{likelihood:18s} value+gradient {row['best_us']:6.1f} us (median {row['median_us']:6.1f}); "
              f"{row['dim']} parameters, {row['rows']} rows padded to {row['padded_rows']}", flush=True)
    out = Path(__file__).parent / "results" / f"gradient-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"study": args.study, "cores": os.cpu_count(), "steps": STEPS, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
