"""Building the real-data country-year panel from a manifest's sources, and writing it atomically.

``build_panel`` reads and validates every source (all problems from all files reported together,
before anything is written), harmonises countries to ISO3, merges onto the base source's
country-years within the window, makes the derived variables and measures coverage.
``write_build`` writes panel.parquet, panel.csv, coverage.md, coverage.json and build.json into
the output folder only after everything succeeded; ``ensure_built`` rebuilds when the build key
(manifest, override table and source file hashes) changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tipcausal.core import provenance
from tipcausal.data.countries import CountryCodes
from tipcausal.data.coverage import coverage_markdown, measure_coverage
from tipcausal.data.derive import DERIVE
from tipcausal.data.manifest import Manifest, load_manifest
from tipcausal.data.read import ReadProblem, read_source
from tipcausal.data.sources import SourceFrame, canonical_source
from tipcausal.core.errors import DataValidationError, InputError

BUILDER_VERSION = 1
OUTPUT_FILES = ("panel.parquet", "panel.csv", "coverage.md", "coverage.json", "build.json")
Progress = Callable[[str], None]


@dataclass
class Build:
    """A built panel with its coverage report and provenance."""

    panel: pd.DataFrame
    coverage: dict[str, Any]
    info: dict[str, Any]
    manifest: Manifest

    @property
    def key(self) -> str:
        """The build key: changes when the manifest, overrides or any source file changes."""
        return str(self.info["build_key"])


DATA_ENV = "TIPCAUSAL_DATA"


def default_sources_dir() -> Path:
    """The sources folder named by TIPCAUSAL_DATA (its ``sources/`` subfolder when it has one)."""
    root = os.environ.get(DATA_ENV)
    if not root:
        raise InputError(f"no sources folder: pass --sources DIR or set {DATA_ENV} to the data folder "
                         "(e.g. ../shared/data, which holds sources/)")
    path = Path(root)
    return path / "sources" if (path / "sources").is_dir() else path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_key(manifest: Manifest, sources_dir: Path, codes: CountryCodes) -> tuple[str, dict[str, str]]:
    """Hash of everything the build reads, and each source file's SHA-256 (missing files raise)."""
    hashes = {}
    for s in manifest.sources:
        path = sources_dir / s.path
        if not path.is_file():
            raise InputError(f"{path}: source file of {s.id!r} not found (manifest {manifest.path}; sources folder "
                             f"{sources_dir})")
        hashes[s.id] = file_sha256(path)
    key = provenance.hash_json({"builder": BUILDER_VERSION, "manifest": manifest.raw, "sources": hashes,
                                "overrides": file_sha256(codes.overrides_path)})
    return key, hashes


def _grid(frame: pd.DataFrame, window: tuple[int, int]) -> pd.DataFrame:
    """Every country x year from the source's first year (or window start) to its last (or window end)."""
    years = np.arange(min(int(frame["year"].min()), window[0]), max(int(frame["year"].max()), window[1]) + 1)
    index = pd.MultiIndex.from_product([pd.unique(frame["country"]), years], names=["country", "year"])
    return frame.set_index(["country", "year"]).reindex(index).reset_index()


def _derive(manifest: Manifest, frames: dict[str, SourceFrame]) -> dict[str, list[str]]:
    """Add derived columns to the frame of the source they derive from; returns source -> derived names."""
    home = {c.name: s.id for s in manifest.sources for c in s.columns}
    made: dict[str, list[str]] = {}
    for d in manifest.derived:
        sid = home[d.of]
        sf = frames[sid]
        if sf.spec.country_level:
            raise InputError(f"{manifest.path}: derived {d.name!r} needs a country-year source, but {d.of!r} comes "
                             f"from the country-level source {sid!r}")
        if sid not in made:
            sf.frame = _grid(sf.frame.astype({"year": int}), manifest.window)
        sf.frame[d.name] = DERIVE[d.kind](sf.frame, d).to_numpy()
        home[d.name] = sid
        made.setdefault(sid, []).append(d.name)
    return made


