"""Side-by-side specifications: a study's ``[[compare]]`` entries, each a variant of the primary model
(another likelihood, pooling, year effects, measurement error, imputation, or the joint 3-P model), fitted on
the same panel and reported per outcome with their effects, diagnostics and PSIS-LOO.

A ``[[compare]]`` table takes ``name``, optionally ``joint = true``, ``draws`` and ``tune``, and any model
option of the ``[model]`` section, which it overrides for that specification.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from tipcausal.errors import InputError
from tipcausal.models.spec import ModelSpec

EXTRA_KEYS = {"name", "joint", "draws", "tune"}


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

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"name": self.name, "options": self.options, "joint": self.joint, "draws": self.draws,
                "tune": self.tune}


def parse_alternatives(raw: Any, src: str, model_keys: set[str]) -> tuple[Alternative, ...]:
    """Validate the study's ``[[compare]]`` array of tables."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise InputError(f"{src}: compare must be an array of tables ([[compare]])")
    out, names = [], set()
    for i, table in enumerate(raw, 1):
        where = f"{src}: [[compare]] #{i}"
        bad = set(table) - model_keys - EXTRA_KEYS
        if bad:
            raise InputError(f"{where} has unknown key(s) {', '.join(sorted(bad))}; valid keys: "
                             f"{', '.join(sorted(model_keys | EXTRA_KEYS))}")
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
        options = {k: v for k, v in table.items() if k not in EXTRA_KEYS}
        out.append(Alternative(name=name, options=options, joint=joint, draws=table.get("draws"),
                               tune=table.get("tune")))
    return tuple(out)


def alternative_specs(alt: Alternative, primary: dict[str, ModelSpec]) -> dict[str, ModelSpec]:
    """The specs of one alternative per outcome (the primary's, with its options replaced); raises on bad ones."""
    from tipcausal.models.joint import check_joint_specs

    try:
        specs = {o: replace(s, **alt.options) for o, s in primary.items()}
    except InputError as exc:
        raise InputError(f"[[compare]] {alt.name!r}: {exc}") from None
    if alt.joint:
        try:
            check_joint_specs(list(specs.values()))
        except InputError as exc:
            raise InputError(f"[[compare]] {alt.name!r}: {exc}") from None
    return specs


