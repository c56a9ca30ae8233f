"""One row builder per record type: the fast import path and the single-record Writer build reports, sources and
locations with the same functions, from the models' columns, and store the same rows."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from incidents.analysis.filters import Filters
from incidents.db.engine import make_engine, session_factory, transaction
from incidents.db.migrations import upgrade
from incidents.io.exports import export_incidents
from incidents.io.importers import native
from incidents.io.importers.fixtures import DEMO_FIXTURES, load_fixtures
from incidents.io.importing import run_import
from incidents.models import Location, Report, Source
from incidents.records import LocationRecord, ReportRecord, SourceRecord
from incidents.store import bulk
from incidents.store.incidents import Writer
from incidents.store.reports import report_values
from incidents.store.sources import location_values, source_values

from .conftest import FIXTURES


def test_the_row_builders_cover_every_column_the_models_have() -> None:
    source = SourceRecord(citation="c")
    assert list(report_values(ReportRecord(source=source))) == bulk.REPORT_COLUMNS[2:]
    assert list(source_values(source)) == bulk.FULL_SOURCE_COLUMNS[1:]
    assert list(location_values(LocationRecord(country="PAK"))) == bulk.LOCATION_COLUMNS[1:]
    for model, columns in ((Report, bulk.REPORT_COLUMNS), (Source, bulk.FULL_SOURCE_COLUMNS),
                           (Location, bulk.LOCATION_COLUMNS)):
        assert set(model.__table__.columns.keys()) - set(columns) <= {"id", "created_at", "withdrawn_at"}


def _rows(engine: Engine, model: Any, leave_out: set[str]) -> list[tuple[Any, ...]]:
    columns = [c for c in model.__table__.columns if c.name not in leave_out]
    with session_factory(engine)() as session:
        return sorted((tuple(str(v) for v in row) for row in session.execute(select(*columns))), key=repr)


def test_the_fast_path_and_the_writer_store_the_same_rows(engine: Engine, tmp_path: Path) -> None:
    """The seed incidents in the native format: imported (the fast path) into the test's database, saved record
    by record through the Writer into another; every report, source and location row is the same."""
    seed = _migrated(tmp_path / "seed.db")
    load_fixtures(seed, [FIXTURES / name for name in DEMO_FIXTURES])
    path = tmp_path / "seed.csv"
    with session_factory(seed)() as session:
        export_incidents(session, Filters(), path)

    run_import(engine, path)
    one_by_one = _migrated(tmp_path / "writer.db")
    with path.open(newline="", encoding="utf-8") as file, transaction(one_by_one) as session:
        writer = Writer(session)
        for row in csv.DictReader(file):
            writer.save(native.to_record(row))
    report_ids = {"id", "created_at", "incident_id", "source_id"}
    assert _rows(engine, Report, report_ids) == _rows(one_by_one, Report, report_ids)
    assert _rows(engine, Source, {"id", "created_at"}) == _rows(one_by_one, Source, {"id", "created_at"})
    assert _rows(engine, Location, {"id"}) == _rows(one_by_one, Location, {"id"})
    assert len(_rows(engine, Report, set())) >= 20


def _migrated(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine
