"""SQL helpers the analyses share: periods and years per engine, actor groups with roll-up, frames from rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import and_, literal_column, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select

from incidents.analysis.filters import Filters, actor_ids
from incidents.errors import FieldError
from incidents.models import Actor, IncidentActor

FREQUENCIES = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}


def frame_of(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    """Run `query` and build a DataFrame column by column: through the Core connection (no ORM row loading)
    and without pandas inspecting each row, which costs more than the query on large results."""
    rows = session.connection().execute(query).fetchall()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, (list(values) for values in zip(*rows, strict=True)), strict=True)))


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def period_start(session: Session, freq: str) -> ColumnElement[Any]:
    """SQL for the first day of the period holding incidents.date_start (text on SQLite, a date on PostgreSQL)."""
    if freq not in FREQUENCIES:
        raise FieldError("freq", freq, f"is not one of: {', '.join(FREQUENCIES)}")
    d = "incidents.date_start"
    if dialect(session) == "postgresql":
        return literal_column(f"CAST(date_trunc('{freq}', {d}) AS DATE)" if freq != "day" else d)
    sqlite = {
        "day": d,
        "week": f"date({d}, printf('-%d days', (CAST(strftime('%w', {d}) AS INTEGER) + 6) % 7))",
        "month": f"strftime('%Y-%m-01', {d})",
        "quarter": f"printf('%s-%02d-01', strftime('%Y', {d}), "
                   f"((CAST(strftime('%m', {d}) AS INTEGER) - 1) / 3) * 3 + 1)",
        "year": f"strftime('%Y-01-01', {d})",
    }
    return literal_column(sqlite[freq])


def year_of(session: Session) -> ColumnElement[Any]:
    if dialect(session) == "postgresql":
        return literal_column("CAST(EXTRACT(YEAR FROM incidents.date_start) AS INTEGER)")
    return literal_column("CAST(strftime('%Y', incidents.date_start) AS INTEGER)")


def _group_mapping(session: Session, rollup: bool) -> Any:
    """(actor_id, group_id): each actor itself, or with `rollup` its top-level parent."""
    if not rollup:
        return select(Actor.id.label("actor_id"), Actor.id.label("group_id")).subquery()
    # Each actor's top-level parent, by a recursive CTE (same SQL on SQLite and PostgreSQL).
    roots = select(Actor.id.label("actor_id"), Actor.id.label("group_id")).where(
        Actor.parent_id.is_(None)).cte("roots", recursive=True)
    child = aliased(Actor)
    return roots.union_all(select(child.id, roots.c.group_id).join(roots, child.parent_id == roots.c.actor_id))


def group_links(session: Session, filters: Filters, rollup: bool, role: str) -> Any:
    """SELECT incident_id, actor_id, group_id, attribution: every link of `role`, with the group it counts for.

    With `rollup` a sub-group counts for its top-level parent (ISKP under Islamic State). Only the --actor
    filter's actors (with their sub-groups when asked) and its attribution levels are kept. Group names are
    looked up afterwards (group_names), so the database groups by integers.
    """
    conditions = [IncidentActor.role == role]
    if filters.actor:
        conditions.append(IncidentActor.actor_id.in_(actor_ids(session, filters.actor, filters.include_subgroups)))
    if filters.attribution:
        conditions.append(IncidentActor.attribution.in_(filters.attribution))
    if not rollup:
        # actor_id + 0, not actor_id: grouping by the bare column lets SQLite walk the links in actor order to
        # skip a sort, which turns every incident lookup into a random read (measured 4x slower); the
        # expression keeps links in incident order. The value is the same on every engine.
        return select(IncidentActor.incident_id.label("incident_id"), IncidentActor.actor_id.label("actor_id"),
                      (IncidentActor.actor_id + 0).label("group_id"), IncidentActor.attribution.label("attribution")
                      ).where(and_(*conditions))
    mapping = _group_mapping(session, rollup)
    return (
        select(IncidentActor.incident_id.label("incident_id"), IncidentActor.actor_id.label("actor_id"),
               mapping.c.group_id.label("group_id"), IncidentActor.attribution.label("attribution"))
        .join(mapping, mapping.c.actor_id == IncidentActor.actor_id)
        .where(and_(*conditions))
    )


def actor_groups(session: Session, filters: Filters, rollup: bool, role: str) -> Select[Any]:
    """SELECT incident_id, group_id: each incident once per group. Without roll-up the unique
    (incident, actor, role) constraint already says so; with it, a group and its faction on one incident
    would meet, so DISTINCT keeps one."""
    links = group_links(session, filters, rollup, role).subquery()
    query = select(links.c.incident_id, links.c.group_id)
    return query.distinct() if rollup else query


def group_names(session: Session) -> dict[int, str]:
    return {actor_id: name for actor_id, name in session.execute(select(Actor.id, Actor.name))}
