"""Timelines, the event log and quiet spells: aggregated in SQL, small results shaped with pandas.

Date precision is respected: an event known only to the month is not put on a made-up day. At a frequency
finer than an event's precision (a month-precision event in a weekly timeline) the event is counted apart,
in `DataFrame.attrs["unplaced"]`, and the CLI says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from incidents.analysis.filters import Filters, in_scope
from incidents.analysis.reads import date_text
from incidents.analysis.sql import (
    FREQUENCIES,
    actor_groups,
    as_day,
    days_between,
    frame_of,
    group_names,
    last_coarse_columns,
    later_coarse,
    period_start,
    plain,
    year_of,
)
from incidents.errors import FieldError, option
from incidents.gazetteer import unit_name
from incidents.limits import limit, override
from incidents.models import Actor, Incident, IncidentActor, Location, Report, Role

# The precisions an event may have to be placed in a period of each frequency.
PLACEABLE = {
    "day": ("day",), "week": ("day",), "month": ("day", "month"), "quarter": ("day", "month"),
    "year": ("day", "month", "year"),
}
GROUPINGS = (None, "actor", "country", "admin1", "admin2", "attack_type")
# The series of the incidents that have no value to group by (an incident with no perpetrator has no actor series:
# it is no group's attack).
NONE_OF = {"country": "(no country)", "admin1": "(no province)", "admin2": "(no district)",
           "attack_type": "(no attack type)"}
MEASURES = ["incidents", "killed_best", "killed_low", "killed_high", "unknown_killed", "wounded_best",
            "unknown_wounded"]
# Each summed toll with the count of incidents whose toll is unknown: a sum over incidents none of whose tolls is
# known is NA, never 0.
UNKNOWN_OF = {"killed_best": "unknown_killed", "killed_low": "unknown_killed", "killed_high": "unknown_killed",
              "wounded_best": "unknown_wounded"}


def _grouped(session: Session, query: Select[Any], by: str | None, filters: Filters, rollup: bool,
             role: str) -> tuple[Select[Any], Any]:
    """Add the `by` dimension to a query over incidents; returns (query, group column)."""
    if by not in GROUPINGS:
        raise FieldError("by", by, "is not one of: actor, country, admin1, admin2, attack_type")
    if by == "actor":
        groups = actor_groups(session, filters, rollup, role).subquery()
        return query.join(groups, groups.c.incident_id == Incident.id), groups.c.group_id
    if by == "admin1":  # by the coded unit, however spelt; the text as stored where the gazetteer knows none
        return (query.outerjoin(Location, Location.id == Incident.location_id),
                func.coalesce(Location.admin1_code, Location.admin1))
    if by == "admin2":  # by the gazetteer's district, however spelt; the text as stored where it knows none
        return (query.outerjoin(Location, Location.id == Incident.location_id),
                func.coalesce(Location.admin2_code, Location.admin2))
    if by == "country":
        return query.outerjoin(Location, Location.id == Incident.location_id), Location.country
    if by == "attack_type":
        return query, Incident.attack_type
    return query, None


def _measures() -> list[ColumnElement[Any]]:
    return [
        func.count(Incident.id).label("incidents"),
        func.sum(Incident.killed_best).label("killed_best"),
        func.sum(Incident.killed_low).label("killed_low"),
        func.sum(Incident.killed_high).label("killed_high"),
        func.sum(case((Incident.killed_best.is_(None), 1), else_=0)).label("unknown_killed"),
        func.sum(Incident.wounded_best).label("wounded_best"),
        func.sum(case((Incident.wounded_best.is_(None), 1), else_=0)).label("unknown_wounded"),
    ]


def timeline(
    session: Session, filters: Filters | None = None, freq: str = "month", by: str | None = None,
    rollup: bool = False, role: str = Role.PERPETRATOR.value, rolling: int | None = None, cumulative: bool = False,
) -> pd.DataFrame:
    """Incidents, killed (best, low, high) and wounded per period, zero-filled, with the incidents whose tolls
    are unknown counted apart.

    Columns: period (first day), [group], incidents, killed_best, killed_low, killed_high, unknown_killed,
    wounded_best, unknown_wounded; with rolling=N also <measure>_rolling (sum over N periods); with cumulative
    also <measure>_cumulative. A toll sums the known tolls; it is NA (unknown, never 0) where the period (or
    window) has incidents and none of their tolls is known. A period with no incidents has 0 of everything.
    attrs["unplaced"] counts the events whose date is coarser than the frequency.
    """
    filters = replace(filters or Filters(), role=role)  # --actor looks for the role counted
    scope = in_scope(session, filters)
    period = period_start(freq).label("period")
    query = select(period).where(scope)
    query, group = _grouped(session, query, by, filters, rollup, role)
    # One scan: events the frequency can place (coarser '' ) and, apart, those known only more coarsely.
    coarser = case((Incident.date_precision.in_(PLACEABLE[freq]), ""), else_=Incident.date_precision).label("coarser")
    keys = [period] + ([group.label("group")] if group is not None else [])
    query = query.add_columns(*keys[1:], coarser, *_measures()).group_by(*keys, coarser)
    rows = frame_of(session, query, [k.name for k in keys] + ["coarser"] + MEASURES)
    unplaced = {
        str(precision): {"incidents": int(part["incidents"].sum()),
                         "killed_best": _whole(pd.to_numeric(part["killed_best"]).sum(min_count=1))}
        for precision, part in rows[rows["coarser"] != ""].groupby("coarser")
    }
    frame = rows[rows["coarser"] == ""].drop(columns=["coarser"])
    if by in NONE_OF:  # an incident with no province (or district ...) is a series of its own, never left out
        frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), NONE_OF[by])
    if by == "actor":
        frame["group"] = frame["group"].map(group_names(session))
    if by in ("admin1", "admin2"):
        frame = _units_named(frame, filters.as_today)

    since, until = filters.date_bounds()
    frame = _zero_fill(frame, freq, since, until, group is not None)
    for suffix, total in (("_rolling", rolling), ("_cumulative", cumulative)):
        if not total:
            continue
        for measure in MEASURES:
            known = frame[measure].fillna(0).astype("int64")
            parts = known.groupby(frame["group"]) if group is not None else known
            if suffix == "_rolling":
                frame[measure + suffix] = parts.transform(
                    lambda values: values.rolling(rolling, min_periods=1).sum()).astype("int64")
            else:
                frame[measure + suffix] = parts.cumsum()
        for measure in UNKNOWN_OF:
            # Unknown when the window has incidents and no period in it knows this measure (each its own: an
            # incident may give a range without a best figure).
            known = (frame[measure].notna() & (frame["incidents"] > 0)).astype("int64")
            parts = known.groupby(frame["group"]) if group is not None else known
            known_periods = (parts.transform(lambda values: values.rolling(rolling, min_periods=1).sum())
                             if suffix == "_rolling" else parts.cumsum())
            all_unknown = (frame["incidents" + suffix] > 0) & (known_periods == 0)
            frame[measure + suffix] = frame[measure + suffix].astype("Int64").mask(all_unknown)
    frame.attrs.update({"freq": freq, "by": by, "rollup": rollup, "unplaced": unplaced})
    return frame


def _units_named(frame: pd.DataFrame, as_today: bool) -> pd.DataFrame:
    """A frame grouped by admin1 or admin2 code (or text) with each code written as its unit's name, FATA's under Khyber
    Pakhtunkhwa with `as_today`, and rows that come to name one unit summed (a toll stays unknown when all
    its parts are)."""
    frame = frame.assign(group=frame["group"].map(lambda value: unit_name(value, as_today)))
    if frame.empty:
        return frame
    return (frame.groupby(["period", "group"], as_index=False, dropna=False, sort=False)
            .agg({measure: lambda values: values.sum(min_count=1) for measure in MEASURES}))


def _whole(value: Any) -> int | None:
    """A sum as an int, or None when it is unknown (NaN)."""
    value = plain(value)
    return None if value is None else int(value)


def period_floor(moment: pd.Timestamp, freq: str) -> pd.Timestamp:
    """The first day of the period of `freq` that holds `moment`."""
    day = moment.normalize()
    if freq == "week":
        return day - pd.Timedelta(days=day.weekday())
    if freq == "month":
        return day.replace(day=1)
    if freq == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if freq == "year":
        return day.replace(month=1, day=1)
    return day


def _zero_fill(frame: pd.DataFrame, freq: str, since: date | None, until: date | None,
               grouped: bool) -> pd.DataFrame:
    frame["period"] = pd.to_datetime(frame["period"].astype(str).str[:10], format="%Y-%m-%d")  # SQLite: text; PG: dates
    for measure in MEASURES:
        frame[measure] = pd.to_numeric(frame[measure]).astype("Int64" if measure in UNKNOWN_OF else "int64")
    if frame.empty and not (since and until):
        return frame
    start = period_floor(pd.Timestamp(since) if since else frame["period"].min(), freq)
    end = pd.Timestamp(until) if until else frame["period"].max()
    periods = pd.date_range(start, end, freq=FREQUENCIES[freq])
    groups = sorted(frame["group"].dropna().unique()) if grouped and not frame.empty else []
    cells = len(periods) * max(1, len(groups))
    if cells > limit("TIMELINE_ROWS"):
        raise FieldError("freq", freq, f"would make a timeline of {cells:,} rows ({len(periods):,} periods"
                         + (f" x {len(groups):,} groups" if grouped else "")
                         + f", more than {limit('TIMELINE_ROWS'):,}); "
                         f"choose a coarser {option('freq')} or a shorter {option('since')}/{option('until')} range "
                         f"({override('TIMELINE_ROWS')})")
    if grouped:
        index = pd.MultiIndex.from_product([periods, groups], names=["period", "group"])
        frame = frame.set_index(["period", "group"]).reindex(index, fill_value=0).reset_index()
        return frame.sort_values(["group", "period"]).reset_index(drop=True)
    return frame.set_index("period").reindex(pd.Index(periods, name="period"), fill_value=0).reset_index()


def event_log(session: Session, filters: Filters | None = None) -> pd.DataFrame:
    """The chronological list of incidents: key, date (as precise as known), precision, place, perpetrators
    with attribution, attack type, killed low/best/high, wounded best, and the number of sources."""
    filters = filters or Filters()
    scope = in_scope(session, filters)
    sources = (select(func.count(distinct(Report.source_id))).where(Report.incident_id == Incident.id,
                                                                    Report.withdrawn_at.is_(None))
               .correlate(Incident).scalar_subquery())
    rows = session.execute(
        select(Incident, Location, sources.label("sources"))
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(scope)
        .order_by(Incident.date_start, Incident.key)
    ).all()
    links: dict[int, list[tuple[str, str]]] = {}
    for incident_id, name, attribution in session.execute(
        select(IncidentActor.incident_id, Actor.name, IncidentActor.attribution)
        .join(Actor, Actor.id == IncidentActor.actor_id)
        .where(in_scope(session, filters, IncidentActor.incident_id), IncidentActor.role == Role.PERPETRATOR.value)
    ):
        links.setdefault(incident_id, []).append((name, f"{name} ({attribution})" if attribution else name))
    labels = {incident_id: [label for _, label in sorted(pairs)]  # by name, code point order, as the view sorts
              for incident_id, pairs in links.items()}
    return pd.DataFrame(
        [{
            "key": incident.key, "date": date_text(incident), "date_precision": incident.date_precision,
            "country": location.country if location else None, "admin1": location.admin1 if location else None,
            "admin2": location.admin2 if location else None, "place": location.place if location else None,
            "perpetrators": "; ".join(labels.get(incident.id, [])) or None, "attack_type": incident.attack_type,
            "killed_low": incident.killed_low, "killed_best": incident.killed_best,
            "killed_high": incident.killed_high, "wounded_best": incident.wounded_best, "sources": sources_count,
        } for incident, location, sources_count in rows],
        columns=["key", "date", "date_precision", "country", "admin1", "admin2", "place", "perpetrators",
                 "attack_type", "killed_low", "killed_best", "killed_high", "wounded_best", "sources"],
    ).astype({name: "Int64" for name in ("killed_low", "killed_best", "killed_high", "wounded_best", "sources")})


MIN_BASELINE_YEARS = 3  # fewer years than this give no baseline to call a year quiet or active


@dataclass
class Gaps:
    """groups: one row per group (first and last day-precision attack, current spell, longest spells, flagged
    years, and why no year could be flagged); years: incidents per group per year, zero-filled, with each year's
    flag."""

    groups: pd.DataFrame
    years: pd.DataFrame


def gaps(session: Session, filters: Filters | None = None, rollup: bool = False, role: str = Role.PERPETRATOR.value,
         as_of: date | None = None, top: int = 3) -> Gaps:
    """Quiet spells per group, and years unusually quiet or active against the group's own baseline.

    Spells, first and last attack and the current spell are measured between day-precision attacks only; an
    attack known only to the month or year is counted in its year and named apart (last_coarse_attack) when it
    may be later than the last dated day. A year is 'quiet' when it has under half the group's median incidents
    per year, and 'active' when it has more than twice the median; the median is taken over the years from the
    group's first attack to `as_of` (default: the last day of --until, else today). With fewer than
    MIN_BASELINE_YEARS years, or a median of 0, no year is flagged and `baseline` says why.
    """
    filters = replace(filters or Filters(), role=role)  # --actor looks for the role counted
    as_of = as_of or filters.date_bounds()[1] or date.today()
    scope = in_scope(session, filters)
    groups = actor_groups(session, filters, rollup, role).subquery()
    is_day = Incident.date_precision == "day"
    base = (select(groups.c.group_id.label("group"), Incident.date_start.label("day"))
            .join(groups, groups.c.incident_id == Incident.id)
            .where(scope, is_day)
            .distinct().subquery())
    previous = func.lag(base.c.day).over(partition_by=base.c.group, order_by=base.c.day)
    spells = select(base.c.group, previous.label("after"), base.c.day.label("before"),
                    days_between(base.c.day, previous).label("days")).subquery()
    ranked = select(spells, func.row_number().over(partition_by=spells.c.group,
                                                  order_by=(spells.c.days.desc(), spells.c.before)).label("rank")
                    ).where(spells.c.days.is_not(None)).subquery()
    longest = session.execute(select(ranked).where(ranked.c.rank <= top).order_by(ranked.c.group, ranked.c.rank)).all()

    year = year_of().label("year")
    yearly = session.execute(
        select(groups.c.group_id, year, func.count(Incident.id), func.min(case((is_day, Incident.date_start))),
               func.max(case((is_day, Incident.date_start))), *last_coarse_columns())
        .join(groups, groups.c.incident_id == Incident.id)
        .where(scope)
        .group_by(groups.c.group_id, year)
    ).all()
    names = group_names(session)
    spells_by_group: dict[str, list[dict[str, Any]]] = {}
    for row in longest:
        spells_by_group.setdefault(names[row.group], []).append(
            {"after": as_day(row.after), "before": as_day(row.before), "days": int(row.days)})
    years = pd.DataFrame(yearly, columns=["group", "year", "incidents", "first", "last", "last_month", "last_year"])
    years["group"] = years["group"].map(names)
    rows, year_rows = [], []
    for group_name, part in years.groupby("group"):
        counts = dict(zip(part["year"].astype(int), part["incidents"].astype(int), strict=True))
        first_year, last_year = min(counts), max(max(counts), as_of.year)
        series = pd.Series({y: counts.get(y, 0) for y in range(first_year, last_year + 1)})
        median = float(series.median())
        baseline = None
        if len(series) < MIN_BASELINE_YEARS:
            baseline = (f"{len(series)} year{'s' if len(series) != 1 else ''} of data ({first_year}-{last_year}); "
                        f"a baseline needs {MIN_BASELINE_YEARS}")
        elif median == 0:
            baseline = (f"the median year {first_year}-{last_year} has no incidents, so no year can be "
                        "called quiet")
        flagged = baseline is None
        quiet = [int(y) for y, n in series.items() if flagged and n < 0.5 * median]
        active = [int(y) for y, n in series.items() if flagged and median > 0 and n > 2 * median]
        for y, n in series.items():
            flag = "quiet" if y in quiet else "active" if y in active else ""
            year_rows.append({"group": group_name, "year": y, "incidents": int(n), "flag": flag,
                              "median": median})
        first_attack = min((day for v in part["first"] if (day := as_day(v)) is not None), default=None)
        last_attack = max((day for v in part["last"] if (day := as_day(v)) is not None), default=None)
        rows.append({
            "group": group_name, "incidents": int(series.sum()), "first_attack": first_attack,
            "last_attack": last_attack,
            "current_spell_days": (as_of - last_attack).days if last_attack else None,
            "last_coarse_attack": later_coarse(max((v for v in part["last_month"] if v is not None), default=None),
                                               max((v for v in part["last_year"] if v is not None), default=None),
                                               last_attack),
            "longest_spells": spells_by_group.get(group_name, []),
            "quiet_years": quiet, "active_years": active, "baseline": baseline,
        })
    summary = pd.DataFrame(rows, columns=["group", "incidents", "first_attack", "last_attack", "current_spell_days",
                                          "last_coarse_attack", "longest_spells", "quiet_years", "active_years",
                                          "baseline"])
    summary["current_spell_days"] = summary["current_spell_days"].astype("Int64")
    summary = summary.sort_values("incidents", ascending=False).reset_index(drop=True)
    result = Gaps(summary, pd.DataFrame(year_rows, columns=["group", "year", "incidents", "flag", "median"]))
    result.groups.attrs["as_of"] = as_of
    return result

