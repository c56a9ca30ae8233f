"""Administration: backups and restores (SQLite online backup, pg_dump and pg_restore), the reporting role."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unicodedata
from pathlib import Path

from sqlalchemy import Engine

from incidents.db.engine import is_sqlite, sqlite_file
from incidents.db.url import describe
from incidents.errors import DatabaseError
from incidents.files import atomic_path


def _libpq_environment(engine: Engine | None) -> dict[str, str]:
    """The connection for pg_dump and pg_restore as libpq's environment variables: the password never reaches
    a command line, where `ps` shows it to every user of the machine."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if engine is None:
        return environment
    url = engine.url
    for variable, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                            ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            environment[variable] = str(value)
    for key, option in url.query.items():  # sslmode=require and the like
        if isinstance(option, str) and key.isidentifier():
            environment[f"PG{key.upper()}"] = option
    return environment


def _run(command: list[str], tool: str, engine: Engine | None) -> str:
    """Run a PostgreSQL client tool on `engine`'s database (connection in the environment); its output."""
    if shutil.which(tool) is None:
        raise DatabaseError(f"{tool} is not installed here; install the PostgreSQL client tools "
                            f"(Debian: apt-get install postgresql-client), or run: {' '.join(command)}")
    finished = subprocess.run(command, capture_output=True, text=True, env=_libpq_environment(engine))
    if finished.returncode != 0:
        message = " ".join(finished.stderr.split())[:500]
        raise DatabaseError(f"{tool} failed, and nothing was changed: {message}")
    return finished.stdout


def backup(engine: Engine, path: Path) -> str:
    """Copy the database to `path`: SQLite's online backup (consistent while others write), or pg_dump."""
    if is_sqlite(engine):
        database = sqlite_file(engine)
        if database is None:
            raise DatabaseError("An in-memory database has no file to back up; open a database file instead.")
        source = sqlite3.connect(database)
        try:
            with atomic_path(path) as temporary:  # a full disk or a kill leaves no partial backup in place
                target = sqlite3.connect(temporary)
                try:
                    with target:
                        source.backup(target)  # page by page, under SQLite's own locking: a consistent snapshot
                    # One self-contained file: a copy of a WAL database is marked WAL too, and every reader of it
                    # would leave -wal and -shm files beside it.
                    target.execute("PRAGMA journal_mode = DELETE")
                finally:
                    target.close()
        finally:
            source.close()
        return f"Backed up {describe(str(engine.url))} to {path} (SQLite online backup)."
    with atomic_path(path) as temporary:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={temporary}"], "pg_dump", engine)
    return f"Backed up {describe(str(engine.url))} to {path} with pg_dump (custom format)."


def restore(engine: Engine, path: Path) -> str:
    """Replace the database's contents with the backup at `path` (made by `backup`), after checking that it is
    whole, that it is a backup of incidents, and that its schema is one this version knows. The replacement is
    all or nothing: SQLite's backup API writes it in one transaction; pg_restore runs as one transaction that
    stops at the first error, so a truncated dump changes nothing."""
    if not path.exists():
        raise DatabaseError(f"No backup at {path}")
    if is_sqlite(engine):
        database = sqlite_file(engine)
        if database is not None and database.exists() and path.samefile(database):
            raise DatabaseError(f"{path} is the database itself (the same file), not a backup of it; nothing was "
                                "restored")
        if database is None:
            raise DatabaseError("An in-memory database cannot be restored into; open a database file instead.")
        # The backup is copied (read-only, through any WAL beside it) to a scratch file, which is checked and then
        # restored from: SQLite's integrity_check skips CHECK constraints on a read-only connection (a backup with
        # a negative toll passed it), the user's backup file is never written to, and what is checked is what is
        # restored, even if the backup changes meanwhile.
        with tempfile.TemporaryDirectory(dir=database.parent, prefix=f".{database.name}.restore-") as folder:
            checked = Path(folder) / "backup.db"
            try:
                wal = path.with_name(path.name + "-wal")
                # immutable: read without creating -wal and -shm files beside the backup (unless it has a WAL of
                # its own, a copy of a live database, which must be read through)
                mode = "mode=ro" if wal.exists() and wal.stat().st_size else "immutable=1"
                with contextlib.closing(sqlite3.connect(f"file:{path}?{mode}", uri=True)) as source, \
                        contextlib.closing(sqlite3.connect(checked)) as copy:
                    source.backup(copy)
            except sqlite3.DatabaseError as exc:
                if "full" in str(exc):
                    raise DatabaseError(f"No room beside {database} to check the backup before restoring it ({exc}); "
                                        "nothing was restored") from None
                raise DatabaseError(f"{path} is not an incidents backup: {exc}") from None
            with contextlib.closing(sqlite3.connect(checked)) as copy:
                revision = _check_sqlite_backup(copy, path)
                with contextlib.closing(sqlite3.connect(database)) as target, target:
                    copy.backup(target)
        engine.dispose()
        return f"Restored {describe(str(engine.url))} from {path} (schema revision {revision})."
    revision = _check_pg_dump(path, engine)
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={engine.url.database}", str(path)], "pg_restore", engine)
    return f"Restored {describe(str(engine.url))} from {path} with pg_restore (schema revision {revision})."


