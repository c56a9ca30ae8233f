"""The engine-specific SQL of the analyses is a construct per engine: SQLite and PostgreSQL get their own SQL,
any other engine a clear error instead of SQL written for another."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import CompileError

from incidents.analysis.sql import FREQUENCIES, days_between, period_start, year_of
from incidents.models import Incident

CONSTRUCTS = {
    **{f"period_start {freq}": period_start(freq) for freq in FREQUENCIES},
    "year_of": year_of(),
    "days_between": days_between(Incident.date_end, Incident.date_start),
}


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_an_unknown_engine_gets_an_error_not_foreign_sql(name: str) -> None:
    with pytest.raises(CompileError, match="no SQL for the mysql engine"):
        str(select(CONSTRUCTS[name]).compile(dialect=mysql.dialect()))


@pytest.mark.parametrize("name", CONSTRUCTS)
def test_sqlite_and_postgresql_each_get_their_own(name: str) -> None:
    on_sqlite = str(select(CONSTRUCTS[name]).compile(dialect=sqlite.dialect()))
    on_postgresql = str(select(CONSTRUCTS[name]).compile(dialect=postgresql.dialect()))
    assert "incidents.date_start" in on_sqlite and "incidents.date_start" in on_postgresql
    if name not in ("period_start day",):  # a day is the date itself on both engines
        assert on_sqlite != on_postgresql


def test_each_frequency_is_its_own_sql() -> None:
    """The frequency is part of the construct's class, so statements cached for one are never reused for another."""
    compiled = {str(select(period_start(freq)).compile(dialect=sqlite.dialect())) for freq in FREQUENCIES}
    assert len(compiled) == len(FREQUENCIES)
    keys = {select(period_start(freq))._generate_cache_key().key for freq in FREQUENCIES}  # type: ignore[union-attr]
    assert len(keys) == len(FREQUENCIES)
