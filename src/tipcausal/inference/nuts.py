"""NUTS (numpyro's kernel) on a ``ModelDensity``, with the data as program arguments and chains on host devices.

The sampler is two compiled programs, both taking the data as arguments: ``init`` (one state per chain) and
``advance`` (``CHUNK`` NUTS transitions of every chain, of which the first ``n`` are applied: one program for
any number of warmup or sampling steps). Python calls ``advance`` chunk by chunk, so progress is reported and
Ctrl-C is honoured between chunks without host callbacks inside the program (a program with host callbacks
cannot be serialised for the executable store). Warmup is numpyro's: Stan-style windowed adaptation of the step size
(dual averaging to ``target_accept``) and a diagonal mass matrix, with its trees capped at a lower depth than
sampling's (``max_tree_depth=(warmup, sampling)``): before a mass matrix is adapted, early warmup otherwise builds
trees of hundreds of steps.

A run can start warm (``Adaptation``: where an earlier fit's chains ended, with their adapted mass matrix and
step size): its chains start from those positions with that mass matrix, and warmup adapts the step size only
(refits on slightly changed data with the earlier fit's parameters and posterior scales: a country left out)
or also re-estimates the mass matrix in Stan's windows, starting from the earlier one (refits with entries the
earlier fit lacks or whose meaning or scale moves: a covariate added, a region left out, whose zero-sum region
block shrinks, a placebo, whose slope SD falls towards zero). An entry the earlier fit lacks starts from the usual jittered point with the median inverse mass of
its variable (or 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from cachetools import LRUCache

from tipcausal.inference import executables
from tipcausal.inference.density import PROGRAMS_KEPT, ModelDensity

#: NUTS transitions per call of the compiled ``advance`` program.
CHUNK = 50


@dataclass(frozen=True)
class NutsDraws:
    """The posterior's variables (name -> (chain, draw, ...)), per-draw statistics, and where the time went
    (seconds)."""

    posterior: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    compile_s: float
    sampling_s: float
    final: Adaptation
    warmup_steps: int = 0  # leapfrog steps (gradient evaluations) of all chains' warmup


@dataclass(frozen=True)
class Adaptation:
    """Per chain, the final position (flat unconstrained vector), diagonal inverse mass matrix and step size of a
    NUTS run; ``labels`` name the vector's entries (value variable and coordinates)."""

    position: np.ndarray  # (chain, dim)
    inverse_mass: np.ndarray  # (chain, dim)
    step_size: np.ndarray  # (chain,)
    labels: tuple[str, ...]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (for ``np.savez``)."""
        return {"position": self.position, "inverse_mass": self.inverse_mass, "step_size": self.step_size,
                "labels": np.array(self.labels, dtype=str)}

    @classmethod
    def from_arrays(cls, arrays: Any) -> Adaptation:
        """The inverse of ``to_arrays``."""
        return cls(position=np.asarray(arrays["position"], dtype=np.float64),
                   inverse_mass=np.asarray(arrays["inverse_mass"], dtype=np.float64),
                   step_size=np.asarray(arrays["step_size"], dtype=np.float64),
                   labels=tuple(str(v) for v in arrays["labels"]))

    def start_for(self, labels: tuple[str, ...], fallback: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                 float]:
        """Positions, inverse mass matrices and step sizes for ``chains = fallback.shape[0]`` chains of a model
        whose entries are ``labels`` (chain i takes this run's chain i mod its count); entries not shared take
        ``fallback``'s position (chain, dim) and the median inverse mass of their variable here (else 1). Also the
        share of entries shared."""
        chains = fallback.shape[0]
        src = np.arange(chains) % self.position.shape[0]
        index = {label: i for i, label in enumerate(self.labels)}
        where = np.array([index.get(label, -1) for label in labels])
        shared = where >= 0
        position = fallback.astype(np.float64).copy()
        position[:, shared] = self.position[src][:, where[shared]]
        inverse = np.ones((chains, len(labels)))
        inverse[:, shared] = self.inverse_mass[src][:, where[shared]]
        variable = [label.split("[")[0] for label in self.labels]
        for j in np.flatnonzero(~shared):
            same = [i for i, v in enumerate(variable) if v == labels[j].split("[")[0]]
            if same:
                inverse[:, j] = np.median(self.inverse_mass[src][:, same], axis=1)
        return position, inverse, self.step_size[src].copy(), float(shared.mean()) if len(labels) else 1.0


@dataclass
class _Programs:
    """One structure's NUTS programs (``init``, ``advance``) and their ahead-of-time compiled executables by
    (program, shapes and dtypes of the arguments): refits of one structure skip JAX's tracing and lowering
    (about 0.5 s a fit), not only XLA's compile, and a new process loads them from the executable store
    (``executables``) when it holds them. Dropped together, so an executable never outlives its programs."""

    init: Callable
    advance: Callable
    identity: str  # what the programs are made from (the density's structure key and the NUTS settings)
    prepare: Callable[[], Any]  # makes the density's JAX code, outside any trace (``DensityProgram.make``)
    compiled: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def executable(self, which: str, *args: Any) -> Any:
        """The compiled ``init`` or ``advance`` for arguments shaped like ``args`` (loaded from the executable
        store, else traced, compiled and stored)."""
        signature = (which, _shapes(args))
        exe = self.compiled.get(signature)
        if exe is None:
            exe = executables.load(self.identity, signature)
            if exe is None:
                self.prepare()
                exe = executables.compile_and_save(self.identity, signature, getattr(self, which).lower(*args))
            self.compiled[signature] = exe
        return exe


#: NUTS programs made in this process, by (density structure, warmup length, target, depth, layout); as many
#: as the density programs kept (``density.PROGRAMS_KEPT``), least recently used dropped first.
_SAMPLERS: LRUCache[tuple[Any, ...], _Programs] = LRUCache(maxsize=PROGRAMS_KEPT)


def _programs(density: ModelDensity, *, tune: int, target_accept: float, max_tree_depth: int | tuple[int, int],
              parallel: bool, warm: str | None) -> _Programs:
    key = (density.program.key, tune, target_accept, max_tree_depth, parallel, warm)
    programs = _SAMPLERS.get(key)
    if programs is None:
        programs = _Programs(*_make_programs(density, tune=tune, target_accept=target_accept,
                                             max_tree_depth=max_tree_depth, parallel=parallel, warm=warm),
                             identity=repr(key), prepare=density.program.make)
        _SAMPLERS[key] = programs
    return programs


def _make_programs(density: ModelDensity, *, tune: int, target_accept: float, max_tree_depth: int | tuple[int, int],
                   parallel: bool, warm: str | None) -> tuple[Callable, Callable]:
    import jax
    import jax.numpy as jnp
    from jax import lax
    from numpyro.infer.hmc import hmc

    program = density.program  # its JAX code is made when the programs are first lowered (``_Programs.prepare``)

    def potential_gen(*data: Any) -> Callable[[Any], Any]:
        return lambda theta: -program.logp(theta, data)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_gen, algo="NUTS")

    def init(rng_key: Any, theta0: Any, inverse_mass: Any, step_size: Any, data: tuple[Any, ...]) -> Any:
        if warm is None:  # the arguments are ignored (unit mass, unit step size): Stan-style warmup from scratch
            return init_kernel(theta0, num_warmup=tune, target_accept_prob=target_accept, adapt_step_size=True,
                               adapt_mass_matrix=True, dense_mass=False, max_tree_depth=max_tree_depth,
                               model_args=data, rng_key=rng_key)
        # "step": the given mass matrix kept; "mass": Stan's windows re-estimate it, starting from the given one
        return init_kernel(theta0, num_warmup=tune, step_size=step_size, inverse_mass_matrix=inverse_mass,
                           target_accept_prob=target_accept, adapt_step_size=True,
                           adapt_mass_matrix=warm == "mass", dense_mass=False, max_tree_depth=max_tree_depth,
                           model_args=data, rng_key=rng_key)

    def advance(state: Any, n: Any, data: tuple[Any, ...]) -> tuple[Any, dict[str, Any]]:
        def step(carry: Any, k: Any) -> tuple[Any, dict[str, Any]]:
            new = lax.cond(k < n, lambda s: sample_kernel(s, model_args=data), lambda s: s, carry)
            draw = dict(zip(program.output_names, program.constrain(new.z, data)))
            return new, {"draw": draw, "diverging": new.diverging, "num_steps": new.num_steps,
                         "accept_prob": new.accept_prob, "potential_energy": new.potential_energy,
                         "energy": new.energy, "step_size": new.adapt_state.step_size}

        return lax.scan(step, state, jnp.arange(CHUNK))

    # init runs first so that the kernel's warmup schedule exists when ``advance`` is traced
    if parallel:
        return (jax.pmap(init, in_axes=(0, 0, 0, 0, None)), jax.pmap(advance, in_axes=(0, None, None)))
    return (jax.jit(jax.vmap(init, in_axes=(0, 0, 0, 0, None))),
            jax.jit(jax.vmap(advance, in_axes=(0, None, None))))


def _shapes(args: Any) -> tuple[Any, ...]:
    import jax

    leaves, tree = jax.tree_util.tree_flatten(args)
    return (str(tree), *((np.shape(x), str(getattr(x, "dtype", type(x)))) for x in leaves))


def run_nuts(density: ModelDensity, starts: np.ndarray, *, draws: int, tune: int, target_accept: float,
             seed: int, max_tree_depth: int | tuple[int, int] = 10,
             warm: tuple[np.ndarray, np.ndarray] | None = None,
             adapt_mass: bool = False, progress: Callable[[str, int, int], None] | None = None) -> NutsDraws:
    """``tune`` warmup and ``draws`` sampling transitions of NUTS from the first of each chain's candidate
    ``starts`` (chain, attempt, dim) where the log density is finite; one chain per host device when there are
    enough (else vectorised on one). ``max_tree_depth``: one cap, or (warmup's, sampling's). ``warm``: per-chain
    inverse mass matrices (chain, dim) and step sizes (chain,) to start from; warmup then adapts the step size
    only, or (``adapt_mass``) re-estimates the mass matrix as well in Stan's windows."""
    import jax

    chains = starts.shape[0]
    parallel = jax.local_device_count() >= chains
    programs = _programs(density, tune=tune, target_accept=target_accept, max_tree_depth=max_tree_depth,
                         parallel=parallel, warm=None if warm is None else ("mass" if adapt_mass else "step"))
    keys = jax.random.split(jax.random.PRNGKey(seed), chains)
    data = tuple(density.data)
    inverse_mass, step_size = warm if warm is not None else (np.ones((chains, starts.shape[2])), np.ones(chains))
    start = time.perf_counter()
    attempt = np.zeros(chains, dtype=int)
    compiled_init = programs.executable("init", keys, starts[:, 0], inverse_mass, step_size, data)
    while True:
        state = compiled_init(keys, starts[np.arange(chains), attempt], inverse_mass, step_size, data)
        bad = ~np.isfinite(np.asarray(state.potential_energy))
        if not bad.any():
            break
        attempt = attempt + bad
        if attempt.max() >= starts.shape[1]:
            raise FloatingPointError(f"chains {np.flatnonzero(bad).tolist()}: the log density is not finite at "
                                     f"any of {starts.shape[1]} jittered starting points")
    compiled = programs.executable("advance", state, np.int64(CHUNK), data)
    compile_s = time.perf_counter() - start

    t0 = time.perf_counter()
    kept: list[dict[str, Any]] = []
    warmup_steps = 0
    for phase, total in (("warmup", tune), ("sampling", draws)):
        done = 0
        while done < total:
            n = min(CHUNK, total - done)
            state, trace = compiled(state, np.int64(n), data)
            if phase == "sampling":
                kept.append(jax.tree_util.tree_map(lambda v, n=n: np.asarray(v)[:, :n], trace))
            else:
                warmup_steps += int(np.asarray(trace["num_steps"])[:, :n].sum())
            done += n
            if progress is not None:
                progress(phase, done, total)
    sampling_s = time.perf_counter() - t0
    joined = jax.tree_util.tree_map(lambda *parts: np.concatenate(parts, axis=1), *kept)
    posterior = joined.pop("draw")
    final = Adaptation(position=np.asarray(state.z, dtype=np.float64),
                       inverse_mass=np.asarray(state.adapt_state.inverse_mass_matrix, dtype=np.float64),
                       step_size=np.asarray(state.adapt_state.step_size, dtype=np.float64), labels=())
    return NutsDraws(posterior=posterior, stats=joined, compile_s=compile_s, sampling_s=sampling_s, final=final,
                     warmup_steps=warmup_steps)


JITTER_RETRIES = 10


def initial_points(model: Any, density: ModelDensity, chains: int, seed: int) -> np.ndarray:
    """Candidate starting vectors (chain, attempt, dim): PyMC's initial point jittered by U(-1, 1) on the
    unconstrained scale, as ``pm.sample`` does; ``run_nuts`` moves to a chain's next attempt while the log
    density is not finite at its start."""
    import pytensor
    from pymc.initial_point import make_initial_point_fn

    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=(chains, JITTER_RETRIES))
    with pytensor.config.change_flags(mode="FAST_COMPILE"):  # Python, not C: nothing to compile, no BLAS
        point_fn = make_initial_point_fn(model=model, jitter_rvs=set(model.free_RVs), return_transformed=True)
        return np.stack([np.stack([density.flatten(point_fn(int(s))) for s in row]) for row in seeds])


def sample_stats(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """NUTS statistics under ArviZ's names (as PyMC's JAX samplers write them)."""
    steps = stats["num_steps"]
    return {"lp": -stats["potential_energy"], "energy": stats["energy"], "diverging": stats["diverging"],
            "n_steps": steps, "tree_depth": np.log2(np.maximum(steps, 1)).astype(int) + 1,
            "acceptance_rate": stats["accept_prob"], "step_size": stats["step_size"]}
