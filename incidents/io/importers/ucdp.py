"""UCDP GED, the Uppsala Conflict Data Program's Georeferenced Event Dataset (CSV, as UCDP and HDX ship it).

Roles follow type_of_violence (docs/formats.md):
- 3 one-sided violence: side_a is the perpetrator (attributed), side_b (Civilians) the target;
  deaths_a -> perpetrators killed.
- 1 state-based and 2 non-state conflict: a fight between two sides, so both are parties, not perpetrators;
  per-group summaries count perpetrators unless asked to count parties.
Dates: date_start/date_end ('2018-07-13 00:00:00.000'); date_prec 1-3 -> day, 4 -> month, 5 -> year.
Place: where_prec 1 exact, 2 place, 3 district, 4-5 province, 6-7 country; adm_1/adm_2 lose their
' province'/' district' suffix; where_coordinates is the place. best/low/high -> the dataset report's killed
and range. source_article ('"Office,YYYY-MM-DD,Headline";...') -> one source per entry.
"""

from __future__ import annotations

import csv
import re

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

NAME = "ucdp"
ENCODINGS = ["utf-8"]
MAPPED_COLUMNS: frozenset[str] = frozenset()
REQUIRED = ["id", "type_of_violence", "side_a", "side_b", "date_start", "best"]
VIOLENCE = {"1": "State-based violence", "2": "Non-state violence", "3": "One-sided violence"}
DATE_PRECISION = {"1": DatePrecision.DAY, "2": DatePrecision.DAY, "3": DatePrecision.DAY,
                  "4": DatePrecision.MONTH, "5": DatePrecision.YEAR}
GEO_PRECISION = {"1": GeoPrecision.EXACT, "2": GeoPrecision.PLACE, "3": GeoPrecision.DISTRICT,
                 "4": GeoPrecision.PROVINCE, "5": GeoPrecision.PROVINCE, "6": GeoPrecision.COUNTRY,
                 "7": GeoPrecision.COUNTRY}
_SUFFIX = re.compile(r"\s+(province|district|town|village)$", re.IGNORECASE)


def detect(header: list[str]) -> bool:
    return {"id", "side_a", "side_b", "best", "type_of_violence"} <= set(header)


def check_header(header: list[str]) -> list[str]:
    return missing_columns(header, REQUIRED)



def _place_name(value: str | None) -> str | None:
    return _SUFFIX.sub("", value).strip() or None if value else None


def _day(value: str | None, column: str) -> tuple[object, DatePrecision] | None:
    text = (value or "").strip()
    if not text:
        return None
    return parse_partial_date(text[:10], column)


def article_sources(row: dict[str, str]) -> list[SourceRecord]:
    """source_article holds every source: '"Office,YYYY-MM-DD,Headline";"..."'. Unparsable entries stay citations."""
    cell = text(row, "source_article")
    if not cell:
        return []
    entries = next(csv.reader([cell.replace("\n", " ")], delimiter=";", quotechar='"', skipinitialspace=True), [])
    sources = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        source = SourceRecord(citation=entry)
        parts = entry.split(",", 2)
        if len(parts) == 3:
            try:
                published, _ = parse_partial_date(parts[1].strip(), "source_article")
                source.outlet, source.published_on, source.title = parts[0].strip(), published, parts[2].strip()
            except FieldError:
                pass
        sources.append(source)
    return sources


