"""The ``[sensitivity]`` table of a study file, as typed, validated settings.

Everything here is checked before any sampling: unknown tables and keys, unknown analyses, negative or
non-numeric strengths, partial R^2 outside (0, 1), benchmark covariates that are not adjustment covariates,
unknown prior partitions, refit counts below their minimum. Checks that need the DAG (the negative control)
are made by ``check_against_graph``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from tipcausal.core.errors import InputError

ANALYSES = {"confounding": "unobserved confounding: tipping points, benchmarks, per-country tipping",
            "priors": "power-scaling prior sensitivity of the causal quantities, partition by partition",
            "refute": "panel-aware refutations (placebos, lead, leave-one-out, random common cause, DoWhy's)"}
DEFAULT_BENCHMARKS = ("corruption", "gdp", "democracy")
MIN_PLACEBO = 1


@dataclass(frozen=True)
class ConfoundingSettings:
    """Benchmarks (adjustment node ids; the first is the headline's reference), multiples k, grid extent."""

    benchmarks: tuple[str, ...] = DEFAULT_BENCHMARKS
    k: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0)
    r2_max: float = 0.3


@dataclass(frozen=True)
class PriorSettings:
    """Partitions to scale (empty: every partition of the spec); refits confirming a flag, by what factor."""

    partitions: tuple[str, ...] = ()
    confirm: bool = True
    factor: float = 2.0


@dataclass(frozen=True)
class RefuteSettings:
    """Which refutations, how many placebo refits, the region of practical equivalence (share of the
    effect), the sampler's draws, tune and chains for refits (default: the study's own, which its primary fits
    converged with), and an optional negative-control outcome (node id). Measured on the default study (2
    cores): 4 chains x 1000 draws take 26-32 s per refit and pass the gate; 2 chains x 1000 take 16-20 s but 46
    of 66 refits failed it (max R-hat 1.010-1.020 over ~900 quantities with four split chains); 4 chains x 500
    failed it too (R-hat 1.017)."""

    placebo: int = 8
    between_placebo: bool = True  # the placebo refits also permute country means within region
    lead: bool = True
    leave_region_out: bool = True
    leave_country_out: bool = True
    max_country_refits: int = 3
    random_common_cause: bool = True
    dowhy: bool = True
    rope: float = 0.1
    warm_start: bool = True  # refits start from the primary fit's final state and mass matrix
    draws: int | None = None  # None: the study's [sampler] value
    tune: int | None = None  # None: the study's cold, WARM_TUNE (step size only) or WARM_MASS_TUNE warm
    chains: int | None = None
    negative_control: str | None = None