def build_panel(manifest: Manifest | str | Path | None, sources_dir: str | Path, *,
                progress: Progress | None = None) -> Build:
    """Read, validate, harmonise and merge every source; raise one DataValidationError listing all problems."""
    say = progress or (lambda m: None)
    manifest = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    sources_dir = Path(sources_dir)
    if not sources_dir.is_dir():
        raise InputError(f"{sources_dir}: sources folder not found (pass --sources or set TIPCAUSAL_DATA)")
    codes = CountryCodes(manifest.overrides)
    key, hashes = build_key(manifest, sources_dir, codes)
    problems: list[str] = []
    frames: dict[str, SourceFrame] = {}
    for i, spec in enumerate(manifest.sources, 1):
        path = sources_dir / spec.path
        say(f"[{i}/{len(manifest.sources)}] reading {spec.id}: {path}")
        try:
            raw = read_source(spec, path)
        except ReadProblem as exc:
            problems.append(f"{path}: {exc}")
            continue
        frame, found = canonical_source(spec, raw, str(path), manifest, codes)
        problems.extend(found)
        if frame is not None:
            frames[spec.id] = frame
    if problems:
        raise DataValidationError(f"data build from manifest {manifest.path}", problems)

    base_rows = frames[manifest.base].frame[["country", "year"]].astype({"year": int})
    derived = _derive(manifest, frames)
    lo, hi = manifest.window
    base = frames[manifest.base].frame.astype({"year": int}).merge(base_rows, on=["country", "year"])
    base = base[base["year"].between(lo, hi)]
    panel = base.copy()
    for sid, sf in frames.items():
        if sid == manifest.base:
            continue
        cols = [c.name for c in sf.spec.columns] + derived.get(sid, [])
        keys = ["country"] if sf.spec.country_level else ["country", "year"]
        right = sf.frame[keys + cols]
        if not sf.spec.country_level:
            right = right.astype({"year": int})
        panel = panel.merge(right, on=keys, how="left", validate="one_to_one" if len(keys) == 2 else "many_to_one")
    panel.insert(1, "country_name", panel["country"].map(codes.name_of))
    panel = panel.sort_values(["country", "year"]).reset_index(drop=True)
    coverage = measure_coverage(manifest, frames, panel, codes)
    info = {
        "builder_version": BUILDER_VERSION, "build_key": key, "manifest": str(manifest.path),
        "manifest_hash": manifest.hash, "sources_dir": str(sources_dir.resolve()), "source_sha256": hashes,
        "overrides": str(codes.overrides_path), "panel_hash": provenance.hash_frame(panel),
        "rows": len(panel), "columns": list(panel.columns), "window": list(manifest.window),
        "derived": {d.name: {"kind": d.kind, "of": d.of, "years": d.years, "doc": d.doc} for d in manifest.derived},
        "sources": {s.id: {"title": s.title, "citation": s.citation, "path": s.path} for s in manifest.sources},
        "versions": provenance.library_versions(), "created": provenance.utc_now(),
    }
    say(f"built panel: {len(panel)} country-years, {panel['country'].nunique()} countries, {lo}-{hi}")
    return Build(panel=panel, coverage=coverage, info=info, manifest=manifest)


def write_build(build: Build, out_dir: str | Path) -> dict[str, Path]:
    """Write the panel, coverage report and build record; files appear only when all were written."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tipcausal-build-", dir=out.parent))
    try:
        build.panel.to_parquet(staging / "panel.parquet", index=False)
        build.panel.to_csv(staging / "panel.csv", index=False)
        (staging / "coverage.md").write_text(coverage_markdown(build.coverage, build.info), encoding="utf-8")
        (staging / "coverage.json").write_text(json.dumps(build.coverage, indent=2, default=str), encoding="utf-8")
        (staging / "build.json").write_text(json.dumps(build.info, indent=2, default=str), encoding="utf-8")
        check = pd.read_parquet(staging / "panel.parquet")
        if provenance.hash_frame(check) != build.info["panel_hash"]:
            raise OSError(f"{staging}: panel.parquet did not read back identically")
        out.mkdir(exist_ok=True)
        umask = os.umask(0)
        os.umask(umask)
        paths = {}
        for name in OUTPUT_FILES:  # build.json last: a build without it is never taken as complete
            os.chmod(staging / name, 0o666 & ~umask)
            os.replace(staging / name, out / name)
            paths[name] = out / name
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_build(out_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]] | None:
    """The panel and build record in ``out_dir``, or None when no complete build is there."""
    out = Path(out_dir)
    if not (out / "build.json").is_file() or not (out / "panel.parquet").is_file():
        return None
    info = json.loads((out / "build.json").read_text(encoding="utf-8"))
    panel = pd.read_parquet(out / "panel.parquet")
    if provenance.hash_frame(panel) != info.get("panel_hash"):
        return None
    return panel, info


def ensure_built(manifest: Manifest | str | Path | None, sources_dir: str | Path, out_dir: str | Path, *,
                 progress: Progress | None = None) -> tuple[pd.DataFrame, dict[str, Any], bool]:
    """The built panel in ``out_dir``, (re)building it when missing or stale; returns (panel, info, rebuilt)."""
    say = progress or (lambda m: None)
    manifest = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
    key, _ = build_key(manifest, Path(sources_dir), CountryCodes(manifest.overrides))
    existing = read_build(out_dir)
    if existing is not None and existing[1].get("build_key") == key:
        say(f"using built panel {Path(out_dir) / 'panel.parquet'} (build key {key[:12]} up to date)")
        return existing[0], existing[1], False
    say(f"building panel into {out_dir} ({'stale' if existing else 'missing'}: build key {key[:12]})")
    build = build_panel(manifest, sources_dir, progress=progress)
    write_build(build, out_dir)
    return build.panel, build.info, True
