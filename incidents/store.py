"""All writes: actor registry and resolution, incident upserts, reports, derived tolls, revisions, import runs."""

from __future__ import annotations

import difflib
import getpass
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incidents.errors import NotFoundError, UsageError
from incidents.models import (
    Actor,
    ActorAlias,
    ActorKind,
    Attribution,
    Import,
    Incident,
    IncidentActor,
    Location,
    Report,
    Revision,
    Source,
)
from incidents.records import (
    ActorLink,
    IncidentRecord,
    LocationRecord,
    ReportRecord,
    SourceRecord,
    derive_figures,
    normalize_name,
)

# Fields an analyst curates; a change to any of them is written to `revisions`.
CURATED_FIELDS = (
    "title", "date_start", "date_end", "date_precision", "location_id", "attack_type", "target_type",
    "weapon_type", "suicide", "summary", "status", "killed_low", "killed_best", "killed_high",
    "wounded_low", "wounded_best", "wounded_high", "perpetrators_killed", "origin_dataset", "origin_id",
)

# Strongest first; when two sources attribute one incident to one actor, the stronger word stands.
ATTRIBUTION_STRENGTH = [Attribution.CLAIMED, Attribution.ATTRIBUTED, Attribution.SUSPECTED, Attribution.DENIED]


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# ------------------------------------------------------------------------------------------------ actors


@dataclass
class ActorSpec:
    name: str
    kind: ActorKind = ActorKind.GROUP
    parent: str | None = None
    description: str | None = None
    aliases: list[tuple[str, str, str | None]] = field(default_factory=list)  # (alias, dataset, note)


class ActorResolver:
    """Resolves any spelling to one actor through normalized aliases, with every alias held in memory.

    policy 'create': an unknown name becomes a new actor and is listed in `created`;
    policy 'strict': an unknown name is an error.
    """

    def __init__(self, session: Session, policy: str = "create") -> None:
        if policy not in {"create", "strict"}:
            raise UsageError(f"actor policy {policy!r} is not one of: create, strict")
        self.session = session
        self.policy = policy
        self.created: list[str] = []
        self._by_key: dict[tuple[str, str], int] = {}
        for actor_id, dataset, normalized in session.execute(
            select(ActorAlias.actor_id, ActorAlias.dataset, ActorAlias.normalized)
        ):
            self._by_key[(dataset, normalized)] = actor_id
        for actor_id, name in session.execute(select(Actor.id, Actor.name)):
            self._by_key.setdefault(("", normalize_name(name)), actor_id)

    def find(self, name: str, dataset: str = "") -> int | None:
        normalized = normalize_name(name)
        if dataset:
            found = self._by_key.get((dataset, normalized))
            if found is not None:
                return found
        return self._by_key.get(("", normalized))

    def resolve(self, name: str, dataset: str = "") -> int:
        found = self.find(name, dataset)
        if found is not None:
            return found
        if not normalize_name(name):
            raise UsageError(f"actor name {name!r} has no letters or digits")
        if self.policy == "strict":
            hint = self.suggest(name)
            raise UsageError(
                f"unknown actor {name!r} (strict actor policy)" + (f"; did you mean {hint}?" if hint else "")
            )
        actor = Actor(name=name.strip(), kind=ActorKind.GROUP.value)
        self.session.add(actor)
        self.session.flush()
        self._add_alias(actor.id, name, "")
        self.created.append(actor.name)
        return actor.id

    def suggest(self, name: str, limit: int = 3) -> str:
        names = [n for (n,) in self.session.execute(select(Actor.name))]
        close = difflib.get_close_matches(name, names, n=limit, cutoff=0.5)
        return ", ".join(repr(n) for n in close)

    def _add_alias(self, actor_id: int, alias: str, dataset: str, note: str | None = None) -> None:
        key = (dataset, normalize_name(alias))
        owner = self._by_key.get(key)
        if owner is not None and owner != actor_id:
            other = self.session.get(Actor, owner)
            raise UsageError(
                f"alias {alias!r}{f' ({dataset})' if dataset else ''} already names "
                f"{other.name if other else owner}; an alias can name one actor only"
            )
        exists = self.session.scalar(
            select(ActorAlias).where(ActorAlias.dataset == dataset, ActorAlias.normalized == key[1])
        )
        if exists is None:
            self.session.add(
                ActorAlias(actor_id=actor_id, alias=alias.strip(), normalized=key[1], dataset=dataset, note=note)
            )
        self._by_key[key] = actor_id

    def upsert(self, spec: ActorSpec) -> tuple[int, bool]:
        """Create or update one registry entry; returns (actor id, whether anything changed)."""
        actor = self.session.scalar(select(Actor).where(Actor.name == spec.name))
        existing_id = self.find(spec.name)
        if actor is None and existing_id is not None:
            actor = self.session.get(Actor, existing_id)
        changed = False
        if actor is None:
            actor = Actor(name=spec.name, kind=spec.kind.value, description=spec.description)
            self.session.add(actor)
            self.session.flush()
            changed = True
        else:
            for attr, value in (("kind", spec.kind.value), ("description", spec.description)):
                if value is not None and getattr(actor, attr) != value:
                    setattr(actor, attr, value)
                    changed = True
        if spec.parent:
            parent_id = self.find(spec.parent)
            if parent_id is None:
                raise UsageError(f"actor {spec.name!r}: parent {spec.parent!r} is not in the registry (list it first)")
            if actor.parent_id != parent_id:
                actor.parent_id = parent_id
                changed = True
        before = len(self._by_key)
        self._add_alias(actor.id, spec.name, "")
        for alias, dataset, note in spec.aliases:
            self._add_alias(actor.id, alias, dataset, note)
        return actor.id, changed or len(self._by_key) != before


