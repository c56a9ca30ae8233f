"""GTD, the Global Terrorism Database (START): full 135-column exports and the column subsets derived copies keep.

Mapping (docs/formats.md lists it in full):
- eventid -> origin id; a file without eventid keys each row by its content, identical rows numbered in order.
- iyear/imonth/iday: imonth 0 -> year precision, iday 0 -> month precision; approxdate stays in the raw row;
  extended = 1 with a resolution date -> date_end.
- gname, gname2, gname3 -> perpetrators: claimed (claimed/claim2/claim3 = 1), else suspected
  (guncertainN = 1), else attributed. gsubname is noted on the report.
- nkill -> killed (GTD counts perpetrators in it), nwound -> wounded, nkillter -> perpetrators killed;
  -9, -99 and blanks are unknown (NULL), never 0.
- country_txt (or country code), provstate, city, latitude/longitude; specificity -> geo precision.
- attacktype1_txt, targtype1_txt, weaptype1_txt, suicide, summary; doubtterr = 1 -> status disputed.
- The row itself is a source (dataset gtd, record eventid) whose report carries GTD's figures;
  scite1-3 become sources of their own.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import date, datetime

from incidents.errors import FieldError, UsageError, option
from incidents.gazetteer import COAST_KM, nearest
from incidents.io.importers.common import DatasetMapper, missing_columns, text
from incidents.models import Attribution, DatePrecision, GeoPrecision, Role, Status
from incidents.records import (
    MAX_COUNT,
    ActorLink,
    IncidentRecord,
    LocationRecord,
    ReportRecord,
    SourceRecord,
    country_code,
    parse_coordinate,
)

NAME = "gtd"
# GTD's CSV is Windows-1252/latin-1 (its own files and the code that reads them say so); UTF-8 copies exist too.
ENCODINGS = ["utf-8", "cp1252", "latin-1"]
MAPPED_COLUMNS: frozenset[str] = frozenset()  # a dataset row is kept whole
REQUIRED = ["iyear", "imonth", "iday", "gname"]
UNKNOWN_CODES = {"-9", "-99", "-9.0", "-99.0"}
GEO_PRECISION = {"1": GeoPrecision.PLACE, "2": GeoPrecision.DISTRICT, "3": GeoPrecision.DISTRICT,
                 "4": GeoPrecision.PROVINCE, "5": GeoPrecision.COUNTRY}
NOT_A_PLACE = {"unknown", ""}
_SCITE = re.compile(r'^\s*"(?P<title>.+?),?"\s*,?\s*(?P<outlet>[^,]+?),\s*(?P<date>[A-Z][a-z]+ \d{1,2}, \d{4})\.?\s*$')


def detect(header: list[str]) -> bool:
    return "gname" in header and ("iyear" in header or "eventid" in header)


def check_header(header: list[str]) -> list[str]:
    return missing_columns(header, REQUIRED)


def gtd_count(value: str | None, column: str) -> int | None:
    """A GTD count: blank, -9 and -99 are unknown; '150.0' (as pandas writes) is 150; other negatives are errors."""
    if value is None:
        return None
    text = value.strip()
    if text == "" or text in UNKNOWN_CODES:
        return None
    try:
        number = float(text)
    except ValueError:
        raise FieldError(column, value, "is not a number") from None
    if not number.is_integer():
        raise FieldError(column, value, "is not a whole number")
    if number < 0:
        raise FieldError(column, value, "is negative (GTD's unknown codes are -9 and -99)")
    if number > MAX_COUNT:
        raise FieldError(column, value, f"is more than any count the database holds ({MAX_COUNT:,})")
    return int(number)


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip()
    if text in ("1", "1.0"):
        return True
    if text in ("0", "0.0"):
        return False
    return None  # blank, -9: unknown


def _whole(value: str | None, column: str) -> int:
    try:
        number = float((value or "").strip())
    except ValueError:
        raise FieldError(column, value, "is not a number") from None
    if not number.is_integer() or abs(number) > 99_999:  # inf, nan, 2015.5; a year, month or day is small
        raise FieldError(column, value, "is not a whole number in range")
    return int(number)


def gtd_date(row: dict[str, str]) -> tuple[date, DatePrecision]:
    year = _whole(row.get("iyear"), "iyear")
    month = _whole(row.get("imonth") or "0", "imonth")
    day = _whole(row.get("iday") or "0", "iday")
    if not 1 <= year <= 9999:
        raise FieldError("iyear", row.get("iyear"), "is not a year")
    if not 0 <= month <= 12:
        raise FieldError("imonth", row.get("imonth"), "is not a month (1-12, or 0 for unknown)")
    if month == 0:
        return date(year, 1, 1), DatePrecision.YEAR
    if day == 0:
        return date(year, month, 1), DatePrecision.MONTH
    try:
        return date(year, month, day), DatePrecision.DAY
    except ValueError:
        raise FieldError("iday", row.get("iday"), f"is not a day of {year}-{month:02d}") from None


def parse_loose_date(value: str | None, column: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S", "%B %d, %Y"):
        try:
            return datetime.strptime(text[:19] if "%H" in pattern else text, pattern).date()
        except ValueError:
            continue
    raise FieldError(column, value, "is not a date")


def citation_source(text: str) -> SourceRecord:
    """GTD's '"Title," Outlet, Month D, YYYY.' -> a source with title, outlet and date where they parse."""
    source = SourceRecord(citation=text.strip())
    match = _SCITE.match(text)
    if match:
        source.title = match.group("title").rstrip(",")
        source.outlet = match.group("outlet").strip()
        with contextlib.suppress(ValueError):
            source.published_on = datetime.strptime(match.group("date"), "%B %d, %Y").date()
    return source



