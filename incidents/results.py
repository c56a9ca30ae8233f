"""The typed shapes a Python caller gets back from incidents.Database: one incident in full, its reports and
sources, its actors, and the outcome of an edit. Built from the JSON-ready dicts the command line prints."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ActorPart", "Added", "Change", "Figures", "Incident", "Place", "Report", "Source", "Withdrawal"]


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Figures:
    """Killed or wounded: the range over the settled reports, the best estimate, and which reports give each."""

    low: int | None
    best: int | None
    high: int | None
    best_chosen_by_analyst: bool
    according_to: dict[str, list[str]] = field(default_factory=dict)  # 'low' / 'best' / 'high' -> sources

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Figures:
        return cls(low=data["low"], best=data["best"], high=data["high"],
                   best_chosen_by_analyst=bool(data.get("best_chosen_by_analyst")),
                   according_to=data.get("according_to") or {})


@dataclass(frozen=True)
class Place:
    """Where: ISO 3166-1 alpha-3 country, province, district, place, and coordinates with their precision."""

    country: str
    admin1: str | None
    admin2: str | None
    place: str | None
    latitude: float | None
    longitude: float | None
    geo_precision: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Place:
        return cls(**data)


@dataclass(frozen=True)
class Source:
    """An article, document or dataset record; `id` names it to `report delete` and `--source`."""

    id: int
    url: str | None
    citation: str | None
    outlet: str | None
    title: str | None
    published_on: dt.date | None
    kind: str | None
    dataset: str | None
    record_id: str | None
    full_text_sha256: str | None
    dataset_release: str | None = None  # a dataset record's release, as `import --release` named it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        return cls(**{**data, "published_on": _day(data["published_on"])})


@dataclass(frozen=True)
class Withdrawal:
    """When, by whom and why a record or report was withdrawn (`incidents delete`, `incidents report delete`)."""

    at: dt.datetime
    by: str | None
    why: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Withdrawal | None:
        return None if data is None else cls(at=dt.datetime.fromisoformat(data["at"]), by=data["by"], why=data["why"])


@dataclass(frozen=True)
class Report:
    """One source's account of the incident, as the source stated it."""

    source: Source
    reported_on: dt.date | None
    killed: int | None
    killed_low: int | None  # a range the source gives ("50-60"), where it gives one
    killed_high: int | None
    killed_at_least: bool
    wounded: int | None
    wounded_low: int | None
    wounded_high: int | None
    wounded_at_least: bool
    perpetrators_killed: int | None
    preliminary: bool
    perpetrator_stated: str | None
    attribution: str | None
    excerpt: str | None
    excerpt_verified: bool | None  # found in the source's stored text (True), not found (False), or no text (None)
    note: str | None
    withdrawn: Withdrawal | None  # `incidents report delete`: kept, out of the figures

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(**{**data, "source": Source.from_dict(data["source"]), "reported_on": _day(data["reported_on"]),
                      "withdrawn": Withdrawal.from_dict(data["withdrawn"])})


@dataclass(frozen=True)
class ActorPart:
    """An actor's part in the incident: perpetrator, target or party, how sure, and on whose word."""

    actor: str
    parent: str | None
    role: str
    attribution: str | None
    source: str | None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActorPart:
        return cls(**data)


@dataclass(frozen=True)
class Incident:
    """One attack in full. `date` is as precise as it is known ('2023', '2023-07' or '2023-07-30');
    `as_of` is set when the answer is what was known at the end of that day."""

    key: str
    title: str | None
    date: str
    date_start: dt.date
    date_end: dt.date | None
    date_precision: str
    location: Place | None
    attack_type: str | None
    target_type: str | None
    weapon_type: str | None
    suicide: bool | None
    status: str
    summary: str | None
    killed: Figures
    wounded: Figures
    perpetrators_killed: int | None
    origin: str | None  # 'ucdp 274819' for a dataset's record
    actors: list[ActorPart]
    reports: list[Report]
    merged_into: str | None
    merged: list[str]  # the keys of records merged into this one
    withdrawn: Withdrawal | None  # `incidents delete`: out of every listing, count, view and export
    created_at: dt.datetime
    updated_at: dt.datetime
    as_of: dt.date | None = None

    @property
    def perpetrators(self) -> list[ActorPart]:
        return [part for part in self.actors if part.role == "perpetrator"]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Incident:
        origin = data.get("origin")
        return cls(
            key=data["key"], title=data["title"], date=data["date"],
            date_start=dt.date.fromisoformat(data["date_start"]),
            date_end=_day(data["date_end"]), date_precision=data["date_precision"],
            location=Place.from_dict(data["location"]) if data["location"] else None,
            attack_type=data["attack_type"], target_type=data["target_type"], weapon_type=data["weapon_type"],
            suicide=data["suicide"], status=data["status"], summary=data["summary"],
            killed=Figures.from_dict(data["killed"]), wounded=Figures.from_dict(data["wounded"]),
            perpetrators_killed=data["perpetrators_killed"],
            origin=f"{origin['dataset']} {origin['id']}" if origin else None,
            actors=[ActorPart.from_dict(part) for part in data["actors"]],
            reports=[Report.from_dict(report) for report in data["reports"]],
            merged_into=data["merged_into"], merged=[item["key"] for item in data["merged"]],
            withdrawn=Withdrawal.from_dict(data["withdrawn"]),
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            updated_at=dt.datetime.fromisoformat(data["updated_at"]),
            as_of=_day(data.get("as_of")),
        )


@dataclass(frozen=True)
class Added:
    """A new incident: its key, and the actors its perpetrator names created in the registry."""

    key: str
    created_actors: list[str]


@dataclass(frozen=True)
class Change:
    """One field changed by an analyst: old and new value."""

    key: str
    field: str
    old: object
    new: object
