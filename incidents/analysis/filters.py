"""The filters every listing, timeline, summary and export shares, as SQL over incidents."""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
import warnings
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from incidents.errors import DataWarning, FieldError, NotFoundError, option
from incidents.gazetteer import (
    KM_PER_DEGREE,
    districts_named,
    resolve_admin1,
    resolve_places,
    spellings_near,
    successors,
    towns_near,
)
from incidents.models import (
    Actor,
    ActorAlias,
    Attribution,
    Incident,
    IncidentActor,
    Location,
    Role,
    Status,
    live_incidents,
)
from incidents.records import country_code, normalize_name, parse_partial_date, period_end


@dataclass
class Filters:
    """The filters every listing shares. Dates may be partial: since 2018 = from 1 Jan, until 2018 = to 31 Dec."""

    actor: str | None = None
    include_subgroups: bool = False
    country: str | None = None
    admin1: str | None = None
    # With admin1: count units since merged into the one named under it (FATA under Khyber Pakhtunkhwa). Off by
    # default: the datasets record FATA's events as FATA's, and a province's figures should say what they say.
    as_today: bool = False
    admin2: str | None = None  # a district, with or without 'district' / 'agency' ('Bajaur' is 'Bajaur agency')
    place: str | None = None  # the place (town, village) as stored, case aside
    near: str | None = None  # 'LAT,LON' or a place the gazetteer knows ('Quetta'); with km
    km: float | str | None = None  # radius for near, in km (default NEAR_KM)
    since: str | None = None
    until: str | None = None
    attribution: tuple[str, ...] = ()  # perpetrator attribution levels to keep; empty keeps all
    status: tuple[str, ...] = ()
    attack_type: str | None = None
    role: str = Role.PERPETRATOR.value  # the role --actor and --attribution look for (summaries' --role sets it)

    def date_bounds(self) -> tuple[date | None, date | None]:
        return _date_bound(self.since, "since", end=False), _date_bound(self.until, "until", end=True)


def _date_bound(value: str | None, name: str, end: bool) -> date | None:
    if not value:
        return None
    start, precision = parse_partial_date(value, name)
    return period_end(start, precision) if end else start


