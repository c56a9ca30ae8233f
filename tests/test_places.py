"""Places: first-level units found by any spelling or ISO 3166-2 code, stored as codes beside the text the
source gave, and --admin1 answering by the unit, not the spelling. Expected counts are computed here from the
raw files' own province columns, through a spelling table written here, not the gazetteer's."""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pycountry
import pytest
from sqlalchemy import text

from incidents import api
from incidents.db.engine import make_engine
from incidents.errors import FieldError, InputError, NotFoundError
from incidents.gazetteer import (
    admin1_code,
    country_at,
    district,
    district_code,
    nearest,
    resolve_admin1,
    resolve_place,
    resolve_places,
    successors,
)

from .conftest import FIXTURES

UCDP_FILE = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"
GTD_FILE = FIXTURES / "gtd_format_sample.csv"
SEED_FILE = FIXTURES / "seed_incidents.yaml"

# Each province spelling the three files use, to its ISO 3166-2 code: written here from ISO 3166-2:PK.
SPELLINGS = {
    "Federally Administered Tribal Areas": "PK-TA", "Khyber Pakhtunkwa province": "PK-KP",
    "Khyber Pakhtunkhwa": "PK-KP", "Balochistan province": "PK-BA", "Balochistan": "PK-BA",
    "Sindh province": "PK-SD", "Sindh": "PK-SD", "Punjab province": "PK-PB", "Punjab": "PK-PB",
    "Gilgit-Baltistan": "PK-GB", "Islamabad Capital territory": "PK-IS",
}


# UCDP rows with no adm_1 whose point is finer than the country: their province, read here from the row's own
# where_description ('Bannu-Miran Shah road in North Waziristan', a district of Khyber Pakhtunkhwa since 2018; the
# event is of 2020). The gazetteer must find the same from the coordinates alone.
PROVINCE_FROM_DESCRIPTION = {"340167": "PK-KP"}
UCDP_COUNTRY_ONLY = "6"  # where_prec 6: only the country is known, so no province may be given


def raw_counts() -> Counter[str]:
    """Incidents per ISO code, from the raw files: UCDP's adm_1, GTD's provstate, the seed fixture's admin1."""
    import yaml

    counts: Counter[str] = Counter()
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["adm_1"]:
                counts[SPELLINGS[row["adm_1"]]] += 1
            elif row["where_prec"] != UCDP_COUNTRY_ONLY:
                counts[PROVINCE_FROM_DESCRIPTION[row["id"]]] += 1
    with GTD_FILE.open(encoding="latin-1", newline="") as handle:
        counts.update(SPELLINGS[row["provstate"]] for row in csv.DictReader(handle) if row["provstate"])
    seed = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    counts.update(SPELLINGS[incident["location"]["admin1"]] for incident in seed["incidents"])
    return counts




@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", SEED_FILE])
    api.import_file(db_url, UCDP_FILE)
    api.import_file(db_url, GTD_FILE)
    return db_url


