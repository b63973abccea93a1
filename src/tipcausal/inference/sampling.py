"""One closed, keyword-only sampler interface over NUTS backends for PyMC models.

``SamplerSettings`` (backend, draws, tune, chains, target acceptance, seed) are validated when they are made,
so a study with ``chains = 0`` is refused when it is loaded. ``sample(model, settings)`` returns a
``SamplerRun``: the InferenceData (same groups, variables and dims for every backend) and timings split
into compile and sampling time. ``tipcausal.fit`` is its only caller.

Backends (``SAMPLERS``): ``numpyro`` (default: numpyro's NUTS kernel on the model's log density compiled
to JAX with the data as arguments, ``tipcausal.inference.density`` and ``.nuts``, so models that differ only in
data share one compiled program; float64, one XLA host device per chain so chains run in parallel), ``pymc`` (PyMC's own NUTS, multiprocess chains) and ``nutpie`` (numba;
``pip install 'tipcausal[nutpie]'``). JAX reads ``XLA_FLAGS`` once, when it is first imported;
``reserve_devices(chains)`` sets it before that without importing JAX (``prepare`` calls it, so a run whose fits
all come from the store never imports JAX), and ``configure_jax(chains)`` imports it and warns loudly when it is
too late. Compiled NUTS programs are kept on disk (``inference.executables``, under ``TIPCAUSAL_JAX_CACHE``,
default ``~/.cache/tipcausal/jax``), so a second process fitting a model of the same structure loads them
instead of tracing and compiling them. ``compile_s`` is the time a fit spent outside NUTS transitions (building
the density, compiling or loading the programs, starting points, the posterior's variables).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

import arviz as az
import numpy as np
import pymc as pm

from tipcausal.core.errors import InputError
from tipcausal.core.registry import lookup
from tipcausal.inference.executables import DEVICES_FLAG, jax_cache_dir
from tipcausal.inference.nuts import Adaptation
from tipcausal.inference.precision import compact_posterior

DEFAULT_BACKEND = "numpyro"
#: NUTS's tree depth cap while sampling (every backend's default), and numpyro's during warmup (ARCHITECTURE.md)
MAX_TREE_DEPTH = 10
WARMUP_TREE_DEPTH = 6
#: From jaxlib 0.9, XLA's CPU backend hands reductions and elementwise fusions to YNNPACK kernels, which are
#: slow at our models' shapes (a sum over 3 covariates per row, gradient sums over 2,000 rows): 160 against
#: 101 us a gradient of the default study's density. Only dot products are left to it (ARCHITECTURE.md,
#: "XLA's YNNPACK fusions limited to dot products"). Older jaxlibs have neither the fusions nor the flag, and
#: XLA stops on a flag it does not know, so it is set only from that version.
_YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type"
_YNN_SINCE = (0, 9)


@dataclass(frozen=True)
class SamplerSettings:
    """How to sample: backend, draws and tuning steps per chain, chains, target acceptance and seed.

    Validated on construction (an InputError names the setting), so bad settings never reach a sampler.
    """

    backend: str = DEFAULT_BACKEND
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.9
    seed: int = 1
    #: with a warm start (refits), also re-estimate the mass matrix in Stan's windows rather than keep it
    warm_mass: bool = False
    #: NUTS's tree depth cap during warmup (numpyro only; sampling's cap stays ``MAX_TREE_DEPTH``): early warmup,
    #: before a mass matrix is adapted, otherwise spends more gradients than all the draws (ARCHITECTURE.md)
    warmup_tree_depth: int = WARMUP_TREE_DEPTH

    def __post_init__(self) -> None:
        lookup(SAMPLERS, self.backend, "sampler")
        for name, low, high in (("draws", 1, None), ("tune", 0, None), ("chains", 1, None), ("seed", 0, None),
                                ("warmup_tree_depth", 1, MAX_TREE_DEPTH)):
            value = getattr(self, name)
            if (not isinstance(value, int) or isinstance(value, bool) or value < low
                    or (high is not None and value > high)):
                bound = f"between {low} and {high}" if high is not None else f">= {low}"
                raise InputError(f"sampler setting {name} must be an integer {bound}, got {value!r}")
        ta = self.target_accept
        if isinstance(ta, bool) or not isinstance(ta, (int, float)) or not 0.5 <= ta < 1.0:
            raise InputError(f"sampler setting target_accept must be in [0.5, 1), got {ta!r}")
        if not isinstance(self.warm_mass, bool):
            raise InputError(f"sampler setting warm_mass must be true or false, got {self.warm_mass!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (recorded in provenance and hashed into fit keys)."""
        return asdict(self)


