"""`incidents duplicates`: pairs of records that may be one attack reported twice, best candidates first.

Candidates: two live (unmerged) records in the same country, both dated to the day, at most `days` apart,
not two rows of one dataset (GTD, UCDP and ACLED each record separate events apart, even on one day and
place), and near each other: with coordinates on both sides, within `km` (or 4 x km in the same district,
for datasets that place an event at its district's centre); otherwise in the same district (admin2) or
province (admin1).

Each pair is scored from 0 to 1, the weighted sum of four similarities:
  date   0.30   1 on the same day, falling linearly to 0 at days + 1 apart
  place  0.30   1 at the same spot, falling linearly to 0 at km; the same district counts as 1, the same
                province as 0.5 (whichever is higher)
  actor  0.20   1 if they share a perpetrator (sub-groups counted as their top-level parent: ISKP is IS),
                0 if both name perpetrators and none is shared, 0.5 if either names none
                (an "Unknown"/unidentified actor names none)
  toll   0.20   1 - |a - b| / max(a, b) on the best killed figures; 0.5 if either is unknown
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.analysis.filters import Filters, counted_link
from incidents.analysis.sql import frame_of
from incidents.errors import FieldError, option
from incidents.models import Actor, ActorKind, Incident, IncidentActor, Location, Role
from incidents.records import normalize_name

WEIGHTS = {"date": 0.30, "place": 0.30, "actor": 0.20, "toll": 0.20}
MAX_DAYS, MAX_KM = 366, 1000.0  # the widest window `duplicates` searches
MAX_CANDIDATE_PAIRS = 5_000_000  # pairs held before scoring (about 1 GB); a wider search is refused
SAME_DISTRICT_KM_FACTOR = 4  # two records in one district may be this many times --km apart (centroids)
DISTRICT_WORDS = {"district", "agency", "province", "division", "tehsil", "town", "city"}


@dataclass
class Pair:
    score: float
    a: str
    b: str
    days_apart: int
    km_apart: float | None
    same_admin2: bool
    shared_perpetrators: list[str]
    killed_a: int | None
    killed_b: int | None
    date_score: float
    place_score: float
    actor_score: float
    toll_score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _area(name: Any) -> str:
    """'Mastung district' and 'Mastung' are one district; 'Orakzai agency' and 'Orakzai' too."""
    if not isinstance(name, str):
        return ""
    words = [w for w in normalize_name(name).split() if w not in DISTRICT_WORDS]
    return " ".join(words)


def _roots(session: Session) -> dict[int, tuple[int, str]]:
    """Each actor's top-level ancestor (id, name)."""
    actors = {i: (p, n) for i, p, n in session.execute(select(Actor.id, Actor.parent_id, Actor.name))}
    roots: dict[int, tuple[int, str]] = {}
    for actor_id in actors:
        current, seen = actor_id, set()
        while actors[current][0] is not None and current not in seen:
            seen.add(current)
            current = actors[current][0]  # type: ignore[assignment]
        roots[actor_id] = (current, actors[current][1])
    return roots


