"""Fitting one specification and assessing the fit: sampling, the convergence gate on the parameters and the
effects, effects on the outcome scale, PSIS-LOO and the predictive check; shared by the primary model and the
side-by-side specifications of a study."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import arviz as az

from tipcausal.diagnostics import GateResult, check_fit
from tipcausal.models.binding import ModelData
from tipcausal.models.likelihoods import mark_fit
from tipcausal.models.spec import ModelSpec

EFFECT_ESS_MIN = 400


@dataclass
class Assessment:
    """What a study reports of one outcome's fit."""

    gate: GateResult
    effects: dict[str, Any]
    loo: dict[str, Any]
    ppc: dict[str, list]
    pointwise_elpd: Any = field(default=None, repr=False)


def sample_spec(model: Any, sampler: Any, *, progress: bool = True):
    """Sample ``model`` with a study's sampler settings (``SamplerSettings``); returns the ``SamplerRun``."""
    from tipcausal.sampling import sample

    return sample(model, backend=sampler.backend, draws=sampler.draws, tune=sampler.tune, chains=sampler.chains,
                  target_accept=sampler.target_accept, seed=sampler.seed, progress=progress)


def mark(idata: az.InferenceData, spec: ModelSpec) -> None:
    """Record the spec's link and collapse threshold on the fit."""
    mark_fit(idata, spec.link, spec.collapse_threshold if spec.binary else 0)


def assess(idata: az.InferenceData, data: ModelData, *, seed: int,
           gate_idata: az.InferenceData | None = None) -> Assessment:
    """Gate, effects, LOO and PPC of a single-outcome fit (``gate_idata``: the whole fit it is a view of)."""
    from tipcausal.comparison import loo_summary
    from tipcausal.effects import effect_draws, effect_names, summarise_effects
    from tipcausal.ppc import predictive_shares

    draws = effect_draws(idata)
    gate = check_fit(gate_idata if gate_idata is not None else idata, extra=draws[list(effect_names(idata))],
                     extra_ess_min=EFFECT_ESS_MIN)
    loo = loo_summary(idata, data.rows)
    pointwise = loo.pop("pointwise")
    return Assessment(gate=gate, effects=summarise_effects(idata, draws), loo=loo,
                      ppc=predictive_shares(idata, seed=seed), pointwise_elpd=pointwise)
