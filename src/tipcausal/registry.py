"""Plain-dict registries with errors that list the valid names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from tipcausal.errors import InputError

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """Return ``registry[name]`` or raise an InputError naming ``what`` and the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise InputError(f"unknown {what} {name!r}; valid names: {valid}") from None
