"""incidents: an attack-incident timeline database with sourced tolls and attributions.

    import incidents

    with incidents.open("incidents.db") as db:
        db.incidents(actor="IS-K", since="2018")

open() and Database are the API for notebooks and scripts (incidents/database.py); incidents.api has one
function per command; errors are incidents.IncidentsError and its subclasses, each with an exit code.
Importing this package loads nothing heavy: the command line's --help depends on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from incidents.errors import (
    DatabaseBusy,
    DatabaseError,
    DatabaseNotReady,
    FieldError,
    IncidentsError,
    InputError,
    NotFoundError,
    UsageError,
)

if TYPE_CHECKING:
    from incidents.database import Database, open

__version__ = "0.1.0"
__all__ = [
    "Database", "DatabaseBusy", "DatabaseError", "DatabaseNotReady", "FieldError", "IncidentsError", "InputError",
    "NotFoundError", "UsageError", "open",
]


def __getattr__(name: str) -> Any:
    if name in ("open", "Database"):
        from incidents import database

        return getattr(database, name)
    raise AttributeError(f"module 'incidents' has no attribute {name!r}")
