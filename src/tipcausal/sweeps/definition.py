"""A study's ``[sweep]`` table: the choices to vary, validated whole, expanded into specifications.

``parse_sweep(study)`` reads and checks the table (unknown keys, bad values: one ``InputError`` naming the key);
``plan_sweep(study, prepared)`` expands the full factorial of the choices, drops those matching an ``exclude``
rule, and validates every remaining specification for every outcome before anything samples: the DAG variant
must have the study's nodes, its adjustment set must be valid (DoWhy identification under that DAG), the panel
must have the columns, the restricted sample must bind. What fails is listed as ``Invalid`` with its reason.

Choices (each a list of values; a choice not given keeps the study's primary setting):

- ``dag``: library DAG names or files; ``adjustment``: ``"auto"`` (the study's set under the study's DAG, the
  DAG's efficient set under any other), ``"study"``, ``"efficient"`` or a list of node ids;
- ``likelihood``: ``cumulative_logit``, ``cumulative_probit``, ``binary_logit`` (score >= the sweep's
  ``collapse_threshold``, default the study's) or ``binary_logit:T``;
- ``pooling``, ``country_slopes``, ``year_effects``, ``lagged_treatment``: as in ``[model]``;
- ``measurement_error``: ``"none"`` (or 0), an SD, or a panel column of SDs;
- ``priors``: ``"default"`` (the study's priors) or the name of a ``[sweep.prior_sets.NAME]`` table of overrides;
- ``years``: ``"all"`` or ``[first, last]``; ``leave_out``: ``"none"``, ``"region:NAME"`` or ``"country:ISO3"``;
- ``outcomes``: a subset of the study's outcomes.

A fit's seed derives from the sweep's ``seed`` and its content (spec hash and panel hash), never from its place
in the sweep, so results do not depend on order or on which worker ran what.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from tipcausal.causal.graph import CausalGraph, load_dag
from tipcausal.causal.identify import identify_outcome, identify_with_dag
from tipcausal.core.errors import InputError
from tipcausal.core.provenance import hash_json
from tipcausal.data.panel import Panel
from tipcausal.fit import spec_fit_key
from tipcausal.inference.sampling import SamplerSettings
from tipcausal.models.binding import bind_data
from tipcausal.models.spec import ModelSpec, Prior
from tipcausal.sensitivity.panels import REARRANGEMENTS, permute_within_country
from tipcausal.sweeps.table import CHOICES

if TYPE_CHECKING:
    from tipcausal.study.config import Study
    from tipcausal.study.runner import Prepared

KEYS = {*CHOICES, "outcomes", "seed", "exclude", "collapse_threshold", "prior_sets", "sampler", "null"}
SAMPLER_KEYS = {"draws", "tune", "chains", "target_accept"}
BINARY = "binary_logit"
#: refits on data with consultation moved within country, per specification, for the joint test's null
DEFAULT_NULL_COUNT = 0
#: how it is moved: rotated in year order ("shift", keeps its serial dependence) or shuffled ("permute")
DEFAULT_NULL_METHOD = "shift"


@dataclass(frozen=True)
class Choice:
    """One value of one choice: its label in the table and what it sets."""

    label: str
    value: Any


@dataclass(frozen=True)
class SweepSettings:
    """The validated ``[sweep]`` table."""

    seed: int
    choices: dict[str, tuple[Choice, ...]]
    outcomes: tuple[str, ...]
    exclude: tuple[dict[str, frozenset[str]], ...]
    prior_sets: dict[str, dict[str, Prior]]
    sampler: dict[str, Any]
    null_count: int
    collapse_threshold: int
    null_method: str = DEFAULT_NULL_METHOD

    @property
    def varied(self) -> tuple[str, ...]:
        """The choices with more than one value."""
        return tuple(c for c in CHOICES if len(self.choices[c]) > 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (sweep.json)."""
        return {"seed": self.seed, "choices": {c: [v.label for v in vs] for c, vs in self.choices.items()},
                "outcomes": list(self.outcomes), "exclude": [{k: sorted(v) for k, v in r.items()} for r in self.exclude],
                "priors": {n: {k: {"dist": p.dist, "params": p.params} for k, p in s.items()}
                           for n, s in self.prior_sets.items()},
                "sampler": self.sampler, "null_count": self.null_count, "null_method": self.null_method,
                "collapse_threshold": self.collapse_threshold}


