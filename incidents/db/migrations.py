"""The schema version: Alembic's configuration, upgrade and downgrade, and the readiness check every command makes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from alembic import command
from incidents.db.engine import sqlite_file
from incidents.db.url import describe
from incidents.errors import DatabaseError, DatabaseNotReady

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
    database = sqlite_file(engine)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)


def require_ready(engine: Engine) -> None:
    """Raise DatabaseNotReady, saying what to run, unless the database exists and is at the head revision."""
    where = describe(str(engine.url))
    database = sqlite_file(engine)
    if database is not None and not database.exists():
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
