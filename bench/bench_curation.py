"""How long the curation commands take on a large database, each in its own process (wall time and peak memory):

- `add`, which first searches for the incident the record may be (same source; overlapping dates at the same
  district) and for a near citation among every stored one;
- `report add` of a citation (the same search for a near citation);
- `duplicates`, whose pass over month- and year-dated records (10% of the generated ones) is timed apart;
- `delete` and `restore` of one incident, and `list` with the withdrawn one left out.

Half the generated incidents cite their source by a citation rather than a URL, so the near-citation search
has as many citations to compare as a GTD- or UCDP-sized database would give it.

    python bench/bench_curation.py [--rows N]        # default 100,000; prints a table and a JSON line
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import write  # noqa: E402

RUN = """
import json, resource, sys, time
from incidents.cli import cli
started = time.perf_counter()
try:
    code = cli.main(args=sys.argv[1:], prog_name="incidents", standalone_mode=False) or 0
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(args: list[str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=False)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def coarse_share(database: Path) -> tuple[float, float]:
    """(seconds for the whole duplicate search, seconds for its pass over month- and year-dated records)."""
    from incidents.curation import duplicates
    from incidents.db.engine import make_engine, session_factory
    from incidents.models import Incident

    engine = make_engine(f"sqlite:///{database}")
    with session_factory(engine)() as session:
        started = time.perf_counter()
        duplicates.candidate_pairs(session, days=3, km=50.0, limit=None)
        whole = time.perf_counter() - started
        started = time.perf_counter()
        frame = duplicates._located(session, Incident.date_precision == "day")
        duplicates._coarse_pairs(session, frame, 50.0, set())
        coarse = time.perf_counter() - started
    engine.dispose()
    return whole, coarse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    folder = Path(tempfile.mkdtemp(prefix="bench-curation-"))
    generated, data = folder / "generated.csv", folder / "incidents.csv"
    write(generated, rows)
    with generated.open(encoding="utf-8", newline="") as source, data.open("w", encoding="utf-8", newline="") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        for number, row in enumerate(reader):
            if number % 2:  # a citation instead of a URL: "Bench Wire, 1999-01-02, synthetic report 17"
                row["source_citation"] = f"Bench Wire, {row['source_published']}, synthetic report {number}"
                row["source_url"] = ""
                if number == 1:
                    near = row["source_citation"].replace("report", "reports")  # a slip: refused, naming it
            writer.writerow(row)
    with data.open(encoding="utf-8", newline="") as handle:
        first = next(csv.DictReader(handle))
    database = folder / "incidents.db"
    db = ["--db", str(database)]
    for step in (["init", "--empty-registry"], ["import", str(data)]):
        assert run([*db, *step])["code"] == 0, step
    cases = {
        "add (searches first; a new place)": [*db, "add", "--date", "12 March 2001", "--country", "PAK",
                                              "--admin2", "Bench District Nowhere", "--killed", "at least 3",
                                              "--citation", "Bench Wire, 2001-03-13, a synthetic report not stored"],
        "add (stops at a likely match)": [*db, "add", "--date", first["date"][:4], "--country", "PAK", "--admin2",
                                          first["admin2"], "--citation", "Bench Wire, a second synthetic report"],
        "report add (a near citation: refused)": [*db, "report", "add", "BENCH-0000000", "--citation", near],
        "duplicates --days 3 --km 50": [*db, "duplicates", "--days", "3", "--km", "50", "--json"],
        "delete": [*db, "delete", "BENCH-0000002", "--why", "benchmark"],
        "list --limit 10 (one withdrawn)": [*db, "list", "--limit", "10", "--json"],
        "restore": [*db, "restore", "BENCH-0000002"],
    }
    results = {name: run(args) for name, args in cases.items()}
    whole, coarse = coarse_share(database)
    print(f"{rows:,} incidents ({rows // 2:,} cited by a citation); each command in its own process")
    print(f"{'command':45} {'exit':>4} {'seconds':>8} {'peak MB':>8}")
    for name, result in results.items():
        print(f"{name:45} {result['code']:>4} {result['seconds']:>8.2f} {result['peak_mb']:>8.0f}")
    print(f"duplicate search in-process: {whole:.2f} s, of which the month/year-dated pass {coarse:.2f} s")
    print(json.dumps({"rows": rows, "commands": results, "duplicates_seconds": whole,
                      "coarse_pass_seconds": coarse,
                      "bench_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
