"""The fast write path for imports: many incident records per statement, inside the caller's transaction.

A new incident arrives as a Plan: its rows but for the ids (the columnar reader builds plans straight from
columns; a record from the per-row path is turned into one here). The writer gives out ids in file order
(locations, sources and incidents each in order of first appearance), so the two paths store the same
database, and writes each table's rows straight into it: multi-row INSERT ... VALUES on SQLite (a CHECK
constraint costs once per statement, not once per row), COPY on PostgreSQL.

A record whose origin or key is already stored is unchanged when its row hash matches, and otherwise goes
through store.Writer, which records every changed field as a revision.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import String, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from incidents.errors import UsageError
from incidents.models import Import, Incident, IncidentActor, Location, Report, Source
from incidents.records import IncidentRecord, LocationRecord, SourceRecord, derive_figures
from incidents.store.actors import stronger_attribution
from incidents.store.figures import choose_figures
from incidents.store.incidents import Writer
from incidents.store.rebuild import SetAside
from incidents.store.releases import ReleaseLog, bring_back_reports, withdrawn_by_a_release
from incidents.store.reports import report_values
from incidents.store.sources import location_values, source_values

SQLITE_PARAMETERS = 32766  # bound parameters a statement may hold (SQLite 3.32 and later)
SQLITE_ROWS = 2000  # rows in one multi-row INSERT at most
IN_BATCH = 5000  # values per IN (...) lookup; well under SQLite's limit of 32766 bound parameters



def _columns(model: Any, leave_out: tuple[str, ...] = ()) -> list[str]:
    """The model's columns, in the table's order, but those the database fills in (or this writer never sets)."""
    return [column.name for column in model.__table__.columns if column.name not in leave_out]


# Column lists come from the models, so a new column cannot be forgotten here (tests/test_bulk_columns.py).
INCIDENT_COLUMNS = _columns(Incident, ("created_at", "updated_at", "merged_into_id", "withdrawn_at"))
FULL_SOURCE_COLUMNS = _columns(Source, ("created_at",))
REPORT_COLUMNS = _columns(Report, ("id", "created_at", "withdrawn_at"))
LINK_COLUMNS = _columns(IncidentActor, ("id", "created_at"))  # an imported link dates from its incident
LOCATION_COLUMNS = _columns(Location)
# A plan's incident: every column but those the writer fills (ids, the run, the times).
PLAN_INCIDENT_COLUMNS = [name for name in INCIDENT_COLUMNS if name not in ("id", "location_id", "import_id")]
WRITTEN_INCIDENT_COLUMNS = ["id", "location_id", "import_id", *PLAN_INCIDENT_COLUMNS, "created_at", "updated_at"]
# Each column's type on PostgreSQL, where it is not text: which columns hold dates.
CAST_TYPES = {
    column.name: column.type.compile(dialect=postgresql.dialect())
    for model in (Incident, Source, Report, IncidentActor) for column in model.__table__.columns
    if not isinstance(column.type, String)
}



@dataclass(frozen=True)
class _Fields:
    """Columns a row builder fills, in statement order, and where among them the dates are."""

    names: list[str]
    dates: list[int]


def _fields(names: list[str]) -> _Fields:
    return _Fields(names, [index for index, name in enumerate(names) if CAST_TYPES.get(name) == "DATE"])


PLAN_INCIDENT = _fields(PLAN_INCIDENT_COLUMNS)
REPORT_FIELDS = _fields(REPORT_COLUMNS[2:])  # after incident_id and source_id
FULL_SOURCE_FIELDS = _fields(FULL_SOURCE_COLUMNS[1:])
LOCATION_FIELDS = _fields(LOCATION_COLUMNS[1:])

def _batches(values: list[Any], size: int = IN_BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]




@dataclass(slots=True)
class Plan:
    """A new incident's rows, but for the ids the writer gives out. Values are as both engines take them: dates
    as ISO text, booleans as bool."""

    incident: tuple[Any, ...]  # PLAN_INCIDENT_COLUMNS
    location: tuple[str, LocationRecord] | None  # (key, the place: its row is built only when the key is new)
    # (source identity, the source as a record or as FULL_SOURCE_COLUMNS but id, REPORT_COLUMNS after the ids)
    reports: list[tuple[tuple[Any, ...], Any, tuple[Any, ...]]]
    # (actor name, dataset, role, attribution, source identity or None, the source)
    links: list[tuple[str, str, str, str | None, tuple[Any, ...] | None, Any]]


@dataclass(slots=True)
class BulkItem:
    """One parsed row on its way into the database: a record (the per-row path), or a plan (the columnar one)
    that becomes a record only if the row updates a stored incident."""

    identity: tuple[str, ...]  # ("origin", dataset, origin id) or ("key", key): how a stored incident is found
    record: IncidentRecord | None
    line: int
    row_hash: str
    raw_json: str | None
    values: list[str] | None  # the row as read, for the rejects file (a columnar row reads it from its batch)
    plan: Plan | None = None
    batch: Any = None  # the columnar row's batch (io.importers.batches.Batch) and its place in it
    index: int = 0

    def row_values(self) -> list[str]:
        if self.values is None:
            self.values = self.batch.row(self.index)
        return self.values


class BulkWriter:
    """Writes chunks of records; `write` returns the items it refused, each with the reason."""

    def __init__(self, session: Session, import_run: Import, actor_policy: str = "create", who: str | None = None,
                 protect: bool = False, release: str | None = None, releases: ReleaseLog | None = None,
                 record_of: Callable[[BulkItem], IncidentRecord] | None = None, set_aside: bool = True,
                 threaded: bool = True):
        self.session = session
        self.run_id = import_run.id
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        # protect: a dataset's import, which keeps an analyst's changes (store.releases); release: its label.
        self.writer = Writer(session, actor_policy=actor_policy, who=who, why=f"import of {import_run.file_name}",
                             import_run=import_run, protect=protect)
        self.release = release
        self.releases = releases
        # A planned row that turns out to update a stored incident goes the per-row way: this gives its record.
        self.record_of = record_of or _no_record
        self.restored: list[int] = []  # records a release had withdrawn, which this file holds again
        self.actors = self.writer.actors
        self.counts = self.writer.counts
        self.locations: dict[str, int] = {key: id_ for key, id_ in session.execute(select(Location.key, Location.id))}
        self.had_incidents = session.scalar(select(Incident.id).limit(1)) is not None
        self.had_sources = session.scalar(select(Source.id).limit(1)) is not None  # before this run
        # Into an empty database the indexes are built once at the end, not kept up row by row (store.rebuild).
        self.set_aside: SetAside | None = None
        if set_aside and not self.had_incidents and not self.had_sources:
            self.set_aside = SetAside(self.connection)
            self.set_aside.drop()
        self.actor_ids: dict[tuple[str, str], int] = {}  # (name, dataset) -> actor, resolved once per run
        self.now = datetime.now(UTC)
        # SQLite's multi-row INSERTs, by table, row count and the columns written as literals
        self.statements: dict[tuple[str, int, tuple[str | None, ...]], str] = {}
        self.next_ids: dict[str, int] = {}  # SQLite: the next id of each table, while no other path writes
        # The database's work runs on a thread of its own, beside the reading and checking of the next rows:
        # both drivers let go of Python's lock while the database works.
        self.pipe = Pipe() if threaded else None
        # Sources this run wrote, by the hash of their identity: only a source whose hash is here (or a source
        # stored before the run) is looked up in the database, so the writer thread is waited for rarely.
        self.written_sources: set[int] = set()
        self.withdrawn: list[int] = []  # ids of stored incidents an analyst withdrew that the file holds

    # ---- plumbing

    def _ids(self, table: str, count: int) -> list[int]:
        if count == 0:
            return []
        if self.postgres:
            self.sync()
            rows = self.connection.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {count})"
            )
            return [row[0] for row in rows]
        # The import holds SQLite's write lock (its imports row is written first), so MAX(id) cannot move
        # under us. It is read again after the ORM path (updates, new actors) may have added rows.
        start = self.next_ids.get(table)
        if start is None:
            self.sync()
            start = int(self.connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar() or 0) + 1
        self.next_ids[table] = start + count
        return list(range(start, start + count))

    def sync(self) -> None:
        """Wait until every statement handed to the writer thread has run (raising what one raised); from
        then on the connection is the caller's alone until it hands over more."""
        if self.pipe is not None:
            self.pipe.sync()

    def _insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.pipe is not None:
            self.pipe.put(lambda: self._execute(table, columns, rows))
        else:
            self._execute(table, columns, rows)

    def _execute(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if self.postgres:
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # A column that holds one value in every row is written as a literal: SQLite's cost grows with the values
        # bound, not with the values stored (measured: a third of the time for the incidents table).
        values = list(zip(*rows, strict=True))
        literals = tuple(_literal(column[0]) if column.count(column[0]) == len(column) else None
                         for column in values)
        bound = [column for column, literal in zip(values, literals, strict=True) if literal is None]
        flat = list(chain.from_iterable(zip(*bound, strict=True))) if bound else []
        width = len(bound)
        per = min(SQLITE_ROWS, SQLITE_PARAMETERS // width) if width else SQLITE_ROWS
        database = self.connection.connection.driver_connection
        for start in range(0, len(rows), per):
            count = min(per, len(rows) - start)
            statement = self.statements.get((table, count, literals))
            if statement is None:
                marks = f"({', '.join('?' if literal is None else literal for literal in literals)})"
                statement = self.statements[(table, count, literals)] = (
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([marks] * count)}")
            database.execute(statement, flat[start * width:(start + count) * width])  # type: ignore[union-attr]

    def _when(self) -> str:
        """The run's timestamp as both engines take it (SQLAlchemy's naive text on SQLite)."""
        return self.now.isoformat() if self.postgres else self.now.strftime("%Y-%m-%d %H:%M:%S.%f")

    def loaded(self) -> None:
        """Every row is written: stop the writer thread, and build the indexes set aside (nothing to do in a
        populated database)."""
        if self.pipe is not None:
            pipe, self.pipe = self.pipe, None
            pipe.close()
        if self.set_aside is not None:
            self.set_aside.restore()

    def abandon(self) -> None:
        """The import failed: stop the writer thread without running what it still holds (the transaction is
        rolled back)."""
        if self.pipe is not None:
            pipe, self.pipe = self.pipe, None
            pipe.close(run_rest=False)

    def close(self) -> None:
        self.loaded()

    # ---- lookups

    def _existing_incidents(self, items: list[BulkItem]) -> dict[tuple[Any, ...], tuple[int, str | None, bool]]:
        """The stored incidents the items are, by origin or key: (id, row hash, withdrawn)."""
        if not self.had_incidents:
            return {}
        found: dict[tuple[Any, ...], tuple[int, str | None, bool]] = {}
        by_origin: dict[str, list[str]] = {}
        keys = []
        for item in items:
            identity = item.identity
            if identity[0] == "origin":
                by_origin.setdefault(identity[1], []).append(identity[2])
            elif identity[1]:
                keys.append(identity[1])
        for dataset, origin_ids in by_origin.items():
            for batch in _batches(origin_ids):
                for incident_id, origin_id, row_hash, withdrawn in self.session.execute(
                    select(Incident.id, Incident.origin_id, Incident.row_hash, Incident.withdrawn_at.is_not(None))
                    .where(Incident.origin_dataset == dataset, Incident.origin_id.in_(batch))
                ):
                    found[("origin", dataset, origin_id)] = (incident_id, row_hash, bool(withdrawn))
        for batch in _batches(keys):
            for incident_id, key, row_hash, withdrawn in self.session.execute(
                select(Incident.id, Incident.key, Incident.row_hash, Incident.withdrawn_at.is_not(None))
                .where(Incident.key.in_(batch))
            ):
                found[("key", key)] = (incident_id, row_hash, bool(withdrawn))
        return found

    def _stored_sources(self, identities: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        found: dict[tuple[Any, ...], int] = {}
        urls = [identity[1] for identity in identities if identity[0] == "url"]
        citations = [identity[1] for identity in identities if identity[0] == "citation"]
        records: dict[str, list[str]] = {}
        for identity in identities:
            if identity[0] == "record":
                records.setdefault(identity[1], []).append(identity[2])
        for batch in _batches(urls):
            for source_id, url in self.session.execute(select(Source.id, Source.url).where(Source.url.in_(batch))):
                found[("url", url)] = source_id
        for dataset, record_ids in records.items():
            for batch in _batches(record_ids):
                for source_id, record_id in self.session.execute(
                    select(Source.id, Source.dataset_record_id)
                    .where(Source.dataset == dataset, Source.dataset_record_id.in_(batch))
                ):
                    found[("record", dataset, record_id)] = source_id
        for batch in _batches(citations, 500):  # citations are long; keep the statement small
            for source_id, citation in self.session.execute(
                select(Source.id, Source.citation).where(Source.url.is_(None), Source.citation.in_(batch))
            ):
                found.setdefault(("citation", citation), source_id)
        return found

    # ---- the write

    def write(self, items: list[BulkItem]) -> list[tuple[BulkItem, str]]:
        refused: list[tuple[BulkItem, str]] = []
        if self.had_incidents:
            self.sync()
        existing = self._existing_incidents(items)
        withdrawn = [stored[0] for stored in existing.values() if stored[2]]
        if withdrawn and self.releases is not None:  # back in a release: a release's withdrawal is undone
            back = withdrawn_by_a_release(self.session, withdrawn)
            self.releases.restore(sorted(back))
            self.restored.extend(back)
            existing = {identity: (stored[0], stored[1], stored[2] and stored[0] not in back)
                        for identity, stored in existing.items()}
        if self.release and existing:
            self._label_sources(items, existing)
        if existing and self.releases is not None:
            self._bring_back_reports([stored[0] for stored in existing.values() if not stored[2]])
        fresh: list[BulkItem] = []
        for item in items:
            stored = existing.get(item.identity) if existing else None
            if stored is not None and stored[2]:  # withdrawn here: updated or not, it stays withdrawn
                self.withdrawn.append(stored[0])
            if stored is None:
                fresh.append(item)
            elif stored[1] == item.row_hash:
                self.counts["unchanged"] += 1
            else:
                try:
                    record = item.record if item.record is not None else self.record_of(item)
                    self.sync()
                    self.next_ids.clear()  # the per-row path may add sources, places and reports
                    with self.session.begin_nested():
                        self.writer.save(record, dataset=record.origin_dataset or "")
                        self.session.execute(
                            update(Incident).where(Incident.id == stored[0])
                            .values(row_hash=item.row_hash, raw_row=record.raw_row)
                        )
                except UsageError as exc:
                    refused.append((item, str(exc)))
        if fresh:
            refused += self._insert_new(fresh)
        return refused

    def _bring_back_reports(self, incident_ids: list[int]) -> None:
        """A record the file holds whose own dataset report a release withdrew (it stayed, because others are
        merged into it): the report comes back."""
        for batch in _batches(incident_ids):
            holders = set(self.session.scalars(
                select(Incident.id).join(Source, (Source.dataset == Incident.origin_dataset)
                                         & (Source.dataset_record_id == Incident.origin_id))
                .join(Report, Report.source_id == Source.id)
                .where(Incident.id.in_(batch), Report.withdrawn_at.is_not(None))))
            for incident_id in sorted(holders):
                assert self.releases is not None
                incident = self.session.get_one(Incident, incident_id)
                if bring_back_reports(self.session, incident, self.writer.revisions):
                    self.restored.append(incident_id)

    def _label_sources(self, items: list[BulkItem], existing: dict[tuple[Any, ...], Any]) -> None:
        """The stored records this file holds: their dataset source now names this release."""
        by_dataset: dict[str, list[str]] = {}
        for item in items:
            if item.identity[0] == "origin" and item.identity in existing:
                by_dataset.setdefault(item.identity[1], []).append(item.identity[2])
        for dataset, origin_ids in by_dataset.items():
            for batch in _batches(origin_ids):
                self.session.execute(
                    update(Source).where(Source.dataset == dataset, Source.dataset_record_id.in_(batch))
                    .values(dataset_release=self.release), execution_options={"synchronize_session": False})

    def _plan(self, item: BulkItem) -> Plan:
        """The rows a record becomes (the per-row path); UsageError when its figures cannot stand."""
        record = item.record
        assert record is not None
        killed = choose_figures(record.key or "", "killed", derive_figures(record.reports, "killed"),
                                record.killed_best)
        wounded = choose_figures(record.key or "", "wounded", derive_figures(record.reports, "wounded"),
                                 record.wounded_best)
        perpetrators_killed = record.perpetrators_killed
        if perpetrators_killed is None:
            perpetrators_killed = derive_figures(record.reports, "perpetrators_killed")[1]
        incident = {
            "key": record.key, "title": record.title, "date_start": record.date_start,
            "date_end": record.date_end, "date_precision": record.date_precision.value,
            "attack_type": record.attack_type, "target_type": record.target_type,
            "weapon_type": record.weapon_type, "suicide": record.suicide, "summary": record.summary,
            "status": record.status.value, "killed_low": killed[0], "killed_best": killed[1],
            "killed_high": killed[2], "killed_best_manual": record.killed_best is not None,
            "wounded_low": wounded[0], "wounded_best": wounded[1], "wounded_high": wounded[2],
            "wounded_best_manual": record.wounded_best is not None, "perpetrators_killed": perpetrators_killed,
            "origin_dataset": record.origin_dataset, "origin_id": record.origin_id, "raw_row": item.raw_json,
            "row_hash": item.row_hash,
        }
        dataset = record.origin_dataset or ""
        return Plan(
            incident=_neutral(incident, PLAN_INCIDENT),
            location=(record.location.key, record.location) if record.location is not None else None,
            reports=[(report.source.identity(), report.source, _neutral(report_values(report), REPORT_FIELDS))
                     for report in record.reports],
            links=[(link.name, dataset, link.role.value, link.attribution.value if link.attribution else None,
                    link.source.identity() if link.source else None, link.source) for link in record.actors],
        )

    def _actor(self, name: str, dataset: str) -> int:
        found = self.actor_ids.get((name, dataset))
        if found is None:
            if self.actors.find(name, dataset) is None:
                self.sync()  # a new actor is written at once, on this thread
            found = self.actor_ids[(name, dataset)] = self.actors.resolve(name, dataset)
        return found

    def _insert_new(self, items: list[BulkItem]) -> list[tuple[BulkItem, str]]:
        refused: list[tuple[BulkItem, str]] = []
        planned: list[tuple[Plan, list[int]]] = []
        for item in items:
            try:
                plan = item.plan if item.plan is not None else self._plan(item)
                actor_ids = [self._actor(link[0], link[1]) for link in plan.links]
            except UsageError as exc:
                refused.append((item, str(exc)))
                continue
            planned.append((plan, actor_ids))
        if not planned:
            return refused
        if self.session.new:
            self.sync()
            self.session.flush()  # actors the resolver created must exist before links point at them

        new_locations: dict[str, LocationRecord] = {}
        sources: dict[tuple[Any, ...], SourceRecord | tuple[Any, ...]] = {}
        for plan, _ in planned:
            if plan.location is not None and plan.location[0] not in self.locations:
                new_locations.setdefault(plan.location[0], plan.location[1])
            for identity, source, _ in plan.reports:
                if identity not in sources:
                    sources[identity] = source
            for link in plan.links:
                if link[4] is not None and link[4] not in sources:
                    sources[link[4]] = link[5]
        location_ids = self._ids("locations", len(new_locations))
        self._insert("locations", LOCATION_COLUMNS, [
            (location_id, *_neutral(location_values(location), LOCATION_FIELDS))
            for location_id, location in zip(location_ids, new_locations.values(), strict=True)
        ])
        self.locations.update(zip(new_locations, location_ids, strict=True))

        if self.had_sources:
            self.sync()
            source_ids = self._stored_sources(list(sources))
        else:
            again = [identity for identity in sources if hash(identity) in self.written_sources]
            if again:
                self.sync()
            source_ids = self._stored_sources(again) if again else {}
        new_sources = [identity for identity in sources if identity not in source_ids]
        source_ids.update(zip(new_sources, self._ids("sources", len(new_sources)), strict=True))
        if not self.had_sources:
            self.written_sources.update(map(hash, new_sources))
        when = self._when()
        self._insert("sources", FULL_SOURCE_COLUMNS + ["created_at"], [
            (source_ids[identity], *_source_tuple(sources[identity]), when) for identity in new_sources])

        incident_ids = self._ids("incidents", len(planned))
        incidents: list[tuple[Any, ...]] = []
        reports: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        locations = self.locations
        for incident_id, (plan, actor_ids) in zip(incident_ids, planned, strict=True):
            location_id = locations[plan.location[0]] if plan.location is not None else None
            incidents.append((incident_id, location_id, self.run_id, *plan.incident, when, when))
            for identity, _, values in plan.reports:
                reports.append((incident_id, source_ids[identity], *values, when))
            if len(actor_ids) == 1:
                link = plan.links[0]
                links.append((incident_id, actor_ids[0], link[2], link[3],
                              source_ids[link[4]] if link[4] is not None else None))
            elif actor_ids:
                merged: dict[tuple[int, str], list[Any]] = {}
                for actor_id, link in zip(actor_ids, plan.links, strict=True):
                    source_id = source_ids[link[4]] if link[4] is not None else None
                    slot = merged.get((actor_id, link[2]))
                    if slot is None:
                        merged[(actor_id, link[2])] = [incident_id, actor_id, link[2], link[3], source_id]
                    elif stronger_attribution(slot[3], link[3]) != slot[3]:
                        slot[3], slot[4] = link[3], source_id or slot[4]
                links.extend(tuple(values) for values in merged.values())
        self._insert("incidents", WRITTEN_INCIDENT_COLUMNS, incidents)
        self._insert("reports", REPORT_COLUMNS + ["created_at"], reports)
        self._insert("incident_actors", LINK_COLUMNS, links)
        self.counts["inserted"] += len(planned)
        return refused


def _literal(value: Any) -> str | None:
    """`value` as an SQLite literal, or None for a value that is better bound (long text)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and len(value) <= 200:
        return "'" + value.replace("'", "''") + "'"
    return None


def _no_record(item: BulkItem) -> IncidentRecord:
    raise AssertionError(f"line {item.line}: a planned row needs a record_of to update a stored incident")


def _neutral(values: dict[str, Any], fields: _Fields) -> tuple[Any, ...]:
    """A row builder's dict as a tuple in `fields`' order, as both engines take it: dates as ISO text (as
    SQLAlchemy stores them on SQLite; PostgreSQL reads the same text), booleans and numbers as they are."""
    row = [values[name] for name in fields.names]
    for index in fields.dates:
        if row[index] is not None:
            row[index] = row[index].isoformat()
    return tuple(row)


def _source_tuple(source: SourceRecord | tuple[Any, ...]) -> tuple[Any, ...]:
    """A source's columns (FULL_SOURCE_COLUMNS but id): the fast path gives them ready, a record is turned."""
    if isinstance(source, tuple):
        return source
    return _neutral(source_values(source), FULL_SOURCE_FIELDS)


def identity_of(record: IncidentRecord) -> tuple[str, ...]:
    """How a stored incident is found: by its dataset and origin id, else by its key."""
    if record.origin_dataset and record.origin_id:
        return ("origin", record.origin_dataset, record.origin_id)
    return ("key", record.key or "")


class Pipe:
    """Statements run in order on one writer thread. `put` waits while two batches are queued, so memory stays
    bounded; an error on the thread is raised by the next put, sync or close."""

    def __init__(self) -> None:
        self.jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, name="incidents-import-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                if job is None:
                    return
                if self.error is None:
                    job()
            except BaseException as exc:  # noqa: BLE001 - handed to the importing thread
                self.error = exc
            finally:
                self.jobs.task_done()

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def put(self, job: Callable[[], None]) -> None:
        self._raise()
        self.jobs.put(job)

    def sync(self) -> None:
        self.jobs.join()
        self._raise()

    def close(self, run_rest: bool = True) -> None:
        if not run_rest and self.error is None:
            self.error = _Abandoned()
        self.jobs.put(None)
        self.thread.join()
        if run_rest:
            self._raise()


class _Abandoned(Exception):
    """Marks a pipe whose remaining statements are skipped."""