# ------------------------------------------------------------------------------------------ sources, places


def get_or_create_source(session: Session, record: SourceRecord) -> Source:
    """The stored source for `record`, found by URL, dataset record or citation; blanks filled in from `record`."""
    source: Source | None = None
    if record.url:
        source = session.scalar(select(Source).where(Source.url == record.url))
    elif record.dataset and record.dataset_record_id:
        source = session.scalar(
            select(Source).where(
                Source.dataset == record.dataset, Source.dataset_record_id == record.dataset_record_id
            )
        )
    elif record.citation:
        source = session.scalar(
            select(Source).where(Source.url.is_(None), Source.citation == record.citation).limit(1)
        )
    else:
        raise UsageError("a source needs a URL, a citation, or a dataset record id")
    values = {
        "kind": record.kind, "url": record.url, "citation": record.citation, "outlet": record.outlet,
        "title": record.title, "published_on": record.published_on, "author": record.author,
        "language": record.language, "accessed_on": record.accessed_on, "full_text": record.full_text,
        "full_text_sha256": hashlib.sha256(record.full_text.encode()).hexdigest() if record.full_text else None,
        "dataset": record.dataset, "dataset_release": record.dataset_release,
        "dataset_record_id": record.dataset_record_id,
    }
    if source is None:
        source = Source(**values)
        session.add(source)
        session.flush()
        return source
    for attr, value in values.items():
        if value is not None and getattr(source, attr) is None:
            setattr(source, attr, value)
    return source


def get_or_create_location(session: Session, record: LocationRecord) -> Location:
    key = record.key
    location = session.scalar(select(Location).where(Location.key == key))
    if location is None:
        location = Location(
            key=key, country=record.country, admin1=record.admin1, admin2=record.admin2, place=record.place,
            latitude=record.latitude, longitude=record.longitude,
            geo_precision=record.geo_precision.value if record.geo_precision else None,
        )
        session.add(location)
        session.flush()
    return location


# ------------------------------------------------------------------------------------------------ figures


