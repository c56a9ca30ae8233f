"""Alembic environment: metadata from incidents.models, URL from the same place the app takes it."""

from __future__ import annotations

from sqlalchemy import Engine

from alembic import context
from incidents.db.engine import is_sqlite, make_engine
from incidents.db.url import database_url
from incidents.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=is_sqlite(url),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine: Engine = config.attributes.get("engine") or make_engine(database_url())
    sqlite = is_sqlite(engine)
    with engine.connect() as connection:
        if sqlite:
            # Batch mode rebuilds a table by DROP TABLE + rename; with foreign keys on, dropping `incidents`
            # would cascade-delete every report. SQLite ignores this pragma inside a transaction, so it
            # is set before the migration's transaction begins, and checked afterwards.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            # Then every step in one transaction that begins with BEGIN IMMEDIATE (db.engine._begin_writing):
            # Python's sqlite3 would otherwise run each CREATE, DROP and ALTER outside any transaction, and a
            # migration stopped part-way (a kill, a full disk) would leave half a schema behind.
            connection.execution_options(incidents_write=True)
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            # SQLite cannot ALTER most things in place; batch mode copies the table. PostgreSQL alters.
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"migration left rows with dangling foreign keys: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
