"""Places: first-level units (provinces, states) of every country with their ISO 3166-2 codes, found by any
spelling the bundled and public datasets use, and units that no longer exist kept as such.

The units and their codes come from pycountry (ISO 3166-2). fixtures/admin1_spellings.csv adds the spellings
the datasets use and ISO's former names, each with where it is used. Historical units: FATA (PK-TA), merged into
Khyber Pakhtunkhwa (PK-KP) in 2018 and deleted from ISO 3166-2 in 2019. A spelling is matched without case,
accents, punctuation or the words 'province', 'territory' and 'state' ('Balochistan province' is Balochistan).
Nothing here reads the network.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pycountry

SPELLINGS_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "admin1_spellings.csv"
GENERIC_WORDS = {"province", "provincia", "territory", "state", "region", "division"}


@dataclass(frozen=True)
class Unit:
    """A first-level unit: ISO 3166-2 code, its name, its country (alpha-3), and, for one that no longer exists,
    the unit it became part of and when."""

    code: str
    name: str
    country: str
    merged_into: str | None = None
    merged_in: int | None = None


# Units ISO 3166-2 no longer lists, kept as the datasets record them (ISO 3166-2:PK, former codes).
HISTORICAL = (
    Unit("PK-TA", "Federally Administered Tribal Areas", "PAK", merged_into="PK-KP", merged_in=2018),
)


def fold(text: str) -> str:
    """A spelling as it is matched: lower case, no accents or punctuation, no generic words, single spaces."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    words = "".join(c if c.isalnum() else " " for c in plain).split()
    return " ".join(word for word in words if word not in GENERIC_WORDS)


@lru_cache(maxsize=1)
def _units() -> tuple[dict[str, Unit], dict[tuple[str, str], str]]:
    """(every unit by code, code by (country alpha-3, folded spelling))."""
    units: dict[str, Unit] = {}
    spellings: dict[tuple[str, str], str] = {}
    for subdivision in pycountry.subdivisions:
        if subdivision.parent_code is not None:  # first level only
            continue
        country = pycountry.countries.get(alpha_2=subdivision.country_code)
        if country is None:
            continue
        unit = Unit(subdivision.code, subdivision.name, country.alpha_3)
        units[unit.code] = unit
        spellings.setdefault((unit.country, fold(unit.name)), unit.code)
    for unit in HISTORICAL:
        units[unit.code] = unit
        spellings[(unit.country, fold(unit.name))] = unit.code
    with SPELLINGS_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            unit = units[row["code"]]
            spellings.setdefault((unit.country, fold(row["spelling"])), unit.code)
    return units, spellings


def unit(code: str) -> Unit | None:
    """The unit with ISO 3166-2 code `code` ('PK-BA', any case), present or historical."""
    return _units()[0].get(code.strip().upper())


def admin1_code(country: str, name: str | None) -> str | None:
    """The ISO 3166-2 code of the first-level unit `name` of `country` (alpha-3) by any known spelling, or a code
    given as such; None when the gazetteer does not know it."""
    if not name or not name.strip():
        return None
    found = unit(name)
    if found is not None and found.country == country:
        return found.code
    return _units()[1].get((country, fold(name)))


def resolve_admin1(text: str, country: str | None = None) -> list[Unit]:
    """The units a user names by code ('PK-BA') or spelling ('Baluchistan'), in `country` when given: one, none,
    or several where a spelling names a unit in each of several countries ('Punjab': Pakistan's and India's)."""
    found = unit(text)
    if found is not None and (country is None or found.country == country):
        return [found]
    units, spellings = _units()
    folded = fold(text)
    return sorted((units[code] for code in {code for (where, spelling), code in spellings.items()
                                             if spelling == folded and (country is None or where == country)}),
                  key=lambda unit: unit.code)


def unit_name(value: object, as_today: bool = False) -> object:
    """A stored admin1_code as its unit's name ('PK-BA' -> 'Balochistan'), with `as_today` the name of the unit a
    former one joined (PK-TA -> 'Khyber Pakhtunkhwa'); anything else as it is."""
    found = unit(value) if isinstance(value, str) else None
    if found is not None and as_today and found.merged_into:
        found = unit(found.merged_into) or found
    return value if found is None else found.name


def successors(code: str) -> set[str]:
    """The codes that make up the present-day unit `code`: itself and every historical unit merged into it."""
    return {code} | {unit.code for unit in HISTORICAL if unit.merged_into == code}


def spellings_near(text: str, country: str | None = None, most: int = 5) -> list[str]:
    """Unit names close to `text`, for a suggestion ('Baluchstan' -> Balochistan (PK-BA))."""
    import difflib

    units, spellings = _units()
    candidates = {spelling: code for (where, spelling), code in spellings.items()
                  if country is None or where == country}
    close = difflib.get_close_matches(fold(text), list(candidates), n=most * 2, cutoff=0.75)
    named: list[str] = []
    for spelling in close:
        shown = f"{units[candidates[spelling]].name} ({candidates[spelling]})"
        if shown not in named:
            named.append(shown)
    return named[:most]
