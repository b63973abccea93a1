"""A PyMC model's log density as a JAX function of (parameters, data), so one compiled program serves every
dataset of the same structure.

PyMC's own JAX path bakes the data into the program as constants, so each dataset is a new program for XLA to
compile. ``model_density(model)`` instead turns the model's ``pm.Data`` containers and the values of its observed
variables into *arguments* of the log density (and of the map from unconstrained draws to the posterior's
variables). Two fits whose models differ only in data then lower to the same XLA program, which the in-process
caches and the executable store (``inference.executables``) reuse.

Rows are padded to a bucket (``ROW_BUCKET``; or to a given row count, as a refutation's fold is to its full
fit's): the arrays on the ``obs`` dim are padded with zeros to the next
multiple, and each observed variable on that dim is weighted by a 0/1 row mask, so datasets with 1,929 and 1,936
country-years share one program and the padded rows add exactly nothing to the log density. A model with a free
variable on the ``obs`` dim (the measurement-error model's latent treatment) is not padded, since padding would
add parameters; it compiles once per row count.

Remaining constants (prior scales, dimension lengths, and per-country counts that some options compute from the
data) stay in the program: two models that differ in them are different programs, and XLA's cache key (the
whole program text) can never confuse them.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from cachetools import LRUCache
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.graph.traversal import graph_inputs
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.replace import clone_replace
from pytensor.printing import debugprint

ROW_DIM = "obs"
#: Rows are padded up to a multiple of this (2,082 -> 2,112; 1,929..1,936 -> 1,984).
ROW_BUCKET = 64


@dataclass(frozen=True)
class Block:
    """One value variable's slice of the flat unconstrained parameter vector."""

    name: str
    shape: tuple[int, ...]
    start: int
    stop: int


@dataclass(frozen=True)
class DensityProgram:
    """The structure of a model's density: JAX functions of (flat unconstrained vector, data) and the layout of
    the vector. Shared, in one process, by every model whose graph is the same up to its data.

    The JAX code (PyTensor's rewrites and the code generated from them: about 0.9 s for the default study) is
    made on first need (``make``), so a fit whose NUTS executables come from the executable store never makes it.
    It must be made outside any JAX trace: made inside one, the constants it creates belong to that trace and
    every later program takes them as extra arguments. ``logp`` and ``constrain`` make it when they are read; a
    caller that reads them inside a trace calls ``make`` before tracing.
    """

    key: str
    blocks: tuple[Block, ...]
    output_names: tuple[str, ...]
    make: Callable[[], Callable[..., Any]]  # the JAX function (values..., data...) -> (logp, *outputs), made once

    @property
    def dim(self) -> int:
        """Length of the flat unconstrained parameter vector."""
        return self.blocks[-1].stop if self.blocks else 0

    def _values(self, theta: Any) -> list[Any]:
        return [theta[b.start:b.stop].reshape(b.shape) for b in self.blocks]

    @property
    def logp(self) -> Callable[[Any, tuple[Any, ...]], Any]:
        """The joint log density (Jacobians included) as a JAX function of (flat vector, data)."""
        both = self.make()
        return lambda theta, data: both(*self._values(theta), *data)[0]

    @property
    def constrain(self) -> Callable[[Any, tuple[Any, ...]], tuple[Any, ...]]:
        """The posterior's variables (constrained free variables and deterministics) as a JAX function of (flat
        vector, data)."""
        both = self.make()
        return lambda theta, data: tuple(both(*self._values(theta), *data)[1:])


@dataclass(frozen=True)
class ModelDensity:
    """A model's density program and its data (padded arrays, in the order the program takes them).

    ``program.logp(theta, data)`` is the joint log density (Jacobians included); ``program.constrain(theta,
    data)`` returns the posterior's variables (constrained free variables and deterministics).
    """

    program: DensityProgram
    data: tuple[np.ndarray, ...]
    n_rows: int
    padded_rows: int
    cached: bool

    @property
    def dim(self) -> int:
        """Length of the flat unconstrained parameter vector."""
        return self.program.dim

    def flatten(self, point: dict[str, np.ndarray]) -> np.ndarray:
        """A point (value-variable name -> array) as one flat vector."""
        return np.concatenate([np.asarray(point[b.name], dtype=np.float64).ravel() for b in self.program.blocks])


