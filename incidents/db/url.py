"""Where the database is: --db option > INCIDENTS_DB environment variable > ./incidents.db."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from incidents.errors import UsageError

ENV_VAR = "INCIDENTS_DB"
DEFAULT_PATH = "incidents.db"


def database_url(option: str | None = None) -> str:
    """Return a SQLAlchemy URL. A plain file path means a SQLite file."""
    if option is not None and not option.strip():
        raise UsageError("The database is named by an empty --db; name a database file or URL, or leave --db out "
                         f"for {os.environ.get(ENV_VAR) or DEFAULT_PATH}")
    value = option or os.environ.get(ENV_VAR) or DEFAULT_PATH
    return normalize_url(value)


def normalize_url(value: str) -> str:
    if "://" not in value:
        if not value.strip() or value.endswith(("/", os.sep)) or Path(value).expanduser().is_dir():
            raise UsageError(f"The database {value!r} names a folder, not a file; name the database file "
                             f"(for example {os.path.join(value or '.', 'incidents.db')})")
        return "sqlite:///" + str(Path(value).expanduser())
    if value.startswith("postgresql://") or value.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    try:
        make_url(value)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        shown = re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", value)  # never echo a password
        shown = re.sub(r"(password=)[^&]*", r"\1***", shown)
        raise UsageError(f"{shown!r} is not a database URL or file path: {exc}") from None
    return value


def describe(url: str) -> str:
    """The URL without its password (in the user part or the query, ?password=...), for messages."""
    parsed = make_url(url)
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)
