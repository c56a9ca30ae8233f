"""Several processes write to one database at once, through the real CLI: importers of disjoint and of
overlapping files, editors adding reports to and setting fields of one incident, and registry editors.
Every row arrives, none is duplicated, every command succeeds and no "database is locked" reaches the user.
On both engines.

On SQLite the children's busy timeout is cut to 100 ms so that writers really do wait past it and take
the bounded-retry path (db.retrying), which the test checks was taken. Scale with INCIDENTS_CONCURRENCY_ROWS
(rows per import file) and INCIDENTS_CONCURRENCY_EDITS (edits per editor).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from incidents import api
from incidents.db.engine import for_writing, make_engine, session_factory
from incidents.errors import DatabaseBusy
from incidents.models import Actor, Import, Incident, Report, Revision

from .conftest import ROOT

ROWS = int(os.environ.get("INCIDENTS_CONCURRENCY_ROWS", "2000"))
EDITS = int(os.environ.get("INCIDENTS_CONCURRENCY_EDITS", "8"))
KEY = "TEST-CONCURRENT-0001"

# Waits for the start signal, then runs CLI commands one after another in this process; prints their exit codes.
CHILD = """
import json, sys, time
from pathlib import Path
from incidents.cli import cli

go, commands = Path(sys.argv[1]), json.loads(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
codes = [cli.main(args=args, prog_name="incidents", standalone_mode=False) or 0 for args in commands]
print(json.dumps(codes), flush=True)
"""


def writers(url: str, files: list[Path]) -> dict[str, list[list[str]]]:
    """Each writer's commands, by name."""
    db = ["--db", url]
    plan: dict[str, list[list[str]]] = {}
    for n, path in enumerate(files):
        plan[f"importer {n}"] = [[*db, "import", str(path)]]
    plan["importer 1 again"] = [[*db, "import", str(files[1])]]  # the same file twice at once: no duplicates
    for editor in ("a", "b"):
        commands = []
        for i in range(EDITS):
            commands.append([*db, "report", "add", KEY, "--citation", f"concurrency test: editor {editor}, report {i}",
                             "--killed", str(i + 1), "--by", f"editor-{editor}"])
            commands.append([*db, "set", KEY, "summary", f"editor {editor}, edit {i}", "--why", "concurrency test",
                             "--by", f"editor-{editor}"])
        plan[f"editor {editor}"] = commands
    plan["registry editor"] = [[*db, "actors", "add", f"Concurrency Test Group {i:02d}"] for i in range(EDITS)]
    return plan


def test_concurrent_writers_lose_and_duplicate_nothing(db_url: str, engine_name: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.generate import write

    files = []
    for n in range(3):
        path = tmp_path / f"part{n}.csv"
        write(path, ROWS, seed=n, first=n * ROWS)
        files.append(path)
    api.add(db_url, key=KEY, date="2020-01-01", country="PAK", citation="concurrency test: synthetic incident",
            title="Synthetic incident for the concurrency test")

    go = tmp_path / "go"
    env = {**os.environ, "INCIDENTS_BUSY_TIMEOUT_MS": "100", "INCIDENTS_WRITE_WAIT": "300"}
    plan = writers(db_url, files)
    children = {
        name: subprocess.Popen([sys.executable, "-c", CHILD, str(go), json.dumps(commands)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, commands in plan.items()
    }
    time.sleep(3)  # let every child import the package and wait at the start line
    go.touch()
    retries = 0
    for name, child in children.items():
        stdout, stderr = child.communicate(timeout=600)
        assert child.returncode == 0, f"{name}: {stderr}"
        assert json.loads(stdout.strip().splitlines()[-1]) == [0] * len(plan[name]), f"{name}: {stdout}{stderr}"
        assert "locked" not in stderr and "Traceback" not in stderr, f"{name}: {stderr}"
        retries += stderr.count("trying again")

    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        keys = list(session.scalars(select(Incident.key)))
        assert len(keys) == len(set(keys)) == 3 * ROWS + 1  # every row arrived, once
        assert set(keys) == {f"BENCH-{n:07d}" for n in range(3 * ROWS)} | {KEY}
        runs = list(session.scalars(select(Import).where(Import.format == "native")))
        assert sorted((r.inserted, r.unchanged) for r in runs) == [(0, ROWS)] + [(ROWS, 0)] * 3

        incident = session.scalars(select(Incident).where(Incident.key == KEY)).one()
        killed = list(session.scalars(select(Report.killed).where(Report.incident_id == incident.id)))
        assert len(killed) == 1 + 2 * EDITS  # the first report (no toll) and every editor's
        # No editor overwrote the other's figures: the range spans every report both of them added.
        assert (incident.killed_low, incident.killed_high) == (1, EDITS)
        summaries = session.scalar(select(func.count()).select_from(Revision).where(
            Revision.table_name == "incidents", Revision.row_id == incident.id, Revision.field == "summary"))
        assert summaries == 2 * EDITS  # every set recorded as a revision
        names = set(session.scalars(select(Actor.name).where(Actor.name.like("Concurrency Test Group %"))))
        assert len(names) == EDITS
    engine.dispose()
    print(f"\n{engine_name}: {len(plan)} writers, {sum(map(len, plan.values()))} commands, "
          f"{3 * ROWS + 1} incidents held, {retries} retries")
    if engine_name == "sqlite":
        assert retries > 0  # the writers did meet, and the retry path carried them through


def test_a_writer_held_up_past_the_bounded_wait_gets_a_clear_error_and_writes_nothing(
        db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    api.add(db_url, key=KEY, date="2020-01-01", country="PAK", citation="concurrency test: synthetic incident")
    monkeypatch.setenv("INCIDENTS_BUSY_TIMEOUT_MS", "100")
    monkeypatch.setenv("INCIDENTS_WRITE_WAIT", "1")
    blocker = make_engine(db_url)
    with for_writing(blocker).connect() as connection, connection.begin():
        # Another writer holds the incident: SQLite's write lock, PostgreSQL's row lock.
        connection.execute(select(Incident).where(Incident.key == KEY).with_for_update()).one()
        started = time.monotonic()
        with pytest.raises(DatabaseBusy, match="other writers kept the database busy for 1 s") as caught:
            api.set_field(db_url, KEY, "summary", "held up", why="concurrency test")
        assert time.monotonic() - started < 10
        assert "nothing was written" in str(caught.value) and "locked" not in str(caught.value)
    blocker.dispose()
    assert [row["field"] for row in api.history(db_url, KEY) if row["field"] == "summary"] == []
    api.set_field(db_url, KEY, "summary", "after the other writer finished", why="concurrency test")
    assert api.show(db_url, KEY)["summary"] == "after the other writer finished"
