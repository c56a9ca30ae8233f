"""A fault injector: each writing command, run as a user runs it (the `incidents` program), is killed with
SIGKILL at several points of its run; afterwards the database passes its integrity checks, holds all of the
command's work or none of it, and the same command run again completes.

Short in the suite (three kill points per command); `INCIDENTS_LONG=1` tries twenty per command.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from incidents import api

from .conftest import FIXTURES, ROOT

LONG = os.environ.get("INCIDENTS_LONG") == "1"
KILL_POINTS = 20 if LONG else 3
PROGRAM = [sys.executable, "-c", "from incidents.cli import main; main()"]


def _incidents(database: Path) -> int | None:
    """The number of incidents, once the file passes SQLite's checks; None for a file with no schema yet."""
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "incidents" not in tables:
            assert not tables - {"alembic_version"}, tables  # no half a schema
            return None
        return int(connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0])


def _run_and_kill(args: list[str], cwd: Path, delay: float) -> bool:
    """Run `incidents ARGS`, SIGKILL it after `delay` seconds; whether it was still running when killed."""
    child = subprocess.Popen([*PROGRAM, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    running = child.poll() is None
    if running:
        child.send_signal(signal.SIGKILL)
    child.wait()
    return running


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT))
    from bench.generate import write

    path = tmp_path_factory.mktemp("faults") / "big.csv"
    write(path, 15_000)
    return path


def _timed(args: list[str], cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run([*PROGRAM, *args], cwd=cwd, check=True, capture_output=True)
    return time.monotonic() - started


@pytest.mark.parametrize("command", ["import", "init", "restore", "backup", "export"])
def test_a_writing_command_killed_anywhere_leaves_all_or_nothing(command: str, tmp_path: Path,
                                                                  big_file: Path) -> None:
    rng = random.Random(f"faults-{command}")  # the same kill points in every run, different per command
    work = tmp_path / "work"
    work.mkdir()
    database = work / "incidents.db"
    if command != "init":
        api.init(str(database))
        api.load(str(database), [FIXTURES / "seed_incidents.yaml"])
    if command in ("restore", "backup", "export"):
        api.import_file(str(database), big_file)
    args = {
        "import": ["import", str(big_file)],
        "init": ["init"],
        "restore": ["db", "restore", "full.backup"],
        "backup": ["db", "backup", "copy.backup"],
        "export": ["export", "incidents", "--out", "out.csv"],
    }[command]
    if command == "restore":
        api.backup(str(database), work / "full.backup")
        api.add(str(database), date="2024-01-01", country="PAK", citation="made after the backup", key="LATER")
    scratch = tmp_path / "timing"
    scratch.mkdir()
    for name in ("incidents.db", "full.backup"):
        if (work / name).exists():
            (scratch / name).write_bytes((work / name).read_bytes())
    duration = _timed(args, scratch)  # how long the command takes here, to kill it inside that time
    before = _incidents(database) if database.exists() else None
    after = _incidents(scratch / "incidents.db")
    if command == "export":
        (work / "out.csv").write_text("yesterday's export\n", encoding="utf-8")
    killed = 0
    for _ in range(KILL_POINTS):
        killed += _run_and_kill(args, work, rng.uniform(0.05, 0.95) * duration)
        now = _incidents(database) if database.exists() else None
        assert now in (before, after), (command, before, after, now)  # all of the command's work, or none
        if command == "export":
            assert (work / "out.csv").read_text(encoding="utf-8") in ("yesterday's export\n",
                                                                      (scratch / "out.csv").read_text("utf-8"))
        if command == "backup" and (work / "copy.backup").exists():
            assert _incidents(work / "copy.backup") == before  # a backup in place is a whole one
    assert killed >= 1, "no kill landed while the command ran"
    subprocess.run([*PROGRAM, *args], cwd=work, check=True, capture_output=True)  # and it completes afterwards
    assert _incidents(database) == after
    if command == "init":  # the registry too, even when a kill fell between the schema and the registry
        with sqlite3.connect(database) as connection:
            assert connection.execute("SELECT COUNT(*) FROM actors").fetchone()[0] > 30