@dataclass(frozen=True)
class FitTask:
    """One fit of a sweep: a specification of one outcome on its (restricted) panel, with its derived seed."""

    spec_id: str
    index: int
    outcome: str
    spec: ModelSpec
    panel: Panel = field(repr=False)
    settings: SamplerSettings

    @functools.cached_property
    def key(self) -> str:
        """The fit store key of this fit (specifications that fit the same model share one)."""
        return spec_fit_key(self.panel, self.spec, bind_data(self.panel, self.spec), self.settings)


@dataclass(frozen=True)
class Point:
    """One valid specification: its choices (labels), a short id, and a fit per outcome."""

    index: int
    spec_id: str
    choices: dict[str, str]
    label: str
    tasks: tuple[FitTask, ...]


@dataclass(frozen=True)
class Invalid:
    """A combination of choices that cannot be fitted, and why."""

    choices: dict[str, str]
    reason: str

    def describe(self) -> str:
        """One line: the choices and the reason."""
        return ", ".join(f"{k}={v}" for k, v in self.choices.items()) + f": {self.reason}"


@dataclass(frozen=True)
class SweepPlan:
    """The specifications of a sweep: valid ones (with their fits), invalid ones (with reasons), excluded count."""

    settings: SweepSettings
    points: tuple[Point, ...]
    invalid: tuple[Invalid, ...]
    excluded: int
    defaults: dict[str, str]

    @property
    def tasks(self) -> list[FitTask]:
        """Every fit, specification by specification."""
        return [t for p in self.points for t in p.tasks]


def _where(study: Study, key: str) -> str:
    return f"{study.source}: [sweep] {key}"


def _as_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise InputError(f"{where} must be a non-empty list of values")
    return value


def _bool_choice(value: Any, where: str) -> Choice:
    if not isinstance(value, bool):
        raise InputError(f"{where}: values must be true or false, got {value!r}")
    return Choice("true" if value else "false", value)


def _choice(name: str, value: Any, study: Study, settings_threshold: int, prior_sets: dict[str, Any]) -> Choice:
    where = _where(study, name)
    if name == "dag":
        if not isinstance(value, str) or not value:
            raise InputError(f"{where}: values must be library DAG names or DAG files, got {value!r}")
        load_dag(value)  # raises, naming the file, when it is not a valid DAG
        return Choice(value, value)
    if name == "adjustment":
        if value in ("auto", "study", "efficient"):
            return Choice(value, value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return Choice("+".join(sorted(value)) or "(none)", tuple(sorted(value)))
        raise InputError(f"{where}: values must be 'auto', 'study', 'efficient' or a list of node ids, got {value!r}")
    if name == "likelihood":
        if not isinstance(value, str):
            raise InputError(f"{where}: values must be likelihood names, got {value!r}")
        base, _, t = value.partition(":")
        if base == BINARY:
            threshold = settings_threshold
            if t:
                if t not in ("2", "3", "4", "5"):
                    raise InputError(f"{where}: {value!r}: the threshold after ':' must be 2, 3, 4 or 5")
                threshold = int(t)
            return Choice(f"{BINARY}:{threshold}", (BINARY, threshold))
        if t:
            raise InputError(f"{where}: {value!r}: only binary_logit takes a threshold")
        return Choice(base, (base, None))
    if name in ("country_slopes", "lagged_treatment", "within_between"):
        return _bool_choice(value, where)
    if name in ("pooling", "year_effects"):
        if not isinstance(value, str):
            raise InputError(f"{where}: values must be strings, got {value!r}")
        return Choice(value, value)
    if name == "measurement_error":
        if value in ("none", 0, False):
            return Choice("none", None)
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (
                not isinstance(value, str) and value < 0):
            raise InputError(f"{where}: values must be 'none', a positive SD or a panel column, got {value!r}")
        return Choice(f"{value:g}" if not isinstance(value, str) else value, value)
    if name == "priors":
        if value != "default" and value not in prior_sets:
            raise InputError(f"{where}: {value!r} is neither 'default' nor a [sweep.prior_sets.{value}] table; "
                             f"defined: {', '.join(prior_sets) or '(none)'}")
        return Choice(value, value)
    if name == "years":
        if value == "all":
            return Choice("all", None)
        if (not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                        for v in value) or value[0] > value[1]):
            raise InputError(f"{where}: values must be 'all' or [first, last] years, got {value!r}")
        return Choice(f"{value[0]}-{value[1]}", (value[0], value[1]))
    assert name == "leave_out"
    if value == "none":
        return Choice("none", None)
    kind, _, what = str(value).partition(":")
    if kind not in ("region", "country") or not what:
        raise InputError(f"{where}: values must be 'none', 'region:NAME' or 'country:CODE', got {value!r}")
    return Choice(f"{kind}:{what}", (kind, what))