BACKUP_TABLES = ("alembic_version", "incidents", "reports", "sources", "actors", "incident_actors")


def _known_revision(revision: str | None, path: Path) -> str:
    from alembic.script import ScriptDirectory

    from incidents.db.migrations import alembic_config

    if not revision:
        raise DatabaseError(f"{path} is not an incidents backup: it records no schema revision")
    known = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    if revision not in known:
        raise DatabaseError(f"{path} is at schema revision {revision}, which this version of incidents does not "
                            "know (a backup made by a newer version); upgrade incidents to restore it")
    return revision


def _check_sqlite_backup(source: sqlite3.Connection, path: Path) -> str:
    """The backup's schema revision, once it is known to be a whole SQLite file (every page, index, NOT NULL and
    CHECK constraint, and foreign key), with exactly the schema this version makes at that revision (no table,
    trigger or view more, less or changed)."""
    try:
        problems = [row[0] for row in source.execute("PRAGMA integrity_check").fetchmany(20)]
        if problems == ["ok"]:
            orphans = source.execute("PRAGMA foreign_key_check").fetchall()
            problems = [f"a row of {table} (rowid {rowid}) refers to a missing row of {parent}"
                        for table, rowid, parent, _ in orphans[:3]]
            problems = problems or ["ok"]
        schema = _schema_of(source)
        tables = {name for kind, name in schema if kind == "table"}
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} is not an incidents backup: {exc}") from None
    if problems != ["ok"]:
        raise DatabaseError(f"{path} is damaged (SQLite's check: {'; '.join(problems[:3])}); nothing was restored")
    missing = [name for name in BACKUP_TABLES if name not in tables]
    if missing:
        raise DatabaseError(f"{path} is not an incidents backup: it has no {', '.join(missing)} table")
    row = source.execute("SELECT version_num FROM alembic_version").fetchone()
    revision = _known_revision(row[0] if row else None, path)
    expected = _schema_at(revision)
    for kind, name in sorted(set(schema) | set(expected), key=lambda item: (item[1], item[0])):
        if schema.get((kind, name)) != expected.get((kind, name)):
            change = ("is not in" if (kind, name) not in expected else "is missing from" if (kind, name) not in schema
                      else "differs from the one in")
            raise DatabaseError(f"{path} is not a backup this version can restore: its {kind} {name} {change} the "
                                f"schema of revision {revision}; nothing was restored")
    return revision


@functools.cache
def _schema_at(revision: str) -> dict[tuple[str, str], list[str]]:
    """The schema `init` makes on SQLite at `revision` (each table, index, view and trigger with its SQL): the
    yardstick a backup is held to, made once per process in a scratch file."""
    from incidents.db.engine import make_engine
    from incidents.db.migrations import upgrade

    with tempfile.TemporaryDirectory(prefix="incidents-schema-") as folder:
        reference = Path(folder) / "reference.db"
        engine = make_engine(f"sqlite:///{reference}")
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()
        with contextlib.closing(sqlite3.connect(reference)) as connection:
            return _schema_of(connection)


def _schema_of(connection: sqlite3.Connection) -> dict[tuple[str, str], list[str]]:
    """Each table, index and trigger of a SQLite database with the clauses of its SQL (quotes and spacing
    aside, in sorted order: Alembic writes a table's constraints in an order that varies from run to run, and a
    table a downgrade rebuilt is written with other quoting), and each view with the columns it gives (a
    downgrade rewrites a view's text without changing what it gives)."""
    schema: dict[tuple[str, str], list[str]] = {}
    for kind, name, sql in connection.execute("SELECT type, name, sql FROM sqlite_master"):
        if name.startswith("sqlite_"):
            continue
        if kind == "view":
            quoted = name.replace('"', '""')
            schema[(kind, name)] = [row[1] for row in connection.execute(f'PRAGMA table_info("{quoted}")')]
        else:
            schema[(kind, name)] = sorted(_clauses(sql or ""))
    return schema


def _clauses(sql: str) -> list[str]:
    """The comma-separated parts of a statement at the outermost level of its parentheses, without quotes and
    with single spaces: 'CREATE TABLE "t" (a INT, b INT)' -> ['CREATE TABLE t (a INT', 'b INT']."""
    text = " ".join(sql.replace('"', "").replace("`", "").split())
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for character in text:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth == 0:  # the list's own closing parenthesis: no part of its last clause
                continue
        if character == "," and depth == 1:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    parts.append("".join(current).strip())
    return [part.replace("( ", "(").replace(" )", ")") for part in parts]


