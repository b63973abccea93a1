"""Reading one source file (CSV, Stata, Excel) into text cells, refusing unreadable files clearly."""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import numpy as np
import pandas as pd

from tipcausal.data.manifest import SourceSpec


class ReadProblem(Exception):
    """A source file cannot be read at all; the message says why and what to change."""


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith(codecs.BOM_UTF8) and encoding.lower().replace("_", "-") not in ("utf-8-sig",):
        raise ReadProblem("the header starts with a UTF-8 byte-order mark (BOM), so its first column name would "
                          "not match; re-save the file without a BOM or declare encoding = \"utf-8-sig\" for this "
                          "source in the manifest")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReadProblem(f"not valid {encoding} text: byte 0x{data[exc.start]:02x} at line {line}; declare the "
                          "file's encoding (e.g. encoding = \"latin-1\") for this source in the manifest") from None
    except LookupError:
        raise ReadProblem(f"unknown encoding {encoding!r} declared in the manifest") from None


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as stripped strings, missing as ''. Whole floats are written without '.0'."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_float_dtype(s):
            v = s.to_numpy(dtype=float)
            whole = np.isfinite(v) & (v == np.round(v))
            text = np.where(whole, np.char.mod("%d", np.nan_to_num(v).astype(np.int64)), s.astype(str).to_numpy())
            out[col] = pd.Series(np.where(np.isnan(v), "", text), index=frame.index, dtype=object)
        else:
            out[col] = s.astype("string").fillna("").str.strip().astype(object)
    return pd.DataFrame(out, index=frame.index)


def read_source(spec: SourceSpec, path: Path) -> pd.DataFrame:
    """The file's cells as text (one row per data row, column names as in the file); raises ReadProblem."""
    if not path.is_file():
        raise ReadProblem("file not found")
    if path.stat().st_size == 0:
        raise ReadProblem("file is empty (0 bytes)")
    try:
        if spec.format == "csv":
            text = _decode(path.read_bytes(), spec.encoding)
            if not text.strip():
                raise ReadProblem("file is empty (only blank lines)")
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
        elif spec.format == "dta":
            frame = _as_text(pd.read_stata(path, convert_categoricals=False))
        else:
            frame = pd.read_excel(path, sheet_name=spec.sheet, dtype=str, keep_default_na=False)
    except ReadProblem:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        raise ReadProblem(f"cannot be read as {spec.format}: {str(exc).strip()}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ReadProblem("has a header but no data rows")
    return _as_text(frame)
