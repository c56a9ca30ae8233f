"""An analyst's edits of one incident: add a source's report, set a curated field, add, change or remove a
perpetrator, withdraw (delete) and restore the incident or one of its reports. Each change is a revision."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from incidents.errors import FieldError, NotFoundError, UsageError, option
from incidents.models import (
    GAZETTEER_PRECISIONS,
    Actor,
    Attribution,
    GeoPrecision,
    Incident,
    IncidentActor,
    Location,
    Merge,
    Report,
    Revision,
    Role,
    Status,
)
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
    parse_typed_precision,
    require_excerpt_in,
)
from incidents.store.actors import ActorResolver
from incidents.store.figures import recompute_figures
from incidents.store.incidents import require_incident
from incidents.store.releases import bring_back_reports
from incidents.store.reports import report_values, reports_of
from incidents.store.revisions import RevisionLog, as_text, curated_snapshot
from incidents.store.sources import (
    adopt_known_citation,
    adopt_known_url,
    find_source,
    get_or_create_location,
    get_or_create_source,
    is_source_id,
    named_source_record,
    place_words,
    stored_source,
)

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
               why: str | None = None, new_source: bool = False) -> tuple[Report, bool]:
    """Add one source's account to an incident and recompute its figures; every change is a revision. Returns
    (the report, whether it was added): the same account given again adds nothing; a different one from a source
    that has a standing report of the incident already is refused; one from a source whose report was withdrawn
    takes that report's place (the correction `report delete` then `report add` makes)."""
    incident = _editable(session, key)
    adopt_known_url(session, record.source)
    adopt_known_citation(session, record.source, new_source)  # a near citation is asked about
    source = get_or_create_source(session, record.source)
    if record.reported_on is None:
        record.reported_on = source.published_on
    require_excerpt_in(record.excerpt, source.full_text, f"the stored text of {record.source.describe()}")
    stored = session.scalar(select(Report).where(Report.incident_id == incident.id, Report.source_id == source.id))
    if stored is not None and stored.withdrawn_at is None:
        return same_report(key, stored, record), False
    revisions = RevisionLog(session, who=who, why=why)
    before = curated_snapshot(incident)
    if stored is None:
        report = Report(incident_id=incident.id, source_id=source.id, **report_values(record))
        session.add(report)
        session.flush()
        revisions.record("reports", report.id, "report", None, record.source.describe())
    else:  # the withdrawn report of this source is corrected in place and stands again
        report = stored
        for name, value in {**report_values(record), "withdrawn_at": None}.items():
            if getattr(report, name) != value:
                revisions.record("reports", report.id, name, getattr(report, name), value)
                setattr(report, name, value)
        session.flush()
    recompute_figures(incident, reports_of(session, incident.id))
    session.flush()
    revisions.record_changes(incident, before)
    return report, True


def same_report(key: str, stored: Report, record: ReportRecord) -> Report:
    """`stored` when everything `record` gives agrees with it (a command run twice, or with fewer options); else
    UsageError naming what differs."""
    differs = [f"{name} {as_text(value)} (stored: {as_text(getattr(stored, name))})"
               for name, value in report_values(record).items()
               if value is not None and value is not False and getattr(stored, name) != value]
    if differs:
        raise UsageError(f"{key} has a report from this source (#{stored.source_id}) that says otherwise: "
                         f"{'; '.join(differs)}. One report per source: to correct it, withdraw that one "
                         f"(`incidents report delete {key} {stored.source_id} --why ...`) and add this")
    return stored


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
    if place.geo_precision in GAZETTEER_PRECISIONS:  # the gazetteer's point follows the place; it was never typed
        place = replace(place, latitude=None, longitude=None, geo_precision=None)
    if name == "country":
        if text is None:
            raise FieldError(name, value, "is blank; an incident's place has a country")
        place = replace(place, country=country_code(text))
    elif name == "coordinates":  # 'LAT, LON', or blank for none
        parts = [part.strip() for part in (text or "").replace(";", ",").split(",")] if text else []
        if text and (len(parts) != 2 or not all(parts)):
            raise FieldError(name, value, "is not 'LATITUDE, LONGITUDE' (for example '34.6, 71.5')")
        place = replace(place, latitude=parse_coordinate(parts[0], "latitude", 90.0) if parts else None,
                        longitude=parse_coordinate(parts[1], "longitude", 180.0) if parts else None)
    elif name == "geo_precision":
        place = replace(place, geo_precision=parse_typed_precision(text, name))
    elif name == "admin1":
        place = replace(place, admin1=text)
    elif name == "admin2":
        place = replace(place, admin2=text)
    else:
        place = replace(place, place=text)
    incident.location_id = get_or_create_location(session, place).id