def _check_pg_dump(path: Path, engine: Engine) -> str:
    """The dump's schema revision, once pg_restore can read its table of contents and the tables are in it."""
    listing = _run(["pg_restore", "--list", str(path)], "pg_restore", None)
    missing = [name for name in BACKUP_TABLES if f" TABLE public {name} " not in listing]
    if missing:
        raise DatabaseError(f"{path} is not an incidents backup: it has no {', '.join(missing)} table")
    data = _run(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)], "pg_restore", None)
    lines = data.split("COPY public.alembic_version", 1)[-1].splitlines()[1:2]
    return _known_revision(lines[0].strip() if lines and lines[0].strip() != "\\." else None, path)


# --------------------------------------------------------------------------------- read-only reporting

REPORTING_VIEWS = ("incident_report", "group_summary", "monthly_activity")


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 and 7677, as PostgreSQL writes it):
    what ALTER ROLE ... PASSWORD accepts in place of the password itself."""
    salt = salt if salt is not None else os.urandom(16)
    normalized = unicodedata.normalize("NFKC", password).encode("utf-8")  # SASLprep, for what people type
    salted = hashlib.pbkdf2_hmac("sha256", normalized, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def text(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{text(salt)}${text(stored_key)}:{text(server_key)}"


# Words PostgreSQL reads as something other than a role name where a role is expected.
RESERVED_ROLE_WORDS = {"public", "current_user", "current_role", "session_user", "user", "none", "all"}


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
    if role.lower() in RESERVED_ROLE_WORDS or role.lower().startswith("pg_"):
        raise DatabaseError(f"{role} is a name PostgreSQL keeps for itself (a predefined role or a word such as "
                            "PUBLIC or CURRENT_USER); name a role of its own for reporting")
    with engine.begin() as connection:
        found = connection.exec_driver_sql(
            "SELECT rolsuper OR rolbypassrls, pg_has_role(rolname, 'pg_read_all_data', 'MEMBER') "
            "OR pg_has_role(rolname, 'pg_write_all_data', 'MEMBER') "
            "FROM pg_roles WHERE rolname = %(role)s", {"role": role}).first()
        owner = connection.exec_driver_sql(
            "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'incidents'").scalar()
        if found is not None and (found[0] or found[1]) or role in (owner, "public"):
            # Such a role reads every table whatever is granted here: saying otherwise would be a false promise
            # (and revoking the owner's rights would take the tables from the one who owns them).
            why = ("owns the tables" if role == owner else "is a superuser or reads or writes all data "
                   "(pg_read_all_data, pg_write_all_data)"
                   if found is not None else "is every role")
            raise DatabaseError(f"{role} {why}, so it cannot be limited to the reporting views; create a role "
                                "of its own for reporting (incidents db grant-reader NEW_ROLE)")
        may_manage = connection.exec_driver_sql(
            "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").scalar()
        if not may_manage and (found is None or password is not None):
            raise DatabaseError(f"{connection.exec_driver_sql('SELECT current_user').scalar()} may not create roles "
                                "or set their passwords (it needs CREATEROLE); ask the database's administrator")
        exists_already = found is not None
        if not exists_already:
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        if password is not None:
            # The server gets a SCRAM-SHA-256 verifier, never the password: a failed statement is written to
            # the server's log with its text, and the text then holds nothing to steal.
            connection.exec_driver_sql(f"ALTER ROLE \"{role}\" PASSWORD '{scram_verifier(password)}'")
        database = connection.exec_driver_sql("SELECT current_database()").scalar()
        connection.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        connection.exec_driver_sql(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
        connection.exec_driver_sql(f'GRANT SELECT ON {", ".join(REPORTING_VIEWS)} TO "{role}"')
        # What the role may do in the end, by every role it inherits from too: a table past the views means it
        # cannot be limited here, and the whole grant is undone.
        beyond = connection.exec_driver_sql(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND has_table_privilege(%(role)s, c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') "
            "ORDER BY c.relname LIMIT 3", {"role": role}).scalars().all()
        if beyond:
            raise DatabaseError(f"{role} inherits more than the views from a role it belongs to (it may use "
                                f"{', '.join(beyond)}), so it cannot be limited to the reporting views; create a role "
                                "of its own for reporting (incidents db grant-reader NEW_ROLE)")
    return (f"{role} may now read {', '.join(REPORTING_VIEWS)} in {database} and nothing else"
            + ("" if exists_already else " (role created with LOGIN; set a password with --password)") + ".")
