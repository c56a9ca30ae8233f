"""An analyst's edits of one incident: add a source's report, set a curated field. Each change is a revision."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import FieldError, UsageError
from incidents.models import Incident, Report, Status
from incidents.records import ReportRecord, parse_bool, parse_choice, parse_count
from incidents.store.figures import recompute_figures
from incidents.store.incidents import require_incident
from incidents.store.reports import report_values, reports_of
from incidents.store.revisions import RevisionLog, curated_snapshot
from incidents.store.sources import get_or_create_source

# Fields `incidents set` may change, with how a value is read. killed_best/wounded_best become the analyst's
# choice; the value 'auto' hands them back to the reports.
SETTABLE = {
    "title": "text", "summary": "text", "attack_type": "text", "target_type": "text", "weapon_type": "text",
    "status": "status", "suicide": "bool", "killed_best": "count", "wounded_best": "count",
    "perpetrators_killed": "count",
}


def add_report(session: Session, key: str, record: ReportRecord, who: str | None = None,
               why: str | None = None) -> Report:
    """Add one source's account to an incident and recompute its figures; every change is a revision."""
    incident = require_incident(session, key, for_update=True)
    if record.reported_on is None:
        record.reported_on = record.source.published_on
    source = get_or_create_source(session, record.source)
    if session.scalar(select(Report.id).where(Report.incident_id == incident.id, Report.source_id == source.id)):
        raise UsageError(f"{key} already has a report from {record.source.describe()}; one report per source")
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
    kind = SETTABLE[name]
    with session.no_autoflush:  # the half-changed incident must not reach the database before it is whole
        _set(session, incident, name, kind, value)
    session.flush()
    RevisionLog(session, who=who, why=why).record_changes(incident, before)
    return before[name], getattr(incident, name)


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
        else:
            setattr(incident, name, value.strip() or None)
    except FieldError as exc:  # named as the field being set, whatever the parser called it
        raise FieldError(name, exc.value, exc.reason) from None
