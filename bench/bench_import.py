"""Import speed against plain baselines, measured in the same run (issue: import at columnar speed).

For N generated native rows (default 1,000,000; see bench/generate.py), on SQLite and on PostgreSQL:
- baseline: the csv module reads the file; SQLite executemany's every row into one flat table, PostgreSQL
  COPYs them into one (no validation, no keys, no indexes).
- new: `incidents import` of file A into an empty database (every row validated, all tables, indexes).
- again: the same file A imported again into that database (every row unchanged).
- second: file B (N other incidents) into a copy of the database that holds A.
Each import runs in a child process of its own (its peak memory is its own) and alternates with a baseline
run, --runs times; the ratios are import / baseline of each pair, reported as min and median. The last line
is JSON with every figure and the targets.

    python bench/bench_import.py [--rows N] [--runs 3] [--no-pg] [--pg URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def sqlite_baseline(path: Path, folder: Path) -> float:
    database = folder / "flat.db"
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        connection.execute(f"CREATE TABLE flat ({', '.join(header)})")
        connection.executemany(f"INSERT INTO flat VALUES ({', '.join('?' * len(header))})", reader)
    connection.commit()
    connection.close()
    return time.perf_counter() - started


def postgres_baseline(path: Path, url: str) -> float:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    with psycopg.connect(conninfo) as connection, path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        connection.execute("DROP TABLE IF EXISTS bench_flat")
        connection.execute(f"CREATE TABLE bench_flat ({', '.join(f'{name} text' for name in header)})")
        with connection.cursor().copy(f"COPY bench_flat ({', '.join(header)}) FROM STDIN") as copy:
            for row in reader:
                copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - started
        connection.execute("DROP TABLE bench_flat")
    return elapsed


def timed_import(path: Path, url: str) -> tuple[float, float, dict[str, object]]:
    """Run `incidents import` in a child process, so its peak memory is its own."""
    script = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from incidents.db.engine import make_engine\n"
        "from incidents.db.migrations import upgrade\n"
        "from incidents.io.importing import run_import\n"
        "engine = make_engine(sys.argv[2]); upgrade(engine)\n"
        "started = time.perf_counter()\n"
        "result = run_import(engine, Path(sys.argv[1]))\n"
        "elapsed = time.perf_counter() - started\n"
        "print(json.dumps({'seconds': elapsed, 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,"
        " 'inserted': result.inserted, 'unchanged': result.unchanged, 'read': result.read}))\n"
    )
    output = subprocess.run([sys.executable, "-c", script, str(path), url], check=True, capture_output=True,
                            text=True, cwd=ROOT).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return figures["seconds"], figures["peak_mb"], figures


def _admin(admin_url: str, *statements: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def fresh_postgres_database(admin_url: str, name: str, template: str | None = None) -> str:
    clause = f' TEMPLATE "{template}"' if template else ""
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{clause}')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(admin_url: str, name: str) -> None:
    _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ratios(pairs: list[tuple[float, float]]) -> dict[str, object]:
    values = sorted(ours / flat for ours, flat in pairs)
    return {"min": round(values[0], 2), "median": round(statistics.median(values), 2),
            "import_s": [round(ours, 2) for ours, _ in pairs], "baseline_s": [round(flat, 2) for _, flat in pairs]}


def measure(engine: str, files: tuple[Path, Path], folder: Path, runs: int, rows: int, pg: str) -> dict[str, object]:
    """new, again and second, each alternated with the engine's baseline `runs` times."""
    first, second = files
    if engine == "sqlite":
        def baseline(path: Path) -> float:
            return sqlite_baseline(path, folder)

        def fresh(run: int) -> str:
            return f"sqlite:///{folder / f'new{run}.db'}"

        def copy_of_populated(run: int) -> str:
            target = folder / f"second{run}.db"
            shutil.copy(folder / "new0.db", target)
            return f"sqlite:///{target}"
    else:
        def baseline(path: Path) -> float:
            return postgres_baseline(path, pg)

        def fresh(run: int) -> str:
            return fresh_postgres_database(pg, f"incidents_bench_new{run}")

        def copy_of_populated(run: int) -> str:
            return fresh_postgres_database(pg, f"incidents_bench_second{run}", template="incidents_bench_new0")

    figures: dict[str, object] = {}
    peaks: dict[str, float] = {}
    populated = ""
    for scenario, path in (("new", first), ("again", first), ("second", second)):
        pairs = []
        for run in range(runs):
            flat = baseline(path)
            if scenario == "new":
                url = fresh(run)
            elif scenario == "again":
                url = populated
            else:
                url = copy_of_populated(run)
            if scenario == "new" and run == 0:
                populated = url  # the database A went into: "again" imports A into it once more
            seconds, peak, counts = timed_import(path, url)
            expected = "unchanged" if scenario == "again" else "inserted"
            assert counts[expected] == rows, (scenario, counts)
            pairs.append((seconds, flat))
            peaks[scenario] = max(peaks.get(scenario, 0.0), peak)
            print(f"{engine} {scenario} run {run + 1}: import {seconds:.2f} s, baseline {flat:.2f} s, ratio "
                  f"{seconds / flat:.2f}, peak {peak:.0f} MB", flush=True)
            if engine == "postgresql" and scenario == "second":
                drop_postgres_database(pg, f"incidents_bench_second{run}")
            if engine == "postgresql" and scenario == "new" and run > 0:
                drop_postgres_database(pg, f"incidents_bench_new{run}")
        figures[scenario] = ratios(pairs) | {"peak_mb": round(peaks[scenario])}
    if engine == "postgresql":
        drop_postgres_database(pg, "incidents_bench_new0")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("INCIDENTS_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-pg", action="store_true", help="Measure SQLite only.")
    args = parser.parse_args()

    from bench.generate import write

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        files = folder / "a.csv", folder / "b.csv"
        write(files[0], args.rows)
        write(files[1], args.rows, seed=8, first=args.rows)
        print(f"{args.rows:,} rows a file, {files[0].stat().st_size / 1e6:.0f} MB of CSV", flush=True)
        result: dict[str, object] = {"rows": args.rows, "runs": args.runs}
        result["sqlite"] = measure("sqlite", files, folder, args.runs, args.rows, args.pg)
        if not args.no_pg:
            result["postgresql"] = measure("postgresql", files, folder, args.runs, args.rows, args.pg)
        result["targets"] = {"sqlite_new_ratio": 3.0, "sqlite_stretch": 2.5, "pg_new_ratio": 3.5, "pg_stretch": 3.0,
                             "peak_mb": 500, "again_ratio": 1.0}
        print(json.dumps(result))


if __name__ == "__main__":
    main()
