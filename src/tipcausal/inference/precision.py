"""The precision a fit's posterior is kept in: variables with a country or observation dimension (per-country
intercepts and slopes, their non-centred parts, a measurement-error model's latent treatment) as float32, the rest
(cutpoints, hyper-parameters, coefficients, year effects) as float64.

The per-country arrays are about 80% of a stored fit (4 chains x 2,000 draws x 159 countries x 4 variables), and
float32 keeps 7 significant digits, three orders of magnitude finer than their Monte Carlo error (a posterior
SD over the square root of a few thousand effective draws). The sampler still runs in float64; the draws are
rounded once, as every backend returns them, before anything reads them, so a fresh fit, a fit read back from
the store and a fit whose program came from the executable store hold the same numbers.
"""

from __future__ import annotations

import arviz as az
import numpy as np
import xarray as xr

#: Dimensions whose variables are kept as float32: they grow with the data.
WIDE_DIMS = frozenset({"country", "obs"})


def wide_variables(posterior: xr.Dataset) -> list[str]:
    """The float64 posterior variables with a ``WIDE_DIMS`` dimension."""
    return [str(name) for name, var in posterior.data_vars.items()
            if var.dtype == np.float64 and WIDE_DIMS & set(var.dims)]


def compact_posterior(idata: az.InferenceData) -> None:
    """Round ``idata``'s ``wide_variables`` to float32, in place."""
    post = idata.posterior
    wide = wide_variables(post)
    if wide:
        idata.posterior = post.assign({name: post[name].astype(np.float32) for name in wide})
