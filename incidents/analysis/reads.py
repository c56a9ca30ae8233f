"""Reading incidents back: filtered lists, one incident in full, its history, the actor registry. Plain dicts out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from incidents.analysis.filters import Filters, filtered_incidents
from incidents.models import (
    Actor,
    ActorAlias,
    Incident,
    IncidentActor,
    Location,
    Report,
    Revision,
    Role,
    Source,
    live_incidents,
)
from incidents.records import date_at_precision, excerpt_in_text
from incidents.store.incidents import require_incident
from incidents.store.sources import place_words


def _perpetrators(session: Session, incident_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = session.execute(
        select(IncidentActor.incident_id, Actor.name, IncidentActor.attribution, Source.url, Source.citation)
        .join(Actor, Actor.id == IncidentActor.actor_id)
        .outerjoin(Source, Source.id == IncidentActor.source_id)
        .where(IncidentActor.incident_id.in_(incident_ids), IncidentActor.role == Role.PERPETRATOR.value)
        .order_by(IncidentActor.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for incident_id, name, attribution, url, citation in rows:
        found.setdefault(incident_id, []).append(
            {"actor": name, "attribution": attribution, "source": url or citation}
        )
    return found


def list_incidents(session: Session, filters: Filters, limit: int | None = 100) -> tuple[list[dict[str, Any]], int]:
    """Incidents matching `filters`, newest first, at most `limit`; returns (rows, total matching)."""
    rows, total = listing(session, filters, limit)
    return list(rows), total


LISTING_BATCH = 2000  # rows read, and their perpetrators looked up, at a time


def listing(session: Session, filters: Filters, limit: int | None = 100) -> tuple[Iterator[dict[str, Any]], int]:
    """As list_incidents, with the rows made as they are read (a batch at a time), so a listing of every incident
    is never held whole; the iterator must be used while `session` is open."""
    matching = filtered_incidents(session, filters).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    report_count = (
        select(func.count(Report.id)).where(Report.incident_id == Incident.id, Report.withdrawn_at.is_(None))
        .correlate(Incident).scalar_subquery()
    )
    # Columns, not whole rows: an incident's raw dataset row (raw_row) can be kilobytes, and a listing of 100,000
    # incidents loaded as objects took 570 MB.
    query = (
        select(Incident.id, Incident.key, Incident.date_start, Incident.date_precision, Location.country,
               Location.admin1, Location.place, Location.admin2, Incident.killed_low, Incident.killed_best,
               Incident.killed_high, Incident.wounded_best, report_count.label("reports"), Incident.title)
        .outerjoin(Location, Incident.location_id == Location.id)
        .where(Incident.id.in_(select(matching.c.id)))
        .order_by(Incident.date_start.desc(), Incident.key)
    )
    if limit is not None:
        query = query.limit(limit)

    def rows() -> Iterator[dict[str, Any]]:
        for batch in session.execute(query.execution_options(yield_per=LISTING_BATCH)).partitions():
            perpetrators = _perpetrators(session, [row.id for row in batch])
            for row in batch:
                yield {
                    "key": row.key,
                    "date": date_at_precision(row.date_start, row.date_precision),
                    "date_precision": row.date_precision,
                    "country": row.country,
                    "admin1": row.admin1,
                    "place": row.place or row.admin2,
                    "perpetrators": perpetrators.get(row.id, []),
                    "killed_low": row.killed_low,
                    "killed_best": row.killed_best,
                    "killed_high": row.killed_high,
                    "wounded_best": row.wounded_best,
                    "reports": row.reports,
                    "title": row.title,
                }

    return rows(), total


def date_text(incident: Incident) -> str:
    """The date as precisely as it is known: 2023, 2023-07 or 2023-07-30."""
    return date_at_precision(incident.date_start, incident.date_precision)


def incident_detail(session: Session, key: str) -> dict[str, Any]:
    """Every field of one incident, its actors with attribution and source, and every report with its source."""
    incident = require_incident(session, key)
    return incident_details(session, [incident])[incident.key]


def incident_details(session: Session, incidents: list[Incident]) -> dict[str, dict[str, Any]]:
    """incident_detail of each of `incidents`, read a handful of queries for all of them (the site reads thousands),
    by key."""
    ids = [incident.id for incident in incidents]
    locations = {location.id: location for location in session.scalars(
        select(Location).where(Location.id.in_([i.location_id for i in incidents if i.location_id] or [-1])))}
    actor_rows = session.execute(
        select(IncidentActor, Actor, Source)
        .join(Actor, Actor.id == IncidentActor.actor_id)
        .outerjoin(Source, Source.id == IncidentActor.source_id)
        .where(IncidentActor.incident_id.in_(ids))
        .order_by(IncidentActor.id)
    ).all()
    parent = aliased(Actor)
    parents = dict(
        session.execute(
            select(Actor.id, parent.name).join(parent, parent.id == Actor.parent_id)
            .where(Actor.id.in_({actor.id for _, actor, _ in actor_rows} or {-1}))
        ).all()
    )
    report_rows = session.execute(
        select(Report, Source).join(Source, Source.id == Report.source_id)
        .where(Report.incident_id.in_(ids))
        .order_by(Report.preliminary, Report.reported_on.desc().nulls_last(), Report.id)
    ).all()
    reports: dict[int, list[dict[str, Any]]] = {}
    for report, source in report_rows:
        reports.setdefault(report.incident_id, []).append(
            _report_dict(report, source) | {"withdrawn": _withdrawal(session, "reports", report.id,
                                                                     report.withdrawn_at)})
    actors: dict[int, list[dict[str, Any]]] = {}
    for link, actor, source in actor_rows:
        actors.setdefault(link.incident_id, []).append(
            {"actor": actor.name, "parent": parents.get(actor.id), "role": link.role, "attribution": link.attribution,
             "source": (source.url or source.citation) if source else None})
    into_ids = {i.merged_into_id for i in incidents if i.merged_into_id}
    merged_into = dict(session.execute(select(Incident.id, Incident.key)
                                       .where(Incident.id.in_(into_ids or {-1}))).all())
    merged: dict[int, list[dict[str, Any]]] = {}
    for into, merged_key, dataset, origin in session.execute(
            select(Incident.merged_into_id, Incident.key, Incident.origin_dataset, Incident.origin_id)
            .where(Incident.merged_into_id.in_(ids)).order_by(Incident.key)):
        merged.setdefault(into or 0, []).append({"key": merged_key,
                                                "origin": f"{dataset} {origin}" if dataset else None})
    return {incident.key: _detail(session, incident, locations.get(incident.location_id or -1),
                                  actors.get(incident.id, []), reports.get(incident.id, []),
                                  merged_into.get(incident.merged_into_id or -1), merged.get(incident.id, []))
            for incident in incidents}


def _detail(session: Session, incident: Incident, location: Location | None, actors: list[dict[str, Any]],
            reports: list[dict[str, Any]], merged_into: str | None, merged: list[dict[str, Any]]) -> dict[str, Any]:
    killed: dict[str, Any] = {"low": incident.killed_low, "best": incident.killed_best,
                              "high": incident.killed_high, "best_chosen_by_analyst": incident.killed_best_manual}
    wounded: dict[str, Any] = {"low": incident.wounded_low, "best": incident.wounded_best,
                               "high": incident.wounded_high, "best_chosen_by_analyst": incident.wounded_best_manual}
    killed["according_to"] = _according_to(reports, "killed", killed)
    wounded["according_to"] = _according_to(reports, "wounded", wounded)
    return {
        "key": incident.key,
        "title": incident.title,
        "date": date_text(incident),
        "date_start": incident.date_start.isoformat(),
        "date_end": incident.date_end.isoformat() if incident.date_end else None,
        "date_precision": incident.date_precision,
        "location": None if location is None else {
            "country": location.country, "admin1": location.admin1, "admin2": location.admin2,
            "place": location.place, "latitude": location.latitude, "longitude": location.longitude,
            "geo_precision": location.geo_precision,
        },
        "attack_type": incident.attack_type,
        "target_type": incident.target_type,
        "weapon_type": incident.weapon_type,
        "suicide": incident.suicide,
        "status": incident.status,
        "summary": incident.summary,
        "killed": killed,
        "wounded": wounded,
        "perpetrators_killed": incident.perpetrators_killed,
        "origin": {"dataset": incident.origin_dataset, "id": incident.origin_id} if incident.origin_dataset else None,
        "actors": actors,
        "reports": reports,
        "merged_into": merged_into,
        "merged": merged,
        "withdrawn": _withdrawal(session, "incidents", incident.id, incident.withdrawn_at),
        "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
    }


def _withdrawal(session: Session, table: str, row_id: int, when: Any) -> dict[str, Any] | None:
    """When, by whom and why a row was withdrawn (incidents delete, report delete), from its revision."""
    if when is None:
        return None
    revision = session.scalars(select(Revision).where(
        Revision.table_name == table, Revision.row_id == row_id, Revision.field == "withdrawn_at",
        Revision.new_value.is_not(None)).order_by(Revision.id.desc())).first()
    return {"at": when.isoformat(), "by": revision.changed_by if revision else None,
            "why": revision.reason if revision else None}


def source_label(source: dict[str, Any]) -> str:
    """A short name for a source in one line: its outlet (and date), else its citation or URL."""
    name = source["outlet"] or source["citation"] or source["url"] or "?"
    return f"{name} {source['published_on']}" if source["outlet"] and source["published_on"] else name


def _according_to(reports: list[dict[str, Any]], measure: str, figures: dict[str, Any]) -> dict[str, list[str]]:
    """Which settled reports give each of low, best and high: every figure in `show` names its sources."""
    named: dict[str, list[str]] = {"low": [], "best": [], "high": []}
    for report in reports:
        if report["preliminary"] or report.get("withdrawn"):
            continue
        given = {"best": report[measure], "low": report.get(f"{measure}_low"), "high": report.get(f"{measure}_high")}
        given["low"] = given["best"] if given["low"] is None else given["low"]  # one figure is its own range
        given["high"] = given["best"] if given["high"] is None else given["high"]
        for which in named:
            if figures[which] is not None and given[which] == figures[which]:
                named[which].append(source_label(report["source"]))
    return named


def _report_dict(report: Report, source: Source) -> dict[str, Any]:
    return {
        "source": {
            "id": source.id, "url": source.url, "citation": source.citation, "outlet": source.outlet,
            "title": source.title,
            "published_on": source.published_on.isoformat() if source.published_on else None,
            "kind": source.kind, "dataset": source.dataset, "record_id": source.dataset_record_id,
            "dataset_release": source.dataset_release,
            "full_text_sha256": source.full_text_sha256,
        },
        "reported_on": report.reported_on.isoformat() if report.reported_on else None,
        "killed": report.killed,
        "killed_low": report.killed_low,
        "killed_high": report.killed_high,
        "killed_at_least": report.killed_at_least,
        "wounded": report.wounded,
        "wounded_low": report.wounded_low,
        "wounded_high": report.wounded_high,
        "wounded_at_least": report.wounded_at_least,
        "perpetrators_killed": report.perpetrators_killed,
        "preliminary": report.preliminary,
        "perpetrator_stated": report.perpetrator_stated,
        "attribution": report.attribution,
        "excerpt": report.excerpt,
        "excerpt_verified": excerpt_in_text(report.excerpt, source.full_text),
        "note": report.note,
    }


def actor_registry(session: Session) -> list[dict[str, Any]]:
    """Every actor with its kind, parent, aliases (with dataset scope) and perpetrator incident count."""
    parent = aliased(Actor)
    counts = dict(
        session.execute(
            select(IncidentActor.actor_id, func.count(IncidentActor.id))
            .join(Incident, Incident.id == IncidentActor.incident_id)
            .where(IncidentActor.role == Role.PERPETRATOR.value, live_incidents())
            .group_by(IncidentActor.actor_id)
        ).all()
    )
    aliases: dict[int, list[dict[str, Any]]] = {}
    for actor_id, alias, dataset, note in session.execute(
        select(ActorAlias.actor_id, ActorAlias.alias, ActorAlias.dataset, ActorAlias.note).order_by(ActorAlias.alias)
    ):
        aliases.setdefault(actor_id, []).append({"alias": alias, "dataset": dataset or None, "note": note})
    rows = session.execute(
        select(Actor, parent.name).outerjoin(parent, parent.id == Actor.parent_id).order_by(Actor.name)
    ).all()
    return [
        {
            "name": actor.name, "kind": actor.kind, "parent": parent_name, "description": actor.description,
            "aliases": [a for a in aliases.get(actor.id, []) if a["alias"] != actor.name],
            "incidents": counts.get(actor.id, 0),
        }
        for actor, parent_name in rows
    ]


def revised(session: Session, incident_ids: list[int]) -> set[int]:
    """Which of `incident_ids` have any revision of their own, their reports' or their actor links' (the others have
    an empty history, as `history` would read it)."""
    report_of = dict(session.execute(select(Report.id, Report.incident_id).where(Report.incident_id.in_(incident_ids))
                                     ).all())
    link_of = dict(session.execute(select(IncidentActor.id, IncidentActor.incident_id)
                                   .where(IncidentActor.incident_id.in_(incident_ids))).all())
    found = set(session.scalars(select(Revision.row_id).where(Revision.table_name == "incidents",
                                                              Revision.row_id.in_(incident_ids))))
    found |= {report_of[row] for row in session.scalars(select(Revision.row_id).where(
        Revision.table_name == "reports", Revision.row_id.in_(list(report_of) or [-1])))}
    found |= {link_of[row] for row in session.scalars(select(Revision.row_id).where(
        Revision.table_name == "incident_actors", Revision.row_id.in_(list(link_of) or [-1])))}
    removed = session.scalars(select(Revision.old_value).where(Revision.table_name == "incident_actors",
                                                               Revision.field == "link"))
    for value in removed:  # links removed since: their revisions name their incident
        if value and value.startswith('{"incident_id": '):
            number = int(value.split(",", 1)[0].split(":", 1)[1])
            if number in set(incident_ids):
                found.add(number)
    return found


def history(session: Session, key: str) -> list[dict[str, object]]:
    """Every revision of an incident, its reports and its actor links, oldest first."""
    incident = require_incident(session, key)
    report_ids = list(session.scalars(select(Report.id).where(Report.incident_id == incident.id)))
    link_ids = list(session.scalars(select(IncidentActor.id).where(IncidentActor.incident_id == incident.id)))
    # links removed since (incidents perpetrators remove): the removal's old value is the link, with its incident
    link_ids += session.scalars(select(Revision.row_id).where(
        Revision.table_name == "incident_actors", Revision.field == "link",
        Revision.old_value.startswith(f'{{"incident_id": {incident.id}, ')))
    rows = list(session.scalars(
        select(Revision).where(
            ((Revision.table_name == "incidents") & (Revision.row_id == incident.id))
            | ((Revision.table_name == "reports") & Revision.row_id.in_(report_ids or [-1]))
            | ((Revision.table_name == "incident_actors") & Revision.row_id.in_(link_ids or [-1]))
        ).order_by(Revision.changed_at, Revision.id)
    ))
    # A change of place is a change of location_id: shown as the places, with their ids.
    ids = {int(value) for r in rows if r.field == "location_id" for value in (r.old_value, r.new_value)
           if value is not None and value.isdigit()}
    places = {location.id: place_words(location)
              for location in session.scalars(select(Location).where(Location.id.in_(ids or [-1])))}

    def shown(field: str, value: str | None) -> str | None:
        if field == "location_id" and value is not None and value.isdigit() and int(value) in places:
            return f"{places[int(value)]} (#{value})"
        if field == "link" and value is not None and value.startswith("{"):
            return str(json.loads(value)["words"])
        return value

    return [{"when": r.changed_at.isoformat(), "table": r.table_name, "row": r.row_id, "field": r.field,
             "old": shown(r.field, r.old_value), "new": shown(r.field, r.new_value), "by": r.changed_by,
             "why": r.reason, "import": r.import_id}
            for r in rows]


def source_list(session: Session, search: str | None = None,
                limit: int | None = 100) -> tuple[list[dict[str, Any]], int]:
    """Stored sources, most reported first: each with its reports, and whether its text is stored (by its sha256);
    `search` keeps those whose URL, citation, outlet or title holds it (case-insensitive). Returns (rows, total)."""
    reports = select(func.count(Report.id)).where(Report.source_id == Source.id).correlate(Source).scalar_subquery()
    query = select(Source, reports.label("reports"))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(func.lower(func.coalesce(Source.url, "") + " " + func.coalesce(Source.citation, "") + " "
                                       + func.coalesce(Source.outlet, "") + " " + func.coalesce(Source.title, ""))
                            .like(pattern))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(reports.desc(), Source.id)
    if limit is not None:
        query = query.limit(limit)
    return [{
        "id": source.id, "url": source.url, "citation": source.citation, "outlet": source.outlet,
        "title": source.title, "published_on": source.published_on.isoformat() if source.published_on else None,
        "kind": source.kind, "dataset": source.dataset, "record_id": source.dataset_record_id, "reports": count,
        "full_text_sha256": source.full_text_sha256,
    } for source, count in session.execute(query)], total
