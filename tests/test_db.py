"""Engine set-up: SQLite pragmas on every connection, URL precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from incidents.db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine
from incidents.db.url import database_url


def test_sqlite_connections_get_foreign_keys_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    for _ in range(2):  # a second pooled connection too
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INCIDENTS_DB", raising=False)
    assert database_url() == "sqlite:///incidents.db"
    monkeypatch.setenv("INCIDENTS_DB", "/data/env.db")
    assert database_url() == "sqlite:////data/env.db"
    assert database_url("other.db") == "sqlite:///other.db"  # the option wins over the environment
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"  # our driver
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