def find_actor(session: Session, name: str) -> Actor:
    """The actor any spelling names (name or alias in any dataset); NotFoundError with suggestions if none."""
    normalized = normalize_name(name)
    actor = session.scalar(
        select(Actor).join(ActorAlias, ActorAlias.actor_id == Actor.id)
        .where(ActorAlias.normalized == normalized)
        .order_by(ActorAlias.dataset)  # '' (any source) before a dataset-scoped spelling
        .limit(1)
    )
    if actor is None:
        actor = session.scalar(select(Actor).where(func.lower(Actor.name) == name.strip().lower()))
    if actor is None:
        spellings = [a for (a,) in session.execute(select(ActorAlias.alias))]
        spellings += [n for (n,) in session.execute(select(Actor.name))]
        close = difflib.get_close_matches(name, sorted(set(spellings)), n=4, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else " See the registry with: incidents actors"
        raise NotFoundError(f"No actor is called {name!r}.{hint}")
    return actor


def actor_ids(session: Session, name: str, include_subgroups: bool = False) -> set[int]:
    root = find_actor(session, name)
    ids = {root.id}
    if include_subgroups:
        frontier = {root.id}
        while frontier:
            children = set(session.scalars(select(Actor.id).where(Actor.parent_id.in_(frontier))))
            frontier = children - ids
            ids |= children
    return ids


def counted_link(filters: Filters) -> ColumnElement[bool]:
    """SQL over incident_actors.attribution: the links that make an incident a group's attack.

    With --attribution, the levels asked for; without, every link but a denial (claimed, attributed, suspected,
    or given with no attribution, as UCDP's sides of a conflict are). A group that denies an attack did not do it.
    """
    if filters.attribution:
        return IncidentActor.attribution.in_(filters.attribution)
    return or_(IncidentActor.attribution.is_(None), IncidentActor.attribution != Attribution.DENIED.value)


def filtered_incidents(session: Session, filters: Filters) -> Select[Any]:
    """SELECT incidents.id ... with every filter applied; the shared base of listings and exports.

    Records merged into another (`incidents merge`) or withdrawn (`incidents delete`) are never in it: the one a
    record was merged into stands for it.
    """
    query = (select(Incident.id).outerjoin(Location, Incident.location_id == Location.id)
             .where(live_incidents()))
    for level in filters.attribution:
        if level not in {a.value for a in Attribution}:
            raise FieldError("attribution", level, "is not one of: claimed, attributed, suspected, denied")
    for name in ("actor", "country", "admin1", "admin2", "place", "attack_type"):
        value = getattr(filters, name)
        if value is not None and not str(value).strip():  # '' would otherwise filter nothing and answer everything
            raise FieldError(name, value, "is blank; leave the filter out to keep every incident")
    for value in filters.status:
        if value not in {s.value for s in Status}:
            raise FieldError("status", value, "is not one of: confirmed, provisional, disputed")
    if filters.actor or filters.attribution:
        conditions = [IncidentActor.incident_id == Incident.id, IncidentActor.role == filters.role]
        if filters.actor:
            conditions.append(IncidentActor.actor_id.in_(actor_ids(session, filters.actor, filters.include_subgroups)))
        conditions.append(counted_link(filters))
        query = query.where(exists().where(and_(*conditions)))
    if filters.admin1:
        query = query.where(admin1_condition(session, filters))
    if filters.admin2:
        query = query.where(admin2_condition(session, filters.admin2))
    if filters.place:
        query = query.where(place_condition(session, filters.place))
    if filters.near is not None or filters.km is not None:
        query = query.where(near_condition(filters))
    if filters.status:
        query = query.where(Incident.status.in_(filters.status))
    if filters.attack_type:
        query = query.where(func.lower(Incident.attack_type) == filters.attack_type.strip().lower())
    if filters.country:
        query = query.where(Location.country == country_code(filters.country))
    since = _date_bound(filters.since, "since", end=False)
    until = _date_bound(filters.until, "until", end=True)
    if since:
        query = query.where(Incident.date_start >= since)
    if until:
        query = query.where(Incident.date_start <= until)
    if since and until and since > until:
        raise FieldError("since", filters.since, f"is after {option('until')} {filters.until!r}")
    return query


def admin1_condition(session: Session, filters: Filters) -> ColumnElement[bool]:
    """SQL for --admin1: by ISO 3166-2 code when the gazetteer knows the name or code (every spelling of the unit,
    and with --as-today the units merged into it since); else by the text as stored, with check_spelling's
    suggestions."""
    assert filters.admin1 is not None
    country = country_code(filters.country) if filters.country else None
    units = resolve_admin1(filters.admin1, country)
    if units:
        codes = set().union(*(successors(unit.code) if filters.as_today else {unit.code} for unit in units))
        return Location.admin1_code.in_(sorted(codes))
    if filters.as_today:
        raise FieldError("as_today", True, f"needs a province the gazetteer knows; {filters.admin1!r} is none")
    check_spelling(session, filters.admin1)
    return func.lower(Location.admin1) == filters.admin1.strip().lower()


DISTRICT_SUFFIXES = ("district", "agency", "tehsil", "division")
SUGGESTED_FROM = 20_000  # stored district names a suggestion looks through, at most


def admin2_condition(session: Session, admin2: str) -> ColumnElement[bool]:
    """SQL for --admin2: the district as stored, case aside, with or without a word such as 'district' or
    'agency' after it (UCDP's 'Bajaur agency', the seeds' 'Bajaur'). A name no incident has is an error naming
    the nearest districts the database holds."""
    base = " ".join(word for word in admin2.lower().split() if word not in DISTRICT_SUFFIXES)
    condition: ColumnElement[bool] = func.lower(Location.admin2).in_(
        [base, *(f"{base} {word}" for word in DISTRICT_SUFFIXES)])
    codes = districts_named(admin2)
    if codes:  # also by the gazetteer's district, whichever spelling the source used ('Qila' for 'Killa')
        condition = or_(condition, Location.admin2_code.in_(codes))
    if session.scalar(select(Location.id).where(condition).limit(1)) is None:
        stored = [str(name) for (name,) in session.execute(select(Location.admin2).where(Location.admin2.is_not(None))
                                                      .distinct().limit(SUGGESTED_FROM))]
        close = difflib.get_close_matches(admin2, stored, n=5, cutoff=0.6)
        raise NotFoundError(f"No incident has the district (admin2) {admin2!r}."
                            + (f" Did you mean: {', '.join(close)}?" if close else ""))
    return condition


def place_condition(session: Session, place: str) -> ColumnElement[bool]:
    """SQL for --place: the place (town, village) as stored, case aside. A name no incident has is an error naming
    the nearest places the database holds, and pointing to --near for what happened around it."""
    condition = func.lower(Location.place) == place.strip().lower()
    if session.scalar(select(Location.id).where(condition).limit(1)) is None:
        stored = [str(name) for (name,) in session.execute(select(Location.place).where(Location.place.is_not(None))
                                                      .distinct().limit(SUGGESTED_FROM))]
        close = difflib.get_close_matches(place, stored, n=5, cutoff=0.6)
        raise NotFoundError(f"No incident has the place {place!r}."
                            + (f" Did you mean: {', '.join(close)}?" if close else "")
                            + f" For incidents around a place: {option('near')} {place!r} {option('km')} 25.")
    return condition


NEAR_KM = 25.0  # --near without --km


def near_point(near: str) -> tuple[float, float]:
    """The point --near names: 'LAT,LON' (decimal degrees) or a town or district the gazetteer knows."""
    parts = near.replace(";", ",").split(",")
    if len(parts) == 2:
        try:
            latitude, longitude = float(parts[0]), float(parts[1])
        except ValueError:
            pass  # a name such as 'Khar, Bajaur'
        else:
            if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:  # also refuses nan
                raise FieldError("near", near, "is not a point: latitude -90..90, longitude -180..180")
            return latitude, longitude
    found = resolve_places(near)
    # Only a name the gazetteer knows as such, and only one place by it: a near spelling ('Delhi' ~ Dehi) is
    # suggested, not taken.
    if not found or found[0].latitude is None or found[0].longitude is None or found[0].score < 1.0:
        named = [f"{p.name} ({p.kind}, {p.admin2_code or p.admin1_code or p.country})" for p in found
                 if p.latitude is not None]
        if found and found[0].latitude is None:
            what = f"names a {found[0].kind}, which has no single point; use {option('admin1')} or {option('country')}"
        else:
            what = "is not 'LAT,LON' nor a town or district the gazetteer knows"
            named = named or towns_near(near)
        raise FieldError("near", near, what + (f" (did you mean {', '.join(named)}?)" if named else ""))
    return found[0].latitude, found[0].longitude


def near_condition(filters: Filters) -> ColumnElement[bool]:
    """SQL for --near/--km: incidents whose coordinates lie within km of the point (great-circle distance,
    haversine, in SQL on both engines). Incidents without coordinates are left out."""
    if filters.near is None:
        raise FieldError("km", filters.km, f"needs {option('near')} LAT,LON or a place")
    try:
        km = NEAR_KM if filters.km is None else float(filters.km)
    except ValueError:
        raise FieldError("km", filters.km, "is not a number of kilometres") from None
    if not 0 < km <= 20_050:  # also refuses nan
        raise FieldError("km", filters.km, "is not a distance between 0 and 20,050 km")
    latitude, longitude = near_point(filters.near)
    degrees = km / KM_PER_DEGREE
    radians = math.pi / 180
    dlat = (Location.latitude - latitude) * radians / 2
    dlon = (Location.longitude - longitude) * radians / 2
    h = (func.sin(dlat) * func.sin(dlat)
         + math.cos(latitude * radians) * func.cos(Location.latitude * radians) * func.sin(dlon) * func.sin(dlon))
    return and_(Location.latitude.is_not(None),
                Location.latitude.between(latitude - degrees, latitude + degrees),  # an index-friendly first cut
                2 * 6371.0088 * func.asin(func.sqrt(case((h > 1.0, 1.0), else_=h))) <= km)  # h > 1: rounding


def spelling_skeleton(name: str) -> str:
    """What two spellings of one name share: lower case, accents, 'province' and punctuation dropped, then the
    vowels and the soft letters h, w, y. 'Baluchistan' ~ 'Balochistan', 'Khyber Pakhtunkwa' ~ 'Khyber
    Pakhtunkhwa', 'Sind' ~ 'Sindh'; but 'Paktia' is not 'Paktika', nor 'Province 01' 'Province 02'."""
    text = unicodedata.normalize("NFKD", name.lower().replace("province", ""))
    return re.sub(r"[^a-z0-9]|[aeiouhwy]", "", "".join(c for c in text if not unicodedata.combining(c)))


def check_spelling(session: Session, admin1: str) -> None:
    """--admin1 matches one spelling (case aside). When no incident has it, say which spellings there are
    (NotFoundError); when near spellings of it hold incidents too (UCDP's 'Khyber Pakhtunkwa' beside
    'Khyber Pakhtunkhwa'), warn (DataWarning) that they are left out. Checked once per session and value."""
    checked = session.info.setdefault("admin1_checked", set())
    if admin1 in checked:
        return
    checked.add(admin1)
    counts: dict[str, int] = dict(session.execute(  # type: ignore[arg-type]  # admin1 IS NOT NULL below
        select(Location.admin1, func.count(Incident.id)).join(Incident, Incident.location_id == Location.id)
        .where(Location.admin1.is_not(None), live_incidents()).group_by(Location.admin1)).all())
    wanted = admin1.strip().lower()
    exact = {name for name in counts if name.lower() == wanted}
    skeleton = spelling_skeleton(admin1)
    near = sorted((name for name in counts if name not in exact and skeleton
                   and spelling_skeleton(name) == skeleton), key=lambda name: -counts[name])
    shown = ", ".join(f"{name!r} ({counts[name]} incidents)" for name in near)
    if not exact:
        if near:
            raise NotFoundError(f"No incident has the province (admin1) {admin1!r}; the database spells it {shown}. "
                                "Name one of these.")
        known = ", ".join(repr(name) for name in sorted(counts, key=lambda name: -counts[name])[:12])
        near = spellings_near(admin1)
        raise NotFoundError(f"No incident has the province (admin1) {admin1!r}. "
                            + (f"Did you mean {', '.join(near)}? " if near else "")
                            + (f"The provinces with most incidents: {known}." if known else "No incident has one."))
    if near:
        warnings.warn(f"{option('admin1')} {admin1!r} leaves out near spellings of it that hold incidents too: "
                      f"{shown}; each spelling is its own province until places are normalised.",
                      DataWarning, stacklevel=2)


def in_scope(session: Session, filters: Filters, column: Any = None) -> ColumnElement[bool]:
    """SQL that keeps the incidents matching `filters` (`column` holds incident ids; default incidents.id).

    With no filter at all it only leaves out merged and withdrawn records, so a query over every incident is not
    slowed by an IN (...) over all of them."""
    if replace(filters, role=Role.PERPETRATOR.value) == Filters():  # the role matters only with --actor
        if column is None:
            return live_incidents()
        return column.not_in(select(Incident.id).where(~live_incidents()))
    column = Incident.id if column is None else column
    return column.in_(filtered_incidents(session, filters))