def _default_choice(name: str, study: Study, threshold: int) -> Choice:
    """The study's primary setting of a choice."""
    opts = study.model_options
    defaults = ModelSpec(outcome="y", treatment="x", covariates=())
    if name == "dag":
        return Choice(study.dag, study.dag)
    if name == "adjustment":
        return Choice("auto", "auto")
    if name == "likelihood":
        return Choice(opts.get("likelihood", defaults.likelihood), (opts.get("likelihood", defaults.likelihood), None))
    if name in ("country_slopes", "lagged_treatment", "within_between"):
        return Choice("true" if opts.get(name, getattr(defaults, name)) else "false", opts.get(name, getattr(defaults, name)))
    if name in ("pooling", "year_effects"):
        return Choice(opts.get(name, getattr(defaults, name)), opts.get(name, getattr(defaults, name)))
    if name == "measurement_error":
        me = opts.get("measurement_error")
        return Choice("none", None) if me is None else Choice(f"{me:g}" if not isinstance(me, str) else me, me)
    if name == "priors":
        return Choice("default", "default")
    if name == "years":
        return Choice("all", None)
    return Choice("none", None)


def parse_sweep(study: Study) -> SweepSettings:
    """The study's ``[sweep]`` table, validated (raises ``InputError`` naming the key at fault)."""
    raw = study.tables.get("sweep")
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"{study.source}: no [sweep] table: add one listing the choices to vary, e.g. "
                         "[sweep] likelihood = [\"cumulative_logit\", \"cumulative_probit\"]")
    bad = set(raw) - KEYS
    if bad:
        raise InputError(f"{study.source}: [sweep] has unknown key(s) {', '.join(sorted(bad))}; valid keys: "
                         f"{', '.join(sorted(KEYS))}")
    seed = raw.get("seed", study.sampler.seed)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"{_where(study, 'seed')} must be an integer >= 0, got {seed!r}")
    threshold = raw.get("collapse_threshold", study.model_options.get("collapse_threshold", 4))
    if threshold not in (2, 3, 4, 5) or isinstance(threshold, bool):
        raise InputError(f"{_where(study, 'collapse_threshold')} must be 2, 3, 4 or 5, got {threshold!r}")
    prior_sets = {}
    tables = raw.get("prior_sets") or {}
    if not isinstance(tables, dict):
        raise InputError(f"{study.source}: [sweep.prior_sets] must hold one table of prior overrides per name")
    for name, table in tables.items():
        if name == "default" or not isinstance(table, dict):
            raise InputError(f"{study.source}: [sweep.prior_sets.{name}] must be a table of prior overrides "
                             "(and 'default' is reserved for the study's priors)")
        sets = {}
        for k, p in table.items():
            if not isinstance(p, dict) or "dist" not in p or not isinstance(p.get("params", {}), dict):
                raise InputError(f"{study.source}: [sweep.prior_sets.{name}] {k} must be {{ dist = \"Name\", params = "
                                 "{ ... } }")
            sets[k] = Prior(dist=p["dist"], params=dict(p.get("params", {})))
        try:
            ModelSpec(outcome="y", treatment="x", covariates=(), priors=sets)
        except InputError as exc:
            raise InputError(f"{study.source}: [sweep.prior_sets.{name}]: {exc}") from None
        prior_sets[name] = sets
    choices = {}
    for name in CHOICES:
        if name in raw:
            values = [_choice(name, v, study, threshold, prior_sets) for v in _as_list(raw[name], _where(study, name))]
            labels = [c.label for c in values]
            if len(set(labels)) < len(labels):
                raise InputError(f"{_where(study, name)} lists a value twice: {labels}")
            choices[name] = tuple(values)
        else:
            choices[name] = (_default_choice(name, study, threshold),)
    outcomes = tuple(_as_list(raw.get("outcomes", list(study.outcomes)), _where(study, "outcomes")))
    unknown = [o for o in outcomes if o not in study.outcomes]
    if unknown:
        raise InputError(f"{_where(study, 'outcomes')}: {', '.join(map(str, unknown))} not among the study's "
                         f"outcomes {', '.join(study.outcomes)}")
    exclude = []
    for i, rule in enumerate(raw.get("exclude", []), 1):
        if not isinstance(rule, dict) or not rule or set(rule) - set(CHOICES):
            raise InputError(f"{_where(study, 'exclude')} #{i} must be a table of choice = value(s) over "
                             f"{', '.join(CHOICES)}, got {rule!r}")
        exclude.append({k: frozenset(_choice(k, v, study, threshold, prior_sets).label
                                     for v in (rule[k] if isinstance(rule[k], list) and k not in ("years", "adjustment")
                                               else [rule[k]]))
                        for k in rule})
    sampler = dict(raw.get("sampler", {}))
    if set(sampler) - SAMPLER_KEYS:
        raise InputError(f"{study.source}: [sweep.sampler] has unknown key(s) "
                         f"{', '.join(sorted(set(sampler) - SAMPLER_KEYS))}; valid: {', '.join(sorted(SAMPLER_KEYS))}")
    try:
        replace(study.sampler, **sampler)
    except InputError as exc:
        raise InputError(f"{study.source}: [sweep.sampler]: {exc}") from None
    null = raw.get("null", {})
    if not isinstance(null, dict) or set(null) - {"count", "method"}:
        raise InputError(f"{study.source}: [sweep.null] must be a table with keys count and method, got {null!r}")
    count = null.get("count", DEFAULT_NULL_COUNT)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise InputError(f"{study.source}: [sweep.null] count must be an integer >= 0, got {count!r}")
    method = null.get("method", DEFAULT_NULL_METHOD)
    if method not in REARRANGEMENTS:
        raise InputError(f"{study.source}: [sweep.null] method must be one of {', '.join(REARRANGEMENTS)}, "
                         f"got {method!r}")
    return SweepSettings(seed=seed, choices=choices, outcomes=outcomes, exclude=tuple(exclude),
                         prior_sets=prior_sets, sampler=sampler, null_count=count, collapse_threshold=threshold,
                         null_method=method)


