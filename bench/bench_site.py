"""What `incidents site` costs, measured in one run: the build time, its peak memory and the largest page, for a
database of about the size of UCDP's whole Pakistan export (6,400 incidents) and for four times and (with
--large) sixteen times as many, so that linearity shows as time per incident.

The databases are generated (bench/generate.py: synthetic, never facts), imported with `incidents import`, and
the site is written by the command in a child process whose peak memory is read back.

    python bench/bench_site.py [--sizes 6400,25600] [--large]    # a table, then a JSON line
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import write  # noqa: E402

RUN = "import sys; from incidents.cli import main; sys.argv = ['incidents', *sys.argv[1:]]; main()"
INCIDENTS = [sys.executable, "-c", RUN]


def run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([*INCIDENTS, *args], check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="6400,25600", help="incident counts, comma-separated")
    parser.add_argument("--large", action="store_true", help="also 102,400 incidents (a few minutes)")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")] + ([102_400] if options.large else [])
    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            csv_path, database = Path(folder) / f"bench-{size}.csv", Path(folder) / f"bench-{size}.db"
            write(csv_path, size)
            run(["--db", str(database), "init"])
            run(["--db", str(database), "import", str(csv_path)])
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            site = Path(folder) / f"site-{size}"
            seconds = run(["--db", str(database), "site", "--out", str(site)])
            peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
            pages = list(site.rglob("*.html"))
            largest = max(pages, key=lambda page: page.stat().st_size)
            figures[str(size)] = {
                "seconds": round(seconds, 2), "ms_per_incident": round(1000 * seconds / size, 3),
                "pages": len(pages), "largest_page_kb": round(largest.stat().st_size / 1024, 1),
                "largest_page": str(largest.relative_to(site)), "peak_mb": round(peak_mb, 1),
            }
            print(f"{size:>8,} incidents: {seconds:7.2f} s ({1000 * seconds / size:.2f} ms each), {len(pages):,} "
                  f"pages, largest {figures[str(size)]['largest_page_kb']} KB ({largest.relative_to(site)}), "
                  f"peak {peak_mb:.0f} MB (the largest child so far)")
    first, last = str(sizes[0]), str(sizes[-1])
    figures["linearity"] = {"ms_per_incident_ratio_last_to_first": round(
        figures[last]["ms_per_incident"] / figures[first]["ms_per_incident"], 2)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
