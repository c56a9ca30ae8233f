"""SQL helpers the analyses share: periods and years per engine, actor groups with roll-up, frames from rows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from incidents.analysis.filters import Filters, actor_ids, counted_link
from incidents.errors import FieldError
from incidents.models import Actor, DatePrecision, Incident, IncidentActor
from incidents.records import date_at_precision, period_end

ROLES = ("perpetrator", "party", "target")
FREQUENCIES = {"day": "D", "week": "W-MON", "month": "MS", "quarter": "QS", "year": "YS"}


def frame_of(session: Session, query: Any, columns: list[str]) -> pd.DataFrame:
    """Run `query` and build a DataFrame column by column: through the Core connection (no ORM row loading)
    and without pandas inspecting each row, which costs more than the query on large results."""
    rows = session.connection().execute(query).fetchall()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, (list(values) for values in zip(*rows, strict=True)), strict=True)))


def plain(value: Any) -> Any:
    """A DataFrame cell as a plain Python value, for exports, JSON and the terminal alike: None for NaN, NA and
    NaT (unknown is never 0), a date for a pandas Timestamp, a Python number for a numpy one; lists and dicts
    cell by cell; anything else as it is."""
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if value is None or pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


# ---- dates per engine: SQL constructs compiled for SQLite and PostgreSQL, and a loud error on any other engine


class _PeriodStart(FunctionElement[Any]):
    """The first day of the period of frequency `freq` that holds a date (text on SQLite, a date on PostgreSQL)."""

    freq = "day"
    inherit_cache = True


# One class per frequency, so that the frequency is part of a statement's cache key.
_PERIOD_STARTS = {freq: type(f"PeriodStart_{freq}", (_PeriodStart,), {"freq": freq, "inherit_cache": True})
                  for freq in FREQUENCIES}


class YearOf(FunctionElement[Any]):
    """The year of a date, as an integer."""

    type = Integer()
    inherit_cache = True


class DaysBetween(FunctionElement[Any]):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True


@compiles(_PeriodStart)
@compiles(YearOf)
@compiles(DaysBetween)
def _unknown_engine(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    raise CompileError(f"{type(element).__name__} has no SQL for the {compiler.dialect.name} engine; incidents "
                       "runs on sqlite and postgresql")


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(argument, **kw) for argument in element.clauses]


@compiles(_PeriodStart, "postgresql")
def _period_start_postgresql(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    (day,) = _arguments(element, compiler, **kw)
    return day if element.freq == "day" else f"CAST(date_trunc('{element.freq}', {day}) AS DATE)"


@compiles(_PeriodStart, "sqlite")
def _period_start_sqlite(element: _PeriodStart, compiler: SQLCompiler, **kw: Any) -> str:
    (d,) = _arguments(element, compiler, **kw)
    return {
        "day": d,
        "week": f"date({d}, printf('-%d days', (CAST(strftime('%w', {d}) AS INTEGER) + 6) % 7))",
        "month": f"strftime('%Y-%m-01', {d})",
        "quarter": f"printf('%s-%02d-01', strftime('%Y', {d}), "
                   f"((CAST(strftime('%m', {d}) AS INTEGER) - 1) / 3) * 3 + 1)",
        "year": f"strftime('%Y-01-01', {d})",
    }[element.freq]


@compiles(YearOf, "postgresql")
def _year_of_postgresql(element: YearOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(EXTRACT(YEAR FROM {_arguments(element, compiler, **kw)[0]}) AS INTEGER)"


@compiles(YearOf, "sqlite")
def _year_of_sqlite(element: YearOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(strftime('%Y', {_arguments(element, compiler, **kw)[0]}) AS INTEGER)"


@compiles(DaysBetween, "postgresql")
def _days_between_postgresql(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _arguments(element, compiler, **kw)
    return f"({later} - {earlier})"


@compiles(DaysBetween, "sqlite")
def _days_between_sqlite(element: DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = _arguments(element, compiler, **kw)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def period_start(freq: str, day: Any = Incident.date_start) -> ColumnElement[Any]:
    """SQL for the first day of the period holding `day` (default incidents.date_start)."""
    if freq not in FREQUENCIES:
        raise FieldError("freq", freq, f"is not one of: {', '.join(FREQUENCIES)}")
    return _PERIOD_STARTS[freq](day)


def year_of(day: Any = Incident.date_start) -> ColumnElement[Any]:
    """SQL for the year of `day` (default incidents.date_start), an integer."""
    return YearOf(day)


def days_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """SQL for the whole days from `earlier` to `later`."""
    return DaysBetween(later, earlier)


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
    looked up afterwards (group_names), so the database groups by integers. A denial never makes an incident
    a group's attack (filters.counted_link) unless --attribution asks for denials.
    """
    if role not in ROLES:
        raise FieldError("role", role, f"is not one of: {', '.join(ROLES)}")
    conditions = [IncidentActor.role == role, counted_link(filters)]
    if filters.actor:
        conditions.append(IncidentActor.actor_id.in_(actor_ids(session, filters.actor, filters.include_subgroups)))
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


def last_coarse_columns() -> list[ColumnElement[Any]]:
    """Two aggregates to add to a per-group scan: the latest first day of an incident known only to the month,
    and of one known only to the year (later_coarse picks between them)."""
    return [func.max(case((Incident.date_precision == precision, Incident.date_start)))
            for precision in (DatePrecision.MONTH.value, DatePrecision.YEAR.value)]


def later_coarse(last_month: Any, last_year: Any, last_day: date | None) -> str | None:
    """Of a group's latest month-dated and year-dated incidents (first days, or None), the one whose period ends
    last, as text at its precision ('2023-08', '2023'), when it may be later than `last_day`; else None."""
    found = [(period_end(day, precision), day, precision) for day, precision in (
        (as_day(last_month), DatePrecision.MONTH), (as_day(last_year), DatePrecision.YEAR)) if day is not None]
    if not found:
        return None
    end, start, precision = max(found)
    if last_day is not None and end <= last_day:
        return None
    return date_at_precision(start, precision)


def as_day(value: Any) -> date | None:
    """A day from the database as a date (SQLite gives text, PostgreSQL a date; pandas NaT or NaN is None)."""
    if value is None or (not isinstance(value, str | date) and pd.isna(value)):
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