def derived_seed(sweep_seed: int, spec: ModelSpec, panel: Panel) -> int:
    """A fit's seed from the sweep's seed and the fit's content (never its position in the sweep)."""
    return int(hash_json({"sweep_seed": sweep_seed, "spec": spec.hash, "panel": panel.hash})[:8], 16) % (2 ** 31 - 1)


def _restricted(panel: Panel, years: tuple[int, int] | None, leave_out: tuple[str, str] | None) -> Panel:
    if years is None and leave_out is None:
        return panel
    frame, what = panel.frame, []
    if years is not None:
        frame = frame[frame["year"].between(*years)]
        what.append(f"years {years[0]}-{years[1]}")
    if leave_out is not None:
        kind, name = leave_out
        frame = frame[frame[kind] != name]
        what.append(f"{kind} {name} left out")
    return replace(panel, frame=frame.reset_index(drop=True), source=f"{panel.source} [{', '.join(what)}]",
                   hash="", kept=None)


def null_panel(panel: Panel, treatment: str, seed: int, how: str = DEFAULT_NULL_METHOD) -> Panel:
    """The panel with ``treatment`` (and its companion columns ``<treatment>_*``, such as its measurement SD)
    rotated (``how="shift"``) or shuffled (``"permute"``) among each country's years where it is observed: the
    within-country effect is removed, country means, missingness and every other column are kept (the joint
    test's null data)."""
    columns = [treatment, *(c for c in panel.frame.columns if c.startswith(f"{treatment}_"))]
    rows = panel.frame.loc[panel.frame[treatment].notna(), ["country", "year"]]
    moved = permute_within_country(panel, rows, columns, np.random.default_rng(seed), how=how)
    return replace(moved, source=f"{panel.source} [{treatment} {REARRANGEMENTS[how]} within country, seed {seed}]")