def choose_figures(
    incident_key: str, measure: str, derived: tuple[int | None, int | None, int | None], manual_best: int | None
) -> tuple[int | None, int | None, int | None]:
    """The incident's (low, best, high): the reports' range, with the analyst's best when one is set."""
    low, best, high = derived
    if manual_best is None:
        return low, best, high
    if low is None or high is None:
        return manual_best, manual_best, manual_best  # an analyst's figure with no report behind it is a bound
    if not low <= manual_best <= high:
        raise UsageError(
            f"incident {incident_key}: {measure} best {manual_best} lies outside the range its reports give "
            f"({low}-{high}); add the report that gives {manual_best}, or choose a figure inside the range"
        )
    return low, manual_best, high


def recompute_figures(incident: Incident, reports: list[Report]) -> None:
    """low/high = min/max over non-preliminary reports; best = the analyst's choice, else the latest report's."""
    for measure in ("killed", "wounded"):
        manual = getattr(incident, f"{measure}_best") if getattr(incident, f"{measure}_best_manual") else None
        low, best, high = choose_figures(incident.key, measure, derive_figures(reports, measure), manual)
        setattr(incident, f"{measure}_low", low)
        setattr(incident, f"{measure}_best", best)
        setattr(incident, f"{measure}_high", high)
    if incident.perpetrators_killed is None:
        incident.perpetrators_killed = derive_figures(reports, "perpetrators_killed")[1]


# ------------------------------------------------------------------------------------------------ incidents


