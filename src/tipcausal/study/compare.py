"""Side-by-side specifications: a study's ``[[compare]]`` entries, each a variant of the primary model (another
likelihood, pooling, year effects, measurement error, imputation, or the joint 3-P model), fitted on the same
panel through the one fitting path, saved with provenance, and compared with the primary model by PSIS-LOO.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tipcausal.data.panel import Panel
from tipcausal.fit import SpecFit
from tipcausal.fitstore import FitStore, fit_joint_stored, fit_stored
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec
from tipcausal.posterior.loo import ElpdComparison, compare_elpd
from tipcausal.study.config import Alternative, alternative_specs
from tipcausal.study.results import JointResult, Specification
from tipcausal.study.store import FitContext, fit_provenance, save_fit

Say = Callable[[str], None]


def comparison_with(fit: SpecFit, reference: SpecFit | None) -> ElpdComparison:
    """How a specification's elpd compares with the primary model's (or why it is not compared)."""
    if reference is None:
        return ElpdComparison(note="reference")
    if not fit.spec.family.loo_comparable:
        return ElpdComparison(note="not comparable: a binary outcome")
    if fit.spec.measurement_error is not None:
        return ElpdComparison(note="not comparable: conditional on latent consultation")
    return compare_elpd(fit.data.rows, fit.assessment.pointwise_elpd, reference.data.rows,
                        reference.assessment.pointwise_elpd)


def fit_alternatives(alternatives: tuple[Alternative, ...], primary_specs: dict[str, ModelSpec], panel: Panel,
                     study_settings: SamplerSettings, references: dict[str, SpecFit], dirs: tuple[Path, Path],
                     context: FitContext, say: Say, progress: bool = False, store: FitStore | None = None
                     ) -> tuple[dict[str, list[Specification]], JointResult | None]:
    """Fit every alternative (through ``store``, if any) and save it into ``dirs[0]`` (recording its path under
    ``dirs[1]``, the output folder); returns its specifications per outcome and the joint model, if any."""
    write_dir, out_dir = dirs
    rows: dict[str, list[Specification]] = {o: [] for o in primary_specs}
    joint = None
    for i, alt in enumerate(alternatives, 1):
        specs = alternative_specs(alt, primary_specs)
        settings = alt.settings(study_settings)
        say(f"[compare {i}/{len(alternatives)}] {alt.name}: {next(iter(specs.values())).describe()}"
            + (" (joint)" if alt.joint else ""))
        folder, written = out_dir / "fits" / "compare" / alt.slug, write_dir / "fits" / "compare" / alt.slug
        if alt.joint:
            jf, reused = fit_joint_stored(store, panel, list(specs.values()), settings, progress=progress)
            if reused:
                say(f"    reused the stored joint fit {jf.record.key[:12]}")
            path = folder / "joint.nc"
            save_fit(jf.idata, fit_provenance(jf, "joint: " + ", ".join(specs), context), written / "joint.nc",
                     store=store)
            for outcome, spec in specs.items():
                view = jf.outcomes[spec.outcome]
                rows[outcome].append(Specification(alt.name, view, path,
                                                   comparison_with(view, references.get(outcome)), joint=True))
            joint = JointResult(name=alt.name, fit=jf, fit_path=path)
            continue
        for outcome, spec in specs.items():
            fit, reused = fit_stored(store, panel, spec, settings, progress=progress)
            path = folder / f"{outcome}.nc"
            save_fit(fit.idata, fit_provenance(fit, outcome, context), written / f"{outcome}.nc",
                     store=store, rows=fit.data.rows, pointwise=fit.evaluated,
                     previous=path if write_dir != out_dir else None)
            fit = fit.lean()
            rows[outcome].append(Specification(alt.name, fit, path, comparison_with(fit, references.get(outcome))))
            s = fit.assessment.effects.slope_mean
            reference = references.get(outcome)
            same = reference is not None and reference.record.key == fit.record.key
            note = " (the primary model's fit: the same model here)" if same else " (stored fit)" if reused else ""
            say(f"    {outcome}: {'PASS' if fit.passed else 'FAIL'}{note}; within slope {s.mean:+.3f} "
                f"[{s.hdi_low:+.3f}, {s.hdi_high:+.3f}]")
    return rows, joint
