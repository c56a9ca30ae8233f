"""What `incidents extract` proposes: one attack an article reports, every field with the sentence it rests on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Evidence:
    """The sentence a field rests on, and where it is in the article."""

    field: str
    value: Any
    sentence: str
    start: int
    end: int


@dataclass
class Perpetrator:
    name: str  # the registry's name
    attribution: str  # claimed, attributed, suspected or denied
    from_context: bool = False
    stated: str | None = None  # as the article spells it ('ISKP'), which a report keeps


@dataclass
class Proposal:
    """One attack the article reports."""

    date: str | None = None  # at its precision: 2023, 2023-07 or 2023-07-30
    date_precision: str | None = None
    place: str | None = None
    admin2: str | None = None
    admin1: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    place_score: float | None = None
    killed: int | None = None
    killed_at_least: bool = False
    killed_low: int | None = None  # the low end of a range the article gives ('50-60'); killed is the high end
    wounded: int | None = None
    wounded_at_least: bool = False
    attack_type: str | None = None
    target: str | None = None
    perpetrators: list[Perpetrator] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    attackers_killed: int | None = None  # the attackers' own dead, when the text tells them apart

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date, "date_precision": self.date_precision, "place": self.place, "admin2": self.admin2,
            "admin1": self.admin1, "country": self.country, "latitude": self.latitude, "longitude": self.longitude,
            "place_score": self.place_score, "killed": self.killed, "killed_at_least": self.killed_at_least,
            "killed_low": self.killed_low,
            "wounded": self.wounded, "wounded_at_least": self.wounded_at_least,
            "attackers_killed": self.attackers_killed, "attack_type": self.attack_type,
            "target": self.target,
            "perpetrators": [vars(p) for p in self.perpetrators],
            "evidence": [vars(e) for e in self.evidence],
        }
