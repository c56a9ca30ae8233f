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
from collections.abc import Iterator
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


# --------------------------------------------------------------------------- the same kills on PostgreSQL

def _pg_counts(url: str) -> tuple[int, int, int] | None:
    """(incidents, reports, sources) once the database has a schema; None before."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if "incidents" not in inspect(connection).get_table_names():
                return None
            return tuple(int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())  # type: ignore[return-value]
                         for table in ("incidents", "reports", "sources"))
    finally:
        engine.dispose()


@pytest.mark.postgresql
@pytest.mark.parametrize("command", ["import", "init", "restore", "backup", "export"])
def test_a_writing_command_killed_anywhere_on_postgresql_leaves_all_or_nothing(
        command: str, tmp_path: Path, pg_server: object) -> None:
    from .conftest import _create_pg_database, _drop_pg_database

    sys.path.insert(0, str(ROOT))
    from bench.generate import write

    rng = random.Random(f"pg-faults-{command}")
    big = tmp_path / "big.csv"
    write(big, 4_000)
    name = f"incidents_faults_{command}_{os.getpid()}"
    url = _create_pg_database(pg_server, name)  # type: ignore[arg-type]
    try:
        if command != "init":
            api.init(url)
            api.load(url, [FIXTURES / "seed_incidents.yaml"])
        if command in ("restore", "backup", "export"):
            api.import_file(url, big)
        if command == "restore":
            api.backup(url, tmp_path / "full.backup")
            api.add(url, date="2024-01-01", country="PAK", citation="made after the backup", key="LATER")
        args = {
            "import": ["import", str(big)],
            "init": ["init"],
            "restore": ["db", "restore", str(tmp_path / "full.backup")],
            "backup": ["db", "backup", str(tmp_path / "copy.backup")],
            "export": ["export", "incidents", "--out", str(tmp_path / "out.csv")],
        }[command]
        before = _pg_counts(url)
        started = time.monotonic()
        after_url = _create_pg_database(pg_server, name + "_t", template=name)  # type: ignore[arg-type]
        try:
            subprocess.run([*PROGRAM, "--db", after_url, *args], cwd=tmp_path, check=True, capture_output=True)
            duration = time.monotonic() - started
            after = _pg_counts(after_url)
        finally:
            _drop_pg_database(pg_server, name + "_t")  # type: ignore[arg-type]
        if command == "export":
            (tmp_path / "out.csv").write_text("yesterday's export\n", encoding="utf-8")
        killed = 0
        for _ in range(KILL_POINTS):
            killed += _run_and_kill(["--db", url, *args], tmp_path, rng.uniform(0.05, 0.95) * duration)
            time.sleep(0.5)  # a client tool the kill orphaned (pg_dump, pg_restore) finishes or stops
            now = _pg_counts(url)
            assert now in (before, after), (command, before, after, now)  # all of the command's work, or none
            if command == "export":
                assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith(("yesterday's export\n", "key,"))
        assert killed >= 1, "no kill landed while the command ran"
        subprocess.run([*PROGRAM, "--db", url, *args], cwd=tmp_path, check=True, capture_output=True)
        assert _pg_counts(url) == after
    finally:
        _drop_pg_database(pg_server, name)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- a full disk

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on a real file system of 48 MB (a tmpfs mounted for the test) that the test can fill. Where this
    process may not mount one (not root), the folder is an ordinary one and `fill` limits the size of the files
    the command may write instead (RLIMIT_FSIZE), which fails its writes the way a full disk does (EFBIG)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(folder)], capture_output=True).returncode == 0
    yield folder
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _fill(folder: Path, leave: int) -> Path:
    """Fill the file system of `folder` with a filler file until `leave` bytes are free; the filler."""
    filler = folder / "filler"
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with filler.open("ab") as handle:
        handle.truncate(filler.stat().st_size + max(0, free - leave))
        handle.seek(0, os.SEEK_END)
    # truncate makes a sparse file on most file systems: write it, so the space is really taken
    with filler.open("r+b") as handle:
        while chunk := handle.read(1 << 20):
            handle.seek(-len(chunk), os.SEEK_CUR)
            handle.write(b"\0" * len(chunk))
    return filler


def _on_full_disk(args: list[str], cwd: Path, leave: int, grows: Path | None) -> subprocess.CompletedProcess[str]:
    """Run `incidents ARGS` with `leave` bytes free on cwd's file system (or, without a small file system of
    its own, with every file it writes limited to `leave` bytes, or to the size of `grows` plus `leave`)."""
    on_tmpfs = os.statvfs(cwd).f_blocks * os.statvfs(cwd).f_frsize < 64 << 20
    if on_tmpfs:
        filler = _fill(cwd, leave)
        try:
            return subprocess.run([*PROGRAM, *args], cwd=cwd, capture_output=True, text=True)
        finally:
            filler.unlink()
    import resource

    most = (grows.stat().st_size if grows is not None else 0) + leave

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (most, most))

    return subprocess.run([*PROGRAM, *args], cwd=cwd, capture_output=True, text=True, preexec_fn=limited)


@pytest.mark.parametrize("command", ["import", "init", "restore", "backup", "export"])
def test_a_full_disk_loses_nothing_and_says_so_in_one_line(command: str, small_disk: Path, tmp_path: Path,
                                                             big_file: Path) -> None:
    """Each writing command run out of disk space part-way: one error line (never a traceback), the database
    whole with all of the command's work or none, no half-written file in place and none left beside it; with
    the space back, the same command completes."""
    database = small_disk / "incidents.db"
    if command != "init":
        api.init(str(database))
        api.load(str(database), [FIXTURES / "seed_incidents.yaml"])
    if command in ("restore", "export", "backup"):
        subprocess.run([*PROGRAM, "import", str(big_file)], cwd=small_disk, check=True, capture_output=True)
    if command == "restore":
        api.backup(str(database), tmp_path / "full.backup")  # the backup lies elsewhere; the database is full
        api.add(str(database), date="2024-01-01", country="PAK", citation="made after the backup", key="LATER")
    if command == "export":
        (small_disk / "out.csv").write_text("yesterday's export\n", encoding="utf-8")
    args = {
        "import": ["import", str(big_file)],
        "init": ["init"],
        "restore": ["db", "restore", str(tmp_path / "full.backup")],
        "backup": ["db", "backup", "copy.backup"],
        "export": ["export", "incidents", "--out", "out.csv"],
    }[command]
    before = _incidents(database) if database.exists() else None
    listing = sorted(path.name for path in small_disk.iterdir())
    result = _on_full_disk(args, small_disk, leave=64 << 10, grows=database if command == "import" else None)
    assert result.returncode in (1, 5, 6), (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and any(word in errors[0] for word in ("full", "No room", "disk I/O")), result.stderr
    assert (_incidents(database) if database.exists() else None) == before  # none of the command's work
    now = sorted(path.name for path in small_disk.iterdir() if not path.name.startswith("incidents.db-"))
    assert now == [name for name in listing if not name.startswith("incidents.db-")] or (
        command == "init" and now in ([], ["incidents.db"])), now  # no half file in place, no .part beside
    if command == "export":
        assert (small_disk / "out.csv").read_text(encoding="utf-8") == "yesterday's export\n"
    done = subprocess.run([*PROGRAM, *args], cwd=small_disk, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # with the space back, it completes
    assert _incidents(database) is not None
