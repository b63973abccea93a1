"""Model specifications as plain, hashable data: what the model is, not how it is sampled."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tipcausal.core.errors import InputError
from tipcausal.core.provenance import hash_json
from tipcausal.core.registry import lookup
from tipcausal.models.families import FAMILIES, Family

YEAR_EFFECTS = {"random": "zero-sum year effects with a common SD",
                "fixed": "zero-sum year effects with a fixed Normal(0, 1) prior each (no pooling across years)",
                "random_walk": "year effects following a Gaussian random walk (centred to sum to zero)",
                "none": "no year effects"}
MISSING = {"complete_case": "rows missing any model variable are dropped; the count per variable is logged and saved",
           "impute": "missing covariate values are latent parameters of the model (imputed in-model from the "
                     "country's observed mean and the covariate's within-country SD); rows missing the outcome, "
                     "treatment or region are still dropped and counted"}
PARAMETERISATIONS = {
    "centred_levels": "country levels (intercept plus the between terms) drawn directly around their region mean "
                      "and the country-level regression, cutpoints relative to the mean level, slopes non-centred "
                      "(no ridge between the between coefficients, the intercepts and the cutpoints; for panels "
                      "whose countries are clearly apart, a funnel when country_sd is small)",
    "non_centred": "country intercepts and slopes as standardised deviations scaled by their SD "
                   "(the default: no funnel when the data say little about a country)",
    "centred": "country intercepts and slopes drawn directly around their means (a funnel when "
               "their SDs are small; for strongly informative data and for calibration studies)"}
POOLING = {"partial": "country intercepts drawn around region means with an estimated SD (hierarchical)",
           "none": "independent country intercepts with a fixed wide prior (no pooling)",
           "complete": "no country intercepts: countries share their region's mean (complete pooling)"}


@dataclass(frozen=True)
class Prior:
    """A prior as data: a distribution name and its parameters (see ``pymc_builder.PRIOR_FAMILIES``)."""

    dist: str
    params: dict[str, float]

    def describe(self) -> str:
        """E.g. ``Normal(mu=0, sigma=1)``."""
        args = ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}={v}" for k, v in self.params.items())
        return f"{self.dist}({args})"


#: Model options added after the first release, with their defaults (see ``ModelSpec.to_dict``).
LATER_OPTIONS = {"parameterisation": "non_centred"}

#: Weakly informative defaults. Scales: logit units; effects per one SD of the treatment.
DEFAULT_PRIORS: dict[str, Prior] = {
    "cutpoints": Prior("Normal", {"mu": 0.0, "sigma": 3.0}),
    "region_effect": Prior("ZeroSumNormal", {"sigma": 1.0}),
    "country_sd": Prior("HalfNormal", {"sigma": 1.5}),
    "slope_mean": Prior("Normal", {"mu": 0.0, "sigma": 1.0}),
    "slope_sd": Prior("HalfNormal", {"sigma": 0.5}),
    "between_effect": Prior("Normal", {"mu": 0.0, "sigma": 1.0}),
    "covariate_within": Prior("Normal", {"mu": 0.0, "sigma": 1.0}),
    "covariate_between": Prior("Normal", {"mu": 0.0, "sigma": 1.0}),
    "year_sd": Prior("HalfNormal", {"sigma": 0.5}),
    "country_intercept": Prior("Normal", {"mu": 0.0, "sigma": 2.5}),
    "country_corr_eta": Prior("LKJ", {"eta": 2.0}),
    "treatment_between_sd": Prior("HalfNormal", {"sigma": 1.5}),
    "treatment_within_sd": Prior("HalfNormal", {"sigma": 1.0}),
}

PRIOR_ROLES: dict[str, str] = {
    "cutpoints": "ordered thresholds between the five scores (logit scale)",
    "region_effect": "region means of the country intercepts (sum to zero)",
    "country_sd": "SD of country intercepts around their region mean",
    "slope_mean": "average within-country effect of +1 SD consultation (logit scale)",
    "slope_sd": "SD of country slopes on consultation",
    "between_effect": "coefficient on the country mean of consultation (absorbs time-invariant confounding)",
    "covariate_within": "within-country coefficients of the standardised adjustment covariates",
    "covariate_between": "coefficients of the country means of the adjustment covariates",
    "year_sd": "SD of year effects (sum to zero), or of the yearly steps of the random walk",
    "country_intercept": "independent country intercepts (no pooling only)",
    "country_corr_eta": "LKJ shape of the correlation of country intercepts and slopes across Ps (joint model)",
    "treatment_between_sd": "SD of country means of true consultation (measurement-error model, standardised)",
    "treatment_within_sd": "SD of true consultation around its country mean (measurement-error model)",
}


@dataclass(frozen=True)
class ModelSpec:
    """A hierarchical ordinal model of one outcome: variables, structure and priors as plain data.

    ``covariates`` are panel columns (standardised in the model). ``within_between`` splits the
    treatment and covariates into within-country deviations and country means (Mundlak), so that
    confounding constant within country is absorbed; the causal slope is the within slope.
    """

    outcome: str
    treatment: str
    covariates: tuple[str, ...]
    likelihood: str = "cumulative_logit"
    country_slopes: bool = True
    region_intercepts: bool = True
    year_effects: str = "random"
    within_between: bool = True
    pooling: str = "partial"
    lagged_treatment: bool = False
    collapse_threshold: int = 4
    measurement_error: str | float | None = None
    missing: str = "complete_case"
    parameterisation: str = "non_centred"
    priors: dict[str, Prior] = field(default_factory=lambda: dict(DEFAULT_PRIORS))

    def __post_init__(self) -> None:
        for name in ("country_slopes", "region_intercepts", "within_between", "lagged_treatment"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(f"model option {name} must be true or false, got {getattr(self, name)!r}")
        lookup(FAMILIES, self.likelihood, "likelihood")
        lookup(YEAR_EFFECTS, self.year_effects, "year_effects option")
        lookup(POOLING, self.pooling, "pooling option")
        lookup(MISSING, self.missing, "missing option")
        lookup(PARAMETERISATIONS, self.parameterisation, "parameterisation option")
        if isinstance(self.collapse_threshold, bool) or self.collapse_threshold not in (2, 3, 4, 5):
            raise InputError(f"model option collapse_threshold must be 2, 3, 4 or 5 (binary outcome: score >= "
                             f"threshold), got {self.collapse_threshold!r}")
        me = self.measurement_error
        if me is not None:
            if isinstance(me, bool) or not isinstance(me, (str, int, float)) or (
                    not isinstance(me, str) and not me > 0):
                raise InputError("model option measurement_error must be the name of a panel column holding the "
                                 f"treatment's measurement SD (e.g. 'v2cscnsult_sd') or a positive SD, got {me!r}")
            if self.lagged_treatment:
                raise InputError("model options measurement_error and lagged_treatment cannot be combined")
        unknown = set(self.priors) - set(DEFAULT_PRIORS)
        if unknown:
            raise InputError(f"unknown prior name(s) {', '.join(sorted(unknown))}; valid names: "
                             f"{', '.join(DEFAULT_PRIORS)}")

    @property
    def family(self) -> Family:
        """The likelihood family (its link, cutpoints, observation model, effects and PPC labels)."""
        return FAMILIES[self.likelihood]

    @property
    def link(self) -> str:
        """The link of the cumulative likelihood (logit or probit)."""
        return self.family.link

    @property
    def binary(self) -> bool:
        """True for the collapsed (score >= collapse_threshold) likelihood."""
        return self.family.binary

    def describe(self) -> str:
        """One line naming the structure: likelihood, pooling, slopes, year effects and the options in use."""
        parts = [self.family.describe(self.collapse_threshold),
                 f"{self.pooling} pooling", "country slopes" if self.country_slopes else "common slope",
                 f"year effects {self.year_effects}"]
        if not self.region_intercepts:
            parts.append("no region level")
        if self.lagged_treatment:
            parts.append("lagged treatment")
        if self.measurement_error is not None:
            parts.append(f"measurement error ({self.measurement_error})")
        if self.missing != "complete_case":
            parts.append("in-model imputation")
        if self.parameterisation != "non_centred":
            parts.append(f"{self.parameterisation.replace('_', ' ')} country effects")
        return ", ".join(parts)

    def with_priors(self, overrides: dict[str, Prior]) -> ModelSpec:
        """A copy with some priors replaced."""
        return replace(self, priors={**self.priors, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-able); ``hash`` is computed from it. Options added after the first release
        enter only when they differ from their default, so a spec that does not use them keeps its hash."""
        d = asdict(self)
        d["covariates"] = list(self.covariates)
        for name, default in LATER_OPTIONS.items():
            if d[name] == default:
                del d[name]
        return d

    @property
    def hash(self) -> str:
        """Stable content hash of the spec."""
        return hash_json(self.to_dict())

    def active_priors(self) -> dict[str, Prior]:
        """Priors of the parameters this spec's structure actually uses."""
        skip = set()
        if not self.country_slopes:
            skip.add("slope_sd")
        if not self.region_intercepts or self.pooling == "none":
            skip.add("region_effect")
        if self.pooling != "partial":
            skip.add("country_sd")
        if self.pooling != "none":
            skip.add("country_intercept")
        if self.year_effects in ("none", "fixed"):
            skip.add("year_sd")
        skip.add("country_corr_eta")  # joint model only (models/joint.py)
        if self.measurement_error is None:
            skip |= {"treatment_between_sd", "treatment_within_sd"}
        if not self.within_between:
            skip |= {"between_effect", "covariate_between"}
        if not self.covariates:
            skip |= {"covariate_within", "covariate_between"}
        return {k: v for k, v in self.priors.items() if k not in skip}