def _stronger(a: str | None, b: str | None) -> str | None:
    ranks = {member.value: rank for rank, member in enumerate(ATTRIBUTION_STRENGTH)}
    candidates = [x for x in (a, b) if x is not None]
    return min(candidates, key=lambda x: ranks[x]) if candidates else None


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Writer:
    """Writes incident records inside one session, recording every change to a curated field.

    One Writer serves one load or import run; counts say what happened to each record.
    """

    def __init__(
        self, session: Session, *, actor_policy: str = "create", who: str | None = None,
        why: str | None = None, import_run: Import | None = None,
    ) -> None:
        self.session = session
        self.actors = ActorResolver(session, actor_policy)
        self.who = who or current_user()
        self.why = why
        self.import_run = import_run
        self.counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        self.last_key: str | None = None

    def save(self, record: IncidentRecord, dataset: str = "") -> str:
        """Insert or update the incident `record` describes; returns 'inserted', 'updated' or 'unchanged'."""
        record.validate()
        incident = self._find(record)
        outcome = "inserted" if incident is None else "unchanged"
        location = get_or_create_location(self.session, record.location) if record.location else None
        if incident is None:
            incident = Incident(key=record.key or self._free_key(record.default_key()))
        before = {name: getattr(incident, name) for name in CURATED_FIELDS} if outcome != "inserted" else {}

        incident.title = record.title
        incident.date_start = record.date_start
        incident.date_end = record.date_end
        incident.date_precision = record.date_precision.value
        incident.location_id = location.id if location else None
        incident.attack_type = record.attack_type
        incident.target_type = record.target_type
        incident.weapon_type = record.weapon_type
        incident.suicide = record.suicide
        incident.summary = record.summary
        incident.status = record.status.value
        incident.origin_dataset = record.origin_dataset
        incident.origin_id = record.origin_id
        incident.raw_row = record.raw_row
        incident.killed_best_manual = record.killed_best is not None
        incident.wounded_best_manual = record.wounded_best is not None
        if record.killed_best is not None:
            incident.killed_best = record.killed_best
        if record.wounded_best is not None:
            incident.wounded_best = record.wounded_best
        if record.perpetrators_killed is not None:
            incident.perpetrators_killed = record.perpetrators_killed
        self.session.add(incident)
        self.session.flush()

        reports_changed = self._save_reports(incident, record.reports)
        actors_changed = self._save_actors(incident, record.actors, dataset)
        reports = list(self.session.scalars(
            select(Report).where(Report.incident_id == incident.id).order_by(Report.id)
        ))
        recompute_figures(incident, reports)
        self.session.flush()

        if outcome != "inserted":
            changes = self._record_revisions(incident, before)
            if changes or reports_changed or actors_changed:
                outcome = "updated"
        self.counts[outcome] += 1
        self.last_key = incident.key
        return outcome

    def _find(self, record: IncidentRecord) -> Incident | None:
        if record.origin_dataset and record.origin_id:
            found = self.session.scalar(
                select(Incident).where(
                    Incident.origin_dataset == record.origin_dataset, Incident.origin_id == record.origin_id
                )
            )
            if found is not None:
                return found
        if record.key:
            return self.session.scalar(select(Incident).where(Incident.key == record.key))
        return None

    def _free_key(self, base: str) -> str:
        key, n = base, 1
        while self.session.scalar(select(Incident.id).where(Incident.key == key)) is not None:
            n += 1
            key = f"{base}-{n}"
        return key

    def _save_reports(self, incident: Incident, reports: list[ReportRecord]) -> bool:
        changed = False
        for record in reports:
            source = get_or_create_source(self.session, record.source)
            report = self.session.scalar(
                select(Report).where(Report.incident_id == incident.id, Report.source_id == source.id)
            )
            values = {
                "reported_on": record.reported_on,
                "killed": record.killed, "killed_low": record.killed_low, "killed_high": record.killed_high,
                "killed_at_least": record.killed_at_least,
                "wounded": record.wounded, "wounded_at_least": record.wounded_at_least,
                "perpetrators_killed": record.perpetrators_killed, "preliminary": record.preliminary,
                "perpetrator_stated": record.perpetrator_stated,
                "attribution": record.attribution.value if record.attribution else None,
                "excerpt": record.excerpt, "note": record.note,
            }
            if report is None:
                self.session.add(Report(incident_id=incident.id, source_id=source.id, **values))
                changed = True
                continue
            for attr, value in values.items():
                if getattr(report, attr) != value:
                    self._revision("reports", report.id, attr, getattr(report, attr), value)
                    setattr(report, attr, value)
                    changed = True
        self.session.flush()
        return changed

    def _save_actors(self, incident: Incident, links: list[ActorLink], dataset: str) -> bool:
        changed = False
        existing = {
            (link.actor_id, link.role): link
            for link in self.session.scalars(select(IncidentActor).where(IncidentActor.incident_id == incident.id))
        }
        for link in links:
            actor_id = self.actors.resolve(link.name, dataset)
            source_id = get_or_create_source(self.session, link.source).id if link.source else None
            attribution = link.attribution.value if link.attribution else None
            row = existing.get((actor_id, link.role.value))
            if row is None:
                row = IncidentActor(
                    incident_id=incident.id, actor_id=actor_id, role=link.role.value,
                    attribution=attribution, source_id=source_id,
                )
                self.session.add(row)
                existing[(actor_id, link.role.value)] = row
                changed = True
                continue
            stronger = _stronger(row.attribution, attribution)
            if stronger != row.attribution:
                self._revision("incident_actors", row.id, "attribution", row.attribution, stronger)
                row.attribution = stronger
                row.source_id = source_id or row.source_id
                changed = True
        self.session.flush()
        return changed

    def _record_revisions(self, incident: Incident, before: dict[str, object]) -> int:
        changes = 0
        for name in CURATED_FIELDS:
            old, new = before.get(name), getattr(incident, name)
            if _as_text(old) != _as_text(new):
                self._revision("incidents", incident.id, name, old, new)
                changes += 1
        return changes

    def _revision(self, table: str, row_id: int, name: str, old: object, new: object) -> None:
        self.session.add(
            Revision(
                table_name=table, row_id=row_id, field=name, old_value=_as_text(old), new_value=_as_text(new),
                changed_by=self.who, reason=self.why,
                import_id=self.import_run.id if self.import_run else None,
            )
        )


def start_import(session: Session, file_name: str, fmt: str, sha256: str | None, who: str | None = None) -> Import:
    run = Import(file_name=file_name, format=fmt, file_sha256=sha256, imported_by=who or current_user())
    session.add(run)
    session.flush()
    return run


