"""Per-group summaries: aggregated in SQL per group, shaped with pandas."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incidents.models import Incident, Location, Role
from incidents.queries import Filters, filtered_incidents
from incidents.timelines import actor_groups, group_links, year_of

COLUMNS = [
    "group", "incidents", "killed_best", "killed_low", "killed_high", "wounded_best", "killed_per_incident",
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
    ids = filtered_incidents(session, filters).subquery()
    groups = actor_groups(session, filters, rollup, role).subquery()
    in_scope = Incident.id.in_(select(ids.c.id))
    main = session.execute(
        select(
            groups.c.group_name, func.count(Incident.id), func.sum(Incident.killed_best),
            func.sum(Incident.killed_low), func.sum(Incident.killed_high), func.sum(Incident.wounded_best),
            func.count(Incident.killed_best), func.min(Incident.date_start), func.max(Incident.date_start),
        )
        .join(groups, groups.c.incident_id == Incident.id).where(in_scope).group_by(groups.c.group_name)
    ).all()
    frame = pd.DataFrame(main, columns=["group", "incidents", "killed_best", "killed_low", "killed_high",
                                        "wounded_best", "known_toll", "first_attack", "last_attack"])
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    for name in ("killed_best", "killed_low", "killed_high", "wounded_best"):
        frame[name] = pd.to_numeric(frame[name]).fillna(0).astype("int64")
    frame["killed_per_incident"] = (frame["killed_best"] / frame["known_toll"].where(frame["known_toll"] > 0)).round(2)
    frame["first_attack"] = pd.to_datetime(frame["first_attack"]).dt.date
    frame["last_attack"] = pd.to_datetime(frame["last_attack"]).dt.date
    frame["days_since_last"] = frame["last_attack"].map(lambda last: (as_of - last).days)

    # Attribution shares: over the group's links, so a rolled-up parent counts each member's word.
    links = group_links(session, filters, rollup, role).subquery()
    shares = pd.DataFrame(session.execute(
        select(links.c.group_name, links.c.attribution, func.count())
        .where(links.c.incident_id.in_(select(ids.c.id)))
        .group_by(links.c.group_name, links.c.attribution)
    ).all(), columns=["group", "attribution", "links"])
    totals = shares.groupby("group")["links"].sum()
    for level in ("claimed", "attributed", "suspected"):
        counts = shares[shares["attribution"] == level].set_index("group")["links"]
        frame[f"{level}_share"] = frame["group"].map((counts / totals).round(3)).fillna(0.0)

    for column_name, expression in (("top_provinces", Location.admin1), ("top_attack_types", Incident.attack_type)):
        ranked = pd.DataFrame(session.execute(
            select(groups.c.group_name, expression, func.count(Incident.id))
            .join(groups, groups.c.incident_id == Incident.id)
            .outerjoin(Location, Location.id == Incident.location_id)
            .where(in_scope, expression.is_not(None))
            .group_by(groups.c.group_name, expression)
        ).all(), columns=["group", "value", "incidents"])
        ranked = ranked.sort_values(["group", "incidents", "value"], ascending=[True, False, True])
        frame[column_name] = frame["group"].map(ranked.groupby("group")["value"].apply(lambda v: list(v[:top])))
        frame[column_name] = frame[column_name].map(lambda v: v if isinstance(v, list) else [])

    years = pd.DataFrame(session.execute(
        select(groups.c.group_name, year_of(session).label("year"), func.count(Incident.id))
        .join(groups, groups.c.incident_id == Incident.id).where(in_scope)
        .group_by(groups.c.group_name, year_of(session))
    ).all(), columns=["group", "year", "incidents"])
    per_year = {(g, int(y)): int(n) for g, y, n in years.itertuples(index=False)}
    frame["year"] = [year or last.year for last in frame["last_attack"]]
    frame["year_incidents"] = [per_year.get((g, y), 0) for g, y in zip(frame["group"], frame["year"], strict=True)]
    frame["previous_year_incidents"] = [per_year.get((g, y - 1), 0)
                                        for g, y in zip(frame["group"], frame["year"], strict=True)]
    frame["change_vs_previous"] = frame["year_incidents"] - frame["previous_year_incidents"]
    frame = frame.sort_values(["incidents", "group"], ascending=[False, True]).reset_index(drop=True)
    return frame[COLUMNS]
