"""`--as-of DATE`: the database as it stood at the end of DATE, as a read-only snapshot any command can query.

What "stood" means, row by row:

- a report counts from the day its source published it (`reported_on`), or, with no such date, from the
  day it was recorded; the incident's low/best/high are recomputed from the reports that counted then;
- an analyst's best figure counts from the day it was set (a revision, or the incident's creation);
- an actor link counts from the day its source published it, or else from the incident's recording;
- an incident is there if it was recorded by then or a report of it had been published by then;
- every later change to a curated field (a revision dated after DATE) is undone, and so is every later
  merge (or unmerge); revisions and import runs after DATE are left out.

So for Bajaur, `--as-of 2023-07-31` gives the tolls of the first day's reports and no perpetrator (the
claim's source appeared on 1 August), whenever the reports were typed in.

The snapshot is a new SQLite file in a temporary directory holding those rows; the list, show, timeline,
summary and export code runs on it unchanged. It costs a copy of the database, so it suits questions about
one time, not a loop.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from incidents.db import make_engine, upgrade
from incidents.errors import UsageError
from incidents.models import Base
from incidents.records import derive_figures
from incidents.store import choose_figures

BATCH = 5000
INT_FIELDS = {"location_id", "killed_low", "killed_best", "killed_high", "wounded_low", "wounded_best",
              "wounded_high", "perpetrators_killed"}


def parse_as_of(text: str | date | None) -> date | None:
    if text is None or isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from None


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _typed(field: str, text: str | None) -> object:
    if text is None:
        return None
    if field in INT_FIELDS:
        return int(text)
    if field in {"date_start", "date_end"}:
        return date.fromisoformat(text)
    if field == "suicide":
        return text == "True"
    return text


class _Figures:
    """Just what derive_figures reads from a report."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


def snapshot(engine: Engine, as_of: date) -> Engine:
    """A new SQLite database holding what `engine`'s database held at the end of `as_of` (see the module doc)."""
    folder = Path(tempfile.mkdtemp(prefix="incidents-as-of-"))
    atexit.register(shutil.rmtree, folder, True)
    target = make_engine(f"sqlite:///{folder / 'as_of.db'}")
    upgrade(target)
    tables = Base.metadata.tables
    with engine.connect() as source:
        def rows(name: str) -> list[dict[str, Any]]:
            return [dict(row._mapping) for row in source.execute(select(tables[name]))]

        incidents = {row["id"]: row for row in rows("incidents")}
        sources = rows("sources")
        published = {row["id"]: row["published_on"] for row in sources}
        homes = _merge_state(rows("merges"), incidents, as_of)
        all_reports = rows("reports")
        all_links = rows("incident_actors")
        for row in all_reports:
            row["incident_id"] = homes["reports"].get(row["id"], row["incident_id"])
        for row in all_links:
            row["incident_id"] = homes["links"].get(row["id"], row["incident_id"])
        reports = sorted((r for r in all_reports if (r["reported_on"] or _day(r["created_at"])) <= as_of),
                         key=lambda r: r["id"])  # derive_figures breaks ties by position, as store does
        revisions = rows("revisions")
        kept_revisions = [r for r in revisions if _day(r["changed_at"]) <= as_of]

        # Undo every later change to an incident's curated fields, newest first.
        later = sorted((r for r in revisions if r["table_name"] == "incidents" and _day(r["changed_at"]) > as_of),
                       key=lambda r: (r["changed_at"], r["id"]), reverse=True)
        for revision in later:
            incident = incidents.get(revision["row_id"])
            if incident is not None and revision["field"] in incident:
                incident[revision["field"]] = _typed(revision["field"], revision["old_value"])

        reported = {r["incident_id"] for r in reports}
        known = {i for i, row in incidents.items() if _day(row["created_at"]) <= as_of or i in reported}
        best_set_by_then = {(r["row_id"], r["field"]) for r in kept_revisions
                            if r["table_name"] == "incidents" and r["field"] in {"killed_best", "wounded_best"}}
        by_incident: dict[int, list[_Figures]] = defaultdict(list)
        for report in reports:
            by_incident[report["incident_id"]].append(_Figures(report))
        for incident_id in known:
            _refigure(incidents[incident_id], by_incident[incident_id], as_of, best_set_by_then)

        links = [link for link in all_links if link["incident_id"] in known and (
            (published.get(link["source_id"]) if link["source_id"] else None)
            or _day(incidents[link["incident_id"]]["created_at"])) <= as_of]
        chosen: dict[str, list[dict[str, Any]]] = {
            "incidents": [incidents[i] for i in sorted(known)],
            "reports": [r for r in reports if r["incident_id"] in known],
            "incident_actors": links,
            "revisions": kept_revisions,
            "imports": [r for r in rows("imports") if _day(r["started_at"]) <= as_of],
            "sources": sources,
        }
        with target.begin() as destination:
            for table in Base.metadata.sorted_tables:
                data = chosen[table.name] if table.name in chosen else rows(table.name)
                for start in range(0, len(data), BATCH):
                    destination.execute(insert(table), data[start:start + BATCH])
    return target


def _merge_state(merges: list[dict[str, Any]], incidents: dict[int, dict[str, Any]],
                 as_of: date) -> dict[str, dict[int, int]]:
    """Set merged_into_id as it stood on `as_of`; returns where moved reports and links lived then, by id."""
    homes: dict[str, dict[int, int]] = {"reports": {}, "links": {}}
    for merge in sorted(merges, key=lambda m: m["id"]):
        merged_then = _day(merge["merged_at"]) <= as_of and (
            merge["undone_at"] is None or _day(merge["undone_at"]) > as_of)
        merged_now = merge["undone_at"] is None
        if merged_then == merged_now:
            continue
        home = merge["kept_id"] if merged_then else merge["merged_id"]
        incidents[merge["merged_id"]]["merged_into_id"] = merge["kept_id"] if merged_then else None
        for kind in ("reports", "links"):
            for row_id in merge["moved"][kind]:
                homes[kind][row_id] = home
    return homes


def _refigure(incident: dict[str, Any], reports: list[_Figures], as_of: date,
              best_set_by_then: set[tuple[int, str]]) -> None:
    """The incident's figures from the reports known by `as_of`, with an analyst's best only if set by then."""
    created_by_then = _day(incident["created_at"]) <= as_of
    for measure in ("killed", "wounded"):
        manual = incident[f"{measure}_best_manual"] and (
            created_by_then or (incident["id"], f"{measure}_best") in best_set_by_then)
        derived = derive_figures(reports, measure)
        try:
            low, best, high = choose_figures(incident["key"], measure, derived,
                                             incident[f"{measure}_best"] if manual else None)
        except UsageError:  # the analyst's best came with reports not yet known then
            low, best, high = derived
            manual = False
        incident.update({f"{measure}_low": low, f"{measure}_best": best, f"{measure}_high": high,
                         f"{measure}_best_manual": bool(manual)})
