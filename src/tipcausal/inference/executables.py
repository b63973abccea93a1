"""Compiled NUTS programs kept on disk, so a new process fitting a model of a structure it has met before loads
the executable instead of tracing, lowering and compiling it.

JAX's persistent cache keys a program by its lowered text, so every process would still trace the model's density
(PyTensor's rewrites and the JAX code it generates, about 0.9 s for the default study) and NUTS around it, and
lower both (about 1.0 s), before that cache could answer. This store keys the compiled executable by what the
program is made from instead: the density's structure key (its graph, constants included: ``density``), the
NUTS program's settings and its arguments' shapes, and the environment that turns them into machine code (the
versions of JAX, jaxlib, numpyro, PyTensor and PyMC, the source of the modules that write the programs,
``XLA_FLAGS``, float64, the devices and the CPU's features). Any difference is another key. A file that cannot
be read or loaded is ignored (the program is then lowered and compiled as usual); files are written to a
temporary name and renamed, so a reader never sees half of one. ``stats()`` counts hits and misses.

It replaces JAX's persistent cache, which tipcausal no longer switches on: an executable that JAX loaded from
that cache serialises into a file that loads but fails when run (jaxlib 0.10.2, CPU: "Function ... not found"),
so ``compile_and_save`` stores only executables XLA compiled in this process (a user who switches JAX's cache
on gets no stored executable for programs it served).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
import re
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Modules whose source writes the programs (a change to any is a new key).
_SOURCES = ("density.py", "nuts.py", "executables.py")
_PACKAGES = ("jax", "jaxlib", "numpyro", "pytensor", "pymc")
#: The XLA flag giving JAX its CPU devices (``sampling.xla_flags`` sets it).
DEVICES_FLAG = "--xla_force_host_platform_device_count"


@dataclass
class ExecutableStats:
    """Executables loaded from the store and compiled (then stored) in this process."""

    hits: int = 0
    misses: int = 0


_STATS = ExecutableStats()


def stats() -> ExecutableStats:
    """Hits and misses of the executable store in this process so far."""
    return ExecutableStats(_STATS.hits, _STATS.misses)


def jax_cache_dir() -> Path:
    """Where compiled programs are kept between processes (``TIPCAUSAL_JAX_CACHE``; the store is its
    ``executables`` folder)."""
    return Path(os.environ.get("TIPCAUSAL_JAX_CACHE", Path.home() / ".cache" / "tipcausal" / "jax"))


def _cpu_features() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next((line for line in info if line.startswith("flags")), "")
    except OSError:
        return platform.processor()


@lru_cache(maxsize=1)
def _installed() -> str:
    from importlib.metadata import version

    here = Path(__file__).parent
    parts = [f"{p}={version(p)}" for p in _PACKAGES]
    parts += [hashlib.sha256((here / name).read_bytes()).hexdigest() for name in _SOURCES]
    return "\n".join([*parts, _cpu_features()])


def _environment() -> bytes:
    """What turns a program into machine code. Read at every use: float64 can be switched on after the first fit
    (numpy float64 arguments then trace as float32 before and float64 after, with the same shapes and dtypes)."""
    import jax

    # the device count is left out of XLA_FLAGS (the devices are there): importing pymc.sampling.jax rewrites it
    # after JAX has read it
    flags = re.sub(rf"{DEVICES_FLAG}=\d+", "", os.environ.get("XLA_FLAGS", "")).split()
    return "\n".join([_installed(), " ".join(flags), f"x64={jax.config.jax_enable_x64}",
                      repr([(d.platform, d.device_kind) for d in jax.devices()])]).encode()


def _path(identity: str, signature: Any) -> Path:
    digest = hashlib.sha256(_environment())
    digest.update(identity.encode())
    digest.update(repr(signature).encode())
    return jax_cache_dir() / "executables" / f"{digest.hexdigest()}.bin"


def load(identity: str, signature: Any) -> Any | None:
    """The stored executable of the program ``identity`` for arguments of ``signature``, or None."""
    from jax.experimental.serialize_executable import deserialize_and_load

    import jax

    path = _path(identity, signature)
    try:
        payload, in_tree, out_tree, device_ids = pickle.loads(path.read_bytes())
        devices = {d.id: d for d in jax.local_devices()}
        if not set(device_ids) <= set(devices):  # (the key holds the devices; a foreign file could still lie)
            return None
        # on the devices it was compiled for (by default XLA loads it on all of them, and aborts the process
        # when they are more than the program's)
        compiled = deserialize_and_load(payload, in_tree, out_tree,
                                        execution_devices=[devices[i] for i in device_ids])
    except Exception:  # noqa: BLE001  (absent, damaged or foreign: compile as if it were absent)
        return None
    _STATS.hits += 1
    return compiled


_JAX_CACHE_HITS = [0]
_LISTENING = [False]


def _count_jax_cache_hit(event: str, **_: object) -> None:
    if event == "/jax/compilation_cache/cache_hits":
        _JAX_CACHE_HITS[0] += 1


def compile_and_save(identity: str, signature: Any, lowered: Any) -> Any:
    """Compile ``lowered`` (a ``jax.stages.Lowered``) and keep the executable for a later process, unless JAX's
    own persistent cache served it (such an executable does not serialise soundly). Quietly not kept where it or
    the folder cannot be."""
    import jax.monitoring
    from jax.experimental.serialize_executable import serialize

    if not _LISTENING[0]:
        jax.monitoring.register_event_listener(_count_jax_cache_hit)
        _LISTENING[0] = True
    before = _JAX_CACHE_HITS[0]
    compiled = lowered.compile()
    _STATS.misses += 1
    if _JAX_CACHE_HITS[0] != before:
        return compiled
    path = _path(identity, signature)
    try:
        # the devices it runs on (``_executable`` is private to JAX: without it, nothing is kept)
        device_ids = [d.id for d in compiled._executable.xla_executable.local_devices()]
        blob = pickle.dumps((*serialize(compiled), device_ids))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except (OSError, ValueError, NotImplementedError, pickle.PicklingError, TypeError, AttributeError):
        return compiled
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
    return compiled
