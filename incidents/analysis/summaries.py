"""Per-group summaries: aggregated in SQL per group, shaped with pandas."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.analysis.filters import Filters, in_scope
from incidents.analysis.sql import actor_groups, frame_of, group_links, group_names, year_of
from incidents.models import Incident, Location, Role

COLUMNS = [
    "group", "incidents", "killed_best", "killed_low", "killed_high", "wounded_best", "wounded_low", "wounded_high",
    "killed_per_incident",
    "first_attack", "last_attack", "days_since_last", "claimed_share", "attributed_share", "suspected_share",
    "top_provinces", "top_attack_types", "year", "year_incidents", "previous_year_incidents", "change_vs_previous",
]


def group_summary(
    session: Session, filters: Filters | None = None, rollup: bool = False, role: str = Role.PERPETRATOR.value,
    year: int | None = None, as_of: date | None = None, top: int = 3,
) -> pd.DataFrame:
    """One row per group, most incidents first. Columns (see COLUMNS):

    incidents; killed and wounded summed over incidents (best, low, high; an unknown toll adds nothing);
    killed_per_incident (best, over incidents with a known toll); first and last attack and days since the last
    (to `as_of`, default today); the shares of the group's links that are claimed, attributed and suspected;
    the `top` provinces and attack types; incidents in `year` (default: the year of the group's last attack)
    against the year before, and the change.
    """
    filters = filters or Filters()
    as_of = as_of or date.today()
    groups = actor_groups(session, filters, rollup, role).subquery()
    scope = in_scope(session, filters)
    year_column = year_of().label("year")
    # Per group and year in one scan: the per-year counts, and the totals as sums over the years.
    per_year = frame_of(session,
        select(
            groups.c.group_id, year_column, func.count(Incident.id), func.sum(Incident.killed_best),
            func.sum(Incident.killed_low), func.sum(Incident.killed_high), func.sum(Incident.wounded_best),
            func.sum(Incident.wounded_low), func.sum(Incident.wounded_high),
            func.count(Incident.killed_best), func.min(Incident.date_start), func.max(Incident.date_start),
        )
        .join(groups, groups.c.incident_id == Incident.id).where(scope).group_by(groups.c.group_id, year_column),
        ["group", "year", "incidents", "killed_best", "killed_low", "killed_high", "wounded_best", "wounded_low",
         "wounded_high", "known_toll", "first_attack", "last_attack"])
    if per_year.empty:
        return pd.DataFrame(columns=COLUMNS)
    names = group_names(session)
    per_year["group"] = per_year["group"].map(names)
    for name in ("killed_best", "killed_low", "killed_high", "wounded_best", "wounded_low", "wounded_high"):
        per_year[name] = pd.to_numeric(per_year[name]).fillna(0).astype("int64")
    frame = per_year.groupby("group", as_index=False).agg(
        incidents=("incidents", "sum"), killed_best=("killed_best", "sum"), killed_low=("killed_low", "sum"),
        killed_high=("killed_high", "sum"), wounded_best=("wounded_best", "sum"), wounded_low=("wounded_low", "sum"),
        wounded_high=("wounded_high", "sum"), known_toll=("known_toll", "sum"),
        first_attack=("first_attack", "min"), last_attack=("last_attack", "max"),
    )
    frame["killed_per_incident"] = (frame["killed_best"] / frame["known_toll"].where(frame["known_toll"] > 0)).round(2)
    frame["first_attack"] = pd.to_datetime(frame["first_attack"]).dt.date
    frame["last_attack"] = pd.to_datetime(frame["last_attack"]).dt.date
    frame["days_since_last"] = frame["last_attack"].map(lambda last: (as_of - last).days)

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

    # Provinces and attack types in one scan; the result is bounded by their numbers, not by incidents.
    places = frame_of(session,
        select(groups.c.group_id, Location.admin1, Incident.attack_type, func.count(Incident.id))
        .join(groups, groups.c.incident_id == Incident.id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(scope).group_by(groups.c.group_id, Location.admin1, Incident.attack_type),
        ["group", "admin1", "attack_type", "incidents"])
    places["group"] = places["group"].map(names)
    for column_name, source in (("top_provinces", "admin1"), ("top_attack_types", "attack_type")):
        ranked = (places.dropna(subset=[source]).groupby(["group", source], as_index=False)["incidents"].sum()
                  .sort_values(["group", "incidents", source], ascending=[True, False, True]))
        top_values = ranked.groupby("group")[source].apply(lambda v: list(v[:top]))
        frame[column_name] = frame["group"].map(top_values).map(lambda v: v if isinstance(v, list) else [])

    per_year_count = {(g, int(y)): int(n)
                      for g, y, n in per_year[["group", "year", "incidents"]].itertuples(index=False)}
    frame["year"] = [year or last.year for last in frame["last_attack"]]
    frame["year_incidents"] = [per_year_count.get((g, y), 0)
                               for g, y in zip(frame["group"], frame["year"], strict=True)]
    frame["previous_year_incidents"] = [per_year_count.get((g, y - 1), 0)
                                        for g, y in zip(frame["group"], frame["year"], strict=True)]
    frame["change_vs_previous"] = frame["year_incidents"] - frame["previous_year_incidents"]
    frame = frame.sort_values(["incidents", "group"], ascending=[False, True]).reset_index(drop=True)
    return frame[COLUMNS]
