"""Administration: backups and restores (SQLite online backup, pg_dump and pg_restore), the reporting role."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from incidents.db.engine import is_sqlite, sqlite_file
from incidents.db.url import describe
from incidents.errors import DatabaseError


def _libpq_url(engine: Engine) -> str:
    """The URL as pg_dump and psql take it (no SQLAlchemy driver suffix)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(engine: Engine, path: Path) -> str:
    """Copy the database to `path`: SQLite's online backup (consistent while others write), or pg_dump."""
    if is_sqlite(engine):
        database = sqlite_file(engine)
        if database is None:
            raise DatabaseError("An in-memory database has no file to back up; open a database file instead.")
        source = sqlite3.connect(database)
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
        target = sqlite3.connect(sqlite_file(engine) or "")
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
