import numpy as np
import pandas as pd
import pytest

from tipcausal.data.panel import PanelSchema, load_panel_csv, validate_panel
from tipcausal.core.errors import DataValidationError

SCHEMA = PanelSchema(outcomes=("prosecution",), numeric=("v2cscnsult",), year_min=2000, year_max=2013)


def frame(**over):
    base = pd.DataFrame({"country": ["AAA", "AAA", "BBB"], "year": [2000, 2001, 2000], "region": ["r1"] * 3,
                         "prosecution": [1, 5, 3], "v2cscnsult": [0.1, 0.2, -1.0]})
    for k, v in over.items():
        base[k] = v
    return base


def test_valid_panel_passes():
    validate_panel(frame(), SCHEMA, "f.csv")


@pytest.mark.parametrize("col,values,needle", [
    ("prosecution", [0, 5, 3], "score not an integer 1-5 in 1 row(s): (AAA, 2000)"),
    ("prosecution", [1, 6, 3], "(AAA, 2001)"),
    ("prosecution", [1, 3.5, 3], "(AAA, 2001)"),
    ("prosecution", [1, "high", 3], "non-numeric score in 1 row(s): (AAA, 2001)"),
    ("v2cscnsult", [np.inf, 0.2, 0.1], "infinite value in 1 row(s): (AAA, 2000)"),
    ("year", [2000, 2000, 2000], "duplicate country-years in 2 row(s): (AAA, 2000), (AAA, 2000)"),
    ("year", [2000, 2020, 2000], "not an integer year in 2000-2013"),
])
def test_bad_values_name_file_column_and_rows(col, values, needle):
    with pytest.raises(DataValidationError) as err:
        validate_panel(frame(**{col: values}), SCHEMA, "f.csv")
    msg = str(err.value)
    assert msg.startswith("f.csv:")
    assert needle in msg


def test_all_problems_reported_together():
    with pytest.raises(DataValidationError) as err:
        validate_panel(frame(prosecution=[0, 5, 9], v2cscnsult=[np.inf, 0, 0]), SCHEMA, "f.csv")
    assert len(err.value.problems) == 2


def test_missing_column_named(tmp_path):
    p = tmp_path / "p.csv"
    frame().drop(columns="v2cscnsult").to_csv(p, index=False)
    with pytest.raises(DataValidationError, match="missing column.*v2cscnsult"):
        load_panel_csv(p, SCHEMA, kind="real")


def test_namibia_code_is_not_read_as_missing(tmp_path):
    p = tmp_path / "p.csv"
    frame(country=["NA", "NA", "BBB"]).to_csv(p, index=False)
    panel = load_panel_csv(p, SCHEMA, kind="real")
    assert (panel.frame["country"] == "NA").sum() == 2
