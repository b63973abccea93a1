"""The Python API notebooks and the CLI use: load a study, check it, run it, and write its outputs.

``run(study)`` checks every input, then runs every stage (``study.runner.run_study``) into a staging folder,
writes summary.json and report.html there and puts the folder in place of the study's output folder in one
step (``core.rundir``: a run is all-or-nothing, and a second run into the same folder is refused); it returns a
``StudyRun`` (``api.result``). Beside summary.json it writes ``effects_by_country.csv`` (``study.tables``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tipcausal.api.result import StudyRun
from tipcausal.core import io
from tipcausal.core.rundir import check_output_dir, staged_run
from tipcausal.fitstore import FitStore, resolve_store
from tipcausal.report.render import write_report
from tipcausal.sensitivity.settings import SensitivitySettings
from tipcausal.study.config import Study, load_study
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
    store = study_store(study)
    prepared = prepare(study, progress)  # every input check: nothing is written before it passes
    with staged_run(out_dir) as staging:
        result = run_study(study, prepared=prepared, write_dir=staging, progress=progress,
                           show_sampler_progress=show_sampler_progress, store=store, sensitivity=wanted)
        if progress:
            progress(f"writing summary.json, {COUNTRY_EFFECTS} and report.html")
        summary = build_summary(result)
        io.write_json_atomic(staging / "summary.json", summary)
        effects_table(result, "country").to_csv(staging / COUNTRY_EFFECTS, index=False)
        write_report(result, summary, staging / "report.html")
    if progress and store is not None:
        progress(f"fit store {store.root}: {store.hits} fit(s) reused, {store.misses} fitted and stored")
    if progress:
        progress(f"wrote {out_dir / 'report.html'}, {out_dir / 'summary.json'} and the fits in {out_dir / 'fits'}")
    return StudyRun(result=result, document=summary, summary_path=out_dir / "summary.json",
                    report_path=out_dir / "report.html")
