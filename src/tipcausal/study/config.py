"""Study files (TOML) as typed parts, validated whole when they are loaded, before anything runs.

``load_study(path_or_name)`` returns a frozen ``Study``: the causal question, the data source (one of
``SimulatedData``, ``CsvData``, ``BuiltData``), the model options (the allowed ``[model]`` keys are the fields
of ``ModelSpec``, so a new model option needs no second list), priors, the ``[[compare]]`` specifications,
``SamplerSettings`` (validated on construction) and the output. Command-line overrides go through
``Study.with_overrides``, which validates them the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tipcausal.core.errors import InputError
from tipcausal.core.htmltable import html_table
from tipcausal.core.registry import library_files, lookup, resolve_file
from tipcausal.core.tomlfile import load_toml
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.joint import check_joint_specs
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.sensitivity.settings import SensitivitySettings, parse_sensitivity

#: [model] keys: every ModelSpec field a study may set (the variables come from [causal]).
MODEL_KEYS = frozenset(f.name for f in fields(ModelSpec)) - {"outcome", "treatment", "covariates"}
COMPARE_KEYS = frozenset({"name", "joint", "draws", "tune"})
SECTIONS = {
    "study": {"name", "title"},
    "causal": {"dag", "treatment", "outcomes", "adjustment", "assume_absorbed", "override"},
    "data": {"kind", "seed", "n_countries", "path", "manifest", "sources", "dir"},
    "model": set(MODEL_KEYS),
    "sampler": {f.name for f in fields(SamplerSettings)},
    "output": {"dir", "allow_unconverged", "store"},
    "compare": set(),  # an array of tables, checked by parse_alternatives
    "sensitivity": set(),  # nested tables, checked by sensitivity.settings.parse_sensitivity
    "sweep": set(),  # choices and nested tables, checked by sweeps.definition.parse_sweep (tipcausal sweep)
    "design": set(),  # simulations of the sweep, checked by sweeps.design.parse_design (tipcausal design)
}
DATA_KINDS = {"simulated": "panel simulated from the default DAG", "csv": "a panel CSV file",
              "built": "the real-data panel built from a source manifest (tipcausal data build)"}


@dataclass(frozen=True)
class SimulatedData:
    """A panel simulated from the default DAG's structural model (truth known)."""

    seed: int = 1
    n_countries: int = 180
    kind: str = "simulated"


@dataclass(frozen=True)
class CsvData:
    """A panel CSV file with the DAG's columns."""

    path: str
    kind: str = "csv"


@dataclass(frozen=True)
class BuiltData:
    """The real-data panel built from a source manifest (rebuilt when missing or stale)."""

    manifest: str = "default"
    sources: str | None = None
    dir: str = "data/processed"
    kind: str = "built"


DataSource = SimulatedData | CsvData | BuiltData


