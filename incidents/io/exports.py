"""Exports: the native incidents CSV (what `incidents import` reads back losslessly), spreadsheet-safe.

Text cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
apostrophe, and so does a text cell that already starts with one; the native importer drops exactly one
leading apostrophe, so export -> import gives back every value. Numbers are written as numbers (-3 stays -3).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import files
from incidents.analysis.filters import Filters, filtered_incidents
from incidents.analysis.reads import date_text
from incidents.analysis.sql import plain
from incidents.errors import FieldError, UsageError
from incidents.files import LazyList, atomic_path, atomic_write
from incidents.io.importers.native import NATIVE_COLUMNS
from incidents.models import Actor, Incident, IncidentActor, Location, Report, Role, Source

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
BATCH = 5000


def spreadsheet_safe(value: str) -> str:
    """Neutralise a text cell against formula injection, reversibly (see module docstring)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unescape(value: str) -> str:
    """The inverse of spreadsheet_safe, applied by the native importer."""
    return value[1:] if value.startswith("'") else value


def _source_identity(source: Source) -> dict[str, Any]:
    """Just enough to find the source again: its URL, else its dataset record, else its citation."""
    if source.url:
        return {"url": source.url}
    if source.dataset and source.dataset_record_id:
        return {"dataset": source.dataset, "record_id": source.dataset_record_id, "kind": source.kind}
    return {"citation": source.citation}


def _report_json(report: Report, source: Source) -> dict[str, Any]:
    item: dict[str, Any] = {"source": {
        key: value for key, value in (
            ("url", source.url), ("citation", source.citation), ("outlet", source.outlet), ("title", source.title),
            ("published_on", source.published_on.isoformat() if source.published_on else None),
            ("author", source.author), ("language", source.language),
            ("kind", source.kind if source.kind != "article" else None), ("dataset", source.dataset),
            ("dataset_release", source.dataset_release), ("record_id", source.dataset_record_id),
        ) if value is not None
    }}
    for key in ("killed", "killed_low", "killed_high", "wounded", "wounded_low", "wounded_high", "perpetrators_killed",
                "perpetrator_stated",
                "attribution", "excerpt", "note"):
        value = getattr(report, key)
        if value is not None:
            item[key] = value
    for flag in ("killed_at_least", "wounded_at_least", "preliminary"):
        if getattr(report, flag):
            item[flag] = True
    if report.reported_on is not None and report.reported_on != source.published_on:
        item["reported_on"] = report.reported_on.isoformat()
    return item


