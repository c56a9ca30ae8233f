"""Dataset releases on the read side: `incidents releases` (the labelled imports of each dataset) and `incidents
diff A B` (what changed from release A to release B, or to now: records added, changed field by field, withdrawn,
and the conflicts with an analyst's edits). Everything is read back from what the imports recorded: the run that
inserted each record, and the revisions each run wrote (store/releases.py writes them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from incidents.errors import NotFoundError, UsageError
from incidents.models import Conflict, Import, Incident, IncidentActor, Location, Report, Revision
from incidents.store.releases import batches as _batches
from incidents.store.releases import still_open
from incidents.store.sources import place_words

Revised = tuple[str, int, str, str | None, str | None]  # table, row id, field, old value, new value
NOW = "now"
# How a revised field is named in a diff: a dataset row's column is "column NAME", a report's figure "report FIELD".
LINK_FIELDS = {"link": "perpetrator", "attribution": "attribution", "source_id": "attribution source"}


def shown_value(session: Session, field: str, value: str | None) -> str | None:
    """A stored value as a person reads it: a location id as its place in words, anything else as it is."""
    if field == "location_id" and value is not None and value.isdigit():
        location = session.get(Location, int(value))
        if location is not None:
            return place_words(location)
    return value


def _field_name(table: str, field: str) -> str:
    if table == "incidents":
        if field.startswith("raw."):
            return f"column {field[4:]}"
        return "place" if field == "location_id" else field
    if table == "reports":
        return f"report {field}"
    return LINK_FIELDS.get(field, field)


def list_releases(session: Session, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every import run of a dataset (GTD, UCDP, ACLED, deletion lists), oldest first, with its release label."""
    query = select(Import).where(Import.dataset.is_not(None), Import.finished_at.is_not(None))
    if dataset:
        query = query.where(Import.dataset == dataset)
    return [
        {"dataset": run.dataset, "release": run.release, "import_id": run.id, "format": run.format,
         "file": run.file_name, "imported_at": run.finished_at, "full_release": run.full_release,
         "scope": run.scope, "read": run.rows_read, "inserted": run.inserted, "updated": run.updated,
         "unchanged": run.unchanged, "withdrawn": run.withdrawn, "restored": run.restored,
         "conflicts": run.conflicts}
        for run in session.scalars(query.order_by(Import.id))
    ]


def _release(session: Session, label: str, dataset: str | None) -> tuple[str, Import]:
    """(dataset, last run) of the release called `label` (its spaces as an import writes them)."""
    label = " ".join(label.split())
    query = select(Import).where(Import.release == label, Import.finished_at.is_not(None))
    if dataset:
        query = query.where(Import.dataset == dataset)
    runs = list(session.scalars(query.order_by(Import.id)))
    if not runs:
        known = sorted({f"{name} ({kind})" for name, kind in session.execute(
            select(Import.release, Import.dataset).where(Import.release.is_not(None)))})
        raise NotFoundError(f"no release {label!r}" + (f" of {dataset}" if dataset else "") + "; the releases are: "
                            + (", ".join(known) if known else "none yet (import FILE --release LABEL)"))
    datasets = {run.dataset for run in runs}
    if len(datasets) > 1:
        raise UsageError(f"{label!r} is a release of {', '.join(sorted(str(d) for d in datasets))}; "
                         "say which with --dataset")
    return str(runs[-1].dataset), runs[-1]


def diff(session: Session, first: str, second: str = NOW, dataset: str | None = None) -> dict[str, Any]:
    """What changed from release `first` to release `second` (or to now: the analysts' edits too)."""
    dataset, run_a = _release(session, first, dataset)
    if second == NOW:
        runs = list(session.scalars(select(Import.id).where(Import.dataset == dataset, Import.id > run_a.id)))
        result = changes(session, dataset, runs, analysts_since=run_a.finished_at)
    else:
        other, run_b = _release(session, second, dataset)
        low, high = sorted((run_a.id, run_b.id))
        runs = list(session.scalars(select(Import.id).where(Import.dataset == dataset, Import.id > low,
                                                            Import.id <= high)))
        result = changes(session, dataset, runs)
        if run_b.id < run_a.id:  # B came first: the way back from A to B
            result = _reversed(result)
    result.update({"from": first, "to": second})
    return result


