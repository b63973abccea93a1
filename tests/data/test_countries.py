"""Country harmonisation: one ISO3 code per input or a stated reason; the override table is data."""

import pandas as pd
import pytest

from tipcausal.data.countries import EXCLUDED, CountryCodes
from tipcausal.core.errors import InputError


@pytest.fixture(scope="module")
def codes():
    return CountryCodes()


@pytest.mark.parametrize("code,system,iso", [
    ("NA", "iso2", "NAM"), ("NAM", "iso3", "NAM"), ("Namibia", "name", "NAM"), ("565", "cow", "NAM"),
    ("255", "cow", "DEU"), ("260", "gw", "DEU"), ("2.0", "cow", "USA"), ("1001", "cow", "XKX"), ("KSV", "iso3", "XKX"),
    ("KOS", "iso3", "XKX"), ("XKK", "iso3", "XKX"), ("1003", "cow", "SRB"), ("SCG", "iso3", "SRB"),
    ("Serbia and Montenegro", "name", "SRB"), ("Congo, Dem. Rep.", "name", "COD"), ("deu", "iso3", "DEU"),
    ("GR", "iso2", "GRC"), ("EL", "iso2", "GRC"), ("GB", "iso2", "GBR"), ("UK", "iso2", "GBR"),
])
def test_known_codes(codes, code, system, iso):
    assert codes.convert_one(code, system) == (iso, None)


@pytest.mark.parametrize("code,system,reason", [
    ("Congo", "name", "ambiguous country name 'Congo': could be COG or COD"),
    ("Korea", "name", "ambiguous country name 'Korea'"),
    ("NA", "iso3", "mixed code systems: 'NA' is an ISO2 code (Namibia)"),
    ("700", "iso3", "mixed code systems: '700' is a numeric (COW/GW) code"),
    ("AFG", "cow", "mixed code systems: 'AFG' is an ISO3 code"),
    ("Germany", "iso3", "mixed code systems: 'Germany' is a country name"),
    ("9999", "cow", "unknown Correlates of War numeric code '9999'"),
    ("QQQ", "iso3", "unknown ISO 3166-1 alpha-3 code 'QQQ'"),
    ("Atlantis", "name", "unknown country name code 'Atlantis'"),
    ("", "gw", "missing country code"),
])
def test_unmappable_codes_get_a_reason_not_a_guess(codes, code, system, reason):
    iso, why = codes.convert_one(code, system)
    assert iso is None and why.startswith(reason), why


def test_historical_states_are_excluded_explicitly(codes):
    assert codes.convert_one("265", "gw") == (EXCLUDED, None)
    assert "German Democratic Republic" in codes.note("gw", "265")


def test_convert_column(codes):
    iso, reason = codes.convert(pd.Series(["AFG", "NA", "", "KOS"]), "iso3")
    assert [v if isinstance(v, str) else None for v in iso] == ["AFG", None, None, "XKX"]
    assert reason.notna().tolist() == [False, True, True, False]


@pytest.mark.parametrize("row,needle", [
    ("iso3,FOO,ABCD,x", r"iso3 must be ISO3 code\(s\)"),
    ("planet,FOO,ABC,x", "unknown system 'planet'"),
    ("iso3,KOS,XKX,again", "iso3 code 'KOS' listed twice"),
])
def test_bad_override_table(tmp_path, row, needle):
    p = tmp_path / "o.csv"
    p.write_text("system,code,iso3,note\niso3,KOS,XKX,Kosovo\n" + row + "\n")
    with pytest.raises(InputError, match=needle):
        CountryCodes(p)


def test_user_override_table(tmp_path):
    p = tmp_path / "o.csv"
    p.write_text("system,code,iso3,note\nname,Bohemia,CZE,my data's old name\n")
    assert CountryCodes(p).convert_one("bohemia", "name") == ("CZE", None)


def test_iso2_of_every_iso3_is_one_official_code():
    from tipcausal.data.countries import iso2_codes

    codes = iso2_codes()
    assert codes["GRC"] == "GR" and codes["GBR"] == "GB" and codes["NAM"] == "NA" and codes["HUN"] == "HU"
    assert all(len(v) == 2 for v in codes.values())