def incident_rows(session: Session, filters: Filters) -> Iterator[dict[str, Any]]:
    """Native rows for every incident matching `filters`, oldest first, read in batches (never all at once)."""
    ids = [row[0] for row in session.execute(
        filtered_incidents(session, filters).order_by(Incident.date_start, Incident.key)
    )]
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        incidents = session.execute(
            select(Incident, Location).outerjoin(Location, Location.id == Incident.location_id)
            .where(Incident.id.in_(batch))
        ).all()
        perpetrators: dict[int, list[str]] = {}
        actors: dict[int, list[dict[str, Any]]] = {}
        for incident_id, name, role, attribution, source in session.execute(
            select(IncidentActor.incident_id, Actor.name, IncidentActor.role, IncidentActor.attribution, Source)
            .join(Actor, Actor.id == IncidentActor.actor_id)
            .outerjoin(Source, Source.id == IncidentActor.source_id)
            .where(IncidentActor.incident_id.in_(batch))
            .order_by(IncidentActor.id)
        ):
            if role == Role.PERPETRATOR.value:
                perpetrators.setdefault(incident_id, []).append(f"{name}={attribution}" if attribution else name)
            entry: dict[str, Any] = {"actor": name, "role": role}
            if attribution:
                entry["attribution"] = attribution
            if source is not None:
                entry["source"] = _source_identity(source)
            actors.setdefault(incident_id, []).append(entry)
        reports: dict[int, list[dict[str, Any]]] = {}
        for report, source in session.execute(
            select(Report, Source).join(Source, Source.id == Report.source_id)
            .where(Report.incident_id.in_(batch), Report.withdrawn_at.is_(None)).order_by(Report.id)
        ):
            reports.setdefault(report.incident_id, []).append(_report_json(report, source))
        order = {incident_id: position for position, incident_id in enumerate(batch)}
        for incident, location in sorted(incidents, key=lambda pair: order[pair[0].id]):
            yield {
                "key": incident.key, "title": incident.title, "date": date_text(incident),
                "date_end": incident.date_end,  # a real date cell in XLSX; ISO text in CSV and JSON
                "country": location.country if location else None,
                "admin1": location.admin1 if location else None, "admin2": location.admin2 if location else None,
                "place": location.place if location else None,
                "latitude": location.latitude if location else None,
                "longitude": location.longitude if location else None,
                "geo_precision": location.geo_precision if location else None,
                "attack_type": incident.attack_type, "target_type": incident.target_type,
                "weapon_type": incident.weapon_type,
                "suicide": None if incident.suicide is None else ("yes" if incident.suicide else "no"),
                "status": incident.status, "summary": incident.summary,
                "perpetrators": "; ".join(perpetrators.get(incident.id, [])) or None,
                "killed_low": incident.killed_low, "killed_best": incident.killed_best,
                "killed_high": incident.killed_high, "wounded_low": incident.wounded_low,
                "wounded_best": incident.wounded_best, "wounded_high": incident.wounded_high,
                "perpetrators_killed": incident.perpetrators_killed,
                "origin_dataset": incident.origin_dataset, "origin_id": incident.origin_id,
                "reports": json.dumps(reports.get(incident.id, []), ensure_ascii=False),
                "actors": json.dumps(actors.get(incident.id, []), ensure_ascii=False),
                "raw_row": json.dumps(incident.raw_row, ensure_ascii=False) if incident.raw_row else None,
            }


def write_csv(rows: Iterator[dict[str, Any]], path: Path, columns: list[str], excel: bool = False) -> int:
    """RFC 4180 CSV in UTF-8 (with a BOM for Excel when asked); NULL is an empty cell. Returns the row count."""
    count = 0
    with atomic_write(path, "w", newline="", encoding="utf-8-sig" if excel else "utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if (value := row.get(name)) is None else
                             spreadsheet_safe(value) if isinstance(value, str) else value for name in columns])
            count += 1
    return count


INCIDENT_COLUMNS = [name for name in NATIVE_COLUMNS if not name.startswith("source_") and name != "excerpt"]


def export_incidents(session: Session, filters: Filters, path: Path, excel: bool = False, fmt: str = "csv") -> int:
    """The native rows of the incidents matching `filters`; as CSV, `incidents import` reads them back as they were."""
    return write_export(incident_rows(session, filters), path, "incidents", INCIDENT_COLUMNS, fmt, excel)


# ------------------------------------------------------------------------------------- reporting exports

