"""Reporting at scale on PostgreSQL: a simulated database of N incidents (default 10,000,000), generated inside
the database, with `timeline`, `summary` and the SQL views timed against plain SQL over flat tables of the same
rows, in the same run (issue: dataset releases and scale).

The data are simulated, not real: 300 groups (30 of them factions of 10 parents), 5,000 places in 8 provinces,
dates over 35 years (90% to the day, 7% to the month, 3% to the year), tolls unknown for one in ten, wounded
unknown for three in ten, one perpetrator each and a second for one in ten, 2% of links denials. Reports and
sources are not generated: no timed query reads them.

What is timed, each alternated with its baseline --repeat times (min and median of the ratio):
- timeline: analysis.timelines.timeline(freq='month', by='actor') against the GROUP BY month, actor over `flat`
  (one row per incident and perpetrator) that gives the same figures;
- summary: analysis.summaries.group_summary() against the GROUP BYs over `flat` that give the same facts;
- the views: group_summary, monthly_activity, and incident_report aggregated by year and province, against the
  same GROUP BYs over `flat` and `flat_incidents` (one row per incident).
Peak memory is each CLI command's resident set (`incidents timeline ... --json`, `incidents summary --json`),
run as a child process. The last line is JSON.

    python bench/bench_scale.py [--rows N] [--server URL] [--keep] [--reuse]

--server is a PostgreSQL URL whose user may create databases (default: postgres on 127.0.0.1:5432); the bench
creates `incidents_scale_N` there and drops it at the end unless --keep. --reuse times a database kept earlier.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
GROUPS = 300
PLACES = 5000
COUNTED = "(attribution IS NULL OR attribution <> 'denied')"

GENERATE = [
    f"""INSERT INTO actors (id, name, kind, created_at)
        SELECT g, 'Simulated group ' || lpad(g::text, 4, '0'), 'group', now() FROM generate_series(1, {GROUPS}) g""",
    f"UPDATE actors SET parent_id = 1 + (id % 10) WHERE id > {GROUPS - 30}",
    f"""INSERT INTO locations (id, key, country, admin1, admin2, place, geo_precision)
        SELECT g, 'sim:' || g, 'PAK', 'Province ' || (g % 8), 'District ' || (g % 150), 'Place ' || g, 'place'
        FROM generate_series(1, {PLACES}) g""",
    """INSERT INTO incidents (id, key, date_start, date_precision, location_id, attack_type, status,
                              killed_low, killed_best, killed_high, killed_best_manual,
                              wounded_low, wounded_best, wounded_high, wounded_best_manual,
                              origin_dataset, origin_id, created_at, updated_at)
        SELECT g, 'SIM-' || g,
               CASE WHEN p < 90 THEN d WHEN p < 97 THEN date_trunc('month', d)::date
                    ELSE date_trunc('year', d)::date END,
               CASE WHEN p < 90 THEN 'day' WHEN p < 97 THEN 'month' ELSE 'year' END,
               1 + (g::bigint * 7919) % {places},
               (ARRAY['Bombing', 'Armed assault', 'Assassination', 'Kidnapping', 'Suicide bomb'])[1 + g % 5],
               'confirmed',
               CASE WHEN g % 10 = 0 THEN NULL ELSE greatest(k - g % 3, 0) END,
               CASE WHEN g % 10 = 0 THEN NULL ELSE k END,
               CASE WHEN g % 10 = 0 THEN NULL ELSE k + g % 5 END, false,
               CASE WHEN g % 10 < 3 THEN NULL ELSE w END,
               CASE WHEN g % 10 < 3 THEN NULL ELSE w END,
               CASE WHEN g % 10 < 3 THEN NULL ELSE w + g % 4 END, false,
               'sim', g::text, now(), now()
        FROM (SELECT g, (g * 7) % 100 AS p, date '1990-01-01' + ((g::bigint * 104729) % 12784)::int AS d,
                     ((g::bigint * 31) % 53)::int AS k, ((g::bigint * 17) % 71)::int AS w
              FROM generate_series({first}, {last}) g) s""",
    """INSERT INTO incident_actors (incident_id, actor_id, role, attribution, created_at)
        SELECT g, 1 + (g::bigint * 13) % {groups}, 'perpetrator',
               CASE WHEN g % 50 = 0 THEN 'denied' WHEN g % 5 = 0 THEN 'claimed' WHEN g % 5 < 3 THEN 'attributed'
                    WHEN g % 5 = 3 THEN 'suspected' END, NULL
        FROM generate_series({first}, {last}) g""",
    """INSERT INTO incident_actors (incident_id, actor_id, role, attribution, created_at)
        SELECT g, 1 + ((g::bigint * 13) % {groups} + 7) % {groups}, 'perpetrator', 'suspected', NULL
        FROM generate_series({first}, {last}) g WHERE g % 10 = 0""",
]
CHUNK = 1_000_000  # incidents generated per statement, so that progress shows and no one statement runs for long

FLAT = [
    "DROP TABLE IF EXISTS flat", "DROP TABLE IF EXISTS flat_incidents",
    """CREATE TABLE flat AS
       SELECT i.id, i.date_start, i.date_precision, i.killed_best, i.killed_low, i.killed_high, i.wounded_best,
              i.wounded_low, i.wounded_high, i.attack_type, l.admin1, a.name AS actor, ia.attribution
       FROM incidents i
       JOIN incident_actors ia ON ia.incident_id = i.id AND ia.role = 'perpetrator'
       JOIN actors a ON a.id = ia.actor_id
       LEFT JOIN locations l ON l.id = i.location_id
       WHERE i.merged_into_id IS NULL AND i.withdrawn_at IS NULL""",
    """CREATE TABLE flat_incidents AS
       SELECT i.id, i.date_start, i.killed_best, i.wounded_best, l.admin1
       FROM incidents i LEFT JOIN locations l ON l.id = i.location_id
       WHERE i.merged_into_id IS NULL AND i.withdrawn_at IS NULL""",
    "VACUUM ANALYZE flat", "VACUUM ANALYZE flat_incidents",
]
BASELINES = {
    "timeline": [
        f"""SELECT date_trunc('month', date_start) AS period, actor, COUNT(*), SUM(killed_best), SUM(killed_low),
                  SUM(killed_high), SUM(CASE WHEN killed_best IS NULL THEN 1 ELSE 0 END), SUM(wounded_best),
                  SUM(CASE WHEN wounded_best IS NULL THEN 1 ELSE 0 END)
           FROM flat WHERE date_precision IN ('day', 'month') AND {COUNTED} GROUP BY 1, 2""",
        f"SELECT date_precision, COUNT(*), SUM(killed_best) FROM flat WHERE date_precision = 'year' AND {COUNTED} "
        "GROUP BY 1",
    ],
    "summary": [
        f"""SELECT actor, extract(year FROM date_start)::int, COUNT(*), SUM(killed_best), SUM(killed_low),
                  SUM(killed_high), SUM(wounded_best), SUM(wounded_low), SUM(wounded_high), COUNT(killed_best),
                  COUNT(wounded_best), MIN(CASE WHEN date_precision = 'day' THEN date_start END),
                  MAX(CASE WHEN date_precision = 'day' THEN date_start END),
                  SUM(CASE WHEN date_precision = 'day' THEN 0 ELSE 1 END),
                  MAX(CASE WHEN date_precision = 'month' THEN date_start END),
                  MAX(CASE WHEN date_precision = 'year' THEN date_start END)
           FROM flat WHERE {COUNTED} GROUP BY 1, 2""",
        f"SELECT actor, attribution, COUNT(*) FROM flat WHERE {COUNTED} GROUP BY actor, attribution",
        f"SELECT actor, admin1, attack_type, COUNT(*) FROM flat WHERE {COUNTED} GROUP BY actor, admin1, attack_type",
    ],
    "view group_summary": [
        f"""SELECT actor, COUNT(*), SUM(killed_best), SUM(killed_low), SUM(killed_high), COUNT(killed_best),
                  SUM(wounded_best), SUM(wounded_low), SUM(wounded_high), COUNT(wounded_best),
                  MIN(date_start), MAX(date_start),
                  SUM(CASE WHEN attribution = 'claimed' THEN 1 ELSE 0 END),
                  SUM(CASE WHEN attribution = 'attributed' THEN 1 ELSE 0 END),
                  SUM(CASE WHEN attribution = 'suspected' THEN 1 ELSE 0 END)
           FROM flat WHERE {COUNTED} GROUP BY actor""",
    ],
    "view monthly_activity": [
        f"""SELECT actor, to_char(date_start, 'YYYY-MM'), COUNT(*), SUM(killed_best), SUM(killed_low),
                  SUM(killed_high), SUM(wounded_best)
           FROM flat WHERE {COUNTED} AND date_precision IN ('day', 'month') GROUP BY 1, 2""",
    ],
    "view incident_report by year and province": [
        "SELECT extract(year FROM date_start)::int, admin1, COUNT(*), SUM(killed_best), SUM(wounded_best) "
        "FROM flat_incidents GROUP BY 1, 2",
    ],
}
VIEWS = {
    "view group_summary": ["SELECT * FROM group_summary"],
    "view monthly_activity": ["SELECT * FROM monthly_activity"],
    "view incident_report by year and province": [
        "SELECT extract(year FROM date_start)::int, admin1, COUNT(*), SUM(killed_best), SUM(wounded_best) "
        "FROM incident_report GROUP BY 1, 2",
    ],
}


def sql(connection: Any, statement: str) -> Any:
    """Run `statement` as it is: through psycopg with no parameters, so that its '%' stays the modulo operator."""
    cursor = connection.connection.driver_connection.cursor()
    cursor.execute(statement)
    return cursor


def database_url(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=name).render_as_string(hide_password=False)


def build(server: str, name: str, rows: int) -> float:
    """Create database `name` at the newest schema and generate `rows` incidents in it; returns seconds."""
    from sqlalchemy import create_engine, text

    from incidents.db.engine import make_engine
    from incidents.db.migrations import upgrade

    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = database_url(server, name)
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        for statement in GENERATE[:3]:
            sql(connection, statement)
    for first in range(1, rows + 1, CHUNK):
        last = min(first + CHUNK - 1, rows)
        with engine.begin() as connection:
            for statement in GENERATE[3:]:
                sql(connection, statement.format(first=first, last=last, groups=GROUPS, places=PLACES))
        print(f"  generated {last:,} of {rows:,} incidents ({time.perf_counter() - started:.0f} s)", flush=True)
    with engine.begin() as connection:
        for table in ("actors", "locations", "incidents", "incident_actors"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    engine.dispose()
    return time.perf_counter() - started


def prepare(url: str) -> float:
    """The flat tables of the same rows, and fresh statistics on every table; returns seconds."""
    from sqlalchemy import create_engine

    started = time.perf_counter()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in FLAT:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def measure(url: str, repeat: int) -> dict[str, dict[str, Any]]:
    """Each routine and view alternated with its baseline `repeat` times; times and ratios (min, median)."""
    from incidents.analysis.filters import Filters
    from incidents.analysis.summaries import group_summary
    from incidents.analysis.timelines import timeline
    from incidents.db.engine import make_engine, session_factory

    engine = make_engine(url)
    results: dict[str, dict[str, Any]] = {}
    with session_factory(engine)() as session, engine.connect() as raw:
        def run(statements: list[str]) -> Callable[[], object]:
            return lambda: [sql(raw, statement).fetchall() for statement in statements]

        ours: dict[str, Callable[[], object]] = {
            "timeline": lambda: timeline(session, Filters(), freq="month", by="actor"),
            "summary": lambda: group_summary(session, Filters()),
            **{name: run(statements) for name, statements in VIEWS.items()},
        }
        for name, work in ours.items():
            baseline = run(BASELINES[name])
            baseline()  # warm the cache for both sides alike
            work()
            times, flats = [], []
            for _ in range(repeat):
                times.append(timed(work))
                flats.append(timed(baseline))
            ratios = [t / f for t, f in zip(times, flats, strict=True)]
            results[name] = {"s": round(min(times), 3), "flat_s": round(min(flats), 3),
                             "ratio_min": round(min(ratios), 2), "ratio_median": round(statistics.median(ratios), 2)}
            print(f"  {name}: {results[name]}", flush=True)
    engine.dispose()
    return results


def agreement(url: str) -> dict[str, bool]:
    """Whether the routines and the views give the figures the flat baselines give (the bench times like with
    like): per group incidents and killed, and the timeline's incidents and killed in all."""
    from incidents.analysis.filters import Filters
    from incidents.analysis.summaries import group_summary
    from incidents.analysis.timelines import timeline
    from incidents.db.engine import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as session, engine.connect() as raw:
        flat = {row[0]: (int(row[1]), int(row[2] or 0)) for row in sql(raw, (
            f"SELECT actor, COUNT(*), SUM(killed_best) FROM flat WHERE {COUNTED} GROUP BY actor")).fetchall()}
        view = {row[0]: (int(row[1]), int(row[2] or 0)) for row in sql(raw, (
            "SELECT actor, incidents, killed_best FROM group_summary")).fetchall()}
        summary = group_summary(session, Filters())
        routine = {row["group"]: (int(row["incidents"]), int(row["killed_best"] or 0))
                   for row in summary.to_dict("records")}
        frame = timeline(session, Filters(), freq="month", by="actor")
        dated = sql(raw, f"SELECT COUNT(*), SUM(killed_best) FROM flat WHERE {COUNTED} "
                         "AND date_precision IN ('day', 'month')").fetchone()
        totals = (int(frame["incidents"].sum()), int(frame["killed_best"].sum()))
    engine.dispose()
    return {"group_summary view": view == flat, "summary": routine == flat,
            "timeline": totals == (int(dated[0]), int(dated[1] or 0))}


PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)")
COMMANDS = {
    "timeline": ["timeline", "--freq", "month", "--by", "actor", "--json"],
    "summary": ["summary", "--json"],
    "export groups": ["export", "groups", "--out", "{temp}/groups.csv"],
    "export tables": ["export", "tables", "--out", "{temp}/tables"],
}
# Past one machine: the group summary's counts and tolls from the Parquet tables, in DuckDB.
DUCKDB_GROUPS = """
    SELECT a.name, COUNT(DISTINCT i.id), SUM(i.killed_best), SUM(i.killed_low), SUM(i.killed_high)
    FROM '{d}/incident_actors.parquet' ia
    JOIN '{d}/incidents.parquet' i ON i.id = ia.incident_id
    JOIN '{d}/actors.parquet' a ON a.id = ia.actor_id
    WHERE ia.role = 'perpetrator' AND (ia.attribution IS NULL OR ia.attribution <> 'denied')
    GROUP BY a.name
"""


def parquet_figures(temp: str) -> dict[str, Any]:
    """The size of the Parquet tables `export tables` wrote, and DuckDB's time for the group summary over them."""
    import duckdb

    folder = Path(temp) / "tables"
    size = sum(path.stat().st_size for path in folder.glob("*.parquet"))
    connection = duckdb.connect()
    seconds = min(timed(lambda: connection.execute(DUCKDB_GROUPS.format(d=folder)).fetchall()) for _ in range(3))
    return {"parquet_mb": round(size / 2**20), "duckdb_groups_s": round(seconds, 3)}


