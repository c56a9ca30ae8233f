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

Records dated only to a month or a year (a source's "in 2023, a bombing in Bajaur killed 60") are compared
with every record whose date falls in their interval, or whose own interval overlaps it, whatever `days` is,
in the same district (admin2), or, for a coarse record that names no district, within `km`: a province holds
too many attacks a year to pair by it. Their
date similarity is 0.5 for a month and 0.25 for a year (the dates agree, loosely); `coarse_date` names the
coarser date, and days_apart is 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import limits
from incidents.analysis.filters import Filters, counted_link
from incidents.analysis.sql import frame_of
from incidents.errors import FieldError, UsageError, option
from incidents.models import (
    Actor,
    ActorKind,
    Attribution,
    DatePrecision,
    Incident,
    IncidentActor,
    Location,
    NotDuplicate,
    Report,
    Role,
    live_incidents,
)
from incidents.records import date_at_precision, normalize_name, period_end
from incidents.store.actors import ActorResolver
from incidents.store.sources import find_source

WEIGHTS = {"date": 0.30, "place": 0.30, "actor": 0.20, "toll": 0.20}
MAX_DAYS, MAX_KM = 366, 1000.0  # the widest window `duplicates` searches
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
    coarse_date: str | None = None  # a pair with a month- or year-dated record: its date (2023, 2023-07)

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
    if not 0 <= min_score <= 1:  # NaN is neither
        raise FieldError("min_score", min_score, "is not a score from 0 to 1")
    frame = _located(session, Incident.date_precision == "day")
    judged = {tuple(pair) for pair in session.execute(select(NotDuplicate.incident_a_id, NotDuplicate.incident_b_id))}
    coarse = _coarse_pairs(session, frame, km, judged)
    coarse = [pair for pair in coarse if pair.score >= min_score]
    if frame.empty:
        return sorted(coarse, key=lambda p: (-p.score, p.a, p.b))[:limit]

    # Candidates are found as row positions only (a few bytes a pair); the rows' columns are looked up for the
    # pairs found, so memory follows the answer, not the search.
    a, b, apart = _nearby_pairs(frame, days, km)
    if judged:  # pairs an analyst judged two attacks (incidents not-duplicate) are left out
        ids = frame["id"].to_numpy()
        kept = np.fromiter(((min(x, y), max(x, y)) not in judged for x, y in zip(ids[a], ids[b], strict=True)),
                           dtype=bool, count=len(a))
        a, b, apart = a[kept], b[kept], apart[kept]
    lat, lon = frame["lat"].to_numpy("float64", na_value=np.nan), frame["lon"].to_numpy("float64", na_value=np.nan)
    km_apart = _haversine_km(lat[a], lon[a], lat[b], lon[b])
    area2, area1 = _codes(frame["area2"]), _codes(frame["area1"])
    same2 = (area2[a] >= 0) & (area2[a] == area2[b])
    same1 = (area1[a] >= 0) & (area1[a] == area1[b])

    date_score = 1 - apart / (days + 1)
    coord_score = np.nan_to_num(np.clip(1 - km_apart / km, 0, None), nan=0.0)
    place_score = np.maximum(coord_score, np.where(same2, 1.0, np.where(same1, 0.5, 0.0)))
    killed = frame["killed"].to_numpy("float64", na_value=np.nan)
    toll_a, toll_b = killed[a], killed[b]
    top = np.maximum(toll_a, toll_b)
    top[top == 0] = 1
    toll_score = np.nan_to_num(1 - np.abs(toll_a - toll_b) / top, nan=0.5)
    ids = frame["id"].to_numpy()
    perpetrators = _perpetrators(session, set(ids[a]) | set(ids[b]))
    actor_score = np.fromiter((_actor_score(perpetrators.get(x, set()), perpetrators.get(y, set()))
                               for x, y in zip(ids[a], ids[b], strict=True)), dtype="float64", count=len(a))
    score = np.round(WEIGHTS["date"] * date_score + WEIGHTS["place"] * place_score + WEIGHTS["actor"] * actor_score
                     + WEIGHTS["toll"] * toll_score, 3)
    keep = score >= min_score
    if limit is not None and 0 < limit < keep.sum():  # only the best `limit` (and any tied with the last) are built
        keep &= score >= np.sort(score[keep])[-limit]
    chosen = np.flatnonzero(keep)
    keys = frame["key"].to_numpy()
    pairs = pd.DataFrame({
        "key_a": keys[a[chosen]], "key_b": keys[b[chosen]], "id_a": ids[a[chosen]], "id_b": ids[b[chosen]],
        "score": score[chosen], "days_apart": apart[chosen], "km_apart": km_apart[chosen], "same2": same2[chosen],
        "killed_a": toll_a[chosen], "killed_b": toll_b[chosen], "date_score": date_score[chosen],
        "place_score": place_score[chosen], "actor_score": actor_score[chosen], "toll_score": toll_score[chosen],
    }).sort_values(["score", "key_a", "key_b"], ascending=[False, True, True])
    if limit is not None:
        pairs = pairs.head(limit)
    pairs["shared"] = [sorted(perpetrators.get(x, set()) & perpetrators.get(y, set()))
                       for x, y in zip(pairs["id_a"], pairs["id_b"], strict=True)]
    found = [
        Pair(score=float(r.score), a=r.key_a, b=r.key_b, days_apart=int(r.days_apart),
             km_apart=None if pd.isna(r.km_apart) else round(float(r.km_apart), 1), same_admin2=bool(r.same2),
             shared_perpetrators=list(r.shared),
             killed_a=None if pd.isna(r.killed_a) else int(r.killed_a),
             killed_b=None if pd.isna(r.killed_b) else int(r.killed_b),
             date_score=round(float(r.date_score), 3), place_score=round(float(r.place_score), 3),
             actor_score=float(r.actor_score), toll_score=round(float(r.toll_score), 3))
        for r in pairs.itertuples()
    ]
    if coarse:
        found = sorted(found + coarse, key=lambda p: (-p.score, p.a, p.b))[:limit]
    return found


def _located(session: Session, which: Any) -> pd.DataFrame:
    """The live incidents `which` selects, with their date interval, dataset, best killed and place."""
    frame = frame_of(session, select(
        Incident.id, Incident.key, Incident.date_start, Incident.date_end, Incident.date_precision,
        Incident.origin_dataset, Incident.killed_best, Location.country, Location.admin1, Location.admin2,
        Location.latitude, Location.longitude,
    ).join(Location, Location.id == Incident.location_id).where(live_incidents(), which),
        ["id", "key", "date", "date_end", "precision", "dataset", "killed", "country", "admin1", "admin2", "lat",
         "lon"])
    frame["date"] = pd.to_datetime(frame["date"].astype(str).str[:10], format="%Y-%m-%d")
    frame["area1"] = frame["admin1"].map(_area)
    frame["area2"] = frame["admin2"].map(_area)
    frame["dataset"] = frame["dataset"].fillna("")
    return frame


COARSE_DATE_SCORE = {"month": 0.5, "year": 0.25}


def _coarse_pairs(session: Session, days: pd.DataFrame, km: float, judged: set[tuple[Any, ...]]) -> list[Pair]:
    """Pairs of a month- or year-dated record with a record its interval covers or overlaps, in the same district
    or within `km` (the module doc). Looked up per coarse record in blocks of one country and district, so the
    work follows the coarse records, which are few beside the day-dated ones."""
    coarse = _located(session, Incident.date_precision != "day")
    if coarse.empty:
        return []
    coarse["end"] = [pd.Timestamp(end) if end is not None and not pd.isna(end)
                     else pd.Timestamp(period_end(start.date(), DatePrecision(precision)))
                     for start, end, precision in zip(coarse["date"], coarse["date_end"], coarse["precision"],
                                                      strict=True)]
    days = days.assign(end=days["date"], precision="day")
    rows = pd.concat([days, coarse], ignore_index=True)
    by_district = rows.groupby(["country", "area2"]).indices  # row positions; a record with no district looks by km
    by_country = rows.groupby("country").indices
    starts, ends = rows["date"].to_numpy(), rows["end"].to_numpy()
    lat, lon = rows["lat"].to_numpy("float64", na_value=np.nan), rows["lon"].to_numpy("float64", na_value=np.nan)
    ids, countries = rows["id"].to_numpy(), rows["country"].to_numpy()
    datasets, area2 = rows["dataset"].to_numpy(), rows["area2"].to_numpy()
    found: dict[tuple[int, int], tuple[bool, float]] = {}
    most = limits.limit("CANDIDATE_PAIRS")
    for i in range(len(days), len(rows)):  # the coarse records
        # by district when it names one; else by distance, over its country's records in its interval
        blocks = [by_district[(countries[i], area2[i])] if area2[i] else by_country[countries[i]]]
        for block in blocks:
            block = block[(block != i) & (starts[block] <= ends[i]) & (ends[block] >= starts[i])]
            if datasets[i]:  # not two rows of one dataset
                block = block[datasets[block] != datasets[i]]
            distance = _haversine_km(lat[i], lon[i], lat[block], lon[block])
            for j, d in zip(block, distance, strict=True):
                in_district = bool(area2[i]) and area2[j] == area2[i]
                pair = (min(i, j), max(i, j))
                if (in_district or d <= km) and pair not in found and (
                        min(ids[i], ids[j]), max(ids[i], ids[j])) not in judged:
                    found[pair] = (bool(in_district), float(d))
        if len(found) > most:
            raise UsageError(f"Records dated only to a month or a year pair with more than {most:,} others; "
                             "give them districts, or raise INCIDENTS_MAX_CANDIDATE_PAIRS")
    if not found:
        return []
    perpetrators = _perpetrators(session, {ids[k] for pair in found for k in pair})
    pairs = []
    for (i, j), (in_district, apart_km) in found.items():
        first, second = rows.iloc[i], rows.iloc[j]
        coarser = max((first, second), key=lambda r: ("day", "month", "year").index(r["precision"]))
        date_score = COARSE_DATE_SCORE[coarser["precision"]]
        place_score = 1.0 if in_district else max(0.0, 1 - apart_km / km)
        left, right = perpetrators.get(ids[i], set()), perpetrators.get(ids[j], set())
        actor_score = _actor_score(left, right)
        toll_a, toll_b = (None if pd.isna(r["killed"]) else int(r["killed"]) for r in (first, second))
        toll_score = 0.5 if toll_a is None or toll_b is None else 1 - abs(toll_a - toll_b) / max(toll_a, toll_b, 1)
        score: float = round(WEIGHTS["date"] * date_score + WEIGHTS["place"] * place_score
                      + WEIGHTS["actor"] * actor_score + WEIGHTS["toll"] * toll_score, 3)
        a, b = sorted((first["key"], second["key"]))
        pairs.append(Pair(
            score=score, a=a, b=b, days_apart=0, km_apart=None if math.isnan(apart_km) else round(apart_km, 1),
            same_admin2=in_district, shared_perpetrators=sorted(left & right),
            killed_a=toll_a if a == first["key"] else toll_b, killed_b=toll_b if a == first["key"] else toll_a,
            date_score=date_score, place_score=round(place_score, 3), actor_score=actor_score,
            toll_score=round(toll_score, 3),
            coarse_date=date_at_precision(coarser["date"].date(), coarser["precision"])))
    return pairs


def _codes(values: pd.Series) -> np.ndarray:
    """Each value as a whole number, equal values equal; '' (unknown) as -1, equal to nothing."""
    codes = pd.factorize(values)[0]
    return np.where(values.to_numpy() == "", -1, codes)


MERGE_ROWS = 500_000  # rows one merge step makes at most: a bigger merge is made in parts
LOOKED_AT_PER_PAIR = 50  # a search may compare this many pairs for each candidate pair it may hold


def _nearby_pairs(frame: pd.DataFrame, days: int, km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each unordered pair of rows that the rules make a candidate (the module doc: one country, at most `days`
    apart, near, not two rows of one dataset), as (row position a, row position b, days apart), a the later (or,
    on one day, a's key first).

    Rows are blocked by place (grid cells of 4 x km, district or province) and by spells of days + 1 days, so
    each merge pairs only rows that could be candidates (a whole-country merge per day grew with the square of
    the attacks a day: 1.2 GB for 100,000 synthetic incidents), and the number of merges does not grow with
    `days`. Merges are sized before they are made and made in parts of MERGE_ROWS; past limits CANDIDATE_PAIRS
    pairs found (or LOOKED_AT_PER_PAIR times that compared) the search is refused."""
    reach_km = SAME_DISTRICT_KM_FACTOR * km
    cell = reach_km / 111.0  # degrees of latitude; a degree of longitude is shorter, so look further along it
    day = (frame["date"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy("int64")
    lat, lon = frame["lat"].to_numpy("float64", na_value=np.nan), frame["lon"].to_numpy("float64", na_value=np.nan)
    area1, area2 = _codes(frame["area1"]), _codes(frame["area2"])
    rows = pd.DataFrame({
        "pos": np.arange(len(frame), dtype="int64"), "country": _codes(frame["country"].fillna("")),
        "spell": day // (days + 1), "area1": area1, "area2": area2,
    })
    dataset = _codes(frame["dataset"])
    order = frame["key"].rank(method="first").to_numpy()  # each row's place in key order
    located_mask = ~(np.isnan(lat) | np.isnan(lon))
    located = rows[located_mask].copy()
    widest = float(np.cos(np.radians(np.abs(lat[located_mask]).max()))) if located_mask.any() else 1.0
    lon_reach = int(np.ceil(1 / max(widest, 0.05)))
    located["cy"] = np.floor(lat[located_mask] / cell).astype("int64")
    located["cx"] = np.floor(lon[located_mask] / cell).astype("int64")
    unlocated = rows[~located_mask]
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    held = compared = 0

    def refuse(verb: str, bound: int, what: str) -> FieldError:
        return FieldError("days", days, f"with {option('km')} {km:g} {verb} more than {bound:,} {what}; narrow "
                          f"{option('days')} or {option('km')} ({limits.override('CANDIDATE_PAIRS')})")

    def candidates(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        apart = day[a] - day[b]
        # a the later; on one day each pair comes both ways round (a with b, b with a): a's key first is kept.
        keep = (((apart > 0) & (apart <= days)) | ((apart == 0) & (order[a] < order[b]))) \
            & ((dataset[a] < 0) | (dataset[a] != dataset[b]))
        a, b, apart = a[keep], b[keep], apart[keep]
        distance = _haversine_km(lat[a], lon[a], lat[b], lon[b])
        same2 = (area2[a] >= 0) & (area2[a] == area2[b])
        same1 = (area1[a] >= 0) & (area1[a] == area1[b])
        # With coordinates on both sides distance decides (the same district stretches it to 4 x km, for a
        # dataset that puts an event at its district's centre); without, the district, else the province.
        with np.errstate(invalid="ignore"):
            near = np.where(np.isnan(distance), same2 | same1,
                            (distance <= km) | (same2 & (distance <= SAME_DISTRICT_KM_FACTOR * km)))
        return a[near].astype("int32"), b[near].astype("int32"), apart[near].astype("int32")

    def add(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> None:
        nonlocal held, compared
        matches = left.join(right.groupby(on).size().rename("matches"), on=on)["matches"].fillna(0)
        expected = matches.to_numpy("int64")
        compared += int(expected.sum())
        if compared > LOOKED_AT_PER_PAIR * limits.limit("CANDIDATE_PAIRS"):  # no search any more, and slow
            raise refuse("would compare", LOOKED_AT_PER_PAIR * limits.limit("CANDIDATE_PAIRS"), "pairs of records")
        if not expected.any():
            return
        parts = np.cumsum(expected) // MERGE_ROWS
        for part in np.split(np.arange(len(left)), np.flatnonzero(np.diff(parts)) + 1):
            merged = left.iloc[part][[*on, "pos"]].merge(right[[*on, "pos"]], on=on, suffixes=("_a", "_b"))
            piece = candidates(merged["pos_a"].to_numpy(), merged["pos_b"].to_numpy())
            del merged
            held += len(piece[0])
            if held > limits.limit("CANDIDATE_PAIRS"):
                raise refuse("gives", limits.limit("CANDIDATE_PAIRS"), "candidate pairs")
            found.append(piece)

    for shift in (0, 1):  # b in a's spell, or in the spell before
        for dy in (-1, 0, 1):
            for dx in range(-lon_reach, lon_reach + 1):
                moved = located.assign(spell=located["spell"] + shift, cy=located["cy"] + dy, cx=located["cx"] + dx)
                add(located, moved, ["country", "spell", "cy", "cx"])
        if not unlocated.empty:  # by district and by province, each pair with an unlocated side
            for area in ("area2", "area1"):
                for left, right in ((unlocated, rows), (rows[located_mask], unlocated)):
                    add(left[left[area] >= 0], right[right[area] >= 0].assign(spell=right["spell"] + shift),
                        ["country", "spell", area])
    if not found:
        empty = np.array([], dtype="int32")
        return empty, empty, empty
    a, b, apart = (np.concatenate(parts) for parts in zip(*found, strict=True))
    # Once each: a pair with an unlocated side may be found by its district and by its province.
    _, first = np.unique(a.astype("int64") * len(frame) + b, return_index=True)
    first.sort()
    return a[first], b[first], apart[first]


def _haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (np.radians(values) for values in (lat1, lon1, lat2, lon2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return np.asarray(2 * 6371.0088 * np.arcsin(np.sqrt(h)))


def _perpetrators(session: Session, ids: set[int]) -> dict[int, set[str]]:
    """The top-level perpetrators each incident of `ids` names (a denial and an "Unknown" name no one)."""
    roots = _roots(session)
    perpetrators: dict[int, set[str]] = {}
    query = (select(IncidentActor.incident_id, IncidentActor.actor_id).join(Actor, Actor.id == IncidentActor.actor_id)
             .where(IncidentActor.role == Role.PERPETRATOR.value, counted_link(Filters()),  # a denial names no one
                    Actor.kind != ActorKind.UNIDENTIFIED.value))  # two "Unknown"s are no evidence of one attack
    if len(ids) <= 1000:  # a few (add's search): looked up, not scanned
        query = query.where(IncidentActor.incident_id.in_([int(i) for i in ids]))  # numpy's ints do not bind
    for incident_id, actor_id in session.execute(query):
        if incident_id in ids:  # filtered here: an IN (...) of every candidate could pass SQLite's variable limit
            perpetrators.setdefault(incident_id, set()).add(roots[actor_id][1])
    return perpetrators


def _actor_score(left: set[str], right: set[str]) -> float:
    return 0.5 if not left or not right else (1.0 if left & right else 0.0)


def likely_same(session: Session, record: Any, most: int = 5) -> list[dict[str, Any]]:
    """Live incidents a new record (an IncidentRecord) may be: in its country, with a date interval that overlaps
    its own (a record dated '2023' overlaps every day of 2023), and named by the same district or place. When
    the record names no district or place, the same province will do, unless both name perpetrators and share
    no top-level group (sub-groups count as their parent; a denial names no one): a province holds many attacks
    a year. A group never rules out a match by district or place, since early reports often blame the wrong one
    (Bajaur 2023: the TTP, then ISKP's claim). The search `add` makes before it creates."""
    location = record.location
    if location is None:
        return []
    names = {_area(name) for name in (location.place, location.admin2) if name} - {""}
    province = _area(location.admin1) if not names and location.admin1 else ""
    if not names and not province:
        return []
    start = record.date_start
    end = record.date_end or period_end(start, DatePrecision(record.date_precision))
    rows = session.execute(
        select(Incident.id, Incident.key, Incident.date_start, Incident.date_end, Incident.date_precision,
               Location.admin1, Location.admin2, Location.place)
        .join(Location, Location.id == Incident.location_id)
        .where(live_incidents(), Location.country == location.country,
               Incident.date_start <= end, Incident.date_start >= date(max(start.year - 1, 1), 1, 1))
    ).all()
    found = []
    for row in rows:
        their_end = row.date_end or period_end(row.date_start, DatePrecision(row.date_precision))
        if their_end < start:
            continue
        theirs = {_area(row.place), _area(row.admin2)} - {""}
        if names & theirs or (province and _area(row.admin1) == province):
            found.append({"id": row.id, "key": row.key, "by_province": not names & theirs,
                          "date": date_at_precision(row.date_start, row.date_precision),
                          "place": ", ".join(part for part in (row.place, row.admin2, row.admin1) if part)})
    if found:
        groups = _perpetrators(session, {item["id"] for item in found})
        named = _named_groups(session, record)
        for item in found:
            item["groups"] = sorted(groups.get(item.pop("id"), set()))
        found = [item for item in found if not item.pop("by_province") or _actor_score(named, set(item["groups"])) > 0]
    return sorted(found, key=lambda item: item["key"])[:most]


def _named_groups(session: Session, record: Any) -> set[str]:
    """The top-level groups a new record names as perpetrators (a denial, or a name not in the registry, names
    no group here)."""
    resolver = ActorResolver(session, "strict")
    roots = _roots(session)
    found = set()
    for link in record.actors:
        if link.role is Role.PERPETRATOR and link.attribution is not Attribution.DENIED:
            actor_id = resolver.find(link.name)
            if actor_id is not None:
                found.add(roots[actor_id][1])
    return found


def incident_from_source(session: Session, source_id: int, record: Any) -> str | None:
    """The key of a live incident source `source_id` reports on the new record's date (and precision) in its
    country, and at its place or district when it names one, if there is one: the record was made already (by
    this command run before). One article may report two attacks of one day in two places: both are recorded."""
    if record.location is None:
        return None
    rows = session.execute(
        select(Incident.key, Location.place, Location.admin2).join(Report, Report.incident_id == Incident.id)
        .join(Location, Location.id == Incident.location_id)
        .where(Report.source_id == source_id, live_incidents(), Incident.date_start == record.date_start,
               Incident.date_precision == record.date_precision.value,
               Location.country == record.location.country).order_by(Incident.key)).all()
    names = {_area(name) for name in (record.location.place, record.location.admin2) if name} - {""}
    for key, place, admin2 in rows:
        if not names or names & ({_area(place or ""), _area(admin2 or "")} - {""}):
            return str(key)
    return None


def refuse_a_second_record(session: Session, record: Any) -> None:
    """UsageError, before `add` creates anything, when the new record (an IncidentRecord) may be one already
    recorded: its source already gives a live incident of the same date, country and place (the same command run
    twice), or likely_same finds one. The message names them and the command that adds to one."""
    source = find_source(session, record.reports[0].source)
    found = None if source is None else incident_from_source(session, source.id, record)
    if found is not None:
        day = date_at_precision(record.date_start, record.date_precision)
        raise UsageError(f"{record.reports[0].source.describe()} already gives {found} ({day}); add what else it "
                         f"says to it with `incidents report add {found} ...`, or give {option('new')} to record a "
                         "second incident from this source")
    matches = likely_same(session, record)
    if matches:
        named = "; ".join(f"{match['key']} ({match['date']}, {match['place']}"
                          + (f"; {', '.join(match['groups'])}" if match["groups"] else "") + ")" for match in matches)
        raise UsageError(f"This may be an incident already recorded: {named}. Add this source's account to it with "
                         f"`incidents report add {matches[0]['key']} ...`, or give {option('new')} if it is another "
                         "attack")