def test_every_province_is_coded_and_counted_as_the_raw_files_count_it(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        uncoded = connection.execute(text(
            "SELECT DISTINCT l.admin1 FROM incidents i JOIN locations l ON l.id = i.location_id "
            "WHERE l.admin1 IS NOT NULL AND l.admin1_code IS NULL")).scalars().all()
        no_code = connection.execute(text(
            "SELECT i.origin_id FROM incidents i JOIN locations l ON l.id = i.location_id "
            "WHERE l.admin1_code IS NULL ORDER BY i.origin_id")).scalars().all()
    engine.dispose()
    assert uncoded == []
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        country_only = sorted(row["id"] for row in csv.DictReader(handle)
                              if not row["adm_1"] and row["where_prec"] == UCDP_COUNTRY_ONLY)
    assert no_code == country_only and len(country_only) == 2  # every other Pakistan incident has a code
    expected = raw_counts()
    for code, count in expected.items():
        assert api.incidents(url, admin1=code, limit=1)[1] == count, code
    # Khyber Pakhtunkhwa as it is today: its own incidents and FATA's.
    assert api.incidents(url, admin1="Khyber Pakhtunkhwa", as_today=True, limit=1)[1] == \
        expected["PK-KP"] + expected["PK-TA"]


@pytest.mark.parametrize("name", ["Baluchistan", "PK-BA", "pk-ba", "Balochistan province", "BALOCHISTAN"])
def test_any_spelling_or_code_of_a_province_gives_the_same_answer(url: str, name: str) -> None:
    rows, total = api.incidents(url, admin1=name, limit=None)
    assert total == raw_counts()["PK-BA"]
    assert {row["key"] for row in rows} == {row["key"] for row in api.incidents(url, admin1="PK-BA", limit=None)[0]}


def test_an_unknown_province_gets_suggestions(url: str) -> None:
    with pytest.raises(NotFoundError, match="Balochistan"):
        api.incidents(url, admin1="Baluchstan")


def test_the_gazetteer_knows_former_units_and_names() -> None:
    assert admin1_code("PAK", "NWFP") == admin1_code("PAK", "North-West Frontier Province") == "PK-KP"
    assert admin1_code("PAK", "FATA") == "PK-TA" and successors("PK-KP") == {"PK-KP", "PK-TA"}
    assert admin1_code("AFG", "Kabul") == "AF-KAB"  # ISO's name has accents: Kābul
    assert [unit.country for unit in resolve_admin1("Punjab")] == ["IND", "PAK"]  # one spelling, two provinces
    assert admin1_code("PAK", "Atlantis") is None


NAMES = {"PK-KP": "Khyber Pakhtunkhwa", "PK-BA": "Balochistan", "PK-SD": "Sindh", "PK-PB": "Punjab",
         "PK-GB": "Gilgit-Baltistan", "PK-IS": "Islamabad", "PK-TA": "Federally Administered Tribal Areas"}


def test_a_timeline_by_province_groups_by_the_unit_not_the_spelling(url: str) -> None:
    expected = raw_counts()
    frame = api.timeline(url, freq="year", by="admin1")
    by_unit = frame.groupby("group")["incidents"].sum().to_dict()
    assert by_unit == {**{NAMES[code]: count for code, count in expected.items()}, "(no province)": 2}
    today = api.timeline(url, freq="year", by="admin1", as_today=True).groupby("group")["incidents"].sum()
    assert int(today["Khyber Pakhtunkhwa"]) == expected["PK-KP"] + expected["PK-TA"]
    assert "Federally Administered Tribal Areas" not in today.index


def test_a_groups_top_provinces_are_units_not_spellings(url: str) -> None:
    named = {province for provinces in api.summary(url)["top_provinces"] for province in provinces}
    assert named and named <= set(NAMES.values())  # never UCDP's 'Khyber Pakhtunkwa' beside 'Khyber Pakhtunkhwa'


def test_a_district_is_found_with_or_without_its_agency_or_district_word(url: str) -> None:
    import yaml

    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        ucdp = sum(1 for row in csv.DictReader(handle) if row["adm_2"] in ("Bajaur agency", "Bajaur district"))
    seed = sum(1 for incident in yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))["incidents"]
               if incident["location"].get("admin2") == "Bajaur")
    assert ucdp and seed
    for name in ("Bajaur", "bajaur agency", "Bajaur District"):
        assert api.incidents(url, admin2=name, limit=1)[1] == ucdp + seed, name
    with pytest.raises(NotFoundError, match="Did you mean: Bajaur"):
        api.incidents(url, admin2="Bajuar")  # a slip; "Bajur", the wire spelling, is known


# ----------------------------------------------------------------------- districts, towns, points, GeoJSON

TOWNS_FILE = FIXTURES / "geonames_towns_pk_af.csv"


def town_row(name: str) -> dict[str, str]:
    """The gazetteer file's row for the one Pakistani town `name`, read here from the file itself."""
    with TOWNS_FILE.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["country"] == "PK" and row["name"] == name]
    assert len(rows) == 1
    return rows[0]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def raw_points() -> list[tuple[str, float, float]]:
    """(place, latitude, longitude) of every incident of the three files that gives coordinates."""
    import yaml

    points = []
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        points += [(row["where_coordinates"], float(row["latitude"]), float(row["longitude"]))
                   for row in csv.DictReader(handle) if row["latitude"]]
    with GTD_FILE.open(encoding="latin-1", newline="") as handle:
        points += [(row["city"], float(row["latitude"]), float(row["longitude"]))
                   for row in csv.DictReader(handle) if row["latitude"]]
    for incident in yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))["incidents"]:
        location = incident["location"]
        if location.get("latitude") is not None:
            points.append((location.get("place") or "", location["latitude"], location["longitude"]))
    return points


