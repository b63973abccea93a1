"""The sweep table: one row per specification and outcome, the same columns for every sweep.

``ROW_COLUMNS`` lists the fixed columns in order; the sweep's choice columns (``CHOICES`` that the sweep varies
or sets, each a string such as ``"cumulative_probit"``, ``"true"``, ``"2000-2013"`` or ``"none"``) come right after
``spec_label``. Effect columns come in two families: ``es_*`` (the effect of +1 SD consultation on the expected
score; NaN for a binary specification) and ``pge_*`` (on P(score >= ``pge_threshold``): 4 for ordinal
specifications, the collapse threshold for binary ones). ``status`` is ``ok`` (passed the gate), ``gate_failed``
(sampled, but failed the diagnostics gate: shown apart, left out of inference) or ``error`` (the fit raised:
``reasons`` says why; every number is NaN).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: Every choice a sweep can vary, in the order of the table's columns and the indicator panel.
CHOICES = ("dag", "adjustment", "likelihood", "pooling", "within_between", "country_slopes", "year_effects",
           "lagged_treatment", "measurement_error", "priors", "years", "leave_out")

#: Summary statistics of each effect family (posterior mean, median, equal-tailed 90% and 50% bounds, P(> 0)).
STATS = ("mean", "median", "q05", "q25", "q75", "q95", "p_positive")

ROW_COLUMNS = (
    "spec_id",  # 12 hex characters: the specification's key (its choices), the same for every outcome
    "spec_label",  # the choices that differ from the study's primary model, e.g. "likelihood=cumulative_probit"
    # ... one column per choice in CHOICES here (strings)
    "outcome",  # DAG node id of the outcome, e.g. "prosecution"
    "status",  # "ok" | "gate_failed" | "error"
    "reasons",  # the gate's reasons or the error ("" when ok)
    "n_obs",  # country-years in the model
    "n_countries",
    *(f"es_{s}" for s in STATS),
    "pge_threshold",
    *(f"pge_{s}" for s in STATS),
    *(f"slope_{s}" for s in STATS),  # the within slope on the model's latent scale (logit or probit units)
    "elpd_loo", "elpd_se", "pareto_k_max",  # NaN for specifications whose LOO is not comparable (binary)
    "max_rhat", "min_ess_bulk", "divergences",
    "seed",  # the fit's seed (derived from the sweep seed and the specification key)
    "store_key",  # the fit's key in the fit store
)


def sweep_frame(rows: list[dict[str, Any]], choices: tuple[str, ...]) -> pd.DataFrame:
    """The sweep table from its rows (dicts with every column), columns in the documented order."""
    columns = [*ROW_COLUMNS[:2], *choices, *ROW_COLUMNS[2:]]
    frame = pd.DataFrame(rows, columns=columns)
    for c in choices:
        frame[c] = frame[c].astype(str)
    return frame