@dataclass(frozen=True)
class SamplerRun:
    """A posterior sample and how long it took (seconds)."""

    idata: az.InferenceData
    backend: str
    wall_s: float
    compile_s: float
    sampling_s: float
    notes: tuple[str, ...] = ()
    final: Adaptation | None = None  # where the chains ended (numpyro): a later fit can start warm from it


def _jaxlib_version() -> tuple[int, ...]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return tuple(int(part) for part in re.findall(r"\d+", version("jaxlib"))[:2])
    except PackageNotFoundError:
        return ()


def xla_flags(chains: int, flags: str = "") -> str:
    """``flags`` (``XLA_FLAGS``' value) with at least one CPU device per chain and, on a jaxlib that has them,
    YNNPACK fusions kept to dot products (unless ``flags`` chooses them already)."""
    match = re.search(rf"{DEVICES_FLAG}=(\d+)", flags)
    if match is None:
        flags = f"{flags} {DEVICES_FLAG}={chains}"
    elif int(match.group(1)) < chains:
        flags = re.sub(rf"{DEVICES_FLAG}=\d+", f"{DEVICES_FLAG}={chains}", flags)
    if _YNN_FLAG not in flags and _jaxlib_version() >= _YNN_SINCE:
        flags = f"{flags} {_YNN_FLAG}=dot"
    return flags.strip()


def reserve_devices(chains: int) -> list[str]:
    """Set ``XLA_FLAGS`` (``xla_flags``: one CPU device per chain, YNNPACK fusions kept to dot products) before
    JAX is imported, without importing it (a run whose fits all come from the store never needs JAX); return a
    note when JAX was imported already with fewer devices (chains then run one after another)."""
    if "jax" in sys.modules:
        return configure_jax(chains)
    os.environ["XLA_FLAGS"] = xla_flags(chains, os.environ.get("XLA_FLAGS", ""))
    return []


def configure_jax(chains: int) -> list[str]:
    """Give JAX one CPU device per chain and float64; return notes on anything that could not be set."""
    notes = [] if "jax" in sys.modules else reserve_devices(chains)
    import jax

    jax.config.update("jax_enable_x64", True)
    cache = jax_cache_dir()
    try:  # JAX's own persistent cache stays off: the executable store replaces it (``inference.executables``)
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only home: programs are compiled in every process, and say so
        notes.append(f"compiled programs are not kept between processes ({exc})")
    n_dev = jax.local_device_count()
    if n_dev < chains:
        msg = (f"JAX has {n_dev} CPU device(s) but {chains} chains were asked for: chains will run one after "
               f"another. JAX was imported before tipcausal could set XLA_FLAGS; set "
               f"XLA_FLAGS={DEVICES_FLAG}={chains} before starting Python (or import tipcausal.inference.sampling first).")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        notes.append(msg)
    return notes


