"""An analyst's edits of one incident: add a source's report, set a curated field. Each change is a revision."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import FieldError, UsageError
from incidents.models import GeoPrecision, Incident, Location, Report, Status
from incidents.records import (
    LocationRecord,
    ReportRecord,
    country_code,
    date_at_precision,
    parse_bool,
    parse_choice,
    parse_coordinate,
    parse_count,
    parse_date,
    parse_partial_date,
    require_excerpt_in,
)
from incidents.store.figures import recompute_figures
from incidents.store.incidents import require_incident
from incidents.store.reports import report_values, reports_of
from incidents.store.revisions import RevisionLog, curated_snapshot
from incidents.store.sources import adopt_known_url, get_or_create_location, get_or_create_source, place_words

# Fields `incidents set` may change, with how a value is read. killed_best/wounded_best become the analyst's
# choice; the value 'auto' hands them back to the reports.
SETTABLE = {
    "title": "text", "summary": "text", "attack_type": "text", "target_type": "text", "weapon_type": "text",
    "status": "status", "suicide": "bool", "killed_best": "count", "wounded_best": "count",
    "perpetrators_killed": "count", "date": "date", "date_end": "date_end",
    # The place: a change makes (or finds) the location with the new value and points the incident at it.
    "country": "place", "admin1": "place", "admin2": "place", "place": "place", "coordinates": "place",
    "geo_precision": "place",
}


def add_report(session: Session, key: str, record: ReportRecord, who: str | None = None,
               why: str | None = None) -> Report:
    """Add one source's account to an incident and recompute its figures; every change is a revision."""
    incident = require_incident(session, key, for_update=True)
    if record.reported_on is None:
        record.reported_on = record.source.published_on
    adopt_known_url(session, record.source)
    source = get_or_create_source(session, record.source)
    if session.scalar(select(Report.id).where(Report.incident_id == incident.id, Report.source_id == source.id)):
        raise UsageError(f"{key} already has a report from {record.source.describe()}; one report per source")
    require_excerpt_in(record.excerpt, source.full_text, f"the stored text of {record.source.describe()}")
    revisions = RevisionLog(session, who=who, why=why)
    before = curated_snapshot(incident)
    report = Report(incident_id=incident.id, source_id=source.id, **report_values(record))
    session.add(report)
    session.flush()
    revisions.record("reports", report.id, "report", None, record.source.describe())
    recompute_figures(incident, reports_of(session, incident.id))
    session.flush()
    revisions.record_changes(incident, before)
    return report


def set_field(session: Session, key: str, name: str, value: str, who: str | None = None,
              why: str | None = None) -> tuple[object, object]:
    """Change one curated field of an incident; returns (old, new). The change is a revision."""
    if name not in SETTABLE:
        raise UsageError(f"{name!r} cannot be set; settable fields: {', '.join(sorted(SETTABLE))}")
    incident = require_incident(session, key, for_update=True)
    before = curated_snapshot(incident)
    shown_before = _shown(session, incident, name)
    kind = SETTABLE[name]
    with session.no_autoflush:  # the half-changed incident must not reach the database before it is whole
        _set(session, incident, name, kind, value)
    session.flush()
    RevisionLog(session, who=who, why=why).record_changes(incident, before)
    return shown_before, _shown(session, incident, name)


def _shown(session: Session, incident: Incident, name: str) -> object:
    """The value of settable field `name` as a person reads it: a date at its precision, a place in words."""
    if name == "date":
        return date_at_precision(incident.date_start, incident.date_precision)
    if SETTABLE[name] != "place":
        return getattr(incident, name)
    location = session.get(Location, incident.location_id) if incident.location_id else None
    return None if location is None else place_words(location)


def _set(session: Session, incident: Incident, name: str, kind: str, value: str) -> None:
    try:
        if name in ("killed_best", "wounded_best"):
            manual = value.strip().lower() != "auto"
            setattr(incident, f"{name.split('_')[0]}_best_manual", manual)
            if manual:
                setattr(incident, name, parse_count(value, name))
            recompute_figures(incident, reports_of(session, incident.id))
        elif kind == "count":
            setattr(incident, name, parse_count(value, name))
        elif kind == "bool":
            setattr(incident, name, parse_bool(value, name))
        elif kind == "status":
            status = parse_choice(value, name, Status)
            if status is None:
                raise FieldError(name, value, "is blank")
            incident.status = status.value
        elif kind == "date":  # as precise as the source is: 2023, 2023-07 or 2023-07-30
            incident.date_start, precision = parse_partial_date(value, name)
            incident.date_precision = precision.value
            _check_dates(incident)
        elif kind == "date_end":
            incident.date_end = parse_date(value, name)
            _check_dates(incident)
        elif kind == "place":
            _set_place(session, incident, name, value)
        else:
            setattr(incident, name, value.strip() or None)
    except FieldError as exc:  # named as the field being set, whatever the parser called it
        raise FieldError(name, exc.value, exc.reason) from None


def _check_dates(incident: Incident) -> None:
    if incident.date_end is not None and incident.date_end < incident.date_start:
        raise FieldError("date_end", incident.date_end.isoformat(), f"is before the date {incident.date_start}")


def _set_place(session: Session, incident: Incident, name: str, value: str) -> None:
    """Point the incident at the location that has `name` changed to `value` and the rest as it was."""
    current = session.get(Location, incident.location_id) if incident.location_id else None
    text = value.strip() or None
    if current is None and name != "country":
        raise FieldError(name, value, "cannot be set on an incident with no place; set its country first")
    place = LocationRecord(country="") if current is None else LocationRecord(
        country=current.country, admin1=current.admin1, admin2=current.admin2, place=current.place,
        latitude=current.latitude, longitude=current.longitude,
        geo_precision=GeoPrecision(current.geo_precision) if current.geo_precision else None)
    if name == "country":
        if text is None:
            raise FieldError(name, value, "is blank; an incident's place has a country")
        place = replace(place, country=country_code(text))
    elif name == "coordinates":  # 'LAT, LON', or blank for none
        parts = [part.strip() for part in (text or "").replace(";", ",").split(",")] if text else []
        if text and len(parts) != 2:
            raise FieldError(name, value, "is not 'LATITUDE, LONGITUDE' (for example '34.6, 71.5')")
        place = replace(place, latitude=parse_coordinate(parts[0], "latitude", 90.0) if parts else None,
                        longitude=parse_coordinate(parts[1], "longitude", 180.0) if parts else None)
    elif name == "geo_precision":
        place = replace(place, geo_precision=parse_choice(text, name, GeoPrecision))
    elif name == "admin1":
        place = replace(place, admin1=text)
    elif name == "admin2":
        place = replace(place, admin2=text)
    else:
        place = replace(place, place=text)
    incident.location_id = get_or_create_location(session, place).id
