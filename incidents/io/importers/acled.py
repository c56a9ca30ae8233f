"""ACLED, the Armed Conflict Location & Event Data project: its CSV export (31 columns in current exports).

Mapping (docs/formats.md):
- event_id_cnty -> origin id; event_date (2023-07-30, 30 July 2023 or 30-July-2023) with time_precision
  1 -> day, 2 (within a week) -> day, 3 (within a month) -> month.
- actor1 and each ';'-separated assoc_actor_1 -> perpetrators (attributed); actor2 and assoc_actor_2 -> targets.
- admin1 -> province, admin2 -> district, location -> place, latitude/longitude; geo_precision 1 -> place,
  2 -> district, 3 -> province.
- fatalities -> the dataset report's killed (ACLED's single, conservative figure).
- sub_event_type -> attack type ('Suicide bomb' sets suicide); notes -> summary; source and source_scale
  are noted on the dataset report (ACLED names outlets, not articles); timestamp dates the report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from incidents.errors import FieldError
from incidents.io.importers.common import DatasetMapper, coordinates, missing_columns, text
from incidents.models import Attribution, DatePrecision, GeoPrecision, Role, Status
from incidents.records import (
    ActorLink,
    IncidentRecord,
    LocationRecord,
    ReportRecord,
    SourceRecord,
    country_code,
    parse_count,
    parse_partial_date,
)

NAME = "acled"
ENCODINGS = ["utf-8"]
MAPPED_COLUMNS: frozenset[str] = frozenset()
REQUIRED = ["event_id_cnty", "event_date", "actor1", "fatalities"]
TIME_PRECISION = {"1": DatePrecision.DAY, "2": DatePrecision.DAY, "3": DatePrecision.MONTH}
GEO_PRECISION = {"1": GeoPrecision.PLACE, "2": GeoPrecision.DISTRICT, "3": GeoPrecision.PROVINCE}


def detect(header: list[str]) -> bool:
    return {"event_id_cnty", "actor1", "fatalities"} <= set(header)


def check_header(header: list[str]) -> list[str]:
    problems = missing_columns(header, REQUIRED)
    if not {"country", "iso"} & set(header):
        problems.append("missing a country column: country or iso")
    return problems



def acled_date(value: str | None) -> date:
    text = (value or "").strip()
    for pattern in ("%d %B %Y", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        day, precision = parse_partial_date(text, "event_date")
    except FieldError:
        raise FieldError("event_date", value, "is not a date (2023-07-30 or 30 July 2023)") from None
    if precision is not DatePrecision.DAY:
        raise FieldError("event_date", value, "needs a day")
    return day


class Mapper(DatasetMapper):
    identity_column = "event_id_cnty"

    def to_record(self, values: list[str], line: int) -> IncidentRecord:
        row = self.row(values)
        origin_id = self.origin_id(row)
        day = acled_date(row.get("event_date"))
        precision_code = (row.get("time_precision") or "1").strip()
        precision = TIME_PRECISION.get(precision_code)
        if precision is None:
            raise FieldError("time_precision", precision_code, "is not 1, 2 or 3")
        if precision is DatePrecision.MONTH:
            day = day.replace(day=1)
        country_text = text(row, "country") or text(row, "iso") or self.default_country
        if not country_text:
            raise FieldError("country", "", "is blank")
        latitude, longitude = coordinates(row)
        location = LocationRecord(
            country=country_code(country_text), admin1=text(row, "admin1"), admin2=text(row, "admin2"),
            place=text(row, "location"), latitude=latitude, longitude=longitude,
            geo_precision=GEO_PRECISION.get((row.get("geo_precision") or "").strip()),
        )
        stamp = text(row, "timestamp")
        published = None
        if stamp:
            try:
                published = datetime.fromtimestamp(int(float(stamp)), UTC).date()
            except (ValueError, OverflowError, OSError):
                raise FieldError("timestamp", stamp, "is not Unix seconds") from None
        dataset_source = SourceRecord(
            kind="dataset_record", dataset="acled", dataset_record_id=origin_id, published_on=published,
            citation=f"ACLED event {origin_id}", outlet="ACLED",
        )
        links = []
        for column, role, attribution in (("actor1", Role.PERPETRATOR, Attribution.ATTRIBUTED),
                                          ("assoc_actor_1", Role.PERPETRATOR, Attribution.ATTRIBUTED),
                                          ("actor2", Role.TARGET, None), ("assoc_actor_2", Role.TARGET, None)):
            for name in (text(row, column) or "").split(";"):
                if name.strip():
                    links.append(ActorLink(name.strip(), role, attribution, dataset_source, column))
        outlets = "; ".join(x for x in (text(row, "source"), text(row, "source_scale")) if x)
        sub_type = text(row, "sub_event_type")
        return IncidentRecord(
            key=f"ACLED-{origin_id}", date_start=day, date_precision=precision, location=location,
            attack_type=sub_type or text(row, "event_type"),
            suicide=True if sub_type == "Suicide bomb" else None, summary=text(row, "notes"),
            status=Status.CONFIRMED, origin_dataset="acled", origin_id=origin_id, actors=links,
            reports=[ReportRecord(
                source=dataset_source, killed=parse_count(row.get("fatalities"), "fatalities"),
                perpetrator_stated=text(row, "actor1"), attribution=Attribution.ATTRIBUTED,
                note=f"ACLED sources: {outlets}" if outlets else None,
            )],
        )
