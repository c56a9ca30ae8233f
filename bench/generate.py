"""Write a synthetic native-format CSV for benchmarks: N incidents, ~400 groups, 60 provinces, thousands of places.

Values are random and clearly synthetic (groups 'Bench Group 017', URLs under example.org); they are
benchmark load, not facts, and never go into fixtures/.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

from incidents.io.importers.native import NATIVE_COLUMNS

ATTRIBUTIONS = ["claimed", "attributed", "suspected"]
ATTACKS = ["Bombing/Explosion", "Armed Assault", "Assassination", "Kidnapping", "Facility/Infrastructure Attack"]


def write(path: Path, rows: int, seed: int = 7, first: int = 0) -> None:
    """`rows` incidents keyed BENCH-<first> onwards."""
    rng = random.Random(seed)
    groups = [f"Bench Group {n:03d}" for n in range(400)]
    provinces = [f"Province {n:02d}" for n in range(60)]
    places = [(rng.choice(provinces), f"District {n % 700:03d}", f"Place {n:04d}",
               round(rng.uniform(24, 37), 4), round(rng.uniform(61, 77), 4)) for n in range(5000)]
    start = date(1990, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=NATIVE_COLUMNS)
        writer.writeheader()
        for n in range(first, first + rows):
            day = start + timedelta(days=rng.randrange(12_000))
            province, district, place, lat, lon = rng.choice(places)
            precision = rng.random()
            if precision < 0.9:
                date_text = day.isoformat()
            else:
                date_text = day.strftime("%Y-%m") if precision < 0.97 else str(day.year)
            killed = rng.choice([None, 0, 1, 2, 3, 5, 8, 13, 21])
            writer.writerow({
                "key": f"BENCH-{n:07d}", "title": f"Synthetic incident {n}", "date": date_text,
                "country": "PAK", "admin1": province, "admin2": district, "place": place,
                "latitude": lat, "longitude": lon, "geo_precision": "place",
                "attack_type": rng.choice(ATTACKS), "status": "confirmed",
                "perpetrators": f"{rng.choice(groups)}={rng.choice(ATTRIBUTIONS)}",
                "killed_best": killed, "wounded_best": rng.choice([None, 0, 1, 4, 10]),
                "source_url": f"https://example.org/bench/{n}", "source_outlet": "Bench Wire",
                "source_published": (day + timedelta(days=1)).isoformat(),
            })


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    write(args.path, args.rows)