def tasks_on(plan: SweepPlan, panel: Panel) -> list[FitTask]:
    """Every fit of ``plan`` on another panel with the same columns (a null or a simulated panel), restricted as
    each specification says, with seeds derived from the new content. Validation is the plan's: a fit that cannot
    bind on the new panel fails as a fit (an error row), not the sweep."""
    by_label = {c: {v.label: v.value for v in vs} for c, vs in plan.settings.choices.items()}
    tasks = []
    for point in plan.points:
        restricted = _restricted(panel, by_label["years"][point.choices["years"]],
                                 by_label["leave_out"][point.choices["leave_out"]])
        tasks += [replace(t, panel=restricted, settings=replace(t.settings, seed=derived_seed(plan.settings.seed,
                                                                                              t.spec, restricted)))
                  for t in point.tasks]
    return tasks


def null_tasks(plan: SweepPlan, panel: Panel, rep: int) -> list[FitTask]:
    """The fits of null replicate ``rep`` (1, 2, ...): every valid specification refitted on one panel with the
    treatment rotated or permuted within country (``[sweep.null] method``; the same null panel for every
    specification, restricted as each says)."""
    seed = int(hash_json({"sweep_seed": plan.settings.seed, "null_rep": rep})[:8], 16) % (2 ** 31 - 1)
    return tasks_on(plan, null_panel(panel, plan.tasks[0].spec.treatment, seed, plan.settings.null_method))


def _check_restrictions(settings: SweepSettings, panel: Panel, study: Study) -> None:
    """A year window outside the panel or an unknown region or country is bad input, not an invalid combination."""
    years = panel.frame["year"]
    for c in settings.choices["years"]:
        if c.value is not None and (c.value[1] < years.min() or c.value[0] > years.max()):
            raise InputError(f"{_where(study, 'years')}: {c.label} is outside the panel's years "
                             f"{years.min()}-{years.max()} ({panel.source})")
    for c in settings.choices["leave_out"]:
        if c.value is None:
            continue
        kind, name = c.value
        known = set(panel.frame[kind].dropna().astype(str))
        if name not in known:
            raise InputError(f"{_where(study, 'leave_out')}: {c.label}: the panel {panel.source} has no {kind} "
                             f"{name!r}; {kind}s: {', '.join(sorted(known)[:20])}{' ...' if len(known) > 20 else ''}")


def _adjustment(graph: CausalGraph, study: Study, outcome: str, choice: Any, study_graph: CausalGraph
                ) -> tuple[str, ...]:
    """The adjustment set of one outcome under ``graph`` (raises ``InputError`` with the reason when invalid)."""
    absorbed = tuple(a for a in study.assume_absorbed if a in graph.node_ids)
    if choice == "efficient" or (choice == "auto" and graph.hash != study_graph.hash):
        ident = identify_with_dag(graph, study.treatment, (outcome,), absorbed)[outcome]
        if ident.status == "not_identified":
            raise InputError(f"not identified under DAG {graph.name!r}: no valid adjustment set for {outcome}")
        return ident.adjustment
    given = study.adjustment if choice in ("auto", "study") else tuple(choice)
    try:
        return identify_outcome(graph, study.treatment, outcome, tuple(given), absorbed,
                                override=study.override).adjustment
    except InputError as exc:
        raise InputError(f"under DAG {graph.name!r}: {exc}") from None


def _covariates(graph: CausalGraph, nodes: tuple[str, ...], region_intercepts: bool) -> tuple[str, ...]:
    out = []
    for node_id in nodes:
        node = graph.node(node_id)
        if node.type == "categorical":
            if node.column != "region" or not region_intercepts:
                raise InputError(f"categorical adjustment node {node_id!r} is only supported as the region level")
            continue
        out.append(node.column)
    return tuple(out)


