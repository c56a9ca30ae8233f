"""The schema version: Alembic's configuration, upgrade and downgrade, and the readiness check every command makes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from alembic import command
from incidents.db.engine import one_line, sqlite_file
from incidents.db.url import describe
from incidents.errors import DatabaseError, DatabaseNotReady, UsageError

# The repository root: alembic/ and pyproject.toml sit beside the package (see alembic_config).
PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent


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
    _check_sqlite_folder(engine)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"Cannot reach the database {describe(str(engine.url))}: {one_line(exc.orig)}") from None


# Tables each revision creates: what a migration stopped part-way by an older version (one that ran each step
# outside a transaction on SQLite) may have left behind before its revision was recorded.
TABLES_CREATED = {"830d4797c177": ("merges",), "f7161d61ac83": ("not_duplicates",)}


def upgrade(engine: Engine, revision: str = "head") -> list[str]:
    """Migrate to `revision`; returns what had to be repaired first (see repair_half_migration)."""
    _check_sqlite_folder(engine)
    repaired = repair_half_migration(engine)
    with _known_revision(revision):
        command.upgrade(alembic_config(engine), revision)
    return repaired


def repair_half_migration(engine: Engine) -> list[str]:
    """On SQLite, drop what a migration stopped part-way by an older version left: Alembic's batch copies
    (_alembic_tmp_*), and empty tables that a later revision than the recorded one creates. Migrations run in
    one transaction now, so they leave nothing; databases from before that may hold such left-overs, which
    made every later `init` fail with 'table merges already exists'."""
    if sqlite_file(engine) is None or not sqlite_file(engine).exists():  # type: ignore[union-attr]
        return []
    current = current_revision(engine)
    later = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    later = later[:later.index(current)] if current in later else []
    dropped = []
    with engine.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        for table in sorted(tables):
            if table.startswith("_alembic_tmp_"):
                connection.exec_driver_sql(f'DROP TABLE "{table}"')
                dropped.append(table)
        for created in (name for revision in later for name in TABLES_CREATED.get(revision, ())):
            if created in tables and not connection.exec_driver_sql(f'SELECT 1 FROM "{created}" LIMIT 1').first():
                connection.exec_driver_sql(f'DROP TABLE "{created}"')
                dropped.append(created)
    return dropped


def downgrade(engine: Engine, revision: str) -> None:
    with _known_revision(revision):
        command.downgrade(alembic_config(engine), revision)


def require_file(engine: Engine) -> None:
    """On SQLite, DatabaseNotReady unless the database file exists: a command that only reads or migrates an
    existing database must not leave an empty file behind (only `init` creates one)."""
    database = sqlite_file(engine)
    if database is not None and not database.exists():
        raise DatabaseNotReady(f"No database at {database}. Create it with: incidents --db {database} init")


def check_revision(revision: str) -> None:
    """UsageError, before anything is opened, unless `revision` is one Alembic can go to: head, base, a step
    (-1, +2) or a revision id (or a unique prefix of one)."""
    if revision in ("head", "heads", "base") or re.fullmatch(r"[+-]\d+", revision or ""):
        return
    with _known_revision(revision):
        if not revision.strip():
            raise CommandError("no revision was named")
        try:
            found = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
        except RevisionError as exc:
            raise CommandError(str(exc)) from None
        if found is None:
            raise CommandError(f"Can't locate revision identified by {revision!r}")


@contextmanager
def _known_revision(revision: str) -> Iterator[None]:
    """Alembic's CommandError for a revision it cannot find (or a step it cannot take) as a UsageError that names
    the revisions there are."""
    try:
        yield
    except CommandError as exc:
        known = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
        raise UsageError(f"Cannot migrate to revision {revision!r}: {exc}. The revisions, newest first: "
                         f"{', '.join(known)}; or head, base, -1 (one step down), +1 (one step up).") from None


def _check_sqlite_folder(engine: Engine) -> None:
    """A SQLite file in a folder that does not exist: say so, rather than SQLite's 'unable to open database file'
    (and do not create the folder: a mistyped path would become a new, empty database somewhere)."""
    database = sqlite_file(engine)
    if database is not None and not database.parent.is_dir():
        raise UsageError(f"The database {database} cannot be created or opened: the folder {database.parent} "
                         f"does not exist; create it first (mkdir -p {database.parent})")


def require_ready(engine: Engine) -> None:
    """Raise DatabaseNotReady, saying what to run, unless the database exists and is at the head revision."""
    where = describe(str(engine.url))
    require_file(engine)
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