def finish_import(run: Import, read: int, counts: dict[str, int], rejected: int = 0) -> None:
    run.rows_read = read
    run.inserted = counts.get("inserted", 0)
    run.updated = counts.get("updated", 0)
    run.unchanged = counts.get("unchanged", 0)
    run.rejected = rejected
    run.finished_at = datetime.now(UTC)


def require_incident(session: Session, key: str) -> Incident:
    incident = session.scalar(select(Incident).where(Incident.key == key))
    if incident is None:
        keys = [k for (k,) in session.execute(select(Incident.key))]
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else " List keys with: incidents list"
        raise NotFoundError(f"No incident with key {key!r}.{hint}")
    return incident


# ------------------------------------------------------------------------------------------------ bulk path

IN_BATCH = 5000  # values per IN (...) lookup; well under SQLite's limit of 32766 bound parameters


def _batches(values: list[Any], size: int = IN_BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass(slots=True)
class BulkItem:
    """One parsed row on its way into the database."""

    record: IncidentRecord
    line: int
    row_hash: str
    raw_json: str | None
    values: list[str]  # the row as read, for the rejects file


class BulkWriter:
    """Writes many records fast, inside the caller's transaction.

    New incidents (and their sources, reports and actor links) go in with ids allocated up front, by
    executemany on SQLite and COPY on PostgreSQL. A record whose origin or key is already stored is
    unchanged when its row hash matches, and otherwise goes through Writer, which records every changed
    field as a revision. `write` returns the items it refused, each with the reason.
    """

    def __init__(self, session: Session, import_run: Import, actor_policy: str = "create", who: str | None = None):
        self.session = session
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.writer = Writer(session, actor_policy=actor_policy, who=who, why=f"import of {import_run.file_name}",
                             import_run=import_run)
        self.actors = self.writer.actors
        self.counts = self.writer.counts
        self.locations: dict[str, int] = {key: id_ for key, id_ in session.execute(select(Location.key, Location.id))}
        self.had_incidents = session.scalar(select(Incident.id).limit(1)) is not None
        now = datetime.now(UTC)
        self.now: object = now if self.postgres else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        self.true: object = True if self.postgres else 1
        self.false: object = False if self.postgres else 0

    # ---- plumbing

    def _ids(self, table: str, count: int) -> list[int]:
        if count == 0:
            return []
        if self.postgres:
            rows = self.connection.exec_driver_sql(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {count})"
            )
            return [row[0] for row in rows]
        # The import holds SQLite's write lock (its imports row is written first), so MAX(id) cannot move
        # under us; it is read each time because the ORM path may have added rows in between.
        start = int(self.connection.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {table}").scalar() or 0) + 1
        return list(range(start, start + count))

    def _insert(self, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgres:
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * len(columns))
        self.connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def _bool(self, value: bool | None) -> object:
        return None if value is None else (self.true if value else self.false)

    # ---- lookups

    def _existing_incidents(self, items: list[BulkItem]) -> dict[tuple[Any, ...], tuple[int, str | None]]:
        if not self.had_incidents:
            return {}
        found: dict[tuple[Any, ...], tuple[int, str | None]] = {}
        by_origin: dict[str, list[str]] = {}
        keys = []
        for item in items:
            record = item.record
            if record.origin_dataset and record.origin_id:
                by_origin.setdefault(record.origin_dataset, []).append(record.origin_id)
            elif record.key:
                keys.append(record.key)
        for dataset, origin_ids in by_origin.items():
            for batch in _batches(origin_ids):
                for incident_id, origin_id, row_hash in self.session.execute(
                    select(Incident.id, Incident.origin_id, Incident.row_hash)
                    .where(Incident.origin_dataset == dataset, Incident.origin_id.in_(batch))
                ):
                    found[("origin", dataset, origin_id)] = (incident_id, row_hash)
        for batch in _batches(keys):
            for incident_id, key, row_hash in self.session.execute(
                select(Incident.id, Incident.key, Incident.row_hash).where(Incident.key.in_(batch))
            ):
                found[("key", key)] = (incident_id, row_hash)
        return found

    def _source_ids(self, sources: dict[tuple[Any, ...], SourceRecord]) -> dict[tuple[Any, ...], int]:
        """Ids for every source identity in `sources`, inserting the ones not stored yet."""
        found: dict[tuple[Any, ...], int] = {}
        urls = [identity[1] for identity in sources if identity[0] == "url"]
        citations = [identity[1] for identity in sources if identity[0] == "citation"]
        records: dict[str, list[str]] = {}
        for identity in sources:
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
        new = [(identity, record) for identity, record in sources.items() if identity not in found]
        ids = self._ids("sources", len(new))
        rows = []
        for source_id, (identity, record) in zip(ids, new, strict=True):
            found[identity] = source_id
            digest = hashlib.sha256(record.full_text.encode()).hexdigest() if record.full_text else None
            rows.append((
                source_id, record.kind, record.url, record.citation, record.outlet, record.title,
                record.published_on.isoformat() if record.published_on else None, record.author, record.language,
                record.accessed_on.isoformat() if record.accessed_on else None, record.full_text, digest,
                record.dataset, record.dataset_release, record.dataset_record_id, self.now,
            ))
        self._insert("sources", SOURCE_COLUMNS, rows)
        return found

    def _location_id(self, record: LocationRecord, new: dict[str, tuple[Any, ...]]) -> str:
        key = record.key
        if key not in self.locations and key not in new:
            new[key] = (key, record.country, record.admin1, record.admin2, record.place, record.latitude,
                        record.longitude, record.geo_precision.value if record.geo_precision else None)
        return key

    # ---- the write

    def write(self, items: list[BulkItem]) -> list[tuple[BulkItem, str]]:
        refused: list[tuple[BulkItem, str]] = []
        existing = self._existing_incidents(items)
        fresh: list[BulkItem] = []
        for item in items:
            record = item.record
            identity = (("origin", record.origin_dataset, record.origin_id)
                        if record.origin_dataset and record.origin_id else ("key", record.key))
            stored = existing.get(identity)
            if stored is None:
                fresh.append(item)
            elif stored[1] == item.row_hash:
                self.counts["unchanged"] += 1
            else:
                try:
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

    def _insert_new(self, items: list[BulkItem]) -> list[tuple[BulkItem, str]]:
        refused: list[tuple[BulkItem, str]] = []
        planned = []
        for item in items:
            record = item.record
            try:
                figures = {
                    measure: choose_figures(record.key or "", measure, derive_figures(record.reports, measure),
                                            getattr(record, f"{measure}_best"))
                    for measure in ("killed", "wounded")
                }
                actor_ids = [(self.actors.resolve(link.name, record.origin_dataset or ""), link)
                             for link in record.actors]
            except UsageError as exc:
                refused.append((item, str(exc)))
                continue
            planned.append((item, figures, actor_ids))

        new_locations: dict[str, tuple[Any, ...]] = {}
        sources: dict[tuple[Any, ...], SourceRecord] = {}
        for item, _, _ in planned:
            record = item.record
            if record.location:
                self._location_id(record.location, new_locations)
            for report in record.reports:
                sources.setdefault(report.source.identity(), report.source)
            for link in record.actors:
                if link.source:
                    sources.setdefault(link.source.identity(), link.source)
        location_ids = self._ids("locations", len(new_locations))
        self._insert("locations", LOCATION_COLUMNS,
                     [(location_id, *values) for location_id, values in zip(location_ids, new_locations.values(),
                                                                              strict=True)])
        self.locations.update(zip(new_locations, location_ids, strict=True))
        source_ids = self._source_ids(sources)
        self.session.flush()  # actors the resolver created must exist before links point at them

        incident_ids = self._ids("incidents", len(planned))
        incidents: list[tuple[Any, ...]] = []
        reports: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        for incident_id, (item, figures, actor_ids) in zip(incident_ids, planned, strict=True):
            record = item.record
            killed, wounded = figures["killed"], figures["wounded"]
            perpetrators_killed = record.perpetrators_killed
            if perpetrators_killed is None:
                perpetrators_killed = derive_figures(record.reports, "perpetrators_killed")[1]
            incidents.append((
                incident_id, record.key, record.title, record.date_start.isoformat(),
                record.date_end.isoformat() if record.date_end else None, record.date_precision.value,
                self.locations[record.location.key] if record.location else None,
                record.attack_type, record.target_type, record.weapon_type, self._bool(record.suicide),
                record.summary, record.status.value, killed[0], killed[1], killed[2],
                self._bool(record.killed_best is not None), wounded[0], wounded[1], wounded[2],
                self._bool(record.wounded_best is not None), perpetrators_killed, record.origin_dataset,
                record.origin_id, item.raw_json, item.row_hash, self.now, self.now,
            ))
            for report in record.reports:
                reports.append((
                    incident_id, source_ids[report.source.identity()],
                    report.reported_on.isoformat() if report.reported_on else None, report.killed,
                    report.killed_low, report.killed_high, self._bool(report.killed_at_least), report.wounded,
                    self._bool(report.wounded_at_least), report.perpetrators_killed, self._bool(report.preliminary),
                    report.perpetrator_stated, report.attribution.value if report.attribution else None,
                    report.excerpt, report.note, self.now,
                ))
            merged: dict[tuple[int, str], list[Any]] = {}
            for actor_id, link in actor_ids:
                attribution = link.attribution.value if link.attribution else None
                source_id = source_ids[link.source.identity()] if link.source else None
                slot = merged.get((actor_id, link.role.value))
                if slot is None:
                    merged[(actor_id, link.role.value)] = [incident_id, actor_id, link.role.value, attribution,
                                                          source_id]
                elif _stronger(slot[3], attribution) != slot[3]:
                    slot[3], slot[4] = attribution, source_id or slot[4]
            links.extend(tuple(values) for values in merged.values())
        self._insert("incidents", INCIDENT_COLUMNS, incidents)
        report_ids = self._ids("reports", len(reports))
        self._insert("reports", REPORT_COLUMNS, [(rid, *row) for rid, row in zip(report_ids, reports, strict=True)])
        link_ids = self._ids("incident_actors", len(links))
        self._insert("incident_actors", LINK_COLUMNS, [(lid, *row) for lid, row in zip(link_ids, links, strict=True)])
        self.counts["inserted"] += len(planned)
        return refused


LOCATION_COLUMNS = ["id", "key", "country", "admin1", "admin2", "place", "latitude", "longitude", "geo_precision"]
SOURCE_COLUMNS = [
    "id", "kind", "url", "citation", "outlet", "title", "published_on", "author", "language", "accessed_on",
    "full_text", "full_text_sha256", "dataset", "dataset_release", "dataset_record_id", "created_at",
]
INCIDENT_COLUMNS = [
    "id", "key", "title", "date_start", "date_end", "date_precision", "location_id", "attack_type", "target_type",
    "weapon_type", "suicide", "summary", "status", "killed_low", "killed_best", "killed_high", "killed_best_manual",
    "wounded_low", "wounded_best", "wounded_high", "wounded_best_manual", "perpetrators_killed", "origin_dataset",
    "origin_id", "raw_row", "row_hash", "created_at", "updated_at",
]
REPORT_COLUMNS = [
    "id", "incident_id", "source_id", "reported_on", "killed", "killed_low", "killed_high", "killed_at_least",
    "wounded", "wounded_at_least", "perpetrators_killed", "preliminary", "perpetrator_stated", "attribution",
    "excerpt", "note", "created_at",
]
LINK_COLUMNS = ["id", "incident_id", "actor_id", "role", "attribution", "source_id"]
