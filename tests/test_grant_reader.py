"""A reporting role reads the views and nothing else (PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from incidents import api
from incidents.cli import cli

from .conftest import FIXTURES


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    from .conftest import _create_pg_database, _drop_pg_database

    server = request.getfixturevalue("pg_server")  # skips, or fails under INCIDENTS_REQUIRE_PG, without a server
    name = f"incidents_reader_{uuid.uuid4().hex[:10]}"
    url = _create_pg_database(server, name, template=request.getfixturevalue("pg_template"))
    yield url
    _drop_pg_database(server, name)


@pytest.mark.postgresql
def test_grant_reader(pg_url: str, request: pytest.FixtureRequest) -> None:
    api.load(pg_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    role = f"bi_{uuid.uuid4().hex[:8]}"
    server = request.getfixturevalue("pg_server")
    try:
        result = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", role])
        assert result.exit_code == 0, result.output
        reader = create_engine(make_url(pg_url).set(username=role, password=None))
        with reader.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM incident_report")).scalar() == 3
            assert connection.execute(text("SELECT COUNT(*) FROM group_summary")).scalar_one() >= 1
            assert connection.execute(text("SELECT COUNT(*) FROM monthly_activity")).scalar_one() >= 1
        for statement in ("SELECT * FROM incidents", "SELECT * FROM sources",
                          "INSERT INTO actors (name, kind, created_at) VALUES ('x', 'group', now())",
                          "DELETE FROM incident_report"):
            with reader.connect() as connection, pytest.raises(DBAPIError, match="permission denied|cannot delete"):
                connection.execute(text(statement))
        reader.dispose()
        again = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", role])
        assert again.exit_code == 0  # repeatable
        bad = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", 'x"; DROP TABLE incidents; --'])
        assert bad.exit_code == 5 and "not a plain role name" in bad.stderr
    finally:
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
        admin.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))


def test_grant_reader_on_sqlite_says_what_to_do(tmp_path) -> None:
    target = str(tmp_path / "x.db")
    api.init(target)
    result = CliRunner().invoke(cli, ["--db", target, "db", "grant-reader", "bi"])
    assert result.exit_code == 5 and "file permissions" in result.stderr


@pytest.mark.postgresql
def test_grant_reader_sends_no_password_and_makes_no_false_promise(pg_url: str, request: pytest.FixtureRequest) -> None:
    """The password reaches the server only as a SCRAM verifier (a failed statement is logged with its text);
    a role that reads everything anyway (postgres, pg_read_all_data, the tables' owner) is refused, not
    promised 'the views and nothing else'; a role that may not manage roles is told so before anything is sent."""
    import base64

    from incidents.db.admin import scram_verifier

    server = request.getfixturevalue("pg_server")
    role, limited = f"bi_{uuid.uuid4().hex[:8]}", f"lim_{uuid.uuid4().hex[:8]}"
    try:
        # Our verifier is PostgreSQL's: the server's own for a password, recomputed with its salt, is ours.
        with server.connect() as connection:
            connection.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'correct horse'"))
            stored = connection.execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"),
                                        {"r": role}).scalar_one()
        iterations, salt = stored.split("$")[1].split(":")
        assert scram_verifier("correct horse", base64.b64decode(salt), int(iterations)) == stored
        result = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", role, "--password", "battery staple"])
        assert result.exit_code == 0, result.output
        with server.connect() as connection:
            after = connection.execute(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"),
                                       {"r": role}).scalar_one()
        iterations, salt = after.split("$")[1].split(":")
        assert after == scram_verifier("battery staple", base64.b64decode(salt), int(iterations)) != stored
        writer = f"{role}_writes"
        with server.connect() as connection:  # a role that writes all data, by membership
            connection.execute(text(f'CREATE ROLE "{writer}"'))
            connection.execute(text(f'GRANT pg_write_all_data TO "{writer}"'))
        try:
            for everyone in ("postgres", writer):
                refused = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", everyone])
                assert refused.exit_code == 5 and "cannot be limited to the reporting views" in refused.stderr, everyone
        finally:
            with server.connect() as connection:
                connection.execute(text(f'DROP ROLE "{writer}"'))
        heir, analyst = f"{role}_heir", f"{role}_analyst"
        with server.connect() as connection:  # roles that inherit table rights: from an analyst, from the owner
            connection.execute(text(f'CREATE ROLE "{analyst}"'))
            connection.execute(text(f'CREATE ROLE "{heir}" LOGIN'))
            connection.execute(text(f'GRANT "{analyst}" TO "{heir}"'))
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{analyst}"'))
        admin.dispose()
        try:
            inherits = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", heir])
            assert inherits.exit_code == 5 and "inherits more than the views" in inherits.stderr, inherits.output
        finally:
            admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{analyst}"'))
                connection.execute(text(f'REVOKE ALL ON DATABASE "{make_url(pg_url).database}" FROM "{heir}"'))
                connection.execute(text(f'REVOKE ALL ON SCHEMA public FROM "{heir}"'))
                connection.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{heir}"'))
            admin.dispose()
            with server.connect() as connection:
                connection.execute(text(f'DROP ROLE "{heir}"'))
                connection.execute(text(f'DROP ROLE "{analyst}"'))
        for keeps in ("pg_read_all_data", "pg_write_all_data", "PUBLIC", "current_user"):
            refused = CliRunner().invoke(cli, ["--db", pg_url, "db", "grant-reader", keeps])
            assert refused.exit_code == 5 and "a name PostgreSQL keeps for itself" in refused.stderr, keeps
        with server.connect() as connection:
            made = connection.execute(text("SELECT rolname FROM pg_roles WHERE lower(rolname) IN "
                                           "('public', 'current_user')")).all()
        assert made == []  # no role named after a keyword was made
        with server.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{limited}" LOGIN'))
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:  # an analyst who reads everything but may not manage roles
            connection.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{limited}"'))
        admin.dispose()
        as_limited = make_url(pg_url).set(username=limited).render_as_string(hide_password=False)
        denied = CliRunner().invoke(cli, ["--db", as_limited, "db", "grant-reader", role, "--password", "s3cret-Q"])
        assert denied.exit_code == 5 and "may not create roles" in denied.stderr
        assert "s3cret-Q" not in denied.output
    finally:
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{role}"'))
            connection.execute(text(f'DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \'{limited}\') '
                                    f'THEN EXECUTE \'DROP OWNED BY "{limited}"\'; END IF; END $$'))
        admin.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{limited}"'))