def _reversed(result: dict[str, Any]) -> dict[str, Any]:
    changed = [{**record, "changes": [{**change, "old": change["new"], "new": change["old"]}
                                      for change in record["changes"]]} for record in result["changed"]]
    flipped = {**result, "added": result["withdrawn"], "withdrawn": result["added"] + result["restored"],
               "restored": [], "changed": changed}
    flipped["counts"] = _counts(flipped)
    return flipped


def _counts(result: dict[str, Any]) -> dict[str, int]:
    return {name: len(result[name]) for name in ("added", "changed", "withdrawn", "restored", "conflicts")}


def changes(session: Session, dataset: str, runs: list[int], analysts_since: datetime | None = None) -> dict[str, Any]:
    """What import runs `runs` did to the records of `dataset` (and, given `analysts_since`, what every edit
    after that did): added (inserted by a run), withdrawn, restored, changed (field by field, first old value and
    last new one) and conflicts. A record added in the range is listed as added only."""
    added: dict[int, dict[str, Any]] = {}
    for batch in _batches(runs):
        for incident_id, key, origin_id, when, precision in session.execute(
            select(Incident.id, Incident.key, Incident.origin_id, Incident.date_start, Incident.date_precision)
            .where(Incident.origin_dataset == dataset, Incident.import_id.in_(batch))
        ):
            added[incident_id] = {"key": key, "origin_id": origin_id, "date": when.isoformat(),
                                  "date_precision": precision}

    wanted: Any = Revision.import_id.in_(runs) if runs else None
    if analysts_since is not None:  # every change since, whoever made it (the runs' own are all later too)
        later = Revision.changed_at > analysts_since
        wanted = later if wanted is None else or_(wanted, later)
    revisions: list[Revised] = []
    if wanted is not None:
        revisions = [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(Revision.table_name, Revision.row_id, Revision.field, Revision.old_value, Revision.new_value)
            .where(wanted, Revision.table_name.in_(["incidents", "reports", "incident_actors"]))
            .order_by(Revision.id))]

    owner = _owners(session, revisions)
    # Per incident, per field (and per report or link: two links' changes are two changes), first old, last new.
    composed: dict[int, dict[tuple[str, int], list[str | None]]] = {}
    for table, row_id, field, old, new in revisions:
        incident_id = owner.get((table, row_id), 0)
        if not incident_id and table == "incident_actors" and field == "link" and old:
            incident_id = int(json.loads(old).get("incident_id") or 0)  # a removed link keeps its incident
        if not incident_id:
            continue
        name = _field_name(table, field)
        if table == "incident_actors" and field == "link":
            old = json.loads(old).get("words") if old and old.startswith("{") else old
        slot = composed.setdefault(incident_id, {}).setdefault((name, 0 if table == "incidents" else row_id),
                                                               [old, new])
        slot[1] = new

    records = _records(session, dataset, list(composed))
    withdrawn: list[dict[str, Any]] = []
    restored: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for incident_id, fields in composed.items():
        record = records.get(incident_id)
        if record is None or incident_id in added:
            continue
        state = fields.pop(("withdrawn_at", 0), None)
        if state is not None and (state[0] is None) != (state[1] is None):
            (withdrawn if state[1] is not None else restored).append(record)
        listed = [{"field": name, "old": shown_value(session, _stored_name(name), old),
                   "new": shown_value(session, _stored_name(name), new)}
                  for (name, _), (old, new) in sorted(fields.items(), key=lambda item: _order(item[0][0]))
                  if old != new]
        if listed:
            changed.append({**record, "changes": listed})

    conflicts = []
    if runs:
        for conflict, key in session.execute(
            select(Conflict, Incident.key).join(Incident, Incident.id == Conflict.incident_id)
            .where(Conflict.import_id.in_(runs)).order_by(Conflict.id)
        ):
            conflicts.append({
                "key": key, "field": _field_name("incidents", conflict.field),
                "analyst": shown_value(session, conflict.field, conflict.analyst_value),
                "dataset_old": shown_value(session, conflict.field, conflict.dataset_old),
                "dataset_new": shown_value(session, conflict.field, conflict.dataset_value),
                "settled": conflict.settled_how})
    by_key = sorted
    result: dict[str, Any] = {
        "dataset": dataset,
        "added": by_key(added.values(), key=lambda row: row["key"]),
        "changed": by_key(changed, key=lambda row: row["key"]),
        "withdrawn": by_key(withdrawn, key=lambda row: row["key"]),
        "restored": by_key(restored, key=lambda row: row["key"]),
        "conflicts": conflicts,
    }
    result["counts"] = _counts(result)
    return result