def _point_specs(combo: dict[str, Choice], study: Study, prepared: Prepared, settings: SweepSettings,
                 graphs: dict[str, CausalGraph]) -> tuple[Panel, dict[str, ModelSpec]]:
    """The restricted panel and the spec of each outcome for one combination (raises ``InputError``: invalid)."""
    graph = graphs[combo["dag"].label]
    missing = [n for n in (study.treatment, *settings.outcomes) if n not in graph.node_ids]
    if missing:
        raise InputError(f"DAG {graph.name!r} has no node(s) {', '.join(missing)}")
    panel = _restricted(prepared.panel, combo["years"].value, combo["leave_out"].value)
    if panel.frame.empty:
        raise InputError("no country-years left in the sample")
    likelihood, threshold = combo["likelihood"].value
    options = {**study.model_options, "likelihood": likelihood, "pooling": combo["pooling"].value,
               "within_between": combo["within_between"].value,
               "country_slopes": combo["country_slopes"].value, "year_effects": combo["year_effects"].value,
               "lagged_treatment": combo["lagged_treatment"].value,
               "measurement_error": combo["measurement_error"].value}
    if threshold is not None:
        options["collapse_threshold"] = threshold
    prior_name = combo["priors"].value
    priors = {**study.priors, **(settings.prior_sets.get(prior_name, {}) if prior_name != "default" else {})}
    specs = {}
    for outcome in settings.outcomes:
        nodes = _adjustment(graph, study, outcome, combo["adjustment"].value, prepared.graph)
        covariates = _covariates(graph, nodes, options.get("region_intercepts", True))
        spec = ModelSpec(outcome=graph.node(outcome).column, treatment=graph.node(study.treatment).column,
                         covariates=covariates, **options).with_priors(priors)
        missing_cols = [c for c in (*covariates, spec.outcome, spec.treatment) if c not in panel.frame.columns]
        if isinstance(spec.measurement_error, str) and spec.measurement_error not in panel.frame.columns:
            missing_cols.append(spec.measurement_error)
        if missing_cols:
            raise InputError(f"the panel has no column(s) {', '.join(missing_cols)} (needed for {outcome} under "
                             f"DAG {graph.name!r})")
        bind_data(panel, spec)  # the sample binds: enough rows, treatment and covariates vary
        specs[outcome] = spec
    return panel, specs


def _excluded(labels: dict[str, str], rules: tuple[dict[str, frozenset[str]], ...]) -> bool:
    return any(all(labels[k] in values for k, values in rule.items()) for rule in rules)


def plan_sweep(study: Study, prepared: Prepared, settings: SweepSettings | None = None) -> SweepPlan:
    """Every specification of the study's sweep, validated for every outcome before anything samples."""
    settings = parse_sweep(study) if settings is None else settings
    _check_restrictions(settings, prepared.panel, study)
    graphs = {c.label: load_dag(c.value) for c in settings.choices["dag"]}
    base = replace(study.sampler, **settings.sampler)
    defaults = {c: _default_choice(c, study, settings.collapse_threshold).label for c in CHOICES}
    points, invalid, excluded = [], [], 0
    for values in itertools.product(*(settings.choices[c] for c in CHOICES)):
        combo = dict(zip(CHOICES, values))
        labels = {c: v.label for c, v in combo.items()}
        if _excluded(labels, settings.exclude):
            excluded += 1
            continue
        shown = {c: labels[c] for c in settings.varied} or {"dag": labels["dag"]}
        try:
            panel, specs = _point_specs(combo, study, prepared, settings, graphs)
        except InputError as exc:
            invalid.append(Invalid(shown, str(exc)))
            continue
        spec_id = hash_json({"choices": labels, "specs": [s.hash for s in specs.values()], "panel": panel.hash})[:12]
        tasks = tuple(FitTask(spec_id=spec_id, index=len(points), outcome=o, spec=s, panel=panel,
                              settings=replace(base, seed=derived_seed(settings.seed, s, panel)))
                      for o, s in specs.items())
        label = ", ".join(f"{c}={labels[c]}" for c in CHOICES if labels[c] != defaults[c]) or "primary"
        points.append(Point(index=len(points), spec_id=spec_id, choices=labels, label=label, tasks=tasks))
    return SweepPlan(settings=settings, points=tuple(points), invalid=tuple(invalid), excluded=excluded,
                     defaults=defaults)
