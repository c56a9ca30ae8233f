"""Hardening: nothing half-written, no secret on a command line, no backup restored that is not whole.

Each test breaks the promise the way a user or the machine would: a write that fails part-way, a process
killed part-way, a password in the database URL, a damaged or foreign backup.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine
from incidents.errors import DatabaseError

from .conftest import FIXTURES, PG_URL, ROOT, _create_pg_database, _drop_pg_database


def _count(url: str, table: str = "incidents") -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _loaded(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, FIXTURES / "ucdp_ged_pakistan_2015_2021.csv")
    return db_url


# --------------------------------------------------------------------------- every file is written whole


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_export_that_fails_part_way_leaves_the_old_file(db_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    from incidents.io import exports

    url = _loaded(db_url)
    out = tmp_path / f"incidents.{fmt}"
    api.export(url, "incidents", out)
    before, package = out.read_bytes(), (tmp_path / "datapackage.json").read_bytes()
    calls = 0
    real = exports._cell

    def failing(value: object) -> object:
        nonlocal calls
        calls += 1
        if calls > 2000:  # well into the rows: a full disk, a bug, a Ctrl-C
            raise OSError(28, "No space left on device")
        return real(value)

    monkeypatch.setattr(exports, "_cell", failing)
    with pytest.raises(OSError):
        api.export(url, "events", out)  # the events rows go through _cell; incidents' native rows do not
    assert out.read_bytes() == before and (tmp_path / "datapackage.json").read_bytes() == package
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


KILLED_EXPORT = """
import sys, time
from incidents import api
from incidents.io import exports
real = exports._cell
def slow(value):
    time.sleep(0.0005)
    return real(value)
exports._cell = slow
api.export(sys.argv[1], "events", sys.argv[2])
"""


def test_an_export_killed_part_way_leaves_the_old_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    _loaded(url)
    out = tmp_path / "events.csv"
    out.write_text("the export an analyst sent yesterday\n", encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", KILLED_EXPORT, url, str(out)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not [p for p in tmp_path.iterdir() if p.name.endswith(".part")] and time.monotonic() < deadline:
        time.sleep(0.02)  # until the child is writing
    assert child.poll() is None, "the export ended before it could be killed"
    time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert out.read_text(encoding="utf-8") == "the export an analyst sent yesterday\n"
    api.export(url, "events", out)  # the next export completes, and sweeps nothing young away
    assert out.read_text(encoding="utf-8").startswith("key,")


def test_a_chart_and_a_rejects_file_are_whole_or_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    bad = tmp_path / "bad.csv"
    bad.write_text("key,date,country,source_citation\nA,2020-01-01,PAK,c\nB,not a date,PAK,c\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    from incidents.store import bulk

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the machine failed part-way")

    with monkeypatch.context() as patch:
        patch.setattr(bulk.BulkWriter, "write", broken)
        with pytest.raises(RuntimeError):
            api.import_file(url, bad, on_error="skip", rejects=rejects)
    assert not rejects.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    result = api.import_file(url, bad, on_error="skip", rejects=rejects)
    assert result.rejected == 1 and rejects.read_text(encoding="utf-8").count("\n") == 2


# ----------------------------------------------------------------------------------- secrets stay secret

SHIM = """#!/bin/sh
printf '%s\\n' "$*" >> "{log}"
printf 'PGPASSWORD=%s\\n' "${{PGPASSWORD:-}}" >> "{log}.env"
exec "{real}" "$@"
"""


@pytest.mark.postgresql
def test_pg_dump_and_pg_restore_never_see_the_password_on_their_command_line(
        pg_server: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ps shows every process's arguments to every user: the password goes in the environment instead."""
    import shutil

    name = f"incidents_secret_{uuid.uuid4().hex[:8]}"
    _create_pg_database(pg_server, name)
    try:
        url = make_url(PG_URL).set(database=name, password="s3cret-XYZ").render_as_string(hide_password=False)
        api.init(url)
        shims = tmp_path / "bin"
        shims.mkdir()
        log = tmp_path / "argv.log"
        for tool in ("pg_dump", "pg_restore"):
            real = shutil.which(tool)
            assert real, f"{tool} is needed for this test"
            (shims / tool).write_text(SHIM.format(log=log, real=real), encoding="utf-8")
            (shims / tool).chmod(0o755)
        monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
        backup = tmp_path / "db.backup"
        assert CliRunner().invoke(cli, ["--db", url, "db", "backup", str(backup)]).exit_code == 0
        assert CliRunner().invoke(cli, ["--db", url, "db", "restore", str(backup)]).exit_code == 0
        arguments = log.read_text(encoding="utf-8")
        assert "s3cret-XYZ" not in arguments and arguments.count("\n") >= 3
        assert "PGPASSWORD=s3cret-XYZ" in (tmp_path / "argv.log.env").read_text(encoding="utf-8")
    finally:
        _drop_pg_database(pg_server, name)


# ------------------------------------------------------------------------ a restore checks before it acts


def _sqlite_backup(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    _loaded(url)
    backup = tmp_path / "good.backup"
    api.backup(url, backup)
    return url, backup


def test_restore_refuses_a_damaged_foreign_or_newer_backup_and_changes_nothing(tmp_path: Path) -> None:
    url, backup = _sqlite_backup(tmp_path)
    before = (tmp_path / "incidents.db").read_bytes()
    flipped = tmp_path / "flipped.backup"
    data = bytearray(backup.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 4096, 7):  # damage pages in the middle
        data[offset] ^= 0xFF
    flipped.write_bytes(bytes(data))
    only_version = tmp_path / "only_version.backup"
    with sqlite3.connect(only_version) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('648d59eab669')")
    newer = tmp_path / "newer.backup"
    newer.write_bytes(backup.read_bytes())
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    for bad, message in ((flipped, "damaged|not an incidents backup"), (only_version, "has no incidents"),
                         (newer, "does not know")):
        with pytest.raises(DatabaseError, match=message):
            api.restore(url, bad)
        assert (tmp_path / "incidents.db").read_bytes() == before, bad.name
    assert api.restore(url, backup).startswith("Restored")


@pytest.mark.postgresql
def test_a_truncated_postgresql_dump_changes_nothing(pg_server: Engine, tmp_path: Path) -> None:
    """pg_restore of two thirds of a dump used to leave 0 incidents; now it is one transaction."""
    name = f"incidents_truncated_{uuid.uuid4().hex[:8]}"
    url = _create_pg_database(pg_server, name, template=None)
    try:
        api.init(url)
        _loaded(url)
        backup = tmp_path / "db.backup"
        api.backup(url, backup)
        counts = (_count(url), _count(url, "reports"), _count(url, "sources"))
        truncated = tmp_path / "truncated.backup"
        truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size * 2 // 3])
        with pytest.raises(DatabaseError, match="nothing was changed"):
            api.restore(url, truncated)
        assert (_count(url), _count(url, "reports"), _count(url, "sources")) == counts
        assert api.restore(url, backup).startswith("Restored")
    finally:
        _drop_pg_database(pg_server, name)
