"""Country harmonisation to ISO3: country_converter's maintained table plus an explicit override file.

Every code is either mapped to exactly one ISO3 code or reported with a reason (missing, unknown,
ambiguous, or a code from another system: "mixed code systems"). Nothing is guessed. The override
table (``library/countries/overrides.csv``, or a user file) is data: ``system,code,iso3,note``, where
``iso3`` may list several codes separated by ``|`` to declare a code ambiguous, or be ``-`` to
declare a historical state that is excluded from the panel (reported, never merged).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from tipcausal.core.errors import InputError

SYSTEMS = {
    "iso3": "ISO 3166-1 alpha-3",
    "iso2": "ISO 3166-1 alpha-2",
    "cow": "Correlates of War numeric",
    "gw": "Gleditsch-Ward numeric",
    "name": "country name",
}
NUMERIC_SYSTEMS = ("cow", "gw")
EXCLUDED = "-"


def default_overrides_path() -> Path:
    """The override table shipped with tipcausal."""
    return Path(str(resources.files("tipcausal") / "library" / "countries" / "overrides.csv"))


@lru_cache(maxsize=1)
def _converter_table() -> pd.DataFrame:
    """country_converter's country table, read so that Namibia's ISO2 'NA' stays a code, not a missing value."""
    from country_converter.country_converter import COUNTRY_DATA_FILE

    table = pd.read_csv(COUNTRY_DATA_FILE, sep="\t", encoding="utf-8", dtype=str, keep_default_na=False)
    return table[["name_short", "regex", "ISO2", "ISO3", "GWcode"]]


def _iso2_alternatives(value: str) -> list[str]:
    """The ISO2 codes of one table cell: a code, or a regex of codes (Greece ``^GR$|^EL$``, the UK ``^GB$|^UK$``),
    the official one first."""
    return re.findall(r"[A-Z0-9]{2}", value.upper())


def iso2_codes() -> dict[str, str]:
    """ISO3 -> official ISO2 for every country in country_converter's table."""
    return {r.ISO3: codes[0] for r in _converter_table().itertuples()
            if r.ISO3 and (codes := _iso2_alternatives(r.ISO2))}


@dataclass(frozen=True)
class Override:
    """One row of the override table."""

    targets: tuple[str, ...]
    note: str


