"""Reports, one source's account of one incident: the row a ReportRecord becomes, and an incident's reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.models import Report
from incidents.records import ReportRecord


def report_values(record: ReportRecord) -> dict[str, Any]:
    """The columns of the reports row `record` becomes, beside its incident_id and source_id."""
    return {
        "reported_on": record.reported_on,
        "killed": record.killed, "killed_low": record.killed_low, "killed_high": record.killed_high,
        "killed_at_least": record.killed_at_least,
        "wounded": record.wounded, "wounded_low": record.wounded_low, "wounded_high": record.wounded_high,
        "wounded_at_least": record.wounded_at_least,
        "perpetrators_killed": record.perpetrators_killed, "preliminary": record.preliminary,
        "perpetrator_stated": record.perpetrator_stated,
        "attribution": record.attribution.value if record.attribution else None,
        "excerpt": record.excerpt, "note": record.note,
    }


def reports_of(session: Session, incident_id: int, withdrawn: bool = False) -> list[Report]:
    """The reports of one incident that stand, in the order they were recorded (what the figures are derived
    from); `withdrawn=True` adds the withdrawn ones (`incidents report delete`)."""
    query = select(Report).where(Report.incident_id == incident_id)
    if not withdrawn:
        query = query.where(Report.withdrawn_at.is_(None))
    return list(session.scalars(query.order_by(Report.id)))
