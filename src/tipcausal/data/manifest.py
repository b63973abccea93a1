"""Source manifests (TOML): which files make the real-data panel, how their countries, years and
columns are read, on which scales, and which derived variables are made.

See ``library/manifests/default.toml`` for the format; ``load_manifest`` checks every field and
raises one InputError naming the manifest, section and key at fault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tipcausal.data.countries import SYSTEMS
from tipcausal.data.scales import SCALES, Scale
from tipcausal.core.errors import InputError
from tipcausal.core.tomlfile import load_toml
from tipcausal.core.provenance import hash_json
from tipcausal.core.registry import library_files, lookup, resolve_file

FORMATS = {"csv": "comma-separated text", "dta": "Stata .dta", "xlsx": "Excel workbook"}
DERIVATIONS = {
    "lag": "the variable's value in year t - years for the same country",
    "log": "natural logarithm (the variable must be positive)",
    "years_since_first": "years since the first year the 0/1 variable is 1 (0 before and in that year); missing "
                         "after the source's last year while still 0 (right-censored)",
}
MANIFEST_KEYS = {"name", "title", "window", "valid_years", "base", "overrides", "complete_cases"}
SOURCE_KEYS = {"id", "title", "citation", "path", "format", "country", "year", "name_column", "columns",
               "na_values", "encoding", "sheet"}
COLUMN_KEYS = {"from", "scale", "labels", "missing"}
DERIVED_KEYS = {"name", "kind", "of", "years", "doc"}


@dataclass(frozen=True)
class ColumnSpec:
    """One column taken from a source: canonical name, source column, scale, labels, missing codes."""

    name: str
    source_column: str
    scale: str
    labels: dict[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def scale_def(self) -> Scale:
        """The Scale object this column declares."""
        return SCALES[self.scale]


@dataclass(frozen=True)
class SourceSpec:
    """One source file and how to read it."""

    id: str
    title: str
    citation: str
    path: str
    format: str
    country_column: str
    country_system: str
    year_column: str | None
    name_column: str | None
    columns: tuple[ColumnSpec, ...]
    na_values: tuple[str, ...] = ("",)
    encoding: str = "utf-8"
    sheet: str | int = 0

    @property
    def country_level(self) -> bool:
        """True for files with one row per country (no year column)."""
        return self.year_column is None


@dataclass(frozen=True)
class DerivedSpec:
    """A derived variable made during the build."""

    name: str
    kind: str
    of: str
    years: int = 1
    doc: str = ""


@dataclass(frozen=True)
class Manifest:
    """A validated source manifest."""

    name: str
    title: str
    path: Path
    window: tuple[int, int]
    valid_years: tuple[int, int]
    base: str
    sources: tuple[SourceSpec, ...]
    derived: tuple[DerivedSpec, ...]
    overrides: Path | None
    complete_cases: dict[str, tuple[str, ...]]
    raw: dict[str, Any]

    @property
    def hash(self) -> str:
        """Content hash of the manifest (its parsed TOML)."""
        return hash_json(self.raw)

    def source(self, source_id: str) -> SourceSpec:
        """The source with id ``source_id``."""
        return lookup({s.id: s for s in self.sources}, source_id, "source")

    def columns(self) -> dict[str, tuple[SourceSpec, ColumnSpec]]:
        """Every canonical column with the source and spec it comes from."""
        return {c.name: (s, c) for s in self.sources for c in s.columns}


def library_manifests() -> dict[str, Path]:
    """Manifests that ship with tipcausal, by name."""
    return library_files("manifests", ".toml")


def _need(table: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in table:
        raise InputError(f"{where}: missing key {key!r}")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise InputError(f"{where}: {key} has the wrong type ({value!r})")
    return value


def _unknown(table: dict, allowed: set[str], where: str) -> None:
    bad = set(table) - allowed
    if bad:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(bad))}; valid keys: {', '.join(sorted(allowed))}")


def _years(value: Any, where: str) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)
            and value[0] <= value[1]):
        raise InputError(f"{where}: must be [first_year, last_year] (integers), got {value!r}")
    return value[0], value[1]


def _column(name: str, raw: Any, where: str) -> ColumnSpec:
    where = f"{where} column {name!r}"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: must be {{ from = \"source column\", scale = \"...\" }}")
    _unknown(raw, COLUMN_KEYS, where)
    scale = _need(raw, "scale", str, where)
    lookup(SCALES, scale, f"scale in {where}")
    labels = raw.get("labels", {})
    if not isinstance(labels, dict):
        raise InputError(f"{where}: labels must be a table of source value = code")
    if SCALES[scale].categorical and not labels:
        raise InputError(f"{where}: scale 'category' needs labels = {{ \"code\" = \"label\", ... }}")
    missing = raw.get("missing", [])
    if not isinstance(missing, list):
        raise InputError(f"{where}: missing must be a list of values that mean 'missing'")
    return ColumnSpec(name=name, source_column=_need(raw, "from", str, where), scale=scale, labels=dict(labels),
                      missing=tuple(str(m) for m in missing))


def _source(raw: Any, where: str) -> SourceSpec:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: each [[source]] must be a table")
    _unknown(raw, SOURCE_KEYS, where)
    sid = _need(raw, "id", str, where)
    where = f"{where} ({sid})"
    fmt = raw.get("format", Path(_need(raw, "path", str, where)).suffix.lstrip(".").lower())
    lookup(FORMATS, fmt, f"format in {where}")
    country = _need(raw, "country", dict, where)
    _unknown(country, {"column", "system"}, f"{where} country")
    system = _need(country, "system", str, f"{where} country")
    lookup(SYSTEMS, system, f"country code system in {where}")
    cols = _need(raw, "columns", dict, where)
    if not cols:
        raise InputError(f"{where}: columns is empty")
    na = raw.get("na_values", [""])
    if not isinstance(na, list) or not all(isinstance(v, str) for v in na):
        raise InputError(f"{where}: na_values must be a list of strings")
    return SourceSpec(id=sid, title=str(raw.get("title", sid)), citation=str(raw.get("citation", "")),
                      path=raw["path"], format=fmt, country_column=_need(country, "column", str, f"{where} country"),
                      country_system=system, year_column=raw.get("year"), name_column=raw.get("name_column"),
                      columns=tuple(_column(n, c, where) for n, c in cols.items()), na_values=tuple(na),
                      encoding=str(raw.get("encoding", "utf-8")), sheet=raw.get("sheet", 0))


def load_manifest(path_or_name: str | Path | None = None) -> Manifest:
    """Read a manifest by library name (default ``"default"``) or path and validate every field."""
    path = resolve_file("default" if path_or_name is None else path_or_name, library_manifests(), "manifest")
    raw = load_toml(path)
    _unknown(raw, {"manifest", "source", "derived"}, str(path))
    head = raw.get("manifest", {})
    _unknown(head, MANIFEST_KEYS, f"{path} [manifest]")
    if not isinstance(raw.get("source"), list) or not raw["source"]:
        raise InputError(f"{path}: needs at least one [[source]]")
    sources = tuple(_source(s, f"{path} [[source]] #{i + 1}") for i, s in enumerate(raw["source"]))
    ids = [s.id for s in sources]
    if len(set(ids)) != len(ids):
        raise InputError(f"{path}: source ids must be unique, got {ids}")
    names = [c.name for s in sources for c in s.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"{path}: canonical column(s) {', '.join(dupes)} declared by more than one source")
    base = _need(head, "base", str, f"{path} [manifest]")
    if base not in ids:
        raise InputError(f"{path} [manifest]: base {base!r} is not a source id; sources: {', '.join(ids)}")
    if next(s for s in sources if s.id == base).country_level:
        raise InputError(f"{path} [manifest]: base source {base!r} must have a year column")
    derived = []
    known = set(names)
    for i, d in enumerate(raw.get("derived", [])):
        where = f"{path} [[derived]] #{i + 1}"
        _unknown(d, DERIVED_KEYS, where)
        spec = DerivedSpec(name=_need(d, "name", str, where), kind=_need(d, "kind", str, where),
                           of=_need(d, "of", str, where), years=int(d.get("years", 1)), doc=str(d.get("doc", "")))
        lookup(DERIVATIONS, spec.kind, f"derivation kind in {where}")
        if spec.of not in known:
            raise InputError(f"{where}: 'of' = {spec.of!r} is not a column declared earlier; known: "
                             f"{', '.join(sorted(known))}")
        if spec.name in known:
            raise InputError(f"{where}: name {spec.name!r} is already a column")
        known.add(spec.name)
        derived.append(spec)
    overrides = head.get("overrides")
    sets = head.get("complete_cases", {})
    if not isinstance(sets, dict) or not all(isinstance(v, list) for v in sets.values()):
        raise InputError(f"{path} [manifest]: complete_cases must be a table of name = [columns]")
    for set_name, cols in sets.items():
        unknown_cols = [c for c in cols if c not in known and c != "region"]
        if unknown_cols:
            raise InputError(f"{path} [manifest] complete_cases.{set_name}: unknown column(s) "
                             f"{', '.join(unknown_cols)}; known: {', '.join(sorted(known))}")
    return Manifest(
        name=str(head.get("name", path.stem)), title=str(head.get("title", "")), path=path,
        window=_years(head.get("window", [2000, 2013]), f"{path} [manifest] window"),
        valid_years=_years(head.get("valid_years", [1945, 2030]), f"{path} [manifest] valid_years"),
        base=base, sources=sources, derived=tuple(derived),
        overrides=(path.parent / overrides).resolve() if overrides else None,
        complete_cases={k: tuple(v) for k, v in sets.items()}, raw=raw)
