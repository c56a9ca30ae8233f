"""Engines, sessions and the schema version: SQLite pragmas, Alembic upgrade/downgrade, readiness checks."""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from incidents.config import describe
from incidents.errors import DatabaseBusy, DatabaseError, DatabaseNotReady

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQLITE_BUSY_TIMEOUT_MS = 30_000
# How long a write waits, in all, for other writers before it gives up (seconds; INCIDENTS_WRITE_WAIT overrides).
WRITE_WAIT_SECONDS = 600.0
# PostgreSQL errors a concurrent writer can cause and a retry of the whole transaction cures: serialization
# failure, deadlock, lock not available, and a unique key another transaction inserted first (two imports
# creating the same new actor or origin id; the retry then finds it and links to it).
RETRY_SQLSTATES = {"40001", "40P01", "55P03", "23505"}
UNIQUE_RETRIES = 5  # a unique violation that survives this many fresh attempts is a real one, not a race
CLASHES = {
    "locked": "another process is writing to the database",
    "conflict": "clashed with another writer (deadlock or serialization failure)",
    "unique": "another writer inserted the same row first",
}
log = logging.getLogger("incidents")
T = TypeVar("T")


def is_sqlite(url_or_engine: str | Engine) -> bool:
    url = url_or_engine.url if isinstance(url_or_engine, Engine) else make_url(url_or_engine)
    return url.get_backend_name() == "sqlite"


def busy_timeout_ms() -> int:
    """How long one wait for another writer's lock lasts before a retry (INCIDENTS_BUSY_TIMEOUT_MS overrides)."""
    return int(os.environ.get("INCIDENTS_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    # WAL lets readers work while one writer writes; in-memory databases cannot use it.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # temp_store stays at its default: MEMORY made reporting GROUP BYs 44% slower (bench_reporting, 1M rows)
    # and did not speed up the import's staging table.
    cursor.close()


def _begin_writing(connection: Connection) -> None:
    """A writing transaction's first statement: it bounds how long the transaction waits for other writers.

    SQLite takes its write lock at BEGIN IMMEDIATE, waiting out other writers (busy_timeout) there. A plain
    deferred BEGIN would read first and, once another writer had committed, fail to upgrade its stale
    snapshot to a write with an immediate "database is locked" that no timeout waits out.
    PostgreSQL takes row locks as it goes; lock_timeout bounds each wait the same way.
    Past the timeout the lock error sends the whole transaction round db.retrying.
    """
    if not connection.get_execution_options().get("incidents_write"):
        return
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {busy_timeout_ms()}")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys ON, WAL and a busy timeout on every connection."""
    if is_sqlite(url):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    event.listen(engine, "begin", _begin_writing)
    return engine


def for_writing(engine: Engine) -> Engine:
    """The same engine, for a transaction that writes (see _begin_writing)."""
    return engine.execution_options(incidents_write=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One writing session, one transaction: commit on success, roll back everything on any error."""
    with session_factory(for_writing(engine))() as session, session.begin():
        yield session


# ------------------------------------------------------------------------------------- concurrent writers

IMPORT_LOCK_KEY = 7_021_983  # PostgreSQL advisory lock that bulk writers (import, load) take turns on


def take_bulk_lock(connection: Connection) -> None:
    """Bulk writers take turns: on SQLite the write lock does it (BEGIN IMMEDIATE); on PostgreSQL an advisory
    lock held to the end of the transaction. Two imports side by side on PostgreSQL would otherwise create the
    same actors and places in different orders and deadlock each other, attempt after attempt. The wait is
    bounded by lock_timeout (see _begin_writing)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK_KEY})")


def contention(exc: BaseException) -> str | None:
    """What kind of clash with another writer `exc` is ('locked', 'conflict', 'unique'), or None."""
    # Most errors come wrapped by SQLAlchemy; the import's COPY talks to psycopg directly and raises its own.
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig).lower()
        return "locked" if "locked" in text or "busy" in text else None
    state = getattr(orig, "sqlstate", None)
    if state not in RETRY_SQLSTATES:
        return None
    return {"23505": "unique", "55P03": "locked"}.get(state, "conflict")


