"""The Python API notebooks and the CLI use: load a study, check it, run it, and write its outputs.

``run(study)`` checks every input, then runs every stage (``study.runner.run_study``) into a staging folder,
writes summary.json and report.html there and puts the folder in place of the study's output folder in one
step (``core.rundir``: a run is all-or-nothing, and a second run into the same folder is refused); it returns a
``StudyRun`` (``api.result``). Beside summary.json it writes ``effects_by_country.csv`` (``study.tables``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tipcausal.api.result import StudyRun
from tipcausal.core import io
from tipcausal.core.errors import InputError
from tipcausal.core.rundir import check_output_dir, staged_run
from tipcausal.fitstore import FitStore, resolve_store
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.report.render import write_report
from tipcausal.sensitivity.settings import SensitivitySettings
from tipcausal.study.config import Study, load_study, study_from_tables
from tipcausal.study.run_folder import RunFolderFits
from tipcausal.study.runner import prepare, run_study
from tipcausal.study.summary import build_summary
from tipcausal.study.tables import effects_table

COUNTRY_EFFECTS = "effects_by_country.csv"


def study_store(study: Study) -> FitStore | None:
    """The fit store a study runs through: its ``[output] store`` (False: none), else ``$TIPCAUSAL_STORE``, else
    ``models``; checked like the output folder before anything runs."""
    if study.store is False:
        return None
    store = resolve_store(study.store if isinstance(study.store, str) else None, refit=study.refit)
    if store is not None:
        check_output_dir(store.root, "fit store folder")
    return store


def _sensitivity(study: Study, request: bool | tuple[str, ...] | None) -> SensitivitySettings | None:
    """The sensitivity analyses a run computes (checked before anything runs)."""
    settings = study.sensitivity
    if request is None:
        request = settings.run
    if request is False:
        return None
    return settings.only(None if request is True else tuple(request))


def sensitivity(study: Study | str | Path | None = None, *, only: tuple[str, ...] | None = None,
                progress: Callable[[str], None] | None = None, show_sampler_progress: bool = True) -> StudyRun:
    """Run ``study`` with its sensitivity analyses (``only``: just these), reusing its stored fits, and write
    them into summary.json (``sensitivity``) and report.html."""
    return run(study, progress=progress, show_sampler_progress=show_sampler_progress,
               sensitivity=tuple(only) if only else True)


def run(study: Study | str | Path | None = None, *, progress: Callable[[str], None] | None = None,
        show_sampler_progress: bool = True, sensitivity: bool | tuple[str, ...] | None = None) -> StudyRun:
    """Run ``study`` (a ``Study``, a study file or a library name; default the embedded default study) and write
    summary.json and report.html beside its fits. ``sensitivity``: True runs the study's ``[sensitivity]``
    analyses, a tuple of names only those ("confounding", "priors", "refute"), False none; None (default)
    follows the study's ``[sensitivity] run``."""
    study = study if isinstance(study, Study) else load_study(study)
    wanted = _sensitivity(study, sensitivity)
    out_dir = check_output_dir(study.output_dir)
    return _write_run(study, out_dir, study_store(study), wanted, progress, show_sampler_progress)


def _write_run(study: Study, out_dir: Path, store: FitStore | None, wanted: SensitivitySettings | None,
               progress: Callable[[str], None] | None, show_sampler_progress: bool,
               carried: dict[str, Any] | None = None) -> StudyRun:
    """Check, run and write ``study`` into ``out_dir`` all-or-nothing; ``carried``: summary.json entries kept from
    an earlier run of the same fits (its sensitivity section, when re-rendering)."""
    prepared = prepare(study, progress)  # every input check: nothing is written before it passes
    with staged_run(out_dir) as staging:
        result = run_study(study, prepared=prepared, write_dir=staging, progress=progress,
                           show_sampler_progress=show_sampler_progress, store=store, sensitivity=wanted)
        if progress:
            progress(f"writing summary.json, {COUNTRY_EFFECTS} and report.html")
        summary = {**build_summary(result), **(carried or {})}
        io.write_json_atomic(staging / "summary.json", summary)
        effects_table(result, "country").to_csv(staging / COUNTRY_EFFECTS, index=False)
        write_report(result, summary, staging / "report.html", store=store)
    if progress and store is not None:
        progress(f"fit store {store.root}: {store.hits} fit(s) reused, {store.misses} fitted and stored")
    if progress:
        progress(f"wrote {out_dir / 'report.html'}, {out_dir / 'summary.json'} and the fits in {out_dir / 'fits'}")
    return StudyRun(result=result, document=summary, summary_path=out_dir / "summary.json",
                    report_path=out_dir / "report.html")


def rerender(run_dir: str | Path, *, progress: Callable[[str], None] | None = None) -> StudyRun:
    """Render a finished run's summary.json and report.html again with the current code, from its own fit files
    (no sampling; each fit is assessed again), keeping its sensitivity section; the folder is replaced
    all-or-nothing. Refused, with nothing written, when the folder is not a finished run or its study file,
    data or settings no longer make the fits it holds."""
    run_dir = Path(run_dir)
    summary_file = run_dir / "summary.json"
    if not summary_file.is_file():
        raise InputError(f"{run_dir}: no summary.json: not a finished tipcausal run folder")
    try:
        doc = json.loads(summary_file.read_text(encoding="utf-8"))
        recorded = doc["provenance"]["study"]
        source, sampler = recorded["source"], SamplerSettings(**recorded["sampler"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{summary_file}: unreadable or without provenance.study ({exc})") from None
    if not isinstance(recorded.get("tables"), dict):
        raise InputError(f"{summary_file}: written by an older tipcausal, without the study's tables; run the "
                         "study again with tipcausal run (its fit store makes that fast)")
    study = study_from_tables(recorded["tables"], source)
    study = replace(study.with_overrides(output_dir=str(run_dir), sources=recorded["data"].get("sources"),
                                         allow_unconverged=doc["provenance"].get("allow_unconverged")),
                    sampler=sampler)
    store = RunFolderFits(run_dir, derived_from=study_store(study))  # baselines and DAG variants from the store
    carried = {"sensitivity": doc["sensitivity"]} if doc.get("sensitivity") else None
    return _write_run(study, check_output_dir(str(run_dir)), store, None, progress, False, carried)