#: Model structures whose compiled programs a process keeps (least recently used dropped first): each costs
#: about 55 MB resident (graph, traced and compiled XLA programs, measured on the real panel); a sweep fits its
#: outcomes of one structure one after another, a study its Ps and refits, so a few cover every reuse while a
#: worker that meets dozens of structures stays bounded (ARCHITECTURE.md, "Worker memory").
PROGRAMS_KEPT = 4

#: Density programs made in this process, by structure key.
_PROGRAMS: LRUCache[str, DensityProgram] = LRUCache(maxsize=PROGRAMS_KEPT)


def _padded(values: np.ndarray, rows: int) -> np.ndarray:
    extra = rows - values.shape[0]
    if extra <= 0:
        return values
    return np.concatenate([values, np.zeros((extra,) + values.shape[1:], dtype=values.dtype)])


def _on_rows(model: pm.Model, name: str) -> bool:
    dims = model.named_vars_to_dims.get(name) or ()
    return bool(dims) and dims[0] == ROW_DIM


def _structure_key(inputs: list[Any], outputs: list[Any]) -> str:
    """A hash of the graph (ops, wiring, static types) and of every constant's value, so two models share a
    key only when they are the same function of their inputs."""
    text = io.StringIO()
    debugprint(outputs, file=text, print_type=True, print_shape=True)
    digest = hashlib.sha256(text.getvalue().encode())
    for var in inputs:
        digest.update(f"{var.name}:{var.type}".encode())
    for var in graph_inputs(outputs):
        if isinstance(var, SharedVariable):  # dimension lengths
            digest.update(f"{var.name}={np.asarray(var.get_value()).tolist()}".encode())
        elif isinstance(var, Constant):
            digest.update(str(var.type).encode())
            digest.update(np.ascontiguousarray(var.data).tobytes())
    return digest.hexdigest()


def _jaxify(inputs: list[Any], outputs: list[Any]) -> Callable[..., Any]:
    """``outputs`` as a JAX function of ``inputs``. Like PyMC's ``get_jaxified_graph``, but without PyTensor's
    elementwise fusion: XLA fuses on its own, and fusion orders a fused op's inputs differently from one call to
    the next, which makes the same model a different XLA program (a compilation-cache miss) each time."""
    import pymc.sampling.jax  # noqa: F401  (registers PyMC's JAX conversions of its own ops)
    from pytensor.compile import mode
    from pytensor.link.jax.dispatch import jax_funcify

    shared = [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]
    outputs = clone_replace(outputs, replace={v: pt.constant(v.get_value(borrow=True)) for v in shared})
    fgraph = FunctionGraph(inputs=inputs, outputs=outputs, clone=True)
    with _blas_unasked():
        mode.JAX.excluding("fusion").optimizer.rewrite(fgraph)
    return jax_funcify(fgraph, order=_structural_order(fgraph))