class Mapper(DatasetMapper):
    identity_column = "eventid"

    def __init__(self, header: list[str], default_country: str | None = None) -> None:
        super().__init__(header, default_country)
        # A file with no country column (a GTD-derived copy) but coordinates: each row's country is the one whose
        # outline holds its point (incidents.gazetteer.nearest, offline). Without coordinates either, --country.
        self.country_from_point = (not default_country and "country_txt" not in header
                                   and "latitude" in header and "longitude" in header)
        if not default_country and "country_txt" not in header and not self.country_from_point:
            # Said once, before any row is read: otherwise every row would fail with the same words. GTD's own
            # `country` column holds GTD's numeric codes, which are not read as countries (see to_record).
            besides = " besides GTD's numeric country codes" if "country" in header else ""
            raise UsageError(f"the file has no country column (country_txt){besides} and no coordinates to tell "
                             f"it from; give its country with {option('country')} (for example PAK), and every "
                             "row is taken to be there")
        self.has_eventid = "eventid" in header
        notes = [] if self.has_eventid else [
            "the file has no eventid column: each row is keyed by its content, and identical rows (the "
            "attacks of a coordinated series) are kept apart, numbered in file order"]
        if self.country_from_point:
            notes.append("the file has no country column: each row's country is the one whose outline holds its "
                         "coordinates (Natural Earth 1:50m, offline; a point within a few km of a border may be "
                         "put across it)")
        self.note = "; ".join(notes) or None
        self.content_counts: dict[str, int] = {}

    def content_key(self, values: list[str]) -> str:
        digest = hashlib.blake2b("\x1f".join(values).encode(), digest_size=8).hexdigest()
        count = self.content_counts[digest] = self.content_counts.get(digest, 0) + 1
        return f"row-{digest}" + (f"-{count}" if count > 1 else "")

    def country_at(self, row: dict[str, str]) -> str:
        """The country (alpha-3) of the row's coordinates."""
        latitude = parse_coordinate(row.get("latitude"), "latitude", 90.0)
        longitude = parse_coordinate(row.get("longitude"), "longitude", 180.0)
        if latitude is None or longitude is None:
            blank = "latitude" if latitude is None else "longitude"
            raise FieldError(blank, row.get(blank) or "", "is blank, and the file has no country column: the "
                                                          "row's country cannot be told; give the import "
                                                          f"{option('country')}")
        found = nearest(latitude, longitude)
        if found is None:
            raise FieldError("latitude", f"{latitude}, {longitude}",
                             f"lies in no country's outline and within {COAST_KM} km of no town, and the file has "
                             f"no country column: give the import {option('country')}")
        return found[0]

    def to_record(self, values: list[str], line: int) -> IncidentRecord:
        row = self.row(values)
        origin_id = self.origin_id(row) if self.has_eventid else self.content_key(values)
        date_start, precision = gtd_date(row)
        date_end = None
        if _flag(row.get("extended")) and text(row, "resolution"):
            date_end = parse_loose_date(row.get("resolution"), "resolution")
        # GTD's own `country` column holds GTD's numeric codes (153 is Pakistan), which are not ISO 3166 numbers
        # (ISO's 092 is the British Virgin Islands, GTD's 92 India): only a name in that column is read.
        gtd_country = text(row, "country")
        country_text = (text(row, "country_txt") or (gtd_country if gtd_country and not gtd_country.isdigit() else None)
                        or self.default_country)
        if not country_text and self.country_from_point:
            country_text = self.country_at(row)
        if not country_text:
            raise FieldError("country_txt", "", "is blank and the file has no country name: give the import the "
                                                "file's country")
        try:
            country = country_code(country_text)
        except FieldError:
            raise FieldError("country_txt", country_text, "is not a country name or ISO 3166 code") from None
        latitude = parse_coordinate(row.get("latitude"), "latitude", 90.0)
        longitude = parse_coordinate(row.get("longitude"), "longitude", 180.0)
        if (latitude is None) != (longitude is None):
            latitude = longitude = None  # GTD leaves both blank when unknown; one alone is no position
        city = text(row, "city")
        location = LocationRecord(
            country=country, admin1=text(row, "provstate"),
            place=city if city and city.lower() not in NOT_A_PLACE else None,
            latitude=latitude, longitude=longitude,
            geo_precision=GEO_PRECISION.get((row.get("specificity") or "").strip().split(".")[0]),
        )
        killed = gtd_count(row.get("nkill"), "nkill")
        wounded = gtd_count(row.get("nwound"), "nwound")
        perpetrators_killed = gtd_count(row.get("nkillter"), "nkillter")
        if killed is not None and perpetrators_killed is not None and perpetrators_killed > killed:
            raise FieldError("nkillter", row.get("nkillter"), f"is more than nkill {killed} (nkill includes them)")
        dataset_source = SourceRecord(
            kind="dataset_record", dataset="gtd", dataset_record_id=origin_id,
            citation=f"Global Terrorism Database, event {origin_id}", outlet="START (GTD)",
        )
        links = []
        for number, (name_column, claim_column) in enumerate(
            (("gname", "claimed"), ("gname2", "claim2"), ("gname3", "claim3")), start=1
        ):
            name = text(row, name_column)
            if not name:
                continue
            if _flag(row.get(claim_column)):
                attribution = Attribution.CLAIMED
            elif _flag(row.get(f"guncertain{number}")):
                attribution = Attribution.SUSPECTED
            else:
                attribution = Attribution.ATTRIBUTED
            links.append(ActorLink(name=name, role=Role.PERPETRATOR, attribution=attribution, source=dataset_source,
                                   column=name_column))
        stated = text(row, "gname")
        if stated and text(row, "gsubname"):
            stated = f"{stated} ({text(row, 'gsubname')})"
        reports = [ReportRecord(
            source=dataset_source, killed=killed, wounded=wounded, perpetrators_killed=perpetrators_killed,
            perpetrator_stated=stated, attribution=links[0].attribution if links else None,
        )]
        seen_citations = set()
        for column in ("scite1", "scite2", "scite3"):
            citation = text(row, column)
            if citation and citation not in seen_citations:
                seen_citations.add(citation)
                source = citation_source(citation)
                reports.append(ReportRecord(source=source, excerpt=source.title))
        status = Status.DISPUTED if _flag(row.get("doubtterr")) else Status.CONFIRMED
        return IncidentRecord(
            key=f"GTD-{origin_id}", date_start=date_start, date_precision=precision, date_end=date_end,
            location=location, attack_type=text(row, "attacktype1_txt"), target_type=text(row, "targtype1_txt"),
            weapon_type=text(row, "weaptype1_txt"), suicide=_flag(row.get("suicide")),
            summary=text(row, "summary"), status=status, origin_dataset="gtd", origin_id=origin_id,
            actors=links, reports=reports,
        )
