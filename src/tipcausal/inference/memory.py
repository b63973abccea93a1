"""What a long-lived process (a sweep's Dask worker) does between fits to hand memory back.

Measured on the real panel (300-draw fits of six structures one after another in one process): without it the
resident size grew 10-30 MB a fit of an already-compiled structure and 40-220 MB a new one; with it, by 0-1 MB a
fit and about 35 MB a new structure, which the bounded program caches (``density.PROGRAMS_KEPT``) cap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys


def release_memory() -> None:
    """Drop JAX's tracing and dispatch caches (the compiled NUTS programs kept in ``inference.nuts`` stay, so
    refits still skip compilation), collect garbage, and return freed heap pages to the system (glibc)."""
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.clear_caches()
    gc.collect()
    if sys.platform.startswith("linux"):
        name = ctypes.util.find_library("c")
        if name:
            trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
            if trim is not None:
                trim(0)