class Mapper(DatasetMapper):
    identity_column = "id"

    def to_record(self, values: list[str], line: int) -> IncidentRecord:
        row = self.row(values)
        origin_id = self.origin_id(row)
        started = _day(row.get("date_start"), "date_start")
        if started is None:
            raise FieldError("date_start", row.get("date_start"), "is blank")
        date_start = started[0]
        ended = _day(row.get("date_end"), "date_end")
        date_end = ended[0] if ended else None
        precision_code = (row.get("date_prec") or "1").strip()
        precision = DATE_PRECISION.get(precision_code)
        if precision is None:
            raise FieldError("date_prec", precision_code, "is not a UCDP date precision (1-5)")
        if precision is DatePrecision.MONTH:
            date_start = date_start.replace(day=1)  # type: ignore[attr-defined]
        elif precision is DatePrecision.YEAR:
            date_start = date_start.replace(month=1, day=1)  # type: ignore[attr-defined]
        if date_end is not None and date_end < date_start:  # type: ignore[operator]
            raise FieldError("date_end", row.get("date_end"), f"is before date_start {row.get('date_start')}")
        violence = (row.get("type_of_violence") or "").strip()
        if violence not in VIOLENCE:
            raise FieldError("type_of_violence", violence, "is not 1, 2 or 3")
        best = parse_count(row.get("best"), "best")
        low = parse_count(row.get("low"), "low")
        high = parse_count(row.get("high"), "high")
        quirks = []
        # UCDP's own files hold a few events whose high is below best (best 13, high 12); the row is UCDP's
        # word, so it is kept as stated in the raw row and the range is widened to include best, with a note.
        if best is not None and low is not None and low > best:
            quirks.append(f"UCDP's low ({low}) is above its best ({best}); the range uses best")
            low = best
        if best is not None and high is not None and high < best:
            quirks.append(f"UCDP's high ({high}) is below its best ({best}); the range uses best")
            high = best
        if low is not None and high is not None and low > high:
            raise FieldError("low", low, f"is above high {high}")
        country_text = text(row, "iso3") or text(row, "country") or self.default_country
        if not country_text:
            raise FieldError("country", "", "is blank")
        latitude, longitude = coordinates(row)
        location = LocationRecord(
            country=country_code(country_text), admin1=_place_name(text(row, "adm_1")),
            admin2=_place_name(text(row, "adm_2")), place=_place_name(text(row, "where_coordinates")),
            latitude=latitude, longitude=longitude,
            geo_precision=GEO_PRECISION.get((row.get("where_prec") or "").strip()),
        )
        dataset_source = SourceRecord(
            kind="dataset_record", dataset="ucdp", dataset_record_id=origin_id,
            citation=f"UCDP Georeferenced Event Dataset, event {origin_id}", outlet="UCDP GED",
        )
        side_a, side_b = text(row, "side_a"), text(row, "side_b")
        links = []
        perpetrators_killed = None
        if violence == "3":
            if side_a:
                links.append(ActorLink(side_a, Role.PERPETRATOR, Attribution.ATTRIBUTED, dataset_source, "side_a"))
            if side_b:
                links.append(ActorLink(side_b, Role.TARGET, None, dataset_source, "side_b"))
            perpetrators_killed = parse_count(row.get("deaths_a"), "deaths_a")
        else:
            links += [ActorLink(side, Role.PARTY, None, dataset_source, column)
                      for side, column in ((side_a, "side_a"), (side_b, "side_b")) if side]
        deaths = {name: row.get(name, "").strip() for name in ("deaths_a", "deaths_b", "deaths_civilians",
                                                               "deaths_unknown") if row.get(name, "").strip()}
        for name, value in deaths.items():
            parse_count(value, name)  # validate; the values stay in the raw row
        reports = [ReportRecord(
            source=dataset_source, killed=best, killed_low=low, killed_high=high,
            perpetrators_killed=perpetrators_killed, perpetrator_stated=side_a if violence == "3" else None,
            attribution=Attribution.ATTRIBUTED if violence == "3" else None,
            note="; ".join(quirks + ([("deaths by side: " + ", ".join(f"{k} {v}" for k, v in deaths.items()))]
                                     if deaths else [])) or None,
        )]
        seen = {dataset_source.identity()}
        for source in article_sources(row):
            if source.identity() not in seen:
                seen.add(source.identity())
                reports.append(ReportRecord(source=source, excerpt=source.title))
        clear = (row.get("event_clarity") or "1").strip() == "1" and (row.get("code_status") or "Clear") == "Clear"
        return IncidentRecord(
            key=f"UCDP-{origin_id}", date_start=date_start, date_precision=precision,  # type: ignore[arg-type]
            date_end=date_end if date_end != date_start else None,  # type: ignore[arg-type]
            title=text(row, "dyad_name"), location=location, attack_type=VIOLENCE[violence],
            status=Status.CONFIRMED if clear else Status.PROVISIONAL, origin_dataset="ucdp", origin_id=origin_id,
            actors=links, reports=reports,
        )
