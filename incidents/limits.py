"""Every bound on what one command may read or build, so that no input and no question can exhaust memory.

Each is refused with a clear one-line error that names the bound; the environment variable INCIDENTS_MAX_<NAME>
raises (or lowers) it for one run, e.g. `INCIDENTS_MAX_TIMELINE_ROWS=2000000 incidents timeline ...`.
docs/guarantees.md lists them.
"""

from __future__ import annotations

import os

DEFAULTS = {
    # Long free-text fields (GTD summaries, UCDP source lists) exceed csv's 128 KiB default; a field of more than
    # 10 MB is no summary but a damaged file (a 261 KB .csv.gz of one endless line grew past 9 GB in memory).
    "FIELD_BYTES": 10_000_000,
    "COLUMNS": 2_000,  # GTD has 135 columns, ACLED 31, UCDP 49
    # A workbook's parts other than its sheets (its shared strings above all), unpacked: openpyxl holds them, at
    # about seven times this size (195 MB of short strings took 1.46 GB). A bigger workbook imports as CSV.
    "XLSX_STRINGS_BYTES": 40_000_000,
    "JSON_DEPTH": 20,  # a native report, actor link or raw row nests three or four levels
    "FULL_TEXT_BYTES": 10_000_000,  # an article's text in a fixture; a bigger file is not one
    "ARTICLE_CHARS": 500_000,  # the text `extract` reads: a book-length report is longer than any news article
    # A zero-filled timeline longer than this is a mistake, not a chart (a day timeline per province over 30
    # years is 200,000 rows); half a million rows with rolling and cumulative sums take about 250 MB.
    "TIMELINE_ROWS": 500_000,
    # Candidate pairs `duplicates` may find (about 1 KB each once scored and written out: 200,000 pairs take about
    # 300 MB); it may compare 50 times as many pairs of records while it looks for them.
    "CANDIDATE_PAIRS": 200_000,
}


def limit(name: str) -> int:
    """The bound NAME (a key of DEFAULTS): INCIDENTS_MAX_<NAME> when it is a positive whole number, else the default."""
    value = os.environ.get(f"INCIDENTS_MAX_{name}", "").strip().replace("_", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULTS[name]


def override(name: str) -> str:
    """How the bound NAME is raised, for the end of its error message."""
    return f"INCIDENTS_MAX_{name} raises the bound"