def test_resolve_place_finds_the_town_in_its_district() -> None:
    khar = town_row("Khar")
    found = resolve_place("Khar, Bajaur")
    assert found is not None and found.kind == "town" and found.score == 1.0
    assert (found.admin1_code, found.admin2_code) == ("PK-KP", "PK-KP:bajaur")
    assert (found.latitude, found.longitude) == (float(khar["latitude"]), float(khar["longitude"]))
    assert resolve_place("Khar, Balochistan") is None  # the context contradicts the only Khar
    assert resolve_place("Quetta district").kind == "district"  # type: ignore[union-attr]
    assert resolve_place("Baluchistan").admin1_code == "PK-BA"  # type: ignore[union-attr]
    near = resolve_place("Kharr, Bajaur")  # a near spelling scores less than the name itself
    assert near is not None and near.name == "Khar" and 0.85 <= near.score < 1.0
    assert resolve_place("Xyzzyville") is None


def test_a_district_is_one_code_however_spelt_and_a_timeline_groups_by_it(url: str) -> None:
    import yaml

    assert district_code("PAK", "PK-TA", "Bajaur agency") == district_code("PAK", "PK-KP", "Bajaur") == "PK-KP:bajaur"
    assert district_code("PAK", "PK-BA", "Killa Abdullah district") == "PK-BA:qila-abdullah"  # GeoNames: Qila
    assert district_code("PAK", "PK-BA", "Bajaur") is None  # not a district of Balochistan
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        ucdp = sum(1 for row in csv.DictReader(handle) if row["adm_2"] == "Bajaur agency")
    seed = sum(1 for incident in yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))["incidents"]
               if incident["location"].get("admin2") == "Bajaur")
    frame = api.timeline(url, freq="year", by="admin2")
    totals = frame.groupby("group")["incidents"].sum()
    assert int(totals[district("PK-KP:bajaur").name]) == ucdp + seed  # type: ignore[union-attr]


