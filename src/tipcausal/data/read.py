"""Reading one source file (CSV, Stata, Excel) into text cells, refusing unreadable files clearly."""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from tipcausal.data.manifest import SourceSpec


class ReadProblem(Exception):
    """A source file cannot be read at all; the message says why and what to change."""


#: byte-order marks of the wide Unicode encodings, longest first (UTF-32 LE starts like UTF-16 LE)
WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
             (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(data: bytes, encoding: str) -> str:
    declared = encoding.lower().replace("_", "-")
    for bom, name in WIDE_BOMS:
        if data.startswith(bom):
            if declared.startswith(name):
                break
            raise ReadProblem(f"the file is {name.upper()} text (byte-order mark {bom.hex(' ').upper()}), not "
                              f"{encoding}; declare encoding = \"{name}\" for this source in the manifest, or "
                              "re-save the file as UTF-8")
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


def _check_header(names: list[str]) -> None:
    """Refuse duplicate column names (a reader would silently rename or drop one of them)."""
    dup = [n for n, k in Counter(str(c).strip() for c in names).items() if k > 1]
    if dup:
        raise ReadProblem(f"duplicate column header(s) {', '.join(repr(d) for d in dup)}: each column must be "
                          "named once")


def read_source(spec: SourceSpec, path: Path) -> pd.DataFrame:
    """The file's cells as text (one row per data row, column names as in the file); raises ReadProblem."""
    if path.is_dir():
        raise ReadProblem("is a folder, not a file")
    if not path.is_file():
        raise ReadProblem("file not found")
    if path.stat().st_size == 0:
        raise ReadProblem("file is empty (0 bytes)")
    try:
        if spec.format == "csv":
            text = _decode(path.read_bytes(), spec.encoding)
            if not text.strip():
                raise ReadProblem("file is empty (only blank lines)")
            _check_header(next(csv.reader(io.StringIO(text.lstrip("\ufeff")))))
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
        elif spec.format == "dta":
            frame = _as_text(pd.read_stata(path, convert_categoricals=False))
        else:
            _check_header(list(pd.read_excel(path, sheet_name=spec.sheet, header=None, nrows=1).iloc[0]))
            frame = pd.read_excel(path, sheet_name=spec.sheet, dtype=str, keep_default_na=False)
    except ReadProblem:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        raise ReadProblem(f"cannot be read as {spec.format}: {str(exc).strip()}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ReadProblem("has a header but no data rows")
    return _as_text(frame)