def entry_labels(model: pm.Model, density: Any) -> tuple[str, ...]:
    """A name for each entry of the density's flat unconstrained vector: ``variable[coordinates]`` where the value
    variable's shape follows its dims (so a country keeps its name when another country is left out), else
    ``variable[position]``."""
    values_to_rvs = {v.name: rv for rv, v in model.rvs_to_values.items()}
    labels: list[str] = []
    for block in density.program.blocks:
        rv = values_to_rvs.get(block.name)
        dims = model.named_vars_to_dims.get(rv.name, ()) if rv is not None else ()
        coords = [list(model.coords[d]) for d in dims] if dims else []
        if not block.shape:
            labels.append(block.name)
        elif coords and tuple(len(c) for c in coords) == tuple(block.shape):
            labels.extend(f"{block.name}[{','.join(map(str, combo))}]" for combo in itertools.product(*coords))
        else:
            labels.extend(f"{block.name}[{i}]" for i in range(int(np.prod(block.shape))))
    return tuple(labels)


def _sample_numpyro(model: pm.Model, *, draws: int, tune: int, chains: int, target_accept: float, seed: int,
                    progress: bool, warm: Adaptation | None = None, warm_mass: bool = False,
                    min_rows: int = 0, warmup_tree_depth: int = WARMUP_TREE_DEPTH) -> SamplerRun:
    notes = list(configure_jax(chains))
    from pymc.backends.arviz import coords_and_dims_for_inferencedata, find_constants, find_observations

    from tipcausal.inference import nuts
    from tipcausal.inference.density import model_density

    start = time.perf_counter()
    density = model_density(model, min_rows=min_rows)
    starts = nuts.initial_points(model, density, chains, seed)
    labels = entry_labels(model, density)
    mass = None
    if warm is not None:
        position, inverse_mass, step_size, shared = warm.start_for(labels, starts[:, 0])
        starts = np.concatenate([position[:, None], starts], axis=1)  # the jittered points stay as fallbacks
        mass = (inverse_mass, step_size)
        notes.append(f"warm start: {shared:.0%} of the parameter vector from an earlier fit's final state; "
                     + (f"{tune} warmup steps re-estimated the mass matrix from the earlier one, and the step size"
                        if warm_mass else f"its mass matrix kept; {tune} warmup steps adapted the step size only"))
    bar = _ProgressBar(tune + draws, chains) if progress else None
    result = nuts.run_nuts(density, starts, draws=draws, tune=tune, target_accept=target_accept, seed=seed,
                           warm=mass, adapt_mass=warm_mass, progress=bar.update if bar else None,
                           max_tree_depth=(warmup_tree_depth, MAX_TREE_DEPTH))
    if bar:
        bar.close()
    posterior = result.posterior
    coords, dims = coords_and_dims_for_inferencedata(model)
    attrs = {"sampling_time": result.sampling_s, "tuning_steps": tune, "warmup_tree_depth": warmup_tree_depth,
             "warmup_gradient_evaluations": result.warmup_steps, "inference_library": "numpyro",
             "inference_library_version": _version("numpyro")}
    idata = az.from_dict(posterior=posterior, sample_stats=nuts.sample_stats(result.stats),
                         observed_data=find_observations(model), constant_data=find_constants(model),
                         coords=coords, dims=dims)
    idata.posterior.attrs.update(attrs)  # az.from_dict drops its ``attrs`` argument (ArviZ 0.23)
    wall = time.perf_counter() - start
    if density.padded_rows != density.n_rows:
        notes.append(f"rows padded {density.n_rows} -> {density.padded_rows} (masked) to share compiled programs")
    return SamplerRun(idata=idata, backend="numpyro", wall_s=wall, compile_s=wall - result.sampling_s,
                      sampling_s=result.sampling_s, notes=tuple(notes),
                      final=replace(result.final, labels=labels))


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


