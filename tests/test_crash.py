"""An import killed part-way (SIGKILL) leaves the database whole: all of the batch or none, and the next
import completes. On both engines."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from incidents.db.engine import make_engine, session_factory
from incidents.io.importing import run_import
from incidents.models import Import, Incident, Report, Source

from .conftest import ROOT

CHILD = """
import sys
from pathlib import Path
from incidents.db.engine import make_engine
from incidents.io.importing import run_import

def progress(done, total):
    print("chunk written", flush=True)   # the parent kills us here, mid-transaction

run_import(make_engine(sys.argv[1]), Path(sys.argv[2]), progress=progress)
print("finished", flush=True)
"""


def counts(url: str) -> tuple[int, int, int, int]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        result = tuple(int(session.scalar(select(func.count()).select_from(model)) or 0)
                       for model in (Incident, Report, Source, Import))
    engine.dispose()
    return result  # type: ignore[return-value]


def test_sigkill_mid_import_keeps_the_database_whole(db_url: str, tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.generate import write

    rows = 20_000  # four chunks: the kill lands after the first is written, long before the commit
    path = tmp_path / "big.csv"
    write(path, rows)
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=ROOT)
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "chunk written", line
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert counts(db_url) == (0, 0, 0, 0)  # none of the batch, not even the import's own record
    engine = make_engine(db_url)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    result = run_import(engine, path)  # the next import completes
    engine.dispose()
    assert result.inserted == rows
    assert counts(db_url)[0] == rows
