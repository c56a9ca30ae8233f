"""Parquet for the analytics world: `export tables --format parquet --out DIR` writes the live data one file per
table (incidents, locations, actors, incident_actors, reports, sources) with typed columns, and a datapackage.json
that describes them; `export events|timeline|groups|provinces --format parquet` writes that one table.

The tables are streamed from the database in batches (pyarrow's ParquetWriter), so a large database is never held
in memory. They are the records every count uses: neither merged nor withdrawn, and the standing reports. DuckDB,
pandas, Polars and Spark read them as they are (docs/parquet.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, Select, select, union
from sqlalchemy.orm import Session

from incidents import files
from incidents.errors import UsageError
from incidents.models import Actor, Incident, IncidentActor, Location, Report, Source

BATCH_ROWS = 50_000
# Internal bookkeeping a reader has no use for: the row digest and the run that inserted a row.
LEFT_OUT = {"row_hash", "import_id"}
TABLE_ORDER = ("incidents", "locations", "actors", "incident_actors", "reports", "sources")


def _arrow_type(column: Any) -> pa.DataType:
    kind = column.type
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Float):
        return pa.float64()
    if isinstance(kind, DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(kind, Date):
        return pa.date32()
    return pa.string()  # text, and JSON as its text


def _frictionless_type(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind):
        return "number"
    if pa.types.is_timestamp(kind):
        return "datetime"
    if pa.types.is_date(kind):
        return "date"
    return "string"


def table_queries(live: Select[Any]) -> dict[str, tuple[Any, Select[Any]]]:
    """For each table, what is exported of it: the rows that belong to the incidents `live` selects (their ids)."""
    incidents = Incident.__table__
    reports = Report.__table__
    links = IncidentActor.__table__
    ids = live.subquery()
    standing = select(reports).where(reports.c.incident_id.in_(select(ids.c.id)), reports.c.withdrawn_at.is_(None))
    cited = union(
        select(reports.c.source_id.label("id")).where(reports.c.incident_id.in_(select(ids.c.id)),
                                                      reports.c.withdrawn_at.is_(None)),
        select(links.c.source_id.label("id")).where(links.c.incident_id.in_(select(ids.c.id)),
                                                    links.c.source_id.is_not(None)),
    ).subquery()
    return {
        "incidents": (incidents, select(incidents).where(incidents.c.id.in_(select(ids.c.id)))),
        "locations": (Location.__table__, select(Location.__table__).where(Location.__table__.c.id.in_(
            select(incidents.c.location_id).where(incidents.c.id.in_(select(ids.c.id)))))),
        "actors": (Actor.__table__, select(Actor.__table__)),
        "incident_actors": (links, select(links).where(links.c.incident_id.in_(select(ids.c.id)))),
        "reports": (reports, standing),
        "sources": (Source.__table__, select(Source.__table__).where(Source.__table__.c.id.in_(select(cited.c.id)))),
    }


def write_tables(session: Session, live: Select[Any], directory: Path) -> dict[str, int]:
    """One Parquet file per table in `directory` (made if missing), and its datapackage.json; returns the rows
    written per table. The files are written in a hidden folder beside them and moved into place when all are
    written: a failure leaves the folder as it was."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory}: a Parquet export of the tables writes a folder (one file per table); "
                         "this is a file. Name a folder")
    ours = {f"{name}.parquet" for name in TABLE_ORDER} | {"datapackage.json"}
    if directory.is_dir():
        others = sorted(path.name for path in directory.iterdir()
                        if path.name not in ours and not path.name.endswith(files.PART))
        if others:
            raise UsageError(f"{directory}: the folder holds other files ({', '.join(others[:3])}"
                             f"{', ...' if len(others) > 3 else ''}); the tables go into a new folder, or one an "
                             "earlier `export tables` wrote")
        odd = sorted(name for name in ours if (directory / name).exists() and not (directory / name).is_file())
        if odd:
            raise UsageError(f"{directory / odd[0]}: not a file; the export would not replace it. Remove it, or "
                             "name another folder")
    made = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    _sweep_staging(directory)
    # Every file is written into a hidden folder beside the tables and moved into place once all are written. (Not
    # a temporary file each: a table that takes minutes to write would see the finished ones swept as left over.)
    staging = directory / f".tables.{uuid.uuid4().hex[:12]}{files.PART}"
    staging.mkdir()
    try:
        counts = _write_into(session, live, staging)
        for name in [*(f"{name}.parquet" for name in TABLE_ORDER), "datapackage.json"]:
            with (staging / name).open("rb") as written:
                os.fsync(written.fileno())
            os.replace(staging / name, directory / name)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if made:  # a folder this export made, and failed to fill, goes too
            with contextlib.suppress(OSError):
                directory.rmdir()
        if isinstance(exc, OSError) and exc.errno in files.NO_ROOM:
            raise files.no_room(directory, exc) from None
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return counts


def _sweep_staging(directory: Path) -> None:
    """Remove the hidden folders of exports killed midway, once they are an hour old (a live one is younger)."""
    cutoff = time.time() - 3600
    for left in directory.glob(f".tables.*{files.PART}"):
        with contextlib.suppress(OSError):
            if left.is_dir() and left.stat().st_mtime < cutoff:
                shutil.rmtree(left)


def _write_into(session: Session, live: Select[Any], directory: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    resources = []
    for name, (table, query) in table_queries(live).items():
        columns = [column for column in table.columns if column.name not in LEFT_OUT]
        schema = pa.schema([pa.field(column.name, _arrow_type(column)) for column in columns])
        path = directory / f"{name}.parquet"
        counts[name] = _stream(session, query.order_by(table.c.id), columns, schema, path)
        resources.append({
            "name": name, "path": path.name, "format": "parquet", "type": "table",
            "schema": {"fields": [{"name": field.name, "type": _frictionless_type(field.type)} for field in schema],
                       "primaryKey": ["id"],
                       # Parquet's nulls are real nulls; Frictionless reads Parquet through pandas, which shows
                       # them as these.
                       "missingValues": ["", "nan", "NaT", "None"]},
        })
    package = {"name": "incidents-tables", "profile": "data-package", "resources": resources}
    (directory / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False), encoding="utf-8")
    return counts


def _stream(session: Session, query: Select[Any], columns: list[Any], schema: pa.Schema, path: Path) -> int:
    json_columns = [index for index, column in enumerate(columns) if isinstance(column.type, JSON)]
    count = 0
    result = session.execute(query.with_only_columns(*columns).execution_options(yield_per=BATCH_ROWS))
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for partition in result.partitions():
            values = [list(column) for column in zip(*partition, strict=True)]  # rows to columns, at C speed
            for index in json_columns:
                values[index] = [value if value is None or isinstance(value, str)
                                 else json.dumps(value, ensure_ascii=False) for value in values[index]]
            writer.write_table(pa.Table.from_arrays(
                [pa.array(column, type=field.type) for column, field in zip(values, schema, strict=True)],
                schema=schema))
            count += len(partition)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


def write_frame(frame: Any, path: Path) -> int:
    """One analysis table (a DataFrame) as one Parquet file, written whole or not at all."""
    with files.atomic_path(path) as temporary:
        frame.to_parquet(temporary, engine="pyarrow", index=False)
    return len(frame)