def peaks(url: str, temp: str) -> dict[str, int]:
    """Each CLI command's peak resident set, in MB, run as a child process."""
    found = {}
    for name, arguments in COMMANDS.items():
        command = [sys.executable, "-c", "from incidents.cli import main; main()", "--db", url,
                   *(a.format(temp=temp) for a in arguments)]
        output = subprocess.run([sys.executable, "-c", PEAK, *command], check=True, capture_output=True, text=True,
                                cwd=ROOT).stdout
        found[name] = int(output.strip().splitlines()[-1])
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--server", default=DEFAULT_SERVER)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards (for --reuse).")
    parser.add_argument("--reuse", action="store_true", help="Time the database a --keep run left.")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    import tempfile

    from sqlalchemy import create_engine, text

    name = f"incidents_scale_{args.rows}"
    url = database_url(args.server, name)
    result: dict[str, Any] = {"incidents": args.rows}
    try:
        if not args.reuse:
            result["generate_s"] = round(build(args.server, name, args.rows), 1)
            print(f"generated {args.rows:,} incidents in {result['generate_s']} s", flush=True)
        result["flat_s"] = round(prepare(url), 1)
        result["same_figures"] = agreement(url)
        result["times"] = measure(url, args.repeat)
        with tempfile.TemporaryDirectory() as temp:
            started = time.perf_counter()
            result["peak_mb"] = peaks(url, temp)
            result["commands_s"] = round(time.perf_counter() - started, 1)
            result["parquet"] = parquet_figures(temp)
        engine = create_engine(url)
        with engine.connect() as connection:
            result["database_mb"] = round(connection.execute(
                text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20)
        engine.dispose()
    finally:
        if not args.keep:
            admin = create_engine(args.server, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    result["targets"] = {"ratio": 1.5, "peak_mb": 500}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
