"""Running an import: detect the format, validate every row, write in chunks inside one transaction.

--on-error abort (default): any bad row means nothing is written, and every bad row is listed.
--on-error skip: valid rows are committed; each bad row goes to the rejects file with its reason.
Either way the counts reconcile: read = inserted + updated + unchanged + rejected.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from incidents.analysis.releases import changes, shown_value
from incidents.db.engine import for_writing, retrying, session_factory, take_bulk_lock
from incidents.errors import FieldError, InputError, UsageError, named, option
from incidents.files import atomic_write
from incidents.io.exports import spreadsheet_safe
from incidents.io.importers import acled, acled_deletions, gtd, native, ucdp
from incidents.io.importers.batches import Ragged, read_batches
from incidents.io.importers.columns import Checked
from incidents.io.importers.reading import Table, encoding_error, open_table, skip_hxl_row
from incidents.models import Conflict, Import, Incident
from incidents.records import IncidentRecord
from incidents.store.bulk import BulkItem, BulkWriter, identity_of
from incidents.store.imports import finish_import, start_import
from incidents.store.releases import DATASET_FORMATS, ReleaseLog, missing_from, restored_by_an_analyst

FORMATS: dict[str, ModuleType] = {"native": native, "gtd": gtd, "ucdp": ucdp, "acled": acled,
                                  "acled-deletions": acled_deletions}
DELETIONS = acled_deletions.NAME
CHUNK_ROWS = 5000
MAX_ERRORS_KEPT = 1000  # in memory, for the message; the rejects file gets every one
MAX_SUGGESTED = 200  # new actors checked against the registry for near-duplicates

Progress = Callable[[int, int], None]  # (bytes read, bytes in all)


@dataclass
class ImportOptions:
    format: str | None = None
    dry_run: bool = False
    on_error: str = "abort"
    rejects: Path | None = None
    actor_policy: str = "create"
    who: str | None = None
    country: str | None = None  # for files with no country column (GTD-derived copies)
    release: str | None = None  # "GED 25.1": recorded on the run and on each record's dataset source
    full_release: bool = False  # the file is the dataset's whole release for its countries and years
    columnar: bool = True  # read and check in columns where the format allows (False: every row the per-row way)


@dataclass
class ImportResult:
    file: str
    format: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    created_actors: list[str] = field(default_factory=list)
    # For each new actor, the closest actors that were in the registry already: likely the same group.
    actor_suggestions: dict[str, list[str]] = field(default_factory=dict)
    dry_run: bool = False
    committed: bool = False
    import_id: int | None = None
    release: str | None = None
    scope: dict[str, object] | None = None  # a full release's countries and years
    withdrawn: int = 0  # records withdrawn: missing from a full release, or on a deletion list
    restored: int = 0  # records a release had withdrawn that this file holds again
    # Fields an analyst changed that this release changes too: the analyst's value stays (store.releases).
    conflicts: list[dict[str, str | None]] = field(default_factory=list)
    diff: dict[str, object] | None = None  # what the run changes, for --dry-run (analysis.releases.changes)

    def reconciles(self) -> bool:
        if self.format == DELETIONS:  # a deletion list's rows are withdrawals
            return self.read == self.withdrawn + self.unchanged + self.rejected
        return self.read == self.inserted + self.updated + self.unchanged + self.rejected

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file, "format": self.format, "read": self.read, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "rejected": self.rejected,
            "committed": self.committed, "dry_run": self.dry_run, "import_id": self.import_id,
            "created_actors": self.created_actors, "actor_suggestions": self.actor_suggestions,
            "notes": self.notes, "errors": self.errors, "release": self.release, "scope": self.scope,
            "withdrawn": self.withdrawn, "restored": self.restored, "conflicts": self.conflicts,
            **({"diff": self.diff} if self.diff is not None else {}),
        }


def detect_format(header: list[str], path: Path) -> ModuleType:
    for module in (gtd, ucdp, acled, acled_deletions, native):  # native last: its columns are the most generic
        if module.detect(header):
            return module
    if any(character < " " and character != "\t" or "\x7f" <= character <= "\x9f" or character == "\ufffd"
           for name in header for character in name):
        raise InputError(f"{path.name}: the first line is not a header of column names (it holds control "
                         "characters: binary data, not a CSV or XLSX of incidents)")
    shown = ", ".join(name[:40] for name in header[:8]) + (", ..." if len(header) > 8 else "")
    raise InputError(
        f"{path.name}: unknown format. The header ({shown}) matches none of: native (date, country, "
        "perpetrators), gtd (eventid/iyear, gname), ucdp (id, side_a, side_b, best), acled (event_id_cnty, "
        f"actor1, fatalities), acled-deletions (event_id_cnty, deleted_timestamp). Name it ({option('format')}) if "
        "you know which it is."
    )


def _open(path: Path, options: ImportOptions) -> tuple[Table, ModuleType]:
    if options.format is not None and options.format not in FORMATS:
        raise FieldError("format", options.format, f"is not one of: {', '.join(FORMATS)}")
    module = FORMATS[options.format] if options.format else None
    table = open_table(path, module.ENCODINGS if module else ["utf-8", "cp1252", "latin-1"])
    if module is None:
        module = detect_format(table.header, path)
    if table.encoding not in module.ENCODINGS and table.encoding not in {"utf-8-sig", "xlsx"}:
        raise encoding_error(path, module.ENCODINGS[0], module.NAME)
    if table.encoding == "xlsx" and module is not gtd:
        raise InputError(f"{path.name}: XLSX is read for GTD files only; save {module.NAME} data as CSV")
    duplicates = sorted({name for name in table.header if name and table.header.count(name) > 1})
    if duplicates:
        raise InputError(f"{path.name}:1: column(s) {', '.join(duplicates)} appear more than once in the header")
    problems = module.check_header(table.header)
    if problems:
        raise InputError(f"{path.name}:1: {'; '.join(problems)}", [])
    return skip_hxl_row(table), module


def _row_hash(values: list[str]) -> str:
    # 64 bits: only ever compared with the stored hash of the same origin or key, never across rows.
    return hashlib.blake2b("\x1f".join(values).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


class _Rejects:
    """Collects bad rows: a capped list for the message, every row (with its reason) to the rejects file."""

    def __init__(self, path: Path | None, header: list[str], file_name: str) -> None:
        self.count = 0
        self.messages: list[str] = []
        self.file_name = file_name
        # Written beside its place and renamed into it by close(): an import that fails leaves no half a file.
        self._file = atomic_write(path, "w", newline="", encoding="utf-8") if path else None
        self.handle = self._file.__enter__() if self._file else None
        self.writer = csv.writer(self.handle) if self.handle else None
        if self.writer:
            self.writer.writerow(["_line", "_error", *header])

    def add(self, line: int, message: str, values: list[str]) -> None:
        message = named(message)  # kept as data (rejects file, ImportResult.errors): options by their keyword
        self.count += 1
        text = f"{self.file_name}:{line}: {message}"
        if len(self.messages) < MAX_ERRORS_KEPT:
            self.messages.append(text)
        if self.writer:  # a cell a spreadsheet would run as a formula gets the exports' apostrophe
            self.writer.writerow([line, spreadsheet_safe(message), *map(spreadsheet_safe, values)])

    def close(self, completed: bool = True) -> None:
        """Put the rejects file in place (completed), or drop it (the import failed)."""
        if self._file:
            file, self._file = self._file, None
            if completed:
                file.__exit__(None, None, None)
            else:
                file.__exit__(RuntimeError, RuntimeError("import failed"), None)


def run_import(engine: Engine, path: Path, options: ImportOptions | None = None,
               progress: Progress | None = None) -> ImportResult:
    """Import one file. Raises InputError (nothing written) when --on-error abort meets a bad row.

    The import is one transaction; when another writer gets in its way it is run again from the start
    (db.retrying), so concurrent imports of overlapping files neither fail nor duplicate a row.
    """
    options = options or ImportOptions()
    if options.on_error not in {"abort", "skip"}:
        raise FieldError("on_error", options.on_error, "is not one of: abort, skip")
    if options.release is not None:
        label = " ".join(options.release.split())
        if not label or len(label) > 50 or not label.isprintable():
            raise FieldError("release", options.release, "is not a release label: 1 to 50 printable characters, "
                                                         "such as 'GED 25.1' or 'ACLED 2025-11-30'")
        options.release = label
    return retrying(lambda: _import_once(engine, path, options, progress), f"incidents import {path.name}")


def _import_once(engine: Engine, path: Path, options: ImportOptions, progress: Progress | None) -> ImportResult:
    table, module = _open(path, options)
    if module.NAME not in DATASET_FORMATS and module is not acled_deletions \
            and (options.release is not None or options.full_release):
        flag = option("release") if options.release is not None else option("full_release")
        raise UsageError(f"{path.name}: {flag} is for a dataset's files (GTD, UCDP GED, ACLED); this is a "
                         f"{module.NAME} file")
    if module is acled_deletions:
        if options.full_release:
            raise UsageError(f"{path.name}: a deletion list is not a release; import it without "
                             f"{option('full_release')}")
        return _import_deletions(engine, path, table, options, progress)
    result = ImportResult(file=str(path), format=module.NAME, dry_run=options.dry_run, release=options.release)
    if table.skipped_hxl_row:
        result.notes.append("skipped the HXL hashtag row under the header (an HDX download)")
    header = table.header
    try:
        mapper = module.Mapper(header, default_country=options.country)
    except UsageError as exc:
        raise exc.prefixed(f"{path.name}: ") from None
    if getattr(mapper, "note", None):
        result.notes.append(mapper.note)
    rejects = _Rejects(options.rejects, header, path.name)
    seen: dict[str, int] = {}
    with path.open("rb") as handle:  # in chunks: a large file is never held in memory whole
        digest = hashlib.file_digest(handle, "sha256").hexdigest()

    with for_writing(engine).connect() as connection, connection.begin() as transaction:
        take_bulk_lock(connection)
        session = session_factory(engine)(bind=connection)
        run = start_import(session, str(path), module.NAME, digest, options.who)
        dataset = module.NAME if module.NAME in DATASET_FORMATS else None
        run.dataset, run.release, run.full_release = dataset, options.release, options.full_release
        if options.release:
            earlier = session.scalar(select(Import.id).where(
                Import.dataset == dataset, Import.release == options.release, Import.id != run.id,
                Import.finished_at.is_not(None)))
            if earlier is not None:
                result.notes.append(f"release {options.release!r} was imported before (import {earlier}); `incidents "
                                    "diff` takes a label's latest import, so the two count as one release")
        result.import_id = run.id
        releases = ReleaseLog(session, run, f"import of {path.name}" + (
            f" ({options.release})" if options.release else ""))
        countries: set[str] = set()
        years: list[int] = []
        chunk: list[BulkItem] = []
        width = len(header)
        # The raw row keeps what the tables do not: every column of a dataset row, the unmapped ones of a native row.
        raw_columns = [i for i, name in enumerate(header) if name not in getattr(module, "MAPPED_COLUMNS", ())]

        def item_of(line: int, values: list[str]) -> BulkItem:
            """The per-row path: the format's mapper and the record's validation (FieldError for a bad row)."""
            record = mapper.to_record(values, line)
            record.validate()
            if options.release:  # the record's own dataset source carries the release it was last in
                for report in record.reports:
                    if report.source.dataset == record.origin_dataset:
                        report.source.dataset_release = options.release
            raw = {header[i]: values[i] for i in raw_columns if values[i] != ""}
            if record.raw_row:  # a native row that carries its incident's original raw row
                raw = {**record.raw_row, **raw}
            record.raw_row = raw or None
            raw_json = json.dumps(raw, ensure_ascii=False) if raw else None
            return BulkItem(identity_of(record), record, line, _row_hash(values), raw_json, values)

        def record_of(item: BulkItem) -> IncidentRecord:
            """A columnar row that updates a stored incident goes the per-row way from here."""
            try:
                return item_of(item.line, item.row_values()).record  # type: ignore[return-value]
            except FieldError as exc:
                raise UsageError(f"column {exc.field_name}: {str(exc.value)[:200]!r} {exc.reason}") from None

        writer = BulkWriter(session, run, actor_policy=options.actor_policy, who=options.who,
                            protect=dataset is not None, release=options.release, releases=releases,
                            record_of=record_of)

        def flush() -> None:
            if not chunk:
                return
            if rejects.count and options.on_error == "abort":
                chunk.clear()  # the import will be rolled back; keep validating, stop writing
                return
            for item, reason in writer.write(chunk):
                rejects.add(item.line, reason, item.row_values())
            chunk.clear()

        def take(item: BulkItem, identity: str, country: str | None, year: int) -> None:
            if identity in seen:
                origin = item.identity[0] == "origin"
                shown, what = (item.identity[2], "origin id") if origin else (item.identity[1], "key")
                rejects.add(item.line, f"column {mapper.identity_column}: {shown!r} repeats the {what} of "
                                       f"line {seen[identity]} in this file", item.row_values())
                return
            seen[identity] = item.line
            if country is not None:
                countries.add(country)
            years[:] = [min(year, years[0]), max(year, years[1])] if years else [year, year]
            chunk.append(item)
            if len(chunk) >= CHUNK_ROWS:
                flush()
                if progress:
                    progress(table.position(), table.size)

        def per_row(line: int, values: list[str]) -> None:
            result.read += 1
            if len(values) != width:
                missing = header[len(values)] if len(values) < width else f"(extra field {len(values)})"
                kind = "truncated" if len(values) < width else "too long"
                rejects.add(line, f"column {missing}: row is {kind}: {len(values)} fields, the header has {width}",
                            values)
                return
            try:
                item = item_of(line, values)
            except FieldError as exc:
                rejects.add(line, f"column {exc.field_name}: {str(exc.value)[:200]!r} {exc.reason}", values)
                return
            record = item.record
            assert record is not None
            take(item, _identity_of(item.identity), record.location.country if record.location else None,
                 record.date_start.year)

        columnar = options.columnar and hasattr(module, "plans") and not raw_columns
        parsed: dict[str, dict[str, Any]] = {}  # each column's distinct values, parsed once (io.importers.columns)
        gc_was_on = gc.isenabled()
        gc.disable()  # millions of short-lived, acyclic objects: the cycle collector only costs time here
        try:
            if columnar:
                for batch in read_batches(path, table, module.ENCODINGS):
                    if isinstance(batch, Ragged):
                        per_row(batch.line, batch.values)
                        continue
                    planned = module.plans(Checked(batch, header, parsed))
                    for index, found in enumerate(planned):
                        if found is None:
                            per_row(batch.lines[index], batch.row(index))
                            continue
                        result.read += 1
                        plan, identity, country, year = found
                        item = BulkItem(identity, None, batch.lines[index], plan.incident[-1], None, None, plan,
                                        batch, index)
                        take(item, _identity_of(identity), country, year)
            else:
                for line, values in table.rows:
                    per_row(line, values)
            flush()
            writer.loaded()
        except BaseException:
            writer.abandon()
            rejects.close(completed=False)  # no half a rejects file
            raise
        finally:
            if gc_was_on:
                gc.enable()
        rejects.close()
        if progress:
            progress(table.size, table.size)

        result.rejected = rejects.count
        result.errors = rejects.messages
        result.inserted, result.updated, result.unchanged = (writer.counts[k] for k in ("inserted", "updated",
                                                                                       "unchanged"))
        result.created_actors = list(writer.actors.created)
        if writer.withdrawn:
            shown = ", ".join(session.scalars(select(Incident.key).where(Incident.id.in_(writer.withdrawn[:5]))
                                              .order_by(Incident.key))) + (", ..." if len(writer.withdrawn) > 5 else "")
            result.notes.append(f"rows of withdrawn incidents (by an analyst, or on a deletion list): "
                                f"{len(writer.withdrawn)} ({shown}); they stay withdrawn (`incidents restore KEY` "
                                "brings one back)")
        if options.full_release and dataset is not None:
            _withdraw_missing(session, result, releases, dataset, countries, years, seen)
        result.restored = len(writer.restored)
        _record_conflicts(session, result, run, writer.writer.conflicts)
        new = set(result.created_actors)
        for name in result.created_actors[:MAX_SUGGESTED]:
            close = writer.actors.closest(name, exclude=new)
            if close:
                result.actor_suggestions[name] = close
        if result.rejected and options.on_error == "abort":
            transaction.rollback()
            result.inserted = result.updated = result.unchanged = 0
            where = f" (all {result.rejected} are in {options.rejects})" if options.rejects else ""
            raise InputError(
                f"{path.name}: {result.rejected} of {result.read} rows are bad; nothing was imported{where}. "
                f"Fix them, or import the valid rows with {option('on_error')} skip:",
                result.errors,
            )
        finish_import(run, result.read, writer.counts, result.rejected)
        run.scope, run.withdrawn, run.restored, run.conflicts = (result.scope, result.withdrawn, result.restored,
                                                                  len(result.conflicts))
        session.flush()
        writer.close()
        _end(session, transaction, result, dataset, run.id, options.dry_run)
    assert result.reconciles(), result
    return result


def _end(session: Session, transaction: Any, result: ImportResult, dataset: str | None, run_id: int,
         dry_run: bool) -> None:
    """Commit the run, or, for a dry run, say what it would change (a dataset's) and roll it back."""
    if dry_run:
        if dataset is not None:
            result.diff = changes(session, dataset, [run_id])
        transaction.rollback()
    else:
        transaction.commit()
        result.committed = True


def _identity_of(identity: tuple[str, ...]) -> str:
    """One string per incident identity (a string, not a tuple, keeps a million of them small in memory)."""
    return f"\x1e{identity[1]}\x1f{identity[2]}" if identity[0] == "origin" else identity[1]


def _withdraw_missing(session: Session, result: ImportResult, releases: ReleaseLog, dataset: str,
                      countries: set[str], years: list[int], seen: dict[str, int]) -> None:
    """A full release: withdraw the live records of its dataset and scope that the file does not hold."""
    if result.rejected:
        result.notes.append(f"withdrew nothing: with {result.rejected} rejected row(s) the file's records are not "
                            "known in full (a rejected row may be a record still in the release)")
        return
    if not countries or not years:
        result.notes.append("withdrew nothing: the file holds no record with a country and a date")
        return
    result.scope = {"countries": sorted(countries), "years": list(years)}
    missing = missing_from(session, dataset, result.scope, lambda origin_id: f"\x1e{dataset}\x1f{origin_id}" in seen)
    kept = restored_by_an_analyst(session, missing)
    if kept:
        keys = sorted(session.scalars(select(Incident.key).where(Incident.id.in_(list(kept)[:5]))))
        result.notes.append(f"{len(kept)} record(s) missing from the release stay, because an analyst restored them "
                            f"(incidents restore): {', '.join(keys)}{', ...' if len(kept) > 5 else ''}")
    result.withdrawn = releases.withdraw([incident_id for incident_id in missing if incident_id not in kept])
    _note_kept_for_merges(session, result, releases)


def _note_kept_for_merges(session: Session, result: ImportResult, releases: ReleaseLog) -> None:
    kept = releases.kept_for_merges
    if kept:
        keys = sorted(session.scalars(select(Incident.key).where(Incident.id.in_(kept[:5]))))
        result.notes.append(f"{len(kept)} record(s) the release no longer holds stay, because other records are "
                            f"merged into them; only their own dataset report was withdrawn: {', '.join(keys)}"
                            f"{', ...' if len(kept) > 5 else ''}")


def _record_conflicts(session: Session, result: ImportResult, run: Import,
                      found: list[dict[str, str | None]]) -> None:
    """Store the conflicts the writer met, and list them on the result with values as a person reads them."""
    merged: dict[tuple[str | None, str | None], dict[str, str | None]] = {}
    for conflict in found:  # one per field and record: the first's old value, the last's new one
        slot = (conflict["incident_id"], conflict["field"])
        merged[slot] = {**conflict, "dataset_old": merged[slot]["dataset_old"]} if slot in merged else conflict
    for conflict in merged.values():
        session.add(Conflict(incident_id=int(conflict["incident_id"] or 0), field=conflict["field"],
                             analyst_value=conflict["analyst_value"], dataset_old=conflict["dataset_old"],
                             dataset_value=conflict["dataset_value"], import_id=run.id,
                             reason=conflict.get("reason")))
        field_name = conflict["field"] or ""
        result.conflicts.append({
            "key": conflict["key"], "field": "place" if field_name == "location_id" else field_name,
            "analyst": shown_value(session, field_name, conflict["analyst_value"]),
            "dataset_old": shown_value(session, field_name, conflict["dataset_old"]),
            "dataset_new": shown_value(session, field_name, conflict["dataset_value"]),
        })
    session.flush()


def _import_deletions(engine: Engine, path: Path, table: Table, options: ImportOptions,
                      progress: Progress | None) -> ImportResult:
    """An ACLED deletion list: withdraw every listed event that is stored and live; all of it or nothing."""
    result = ImportResult(file=str(path), format=DELETIONS, dry_run=options.dry_run, release=options.release)
    header = table.header
    rejects = _Rejects(options.rejects, header, path.name)
    listed: dict[str, tuple[int, str]] = {}  # event id -> (line, deletion day)
    try:
        for line, values in table.rows:
            result.read += 1
            if len(values) != len(header):
                rejects.add(line, f"row has {len(values)} fields, the header has {len(header)}", values)
                continue
            try:
                event_id, when = acled_deletions.read(dict(zip(header, values, strict=True)))
            except FieldError as exc:
                rejects.add(line, f"column {exc.field_name}: {str(exc.value)[:200]!r} {exc.reason}", values)
                continue
            if event_id in listed:
                result.unchanged += 1  # listed twice: one withdrawal
                continue
            listed[event_id] = (line, f"{when:%Y-%m-%d}")
    except BaseException:
        rejects.close(completed=False)
        raise
    rejects.close()
    if progress:
        progress(table.size, table.size)
    result.rejected, result.errors = rejects.count, rejects.messages
    if result.rejected and options.on_error == "abort":
        where = f" (all {result.rejected} are in {options.rejects})" if options.rejects else ""
        raise InputError(f"{path.name}: {result.rejected} of {result.read} rows are bad; nothing was withdrawn"
                         f"{where}. Fix them, or withdraw the valid rows with {option('on_error')} skip:",
                         result.errors)
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    with for_writing(engine).connect() as connection, connection.begin() as transaction:
        take_bulk_lock(connection)
        session = session_factory(engine)(bind=connection)
        run = start_import(session, str(path), DELETIONS, digest, options.who)
        run.dataset, run.release = acled_deletions.DATASET, options.release
        result.import_id = run.id
        stored: dict[str, int] = {}
        ids = list(listed)
        for start in range(0, len(ids), 2000):
            stored.update((origin_id or "", incident_id) for incident_id, origin_id in session.execute(
                select(Incident.id, Incident.origin_id).where(
                    Incident.origin_dataset == acled_deletions.DATASET, Incident.origin_id.in_(ids[start:start + 2000]),
                    Incident.withdrawn_at.is_(None))))
        kept = restored_by_an_analyst(session, list(stored.values()))
        if kept:
            keys = sorted(session.scalars(select(Incident.key).where(Incident.id.in_(list(kept)[:5]))))
            result.notes.append(f"{len(kept)} listed event(s) stay, because an analyst restored them (incidents "
                                f"restore): {', '.join(keys)}{', ...' if len(kept) > 5 else ''}")
        by_day: dict[str, list[int]] = {}
        for event_id, incident_id in stored.items():
            if incident_id not in kept:
                by_day.setdefault(listed[event_id][1], []).append(incident_id)
        for day, incident_ids in sorted(by_day.items()):
            log = ReleaseLog(session, run, f"ACLED deletion list {path.name}: deleted by ACLED on {day}")
            result.withdrawn += log.withdraw(incident_ids)
            _note_kept_for_merges(session, result, log)
        result.unchanged += len(listed) - result.withdrawn
        absent = len(listed) - len(stored)
        if absent:
            result.notes.append(f"{absent} listed event(s) are not stored, or withdrawn already: nothing to do")
        finish_import(run, result.read, {"unchanged": result.unchanged}, result.rejected)
        run.withdrawn = result.withdrawn
        session.flush()
        _end(session, transaction, result, acled_deletions.DATASET, run.id, options.dry_run)
    assert result.reconciles(), result
    return result