def _editable(session: Session, key: str) -> Incident:
    """Incident `key`, locked for an edit of its reports or perpetrators; a record merged into another is not
    edited (it counts only as part of that one): UsageError naming it."""
    incident = require_incident(session, key, for_update=True)
    if incident.merged_into_id is not None:
        into = session.get(Incident, incident.merged_into_id)
        raise UsageError(f"{key} is merged into {into.key if into else '?'} and counts only as part of it; edit "
                         f"{into.key if into else 'that incident'}, or unmerge {key} first")
    return incident


def _not_from_a_merge(session: Session, link: IncidentActor) -> None:
    """UsageError when an undone-able merge moved `link` or swapped its attribution: unmerge puts those back by
    id, so a change to one now would be undone, or land on the wrong incident."""
    for merge in session.scalars(select(Merge).where(Merge.undone_at.is_(None), or_(
            Merge.kept_id == link.incident_id, Merge.merged_id == link.incident_id))):
        swapped = {link_id for pair in merge.moved.get("swapped", []) for link_id in pair}
        if link.id in merge.moved["links"] or link.id in swapped:
            other = session.get(Incident, merge.merged_id)
            raise UsageError(f"This perpetrator link came with the merge of {other.key if other else '?'} "
                             f"(moved or given the stronger attribution); unmerge it first (`incidents unmerge "
                             f"{other.key if other else '...'}`), change the link, and merge again")


# ---- withdrawal: `incidents delete` and `incidents restore`

def _require_why(why: str | None, command: str) -> str:
    if why is None or not why.strip():
        raise FieldError("why", why or "", f"is required: say why ({command} is kept in the history with its reason)")
    return why.strip()