# name: (frictionless type, description). Keys and ids are strings, so spreadsheets keep them intact.
FIELDS: dict[str, tuple[str, str]] = {
    "key": ("string", "Stable incident key"),
    "title": ("string", "Title"),
    "date": ("string", "Date as precisely as known: YYYY, YYYY-MM or YYYY-MM-DD"),
    "date_end": ("date", "Last day of an attack that lasted days"),
    "date_precision": ("string", "day, month or year"),
    "country": ("string", "ISO 3166-1 alpha-3 country code"),
    "admin1": ("string", "Province or state"),
    "admin2": ("string", "District"),
    "place": ("string", "Town, village or site"),
    "latitude": ("number", "Latitude (WGS 84)"),
    "longitude": ("number", "Longitude (WGS 84)"),
    "geo_precision": ("string", "exact, place, district, province or country"),
    "attack_type": ("string", "Attack type"),
    "target_type": ("string", "Target type"),
    "weapon_type": ("string", "Weapon type"),
    "suicide": ("string", "yes or no; empty when unknown"),
    "status": ("string", "confirmed, provisional or disputed"),
    "summary": ("string", "Narrative summary"),
    "perpetrators": ("string", "Perpetrators with attribution, ';'-separated"),
    "killed_low": ("integer", "Lowest killed figure of the non-preliminary reports"),
    "killed_best": ("integer", "Best killed figure (analyst's choice, else the latest report's)"),
    "killed_high": ("integer", "Highest killed figure of the non-preliminary reports"),
    "wounded_low": ("integer", "Lowest wounded figure (summed over incidents in group exports)"),
    "wounded_best": ("integer", "Best wounded figure"),
    "wounded_high": ("integer", "Highest wounded figure"),
    "perpetrators_killed": ("integer", "Perpetrators killed, when known"),
    "origin_dataset": ("string", "Dataset the incident came from (gtd, ucdp, acled)"),
    "origin_id": ("string", "Record id in that dataset"),
    "reports": ("string", "Every report, as JSON"),
    "actors": ("string", "Every actor link with role, attribution and source, as JSON"),
    "raw_row": ("string", "The original dataset row, as JSON"),
    "sources": ("integer", "Number of sources"),
    "period": ("date", "First day of the period"),
    "group": ("string", "Group (actor, country, province, district or attack type)"),
    "incidents": ("integer", "Incidents"),
    "unknown_killed": ("integer", "Incidents whose killed figure is unknown (left out of the killed sums)"),
    "unknown_wounded": ("integer", "Incidents whose wounded figure is unknown (left out of the wounded sums)"),
    "coarse_dated": ("integer", "Incidents known only to the month or year (left out of the day arithmetic)"),
    "last_coarse_attack": ("string", "The latest attack known only to the month or year (YYYY-MM or YYYY), when "
                                     "it may be later than last_attack"),
    "killed_per_incident": ("number", "Killed (best) per incident with a known toll"),
    "first_attack": ("date", "First attack known to the day"),
    "last_attack": ("date", "Last attack known to the day"),
    "days_since_last": ("integer", "Days since the last attack known to the day"),
    "claimed_share": ("number", "Share of the group's links that are claims"),
    "attributed_share": ("number", "Share of the group's links attributed by others"),
    "suspected_share": ("number", "Share of the group's links that are suspicions"),
    "top_provinces": ("string", "Provinces with most incidents, ';'-separated"),
    "top_attack_types": ("string", "Most frequent attack types, ';'-separated"),
    "admin1_code": ("string", "ISO 3166-2 code of the province (empty when the gazetteer knows none)"),
    "province": ("string", "The province's name (the gazetteer's), or '(no province known)'"),
    "year": ("integer", "The year asked about (--year, else that of the --as-of or --until day, else this year)"),
    "year_incidents": ("integer", "Incidents in that year"),
    "previous_year_incidents": ("integer", "Incidents in the year before"),
    "change_vs_previous": ("integer", "Change in incidents against the year before"),
}
# A timeline per group has one row per period and group, so both make its key.
PRIMARY_KEYS = {"incidents": ["key"], "events": ["key"], "timeline": ["period", "group"], "groups": ["group"],
                "provinces": ["country", "province"]}


def _field(name: str) -> dict[str, Any]:
    kind, description = FIELDS.get(name, ("number" if name.endswith(("_rolling",)) else "integer"
                                          if name.endswith("_cumulative") else "string", name.replace("_", " ")))
    return {"name": name, "type": kind, "description": description}


def _cell(value: Any) -> Any:
    """An export cell: the plain value (analysis.sql.plain), with a list joined by '; '."""
    value = plain(value)
    return "; ".join(str(item) for item in value) if isinstance(value, list) else value


