"""ACLED's deletion lists: the events ACLED has removed from its data, as its Deletions API gives them (acledR's
`acled_deletions_api`: columns event_id_cnty and deleted_timestamp, a Unix time or a yyyy-mm-dd date).

Importing one withdraws each listed event that is stored (kept with its history, out of every count; `incidents
restore KEY` brings one back), in one transaction: a bad row means nothing is withdrawn.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from incidents.errors import FieldError
from incidents.io.importers.common import missing_columns

NAME = "acled-deletions"
ENCODINGS = ["utf-8"]
DATASET = "acled"
REQUIRED = ["event_id_cnty", "deleted_timestamp"]
EARLIEST = datetime(1997, 1, 1, tzinfo=UTC)  # ACLED's data begin in 1997


def detect(header: list[str]) -> bool:
    return set(REQUIRED) <= set(header) and "actor1" not in header


def check_header(header: list[str]) -> list[str]:
    return missing_columns(header, REQUIRED)


def read(row: dict[str, str]) -> tuple[str, datetime]:
    """(event id, when ACLED deleted it) of one row; FieldError names the column that is wrong."""
    event_id = (row.get("event_id_cnty") or "").strip()
    if not event_id:
        raise FieldError("event_id_cnty", "", "is blank")
    if len(event_id) > 100:
        raise FieldError("event_id_cnty", event_id, "is longer than 100 characters")
    stamp = (row.get("deleted_timestamp") or "").strip()
    try:
        if stamp.isascii() and stamp.replace(".", "", 1).isdigit():  # a Unix time; pandas writes 1733011200.0
            when = datetime.fromtimestamp(float(stamp), UTC)
        elif stamp.isascii() and len(stamp) == 10:
            when = datetime.combine(date.fromisoformat(stamp), datetime.min.time(), UTC)
        elif stamp.isascii():  # a date and time: '2024-12-01 10:00:00', with or without a zone
            parsed = datetime.fromisoformat(stamp)
            when = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        else:
            raise ValueError(stamp)
    except (ValueError, OverflowError, OSError):
        raise FieldError("deleted_timestamp", stamp,
                         "is not a Unix time (1700000000), a date (2025-11-30) or a date and time "
                         "(2025-11-30 10:00:00)") from None
    if when < EARLIEST or when > datetime.now(UTC) + timedelta(days=1):  # a day's grace for clocks and zones
        raise FieldError("deleted_timestamp", stamp, f"is {when:%Y-%m-%d}: before ACLED's data begin, or in the future")
    return event_id, when
