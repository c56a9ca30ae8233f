"""`--as-of DATE`: the database as it stood at the end of DATE, as a read-only snapshot any command can query.

What "stood" means, row by row:

- a report counts from the day its source published it (`reported_on`), or, with no such date, from the
  day it was recorded; the incident's low/best/high are recomputed from the reports that counted then;
- an analyst's best figure counts from the day it was set (a revision, or the incident's creation);
- an actor link counts from the day its source published it, or else from the incident's recording;
- an incident is there if it was recorded by then or a report of it had been published by then;
- an actor link an analyst added (`incidents perpetrators add`) with no source counts from the day it was added;
- every later change to a curated field (a revision dated after DATE) is undone, and so is every later
  merge (or unmerge), withdrawal or restoration (of an incident or a report), change of a link's attribution or
  source, and removal of a link; revisions and import runs after DATE are left out.

So for Bajaur, `--as-of 2023-07-31` gives the tolls of the first day's reports and no perpetrator (the
claim's source appeared on 1 August), whenever the reports were typed in.

The snapshot is a new SQLite file in a temporary directory holding those rows; the list, show, timeline,
summary and export code runs on it unchanged. It costs a copy of the database, so it suits questions about
one time, not a loop: measured on 100,000 incidents, about 30 s and 240 MB at most (the copy goes 20,000
incidents at a time; before that change it held the whole database, 550 MB).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, and_, create_engine, func, insert, select

from incidents.db.engine import make_engine
from incidents.db.migrations import upgrade
from incidents.errors import FieldError, UsageError
from incidents.models import Base, Import, Incident, IncidentActor, Report, Revision, Source
from incidents.records import derive_figures
from incidents.store.figures import choose_figures

BATCH = 20_000
# How a revision's text is read back into the column it was (incidents, reports and actor links alike).
INT_FIELDS = {"location_id", "killed_low", "killed_best", "killed_high", "wounded_low", "wounded_best",
              "wounded_high", "perpetrators_killed", "killed", "wounded", "source_id"}
BOOL_FIELDS = {"suicide", "killed_at_least", "wounded_at_least", "preliminary"}
DATE_FIELDS = {"date_start", "date_end", "reported_on"}


def parse_as_of(text: str | date | None) -> date | None:
    """The day `as_of` names: a date, a datetime (its day) or YYYY-MM-DD text; None stays None."""
    if text is None:
        return None
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    try:
        day = date.fromisoformat(str(text).strip())
    except ValueError:
        raise FieldError("as_of", text, "is not a date (YYYY-MM-DD)") from None
    if day >= date.max:
        raise FieldError("as_of", text, "is the last day there is; no snapshot can end after it")
    return day


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _typed(field: str, text: str | None) -> object:
    if text is None:
        return None
    if field in INT_FIELDS:
        return int(text)
    if field in DATE_FIELDS:
        return date.fromisoformat(text)
    if field == "withdrawn_at":
        return datetime.fromisoformat(text)
    if field in BOOL_FIELDS:
        return text == "True"
    return text


class _Figures:
    """Just what derive_figures reads from a report."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)


