"""Exports: the native incidents CSV (what `incidents import` reads back losslessly), spreadsheet-safe.

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
apostrophe, and so does a text cell that already starts with one; the native importer drops exactly one
leading apostrophe, so export -> import gives back every value. Numbers are written as numbers (-3 stays -3).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.importers.native import NATIVE_COLUMNS
from incidents.models import Actor, Incident, IncidentActor, Location, Report, Role, Source
from incidents.queries import Filters, date_text, filtered_incidents

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
BATCH = 5000


def spreadsheet_safe(value: str) -> str:
    """Neutralise a text cell against formula injection, reversibly (see module docstring)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unescape(value: str) -> str:
    """The inverse of spreadsheet_safe, applied by the native importer."""
    return value[1:] if value.startswith("'") else value


def _source_identity(source: Source) -> dict[str, Any]:
    """Just enough to find the source again: its URL, else its dataset record, else its citation."""
    if source.url:
        return {"url": source.url}
    if source.dataset and source.dataset_record_id:
        return {"dataset": source.dataset, "record_id": source.dataset_record_id, "kind": source.kind}
    return {"citation": source.citation}


def _report_json(report: Report, source: Source) -> dict[str, Any]:
    item: dict[str, Any] = {"source": {
        key: value for key, value in (
            ("url", source.url), ("citation", source.citation), ("outlet", source.outlet), ("title", source.title),
            ("published_on", source.published_on.isoformat() if source.published_on else None),
            ("author", source.author), ("language", source.language),
            ("kind", source.kind if source.kind != "article" else None), ("dataset", source.dataset),
            ("dataset_release", source.dataset_release), ("record_id", source.dataset_record_id),
        ) if value is not None
    }}
    for key in ("killed", "killed_low", "killed_high", "wounded", "perpetrators_killed", "perpetrator_stated",
                "attribution", "excerpt", "note"):
        value = getattr(report, key)
        if value is not None:
            item[key] = value
    for flag in ("killed_at_least", "wounded_at_least", "preliminary"):
        if getattr(report, flag):
            item[flag] = True
    if report.reported_on is not None and report.reported_on != source.published_on:
        item["reported_on"] = report.reported_on.isoformat()
    return item


def incident_rows(session: Session, filters: Filters) -> Iterator[dict[str, Any]]:
    """Native rows for every incident matching `filters`, oldest first, read in batches (never all at once)."""
    ids = [row[0] for row in session.execute(
        filtered_incidents(session, filters).order_by(Incident.date_start, Incident.key)
    )]
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        incidents = session.execute(
            select(Incident, Location).outerjoin(Location, Location.id == Incident.location_id)
            .where(Incident.id.in_(batch))
        ).all()
        perpetrators: dict[int, list[str]] = {}
        actors: dict[int, list[dict[str, Any]]] = {}
        for incident_id, name, role, attribution, source in session.execute(
            select(IncidentActor.incident_id, Actor.name, IncidentActor.role, IncidentActor.attribution, Source)
            .join(Actor, Actor.id == IncidentActor.actor_id)
            .outerjoin(Source, Source.id == IncidentActor.source_id)
            .where(IncidentActor.incident_id.in_(batch))
            .order_by(IncidentActor.id)
        ):
            if role == Role.PERPETRATOR.value:
                perpetrators.setdefault(incident_id, []).append(f"{name}={attribution}" if attribution else name)
            entry: dict[str, Any] = {"actor": name, "role": role}
            if attribution:
                entry["attribution"] = attribution
            if source is not None:
                entry["source"] = _source_identity(source)
            actors.setdefault(incident_id, []).append(entry)
        reports: dict[int, list[dict[str, Any]]] = {}
        for report, source in session.execute(
            select(Report, Source).join(Source, Source.id == Report.source_id)
            .where(Report.incident_id.in_(batch)).order_by(Report.id)
        ):
            reports.setdefault(report.incident_id, []).append(_report_json(report, source))
        order = {incident_id: position for position, incident_id in enumerate(batch)}
        for incident, location in sorted(incidents, key=lambda pair: order[pair[0].id]):
            yield {
                "key": incident.key, "title": incident.title, "date": date_text(incident),
                "date_end": incident.date_end.isoformat() if incident.date_end else None,
                "country": location.country if location else None,
                "admin1": location.admin1 if location else None, "admin2": location.admin2 if location else None,
                "place": location.place if location else None,
                "latitude": location.latitude if location else None,
                "longitude": location.longitude if location else None,
                "geo_precision": location.geo_precision if location else None,
                "attack_type": incident.attack_type, "target_type": incident.target_type,
                "weapon_type": incident.weapon_type,
                "suicide": None if incident.suicide is None else ("yes" if incident.suicide else "no"),
                "status": incident.status, "summary": incident.summary,
                "perpetrators": "; ".join(perpetrators.get(incident.id, [])) or None,
                "killed_low": incident.killed_low, "killed_best": incident.killed_best,
                "killed_high": incident.killed_high, "wounded_low": incident.wounded_low,
                "wounded_best": incident.wounded_best, "wounded_high": incident.wounded_high,
                "perpetrators_killed": incident.perpetrators_killed,
                "origin_dataset": incident.origin_dataset, "origin_id": incident.origin_id,
                "reports": json.dumps(reports.get(incident.id, []), ensure_ascii=False),
                "actors": json.dumps(actors.get(incident.id, []), ensure_ascii=False),
                "raw_row": json.dumps(incident.raw_row, ensure_ascii=False) if incident.raw_row else None,
            }


def write_csv(rows: Iterator[dict[str, Any]], path: Path, columns: list[str], excel: bool = False) -> int:
    """RFC 4180 CSV in UTF-8 (with a BOM for Excel when asked); NULL is an empty cell. Returns the row count."""
    count = 0
    with path.open("w", newline="", encoding="utf-8-sig" if excel else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if (value := row.get(name)) is None else
                             spreadsheet_safe(value) if isinstance(value, str) else value for name in columns])
            count += 1
    return count


def export_incidents(session: Session, filters: Filters, path: Path, excel: bool = False) -> int:
    """The native CSV of the incidents matching `filters`; `incidents import` reads it back as it was."""
    columns = [name for name in NATIVE_COLUMNS if not name.startswith("source_") and name != "excerpt"]
    return write_csv(incident_rows(session, filters), path, columns, excel)