def retrying(work: Callable[[], T], what: str, wait: float | None = None) -> T:
    """Run `work` (one whole transaction) again when another writer got in its way, for up to `wait` seconds.

    SQLite serialises writers: each attempt already waits busy_timeout for the lock, and an import holds the
    lock for its whole transaction, so a long import can outlast one attempt. PostgreSQL lets writers run side
    by side and stops one of two that clash (deadlock, serialization, the same new key); its retry starts
    afresh and sees what the other committed. Every retry is logged; past `wait` the user gets DatabaseBusy.
    """
    limit = wait if wait is not None else float(os.environ.get("INCIDENTS_WRITE_WAIT", WRITE_WAIT_SECONDS))
    deadline = time.monotonic() + limit
    attempt = 0
    unique_clashes = 0
    while True:
        attempt += 1
        try:
            return work()
        except Exception as exc:  # noqa: BLE001 - anything but a clash with another writer is raised again
            kind = contention(exc)
            if kind is None:
                raise
            unique_clashes += kind == "unique"
            if unique_clashes >= UNIQUE_RETRIES:
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{what}: other writers kept the database busy for {limit:.0f} s ({CLASHES[kind]}); nothing was "
                    "written. Try again, or set INCIDENTS_WRITE_WAIT to wait longer."
                ) from None
            # A lock wait has just waited busy_timeout already: try again soon. A clash backs off, with jitter
            # so that the two who clashed do not meet again.
            pause = (0.05 if kind == "locked" else min(2.0, 0.05 * 2 ** min(attempt, 6))) * random.uniform(0.5, 1.5)
            log.warning("%s: %s; nothing of this attempt was kept, trying again (attempt %d)",
                        what, CLASHES[kind], attempt + 1)
            time.sleep(pause)


def write(engine: Engine, what: str, work: Callable[[Session], T]) -> T:
    """`work(session)` in one writing transaction, run again from the start when another writer gets in its
    way (see retrying). Every edit command goes through here."""
    def attempt() -> T:
        with transaction(engine) as session:
            return work(session)

    return retrying(attempt, what)


# ---------------------------------------------------------------------------------------------- migrations


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration from pyproject.toml, bound to `engine` when given (env.py uses it)."""
    pyproject = PROJECT_ROOT / "pyproject.toml"
    if not (PROJECT_ROOT / "alembic" / "env.py").exists():
        raise DatabaseError(
            f"The migrations folder {PROJECT_ROOT / 'alembic'} is missing. Install incidents from a checkout "
            "of the repository with `pip install -e .` so that its alembic/ folder stays beside the package."
        )
    config = Config(toml_file=str(pyproject))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise DatabaseError(f"The migrations have {len(heads)} heads ({', '.join(heads)}); expected one.")
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"Cannot reach the database {describe(str(engine.url))}: {exc.orig}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    _create_sqlite_parent(engine)
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def _create_sqlite_parent(engine: Engine) -> None:
    database = engine.url.database
    if is_sqlite(engine) and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def require_ready(engine: Engine) -> None:
    """Raise DatabaseNotReady, saying what to run, unless the database exists and is at the head revision."""
    where = describe(str(engine.url))
    database = engine.url.database
    if is_sqlite(engine) and database and database != ":memory:" and not Path(database).exists():
        raise DatabaseNotReady(f"No database at {database}. Create it with: incidents --db {database} init")
    current = current_revision(engine)
    if current is None:
        has_tables = bool(inspect(engine).get_table_names())
        detail = "has tables but no schema version" if has_tables else "is empty"
        raise DatabaseNotReady(f"The database {where} {detail}. Create the schema with: incidents init")
    if current != head_revision():
        known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
        if current not in known:
            raise DatabaseNotReady(
                f"The database {where} is at revision {current}, which this version of incidents does not "
                "know (it was made by a newer version). Upgrade incidents."
            )
        raise DatabaseNotReady(
            f"The database {where} is at revision {current}; this version needs {head_revision()}. "
            "Upgrade it with: incidents db upgrade"
        )


def open_database(url: str) -> Engine:
    """An engine for an existing, up-to-date database."""
    engine = make_engine(url)
    require_ready(engine)
    return engine


# ------------------------------------------------------------------------------------------- backups


def _libpq_url(engine: Engine) -> str:
    """The URL as pg_dump and psql take it (no SQLAlchemy driver suffix)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(engine: Engine, path: Path) -> str:
    """Copy the database to `path`: SQLite's online backup (consistent while others write), or pg_dump."""
    if is_sqlite(engine):
        source = sqlite3.connect(engine.url.database or "")
        try:
            target = sqlite3.connect(path)
            with target:
                source.backup(target)  # page by page, under SQLite's own locking: a consistent snapshot
            target.close()
        finally:
            source.close()
        return f"Backed up {describe(str(engine.url))} to {path} (SQLite online backup)."
    command = ["pg_dump", "--format=custom", "--no-owner", f"--file={path}", _libpq_url(engine)]
    _run(command, "pg_dump")
    return f"Backed up {describe(str(engine.url))} to {path} with pg_dump (custom format)."


