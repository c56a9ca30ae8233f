"""Peak memory of the commands whose answer can grow past their input, each run as a user runs it (issue:
hardening; the target is 500 MB for every command on 100,000 incidents).

Builds (or reuses, with --db) a SQLite database of N generated incidents (default 100,000) by importing
bench/generate.py's native CSV, then runs each command below in its own process and reads that process's peak
resident set (getrusage of the child). Output goes to /dev/null, as a pipe to a file would take it. A command that
is refused (a bound) counts too: the refusal must come before the memory is taken. The last line is JSON.

    python bench/bench_memory.py [--rows N] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MB = 500
COMMANDS = {
    # 21 years of days x 60 provinces: about 460,000 rows, near the bound limits TIMELINE_ROWS (500,000).
    "timeline day by admin1 since 2002 (table)": ["timeline", "--freq", "day", "--by", "admin1", "--since", "2002"],
    "timeline day by admin1 since 2002 --json": [
        "timeline", "--freq", "day", "--by", "admin1", "--since", "2002", "--json"],
    "timeline day by admin1 since 2002, rolling + cumulative, --json": [
        "timeline", "--freq", "day", "--by", "admin1", "--since", "2002", "--rolling", "7", "--cumulative", "--json"],
    "timeline day by admin1, all years (refused: past the bound)": [
        "timeline", "--freq", "day", "--by", "admin1", "--json"],
    "duplicates --days 3 --km 50": ["duplicates", "--days", "3", "--km", "50", "--json"],
    "duplicates --days 7 --km 100": ["duplicates", "--days", "7", "--km", "100", "--json"],
    "duplicates --days 30 --km 1000 (refused: past the bound)": ["duplicates", "--days", "30", "--km", "1000"],
    "list --limit 1000000000 --json": ["list", "--limit", "1000000000", "--json"],
    "export incidents json": ["export", "incidents", "--out", "{folder}/all.json"],
    "export timeline xlsx": ["export", "timeline", "--freq", "day", "--out", "{folder}/timeline.xlsx"],
}


def peak_of(args: list[str], database: Path) -> tuple[float, float, int]:
    """(peak resident MB, seconds, exit status) of `incidents ARGS` run in a process of its own."""
    runner = ("import resource, subprocess, sys; status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
              "stderr=subprocess.DEVNULL).returncode; "
              "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, status)")
    program = [sys.executable, "-c", "from incidents.cli import main; main()", "--db", str(database), *args]
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", runner, *program], capture_output=True, text=True, check=True).stdout
    kilobytes, status = out.split()
    return int(kilobytes) / 1024, time.monotonic() - started, int(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="Reuse this database (built by an earlier run) if it exists.")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    database = options.db or folder / "bench.db"
    if not database.exists():
        from bench.generate import write
        from incidents import api

        source = folder / "bench.csv"
        write(source, options.rows)
        api.init(str(database), registry=False)
        api.import_file(str(database), source)
    results = {}
    for name, args in COMMANDS.items():
        megabytes, seconds, status = peak_of([arg.format(folder=folder) for arg in args], database)
        results[name] = {"peak_mb": round(megabytes), "seconds": round(seconds, 1), "exit": status}
        flag = "ok" if megabytes <= TARGET_MB else f"OVER {TARGET_MB} MB"
        print(f"{name:66s} {megabytes:7.0f} MB {seconds:6.1f} s  exit {status}  {flag}", flush=True)
    print(json.dumps({"rows": options.rows, "target_mb": TARGET_MB,
                      "worst_mb": max(r["peak_mb"] for r in results.values()), "commands": results}))


if __name__ == "__main__":
    main()
