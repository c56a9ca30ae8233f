"""The Python API: incidents.open() gives one handle with one engine for its life, typed results that agree
with the command line's, and nothing left open; the function API disposes every engine it makes."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text

import incidents
from incidents import api
from incidents.db.engine import is_sqlite
from incidents.results import Incident

from .conftest import FIXTURES, PG_URL, ROOT

BAJAUR = "PAK-2023-07-30-KHAR"


@pytest.fixture
def loaded_url(db_url: str, seeded: Engine) -> str:
    return db_url


def test_the_handle_answers_as_the_functions_do(loaded_url: str) -> None:
    with incidents.open(loaded_url) as db:
        detail = api.show(loaded_url, BAJAUR)
        bajaur = db.incident(BAJAUR)
        assert isinstance(bajaur, Incident)
        assert (bajaur.key, bajaur.date, bajaur.date_start.isoformat()) == (BAJAUR, detail["date"],
                                                                          detail["date_start"])
        assert (bajaur.killed.low, bajaur.killed.best, bajaur.killed.high) == (
            detail["killed"]["low"], detail["killed"]["best"], detail["killed"]["high"])
        assert bajaur.killed.according_to == detail["killed"]["according_to"]
        assert [part.actor for part in bajaur.perpetrators] == [
            a["actor"] for a in detail["actors"] if a["role"] == "perpetrator"]
        assert [r.killed for r in bajaur.reports] == [r["killed"] for r in detail["reports"]]
        assert bajaur.location is not None and bajaur.location.admin2 == detail["location"]["admin2"]

        rows, total = api.incidents(loaded_url, limit=None, actor="IS-K", until="2018")
        frame = db.incidents(actor="IS-K", until="2018")
        assert list(frame["key"]) == [row["key"] for row in rows] and frame.attrs["total"] == total
        assert list(frame["killed_best"]) == [row["killed_best"] for row in rows]

        reports = db.reports(BAJAUR)
        assert list(reports["killed"].astype(object).where(reports["killed"].notna(), None)) == [
            r["killed"] for r in detail["reports"]]
        assert set(db.actors()["name"]) == {a["name"] for a in api.actors(loaded_url)}
        assert db.summary().equals(api.summary(loaded_url))
        assert db.timeline(freq="year", actor="IS-K").equals(api.timeline(loaded_url, freq="year", actor="IS-K"))


def test_the_handle_writes_and_every_write_is_seen(loaded_url: str) -> None:
    with incidents.open(loaded_url) as db:
        added = db.add(date="2017-02-16", country="Pakistan", admin1="Sindh", place="Sehwan",
                       perpetrators=["Khorasan Chapter of the Islamic State=claimed"], killed=72, citation="c")
        assert added.key == "PAK-2017-02-16-SEHWAN" and added.created_actors == []
        change = db.set(added.key, "title", "Sehwan shrine bombing", why="from the citation")
        assert (change.old, change.new) == (None, "Sehwan shrine bombing")
        after = db.add_report(added.key, citation="another source", killed=88)
        assert (after.killed.low, after.killed.high) == (72, 88)
        assert list(db.history(added.key)["field"]).count("title") == 1
        assert db.counts()["incidents"] == 4


def test_one_engine_for_the_handles_life(loaded_url: str) -> None:
    connects: list[object] = []
    with incidents.open(loaded_url) as db:
        event.listen(db.engine, "connect", lambda *_: connects.append(1))
        for _ in range(5):
            db.incidents()
            db.incident(BAJAUR)
            db.summary()
        assert db.engine is db.engine
    assert len(connects) <= 1  # the pool reuses one connection; a new engine per call would connect each time


def test_a_closed_handle_says_so_and_a_missing_database_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(incidents.DatabaseNotReady, match="Create it with"):
        incidents.open(missing)
    assert not missing.exists()
    with incidents.open(missing, create=True) as db:
        assert db.counts()["incidents"] == 0
    with pytest.raises(incidents.UsageError, match="is closed"):
        db.incidents()


def _open_handles(url: str) -> int:
    """How many connections to the test's database are open: file descriptors on the SQLite file (and its
    WAL), or sessions in pg_stat_activity."""
    if is_sqlite(url):
        database = url.removeprefix("sqlite:///")
        return sum(1 for fd in os.listdir("/proc/self/fd")
                   if os.path.realpath(f"/proc/self/fd/{fd}").startswith(database))
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_URL)
    with admin.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :name"),
                                   {"name": name}).scalar_one()
    admin.dispose()
    return int(count)


def test_the_function_api_leaves_nothing_open(loaded_url: str, engine: Engine) -> None:
    engine.dispose()  # the fixture's own connection (SQLite defers closing a file another connection locks)
    before = _open_handles(loaded_url)
    for _ in range(10):
        api.incidents(loaded_url)
        api.show(loaded_url, BAJAUR, as_of="2023-07-31")
        api.summary(loaded_url)
        api.set_field(loaded_url, BAJAUR, "summary", "checked", why="test")
    assert _open_handles(loaded_url) == before


def test_as_of_snapshots_are_removed_after_the_answer(loaded_url: str) -> None:
    def snapshots() -> set[str]:
        return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("incidents-as-of-")}

    before = snapshots()
    with incidents.open(loaded_url) as db:
        assert str(db.incident(BAJAUR, as_of="2023-07-31").as_of) == "2023-07-31"
        db.incidents(as_of="2023-07-31")
    api.summary(loaded_url, as_of="2023-07-31")
    assert snapshots() == before


@pytest.mark.parametrize("module", ["incidents", "incidents.api", "incidents.database", "incidents.results"])
def test_all_names_what_is_public_and_each_is_documented(module: str) -> None:
    loaded = importlib.import_module(module)
    public = [name for name, value in vars(loaded).items() if not name.startswith("_")
              and (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == loaded.__name__]
    assert set(public) <= set(loaded.__all__), set(public) - set(loaded.__all__)
    for name in loaded.__all__:
        value = getattr(loaded, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert (value.__doc__ or "").strip(), f"{module}.{name}"


def test_every_public_name_is_documented() -> None:
    for name in incidents.__all__:
        assert getattr(incidents, name).__doc__, name
    functions = [f for name, f in inspect.getmembers(api, inspect.isfunction)
                 if not name.startswith("_") and f.__module__ == api.__name__]
    methods = [f for name, f in inspect.getmembers(incidents.Database, inspect.isfunction) if not name.startswith("_")]
    assert len(functions) > 20 and len(methods) > 15
    undocumented = [f.__qualname__ for f in functions + methods if not (f.__doc__ or "").strip()]
    assert undocumented == []


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = ("import json, sys, incidents; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pandas', 'sqlalchemy', 'matplotlib', 'rich', 'alembic'})))")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                           check=True)
    assert json.loads(child.stdout) == []


def test_the_fixtures_load_through_the_handle(empty_db_url: str) -> None:
    with incidents.open(empty_db_url, create=True) as db:
        result = db.load(FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml")
        assert result.counts["inserted"] == 3
        assert len(db.incidents()) == 3


def test_the_handle_turns_database_errors_into_incidents_errors(tmp_path: Path) -> None:
    path = tmp_path / "incidents.db"
    api.demo(str(path), exports_dir=None)
    with incidents.open(f"sqlite:///file:{path}?mode=ro&uri=true") as db, \
            pytest.raises(incidents.DatabaseError, match="could not do that.*readonly"):
        db.add(date="2020", country="PAK", citation="c")
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("hello " * 1000, encoding="utf-8")
    with pytest.raises(incidents.IncidentsError):
        incidents.open(not_a_database)
    with incidents.open("sqlite://", create=True) as memory, pytest.raises(incidents.DatabaseError, match="no file"):
        memory.backup(tmp_path / "memory-backup.db")
    assert not (tmp_path / "memory-backup.db").exists()


def test_python_values_are_read_as_the_command_line_reads_them(loaded_url: str) -> None:
    with incidents.open(loaded_url) as db:
        added = db.add(date="2020", country="PAK", citation="c", perpetrators="TTP")  # one name, not 'T' and 'P'
        assert len(db.incident(added.key).perpetrators) == 1 and added.created_actors == []
        assert added.key in list(db.incidents(actor="TTP")["key"])
        assert db.set(BAJAUR, "killed_best", 60, why="an int").new == 60
        day = db.incident(BAJAUR, as_of=datetime(2023, 7, 31, 18, 0))
        assert str(day.as_of) == "2023-07-31"
        with pytest.raises(incidents.FieldError, match="role 'victim' is not one of"):
            db.summary(role="victim")
