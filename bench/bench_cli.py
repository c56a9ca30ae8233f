"""How fast the command line answers --help (target: 0.3 s), and what it imports to do so.

Each case runs `incidents ...` in a fresh interpreter N times; the figure is the best run (the machine's noise
only ever adds). The last line is JSON.

    python bench/bench_cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CASES = [["--help"], ["import", "--help"], ["actors", "add", "--help"], ["help", "export"], ["--version"]]
HEAVY = ["pandas", "sqlalchemy", "matplotlib", "rich", "alembic", "openpyxl"]
TARGET_S = 0.3
RUN = "import sys; from incidents.cli import main; sys.argv = ['incidents', *sys.argv[1:]]; main()"
LOADED = ("import sys, json\nfrom incidents.cli import main\nsys.argv = ['incidents', '--help']\n"
          "try:\n    main()\nexcept SystemExit:\n    pass\n"
          f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))), file=sys.stderr)")


def best_of(runs: int, args: list[str]) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", RUN, *args], check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    interpreter = float("inf")
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        interpreter = min(interpreter, time.perf_counter() - started)
    figures = {" ".join(case): round(best_of(args.runs, case), 3) for case in CASES}
    loaded = json.loads(subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True,
                                       check=True).stderr.strip().splitlines()[-1])
    for case, seconds in figures.items():
        print(f"incidents {case}: {seconds:.3f} s (best of {args.runs})")
    print(f"a bare interpreter: {interpreter:.3f} s; heavy modules loaded by --help: {loaded or 'none'}")
    print(json.dumps({"seconds": figures, "interpreter_s": round(interpreter, 3), "heavy_modules": loaded,
                      "target_s": TARGET_S, "met": max(figures.values()) <= TARGET_S}))


if __name__ == "__main__":
    main()