@dataclass(frozen=True)
class Alternative:
    """One ``[[compare]]`` entry: a name, model option overrides, whether it is the joint model, and its
    sampler length (None: the study's)."""

    name: str
    options: dict[str, Any]
    joint: bool = False
    draws: int | None = None
    tune: int | None = None

    @property
    def slug(self) -> str:
        """A file-system-safe form of the name."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name).strip("_") or "spec"

    def settings(self, study_settings: SamplerSettings) -> SamplerSettings:
        """The study's sampler settings with this entry's draws and tuning."""
        return replace(study_settings, draws=self.draws or study_settings.draws,
                       tune=self.tune or study_settings.tune)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"name": self.name, "options": self.options, "joint": self.joint, "draws": self.draws,
                "tune": self.tune}


@dataclass(frozen=True)
class Study:
    """A validated study file: causal question, data, model options, sampler and output."""

    name: str
    title: str
    source: str
    dag: str
    treatment: str
    outcomes: tuple[str, ...]
    adjustment: tuple[str, ...]
    assume_absorbed: tuple[str, ...]
    override: bool
    data: DataSource
    model_options: dict[str, Any]
    priors: dict[str, Prior]
    alternatives: tuple[Alternative, ...]
    sampler: SamplerSettings
    output_dir: str
    allow_unconverged: bool
    #: the fit store's folder (None: ``$TIPCAUSAL_STORE``, else ``models``); False: fit without a store
    store: str | None | bool = None
    #: fit every model again (replacing its store entry) instead of reusing a stored fit
    refit: bool = False
    #: the ``[sensitivity]`` table: what ``tipcausal sensitivity`` computes (and ``run`` too when ``run = true``)
    sensitivity: SensitivitySettings = SensitivitySettings()
    #: the study file's tables as validated (with any given in code laid over them): enough to build it again
    tables: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def with_overrides(self, *, draws: int | None = None, tune: int | None = None, chains: int | None = None,
                       seed: int | None = None, backend: str | None = None, output_dir: str | None = None,
                       allow_unconverged: bool | None = None, sources: str | None = None,
                       store: str | bool | None = None, refit: bool | None = None) -> Study:
        """A copy with command-line overrides applied (None keeps the study's value); validated like the file."""
        given = {"draws": draws, "tune": tune, "chains": chains, "seed": seed, "backend": backend}
        sampler = replace(self.sampler, **{k: v for k, v in given.items() if v is not None})
        data = replace(self.data, sources=sources) if sources and isinstance(self.data, BuiltData) else self.data
        return replace(self, sampler=sampler, output_dir=output_dir or self.output_dir, data=data,
                       allow_unconverged=self.allow_unconverged if allow_unconverged is None else allow_unconverged,
                       store=self.store if store is None else store, refit=self.refit if refit is None else refit)

    def _repr_html_(self) -> str:
        data = ", ".join(f"{k}={v}" for k, v in vars(self.data).items())
        rows = [("title", self.title), ("source", self.source), ("DAG", self.dag), ("treatment", self.treatment),
                ("outcomes", self.outcomes), ("adjustment", self.adjustment or "the DAG's efficient set"),
                ("assumed absorbed", self.assume_absorbed), ("data", data),
                ("model options", ", ".join(f"{k}={v}" for k, v in self.model_options.items()) or "defaults"),
                ("priors set", ", ".join(self.priors) or "defaults"),
                ("compared specifications", [a.name for a in self.alternatives]),
                ("sampler", ", ".join(f"{k}={v}" for k, v in self.sampler.to_dict().items())),
                ("output", self.output_dir)]
        return html_table(rows, caption=f"Study {self.name}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form recorded in provenance."""
        data = {"kind": self.data.kind, "seed": getattr(self.data, "seed", 1),
                "n_countries": getattr(self.data, "n_countries", 180), "path": getattr(self.data, "path", None),
                "manifest": getattr(self.data, "manifest", "default"), "sources": getattr(self.data, "sources", None),
                "dir": getattr(self.data, "dir", "data/processed")}
        return {"name": self.name, "title": self.title, "source": self.source, "dag": self.dag,
                "treatment": self.treatment, "outcomes": list(self.outcomes), "adjustment": list(self.adjustment),
                "assume_absorbed": list(self.assume_absorbed), "override": self.override, "data": data,
                "model": self.model_options, "compare": [a.to_dict() for a in self.alternatives],
                "sampler": self.sampler.to_dict(), "output_dir": self.output_dir,
                "sensitivity": self.sensitivity.to_dict(), "tables": self.tables}


def library_studies() -> dict[str, Path]:
    """Names and paths of the study files that ship with tipcausal."""
    return library_files("studies", ".toml")


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"{where} must be {names}, got {value!r}")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where} must be a list of node ids")
    return tuple(value)


def _near(path: Path, value: str) -> str:
    """A path given in a study file, relative to the study file's folder."""
    return str((path.parent / value).resolve()) if not Path(value).is_absolute() else value


def _data_source(data: dict[str, Any], path: Path, src: str) -> DataSource:
    kind = data.get("kind", "simulated")
    lookup(DATA_KINDS, kind, "data kind")
    if kind == "simulated":
        source = SimulatedData(seed=_typed(data.get("seed", 1), int, f"{src}: [data] seed"),
                               n_countries=_typed(data.get("n_countries", 180), int, f"{src}: [data] n_countries"))
        if source.n_countries < 12:
            raise InputError(f"{src}: [data] n_countries must be at least 12")
        return source
    if kind == "csv":
        if not data.get("path"):
            raise InputError(f"{src}: [data] kind = 'csv' needs path = 'FILE.csv'")
        return CsvData(path=_near(path, _typed(data["path"], str, f"{src}: [data] path")))
    manifest = _typed(data.get("manifest", "default"), str, f"{src}: [data] manifest")
    sources = data.get("sources")
    return BuiltData(manifest=_near(path, manifest) if Path(manifest).suffix else manifest,
                     sources=None if sources is None else _near(path, _typed(sources, str, f"{src}: [data] sources")),
                     dir=_typed(data.get("dir", "data/processed"), str, f"{src}: [data] dir"))


