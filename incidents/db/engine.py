"""Engines and sessions: SQLite pragmas, write transactions, and retries when other writers get in the way."""

from __future__ import annotations

import logging
import math
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from incidents.errors import DatabaseBusy, DatabaseError, FieldError, IncidentsError, UsageError

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


def sqlite_file(engine: Engine | str) -> Path | None:
    """The file of a SQLite database, given its engine or URL (None for PostgreSQL and in-memory SQLite), also
    for URI file names such as sqlite:///file:/data/incidents.db?mode=ro&uri=true."""
    url = engine.url if isinstance(engine, Engine) else make_url(engine)
    database = url.database
    if (url.get_backend_name() != "sqlite" or not database or database == ":memory:"
            or database.startswith("file::memory:") or url.query.get("mode") == "memory"):
        return None
    if url.query.get("uri") == "true" and database.startswith("file:"):
        database = database.removeprefix("file:")  # SQLAlchemy has taken the ?query off already
    return Path(database)


def busy_timeout_ms() -> int:
    """How long one wait for another writer's lock lasts before a retry (INCIDENTS_BUSY_TIMEOUT_MS overrides)."""
    return int(os.environ.get("INCIDENTS_BUSY_TIMEOUT_MS", SQLITE_BUSY_TIMEOUT_MS))


def _null_safe(function: Any) -> Any:
    return lambda value: None if value is None else function(value)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms()}")
    # WAL lets readers work while one writer writes; in-memory databases cannot use it.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # temp_store stays at its default: MEMORY made reporting GROUP BYs 44% slower (bench_reporting, 1M rows)
    # and did not speed up the import's staging table.
    try:  # --near's distance needs sin, cos, asin and sqrt: built in when SQLite has its math functions
        cursor.execute("SELECT sin(0), cos(0), asin(0), sqrt(0)")
    except sqlite3.OperationalError:
        for name, function in (("sin", math.sin), ("cos", math.cos), ("asin", math.asin), ("sqrt", math.sqrt)):
            dbapi_connection.create_function(name, 1, _null_safe(function), deterministic=True)
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
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _values_fit_their_columns)
    return factory


def _values_fit_their_columns(session: Session, context: object, instances: object) -> None:
    """Every text and count an edit writes is checked against its column before it reaches the database (no
    NUL, no lone surrogate, no text longer than the column, no count past an INTEGER), with the column named:
    the same checks an import makes, for every writer (set, report add, actors, merges) in one place."""
    from sqlalchemy import Integer, String, inspect

    from incidents.records import MAX_COUNT, check_text

    for obj in (*session.new, *session.dirty):
        for attribute in inspect(obj).mapper.column_attrs:
            column, value = attribute.columns[0], getattr(obj, attribute.key)
            if isinstance(value, str) and isinstance(column.type, String):
                check_text(column.name, value, column.type.length)
            elif isinstance(value, int) and isinstance(column.type, Integer) and not column.primary_key \
                    and not -MAX_COUNT <= value <= MAX_COUNT:
                raise FieldError(column.name, value, f"is more than any count the database holds ({MAX_COUNT:,})")


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


def one_line(message: object) -> str:
    """A driver's message on one line: PostgreSQL's come with a DETAIL or HINT line, and a server that refuses
    the connection says so on two."""
    return " ".join(str(message).split())


def database_error(exc: BaseException) -> IncidentsError | None:
    """The one translation of a database exception for a person, or None if `exc` is not one. A refused write
    is a constraint the change broke, or a value the column cannot hold; anything else the database could not
    do says why (exit 5). A URL no installed driver can open is a usage error (exit 2)."""
    if isinstance(exc, IntegrityError | DataError):
        return DatabaseError(f"The database refused the change: {one_line(exc.orig)}")
    if isinstance(exc, DBAPIError):  # OperationalError, a file that is not a database, ...
        return DatabaseError(f"The database could not do that: {one_line(exc.orig)}")
    if isinstance(exc, sqlite3.Error):  # the sqlite3 module used directly (backups)
        return DatabaseError(f"The database could not do that: {exc}")
    if isinstance(exc, NoSuchModuleError | ArgumentError):
        return UsageError(f"The database URL cannot be opened here: {exc}")
    if isinstance(exc, ModuleNotFoundError):  # a dialect SQLAlchemy knows whose driver is not installed
        return UsageError(f"The database URL needs a driver that is not installed here ({exc.name}); incidents "
                          "runs on SQLite and on PostgreSQL (postgresql+psycopg://...)")
    return None