def spec_row(name: str, spec: ModelSpec, data: Any, assessment: Any, fit_path: Path | None, *, joint: bool = False,
             reference: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """One specification's line in the side-by-side table; ``reference`` = (rows, pointwise elpd) of the
    primary model, against which elpd is differenced when the two are comparable."""
    from tipcausal.comparison import elpd_difference

    notes = []
    if spec.missing == "impute":
        notes.append(f"{sum(data.imputed.values())} covariate value(s) imputed")
    if spec.measurement_error is not None and not isinstance(spec.measurement_error, str):
        notes.append("measurement SD given by the study, not measured")
    row: dict[str, Any] = {
        "name": name, "description": ("joint 3-P model (LKJ-correlated country effects); " if joint else "")
        + spec.describe() + "".join(f"; {n}" for n in notes), "likelihood": spec.likelihood, "joint": joint, "n_obs": data.n_obs,
        "n_countries": len(data.coords["country"]), "diagnostics": assessment.gate.to_dict(),
        "effects": assessment.effects["effects"], "slope_mean": assessment.effects["slope_mean"],
        "slope_sd": assessment.effects.get("slope_sd"), "loo": assessment.loo,
        "fit": None if fit_path is None else str(fit_path), "model_hash": spec.hash,
        "elpd_diff": None, "elpd_diff_se": None, "loo_note": "", "ppc": assessment.ppc,
        "ppc_inside": int(sum(lo <= o <= hi for o, lo, hi in zip(assessment.ppc["observed"],
                                                                 assessment.ppc["replicated_low"],
                                                                 assessment.ppc["replicated_high"]))),
    }
    if reference is None:
        row["loo_note"] = "reference"
    elif spec.binary:
        row["loo_note"] = "not comparable: a binary outcome"
    elif spec.measurement_error is not None:
        row["loo_note"] = "not comparable: conditional on latent consultation"
    else:
        keys = ["country", "year"]
        mine = data.rows[keys].reset_index(drop=True)
        ref = reference[0][keys].reset_index(drop=True).reset_index().merge(mine.reset_index(), on=keys,
                                                                            suffixes=("_ref", ""))
        if len(ref) < len(mine):
            row["loo_note"] = f"not comparable: other country-years ({data.n_obs} rows)"
        else:  # the same rows, or a subset of the reference's: compared on the common country-years
            row["elpd_diff"], row["elpd_diff_se"] = elpd_difference(
                np.asarray(assessment.pointwise_elpd)[ref["index"].to_numpy()],
                np.asarray(reference[1])[ref["index_ref"].to_numpy()])
            if len(mine) < len(reference[0]):
                row["loo_note"] = f"on the {len(mine)} country-years both models use"
    return row


#: save(run, spec, data, gate, sampler settings, path, label) writes a fit with its provenance
SaveFit = Callable[[Any, ModelSpec, Any, Any, Any, Path, str], Any]


def run_alternatives(alternatives: tuple[Alternative, ...], primary_specs: dict[str, ModelSpec], panel: Any,
                     sampler: Any, references: dict[str, tuple[Any, Any]], out_dir: Path, save: SaveFit,
                     say: Callable[[str], None], show_progress: bool = True
                     ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any] | None]:
    """Fit every alternative; returns the rows per outcome and the joint model's cross-outcome correlations."""
    from tipcausal.diagnostics import check_fit
    from tipcausal.fitting import assess, mark, sample_spec
    from tipcausal.models.binding import bind_data
    from tipcausal.models.joint import bind_joint, build_joint_model, correlation_summary, outcome_view
    from tipcausal.models.pymc_builder import build_model

    rows: dict[str, list[dict[str, Any]]] = {o: [] for o in primary_specs}
    joint_info = None
    for i, alt in enumerate(alternatives, 1):
        specs = alternative_specs(alt, primary_specs)
        settings = replace(sampler, draws=alt.draws or sampler.draws, tune=alt.tune or sampler.tune)
        say(f"[compare {i}/{len(alternatives)}] {alt.name}: {next(iter(specs.values())).describe()}"
            + (" (joint)" if alt.joint else ""))
        if alt.joint:
            spec_list = list(specs.values())
            datas = bind_joint(panel, spec_list)
            run = sample_spec(build_joint_model(spec_list, datas), settings, progress=show_progress)
            mark(run.idata, spec_list[0])
            fit_path = out_dir / "fits" / "compare" / alt.slug / "joint.nc"
            save(run, spec_list[0], datas[0], check_fit(run.idata), settings, fit_path, "joint: " + ", ".join(specs))
            for (outcome, spec), data in zip(specs.items(), datas):
                view = outcome_view(run.idata, spec.outcome)
                a = assess(view, data, seed=settings.seed, gate_idata=run.idata)
                rows[outcome].append(spec_row(alt.name, spec, data, a, fit_path, joint=True,
                                              reference=references.get(outcome)))
            joint_info = {"name": alt.name, "correlations": correlation_summary(run.idata),
                          "n_obs": datas[0].n_obs, "n_countries": len(datas[0].coords["country"]),
                          "diagnostics": rows[next(iter(specs))][-1]["diagnostics"]}
            continue
        for outcome, spec in specs.items():
            data = bind_data(panel, spec)
            run = sample_spec(build_model(spec, data), settings, progress=show_progress)
            mark(run.idata, spec)
            a = assess(run.idata, data, seed=settings.seed)
            fit_path = out_dir / "fits" / "compare" / alt.slug / f"{outcome}.nc"
            save(run, spec, data, a.gate, settings, fit_path, outcome)
            row = spec_row(alt.name, spec, data, a, fit_path, reference=references.get(outcome))
            rows[outcome].append(row)
            verdict = "PASS" if a.gate.passed else "FAIL"
            say(f"    {outcome}: {verdict}; within slope {row['slope_mean']['mean']:+.3f} "
                f"[{row['slope_mean']['hdi_low']:+.3f}, {row['slope_mean']['hdi_high']:+.3f}]")
    return rows, joint_info