def _priors(raw: dict[str, Any], src: str) -> dict[str, Prior]:
    priors = {}
    for name, p in (raw or {}).items():
        if not isinstance(p, dict) or "dist" not in p or not isinstance(p.get("params", {}), dict):
            raise InputError(f"{src}: [model.priors] {name} must be {{ dist = \"Name\", params = {{ ... }} }}")
        priors[name] = Prior(dist=p["dist"], params=dict(p.get("params", {})))
    return priors


def _sampler(samp: dict[str, Any], src: str) -> SamplerSettings:
    defaults = SamplerSettings()
    values = {}
    for f in fields(SamplerSettings):
        kind = (int, float) if f.name == "target_accept" else type(getattr(defaults, f.name))
        values[f.name] = _typed(samp.get(f.name, getattr(defaults, f.name)), kind, f"{src}: [sampler] {f.name}")
    try:
        return SamplerSettings(**values)
    except InputError as exc:
        raise InputError(f"{src}: [sampler]: {exc}") from None


def _check_sections(raw: dict[str, Any], src: str) -> None:
    unknown = set(raw) - set(SECTIONS)
    if unknown:
        raise InputError(f"{src}: unknown section(s) {', '.join(sorted(unknown))}; valid: {', '.join(SECTIONS)}")
    for section, keys in SECTIONS.items():
        if section in ("compare", "sensitivity", "sweep", "design"):
            continue
        bad = set(raw.get(section, {})) - keys
        if bad:
            raise InputError(f"{src}: [{section}] has unknown key(s) {', '.join(sorted(bad))}; "
                             f"valid keys: {', '.join(sorted(keys))}")


def load_study(path_or_name: str | Path | None = None) -> Study:
    """Read a study by library name (default ``"default"``) or path, and validate every field."""
    path = resolve_file("default" if path_or_name is None else path_or_name, library_studies(), "study")
    return _study(load_toml(path), path, str(path))


#: sections that an argument of ``build_study`` replaces whole instead of merging key by key
WHOLE_TABLES = ("sweep", "design")


