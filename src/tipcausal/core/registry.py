"""Plain-dict registries with errors that list the valid names."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TypeVar

from tipcausal.core.errors import InputError

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """Return ``registry[name]`` or raise an InputError naming ``what`` and the valid names."""
    try:
        return registry[name]
    except KeyError:
        valid = ", ".join(sorted(registry))
        raise InputError(f"unknown {what} {name!r}; valid names: {valid}") from None


def library_files(folder: str, suffix: str) -> dict[str, Path]:
    """Files shipped in ``tipcausal/library/<folder>`` with ``suffix``, by stem."""
    root = resources.files("tipcausal") / "library" / folder
    return {Path(str(p)).stem: Path(str(p)) for p in root.iterdir() if str(p).endswith(suffix)}


def resolve_file(name_or_path: str | Path, library: dict[str, Path], what: str,
                 error: type[InputError] = InputError) -> Path:
    """A path as given, or a library file by name (no suffix); ``error`` names the valid library names."""
    path = Path(name_or_path)
    if path.is_dir():
        raise error(f"{path}: is a folder; give a {what} file (or a library {what} name)")
    if not path.suffix:
        if str(name_or_path) not in library:
            raise error(f"unknown {what} {str(name_or_path)!r}; library {what} names: {', '.join(sorted(library))} "
                        "(or give a path to a file)")
        path = library[str(name_or_path)]
    if not path.is_file():
        raise error(f"{path}: {what} file not found")
    return path