def restore(engine: Engine, path: Path) -> str:
    """Replace the database's contents with the backup at `path` (made by `backup`)."""
    if not path.exists():
        raise DatabaseError(f"No backup at {path}")
    if is_sqlite(engine):
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            revision = source.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            source.close()
            raise DatabaseError(f"{path} is not an incidents backup: {exc}") from None
        target = sqlite3.connect(engine.url.database or "")
        try:
            with target:
                source.backup(target)
        finally:
            source.close()
            target.close()
        engine.dispose()
        return f"Restored {describe(str(engine.url))} from {path} (schema revision {revision[0] if revision else '?'})."
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_libpq_url(engine)}", str(path)]
    _run(command, "pg_restore")
    return f"Restored {describe(str(engine.url))} from {path} with pg_restore."


def _run(command: list[str], tool: str) -> None:
    import shutil
    import subprocess

    if shutil.which(tool) is None:
        # Say the command to run elsewhere, without the URL (it may hold a password).
        shown = " ".join("--dbname=DATABASE_URL" if part.startswith("--dbname=") else
                         "DATABASE_URL" if "://" in part else part for part in command)
        raise DatabaseError(f"{tool} is not installed here; install the PostgreSQL client tools, or run: {shown}")
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise DatabaseError(f"{tool} failed: {finished.stderr.strip()[:500]}")


# --------------------------------------------------------------------------------- read-only reporting

REPORTING_VIEWS = ("incident_report", "group_summary", "monthly_activity")


def grant_reader(engine: Engine, role: str, password: str | None = None) -> str:
    """Let `role` (created if needed, with LOGIN) read the reporting views and nothing else (PostgreSQL).

    Views read their tables with their owner's rights, so granting SELECT on the views alone lets a BI tool
    query them while the base tables, and every write, stay refused.
    """
    import re

    if is_sqlite(engine):
        raise DatabaseError("grant-reader is for PostgreSQL; a SQLite file is shared read-only by file "
                            "permissions (or open it with sqlite3 -readonly)")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", role):
        raise DatabaseError(f"{role!r} is not a plain role name (letters, digits and _; not starting with a digit)")
    with engine.begin() as connection:
        exists_already = connection.exec_driver_sql(
            "SELECT 1 FROM pg_roles WHERE rolname = %(role)s", {"role": role}).scalar()
        if not exists_already:
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        if password is not None:
            quoted = password.replace("'", "''")
            connection.exec_driver_sql(f"ALTER ROLE \"{role}\" PASSWORD '{quoted}'")
        database = connection.exec_driver_sql("SELECT current_database()").scalar()
        connection.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        connection.exec_driver_sql(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
        connection.exec_driver_sql(f'GRANT SELECT ON {", ".join(REPORTING_VIEWS)} TO "{role}"')
    return (f"{role} may now read {', '.join(REPORTING_VIEWS)} in {database} and nothing else"
            + ("" if exists_already else " (role created with LOGIN; set a password with --password)") + ".")
