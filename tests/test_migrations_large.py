"""Migrations on a populated database: 100,000 incidents survive every step down to the first revision and
back up, row for row and value for value (counts and checksums), on both engines."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from incidents.db.engine import make_engine
from incidents.db.migrations import alembic_config, downgrade, upgrade
from incidents.io.importing import run_import

from .conftest import ROOT

ROWS = 100_000
# Columns every revision has; sums and lengths make a checksum both engines compute alike.
CHECKS = {
    "incidents": "COUNT(*), SUM(id), SUM(LENGTH(key)), SUM(COALESCE(killed_best, 0)), SUM(COALESCE(killed_low, 0)), "
                 "SUM(COALESCE(wounded_best, 0)), SUM(COALESCE(location_id, 0)), SUM(LENGTH(date_precision))",
    "reports": "COUNT(*), SUM(incident_id), SUM(source_id), SUM(COALESCE(killed, 0)), SUM(COALESCE(wounded, 0))",
    "sources": "COUNT(*), SUM(id), SUM(LENGTH(COALESCE(url, citation, '')))",
    "incident_actors": "COUNT(*), SUM(incident_id), SUM(actor_id), SUM(LENGTH(role))",
    "locations": "COUNT(*), SUM(id), SUM(LENGTH(key))",
    "actors": "COUNT(*), SUM(id), SUM(LENGTH(name))",
}


def checksums(engine: Engine) -> dict[str, tuple[int, ...]]:
    with engine.connect() as connection:
        return {table: tuple(int(v or 0) for v in connection.execute(text(f"SELECT {sql} FROM {table}")).one())
                for table, sql in CHECKS.items()}


def test_round_trip_on_100k_incidents(empty_db_url: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.generate import write

    source = tmp_path / "rows.csv"
    write(source, ROWS)
    engine = make_engine(empty_db_url)
    upgrade(engine)
    assert run_import(engine, source).inserted == ROWS
    before = checksums(engine)
    assert before["incidents"][0] == ROWS
    revisions = [rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    for target in revisions[1:]:  # newest first: step down to the first revision
        downgrade(engine, target)
        assert checksums(engine) == before, f"rows or values changed going down to {target}"
    upgrade(engine)
    assert checksums(engine) == before
    engine.dispose()
