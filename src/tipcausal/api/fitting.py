"""Single models from Python (``tc.fit_model``: ``tipcausal.fit`` is the module): fit one specification (or the
joint 3-P model) to a panel through the one fitting path, and read its effects and cross-P correlations as tables. A study run (``tc.run``) does this for every
outcome and specification; these are for working with one model at a time, as notebook 02 does."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tipcausal.data.panel import Panel
from tipcausal.fit import JointFit, SpecFit, fit_joint as _fit_joint, fit_specification
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.spec import ModelSpec
from tipcausal.simulation.measurement_error import MESimulation, simulate_me_panel


def fit_model(panel: Panel, spec: ModelSpec, sampler: SamplerSettings | None = None, *,
              progress: bool = False) -> SpecFit:
    """``spec`` fitted to ``panel`` (bind, build, sample, assess: the diagnostics gate, effects, PSIS-LOO and the
    predictive check); ``sampler`` defaults to ``SamplerSettings()``. Shows its gate and effects in Jupyter."""
    return fit_specification(panel, spec, sampler if sampler is not None else SamplerSettings(), progress=progress)


def fit_joint(panel: Panel, specs: Sequence[ModelSpec], sampler: SamplerSettings | None = None, *,
              progress: bool = False) -> JointFit:
    """The outcomes of ``specs`` fitted together, country intercepts and slopes correlated across them (LKJ
    prior); each outcome's slice (``.outcomes[p]``) reads like a single fit."""
    return _fit_joint(panel, list(specs), sampler if sampler is not None else SamplerSettings(), progress=progress)


def effects_table(fit: SpecFit | JointFit) -> pd.DataFrame:
    """Effects of +1 SD consultation, one row per outcome and effect (the average effects on the outcome scale,
    then the within slope on the latent scale): mean, 94% HDI, P(effect > 0)."""
    fits = fit.outcomes if isinstance(fit, JointFit) else {fit.spec.outcome: fit}
    rows = []
    for o, f in fits.items():
        effects = f.assessment.effects
        named = [*effects.average.items(), ("within slope (latent scale)", effects.slope_mean)]
        rows += [{"outcome": o, "effect": name, "mean": e.mean, "hdi_low": e.hdi_low, "hdi_high": e.hdi_high,
                  "p_positive": e.p_positive} for name, e in named]
    return pd.DataFrame(rows)


def correlations_table(fit: JointFit) -> pd.DataFrame:
    """The joint model's correlations of country intercepts and slopes across outcomes (posterior mean, HDI)."""
    return pd.DataFrame(list(fit.correlations))


def simulate_measurement_error(seed: int, **options: float) -> MESimulation:
    """A panel whose observed treatment ``x`` is the true one plus Normal noise of SD ``me_sd`` (its column
    ``x_sd``), scores ``y`` from the true treatment, and the true within slope in the models' units
    (``simulate_me_panel``'s options: n_countries, n_years, within_sd, between_sd, me_sd, ...)."""
    return simulate_me_panel(seed, **options)


__all__ = ["ModelSpec", "SamplerSettings", "correlations_table", "effects_table", "fit_joint", "fit_model",
           "simulate_measurement_error"]
