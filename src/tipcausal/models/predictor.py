"""The linear predictor of the hierarchical ordinal model, written once for PyTensor and NumPy.

``linear_predictor`` is used by the PyMC builder (parameters are symbolic, no draw axes) and by
``tipcausal.posterior.effects`` (parameters are posterior arrays with leading draw axes), so the fitted
model and the effects computed from it can never disagree about the model's structure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytensor.tensor as pt

#: Posterior variables the predictor reads (present only when the spec uses them).
PARAMETER_NAMES = ("intercept", "slope", "year_effect", "between_effect", "covariate_within", "covariate_between",
                   "z_missing")

#: Data arrays the predictor reads (stored as constant_data in every fit; the last two only with imputation).
DATA_NAMES = ("country_idx", "year_idx", "x_within", "x_between", "z_within", "z_between", "miss_row", "miss_col")


def _scatter_add(values: Any, rows: np.ndarray, n: int) -> Any:
    """A length-``n`` (last axis) array with ``values`` summed into positions ``rows``."""
    if isinstance(values, np.ndarray):
        out = np.zeros(values.shape[:-1] + (n,))
        np.add.at(out, (slice(None),) * (values.ndim - 1) + (rows,), values)
        return out
    return pt.inc_subtensor(pt.zeros(n)[rows], values)


def split_latent(x: Any, country_idx: np.ndarray, n_countries: int, within_between: bool) -> tuple[Any, Any]:
    """Within-country deviations and country means of a latent treatment (last axis = observations)."""
    counts = np.bincount(country_idx, minlength=n_countries).astype(float)
    if not within_between:
        return x, x * 0.0
    if isinstance(x, np.ndarray):
        membership = np.zeros((len(country_idx), n_countries))
        membership[np.arange(len(country_idx)), country_idx] = 1.0 / counts[country_idx]
        between = (x @ membership)[..., country_idx]
    else:
        between = (pt.inc_subtensor(pt.zeros(n_countries)[country_idx], x) / counts)[country_idx]
    return x - between, between


def _per_row(coef: Any, z: np.ndarray) -> Any:
    """sum_j coef[..., j] * z[row, j] per row: a matrix product for draws (numpy), elementwise in the model."""
    if isinstance(coef, np.ndarray):
        return coef @ np.asarray(z).T
    return (coef[..., None, :] * z).sum(axis=-1)


def treatment_shift(params: Mapping[str, Any], data: Mapping[str, Any], shift: float) -> Any:
    """The change in eta per observation when the treatment is raised by ``shift`` SDs (``do``): eta is linear in
    the treatment's within deviation, so ``linear_predictor(p, d, shift) = linear_predictor(p, d) + this``."""
    return params["slope"][..., data["country_idx"]] * shift


def linear_predictor(params: Mapping[str, Any], data: Mapping[str, Any], shift: float = 0.0) -> Any:
    """eta per observation; ``shift`` adds that many SDs to the treatment (the ``do`` intervention).

    Parameters may carry leading axes (draws); data arrays are per observation.
    """
    c, t = data["country_idx"], data["year_idx"]
    x_within = params["x_within"] if "x_within" in params else data["x_within"]  # latent under measurement error
    x_between = params["x_between"] if "x_between" in params else data["x_between"]
    eta = params["intercept"][..., c] + params["slope"][..., c] * x_within
    if shift:
        eta = eta + treatment_shift(params, data, shift)
    if "year_effect" in params:
        eta = eta + params["year_effect"][..., t]
    if "between_effect" in params:
        eta = eta + params["between_effect"][..., None] * x_between
    if "covariate_within" in params:
        eta = eta + _per_row(params["covariate_within"], data["z_within"])
    if "covariate_between" in params:
        eta = eta + _per_row(params["covariate_between"], data["z_between"])
    if "z_missing" in params:  # imputed covariates: their within deviations, added at their rows
        r, j = data["miss_row"], data["miss_col"]
        dev = params["z_missing"] - data["z_between"][r, j]
        eta = eta + _scatter_add(params["covariate_within"][..., j] * dev, r, c.shape[0])
    return eta


def from_idata(idata: Any, draws: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                                    dict[str, np.ndarray]]:
    """Predictor inputs of a fit: (params with one flat draw axis, cutpoints, data arrays).

    ``draws`` selects flat draw indices (chain-major); default all draws.
    """
    post = idata.posterior
    n = post.sizes["chain"] * post.sizes["draw"]
    pick = slice(None) if draws is None else draws

    def flat(name: str) -> np.ndarray:
        values = np.asarray(post[name].values)
        return values.reshape((n,) + values.shape[2:])[pick]

    params = {k: flat(k) for k in PARAMETER_NAMES if k in post}
    data = {k: np.asarray(idata.constant_data[k].values) for k in DATA_NAMES if k in idata.constant_data}
    if "x_true" in post:  # measurement-error model: the latent treatment varies by draw
        within_between = "between_effect" in post
        params["x_within"], params["x_between"] = split_latent(
            flat("x_true"), data["country_idx"], post.sizes["country"], within_between)
    return params, flat("cutpoints"), data
