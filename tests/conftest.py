"""One suite, two engines: every `db_url` test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from INCIDENTS_TEST_PG_URL (a URL whose user may CREATE DATABASE), by default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres. If that server cannot be reached the PostgreSQL
tests are skipped with the reason shown, unless INCIDENTS_REQUIRE_PG=1 (CI sets it): then they fail.

Each test gets a database of its own, copied from a template migrated once with `alembic upgrade head`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from incidents.db.engine import make_engine
from incidents.db.migrations import upgrade
from incidents.io.importers.fixtures import DEMO_FIXTURES, load_fixtures

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PG_URL = os.environ.get("INCIDENTS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_REQUIRED = os.environ.get("INCIDENTS_REQUIRE_PG") == "1"


def _admin_engine() -> Engine:
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Engine]:
    """An AUTOCOMMIT engine on the PostgreSQL server, or a skip (a failure when INCIDENTS_REQUIRE_PG=1)."""
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server here"
        reason = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string(hide_password=True)}: {exc}"
        if PG_REQUIRED:
            pytest.fail(f"INCIDENTS_REQUIRE_PG=1 but {reason}", pytrace=False)
        pytest.skip(reason + " (set INCIDENTS_TEST_PG_URL to run the PostgreSQL tests)")
    yield engine
    engine.dispose()


def _pg_database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _create_pg_database(server: Engine, name: str, template: str | None = None) -> str:
    with server.connect() as connection:
        clause = f' TEMPLATE "{template}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    return _pg_database_url(name)


def _drop_pg_database(server: Engine, name: str) -> None:
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the main file
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server: Engine) -> Iterator[str]:
    name = f"incidents_template_{uuid.uuid4().hex[:10]}"
    url = _create_pg_database(pg_server, name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield name
    _drop_pg_database(pg_server, name)


ENGINES = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema, on each engine in turn."""
    if engine_name == "sqlite":
        path = tmp_path / "incidents.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"incidents_test_{uuid.uuid4().hex[:12]}"
    url = _create_pg_database(server, name, template=request.getfixturevalue("pg_template"))
    yield url
    _drop_pg_database(server, name)


@pytest.fixture
def empty_db_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each engine in turn."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"incidents_empty_{uuid.uuid4().hex[:12]}"
    url = _create_pg_database(server, name)
    yield url
    _drop_pg_database(server, name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """The database with the bundled actor registry and seed incidents loaded."""
    load_fixtures(engine, [FIXTURES / name for name in DEMO_FIXTURES])
    return engine


@pytest.fixture(scope="module", params=ENGINES)
def reporting_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One database per test module and engine, loaded with the seed fixtures and the UCDP sample.

    For tests that only read: it is shared by every test of the module.
    """
    from incidents.io.importing import run_import

    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("reporting") / "incidents.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url, drop = f"sqlite:///{path}", None
    else:
        server = request.getfixturevalue("pg_server")
        name = f"incidents_reporting_{uuid.uuid4().hex[:10]}"
        url, drop = _create_pg_database(server, name, template=request.getfixturevalue("pg_template")), name
    engine = make_engine(url)
    load_fixtures(engine, [FIXTURES / name for name in DEMO_FIXTURES])
    run_import(engine, FIXTURES / "ucdp_ged_pakistan_2015_2021.csv")
    yield engine
    engine.dispose()
    if drop:
        _drop_pg_database(request.getfixturevalue("pg_server"), drop)
