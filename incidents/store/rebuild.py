"""Loading into an empty database: the indexes of the tables an import fills are set aside and built again.

Keeping an index up to date row by row costs more than building it once from the loaded rows (measured at a
million rows on SQLite: 38.8 s against 21.7 s). So an import into a database that holds no incident and no
source drops them inside its transaction and builds them again before it commits:

- SQLite: the non-unique indexes. Its unique constraints belong to the tables and stay.
- PostgreSQL: the primary keys, unique constraints (but the sources', by which the import finds a source it
  wrote in an earlier batch), foreign keys (those of other tables that point at these too) and indexes,
  read from the catalog and re-created from their own definitions; foreign keys come back
  NOT VALID and are then validated. Dropping them locks the tables: until the import commits, other sessions
  that read these tables wait (docs/postgresql.md).

A populated database keeps every index and constraint. A failure anywhere rolls the whole transaction back,
the dropped indexes with it: both engines' DDL is transactional.
"""

from __future__ import annotations

from sqlalchemy import Connection

TABLES = ("locations", "sources", "incidents", "reports", "incident_actors")


class SetAside:
    """The indexes (and on PostgreSQL the keys and constraints) `drop` took away, for `restore` to rebuild."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.statements: list[str] = []  # what restore runs, in order
        self.validations: list[str] = []

    def drop(self) -> None:
        if self.postgres:
            self._drop_postgres()
        else:
            self._drop_sqlite()

    def restore(self) -> None:
        """Build again what drop took away (once; a second call does nothing)."""
        statements, self.statements = self.statements, []
        validations, self.validations = self.validations, []
        for statement in statements + validations:
            self.connection.exec_driver_sql(statement)

    def _drop_sqlite(self) -> None:
        marks = ", ".join("?" * len(TABLES))
        found = self.connection.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name", TABLES).all()
        for name, sql in found:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
            self.statements.append(sql)

    def _drop_postgres(self) -> None:
        tables = "ARRAY[" + ", ".join(f"'{name}'::regclass" for name in TABLES) + "]"
        foreign = self.connection.exec_driver_sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE contype = 'f' AND (conrelid = ANY({tables}) OR confrelid = ANY({tables})) ORDER BY conname").all()
        # sources keep their unique keys: the import finds a source it wrote in an earlier batch by them
        keys = self.connection.exec_driver_sql(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE (contype = 'p' OR contype = 'u' AND conrelid <> 'sources'::regclass) "
            f"AND conrelid = ANY({tables}) ORDER BY contype, conname").all()
        indexes = self.connection.exec_driver_sql(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            f"WHERE indrelid = ANY({tables}) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) ORDER BY 1").all()
        for table, name, _ in foreign:
            self.connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table, name, _ in keys:
            self.connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            self.connection.exec_driver_sql(f"DROP INDEX {name}")
        self.statements = (
            [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in keys]
            + [definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID'
               for table, name, definition in foreign]
        )
        self.validations = [f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"' for table, name, _ in foreign]