def _stored_name(name: str) -> str:
    return "location_id" if name == "place" else name


def _order(name: str) -> tuple[int, str]:
    """Fields first, then reports' figures, then the links, then the dataset row's columns."""
    rank = 3 if name.startswith("column ") else 1 if name.startswith("report ") else 2 if name in LINK_FIELDS.values() \
        else 0
    return rank, name


def _owners(session: Session, revisions: list[Revised]) -> dict[tuple[str, int], int]:
    """The incident each revised row belongs to."""
    owner: dict[tuple[str, int], int] = {}
    ids: dict[str, set[int]] = {"reports": set(), "incident_actors": set()}
    for table, row_id, *_ in revisions:
        if table == "incidents":
            owner[(table, row_id)] = row_id
        else:
            ids[table].add(row_id)
    for table, model in (("reports", Report), ("incident_actors", IncidentActor)):
        for batch in _batches(sorted(ids[table])):
            for row_id, incident_id in session.execute(select(model.id, model.incident_id).where(model.id.in_(batch))):
                owner[(table, row_id)] = incident_id
    return owner


def _records(session: Session, dataset: str, incident_ids: list[int]) -> dict[int, dict[str, Any]]:
    """key and origin id of those of the incidents that are records of `dataset`."""
    found = {}
    for batch in _batches(incident_ids):
        for incident_id, key, origin_id in session.execute(
            select(Incident.id, Incident.key, Incident.origin_id)
            .where(Incident.id.in_(batch), Incident.origin_dataset == dataset)
        ):
            found[incident_id] = {"key": key, "origin_id": origin_id}
    return found


def open_conflicts(session: Session, dataset: str | None = None) -> list[dict[str, Any]]:
    """The conflicts no one has settled, oldest first."""
    query = (select(Conflict, Incident.key, Import.release, Import.dataset)
             .join(Incident, Incident.id == Conflict.incident_id).join(Import, Import.id == Conflict.import_id)
             .where(Conflict.settled_at.is_(None)))
    if dataset:
        query = query.where(Import.dataset == dataset)
    return [
        {"key": key, "field": _field_name("incidents", conflict.field), "dataset": kind, "release": release,
         "analyst": shown_value(session, conflict.field, conflict.analyst_value),
         "dataset_old": shown_value(session, conflict.field, conflict.dataset_old),
         "dataset_new": shown_value(session, conflict.field, conflict.dataset_value)}
        for conflict, key, release, kind in session.execute(query.order_by(Conflict.id))
        if still_open(session, conflict)
    ]


DIFF_COLUMNS = ["change", "key", "origin_id", "field", "old", "new"]


def diff_rows(result: dict[str, Any]) -> Iterator[list[Any]]:
    """A diff as flat rows (DIFF_COLUMNS), one per change: for a spreadsheet."""
    for kind in ("added", "withdrawn", "restored"):
        for record in result[kind]:
            yield [kind, record["key"], record["origin_id"], None, None, None]
    for record in result["changed"]:
        for change in record["changes"]:
            yield ["changed", record["key"], record["origin_id"], change["field"], change["old"], change["new"]]
    for conflict in result["conflicts"]:
        yield ["conflict", conflict["key"], None, conflict["field"], conflict["dataset_old"], conflict["dataset_new"]]
