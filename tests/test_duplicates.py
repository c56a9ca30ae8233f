"""`duplicates` finds exactly the pairs its rules name: checked against a brute-force reading of those rules (every
pair of records compared, distances computed here) on random records, so a faster search cannot drop or invent a
pair. The rules are in incidents/curation/duplicates.py's module doc."""

from __future__ import annotations

import math
import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from incidents import api
from incidents.curation.duplicates import SAME_DISTRICT_KM_FACTOR, candidate_pairs
from incidents.db.engine import make_engine, session_factory
from incidents.errors import FieldError
from incidents.models import Incident, Location

PLACES = [None, "Quetta", "Mastung", "Kalat"]  # admin1 and admin2 values, plain names (no 'district' to drop)
record = st.fixed_dictionaries({
    "country": st.sampled_from(["PAK", "AFG"]),
    "day": st.integers(0, 12),
    "precision": st.sampled_from(["day", "day", "day", "month"]),
    "coords": st.none() | st.tuples(st.floats(29.0, 31.0), st.floats(66.0, 68.0)),
    "admin1": st.sampled_from(PLACES),
    "admin2": st.sampled_from(PLACES),
    "dataset": st.sampled_from([None, None, "GTD", "UCDP"]),
    "killed": st.none() | st.integers(0, 60),
})


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, point)) for point in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _interval(record: dict) -> tuple[date, date]:
    """The days a record's date stands for: its day, or from its date to the end of its month."""
    start = date(2021, 3, 1) + timedelta(days=record["day"])
    if record["precision"] == "day":
        return start, start
    following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start, following - timedelta(days=1)


def _coarse_pair(a: dict, b: dict, km: float) -> bool:
    """The rule for a pair with a month-dated record: overlapping dates, and, looked up from a coarse record of
    the two, the same district, or (when that record names none) both placed within km."""
    (start_a, end_a), (start_b, end_b) = _interval(a), _interval(b)
    if start_a > end_b or start_b > end_a:
        return False
    for looker, other in ((a, b), (b, a)):
        if looker["precision"] == "day":
            continue
        if looker["admin2"] is not None and looker["admin2"] == other["admin2"]:
            return True
        if looker["admin2"] is None and looker["coords"] and other["coords"] and _km(looker["coords"],
                                                                                   other["coords"]) <= km:
            return True
    return False


def expected_pairs(records: list[dict], days: int, km: float) -> dict[frozenset[str], int]:
    """Every pair the rules name, with its days apart, found by comparing each record with each other."""
    found = {}
    for i, a in enumerate(records):
        for b in records[i + 1:]:
            if a["country"] != b["country"] or (a["dataset"] and a["dataset"] == b["dataset"]):
                continue
            if a["precision"] != "day" or b["precision"] != "day":
                if _coarse_pair(a, b, km):
                    found[frozenset((a["key"], b["key"]))] = 0
                continue
            apart = abs(a["day"] - b["day"])
            if apart > days or (a["dataset"] and a["dataset"] == b["dataset"]):
                continue
            same2 = a["admin2"] is not None and a["admin2"] == b["admin2"]
            same1 = a["admin1"] is not None and a["admin1"] == b["admin1"]
            if a["coords"] and b["coords"]:
                distance = _km(a["coords"], b["coords"])
                near = distance <= km or (same2 and distance <= SAME_DISTRICT_KM_FACTOR * km)
            else:
                near = same2 or same1
            if near:
                found[frozenset((a["key"], b["key"]))] = apart
    return found


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('duplicates') / 'incidents.db'}"
    api.init(url, registry=False)
    return url


@settings(max_examples=1000 if os.environ.get("INCIDENTS_LONG") == "1" else 60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(record, max_size=25), days=st.integers(0, 4), km=st.sampled_from([5.0, 25.0, 80.0]))
def test_the_search_finds_exactly_the_pairs_the_rules_name(database: str, records: list[dict], days: int,
                                                           km: float) -> None:
    engine = make_engine(database)
    try:
        with session_factory(engine)() as session, session.begin():
            session.execute(delete(Incident))
            session.execute(delete(Location))
            for number, item in enumerate(records):
                item["key"] = f"R{number:02d}"
                location = Location(key=f"L{number}", country=item["country"], admin1=item["admin1"],
                                    admin2=item["admin2"], latitude=item["coords"] and item["coords"][0],
                                    longitude=item["coords"] and item["coords"][1])
                session.add(location)
                session.flush()
                session.add(Incident(key=item["key"], date_start=date(2021, 3, 1) + timedelta(days=item["day"]),
                                     date_precision=item["precision"], location_id=location.id,
                                     origin_dataset=item["dataset"], killed_best=item["killed"]))
        with session_factory(engine)() as session:
            pairs = candidate_pairs(session, days=days, km=km, limit=None)
    finally:
        engine.dispose()
    got = {frozenset((pair.a, pair.b)): pair.days_apart for pair in pairs}
    assert len(got) == len(pairs)  # no pair twice
    assert got == expected_pairs(records, days, km)
    same_day = [pair for pair in pairs if pair.days_apart == 0]
    assert all(pair.a < pair.b for pair in same_day)  # a same-day pair is named in key order


def test_the_search_is_bounded_before_it_takes_the_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 records on one spot and day: 435 pairs, from 900 comparisons. A merge is made in parts of at most
    MERGE_ROWS (give or take one record's matches) and finds the same pairs; a search that would compare past
    the bound is refused before any merge is made; one that would find past it, as soon as it has."""
    import pandas as pd

    from incidents.curation import duplicates

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    for number in range(30):
        api.add(url, date="2021-03-01", country="PAK", citation=f"test record {number}", latitude=30, longitude=67)
    whole = api.duplicates(url, days=0, limit=None)
    assert len(whole) == 30 * 29 // 2
    merged: list[int] = []
    real_merge = pd.DataFrame.merge

    def counting_merge(self: pd.DataFrame, *args: object, **kwargs: object) -> pd.DataFrame:
        result = real_merge(self, *args, **kwargs)
        merged.append(len(result))
        return result

    monkeypatch.setattr(pd.DataFrame, "merge", counting_merge)
    monkeypatch.setattr(duplicates, "MERGE_ROWS", 100)
    assert api.duplicates(url, days=0, limit=None) == whole
    assert len(merged) > 5 and max(merged) <= 100 + 30, merged
    merged.clear()
    monkeypatch.setenv("INCIDENTS_MAX_CANDIDATE_PAIRS", "10")  # compares at most 500 pairs of records
    with pytest.raises(FieldError, match="would compare more than 500 pairs of records; narrow.*INCIDENTS_MAX_CANDIDATE_"):
        api.duplicates(url, days=0, limit=None)
    assert merged == []  # refused before any merge
    monkeypatch.setenv("INCIDENTS_MAX_CANDIDATE_PAIRS", "100")
    with pytest.raises(FieldError, match="gives more than 100 candidate pairs; narrow"):
        api.duplicates(url, days=0, limit=None)
