"""Reporting speed against hand-written SQL over one flat table, measured in the same run (issue: reporting).

Builds (or reuses, with --db) a SQLite database of N generated incidents (default 1,000,000) by importing
bench/generate.py's native CSV, then copies the same data into one denormalised table `flat` (one row per
incident and perpetrator). Then, best of --repeat runs each:
- timeline: `timelines.timeline(freq='month', by='actor')` against one GROUP BY month, actor over `flat`;
- group_summary: `summaries.group_summary()` against the GROUP BYs over `flat` that give the same facts
  (per group: counts, tolls, first and last attack, attribution counts, top provinces and attack types,
  incidents per year).
Peak memory is the resident set of the process doing the reporting. The last line is JSON with the ratios.

    python bench/bench_reporting.py [--rows N] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLAT = """
CREATE TABLE flat AS
SELECT i.id, i.date_start, i.date_precision, i.killed_best, i.killed_low, i.killed_high, i.wounded_best,
       i.wounded_low, i.wounded_high, i.attack_type, l.admin1, a.name AS actor, ia.attribution
FROM incidents i
JOIN incident_actors ia ON ia.incident_id = i.id AND ia.role = 'perpetrator'
JOIN actors a ON a.id = ia.actor_id
LEFT JOIN locations l ON l.id = i.location_id
"""
# The same facts as the routines give (docs/reporting.md, "The rules behind every figure"): denials left out,
# unknown tolls counted apart, first and last attack over day-precision attacks, the latest coarse dates.
COUNTED = "(attribution IS NULL OR attribution <> 'denied')"
BASELINE_TIMELINE = [
    f"""SELECT strftime('%Y-%m-01', date_start) AS period, actor, COUNT(*), SUM(killed_best), SUM(killed_low),
              SUM(killed_high), SUM(CASE WHEN killed_best IS NULL THEN 1 ELSE 0 END), SUM(wounded_best),
              SUM(CASE WHEN wounded_best IS NULL THEN 1 ELSE 0 END)
       FROM flat WHERE date_precision IN ('day', 'month') AND {COUNTED} GROUP BY period, actor""",
    f"SELECT date_precision, COUNT(*), SUM(killed_best) FROM flat WHERE date_precision = 'year' AND {COUNTED} "
    "GROUP BY 1",
]
BASELINE_SUMMARY = [
    f"""SELECT actor, CAST(strftime('%Y', date_start) AS INTEGER), COUNT(*), SUM(killed_best), SUM(killed_low),
              SUM(killed_high), SUM(wounded_best), SUM(wounded_low), SUM(wounded_high), COUNT(killed_best),
              COUNT(wounded_best), MIN(CASE WHEN date_precision = 'day' THEN date_start END),
              MAX(CASE WHEN date_precision = 'day' THEN date_start END),
              SUM(CASE WHEN date_precision = 'day' THEN 0 ELSE 1 END),
              MAX(CASE WHEN date_precision = 'month' THEN date_start END),
              MAX(CASE WHEN date_precision = 'year' THEN date_start END)
       FROM flat WHERE {COUNTED} GROUP BY 1, 2""",
    f"SELECT actor, attribution, COUNT(*) FROM flat WHERE {COUNTED} GROUP BY actor, attribution",
    f"SELECT actor, admin1, attack_type, COUNT(*) FROM flat WHERE {COUNTED} GROUP BY actor, admin1, attack_type",
]


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(database: Path, repeat: int) -> dict[str, float]:
    """Run in a child process: baselines and our routines on the same file, and this process's peak memory."""
    from incidents.analysis.filters import Filters
    from incidents.analysis.summaries import group_summary
    from incidents.analysis.timelines import timeline
    from incidents.db.engine import make_engine, session_factory

    connection = sqlite3.connect(database)

    def run(statements: list[str]) -> None:
        for statement in statements:
            connection.execute(statement).fetchall()

    baseline_timeline = best_of(repeat, lambda: run(BASELINE_TIMELINE))
    baseline_summary = best_of(repeat, lambda: run(BASELINE_SUMMARY))
    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        ours_timeline = best_of(repeat, lambda: timeline(session, Filters(), freq="month", by="actor"))
        ours_summary = best_of(repeat, lambda: group_summary(session, Filters()))
    return {
        "baseline_timeline_s": baseline_timeline, "timeline_s": ours_timeline,
        "baseline_summary_s": baseline_summary, "group_summary_s": ours_summary,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="Reuse this database (built by an earlier run) if it exists.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process's entry point
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeat)))
        return

    with tempfile.TemporaryDirectory() as temp:
        database = args.db or Path(temp) / "incidents.db"
        if not (args.db and args.db.exists()):
            from bench.generate import write
            from incidents.db.engine import make_engine
            from incidents.db.migrations import upgrade
            from incidents.io.importing import run_import

            csv_path = Path(temp) / "native.csv"
            write(csv_path, args.rows)
            engine = make_engine(f"sqlite:///{database}")
            upgrade(engine)
            started = time.perf_counter()
            imported = run_import(engine, csv_path)
            engine.dispose()
            print(f"built {imported.inserted:,} incidents in {time.perf_counter() - started:.0f} s", flush=True)
        connection = sqlite3.connect(database)
        connection.execute("DROP TABLE IF EXISTS flat")
        connection.execute(FLAT)
        connection.commit()
        rows = connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
        connection.close()
        output = subprocess.run([sys.executable, __file__, "--measure", str(database), "--repeat", str(args.repeat)],
                                check=True, capture_output=True, text=True, cwd=ROOT).stdout
        figures = json.loads(output.strip().splitlines()[-1])
    result = {
        "incidents": rows,
        "timeline_s": round(figures["timeline_s"], 3), "baseline_timeline_s": round(figures["baseline_timeline_s"], 3),
        "timeline_ratio": round(figures["timeline_s"] / figures["baseline_timeline_s"], 2),
        "group_summary_s": round(figures["group_summary_s"], 3),
        "baseline_summary_s": round(figures["baseline_summary_s"], 3),
        "group_summary_ratio": round(figures["group_summary_s"] / figures["baseline_summary_s"], 2),
        "peak_mb": round(figures["peak_mb"]), "targets": {"ratio": 1.5, "peak_mb": 400},
    }
    print(f"timeline: {result['timeline_s']} s vs {result['baseline_timeline_s']} s flat "
          f"(ratio {result['timeline_ratio']}); group_summary: {result['group_summary_s']} s vs "
          f"{result['baseline_summary_s']} s flat (ratio {result['group_summary_ratio']}); peak {result['peak_mb']} MB")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
