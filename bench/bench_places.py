"""What the places work costs, measured in one run (machines here are noisy; compare the ratios):

- the gazetteer's first load (towns, world points, country outlines), in a fresh process;
- normalise() per location, as every import and edit calls it once per distinct location: with a province
  named (the usual case: dictionary lookups) and without one (reverse geocoding: outline and nearest town);
- an import of a generated file of N rows with every location's province named, and the same file with the
  provinces blanked, so that each row's province comes from its point, against the plain import;
- `list --near Quetta --km 50` and `export incidents --format geojson` on that database.

    python bench/bench_places.py [--rows N]        # default 100,000; prints a table and a JSON line
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import write  # noqa: E402

RUN = "import sys; from incidents.cli import main; sys.argv = ['incidents', *sys.argv[1:]]; main()"
INCIDENTS = [sys.executable, "-c", RUN]


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    figures: dict[str, float] = {}
    figures["gazetteer_first_load_s"] = timed([sys.executable, "-c", (
        "from incidents.gazetteer import nearest, resolve_place; nearest(30.2, 67.0); resolve_place('Khar')")])

    from incidents import gazetteer

    rng = random.Random(7)
    points = [(rng.uniform(24.0, 36.5), rng.uniform(61.0, 75.0)) for _ in range(20_000)]
    gazetteer.nearest(30.0, 67.0)  # loaded
    start = time.perf_counter()
    for lat, lon in points:
        gazetteer.normalise("PAK", "Balochistan", "Quetta district", "Quetta", lat, lon, "place")
    figures["normalise_named_us"] = (time.perf_counter() - start) / len(points) * 1e6
    start = time.perf_counter()
    for lat, lon in points:
        gazetteer.normalise("PAK", None, None, None, lat, lon, "place")
    figures["normalise_from_point_us"] = (time.perf_counter() - start) / len(points) * 1e6

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        named = base / "named.csv"
        write(named, rows)
        blank = base / "blank.csv"
        with named.open(encoding="utf-8", newline="") as source, blank.open("w", encoding="utf-8", newline="") as out:
            reader = csv.DictReader(source)
            writer = csv.DictWriter(out, reader.fieldnames or [])
            writer.writeheader()
            for row in reader:
                row["admin1"] = ""
                writer.writerow(row)
        for name, path in (("import_named_s", named), ("import_from_points_s", blank)):
            database = base / f"{name}.db"
            timed([*INCIDENTS, "--db", str(database), "init", "--empty-registry"])
            figures[name] = timed([*INCIDENTS, "--db", str(database), "import", str(path)])
        database = base / "import_named_s.db"
        figures["list_near_s"] = timed([*INCIDENTS, "--db", str(database), "list", "--near", "Quetta", "--km", "50",
                                        "--limit", "5"])
        figures["export_geojson_s"] = timed([*INCIDENTS, "--db", str(database), "export", "incidents",
                                             "--out", str(base / "all.geojson")])
    figures["from_points_vs_named"] = figures["import_from_points_s"] / figures["import_named_s"]
    width = max(map(len, figures))
    for name, value in figures.items():
        print(f"{name:<{width}}  {value:10.3f}")
    print(json.dumps({"rows": rows, **{k: round(v, 3) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