@contextmanager
def _blas_unasked() -> Iterator[None]:
    """Without PyTensor's warning that it found no C BLAS: a sparse rewrite asks for the BLAS flags (PyTensor looks
    them up once a process), which JAX code never uses. ``model_density`` looks them up so, as the JAX code may be
    made later or never (the executable store), and something else would then be the first to ask, aloud."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS installation")
        yield


def _structural_order(fgraph: FunctionGraph) -> list[Any]:
    """The graph's nodes in an order that depends on its structure alone: depth-first from the outputs, inputs in
    their order. PyTensor's own topological sort breaks ties by object identity, which differs between processes,
    and the generated JAX code (hence the XLA program and its compilation-cache key) would follow it."""
    order: list[Any] = []
    seen: set[int] = set()
    for out in fgraph.outputs:
        stack = [(out.owner, False)] if out.owner is not None else []
        while stack:
            node, expanded = stack.pop()
            if id(node) in seen:
                continue
            if expanded:
                seen.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            for inp in reversed(node.inputs):
                if inp.owner is not None and id(inp.owner) not in seen:
                    stack.append((inp.owner, False))
    return order


def model_density(model: pm.Model, *, bucket: int = ROW_BUCKET, min_rows: int = 0) -> ModelDensity:
    """The log density of ``model`` with its data as arguments (rows padded to a multiple of ``bucket``, and to at
    least ``min_rows``: a fold of a refutation pads to its full fit's rows and shares its program)."""
    with _blas_unasked():
        pytensor.config.blas__ldflags  # noqa: B018  (looked up once a process: see ``_blas_unasked``)
    n_rows = len(model.coords[ROW_DIM]) if ROW_DIM in model.coords else 0
    free_on_rows = any(_on_rows(model, v.name) for v in model.free_RVs)
    padded = n_rows if (free_on_rows or not n_rows) else -(-max(n_rows, min_rows) // bucket) * bucket

    replace: dict[Any, Any] = {}
    inputs: list[Any] = []
    arrays: list[np.ndarray] = []

    def lift(var: Any, value: np.ndarray, on_rows: bool) -> None:
        value = np.asarray(value)
        if on_rows:
            value = _padded(value, padded)
        new = pt.tensor(name=f"{var.name or 'observed'}__arg", dtype=value.dtype, shape=value.shape)
        replace[var] = new
        inputs.append(new)
        arrays.append(value)

    if padded != n_rows:  # every shape on the row dim follows its length
        replace[model.dim_lengths[ROW_DIM]] = pt.constant(padded, dtype="int64")
    for var in model.data_vars:
        lift(var, var.get_value(), _on_rows(model, var.name))
    masked = []
    for rv in model.observed_RVs:
        value = model.rvs_to_values[rv]
        on_rows = _on_rows(model, rv.name) and padded != n_rows
        if value not in replace:
            lift(value, value.data if isinstance(value, Constant) else value.get_value(), on_rows)
        masked.append(on_rows)
    row_mask = pt.tensor("row_mask__arg", dtype="float64", shape=(padded,))
    if any(masked):
        inputs.append(row_mask)
        arrays.append((np.arange(padded) < n_rows).astype(np.float64))

    # value variables with their static shapes: every shape in the graph is then a constant, which PyTensor
    # folds (left symbolic, its shape inference picks among equivalent expressions by object identity)
    with pytensor.config.change_flags(mode="FAST_COMPILE"):  # Python, not C: nothing to compile, no BLAS
        shapes = {name: tuple(int(d) for d in shape) for name, shape in model.eval_rv_shapes().items()}
    value_vars = [pt.tensor(name=v.name, dtype=v.dtype, shape=shapes[v.name]) for v in model.value_vars]
    replace.update(zip(model.value_vars, value_vars))

    # one logp graph for every variable (PyMC derives it once); free terms include their Jacobians; one copy
    # of it with data, values and the row length replaced
    n_free = len(model.free_RVs)
    terms = model.logp(vars=[*model.free_RVs, *model.observed_RVs, *model.potentials], sum=False)
    outputs = list(pm.util.get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    graphs = clone_replace([*terms, *outputs], replace=replace, rebuild_strict=False)
    terms_g, output_graphs = graphs[:len(terms)], graphs[len(terms):]
    summed = [t.sum() for t in terms_g[:n_free]]
    for term, on_rows in zip(terms_g[n_free:n_free + len(masked)], masked):
        summed.append((term * row_mask).sum() if on_rows else term.sum())
    summed += [t.sum() for t in terms_g[n_free + len(masked):]]
    logp_graph = pt.add(*summed) if len(summed) > 1 else summed[0]
    all_inputs = value_vars + inputs
    key = _structure_key(all_inputs, [logp_graph, *output_graphs])
    program = _PROGRAMS.get(key)
    cached = program is not None
    if program is None:
        program = _program(key, value_vars, all_inputs, logp_graph, output_graphs, [v.name for v in outputs])
        _PROGRAMS[key] = program
    return ModelDensity(program=program, data=tuple(arrays), n_rows=n_rows, padded_rows=padded, cached=cached)


def _program(key: str, value_vars: list[Any], inputs: list[Any], logp_graph: Any, output_graphs: list[Any],
             output_names: list[str]) -> DensityProgram:
    # one function for both (rewritten once); XLA drops whichever outputs a program does not use
    made: list[Callable[..., Any]] = []
    graphs = {"inputs": inputs, "outputs": [logp_graph, *output_graphs]}  # dropped once the JAX code is made

    def make() -> Callable[..., Any]:
        if not made:
            made.append(_jaxify(graphs.pop("inputs"), graphs.pop("outputs")))
        return made[0]

    blocks, start = [], 0
    for v in value_vars:
        size = int(np.prod(v.type.shape, dtype=np.int64))
        blocks.append(Block(v.name, tuple(v.type.shape), start, start + size))
        start += size
    return DensityProgram(key=key, blocks=tuple(blocks), output_names=tuple(output_names), make=make)