def snapshot(engine: Engine, as_of: date) -> Engine:
    """A new SQLite database holding what `engine`'s database held at the end of `as_of` (see the module doc).

    Incidents are read and written BATCH at a time with their reports and links, so memory stays bounded
    whatever the size of the database; only the later revisions, the merges and the ids they moved are held whole.
    """
    folder = Path(tempfile.mkdtemp(prefix="incidents-as-of-"))
    try:
        return _fill(engine, as_of, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # a copy that failed half-way is nobody's to delete later
        raise


def _fill(engine: Engine, as_of: date, folder: Path) -> Engine:
    """Build the snapshot of `snapshot` in `folder`; the caller removes it (discard)."""
    target = make_engine(f"sqlite:///{folder / 'as_of.db'}")
    upgrade(target)
    target.dispose()
    # Written without foreign-key checks: a merged incident may point at one written in a later batch.
    writer = create_engine(f"sqlite:///{folder / 'as_of.db'}")
    cutoff = datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)  # the end of the day asked about
    tables = Base.metadata.tables
    with engine.connect() as source, writer.begin() as destination:
        def copy(query: Any, table: Table) -> None:
            result = source.execution_options(yield_per=BATCH).execute(query)
            for part in result.partitions():
                destination.execute(insert(table), [dict(row._mapping) for row in part])

        for name in ("actors", "actor_aliases", "locations", "sources", "merges"):
            copy(select(tables[name]).order_by(tables[name].c.id), tables[name])
        copy(select(Import).where(Import.started_at < cutoff).order_by(Import.id), tables["imports"])
        copy(select(Revision).where(Revision.changed_at < cutoff).order_by(Revision.id), tables["revisions"])

        # (table, row id) -> revisions after the day, newest first; and the links removed since, by incident
        later: dict[tuple[str, int], list[Any]] = defaultdict(list)
        removed: dict[int, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for revision in source.execute(select(Revision).where(
                Revision.table_name.in_(["incidents", "reports", "incident_actors"]), Revision.changed_at >= cutoff)
                .order_by(Revision.changed_at.desc(), Revision.id.desc())):
            if revision.table_name == "incident_actors" and revision.field == "link":
                if revision.new_value is None and revision.old_value:
                    link = json.loads(revision.old_value)
                    removed[link["incident_id"]].append((revision.row_id, link))
                continue
            later[(revision.table_name, revision.row_id)].append(revision)
        published = dict(source.execute(select(Source.id, Source.published_on).where(Source.id.in_(
            [link["source_id"] for links in removed.values() for _, link in links if link["source_id"]]))).all())
        # A removed link goes back under a new id (its own may have been reused), with its later changes undone.
        spare_ids = count((source.scalar(select(func.max(IncidentActor.id))) or 0) + 1)
        best_set_by_then = {(row_id, name) for row_id, name in source.execute(select(Revision.row_id, Revision.field)
                            .where(Revision.table_name == "incidents", Revision.changed_at < cutoff,
                                   Revision.field.in_(["killed_best", "wounded_best"])))}
        merged_into, homes = _merge_state([dict(row._mapping) for row in source.execute(select(tables["merges"]))],
                                          as_of)
        moved_reports = _moved(source, select(Report).where(Report.id.in_(list(homes["reports"]))),
                               homes["reports"])
        moved_links = _moved(source, _links_query().where(IncidentActor.id.in_(list(homes["links"]))),
                             homes["links"])

        last_id = 0
        while True:
            batch = [dict(row._mapping) for row in source.execute(
                select(Incident).where(Incident.id > last_id).order_by(Incident.id).limit(BATCH))]
            if not batch:
                break
            first, last_id = batch[0]["id"], batch[-1]["id"]
            within = and_(Report.incident_id >= first, Report.incident_id <= last_id)
            reports = [dict(r._mapping) for r in source.execute(select(Report).where(within))
                       if r.id not in homes["reports"]]
            links = [dict(r._mapping) for r in source.execute(_links_query().where(
                IncidentActor.incident_id >= first, IncidentActor.incident_id <= last_id))
                if r.id not in homes["links"]]
            for incident in batch:
                if incident["id"] in merged_into:
                    incident["merged_into_id"] = merged_into[incident["id"]]
                reports += moved_reports.get(incident["id"], [])
                links += moved_links.get(incident["id"], [])
                for old_id, link in removed.get(incident["id"], []):
                    links.append(_removed_link(link, next(spare_ids), published))
                    _undo(links[-1], later.get(("incident_actors", old_id), []))
            kept = _as_of_batch(batch, reports, links, as_of, later, best_set_by_then)
            for name, rows in zip(("incidents", "reports", "incident_actors"), kept, strict=True):
                if rows:
                    destination.execute(insert(tables[name]), rows)
    writer.dispose()
    return target


def discard(copy: Engine) -> None:
    """Close a snapshot made by `snapshot` and delete its folder."""
    copy.dispose()
    if copy.url.database:
        shutil.rmtree(Path(copy.url.database).parent, ignore_errors=True)


def _removed_link(link: dict[str, Any], new_id: int, published: dict[int, date | None]) -> dict[str, Any]:
    """A link removed after the day asked about, as a row to put back."""
    return {"id": new_id, "incident_id": link["incident_id"], "actor_id": link["actor_id"], "role": link["role"],
            "attribution": link["attribution"], "source_id": link["source_id"],
            "created_at": datetime.fromisoformat(link["created_at"]) if link["created_at"] else None,
            "source_published_on": published.get(link["source_id"]) if link["source_id"] else None}


def _links_query() -> Any:
    """incident_actors rows with the publication date of the source each rests on."""
    return (select(*IncidentActor.__table__.c, Source.published_on.label("source_published_on"))
            .outerjoin(Source, Source.id == IncidentActor.source_id))


def _moved(source: Any, query: Any, homes: dict[int, int]) -> dict[int, list[dict[str, Any]]]:
    """Rows a merge moved, by the incident they belonged to on the day asked about."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if homes:
        for row in source.execute(query):
            values = dict(row._mapping)
            values["incident_id"] = homes[values["id"]]
            found[values["incident_id"]].append(values)
    return found


def _undo(row: dict[str, Any], revisions: list[Any]) -> None:
    """Undo `revisions` (newest first) of one row's fields."""
    for revision in revisions:
        if revision.field in row:
            row[revision.field] = _typed(revision.field, revision.old_value)


def _as_of_batch(incidents: list[dict[str, Any]], reports: list[dict[str, Any]], links: list[dict[str, Any]],
                 as_of: date, later: dict[tuple[str, int], list[Any]], best_set_by_then: set[tuple[int, str]],
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The incidents, reports and links of one batch as they stood at the end of `as_of`."""
    for incident in incidents:  # undo every later change to a curated field, newest first
        _undo(incident, later.get(("incidents", incident["id"]), []))
    for report in reports:  # a later withdrawal or restoration
        _undo(report, later.get(("reports", report["id"]), []))
    reports = sorted((r for r in reports if (r["reported_on"] or _day(r["created_at"])) <= as_of),
                     key=lambda r: r["id"])  # derive_figures breaks ties by position, as store does
    by_incident: dict[int, list[_Figures]] = defaultdict(list)
    for report in reports:
        if report["withdrawn_at"] is None:
            by_incident[report["incident_id"]].append(_Figures(report))
    known = {row["id"]: row for row in incidents if _day(row["created_at"]) <= as_of or row["id"] in by_incident}
    for incident_id, incident in known.items():
        _refigure(incident, by_incident[incident_id], as_of, best_set_by_then)
    kept_links, named = [], set()
    for link in links:
        owner = known.get(link["incident_id"])
        published = link.pop("source_published_on")
        if owner is None:
            continue
        _undo(link, later.get(("incident_actors", link["id"]), []))
        since = published or _day(link["created_at"] or owner["created_at"])
        identity = (link["incident_id"], link["actor_id"], link["role"])
        if since <= as_of and identity not in named:
            named.add(identity)
            kept_links.append(link)
    return list(known.values()), [r for r in reports if r["incident_id"] in known], kept_links


def _merge_state(merges: list[dict[str, Any]], as_of: date) -> tuple[dict[int, int | None], dict[str, dict[int, int]]]:
    """merged_into_id as it stood on `as_of` for incidents a later (un)merge changed, and where the reports and
    links it moved lived then, by id."""
    merged_into: dict[int, int | None] = {}
    homes: dict[str, dict[int, int]] = {"reports": {}, "links": {}}
    for merge in sorted(merges, key=lambda m: m["id"]):
        merged_then = _day(merge["merged_at"]) <= as_of and (
            merge["undone_at"] is None or _day(merge["undone_at"]) > as_of)
        merged_now = merge["undone_at"] is None
        if merged_then == merged_now:
            continue
        home = merge["kept_id"] if merged_then else merge["merged_id"]
        merged_into[merge["merged_id"]] = merge["kept_id"] if merged_then else None
        for kind in ("reports", "links"):
            for row_id in merge["moved"][kind]:
                homes[kind][row_id] = home
    return merged_into, homes


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