def candidate_pairs(session: Session, days: int = 3, km: float = 25.0, limit: int | None = 50,
                    min_score: float = 0.0) -> list[Pair]:
    """Candidate duplicate pairs, best first (see the module doc for the rules). `days` and `km` are bounded
    (MAX_DAYS, MAX_KM): wider windows pair everything with everything, which is no search for duplicates."""
    if not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
        raise FieldError("days", days, f"is not a whole number of days from 0 to {MAX_DAYS}")
    if not math.isfinite(km) or not 0 < km <= MAX_KM:
        raise FieldError("km", km, f"is not a distance above 0 and at most {MAX_KM} km")
    frame = frame_of(session, select(
        Incident.id, Incident.key, Incident.date_start, Incident.origin_dataset, Incident.killed_best,
        Location.country, Location.admin1, Location.admin2, Location.latitude, Location.longitude,
    ).join(Location, Location.id == Incident.location_id)
     .where(Incident.merged_into_id.is_(None), Incident.date_precision == "day"),
        ["id", "key", "date", "dataset", "killed", "country", "admin1", "admin2", "lat", "lon"])
    if frame.empty:
        return []
    frame["date"] = pd.to_datetime(frame["date"])
    frame["area1"] = frame["admin1"].map(_area)
    frame["area2"] = frame["admin2"].map(_area)
    frame["dataset"] = frame["dataset"].fillna("")

    pairs = _nearby_pairs(frame, days, SAME_DISTRICT_KM_FACTOR * km)
    if pairs.empty:
        return []
    distance = _haversine_km(pairs["lat_a"], pairs["lon_a"], pairs["lat_b"], pairs["lon_b"])
    same2 = (pairs["area2_a"] != "") & (pairs["area2_a"] == pairs["area2_b"])
    same1 = (pairs["area1_a"] != "") & (pairs["area1_a"] == pairs["area1_b"])
    has_coords = distance.notna()
    pairs = pairs.assign(km_apart=distance, same2=same2, same1=same1)
    # With coordinates on both sides distance decides (the same district stretches it to 4 x km, for a
    # dataset that puts an event at its district's centre); without, the district, else the province.
    pairs = pairs[(has_coords & ((distance <= km) | (same2 & (distance <= SAME_DISTRICT_KM_FACTOR * km))))
                  | (~has_coords & (same2 | same1))]
    if pairs.empty:
        return []

    date_score = 1 - pairs["days_apart"] / (days + 1)
    coord_score = (1 - pairs["km_apart"] / km).clip(lower=0).fillna(0)
    area_score = np.where(pairs["same2"], 1.0, np.where(pairs["same1"], 0.5, 0.0))
    place_score = np.maximum(coord_score, area_score)
    toll_a, toll_b = pairs["killed_a"].astype("float"), pairs["killed_b"].astype("float")
    top = np.maximum(toll_a, toll_b).replace(0, 1)
    toll_score = (1 - (toll_a - toll_b).abs() / top).fillna(0.5)
    shared, actor_score = _actor_similarity(session, pairs)
    score = (WEIGHTS["date"] * date_score + WEIGHTS["place"] * place_score + WEIGHTS["actor"] * actor_score
             + WEIGHTS["toll"] * toll_score)
    pairs = pairs.assign(score=score.round(3), date_score=date_score, place_score=place_score,
                         actor_score=actor_score, toll_score=toll_score, shared=shared)
    pairs = pairs[pairs["score"] >= min_score].sort_values(["score", "key_a", "key_b"], ascending=[False, True, True])
    if limit is not None:
        pairs = pairs.head(limit)
    return [
        Pair(score=float(r.score), a=r.key_a, b=r.key_b, days_apart=int(r.days_apart),
             km_apart=None if pd.isna(r.km_apart) else round(float(r.km_apart), 1), same_admin2=bool(r.same2),
             shared_perpetrators=list(r.shared),
             killed_a=None if pd.isna(r.killed_a) else int(r.killed_a),
             killed_b=None if pd.isna(r.killed_b) else int(r.killed_b),
             date_score=round(float(r.date_score), 3), place_score=round(float(r.place_score), 3),
             actor_score=float(r.actor_score), toll_score=round(float(r.toll_score), 3))
        for r in pairs.itertuples()
    ]