class CountryCodes:
    """Maps country codes of a declared system to ISO3, reporting every code it cannot map."""

    def __init__(self, overrides: str | Path | None = None):
        path = Path(overrides) if overrides else default_overrides_path()
        self.overrides_path = path
        self.overrides = _read_overrides(path)
        table = _converter_table()
        self.iso3 = {c for c in table["ISO3"] if c}
        self.iso3 |= {t for o in self.overrides.values() for t in o.targets if t != EXCLUDED}
        self.iso2 = {code: r.ISO3 for r in table.itertuples() for code in _iso2_alternatives(r.ISO2)}
        self.gw = {int(r.GWcode): r.ISO3 for r in table.itertuples() if r.GWcode.strip()}
        self.names = [(re.compile(r.regex, re.IGNORECASE), r.ISO3, r.name_short) for r in table.itertuples()]
        self.short_name = {r.ISO3: r.name_short for r in table.itertuples()}

    def name_of(self, iso3: str) -> str:
        """A readable country name for an ISO3 code (the code itself if unknown)."""
        return self.short_name.get(iso3, iso3)

    # -- one value ---------------------------------------------------------------------------

    def _override(self, system: str, code: str) -> tuple[str | None, str | None]:
        o = self.overrides.get((system, code.casefold() if system == "name" else code.upper()))
        if o is None:
            return None, None
        if o.targets == (EXCLUDED,):
            return EXCLUDED, None
        if len(o.targets) > 1:
            return None, f"ambiguous {SYSTEMS[system]} {code!r}: could be {' or '.join(o.targets)} ({o.note})"
        return o.targets[0], None

    def _match_name(self, name: str) -> list[str]:
        return sorted({iso for rx, iso, _ in self.names if rx.search(name)})

    def _other_system(self, code: str, system: str) -> str | None:
        """The name of another system in which ``code`` is valid (for 'mixed code systems' errors)."""
        c = code.strip()
        if system not in NUMERIC_SYSTEMS and re.fullmatch(r"-?\d+(\.0+)?", c):
            return "a numeric (COW/GW) code"
        if system != "iso3" and len(c) == 3 and c.upper() in self.iso3:
            return "an ISO3 code"
        if system != "iso2" and len(c) == 2 and c.upper() in self.iso2:
            return f"an ISO2 code ({self.name_of(self.iso2[c.upper()])})"
        if system != "name" and len(c) > 3 and len(self._match_name(c)) == 1:
            return "a country name"
        return None

    def note(self, system: str, code: str) -> str:
        """The override table's note for a code (empty if none)."""
        key = (system, code.strip().casefold() if system == "name" else code.strip().upper())
        if system in NUMERIC_SYSTEMS and key[1].replace(".", "").isdigit():
            key = (system, str(int(float(key[1]))))
        o = self.overrides.get(key)
        return o.note if o else ""

    def convert_one(self, code: str, system: str) -> tuple[str | None, str | None]:
        """``(iso3, None)``, ``("-", None)`` for a declared historical state, or ``(None, reason)``."""
        if system not in SYSTEMS:
            raise InputError(f"unknown country code system {system!r}; valid: {', '.join(SYSTEMS)}")
        c = code.strip()
        if c == "":
            return None, "missing country code"
        iso, problem = self._override(system, c)
        if iso or problem:
            return iso, problem
        found: str | None = None
        if system == "iso3":
            found = c.upper() if len(c) == 3 and c.upper() in self.iso3 and c.isalpha() else None
        elif system == "iso2":
            found = self.iso2.get(c.upper()) if len(c) == 2 else None
        elif system in NUMERIC_SYSTEMS:
            if re.fullmatch(r"\d+(\.0+)?", c):
                iso, problem = self._override(system, str(int(float(c))))
                if iso or problem:
                    return iso, problem
                found = self.gw.get(int(float(c)))
        else:
            matches = self._match_name(c)
            if len(matches) > 1:
                return None, f"ambiguous country name {c!r}: matches {' and '.join(matches)}"
            found = matches[0] if matches else None
        if found:
            return found, None
        other = self._other_system(c, system)
        if other:
            return None, f"mixed code systems: {c!r} is {other}, but the column is declared as {SYSTEMS[system]} codes"
        return None, f"unknown {SYSTEMS[system]} code {c!r}"

    def convert(self, codes: pd.Series, system: str) -> tuple[pd.Series, pd.Series]:
        """ISO3 codes for a column of ``system`` codes, and the reason (or None) per row."""
        text = codes.astype("string").fillna("").astype(object)
        results = {u: self.convert_one(str(u), system) for u in pd.unique(text)}
        iso = text.map(lambda v: results[v][0])
        reason = text.map(lambda v: results[v][1])
        return iso, reason


def _read_overrides(path: Path) -> dict[tuple[str, str], Override]:
    if not path.is_file():
        raise InputError(f"{path}: country override table not found")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"system", "code", "iso3"} - set(table.columns)
    if missing:
        raise InputError(f"{path}: override table lacks column(s) {', '.join(sorted(missing))}")
    out: dict[tuple[str, str], Override] = {}
    for i, r in table.iterrows():
        system = r["system"].strip()
        if system not in SYSTEMS:
            raise InputError(f"{path}: line {i + 2}: unknown system {system!r}; valid: {', '.join(SYSTEMS)}")
        targets = tuple(t.strip().upper() for t in r["iso3"].split("|") if t.strip())
        if targets != (EXCLUDED,) and (not targets or any(not re.fullmatch(r"[A-Z]{3}", t) for t in targets)):
            raise InputError(f"{path}: line {i + 2}: iso3 must be ISO3 code(s) separated by '|', or '-' for an "
                             f"excluded historical state; got {r['iso3']!r}")
        key = (system, r["code"].strip().casefold() if system == "name" else r["code"].strip().upper())
        if key in out:
            raise InputError(f"{path}: line {i + 2}: {system} code {r['code']!r} listed twice")
        out[key] = Override(targets=targets, note=r.get("note", ""))
    return out
