"""Hashes and library versions: what every saved result records."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

import pandas as pd

TRACKED_LIBRARIES = (
    "tipcausal",
    "pymc",
    "pytensor",
    "arviz",
    "dowhy",
    "jax",
    "jaxlib",
    "numpyro",
    "nutpie",
    "numpy",
    "pandas",
    "scipy",
    "networkx",
)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that can change a result (``"not installed"`` if absent)."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace, used for stable hashes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def hash_json(obj: Any) -> str:
    """SHA-256 (hex, first 16 chars) of an object's canonical JSON."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:16]


def hash_frame(frame: pd.DataFrame) -> str:
    """SHA-256 (hex, first 16 chars) of a frame's content, independent of row order and index."""
    ordered = frame.sort_index(axis=1)
    key_cols = [c for c in ("country", "year") if c in ordered.columns]
    if key_cols:
        ordered = ordered.sort_values(key_cols, kind="mergesort")
    payload = ordered.to_csv(index=False, float_format="%.12g", lineterminator="\n")
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def utc_now() -> str:
    """The current UTC time as an ISO-8601 string."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
