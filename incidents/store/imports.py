"""Import runs: one row per load or import, with its file, sha256 and counts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from incidents.models import Import
from incidents.store.revisions import current_user


def start_import(session: Session, file_name: str, fmt: str, sha256: str | None, who: str | None = None) -> Import:
    run = Import(file_name=file_name, format=fmt, file_sha256=sha256, imported_by=who or current_user())
    session.add(run)
    session.flush()
    return run


def finish_import(run: Import, read: int, counts: dict[str, int], rejected: int = 0) -> None:
    run.rows_read = read
    run.inserted = counts.get("inserted", 0)
    run.updated = counts.get("updated", 0)
    run.unchanged = counts.get("unchanged", 0)
    run.rejected = rejected
    run.finished_at = datetime.now(UTC)