class _ProgressBar:
    """A text progress bar over warmup and sampling iterations (all chains advance together)."""

    def __init__(self, total: int, chains: int) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=total, desc=f"NUTS ({chains} chains) warmup", unit="it", leave=False)
        self._tune_done = 0

    def update(self, phase: str, done: int, total: int) -> None:
        if phase == "warmup":
            self._bar.n = done
            self._tune_done = done
        else:
            self._bar.set_description_str(self._bar.desc.replace("warmup", "sampling"), refresh=False)
            self._bar.n = self._tune_done + done
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def _sample_pymc(model: pm.Model, *, draws: int, tune: int, chains: int, target_accept: float, seed: int,
                 progress: bool) -> SamplerRun:
    start = time.perf_counter()
    with model:
        # forkserver: forking a process that has loaded JAX (multithreaded) can deadlock
        idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=min(chains, os.cpu_count() or 1),
                          target_accept=target_accept, random_seed=seed, progressbar=progress,
                          compute_convergence_checks=False, mp_ctx="forkserver")
    wall = time.perf_counter() - start
    inner = float(idata.posterior.attrs.get("sampling_time", wall))
    return SamplerRun(idata=idata, backend="pymc", wall_s=wall, compile_s=wall - inner, sampling_s=inner)


def _sample_nutpie(model: pm.Model, *, draws: int, tune: int, chains: int, target_accept: float, seed: int,
                   progress: bool) -> SamplerRun:
    try:
        import nutpie  # noqa: F401
    except ImportError:
        raise InputError("the nutpie sampler is not installed; install it with: pip install 'tipcausal[nutpie]'") \
            from None
    start = time.perf_counter()
    with model:
        idata = pm.sample(draws=draws, tune=tune, chains=chains, target_accept=target_accept, random_seed=seed,
                          nuts_sampler="nutpie", progressbar=progress, compute_convergence_checks=False,
                          nuts_sampler_kwargs={"cores": min(chains, os.cpu_count() or 1)})
    wall = time.perf_counter() - start
    # nutpie also stores PyMC's unconstrained value variables (``*_log__``, ``*_zerosum__``...); drop them so
    # the posterior holds the same variables as every other backend
    internal = [v for v in idata.posterior.data_vars if str(v).endswith("__")]
    idata.posterior = idata.posterior.drop_vars(internal)
    inner = float(idata.posterior.attrs.get("sampling_time", wall))
    return SamplerRun(idata=idata, backend="nutpie", wall_s=wall, compile_s=wall - inner, sampling_s=inner)


def _interruptible(call: Callable[[], SamplerRun]) -> SamplerRun:
    """Run ``call`` in a worker thread while the main thread waits, so Ctrl-C (KeyboardInterrupt) reaches the
    caller within a fraction of a second even while XLA or Rust code samples (signals are only handled between
    Python bytecodes of the main thread). The interrupted worker is a daemon: it ends with the process."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["run"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="tipcausal-sampler", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(0.2)
    if "error" in box:
        raise box["error"]
    return box["run"]


SAMPLERS: dict[str, Callable[..., SamplerRun]] = {
    "numpyro": _sample_numpyro,
    "pymc": _sample_pymc,
    "nutpie": _sample_nutpie,
}


def sample(model: pm.Model, settings: SamplerSettings, *, progress: bool = True,
           warm: Adaptation | None = None, min_rows: int = 0) -> SamplerRun:
    """Sample ``model`` with NUTS as ``settings`` say; every backend returns the same InferenceData layout, its
    per-country and per-observation variables as float32 (``inference.precision``).
    ``warm`` (numpyro only; other backends start cold): start from an earlier fit's final state and mass matrix,
    warmup adapting the step size only (or the mass matrix too: ``settings.warm_mass``). ``min_rows`` (numpyro
    only): pad the rows to at least this many, so a model with fewer rows reuses a compiled program."""
    fn = SAMPLERS[settings.backend]
    extra: dict[str, Any] = {}
    if settings.backend == "numpyro":
        extra = ({"min_rows": min_rows, "warmup_tree_depth": settings.warmup_tree_depth}
                 | ({"warm": warm, "warm_mass": settings.warm_mass} if warm is not None else {}))

    def call() -> SamplerRun:
        return fn(model, draws=settings.draws, tune=settings.tune, chains=settings.chains,
                  target_accept=float(settings.target_accept), seed=settings.seed, progress=progress, **extra)

    run = call() if settings.backend == "pymc" else _interruptible(call)  # pymc: PyMC handles Ctrl-C itself
    compact_posterior(run.idata)
    return run
