"""The database itself refuses rows that would corrupt the record, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from incidents.models import Actor, ActorAlias, Incident, IncidentActor, Location

GOOD_INCIDENT: dict[str, Any] = {
    "key": "K", "date_start": date(2018, 7, 13), "date_precision": "day", "status": "confirmed",
    "killed_low": 128, "killed_best": 149, "killed_high": 149, "killed_best_manual": False,
    "wounded_best_manual": False,
}

BAD_INCIDENTS = {
    "negative killed": {"killed_low": -1},
    "low above best": {"killed_low": 150},
    "best above high": {"killed_best": 150, "killed_high": 149, "killed_low": 1},
    "negative wounded": {"wounded_best": -5},
    "wounded low above high": {"wounded_low": 10, "wounded_high": 5},
    "negative perpetrators killed": {"perpetrators_killed": -1},
    "end before start": {"date_end": date(2018, 7, 12)},
    "unknown precision": {"date_precision": "week"},
    "unknown status": {"status": "rumoured"},
}


def _insert(engine: Engine, model: Any, **values: Any) -> int:
    with engine.begin() as connection:
        return int(connection.execute(insert(model).values(**values).returning(model.id)).scalar_one())


def test_a_valid_incident_is_accepted(engine: Engine) -> None:
    assert _insert(engine, Incident, **GOOD_INCIDENT) > 0


@pytest.mark.parametrize("change", BAD_INCIDENTS.values(), ids=BAD_INCIDENTS.keys())
def test_bad_incident_rows_are_refused(engine: Engine, change: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError):
        _insert(engine, Incident, **{**GOOD_INCIDENT, **change})


def test_origin_is_unique_per_dataset(engine: Engine) -> None:
    _insert(engine, Incident, **{**GOOD_INCIDENT, "origin_dataset": "ucdp", "origin_id": "274819"})
    _insert(engine, Incident, **{**GOOD_INCIDENT, "key": "K3", "origin_dataset": "gtd", "origin_id": "274819"})
    with pytest.raises(IntegrityError):
        _insert(engine, Incident, **{**GOOD_INCIDENT, "key": "K2", "origin_dataset": "ucdp", "origin_id": "274819"})


GOOD_LOCATION = {"key": "k", "country": "PAK", "latitude": 29.9, "longitude": 66.75}


@pytest.mark.parametrize(
    "change",
    [{"latitude": 90.5}, {"latitude": -91.0}, {"longitude": 180.5}, {"longitude": None}, {"country": "PK"},
     {"geo_precision": "street"}],
    ids=["lat>90", "lat<-90", "lon>180", "lat without lon", "alpha-2 country", "unknown precision"],
)
def test_bad_locations_are_refused(engine: Engine, change: dict[str, Any]) -> None:
    _insert(engine, Location, **GOOD_LOCATION)  # control: the good row goes in
    with pytest.raises(IntegrityError):
        _insert(engine, Location, **{**GOOD_LOCATION, "key": "other", **change})


def test_normalized_alias_is_unique_within_a_dataset(engine: Engine) -> None:
    first = _insert(engine, Actor, name="Islamic State", kind="group")
    second = _insert(engine, Actor, name="Islamic State Khorasan Province", kind="group")
    _insert(engine, ActorAlias, actor_id=first, alias="IS", normalized="is", dataset="")
    _insert(engine, ActorAlias, actor_id=second, alias="IS", normalized="is", dataset="ucdp")  # scoped: allowed
    with pytest.raises(IntegrityError):
        _insert(engine, ActorAlias, actor_id=second, alias="I.S.", normalized="is", dataset="")


def test_attribution_and_role_are_checked(engine: Engine) -> None:
    actor = _insert(engine, Actor, name="TTP", kind="group")
    incident = _insert(engine, Incident, **GOOD_INCIDENT)
    _insert(engine, IncidentActor, incident_id=incident, actor_id=actor, role="perpetrator", attribution="claimed")
    with pytest.raises(IntegrityError):
        _insert(engine, IncidentActor, incident_id=incident, actor_id=actor, role="target", attribution="rumoured")
    with pytest.raises(IntegrityError):
        _insert(engine, IncidentActor, incident_id=incident, actor_id=actor, role="bystander")


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    """SQLite ignores foreign keys unless every connection turns them on; make_engine does."""
    with pytest.raises(IntegrityError):
        _insert(engine, IncidentActor, incident_id=999, actor_id=999, role="perpetrator")


@pytest.mark.parametrize(
    "change", [{"killed_low": 10, "killed": 5}, {"killed": 50, "killed_high": 40}, {"killed_low": -1}],
    ids=["low above killed", "killed above high", "negative low"],
)
def test_report_ranges_are_checked(engine: Engine, change: dict[str, Any]) -> None:
    from incidents.models import Report, Source

    incident = _insert(engine, Incident, **GOOD_INCIDENT)
    source = _insert(engine, Source, kind="article", citation="c")
    good = {"incident_id": incident, "source_id": source, "killed": 149, "killed_low": 149, "killed_high": 149,
            "killed_at_least": False, "wounded_at_least": False, "preliminary": False}
    _insert(engine, Report, **good)
    other = _insert(engine, Source, kind="article", citation="d")
    with pytest.raises(IntegrityError):
        _insert(engine, Report, **{**good, "source_id": other, **change})
