"""Backups: a round trip gives the database back exactly; a SQLite backup taken while an import writes is a
consistent snapshot."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from incidents import api
from incidents.analysis.filters import Filters
from incidents.cli import cli
from incidents.db.engine import make_engine, session_factory
from incidents.io.exports import export_incidents

from .conftest import FIXTURES, ROOT


def native_export(url: str, path: Path) -> bytes:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        export_incidents(session, Filters(), path)
    engine.dispose()
    return path.read_bytes()


def test_backup_restore_round_trip(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, FIXTURES / "ucdp_ged_pakistan_2015_2021.csv")
    before = native_export(db_url, tmp_path / "before.csv")
    backup = tmp_path / "incidents.backup"
    result = CliRunner().invoke(cli, ["--db", db_url, "db", "backup", str(backup)])
    assert result.exit_code == 0, result.output
    api.add(db_url, date="2024-01-01", country="PAK", citation="made after the backup", key="LATER")
    assert native_export(db_url, tmp_path / "changed.csv") != before
    result = CliRunner().invoke(cli, ["--db", db_url, "db", "restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert native_export(db_url, tmp_path / "after.csv") == before
    assert "LATER" not in [row["key"] for row in api.incidents(db_url, limit=None)[0]]


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    target = tmp_path / "db.sqlite"
    api.init(str(target))
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all")
    result = CliRunner().invoke(cli, ["--db", str(target), "db", "restore", str(junk)])
    assert result.exit_code == 5 and "not an incidents backup" in result.stderr


def test_sqlite_backup_while_an_import_writes_is_consistent(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.generate import write

    database = tmp_path / "live.db"
    api.init(str(database))
    source = tmp_path / "rows.csv"
    write(source, 20_000)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; from incidents import api; api.import_file(sys.argv[1], sys.argv[2])",
         str(database), str(source)], cwd=ROOT)
    backups: list[Path] = []
    while child.poll() is None and len(backups) < 20:
        backup = tmp_path / f"during-{len(backups)}.db"
        api.backup(str(database), backup)
        backups.append(backup)
    assert child.wait(timeout=120) == 0
    assert backups, "the import finished before any backup was taken"
    for backup in backups:
        connection = sqlite3.connect(backup)
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
        assert count in (0, 20_000), count  # before the import's commit, or after it: never half
        connection.close()