@dataclass(frozen=True)
class SensitivitySettings:
    """What ``tipcausal sensitivity`` (and ``tipcausal run`` with ``run = true``) computes."""

    run: bool = False
    analyses: tuple[str, ...] = tuple(ANALYSES)
    confounding: ConfoundingSettings = ConfoundingSettings()
    priors: PriorSettings = PriorSettings()
    refute: RefuteSettings = RefuteSettings()

    def only(self, analyses: tuple[str, ...] | None, src: str = "--only") -> SensitivitySettings:
        """These settings restricted to ``analyses`` (None: unchanged)."""
        if not analyses:
            return self
        for a in analyses:
            _check_analysis(a, src)
        return replace(self, analyses=tuple(a for a in ANALYSES if a in analyses))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (recorded in summary.json)."""
        return asdict(self)


def _check_analysis(name: Any, where: str) -> None:
    if name not in ANALYSES:
        raise InputError(f"{where}: unknown sensitivity analysis {name!r}; valid analyses: {', '.join(ANALYSES)}")


def _keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(allowed))}")


def _bool(raw: dict[str, Any], key: str, default: bool, where: str) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{where}: {key} must be true or false, got {value!r}")
    return value


def _int(raw: dict[str, Any], key: str, default: int, minimum: int, where: str) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{where}: {key} must be an integer >= {minimum}, got {value!r}")
    return value


def _optional_int(raw: dict[str, Any], key: str, minimum: int, where: str) -> int | None:
    return None if raw.get(key) is None else _int(raw, key, 0, minimum, where)


def _positive(value: Any, what: str, where: str, upper: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < upper:
        bound = f" and below {upper:g}" if upper < math.inf else ""
        raise InputError(f"{where}: {what} must be a number above 0{bound}, got {value!r}")
    return float(value)


def _strings(raw: dict[str, Any], key: str, default: tuple[str, ...], where: str) -> tuple[str, ...]:
    value = raw.get(key, list(default))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: {key} must be a list of names, got {value!r}")
    return tuple(value)


def parse_sensitivity(raw: Any, src: str) -> SensitivitySettings:
    """Settings from a study file's ``[sensitivity]`` table (``src`` names the file in errors)."""
    if raw is None:
        return SensitivitySettings()
    where = f"{src}: [sensitivity]"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be a table")
    _keys(raw, {"run", "analyses", "confounding", "priors", "refute"}, where)
    analyses = _strings(raw, "analyses", tuple(ANALYSES), where)
    for a in analyses:
        _check_analysis(a, f"{where} analyses")
    conf_raw = raw.get("confounding", {})
    pri_raw = raw.get("priors", {})
    ref_raw = raw.get("refute", {})
    for name, table in (("confounding", conf_raw), ("priors", pri_raw), ("refute", ref_raw)):
        if not isinstance(table, dict):
            raise InputError(f"{where}.{name} must be a table")
    cw = f"{src}: [sensitivity.confounding]"
    _keys(conf_raw, {"benchmarks", "k", "r2_max"}, cw)
    ks = conf_raw.get("k", [0.5, 1.0, 2.0, 3.0])
    if not isinstance(ks, list) or not ks:
        raise InputError(f"{cw}: k must be a non-empty list of positive strengths, got {ks!r}")
    confounding = ConfoundingSettings(
        benchmarks=_strings(conf_raw, "benchmarks", DEFAULT_BENCHMARKS, cw),
        k=tuple(_positive(k, "every strength k", cw) for k in ks),
        r2_max=_positive(conf_raw.get("r2_max", 0.3), "r2_max (partial R^2)", cw, upper=1.0))
    pw = f"{src}: [sensitivity.priors]"
    _keys(pri_raw, {"partitions", "confirm", "factor"}, pw)
    from tipcausal.sensitivity.priors import PARTITIONS
    partitions = _strings(pri_raw, "partitions", (), pw)
    for p in partitions:
        if p not in PARTITIONS:
            raise InputError(f"{pw}: unknown prior partition {p!r}; valid partitions: {', '.join(PARTITIONS)}")
    factor = _positive(pri_raw.get("factor", 2.0), "factor", pw)
    if factor <= 1.0:
        raise InputError(f"{pw}: factor must be above 1 (the prior is widened and narrowed by it), got {factor!r}")
    priors = PriorSettings(partitions=partitions, confirm=_bool(pri_raw, "confirm", True, pw), factor=factor)
    rw = f"{src}: [sensitivity.refute]"
    d = RefuteSettings()
    _keys(ref_raw, set(d.__dataclass_fields__), rw)
    nc = ref_raw.get("negative_control")
    if nc is not None and not isinstance(nc, str):
        raise InputError(f"{rw}: negative_control must be a DAG node id, got {nc!r}")
    refute = RefuteSettings(
        placebo=_int(ref_raw, "placebo", d.placebo, MIN_PLACEBO, rw),
        between_placebo=_bool(ref_raw, "between_placebo", d.between_placebo, rw),
        lead=_bool(ref_raw, "lead", d.lead, rw), leave_region_out=_bool(ref_raw, "leave_region_out", True, rw),
        leave_country_out=_bool(ref_raw, "leave_country_out", True, rw),
        max_country_refits=_int(ref_raw, "max_country_refits", d.max_country_refits, 0, rw),
        random_common_cause=_bool(ref_raw, "random_common_cause", True, rw),
        dowhy=_bool(ref_raw, "dowhy", True, rw),
        rope=_positive(ref_raw.get("rope", d.rope), "rope (share of the effect)", rw, upper=1.0),
        warm_start=_bool(ref_raw, "warm_start", d.warm_start, rw),
        draws=_optional_int(ref_raw, "draws", 100, rw), tune=_optional_int(ref_raw, "tune", 100, rw),
        chains=_optional_int(ref_raw, "chains", 2, rw),
        negative_control=nc)
    return SensitivitySettings(run=_bool(raw, "run", False, where), analyses=analyses, confounding=confounding,
                               priors=priors, refute=refute)
