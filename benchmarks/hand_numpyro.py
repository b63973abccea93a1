"""A hand-written NumPyro model of tipcausal's default likelihood (cumulative logit; partial-pooling country
intercepts around zero-sum region effects, non-centred; non-centred country slopes; zero-sum random year
effects; between effect; within and between covariate coefficients; the spec's priors), sampled with numpyro's
MCMC/NUTS as numpyro users would: the practical speed limit of the stack, for ``bench_samplers.py``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np


def _model(data: dict[str, Any], priors: dict[str, Any], n_country: int, n_region: int, n_year: int,
           n_cut: int, n_cov: int) -> None:
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist
    from numpyro.distributions import constraints

    def p(name: str) -> dict[str, float]:
        return priors[name].params

    country_sd = numpyro.sample("country_sd", dist.HalfNormal(p("country_sd")["sigma"]))
    z_country = numpyro.sample("z_country", dist.Normal(0, 1).expand([n_country]).to_event(1))
    region = numpyro.sample("region_effect", dist.ZeroSumNormal(p("region_effect")["sigma"], (n_region,)))
    slope_mean = numpyro.sample("slope_mean", dist.Normal(p("slope_mean")["mu"], p("slope_mean")["sigma"]))
    slope_sd = numpyro.sample("slope_sd", dist.HalfNormal(p("slope_sd")["sigma"]))
    z_slope = numpyro.sample("z_slope", dist.Normal(0, 1).expand([n_country]).to_event(1))
    year_sd = numpyro.sample("year_sd", dist.HalfNormal(p("year_sd")["sigma"]))
    z_year = numpyro.sample("z_year", dist.ZeroSumNormal(1.0, (n_year,)))
    between = numpyro.sample("between_effect", dist.Normal(p("between_effect")["mu"], p("between_effect")["sigma"]))
    cov_w = numpyro.sample("covariate_within", dist.Normal(0, p("covariate_within")["sigma"]).expand([n_cov]).to_event(1))
    cov_b = numpyro.sample("covariate_between", dist.Normal(0, p("covariate_between")["sigma"]).expand([n_cov]).to_event(1))
    cut = numpyro.sample("cutpoints", dist.ImproperUniform(constraints.ordered_vector, (), (n_cut,)))
    numpyro.factor("cutpoints_prior", dist.Normal(p("cutpoints").get("mu", 0.0), p("cutpoints")["sigma"]).log_prob(cut).sum())
    c, t = data["country_idx"], data["year_idx"]
    intercept = region[data["region_of_country"]] + country_sd * z_country
    slope = slope_mean + slope_sd * z_slope
    eta = (intercept[c] + slope[c] * data["x_within"] + year_sd * z_year[t] + between * data["x_between"]
           + data["z_within"] @ cov_w + data["z_between"] @ cov_b)
    numpyro.sample("score", dist.OrderedLogistic(eta, cut), obs=jnp.asarray(data["categories"]))


def fit_hand_numpyro(bound: Any, spec: Any, *, draws: int, tune: int, chains: int, target_accept: float,
                     seed: int, warmup_tree_depth: int = 10) -> dict[str, Any]:
    """Fit the hand-written model to tipcausal's bound data with numpyro's own MCMC (warmup trees capped at
    ``warmup_tree_depth``, as tipcausal's sampler does); returns the InferenceData and timings."""
    import arviz as az
    import jax
    from numpyro.infer import MCMC, NUTS

    data = {"country_idx": bound.country_idx, "year_idx": bound.year_idx, "x_within": bound.x_within,
            "x_between": bound.x_between, "z_within": bound.z_within, "z_between": bound.z_between,
            "region_of_country": bound.region_of_country, "categories": bound.categories}
    dims = dict(n_country=len(bound.coords["country"]), n_region=len(bound.coords["region"]),
                n_year=len(bound.coords["year"]), n_cut=len(bound.coords["cutpoint"]),
                n_cov=len(bound.coords["covariate"]))
    kernel = NUTS(_model, target_accept_prob=target_accept, max_tree_depth=(warmup_tree_depth, 10))
    mcmc = MCMC(kernel, num_warmup=tune, num_samples=draws, num_chains=chains,
                chain_method="parallel" if jax.local_device_count() >= chains else "sequential",
                progress_bar=False)
    # MCMC's API cannot compile without sampling: the first run is compile + sampling, an identical second run
    # (its programs cached) is sampling alone; JAX dispatches asynchronously, so each waits for its draws
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), data, spec.priors, **dims, extra_fields=("diverging", "energy"))
    jax.block_until_ready(mcmc.get_samples())
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), data, spec.priors, **dims, extra_fields=("diverging", "energy"))
    jax.block_until_ready(mcmc.get_samples())
    second = time.perf_counter() - t1
    idata = az.from_numpyro(mcmc)
    ess = float(az.ess(idata.posterior, method="bulk").to_array().min())
    div = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    return {"idata": idata, "wall_s": first, "sampling_s": second, "compile_s": max(first - second, 0.0),
            "min_ess_bulk": ess, "divergences": div}