def _nearby_pairs(frame: pd.DataFrame, days: int, reach_km: float) -> pd.DataFrame:
    """Each unordered pair of rows in one country at most `days` apart that could be near: with coordinates
    on both sides, in neighbouring grid cells of `reach_km`; otherwise in the same province. Blocking on
    place as well as date keeps this small: a whole-country merge per day grew with the square of the
    attacks a day (1.2 GB for 100,000 synthetic incidents)."""
    cell = reach_km / 111.0  # degrees of latitude; a degree of longitude is shorter, so look further along it
    located = frame[frame["lat"].notna() & frame["lon"].notna()].copy()
    widest = float(np.cos(np.radians(located["lat"].astype(float).abs().max()))) if not located.empty else 1.0
    lon_reach = int(np.ceil(1 / max(widest, 0.05)))
    located["cy"] = np.floor(located["lat"].astype(float) / cell).astype("int64")
    located["cx"] = np.floor(located["lon"].astype(float) / cell).astype("int64")
    unlocated = frame[frame["lat"].isna() | frame["lon"].isna()]
    keyed = frame[frame["area1"] != ""]
    pieces: list[pd.DataFrame] = []
    total = 0

    def add(piece: pd.DataFrame) -> None:
        nonlocal total
        total += len(piece)
        if total > MAX_CANDIDATE_PAIRS:  # memory grows with the pairs; past this it is no search any more
            km = reach_km / SAME_DISTRICT_KM_FACTOR
            raise FieldError("days", days, f"with {option('km')} {km:g} gives more than {MAX_CANDIDATE_PAIRS:,} "
                             f"candidate pairs; narrow {option('days')} or {option('km')}")
        pieces.append(piece)

    for offset in range(days + 1):
        shift = pd.Timedelta(days=offset)
        for dy in (-1, 0, 1):
            for dx in range(-lon_reach, lon_reach + 1):
                moved = located.assign(date=located["date"] + shift, cy=located["cy"] + dy, cx=located["cx"] + dx)
                add(located.merge(moved, on=["country", "date", "cy", "cx"], suffixes=("_a", "_b"))
                    .assign(days_apart=offset))
        if not unlocated.empty:
            for left, right in ((unlocated, keyed), (keyed, unlocated)):
                moved = right.assign(date=right["date"] + shift)
                add(left[left["area1"] != ""].merge(moved, on=["country", "date", "area1"], suffixes=("_a", "_b"))
                    .assign(days_apart=offset, area1_a=lambda f: f["area1"], area1_b=lambda f: f["area1"]))
    pairs = pd.concat(pieces, ignore_index=True)
    pairs = pairs[(pairs["id_a"] != pairs["id_b"])
                  & ((pairs["dataset_a"] == "") | (pairs["dataset_a"] != pairs["dataset_b"]))]
    # One row per unordered pair, the closer in time kept.
    low = np.minimum(pairs["id_a"], pairs["id_b"])
    high = np.maximum(pairs["id_a"], pairs["id_b"])
    return (pairs.assign(pair_low=low, pair_high=high).sort_values("days_apart")
            .drop_duplicates(["pair_low", "pair_high"]).reset_index(drop=True))


def _haversine_km(lat1: pd.Series, lon1: pd.Series, lat2: pd.Series, lon2: pd.Series) -> pd.Series:
    lat1, lon1, lat2, lon2 = (np.radians(s.astype("float")) for s in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return pd.Series(2 * 6371.0088 * np.arcsin(np.sqrt(h)), index=lat1.index)


def _actor_similarity(session: Session, pairs: pd.DataFrame) -> tuple[list[list[str]], np.ndarray]:
    """Per pair: the top-level perpetrators both name, and the actor score."""
    ids = set(pairs["id_a"]) | set(pairs["id_b"])
    roots = _roots(session)
    perpetrators: dict[int, set[str]] = {}
    for incident_id, actor_id in session.execute(
            select(IncidentActor.incident_id, IncidentActor.actor_id).join(Actor, Actor.id == IncidentActor.actor_id)
            .where(IncidentActor.role == Role.PERPETRATOR.value, counted_link(Filters()),  # a denial names no one
                   Actor.kind != ActorKind.UNIDENTIFIED.value)):  # two "Unknown"s are no evidence of one attack
        if incident_id in ids:  # filtered here: an IN (...) of every candidate could pass SQLite's variable limit
            perpetrators.setdefault(incident_id, set()).add(roots[actor_id][1])
    shared_lists, scores = [], []
    for a, b in zip(pairs["id_a"], pairs["id_b"], strict=True):
        left, right = perpetrators.get(a, set()), perpetrators.get(b, set())
        common = sorted(left & right)
        shared_lists.append(common)
        scores.append(0.5 if not left or not right else (1.0 if common else 0.0))
    return shared_lists, np.array(scores)
