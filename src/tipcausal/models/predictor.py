"""The linear predictor of the hierarchical ordinal model, written once for PyTensor and NumPy.

``linear_predictor`` is used by the PyMC builder (parameters are symbolic, no draw axes) and by
``tipcausal.effects`` (parameters are posterior arrays with leading draw axes), so the fitted
model and the effects computed from it can never disagree about the model's structure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: Posterior variables the predictor reads (present only when the spec uses them).
PARAMETER_NAMES = ("intercept", "slope", "year_effect", "between_effect", "covariate_within", "covariate_between")

#: Data arrays the predictor reads (stored as constant_data in every fit).
DATA_NAMES = ("country_idx", "year_idx", "x_within", "x_between", "z_within", "z_between")


def linear_predictor(params: Mapping[str, Any], data: Mapping[str, Any], shift: float = 0.0) -> Any:
    """eta per observation; ``shift`` adds that many SDs to the treatment (the ``do`` intervention).

    Parameters may carry leading axes (draws); data arrays are per observation.
    """
    c, t = data["country_idx"], data["year_idx"]
    eta = params["intercept"][..., c] + params["slope"][..., c] * (data["x_within"] + shift)
    if "year_effect" in params:
        eta = eta + params["year_effect"][..., t]
    if "between_effect" in params:
        eta = eta + params["between_effect"][..., None] * data["x_between"]
    if "covariate_within" in params:
        eta = eta + (params["covariate_within"][..., None, :] * data["z_within"]).sum(axis=-1)
    if "covariate_between" in params:
        eta = eta + (params["covariate_between"][..., None, :] * data["z_between"]).sum(axis=-1)
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
    data = {k: np.asarray(idata.constant_data[k].values) for k in DATA_NAMES}
    return params, flat("cutpoints"), data
