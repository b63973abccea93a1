"""The Python API (``import tipcausal as tc`` exposes it): load or build a study, check it, run it, and read the
result as tables, figures and InferenceData. Notebooks and the CLI use this and nothing below it.

    study = tc.load_study("default")                      # or a path, or tc.build_study("default", sampler={...})
    run = tc.run(study)                                    # every check, every stage, summary.json and report.html
    run.summary(); run.effects(by="country"); run.plot_countries("prosecution")
    sweep = tc.sweep(study)                                # the study's [sweep] on Dask: sweep.frame, sweep.html
    design = tc.design(study, sims=50)                     # the sweep's specifications on simulated panels
"""

from __future__ import annotations

from tipcausal.api.dags import check_dag, identify, identify_variants, load_dag, plot_dag, save_dag
from tipcausal.api.data import SimulationConfig, build_data, simulate
from tipcausal.api.fitting import (ModelSpec, SamplerSettings, correlations_table, effects_table, fit_joint, fit_model,
                                   simulate_measurement_error)
from tipcausal.api.result import StudyRun
from tipcausal.api.running import COUNTRY_EFFECTS, rerender, run, sensitivity, study_store
from tipcausal.core.errors import DataValidationError, InputError
from tipcausal.study.config import Study, build_study, library_studies, load_study
from tipcausal.study.runner import Prepared, prepare
from tipcausal.sweeps.design import DesignRun, run_design as design
from tipcausal.sweeps.runner import DryRun, SweepRun, dry_run as sweep_dry_run, run_sweep as sweep

#: ``sensitivity`` under the name the package top uses (``tipcausal.sensitivity`` is the subpackage)
run_sensitivity = sensitivity

__all__ = ["COUNTRY_EFFECTS", "DataValidationError", "DesignRun", "DryRun", "InputError", "Prepared",
           "SimulationConfig", "Study", "StudyRun", "SweepRun", "build_data", "build_study", "check_dag", "design",
           "identify", "identify_variants", "library_studies", "load_dag", "load_study", "plot_dag", "prepare",
           "rerender", "run", "run_sensitivity", "save_dag", "sensitivity", "simulate", "study_store", "sweep",
           "sweep_dry_run", "ModelSpec", "SamplerSettings", "correlations_table", "effects_table", "fit_joint",
           "fit_model", "simulate_measurement_error"]
