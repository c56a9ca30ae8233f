"""Per-group summaries: aggregated in SQL per group, shaped with pandas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from incidents.analysis.filters import Filters, in_scope
from incidents.analysis.sql import (
    actor_groups,
    as_day,
    frame_of,
    group_links,
    group_names,
    last_coarse_columns,
    later_coarse,
    year_of,
)
from incidents.gazetteer import unit, unit_name
from incidents.models import DatePrecision, Incident, Location, Role

COLUMNS = [
    "group", "incidents", "killed_best", "killed_low", "killed_high", "unknown_killed",
    "wounded_best", "wounded_low", "wounded_high", "unknown_wounded", "killed_per_incident",
    "first_attack", "last_attack", "days_since_last", "coarse_dated", "last_coarse_attack",
    "claimed_share", "attributed_share", "suspected_share",
    "top_provinces", "top_attack_types", "year", "year_incidents", "previous_year_incidents", "change_vs_previous",
]
SUMS = ("killed_best", "killed_low", "killed_high", "wounded_best", "wounded_low", "wounded_high")


def known_sum(values: pd.Series) -> Any:
    """A sum over tolls some of which may be unknown: the known ones summed, or NA when none is known.
    Unknown is never zero."""
    return values.sum(min_count=1)


def group_summary(
    session: Session, filters: Filters | None = None, rollup: bool = False, role: str = Role.PERPETRATOR.value,
    year: int | None = None, as_of: date | None = None, top: int = 3,
) -> pd.DataFrame:
    """One row per group, most incidents first. Columns (see COLUMNS):

    incidents (a denial never counts: filters.counted_link); killed and wounded summed over the incidents whose
    toll is known (best, low, high), with unknown_killed and unknown_wounded counting the others, and NA when no
    toll of the group is known; killed_per_incident (best, over incidents with a known toll); first and last
    attack and days since the last over day-precision attacks only, counted to `as_of` (or the last day of
    --until if earlier; default: that, else today); coarse_dated, the
    incidents known only to the month or year, and last_coarse_attack, the latest of them (as '2023-08' or
    '2023') when it may be later than the last dated day; the shares of the group's links that are claimed,
    attributed and suspected; the `top` provinces and attack types; incidents in `year` (default: the year of
    that same day: the same year for every group) against the year before, and the change.
    """
    filters = replace(filters or Filters(), role=role)  # --actor looks for the role counted
    until = filters.date_bounds()[1]
    # The day the figures are counted to, as gaps counts: the as-of day, the last day of --until, else today.
    as_of = min(day for day in (as_of, until) if day) if (as_of or until) else date.today()
    groups = actor_groups(session, filters, rollup, role).subquery()
    scope = in_scope(session, filters)
    year_column = year_of().label("year")
    is_day = Incident.date_precision == DatePrecision.DAY.value
    # Per group and year in one scan: the per-year counts, and the totals as sums over the years.
    per_year = frame_of(session,
        select(
            groups.c.group_id, year_column, func.count(Incident.id),
            *(func.sum(getattr(Incident, name)) for name in SUMS),
            func.count(Incident.killed_best), func.count(Incident.wounded_best),
            func.min(case((is_day, Incident.date_start))), func.max(case((is_day, Incident.date_start))),
            func.sum(case((is_day, 0), else_=1)), *last_coarse_columns(),
        )
        .join(groups, groups.c.incident_id == Incident.id).where(scope).group_by(groups.c.group_id, year_column),
        ["group", "year", "incidents", *SUMS, "known_killed", "known_wounded", "first_attack", "last_attack",
         "coarse_dated", "last_month", "last_year"])
    if per_year.empty:
        return pd.DataFrame(columns=COLUMNS)
    names = group_names(session)
    per_year["group"] = per_year["group"].map(names)
    for name in SUMS:
        per_year[name] = pd.to_numeric(per_year[name]).astype("Int64")
    grouped = per_year.groupby("group")
    frame = grouped[["incidents", "known_killed", "known_wounded", "coarse_dated"]].sum().astype("int64")
    for name in SUMS:
        frame[name] = grouped[name].agg(known_sum).astype("Int64")
    frame["first_attack"] = grouped["first_attack"].min()
    frame["last_attack"] = grouped["last_attack"].max()
    frame["last_month"] = grouped["last_month"].max()
    frame["last_year"] = grouped["last_year"].max()
    frame = frame.reset_index()
    frame["unknown_killed"] = frame["incidents"] - frame["known_killed"]
    frame["unknown_wounded"] = frame["incidents"] - frame["known_wounded"]
    frame["killed_per_incident"] = (frame["killed_best"].astype("Float64")
                                    / frame["known_killed"].where(frame["known_killed"] > 0)).round(2)
    frame["first_attack"] = [as_day(value) for value in frame["first_attack"]]
    frame["last_attack"] = [as_day(value) for value in frame["last_attack"]]
    frame["days_since_last"] = [(as_of - last).days if last else None for last in frame["last_attack"]]
    frame["days_since_last"] = frame["days_since_last"].astype("Int64")
    frame["last_coarse_attack"] = [
        later_coarse(month, year_start, last)
        for month, year_start, last in zip(frame["last_month"], frame["last_year"], frame["last_attack"],
                                           strict=True)]

    # Attribution shares: over the group's links, so a rolled-up parent counts each member's word.
    links = group_links(session, filters, rollup, role).subquery()
    shares = frame_of(session,
        select(links.c.group_id, links.c.attribution, func.count())
        .where(in_scope(session, filters, links.c.incident_id))
        .group_by(links.c.group_id, links.c.attribution),
        ["group", "attribution", "links"])
    shares["group"] = shares["group"].map(names)
    totals = shares.groupby("group")["links"].sum()
    for level in ("claimed", "attributed", "suspected"):
        counts = shares[shares["attribution"] == level].set_index("group")["links"]
        frame[f"{level}_share"] = frame["group"].map((counts / totals).round(3)).fillna(0.0)

    # Provinces (by coded unit) and attack types in one scan; the result is bounded by their numbers.
    province = func.coalesce(Location.admin1_code, Location.admin1)
    places = frame_of(session,
        select(groups.c.group_id, province, Incident.attack_type, func.count(Incident.id))
        .join(groups, groups.c.incident_id == Incident.id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(scope).group_by(groups.c.group_id, province, Incident.attack_type),
        ["group", "admin1", "attack_type", "incidents"])
    places["group"] = places["group"].map(names)
    places["admin1"] = places["admin1"].map(unit_name)  # the unit's name, however each source spelt it
    for column_name, source in (("top_provinces", "admin1"), ("top_attack_types", "attack_type")):
        ranked = (places.dropna(subset=[source]).groupby(["group", source], as_index=False)["incidents"].sum()
                  .sort_values(["group", "incidents", source], ascending=[True, False, True]))
        top_values = ranked.groupby("group")[source].apply(lambda v: list(v[:top]))
        frame[column_name] = frame["group"].map(top_values).map(lambda v: v if isinstance(v, list) else [])

    per_year_count = {(g, int(y)): int(n)
                      for g, y, n in per_year[["group", "year", "incidents"]].itertuples(index=False)}
    asked = year or as_of.year
    frame["year"] = asked
    frame["year_incidents"] = [per_year_count.get((g, asked), 0) for g in frame["group"]]
    frame["previous_year_incidents"] = [per_year_count.get((g, asked - 1), 0) for g in frame["group"]]
    frame["change_vs_previous"] = frame["year_incidents"] - frame["previous_year_incidents"]
    frame = frame.sort_values(["incidents", "group"], ascending=[False, True]).reset_index(drop=True)
    return frame[COLUMNS]



PROVINCE_COLUMNS = ["country", "admin1_code", "province", "incidents", "killed_best", "killed_low", "killed_high",
                    "unknown_killed", "wounded_best", "unknown_wounded"]
NO_PROVINCE = "(no province known)"


def province_figures(session: Session, filters: Filters | None = None) -> pd.DataFrame:
    """Incidents and tolls per country and province, keyed by ISO 3166-2 code (admin1_code) so a map of province
    outlines can join it; with filters.as_today a former unit's incidents count under the one it joined (FATA's
    under PK-KP). Incidents whose province the gazetteer does not know are one row per country with admin1_code
    empty and province '(no province known)'; sums are NA when no toll in them is known, never 0."""
    filters = filters or Filters()
    rows = frame_of(session,
        select(Location.country, Location.admin1_code, func.count(Incident.id),
               func.sum(Incident.killed_best), func.sum(Incident.killed_low), func.sum(Incident.killed_high),
               func.sum(case((Incident.killed_best.is_(None), 1), else_=0)), func.sum(Incident.wounded_best),
               func.sum(case((Incident.wounded_best.is_(None), 1), else_=0)))
        .select_from(Incident).outerjoin(Location, Location.id == Incident.location_id)
        .where(in_scope(session, filters)).group_by(Location.country, Location.admin1_code),
        ["country", "admin1_code", "incidents", "killed_best", "killed_low", "killed_high", "unknown_killed",
         "wounded_best", "unknown_wounded"])
    if rows.empty:
        return pd.DataFrame(columns=PROVINCE_COLUMNS)
    if filters.as_today:
        def today(code: Any) -> Any:
            found = unit(code) if isinstance(code, str) else None
            return found.merged_into if found is not None and found.merged_into else code

        rows["admin1_code"] = rows["admin1_code"].map(today)
    measures = PROVINCE_COLUMNS[3:]
    frame = (rows.groupby(["country", "admin1_code"], as_index=False, dropna=False, sort=False)
             .agg({name: lambda values: values.sum(min_count=1) for name in measures}))
    frame["province"] = [unit_name(code) if isinstance(code, str) else NO_PROVINCE for code in frame["admin1_code"]]
    frame = frame.astype({name: "Int64" for name in measures})
    return frame.sort_values(["country", "incidents", "province"], ascending=[True, False, True],
                             na_position="last").reset_index(drop=True)[PROVINCE_COLUMNS]