def frame_rows(frame: Any) -> Iterator[dict[str, Any]]:
    columns = list(frame.columns)
    for values in frame.itertuples(index=False):
        yield {name: _cell(value) for name, value in zip(columns, values, strict=True)}


def write_json(rows: Iterator[dict[str, Any]], path: Path) -> int:
    """Rows as a JSON array, written as they are made (never held whole)."""
    count = 0

    def items() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}

    with atomic_write(path, "w", encoding="utf-8") as handle:
        files.write_json(handle, LazyList(items()), indent=1)
    return count


def write_xlsx(rows: Iterator[dict[str, Any]], path: Path, columns: list[str], sheet: str) -> int:
    """One data sheet (frozen header, real dates, every text cell stored as text) and a 'columns' sheet."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    # On a full disk openpyxl's write-only sheets and zip archive try to finish writing when they are collected and
    # print 'Exception ignored' tracebacks about the closed file: those reports are silenced while the workbook is
    # made and let go of, so the user sees the one-line error alone.
    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    failure: BaseException | None = None
    try:
        try:
            count = _fill_workbook(book, rows, columns, sheet)
            with atomic_path(path) as temporary:
                book.save(temporary)
        except Exception as exc:  # noqa: BLE001 - raised again below, once the workbook is gone
            failure = exc
        if failure is not None:
            failure.__traceback__ = failure.__context__ = failure.__cause__ = None  # let go of openpyxl's frames
            for part in book.worksheets:
                pending = getattr(part, "_rows", None)  # the sheet's row writer, a generator
                if pending is not None:
                    with contextlib.suppress(Exception):
                        pending.close()
            del book
            gc.collect()
            raise failure
    finally:
        sys.unraisablehook = hook
    return count


def _fill_workbook(book: Any, rows: Iterator[dict[str, Any]], columns: list[str], sheet: str) -> int:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    data = book.create_sheet(sheet)
    data.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(data, value=name)
        cell.font = bold
        header.append(cell)
    data.append(header)
    count = 0
    for row in rows:
        cells = []
        for position, name in enumerate(columns):
            value = row.get(name)
            if value is None and position == len(columns) - 1:
                value = ""  # write-only sheets drop trailing empty cells; keep every row the full width
            if isinstance(value, str):  # XML cannot hold control characters: Excel's own _xHHHH_ form stands in
                value = ILLEGAL_CHARACTERS_RE.sub(lambda match: f"_x{ord(match.group()):04X}_", value)
            cell = WriteOnlyCell(data, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif hasattr(value, "isoformat"):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        data.append(cells)
        count += 1
    described = book.create_sheet("columns")
    described.append(["column", "type", "description"])
    for name in columns:
        field = _field(name)
        described.append([field["name"], field["type"], field["description"]])
    return count


MAX_PACKAGE_BYTES = 10_000_000  # a datapackage.json describing exports is a few kilobytes


def read_datapackage(path: Path) -> dict[str, Any]:
    """The datapackage.json beside `path` that this export will join, read before anything is written: a new
    one when there is none; a UsageError (and nothing written) when there is one that is not a data package,
    so that neither it nor the resources it lists are lost."""
    package_path = path.parent / "datapackage.json"
    if path.name == package_path.name:
        raise UsageError(f"Cannot write the export to {path}: datapackage.json is the file that describes the "
                         "exports beside it; name another file")
    if not package_path.exists() and not package_path.is_symlink():
        return {"name": "incidents-export", "resources": []}
    def refuse(problem: object) -> UsageError:
        return UsageError(f"{package_path} is there but is not a readable data package ({problem}); move it away "
                          "or export into another folder")

    def no_constant(name: str) -> None:
        raise ValueError(f"{name} is no number JSON allows")

    try:
        if package_path.stat().st_size > MAX_PACKAGE_BYTES:
            raise refuse(f"it is larger than {MAX_PACKAGE_BYTES:,} bytes")
        package = json.loads(package_path.read_text(encoding="utf-8"), parse_constant=no_constant)
        json.dumps(package, ensure_ascii=False, allow_nan=False).encode("utf-8")  # no lone surrogate, no 1e999
    except RecursionError:
        raise refuse("it nests too deep") from None
    except (OSError, UnicodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise refuse(exc) from None
    if not isinstance(package, dict) or not isinstance(package.get("resources", []), list) or not all(
            isinstance(resource, dict) for resource in package.get("resources", [])):
        raise UsageError(f"{package_path} is there but is not a data package (an object with a list of "
                         "resources); move it away or export into another folder")
    for resource in package.get("resources", []):
        name, where = resource.get("name"), resource.get("path")
        # Frictionless wants a name of lower-case letters, digits, '.', '_' and '-', and a path inside the package.
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9._-]+", name) or not isinstance(where, str) \
                or Path(where).is_absolute() or ".." in Path(where).parts:
            raise UsageError(f"{package_path} lists a resource that no data package can hold (name {name!r}, path "
                             f"{where!r}); move it away or export into another folder")
    return package


def _resource_name(path: Path, taken: set[str]) -> str:
    """A Frictionless resource name (lower-case letters, digits, '.', '_', '-') for `path`, unique in the package:
    'خيبر.csv' and 'A B.csv' would both shrink to a bare '-.csv' or 'a-b.csv', so a clash gets a short hash."""
    name = re.sub(r"[^a-z0-9._-]+", "-", path.name.lower())
    if name in taken or not re.search(r"[a-z0-9]", name.rsplit(".", 1)[0]):
        name = f"{name.rsplit('.', 1)[0]}-{hashlib.sha1(path.name.encode()).hexdigest()[:8]}.{path.suffix[1:]}"
    return name


def write_datapackage(path: Path, what: str, columns: list[str], fmt: str,
                      package: dict[str, Any] | None = None) -> Path:
    """Add (or replace) this export's resource in datapackage.json beside it."""
    package_path = path.parent / "datapackage.json"
    package = package if package is not None else read_datapackage(path)
    others = [r for r in package.get("resources", []) if r.get("path") != path.name]
    resource: dict[str, Any] = {
        # type table: a JSON export (a list of objects) is then checked against its schema too, not only parsed
        "name": _resource_name(path, {str(r.get("name")) for r in others}), "path": path.name, "type": "table",
        "format": fmt,
        "schema": {"fields": [_field(name) for name in columns], "missingValues": [""],
                   "primaryKey": [k for k in PRIMARY_KEYS[what] if k in columns]},
    }
    if fmt == "csv":
        resource.update({"mediatype": "text/csv", "encoding": "utf-8"})
    if fmt == "xlsx":
        resource["dialect"] = {"excel": {"sheet": what}}
    package["resources"] = others + [resource]
    with atomic_write(package_path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(package, indent=2, ensure_ascii=False))
    return package_path


def write_export(rows: Iterator[dict[str, Any]], path: Path, what: str, columns: list[str], fmt: str,
                 excel: bool = False) -> int:
    """Write rows as csv, xlsx or json, and describe them in datapackage.json; returns the row count."""
    package = read_datapackage(path)  # before the data: a package that cannot be joined stops the export here
    try:
        if fmt == "csv":
            count = write_csv(rows, path, columns, excel)
        elif fmt == "xlsx":
            count = write_xlsx(rows, path, columns, what)  # openpyxl's row store is a file of its own, in TMPDIR
        elif fmt == "json":
            count = write_json(rows, path)
        else:
            raise FieldError("fmt", fmt, "is not one of: csv, xlsx, json")
    except OSError as exc:
        if exc.errno not in files.NO_ROOM:
            raise
        raise files.no_room(path, exc) from None
    write_datapackage(path, what, columns, fmt, package)
    return count