def withdraw(session: Session, key: str, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Withdraw incident `key`: it stays with its reports and history, and leaves every listing, count, view and
    export (models.live_incidents). A revision of withdrawn_at records who, when and why."""
    why = _require_why(why, "a withdrawal")
    incident = require_incident(session, key, for_update=True)
    if incident.withdrawn_at is not None:
        raise UsageError(f"{key} is already withdrawn (since {incident.withdrawn_at:%Y-%m-%d}); "
                         f"`incidents restore {key}` brings it back")
    if incident.merged_into_id is not None:
        into = session.get(Incident, incident.merged_into_id)
        raise UsageError(f"{key} is merged into {into.key if into else '?'} and counts only as part of it; delete "
                         f"that incident, or unmerge {key} first")
    return _withdrawn(session, incident, datetime.now(UTC), who, why)


def restore(session: Session, key: str, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Undo `withdraw`: the incident is counted again, exactly as before."""
    incident = require_incident(session, key, for_update=True)
    if incident.withdrawn_at is None:
        raise UsageError(f"{key} is not withdrawn; there is nothing to restore")
    result = _withdrawn(session, incident, None, who, why or "restored")
    # A release that withdrew the record withdrew its dataset report too (where a merge put it): back with it.
    bring_back_reports(session, incident, RevisionLog(session, who=who, why=why or "restored"))
    return result


def _withdrawn(session: Session, incident: Incident, when: datetime | None, who: str | None,
               why: str) -> dict[str, Any]:
    before = curated_snapshot(incident)
    incident.withdrawn_at = when
    session.flush()
    RevisionLog(session, who=who, why=why).record_changes(incident, before)
    return {"key": incident.key, "withdrawn": when is not None, "why": why}


def _report_from(session: Session, incident: Incident, source: str) -> Report:
    """The report of `incident` from the source named by `source`: its id (as `show` and `sources` give it), URL
    or citation."""
    reports = {report.source_id: report for report in reports_of(session, incident.id, withdrawn=True)}
    try:
        found = (stored_source(session, source) if is_source_id(source)
                 else find_source(session, named_source_record(session, source)))
    except NotFoundError:
        found = None
    if found is None or found.id not in reports:
        listed = "; ".join(f"#{report.source_id}" for report in reports.values()) or "none"
        raise NotFoundError(f"{incident.key} has no report from the source {source!r}; its reports' sources: {listed} "
                            f"(`incidents show {incident.key}` names them)")
    return reports[found.id]


def withdraw_report(session: Session, key: str, source: str, who: str | None = None,
                    why: str | None = None) -> dict[str, Any]:
    """Withdraw one source's report of incident `key`: kept and shown, left out of the figures, which are
    recomputed at once."""
    why = _require_why(why, "a withdrawal")
    incident = _editable(session, key)
    report = _report_from(session, incident, source)
    if report.withdrawn_at is not None:
        raise UsageError(f"that report of {key} is already withdrawn; `incidents report restore` brings it back")
    return _report_withdrawn(session, incident, report, datetime.now(UTC), who, why)


def restore_report(session: Session, key: str, source: str, who: str | None = None,
                   why: str | None = None) -> dict[str, Any]:
    """Undo `withdraw_report`."""
    incident = _editable(session, key)
    report = _report_from(session, incident, source)
    if report.withdrawn_at is None:
        raise UsageError(f"that report of {key} is not withdrawn; there is nothing to restore")
    return _report_withdrawn(session, incident, report, None, who, why or "restored")


def _report_withdrawn(session: Session, incident: Incident, report: Report, when: datetime | None, who: str | None,
                      why: str) -> dict[str, Any]:
    before = curated_snapshot(incident)
    revisions = RevisionLog(session, who=who, why=why)
    revisions.record("reports", report.id, "withdrawn_at", report.withdrawn_at, when)
    report.withdrawn_at = when
    if when is not None and report.perpetrators_killed is not None and (
            incident.perpetrators_killed == report.perpetrators_killed):
        incident.perpetrators_killed = None  # it came from this report: found again from those that stand
    session.flush()
    recompute_figures(incident, reports_of(session, incident.id))  # UsageError if an analyst's best falls outside
    session.flush()
    revisions.record_changes(incident, before)
    return {"key": incident.key, "source_id": report.source_id, "withdrawn": when is not None,
            "killed": {"low": incident.killed_low, "best": incident.killed_best, "high": incident.killed_high}}


def withdraw_source(session: Session, source_id: int, who: str | None = None,
                    why: str | None = None) -> dict[str, Any]:
    """Withdraw every standing report of one source (`incidents sources delete`): a source found unreliable.
    Each report is withdrawn as `report delete` withdraws it, and each incident's figures recomputed."""
    why = _require_why(why, "a withdrawal")
    return _each_report_of(session, source_id, standing=True, who=who, why=why)


def restore_source(session: Session, source_id: int, who: str | None = None,
                   why: str | None = None) -> dict[str, Any]:
    """Bring back the reports the last `incidents sources delete` of one source withdrew (a report withdrawn on
    its own, for its own reason, stays withdrawn)."""
    return _each_report_of(session, source_id, standing=False, who=who, why=why or "restored")


def _each_report_of(session: Session, source_id: int, standing: bool, who: str | None, why: str) -> dict[str, Any]:
    """Withdraw a source's standing reports (the ids kept in a revision of the source), or restore those."""
    source_id = stored_source(session, source_id).id
    if standing:
        reports = list(session.scalars(select(Report).where(Report.source_id == source_id,
                                                            Report.withdrawn_at.is_(None)).order_by(Report.id)))
    else:
        last = session.scalars(select(Revision).where(
            Revision.table_name == "sources", Revision.row_id == source_id, Revision.field == "withdrawn reports")
            .order_by(Revision.id.desc())).first()
        ids = json.loads(last.new_value) if last is not None and last.new_value else []
        reports = list(session.scalars(select(Report).where(Report.id.in_(ids), Report.source_id == source_id,
                                                            Report.withdrawn_at.is_not(None)).order_by(Report.id)))
    if not reports:
        raise UsageError(f"Source #{source_id} has no {'standing' if standing else 'withdrawn'} report"
                         + ("" if standing else " that `incidents sources delete` withdrew") + "; there is nothing to "
                         + ("withdraw" if standing else "restore"))
    when = datetime.now(UTC) if standing else None
    keys = []
    for report in reports:
        incident = session.get_one(Incident, report.incident_id, with_for_update=True)
        _report_withdrawn(session, incident, report, when, who, why)
        keys.append(incident.key)
    RevisionLog(session, who=who, why=why).record(
        "sources", source_id, "withdrawn reports", json.dumps([r.id for r in reports]) if not standing else None,
        json.dumps([r.id for r in reports]) if standing else None)
    return {"source_id": source_id, "withdrawn": standing, "incidents": sorted(keys)}


# ---- perpetrators: `incidents perpetrators add|set|remove`

def _actor_id(session: Session, name: str) -> int:
    """The actor `name` names by any alias, else NotFoundError with the nearest names."""
    try:
        return ActorResolver(session, "strict").resolve(name)
    except UsageError as exc:
        raise NotFoundError(str(exc).replace("(strict actor policy)", "(not in the registry)")) from None


def _link_words(session: Session, link: IncidentActor) -> str:
    """A link as one revision value: 'NAME (attribution), source #ID'."""
    name = session.get_one(Actor, link.actor_id).name
    return (name + (f" ({link.attribution})" if link.attribution else "")
            + (f", source #{link.source_id}" if link.source_id else ""))


def _link_source(session: Session, source: str | None) -> int | None:
    """The source a link rests on, from its id, URL or citation; a new source from a URL or citation not stored."""
    if source is None or not source.strip():
        return None
    if is_source_id(source):
        return stored_source(session, source).id
    return get_or_create_source(session, named_source_record(session, source)).id


def perpetrator_add(session: Session, key: str, group: str, attribution: str | None = None,
                    source: str | None = None, who: str | None = None, why: str | None = None,
                    new_group: bool = False) -> dict[str, Any]:
    """Name `group` (by any alias) a perpetrator of incident `key`, with the attribution a source gives. A name
    the registry does not know is refused with the nearest names, unless `new_group` makes it a new group."""
    incident = _editable(session, key)
    level = parse_choice(attribution, "attribution", Attribution)
    resolver = ActorResolver(session, "create")
    if not new_group and resolver.find(group) is None:
        near = resolver.suggest(group)
        raise NotFoundError(f"{group!r} is no group in the registry" + (f"; did you mean {near}?" if near else "")
                            + f" Name a known group or alias, or give {option('new_group')} to add it as a new one")
    actor_id = resolver.resolve(group)
    existing = _link(session, incident, actor_id, required=False)
    if existing is not None:
        raise UsageError(f"{key} already names {_link_words(session, existing)} as a perpetrator; change it with "
                         f"`incidents perpetrators set {key} {group!r} {option('attribution')} ...`")
    link = IncidentActor(incident_id=incident.id, actor_id=actor_id, role=Role.PERPETRATOR.value,
                         attribution=level.value if level else None, source_id=_link_source(session, source))
    session.add(link)
    session.flush()
    RevisionLog(session, who=who, why=why).record("incident_actors", link.id, "link", None,
                                                  _link_words(session, link))
    return {"key": key, "perpetrator": _link_words(session, link), "created_actors": resolver.created}


def perpetrator_set(session: Session, key: str, group: str, attribution: str | None = None,
                    source: str | None = None, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Change the attribution (and, given, the source) of a perpetrator of incident `key`."""
    incident = _editable(session, key)
    link = _link(session, incident, _actor_id(session, group))
    _not_from_a_merge(session, link)
    if attribution is None and source is None:
        raise UsageError(f"say what to change: {option('attribution')} and/or {option('source')}")
    revisions = RevisionLog(session, who=who, why=why)
    if attribution is not None:
        level = parse_choice(attribution, "attribution", Attribution)
        new = level.value if level else None
        if new != link.attribution:
            revisions.record("incident_actors", link.id, "attribution", link.attribution, new)
            link.attribution = new
    if source is not None:
        source_id = _link_source(session, source)
        if source_id != link.source_id:
            revisions.record("incident_actors", link.id, "source_id", link.source_id, source_id)
            link.source_id = source_id
    session.flush()
    return {"key": key, "perpetrator": _link_words(session, link)}


def perpetrator_remove(session: Session, key: str, group: str, who: str | None = None,
                       why: str | None = None) -> dict[str, Any]:
    """Remove a perpetrator from incident `key`. The link's last state is kept in the revision (as JSON, with its
    incident), so `history` shows it and `--as-of` a day before puts it back."""
    why = _require_why(why, "a removal")
    incident = _editable(session, key)
    link = _link(session, incident, _actor_id(session, group))
    _not_from_a_merge(session, link)
    words = _link_words(session, link)
    kept = {"incident_id": link.incident_id, "actor_id": link.actor_id, "role": link.role,
            "attribution": link.attribution, "source_id": link.source_id,
            "created_at": link.created_at.isoformat() if link.created_at else None, "words": words}
    RevisionLog(session, who=who, why=why).record("incident_actors", link.id, "link", json.dumps(kept), None)
    session.delete(link)
    session.flush()
    return {"key": key, "removed": words}


def _link(session: Session, incident: Incident, actor_id: int, required: bool = True) -> Any:
    link = session.scalar(select(IncidentActor).where(
        IncidentActor.incident_id == incident.id, IncidentActor.actor_id == actor_id,
        IncidentActor.role == Role.PERPETRATOR.value))
    if link is None and required:
        name = session.get_one(Actor, actor_id).name
        named = [_link_words(session, row) for row in session.scalars(select(IncidentActor).where(
            IncidentActor.incident_id == incident.id, IncidentActor.role == Role.PERPETRATOR.value))]
        raise NotFoundError(f"{incident.key} does not name {name} as a perpetrator; it names: "
                            f"{'; '.join(named) or 'none'}")
    return link
