"""XLA_FLAGS as a run sets them: one CPU device per chain, and YNNPACK's reduction fusions switched off where the
installed jaxlib has them (they made the default study's gradient 1.6x slower)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tipcausal.inference import sampling
from tipcausal.inference.sampling import xla_flags

DEVICES = "--xla_force_host_platform_device_count"
YNN = "--xla_cpu_experimental_ynn_fusion_type"


def test_devices_raised_to_the_chains_never_lowered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampling, "_jaxlib_version", lambda: (0, 8))
    assert xla_flags(4) == f"{DEVICES}=4"
    assert xla_flags(4, f"--xla_dump_to=/tmp/x {DEVICES}=2") == f"--xla_dump_to=/tmp/x {DEVICES}=4"
    assert xla_flags(2, f"{DEVICES}=8") == f"{DEVICES}=8"


def test_ynn_fusions_kept_to_dots_only_on_a_jaxlib_that_has_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sampling, "_jaxlib_version", lambda: (0, 8))  # no such flag: XLA would stop on it
    assert YNN not in xla_flags(4)
    monkeypatch.setattr(sampling, "_jaxlib_version", lambda: (0, 10))
    assert xla_flags(4) == f"{DEVICES}=4 {YNN}=dot"
    assert xla_flags(4, f"{YNN}=reduce") == f"{YNN}=reduce {DEVICES}=4"  # the user's choice stands


PROGRAM = """
import sys
if sys.argv[1] == "reserve":
    from tipcausal.inference.sampling import reserve_devices
    reserve_devices(1)
import jax, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
grad = jax.jit(jax.grad(lambda c, t, z, idx: jnp.sum(jnp.tanh((z * c).sum(-1) + t[idx]))))
z, idx = np.ones((2112, 3)), np.arange(2112) % 180
print(grad.lower(np.ones(3), np.ones(180), z, idx).compile().as_text().count("__ynn_fusion"))
"""


def _ynn_fusions(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    done = subprocess.run([sys.executable, "-c", PROGRAM, mode], env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sampling._jaxlib_version() < sampling._YNN_SINCE, reason="this jaxlib has no YNNPACK fusions")
def test_a_run_compiles_row_sums_without_ynnpack() -> None:
    """A per-row sum over covariates (the predictor's) and its gradient: XLA hands them to YNNPACK unless
    ``reserve_devices`` (called by every run before JAX is imported) says otherwise."""
    assert _ynn_fusions("plain") > 0
    assert _ynn_fusions("reserve") == 0
