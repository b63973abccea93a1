"""The convergence gate: every fit gets a pass/fail verdict with its reasons.

Checks (all on the free parameters and deterministics in the posterior): max rank-normalised split R-hat
<= 1.01 and finite (ArviZ's definitions, computed for all quantities at once by ``convergence``); bulk and tail ESS >= 100 per chain; no divergent transitions; E-BFMI >= 0.3
in every chain. Draws that are not finite fail the gate outright. ``extra_ess`` lets a caller
add quantities (e.g. effect draws) that must reach their own ESS threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import arviz as az
import numpy as np
import xarray as xr

from tipcausal.inference.convergence import convergence

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100
BFMI_MIN = 0.3


@dataclass(frozen=True)
class GateResult:
    """The verdict of the diagnostics gate and the numbers behind it."""

    verdict: Literal["pass", "fail"]
    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    min_bfmi: float
    chains: int
    draws: int
    reasons: tuple[str, ...] = ()
    worst: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return self.verdict == "pass"

    def to_dict(self) -> dict:
        """Plain-data form (non-finite numbers become None)."""
        def clean(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {"verdict": self.verdict, "max_rhat": clean(self.max_rhat), "min_ess_bulk": clean(self.min_ess_bulk),
                "min_ess_tail": clean(self.min_ess_tail), "divergences": self.divergences,
                "min_bfmi": clean(self.min_bfmi), "chains": self.chains, "draws": self.draws,
                "reasons": list(self.reasons), "worst": dict(self.worst)}


def bfmi(energy: np.ndarray) -> np.ndarray:
    """E-BFMI of each chain of ``energy`` (chain, draw): ``az.bfmi``'s formula, in NumPy (ArviZ's compiles a numba
    variance on first use, about 0.4 s in every new process)."""
    energy = np.atleast_2d(np.asarray(energy, dtype=float))
    return np.square(np.diff(energy, axis=1)).mean(axis=1) / np.var(energy, axis=1, ddof=1)


def _stacked(ds: xr.Dataset) -> tuple[np.ndarray, list[str]]:
    """Every variable's draws as one ``(chain, draw, quantity)`` array, and each quantity's variable name."""
    arrays, names = [], []
    for name, da in ds.data_vars.items():
        values = np.asarray(da.transpose("chain", "draw", ...).values, dtype=float)
        values = values.reshape(values.shape[0], values.shape[1], -1)
        arrays.append(values)
        names.extend([str(name)] * values.shape[2])
    if not arrays:
        return np.zeros((int(ds.sizes.get("chain", 0)), int(ds.sizes.get("draw", 0)), 0)), names
    return np.concatenate(arrays, axis=2), names


def _extreme(values: np.ndarray, names: list[str], worst: str) -> tuple[float, str]:
    """The worst (``"min"`` or ``"max"``) value and the variable holding it; NaN (and the first variable with a
    non-finite value) as soon as any value is not finite."""
    if values.size == 0:
        return np.nan, ""
    bad = ~np.isfinite(values)
    if bad.any():
        return np.nan, names[int(np.argmax(bad))]
    i = int(np.argmin(values) if worst == "min" else np.argmax(values))
    return float(values[i]), names[i]


def check_fit(idata: az.InferenceData, *, var_names: list[str] | None = None,
              extra: xr.Dataset | None = None, extra_ess_min: float = 0.0) -> GateResult:
    """Run the gate on ``idata`` (optionally on ``var_names`` only) and on ``extra`` quantities."""
    post = idata.posterior if var_names is None else idata.posterior[var_names]
    if extra is not None:
        post = xr.merge([post, extra], compat="override")
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    reasons: list[str] = []
    worst: dict[str, str] = {}

    nonfinite = [n for n, da in post.data_vars.items() if not np.isfinite(np.asarray(da.values, float)).all()]
    if nonfinite:
        reasons.append(f"non-finite draws in {', '.join(nonfinite)}")

    values, names = _stacked(post)
    conv = convergence(values)
    rhat, worst["rhat"] = _extreme(conv.rhat, names, "max")
    ess_bulk, worst["ess_bulk"] = _extreme(conv.ess_bulk, names, "min")
    ess_tail, worst["ess_tail"] = _extreme(conv.ess_tail, names, "min")
    if not np.isfinite(rhat) or rhat > RHAT_MAX:
        reasons.append(f"max R-hat {rhat:.3f} > {RHAT_MAX} ({worst['rhat']})" if np.isfinite(rhat)
                       else f"R-hat not finite ({worst['rhat']})")
    ess_min = ESS_PER_CHAIN_MIN * chains
    for label, value, key in (("bulk", ess_bulk, "ess_bulk"), ("tail", ess_tail, "ess_tail")):
        if not np.isfinite(value) or value < ess_min:
            reasons.append(f"min {label} ESS {value:.0f} < {ess_min} ({worst[key]})")
    if extra is not None and extra_ess_min > 0:
        mine = np.array([n in extra.data_vars for n in names], dtype=bool)  # extra's quantities, merged above
        extra_ess, where = _extreme(conv.ess_bulk[mine], [n for n, m in zip(names, mine) if m], "min")
        if not np.isfinite(extra_ess) or extra_ess < extra_ess_min:
            reasons.append(f"effect ESS {extra_ess:.0f} < {extra_ess_min:.0f} ({where})")

    stats = getattr(idata, "sample_stats", None)
    divergences = 0
    if stats is not None and "diverging" in stats:
        divergences = int(np.asarray(stats["diverging"].values).sum())
    if divergences:
        reasons.append(f"{divergences} divergent transition(s)")
    min_bfmi = np.nan
    if stats is not None and "energy" in stats:
        min_bfmi = float(np.min(bfmi(stats["energy"].transpose("chain", "draw").values)))
        if not np.isfinite(min_bfmi) or min_bfmi < BFMI_MIN:
            reasons.append(f"E-BFMI {min_bfmi:.2f} < {BFMI_MIN}")
    else:
        reasons.append("no energy statistics: E-BFMI cannot be checked")
    return GateResult(verdict="fail" if reasons else "pass", max_rhat=rhat, min_ess_bulk=ess_bulk,
                      min_ess_tail=ess_tail, divergences=divergences, min_bfmi=min_bfmi, chains=chains,
                      draws=draws, reasons=tuple(reasons), worst=worst)
