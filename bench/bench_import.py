"""Import speed against plain baselines, measured in the same run (issue: bulk import).

For N generated native rows (default 1,000,000; see bench/generate.py):
- SQLite baseline: read the CSV with the csv module and executemany every row into one flat table.
- SQLite import:   `incidents import` of the same file into a new database (all tables, validation, revisions).
- PostgreSQL baseline: COPY of the same rows (csv module -> COPY write_row) into one flat table.
- PostgreSQL import:   the same import into a new PostgreSQL database.
Peak memory is the largest resident set of the process and its children. The last line is JSON with the ratios.

    python bench/bench_import.py [--rows N] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def sqlite_baseline(path: Path, folder: Path) -> float:
    database = folder / "flat.db"
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
        " 'children_peak_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,"
        " 'inserted': result.inserted, 'read': result.read}))\n"
    )
    output = subprocess.run([sys.executable, "-c", script, str(path), url], check=True, capture_output=True,
                            text=True, cwd=ROOT).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    return figures["seconds"], max(figures["peak_mb"], figures["children_peak_mb"]), figures


def fresh_postgres_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("INCIDENTS_TEST_PG_URL",
                                                       "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--no-pg", action="store_true", help="Measure SQLite only.")
    args = parser.parse_args()

    from bench.generate import write

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        path = folder / "native.csv"
        write(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB of CSV", flush=True)

        baseline = sqlite_baseline(path, folder)
        print(f"SQLite baseline (csv + executemany into one flat table): {baseline:.2f} s", flush=True)
        seconds, peak, figures = timed_import(path, f"sqlite:///{folder / 'incidents.db'}")
        assert figures["inserted"] == args.rows, figures
        print(f"SQLite import: {seconds:.2f} s, peak {peak:.0f} MB, ratio {seconds / baseline:.2f}", flush=True)
        result: dict[str, object] = {
            "rows": args.rows, "sqlite_baseline_s": round(baseline, 2), "sqlite_import_s": round(seconds, 2),
            "sqlite_ratio": round(seconds / baseline, 2), "sqlite_peak_mb": round(peak),
        }
        if not args.no_pg:
            pg_baseline = postgres_baseline(path, args.pg)
            print(f"PostgreSQL baseline (COPY into one flat table): {pg_baseline:.2f} s", flush=True)
            url = fresh_postgres_database(args.pg, "incidents_bench_import")
            pg_seconds, pg_peak, pg_figures = timed_import(path, url)
            assert pg_figures["inserted"] == args.rows, pg_figures
            print(f"PostgreSQL import: {pg_seconds:.2f} s, peak {pg_peak:.0f} MB, "
                  f"ratio {pg_seconds / pg_baseline:.2f}", flush=True)
            result.update({"pg_baseline_s": round(pg_baseline, 2), "pg_import_s": round(pg_seconds, 2),
                           "pg_ratio": round(pg_seconds / pg_baseline, 2), "pg_peak_mb": round(pg_peak)})
        result["targets"] = {"sqlite_ratio": 3.0, "pg_ratio": 3.0, "peak_mb": 500}
        print(json.dumps(result))


if __name__ == "__main__":
    main()
