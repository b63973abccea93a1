"""Reading TOML files (studies, manifests) with errors that name the file, the line and a key written twice."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from tipcausal.core.errors import InputError

_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def load_toml(path: Path) -> dict[str, Any]:
    """The parsed file; an InputError naming the file (and, for a key written twice, the key and its line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: not UTF-8 text ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, match = str(exc), _LINE.search(str(exc))
        if match and message.startswith("Cannot overwrite a value"):
            line = int(match.group(1))
            key = text.splitlines()[line - 1].split("=", 1)[0].strip()
            message = f"key {key!r} is written twice (again at line {line}); each key may appear once"
        raise InputError(f"{path}: not valid TOML: {message}") from None
