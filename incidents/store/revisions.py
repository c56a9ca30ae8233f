"""Revisions: every change to a curated field, with who, when, why and the import run; the public recorder."""

from __future__ import annotations

import getpass
from datetime import date

from sqlalchemy.orm import Session

from incidents.models import Import, Incident, Revision

# Fields an analyst curates; a change to any of them is written to `revisions`.
CURATED_FIELDS = (
    "title", "date_start", "date_end", "date_precision", "location_id", "attack_type", "target_type",
    "weapon_type", "suicide", "summary", "status", "killed_low", "killed_best", "killed_high",
    "wounded_low", "wounded_best", "wounded_high", "perpetrators_killed", "origin_dataset", "origin_id",
    "withdrawn_at",
)


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def curated_snapshot(incident: Incident) -> dict[str, object]:
    """The incident's curated fields as they stand: take one before a change, hand it to record_changes after."""
    return {name: getattr(incident, name) for name in CURATED_FIELDS}


class RevisionLog:
    """Writes revisions for one unit of work (an edit, a load, an import run), each with the same who and why."""

    def __init__(self, session: Session, who: str | None = None, why: str | None = None,
                 import_run: Import | None = None) -> None:
        self.session = session
        self.who = who or current_user()
        self.why = why
        self.import_run = import_run

    def record(self, table: str, row_id: int, name: str, old: object, new: object) -> None:
        """One change of one field of one row."""
        self.session.add(
            Revision(
                table_name=table, row_id=row_id, field=name, old_value=as_text(old), new_value=as_text(new),
                changed_by=self.who, reason=self.why,
                import_id=self.import_run.id if self.import_run else None,
            )
        )

    def record_changes(self, incident: Incident, before: dict[str, object]) -> int:
        """A revision for every curated field that differs from `before` (a curated_snapshot); returns how many."""
        changes = 0
        for name in CURATED_FIELDS:
            old, new = before.get(name), getattr(incident, name)
            if as_text(old) != as_text(new):
                self.record("incidents", incident.id, name, old, new)
                changes += 1
        return changes