def test_typed_coordinates_are_kept_and_a_named_place_gets_the_gazetteers(url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = {(row.origin_id, row.latitude, row.longitude, row.geo_precision) for row in connection.execute(text(
            "SELECT i.origin_id, l.latitude, l.longitude, l.geo_precision FROM incidents i "
            "JOIN locations l ON l.id = i.location_id WHERE i.origin_dataset = 'ucdp'"))}
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        raw = {row["id"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(handle)}
    assert {origin: (lat, lon) for origin, lat, lon, _ in stored} == raw  # not one point moved
    assert not any(precision and precision.startswith("gazetteer") for *_, precision in stored)

    # Recorded from an article naming the town and district but no coordinates: the gazetteer's point, said so.
    khar = town_row("Khar")
    key = api.add(url, date="2019-03-01", country="PAK", admin1="Khyber Pakhtunkhwa", admin2="Bajaur",
                  place="Khar", citation="A test note, not a source of facts", new=True)["key"]
    place = api.show(url, key)["location"]
    assert (place["latitude"], place["longitude"]) == (float(khar["latitude"]), float(khar["longitude"]))
    assert place["geo_precision"] == "gazetteer_place"
    # The gazetteer's point follows the place when it is edited; typed coordinates replace it and are kept.
    mastung = town_row("Mastung")
    api.set_field(url, key, "place", "Mastung", why="test")
    api.set_field(url, key, "admin2", "", why="test")
    api.set_field(url, key, "admin1", "Balochistan", why="test")
    place = api.show(url, key)["location"]
    assert (place["latitude"], place["longitude"], place["geo_precision"]) == (
        float(mastung["latitude"]), float(mastung["longitude"]), "gazetteer_place")
    api.set_field(url, key, "coordinates", "29.8, 66.85", why="test")
    place = api.show(url, key)["location"]
    assert (place["latitude"], place["longitude"], place["geo_precision"]) == (29.8, 66.85, None)
    engine.dispose()


def test_near_counts_what_lies_within_the_radius_as_the_raw_files_put_it(url: str) -> None:
    quetta = town_row("Quetta")
    lat, lon = float(quetta["latitude"]), float(quetta["longitude"])
    for km in (10, 50, 150):
        expected = sum(1 for _, y, x in raw_points() if haversine_km(lat, lon, y, x) <= km)
        assert expected > 0
        assert api.incidents(url, near="Quetta", km=km, limit=1)[1] == expected, km
        assert api.incidents(url, near=f"{lat},{lon}", km=km, limit=1)[1] == expected, km
    inside = api.incidents(url, near="Quetta", km=50, admin1="Balochistan", limit=1)[1]
    assert inside <= api.incidents(url, near="Quetta", km=50, limit=1)[1]
    with pytest.raises(FieldError, match="province"):
        api.incidents(url, near="Balochistan")
    with pytest.raises(FieldError, match="did you mean Quetta"):
        api.incidents(url, near="Quetah")
    with pytest.raises(FieldError, match="km"):
        api.incidents(url, near="Quetta", km="-3")
    with pytest.raises(FieldError, match="needs near"):
        api.incidents(url, km=5)


def test_place_finds_the_place_as_the_sources_name_it(url: str) -> None:
    import re

    # UCDP writes 'Quetta town'; the importer keeps the name without a trailing town, village, district or
    # province (docs/formats.md), so that is the place as the sources name it.
    names = [re.sub(r"\s+(province|district|town|village)$", "", place.strip(), flags=re.IGNORECASE)
             for place, _, _ in raw_points()]
    expected = sum(1 for name in names if name.lower() == "quetta")
    assert expected > 0
    assert api.incidents(url, place="quetta", limit=1)[1] == expected
    with pytest.raises(NotFoundError, match="Did you mean: Quetta"):
        api.incidents(url, place="Quettta")


def test_reverse_geocoding_agrees_with_ucdps_own_provinces() -> None:
    """The province of the town nearest each precise UCDP point against the row's own adm_1 (FATA's points are
    Khyber Pakhtunkhwa's today, as GeoNames files them)."""
    agree = same_country = total = 0
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["adm_1"] and row["where_prec"] in ("1", "2"):
                found = nearest(float(row["latitude"]), float(row["longitude"]))
                assert found is not None
                total += 1
                same_country += found[0] == "PAK"  # a point by the Afghan border may be nearer an Afghan town
                agree += SPELLINGS[row["adm_1"]] in successors(found[1] or "")
    assert total > 500 and same_country / total >= 0.98 and agree / total >= 0.95, (same_country, agree, total)
    assert nearest(0.0, -150.0) is None  # the Pacific: no country is guessed
    assert nearest(28.6139, 77.209)[0] == "IND"  # type: ignore[index]  # New Delhi


def test_a_gtd_file_with_no_country_column_takes_each_rows_from_its_point(db_url: str, tmp_path: Path) -> None:
    with GTD_FILE.open(encoding="latin-1", newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = [name for name in rows[0] if name not in ("country", "country_txt")]
    copy = tmp_path / "gtd_no_country.csv"
    with copy.open("w", encoding="latin-1", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    result = api.import_file(db_url, copy, format="gtd")
    assert result.inserted == len(rows)
    assert any("no country column" in note for note in result.notes)  # the summary says how countries were told
    listed, total = api.incidents(db_url, limit=None)
    assert total == len(rows)
    assert {api.show(db_url, row["key"])["location"]["country"] for row in listed} == \
        {"PAK" for row in rows if row["country_txt"] == "Pakistan"}
    # A row without coordinates, or at sea, cannot say its country: the whole file is refused, naming line and
    # field.
    rows[3]["latitude"] = rows[3]["longitude"] = ""
    with copy.open("w", encoding="latin-1", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    rows[4]["latitude"], rows[4]["longitude"] = "0.0", "-150.0"  # the Pacific
    with copy.open("w", encoding="latin-1", newline="") as handle:
        writer = csv.DictWriter(handle, header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputError, match=r"csv:5: column latitude: .*country(.|\n)*csv:6: column latitude: .*"
                                         r"no country's outline"):
        api.import_file(db_url, copy, format="gtd")
    assert api.incidents(db_url, limit=1)[1] == total  # nothing half-done


def test_geojson_is_valid_rfc7946_and_leaves_no_incident_out_unsaid(url: str, tmp_path: Path) -> None:
    import json

    import shapely.geometry

    out = tmp_path / "incidents.geojson"
    written = api.export(url, "incidents", out)
    assert isinstance(written, api.Written)
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection" and "crs" not in collection
    listed, total = api.incidents(url, limit=None)
    assert written.features + len(written.without_coordinates) == total
    assert sorted(collection["without_coordinates"]) == sorted(written.without_coordinates)
    points = {(round(y, 6), round(x, 6)) for _, y, x in raw_points()}
    for feature in collection["features"]:
        shape = shapely.geometry.shape(feature["geometry"])
        assert shape.geom_type == "Point" and shape.is_valid
        assert -180 <= shape.x <= 180 and -90 <= shape.y <= 90
        assert (round(shape.y, 6), round(shape.x, 6)) in points  # longitude first, as RFC 7946 says
        assert {"geo_precision", "killed_low", "killed_best", "killed_high", "wounded_best"} <= set(
            feature["properties"])
    by_key = {row["key"]: row for row in listed}
    feature = collection["features"][0]
    assert feature["properties"]["killed_best"] == by_key[feature["id"]]["killed_best"]
    with pytest.raises(FieldError, match="provinces"):
        api.export(url, "groups", tmp_path / "groups.geojson")


def test_the_province_table_is_keyed_by_iso_code_and_counts_as_the_raw_files(url: str, tmp_path: Path) -> None:
    out = tmp_path / "provinces.csv"
    api.export(url, "provinces", out)
    with out.open(encoding="utf-8", newline="") as handle:
        table = {row["admin1_code"]: int(row["incidents"]) for row in csv.DictReader(handle)}
    expected = raw_counts()
    assert {code: count for code, count in table.items() if code} == dict(expected)
    assert table[""] == 2  # UCDP's two country-only events: no province is made up for them
    with (tmp_path / "today.csv").open("w"):
        pass
    api.export(url, "provinces", tmp_path / "today.csv", as_today=True)
    with (tmp_path / "today.csv").open(encoding="utf-8", newline="") as handle:
        today = {row["admin1_code"]: int(row["incidents"]) for row in csv.DictReader(handle)}
    assert "PK-TA" not in today and today["PK-KP"] == expected["PK-KP"] + expected["PK-TA"]


def test_the_migration_fills_codes_and_points_and_steps_back_down(empty_db_url: str) -> None:
    """A database at the revision before districts: its locations get district codes, the gazetteer's point where
    they had none, and a province from a precise point; stepping down takes exactly that away again."""
    from incidents.db.migrations import downgrade, upgrade
    from incidents.records import location_key

    engine = make_engine(empty_db_url)
    upgrade(engine, "2ade7b1b8261")
    rows = [  # (key, country, admin1, admin2, place, latitude, longitude, geo_precision)
        ("a", "PAK", "Khyber Pakhtunkhwa", "Bajaur", "Khar", None, None, "place"),
        ("b", "PAK", None, None, None, 32.93, 70.37, "place"),
        ("c", "PAK", "Balochistan", None, "Quetta", 30.0, 67.0, "exact"),
        ("d", "PAK", None, None, None, 30.0, 70.0, "country"),
    ]
    with engine.begin() as connection:
        for row in rows:
            row = (location_key(*row[1:7], row[7]), *row[1:])  # the key a stored location has
            values = dict(zip(("key", "country", "admin1", "admin2", "place", "lat", "lon", "precision"), row,
                              strict=True))
            connection.execute(text(  # admin1_code as that revision filled it: from admin1's spelling
                "INSERT INTO locations (key, country, admin1, admin1_code, admin2, place, latitude, longitude, "
                "geo_precision) VALUES (:key, :country, :admin1, :code, :admin2, :place, :lat, :lon, :precision)"),
                {**values, "code": admin1_code(row[1], row[2])})
    query = text("SELECT place, admin1_code, admin2_code, latitude, longitude, geo_precision FROM locations "
                 "ORDER BY id")
    old_columns = text("SELECT key, admin1_code, latitude, longitude, geo_precision FROM locations ORDER BY id")
    with engine.connect() as connection:
        before = connection.execute(old_columns).all()
    upgrade(engine)
    khar = town_row("Khar")
    with engine.connect() as connection:
        after = dict(zip("abcd", connection.execute(query), strict=True))
    assert (after["a"].admin2_code, after["a"].latitude, after["a"].longitude, after["a"].geo_precision) == (
        "PK-KP:bajaur", float(khar["latitude"]), float(khar["longitude"]), "gazetteer_place")
    assert after["b"].admin1_code == "PK-KP"  # from its point: between Bannu and Miran Shah
    assert (after["c"].latitude, after["c"].longitude, after["c"].geo_precision) == (30.0, 67.0, "exact")  # typed
    assert after["d"].admin1_code is None  # the middle of the country says no province
    downgrade(engine, "2ade7b1b8261")
    with engine.connect() as connection:
        assert connection.execute(old_columns).all() == before
    engine.dispose()


def _doc_block(language: str, starting: str) -> str:
    """The block of docs/places.md in `language` whose text starts with `starting` (the queries as written)."""
    text_of_doc = (Path(__file__).resolve().parents[1] / "docs" / "places.md").read_text(encoding="utf-8")
    import re

    blocks = re.findall(rf"^```{language}\n(.*?)^```", text_of_doc, flags=re.M | re.S)
    found = [line for block in blocks for line in (block.splitlines() if language == "bash" else [block])
             if line.startswith(starting)]
    assert len(found) == 1, (language, starting)
    return found[0]


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_the_geojson_queries_in_the_docs_read_the_file(url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    import json
    import subprocess

    from sqlalchemy.engine import make_url

    out = tmp_path / "incidents.geojson"
    written = api.export(url, "incidents", out)
    assert isinstance(written, api.Written)
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    expected = sorted((f["id"], f["geometry"]["coordinates"][1], f["geometry"]["coordinates"][0]) for f in features)
    assert len(expected) == written.features > 700

    sqlite_line = _doc_block("bash", "sqlite3 :memory:")
    result = subprocess.run(["bash", "-c", sqlite_line], cwd=tmp_path, capture_output=True, text=True, check=True)
    rows = [line.split("|") for line in result.stdout.splitlines()]
    assert sorted((key, float(lat), float(lon)) for key, _, lat, lon in rows) == expected

    server = request.getfixturevalue("pg_server")  # psql against the test server (a failure in CI if it is down)
    address = make_url(str(server.url.render_as_string(hide_password=False)))
    script = tmp_path / "geojson.sql"
    script.write_text(_doc_block("psql", "\\set geojson"), encoding="utf-8")
    result = subprocess.run(
        ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", address.host or "127.0.0.1",
         "-p", str(address.port or 5432), "-U", address.username or "postgres", "-d", address.database or "postgres",
         "-f", str(script)], cwd=tmp_path, capture_output=True, text=True, check=True)
    rows = [line.split("|") for line in result.stdout.splitlines() if line]
    assert sorted((key, float(lat), float(lon)) for key, _, lat, lon in rows) == expected


# ------------------------------------------------------------- what a hostile review of the places work found


def test_a_points_country_agrees_with_geonames_the_world_over() -> None:
    """Every 40th GeoNames town of the world against the country its outline says (Russia's and Fiji's outlines
    cross the 180th meridian: before, every point of their latitudes, Iceland's and Finland's too, was theirs)."""
    import gzip

    with gzip.open(FIXTURES / "geonames_world_points.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        towns = list(csv.DictReader(handle))[::40]
    placed = agree = 0
    for town in towns:
        found = country_at(float(town["latitude"]), float(town["longitude"]))
        if found is not None:  # a coastal town may lie outside a 1:50m outline
            placed += 1
            agree += found == getattr(pycountry.countries.get(alpha_2=town["country"]), "alpha_3", None)
    assert placed > 0.95 * len(towns) and agree > 0.98 * placed, (len(towns), placed, agree)
    iceland = [t for t in towns if t["country"] == "IS"]
    assert iceland and all(country_at(float(t["latitude"]), float(t["longitude"])) in ("ISL", None) for t in iceland)
    assert nearest(math.nan, 0.0) is None and nearest(0.0, math.inf) is None


def test_odd_names_and_values_get_an_answer_not_an_exception() -> None:
    assert resolve_place(None) is None and resolve_place(123) is None and resolve_place(" , ,") is None  # type: ignore[arg-type]
    assert resolve_places("Quetta", country="pak")[0].name == "Quetta"
    assert resolve_places("Quetta", country="Atlantis") == [] and resolve_places("Quetta", most=0) == []
    peshawar = resolve_place("Peshawar, KP")  # KP is Khyber Pakhtunkhwa here, not North Korea
    assert peshawar is not None and peshawar.admin1_code == "PK-KP" and peshawar.score == 1.0


def test_a_place_given_without_a_province_gets_the_gazetteers(url: str) -> None:
    before = api.incidents(url, admin1="PK-BA", limit=1)[1]
    key = api.add(url, date="2019-03-02", country="PAK", place="Quetta", citation="A test note, not a source",
                  new=True)["key"]
    location = api.show(url, key)["location"]
    assert location["geo_precision"] == "gazetteer_place"
    assert api.incidents(url, admin1="PK-BA", limit=1)[1] == before + 1  # counted in Balochistan


def test_the_gazetteers_precision_is_never_typed_and_its_point_comes_back_after_a_round_trip(
        url: str, tmp_path: Path) -> None:
    with pytest.raises(FieldError, match="gazetteer's own precision"):
        api.add(url, date="2019-03-03", country="PAK", place="Quetta", latitude=30.5, longitude=67.5,
                geo_precision="gazetteer_place", citation="A test note, not a source", new=True)
    key = api.add(url, date="2019-03-03", country="PAK", admin1="Punjab", place="Lahore",
                  citation="A test note, not a source", new=True)["key"]
    with pytest.raises(FieldError, match="gazetteer's own precision"):
        api.set_field(url, key, "geo_precision", "gazetteer_district", why="test")
    for bad in ("30,", ",67", "30"):
        with pytest.raises(FieldError, match="coordinates"):
            api.set_field(url, key, "coordinates", bad, why="test")
    shown = api.show(url, key)["location"]
    out = tmp_path / "all.csv"
    api.export(url, "incidents", out)
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    api.init(copy)
    api.import_file(copy, out)
    again = api.show(copy, key)["location"]
    assert {k: again[k] for k in ("latitude", "longitude", "geo_precision")} == \
        {k: shown[k] for k in ("latitude", "longitude", "geo_precision")} and shown["geo_precision"] == "gazetteer_place"
    engine = make_engine(copy)
    with engine.connect() as connection:
        codes = connection.execute(text("SELECT DISTINCT l.admin2_code FROM incidents i JOIN locations l "
                                        "ON l.id = i.location_id WHERE i.key = :key"), {"key": key}).scalars().all()
    engine.dispose()
    assert codes == ["PK-PB:lahore"]


def test_near_takes_no_near_spelling_and_blank_filters_are_refused(url: str) -> None:
    with pytest.raises(FieldError, match="near"):
        api.incidents(url, near="Delhi")  # no Pakistani or Afghan town is Delhi; Dehi is not taken for it
    with pytest.raises(FieldError, match="blank"):
        api.incidents(url, place="  ")
    with pytest.raises(FieldError, match="blank"):
        api.incidents(url, admin1="")
    with pytest.raises(FieldError, match="blank"):
        api.incidents(url, admin2=" ")


def test_a_timeline_by_district_leaves_no_incident_out(url: str) -> None:
    total = api.incidents(url, limit=1)[1]
    for by in ("admin1", "admin2"):
        frame = api.timeline(url, freq="year", by=by)
        assert int(frame["incidents"].sum()) == total, by


def test_a_district_is_found_by_the_gazetteers_spelling_too(url: str) -> None:
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        killa = sum(1 for row in csv.DictReader(handle) if row["adm_2"] == "Killa Abdullah district")
    assert killa > 0
    assert api.incidents(url, admin2="Qila Abdullah", limit=1)[1] == killa  # GeoNames' spelling of UCDP's district
    assert api.incidents(url, admin2="Killa Abdullah", limit=1)[1] == killa
