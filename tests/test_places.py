"""Places: first-level units found by any spelling or ISO 3166-2 code, stored as codes beside the text the
source gave, and --admin1 answering by the unit, not the spelling. Expected counts are computed here from the
raw files' own province columns, through a spelling table written here, not the gazetteer's."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from sqlalchemy import text

from incidents import api
from incidents.db.engine import make_engine
from incidents.errors import NotFoundError
from incidents.gazetteer import admin1_code, resolve_admin1, successors

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


def raw_counts() -> Counter[str]:
    """Incidents per ISO code, from the raw files: UCDP's adm_1, GTD's provstate, the seed fixture's admin1."""
    import yaml

    counts: Counter[str] = Counter()
    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        counts.update(SPELLINGS[row["adm_1"]] for row in csv.DictReader(handle) if row["adm_1"])
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
    engine.dispose()
    assert uncoded == []
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
    assert by_unit == {NAMES[code]: count for code, count in expected.items()}
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
        api.incidents(url, admin2="Bajur")