def _merged(base: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``given`` laid over it: tables merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in given.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def build_study(base: str | Path | None = "default", **tables: Any) -> Study:
    """A study built in code: the study file ``base`` (a library name or path; None: nothing) with ``tables``
    laid over it, one keyword per study-file section (``causal``, ``data``, ``model``, ``sampler``, ``output``,
    ``sensitivity``, ``study`` as dicts; ``compare`` as a list of dicts), validated exactly as a file is. ``sweep``
    and ``design`` replace the base's tables whole (a sweep given in code is the whole sweep). Paths in
    ``tables`` are relative to the working folder; errors name the section and key."""
    given = {k: v for k, v in tables.items() if v is not None}
    if base is None:
        path, raw, src = Path.cwd() / "study-in-code.toml", {}, "study built in code"
    else:
        path = resolve_file(base, library_studies(), "study")
        raw, src = load_toml(path), f"{path} (with arguments given in code)"
    unknown = set(given) - set(SECTIONS)
    if unknown:
        raise InputError(f"{src}: unknown section argument(s) {', '.join(sorted(unknown))}; "
                         f"valid: {', '.join(SECTIONS)}")
    for key, value in given.items():
        if key != "compare" and not isinstance(value, dict):
            raise InputError(f"{src}: {key}= must be a dict of [{key}] keys, got {value!r}")
    merged = _merged(raw, {k: v for k, v in given.items() if k not in WHOLE_TABLES})
    merged.update({k: v for k, v in given.items() if k in WHOLE_TABLES})
    if "data" in given and base is not None:  # paths given in code are relative to the working folder
        path_keys = {k: str(Path(v).resolve()) for k, v in given["data"].items()
                     if k in ("path", "sources", "manifest") and isinstance(v, str)
                     and (k != "manifest" or Path(v).suffix)}
        merged["data"] = {**merged["data"], **path_keys}
    return _study(merged, path, src)


def study_from_tables(tables: dict[str, Any], source: str) -> Study:
    """A study again from the tables it recorded (``Study.tables``, in summary.json's provenance) and its
    ``source``; relative paths resolve against the study file's folder when ``source`` names a file."""
    path = Path(source.removesuffix(" (with arguments given in code)"))
    path = path if path.suffix == ".toml" else Path.cwd() / "study-in-code.toml"
    return _study(tables, path, f"{source} (as recorded)")


def _study(raw: dict[str, Any], path: Path, src: str) -> Study:
    _check_sections(raw, src)
    st, causal, out = raw.get("study", {}), raw.get("causal", {}), raw.get("output", {})
    model = dict(raw.get("model", {}))
    for key in ("treatment", "outcomes"):
        if key not in causal:
            raise InputError(f"{src}: [causal] must name the {key}")
    priors = _priors(model.pop("priors", {}), src)
    return Study(
        name=_typed(st.get("name", path.stem), str, f"{src}: [study] name"),
        title=_typed(st.get("title", ""), str, f"{src}: [study] title"),
        source=src,
        dag=str(causal.get("dag", "default")),
        treatment=_typed(causal["treatment"], str, f"{src}: [causal] treatment"),
        outcomes=_strings(causal["outcomes"], f"{src}: [causal] outcomes"),
        adjustment=_strings(causal.get("adjustment", []), f"{src}: [causal] adjustment"),
        assume_absorbed=_strings(causal.get("assume_absorbed", []), f"{src}: [causal] assume_absorbed"),
        override=_typed(causal.get("override", False), bool, f"{src}: [causal] override"),
        data=_data_source(raw.get("data", {}), path, src),
        model_options=model,
        priors=priors,
        alternatives=parse_alternatives(raw.get("compare"), src),
        sampler=_sampler(raw.get("sampler", {}), src),
        output_dir=_typed(out.get("dir", f"reports/{path.stem}"), str, f"{src}: [output] dir"),
        allow_unconverged=_typed(out.get("allow_unconverged", False), bool, f"{src}: [output] allow_unconverged"),
        store=_store_option(out.get("store"), src),
        sensitivity=parse_sensitivity(raw.get("sensitivity"), src),
        tables=raw,
    )


def _store_option(value: Any, src: str) -> str | bool | None:
    if value is None or value is False or (isinstance(value, str) and value):
        return value
    raise InputError(f"{src}: [output] store must be a folder path or false (no store), got {value!r}")


def parse_alternatives(raw: Any, src: str) -> tuple[Alternative, ...]:
    """Validate the study's ``[[compare]]`` array of tables."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise InputError(f"{src}: compare must be an array of tables ([[compare]])")
    model_keys = set(MODEL_KEYS) - {"priors"}
    out, names = [], set()
    for i, table in enumerate(raw, 1):
        where = f"{src}: [[compare]] #{i}"
        bad = set(table) - model_keys - COMPARE_KEYS
        if bad:
            raise InputError(f"{where} has unknown key(s) {', '.join(sorted(bad))}; valid keys: "
                             f"{', '.join(sorted(model_keys | COMPARE_KEYS))}")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"{where} needs a name = \"...\"")
        if name in names or name == "primary":
            raise InputError(f"{where}: the name {name!r} is used twice (or is the reserved 'primary')")
        names.add(name)
        joint = table.get("joint", False)
        if not isinstance(joint, bool):
            raise InputError(f"{where}: joint must be true or false")
        for key in ("draws", "tune"):
            if key in table and (not isinstance(table[key], int) or isinstance(table[key], bool) or table[key] < 1):
                raise InputError(f"{where}: {key} must be a positive integer")
        options = {k: v for k, v in table.items() if k not in COMPARE_KEYS}
        out.append(Alternative(name=name, options=options, joint=joint, draws=table.get("draws"),
                               tune=table.get("tune")))
    return tuple(out)


def alternative_specs(alt: Alternative, primary: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
    """The specs of one alternative per outcome (the primary's, with its options replaced); raises on bad ones."""
    try:
        specs = {o: replace(s, **alt.options) for o, s in primary.items()}
        if alt.joint:
            check_joint_specs(list(specs.values()))
    except InputError as exc:
        raise InputError(f"[[compare]] {alt.name!r}: {exc}") from None
    return specs
