"""The native format: one row per incident, the CSV that `incidents export incidents` writes.

A row without a `reports` cell is one source's account (source_* columns, killed_best/wounded_best as that
source's figures). A `reports` cell holds every report as JSON, which is how an export round-trips losslessly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from incidents.errors import FieldError
from incidents.io.importers.columns import Checked
from incidents.io.importers.common import coordinates, text
from incidents.limits import limit, override
from incidents.models import GAZETTEER_PRECISIONS, Attribution, DatePrecision, GeoPrecision, Role, SourceKind, Status
from incidents.records import (
    ActorLink,
    IncidentRecord,
    LocationRecord,
    ReportRecord,
    SourceRecord,
    _length_limits,
    _location_key_length,
    check_text,
    country_code,
    derive_figures,
    is_blank,
    normalize_name,
    parse_bool,
    parse_choice,
    parse_count,
    parse_date,
    parse_partial_date,
    parse_perpetrator,
)
from incidents.store.bulk import Plan

NAME = "native"
ENCODINGS = ["utf-8"]
NATIVE_COLUMNS = [
    "key", "title", "date", "date_end", "country", "admin1", "admin2", "place", "latitude", "longitude",
    "geo_precision", "attack_type", "target_type", "weapon_type", "suicide", "status", "summary", "perpetrators",
    "killed_low", "killed_best", "killed_high", "wounded_low", "wounded_best", "wounded_high",
    "perpetrators_killed", "origin_dataset", "origin_id", "source_url", "source_citation", "source_outlet",
    "source_title", "source_published", "excerpt", "reports", "actors", "raw_row",
]
MAPPED_COLUMNS = frozenset(NATIVE_COLUMNS)  # a native row's raw copy keeps only columns outside these
REQUIRED = ["date", "country"]


def detect(header: list[str]) -> bool:
    columns = set(header)
    return "date" in columns and bool({"country", "perpetrators", "source_url", "source_citation"} & columns)


def check_header(header: list[str]) -> list[str]:
    """Problems with the header itself (missing columns a row cannot do without)."""
    problems = [f"missing required column {name!r}" for name in REQUIRED if name not in header]
    if not {"source_url", "source_citation", "reports"} & set(header):
        problems.append("missing a source column: source_url, source_citation or reports")
    return problems


def parse_perpetrators(cell: str, source: SourceRecord | None) -> list[ActorLink]:
    """'Name=claimed; Other Name' -> actor links. Names may hold any character but ';'."""
    return [parse_perpetrator(part, "perpetrators", source) for part in cell.split(";") if part.strip()]





def _depth(value: object) -> int:
    """How deep JSON nests; a text in it (a key or a value) that cannot be written as UTF-8 (a lone surrogate,
    from an escape such as \\udc80) is a ValueError."""
    if isinstance(value, dict):
        for key in value:
            key.encode("utf-8")
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, str):
        value.encode("utf-8")
    return 0


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is no number JSON allows")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:20]} is too large a number")
    return number


def json_cell(cell: str, field_name: str) -> Any:
    """A JSON cell, parsed: invalid JSON, and JSON nested deeper than MAX_JSON_DEPTH (which would exhaust
    Python's recursion while reading or writing it), are a FieldError naming the column."""
    try:
        value = json.loads(cell, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise FieldError(field_name, cell[:80], f"is not valid JSON ({exc.msg})") from None
    except ValueError as exc:  # NaN, Infinity, 1e999, a number of thousands of digits
        raise FieldError(field_name, cell[:80], f"is not JSON this tool can read ({exc})") from None
    except RecursionError:
        value = None
        depth = limit("JSON_DEPTH") + 1
    else:
        try:
            depth = _depth(value)
        except RecursionError:
            depth = limit("JSON_DEPTH") + 1
        except UnicodeEncodeError:
            raise FieldError(field_name, cell[:80], "holds a lone surrogate (a \\udXXX escape that is no "
                                                    "character)") from None
    if depth > limit("JSON_DEPTH"):
        raise FieldError(field_name, cell[:80], f"is JSON nested more than {limit('JSON_DEPTH')} levels deep "
                                                  f"({override('JSON_DEPTH')})")
    return value


def _reports_from_json(cell: str) -> list[ReportRecord]:
    items = json_cell(cell, "reports")
    if not isinstance(items, list):
        raise FieldError("reports", cell[:80], "must be a JSON list of reports")
    reports = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("source"), dict):
            raise FieldError("reports", cell[:80], "each report must be an object with a source object")
        reports.append(ReportRecord(
            source=_source_from_json(item["source"]),
            reported_on=parse_date(item.get("reported_on"), "reports"),
            killed=parse_count(item.get("killed"), "reports"),
            killed_low=parse_count(item.get("killed_low"), "reports"),
            killed_high=parse_count(item.get("killed_high"), "reports"),
            killed_at_least=bool(parse_bool(item.get("killed_at_least"), "reports")),
            wounded=parse_count(item.get("wounded"), "reports"),
            wounded_low=parse_count(item.get("wounded_low"), "reports"),
            wounded_high=parse_count(item.get("wounded_high"), "reports"),
            wounded_at_least=bool(parse_bool(item.get("wounded_at_least"), "reports")),
            perpetrators_killed=parse_count(item.get("perpetrators_killed"), "reports"),
            preliminary=bool(parse_bool(item.get("preliminary"), "reports")),  # "false" is false
            perpetrator_stated=item.get("perpetrator_stated"),
            attribution=parse_choice(item.get("attribution"), "reports", Attribution),
            excerpt=item.get("excerpt"), note=item.get("note"),
        ))
        report = reports[-1]
        for measure in ("killed", "wounded"):
            low, high = getattr(report, f"{measure}_low"), getattr(report, f"{measure}_high")
            if low is not None and high is not None and low > high:
                raise FieldError("reports", cell[:80], f"has a report whose {measure}_low {low} is above its "
                                 f"{measure}_high {high}")
        if not (reports[-1].source.url or reports[-1].source.citation or reports[-1].source.dataset):
            raise FieldError("reports", cell[:80], "has a report whose source has no url, citation or dataset")
    return reports


def to_record(row: dict[str, str]) -> IncidentRecord:
    date_start, precision = parse_partial_date(row.get("date"), "date")
    country = text(row, "country")
    if not country:
        raise FieldError("country", row.get("country"), "is required")
    latitude, longitude = coordinates(row)
    precision_given = parse_choice(row.get("geo_precision"), "geo_precision", GeoPrecision)
    if precision_given in GAZETTEER_PRECISIONS:  # an export's gazetteer point: the gazetteer gives it again
        latitude = longitude = precision_given = None
    figures = {name: parse_count(row.get(name), name) for name in (
        "killed_low", "killed_best", "killed_high", "wounded_low", "wounded_best", "wounded_high")}
    record = IncidentRecord(
        key=text(row, "key"), date_start=date_start, date_precision=precision,
        date_end=parse_date(row.get("date_end"), "date_end"), title=text(row, "title"),
        location=LocationRecord(
            country=country_code(country), admin1=text(row, "admin1"), admin2=text(row, "admin2"),
            place=text(row, "place"), latitude=latitude, longitude=longitude, geo_precision=precision_given,
        ),
        attack_type=text(row, "attack_type"), target_type=text(row, "target_type"),
        weapon_type=text(row, "weapon_type"), suicide=parse_bool(row.get("suicide"), "suicide"),
        summary=text(row, "summary"),
        status=parse_choice(row.get("status"), "status", Status) or Status.CONFIRMED,
        perpetrators_killed=parse_count(row.get("perpetrators_killed"), "perpetrators_killed"),
        origin_dataset=text(row, "origin_dataset"), origin_id=text(row, "origin_id"),
    )
    if (record.origin_dataset is None) != (record.origin_id is None):
        raise FieldError("origin_id" if record.origin_id is None else "origin_dataset", "",
                         "is blank but its pair is given; origin_dataset and origin_id come together")
    _check_ranges(figures)
    cell = row.get("reports")
    if cell and cell.strip():
        record.reports = _reports_from_json(cell)
        for report in record.reports:
            if report.reported_on is None:
                report.reported_on = report.source.published_on
        # A best that differs from the latest report's figure is the analyst's choice; an equal one is derived.
        for measure in ("killed", "wounded"):
            given = figures[measure + "_best"]
            if given is not None and given != derive_figures(record.reports, measure)[1]:
                setattr(record, measure + "_best", given)
        source = record.reports[0].source if record.reports else None
    else:
        source = SourceRecord(
            url=text(row, "source_url"), citation=text(row, "source_citation"), outlet=text(row, "source_outlet"),
            title=text(row, "source_title"), published_on=parse_date(row.get("source_published"), "source_published"),
        )
        if not (source.url or source.citation):
            raise FieldError("source_url", row.get("source_url", ""),
                             "is blank; every incident needs a source (source_url or source_citation)")
        for measure in ("killed", "wounded"):
            low, best, high = figures[measure + "_low"], figures[measure + "_best"], figures[measure + "_high"]
            if (low is not None and low != best) or (high is not None and high != best):
                raise FieldError(
                    f"{measure}_low" if low is not None and low != best else f"{measure}_high",
                    low if low is not None and low != best else high,
                    f"differs from {measure}_best {best}; a row without a reports cell is one source's account, "
                    "so give one figure, or list each source's figure in the reports column",
                )
        record.reports = [ReportRecord(
            source=source, killed=figures["killed_best"], wounded=figures["wounded_best"],
            perpetrators_killed=record.perpetrators_killed, excerpt=text(row, "excerpt"),
        )]
    actors_cell = row.get("actors")
    if actors_cell and actors_cell.strip():
        record.actors = _actors_from_json(actors_cell)
    elif not is_blank(row.get("perpetrators")):
        record.actors = parse_perpetrators(row["perpetrators"], source)
    raw_cell = row.get("raw_row")
    if raw_cell and raw_cell.strip():
        raw_row = json_cell(raw_cell, "raw_row")
        if not isinstance(raw_row, dict):
            raise FieldError("raw_row", raw_cell[:80], "must be a JSON object of the original row's columns")
        record.raw_row = raw_row
    return record


def _source_from_json(source: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        url=source.get("url"), citation=source.get("citation"), outlet=source.get("outlet"),
        title=source.get("title"), published_on=parse_date(source.get("published_on"), "reports"),
        author=source.get("author"), language=source.get("language"),
        kind=(parse_choice(source.get("kind"), "reports", SourceKind) or SourceKind.ARTICLE).value,
        dataset=source.get("dataset"), dataset_release=source.get("dataset_release"),
        dataset_record_id=source.get("record_id"),
    )


def _actors_from_json(cell: str) -> list[ActorLink]:
    """[{"actor": ..., "role": ..., "attribution": ..., "source": {url | citation | dataset + record_id}}]"""
    items = json_cell(cell, "actors")
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get("actor") and isinstance(i["actor"], str)
                                              for i in items):
        raise FieldError("actors", cell[:80], "must be a JSON list of objects with an actor name (text)")
    if any(item.get("source") is not None and not isinstance(item["source"], dict) for item in items):
        raise FieldError("actors", cell[:80], "has a source that is not an object (url, citation, dataset)")
    return [
        ActorLink(
            name=str(item["actor"]), role=parse_choice(item.get("role"), "actors", Role) or Role.PERPETRATOR,
            attribution=parse_choice(item.get("attribution"), "actors", Attribution),
            source=_source_from_json(item["source"]) if isinstance(item.get("source"), dict) else None,
            column="actors",
        )
        for item in items
    ]


def _check_ranges(figures: dict[str, int | None]) -> None:
    for measure in ("killed", "wounded"):
        low, best, high = figures[measure + "_low"], figures[measure + "_best"], figures[measure + "_high"]
        if low is None and high is None:
            continue
        if low is not None and high is not None and low > high:
            raise FieldError(f"{measure}_low", low, f"is above {measure}_high {high}")
        if best is not None and high is not None and best > high:
            raise FieldError(f"{measure}_best", best, f"is above {measure}_high {high}")
        if best is not None and low is not None and best < low:
            raise FieldError(f"{measure}_best", best, f"is below {measure}_low {low}")


class Mapper:
    """Turns native rows into records. Rows without a key get COUNTRY-DATE-PLACE, -2, -3 ... in file order."""

    identity_column = "key"
    note: str | None = None

    def __init__(self, header: list[str], default_country: str | None = None) -> None:
        self.header = header
        self.bases: dict[str, int] = {}

    def to_record(self, values: list[str], line: int) -> IncidentRecord:
        # Undo the export's spreadsheet escape: one leading apostrophe is dropped (exports.spreadsheet_safe).
        values = [value[1:] if value[:1] == "'" else value for value in values]
        record = to_record(dict(zip(self.header, values, strict=True)))
        if not record.key:
            # A row without a key is named by its date and place and by what it says: the same row imported
            # again finds itself, while another file's row of the same day and place is another incident (a
            # key from date and place alone made the second file 'update' the first, and its title was lost).
            digest = hashlib.blake2b("\x1f".join(values).encode(), digest_size=4).hexdigest()
            base = f"{record.default_key()}-{digest}"
            count = self.bases[base] = self.bases.get(base, 0) + 1
            record.key = base if count == 1 else f"{base}-{count}"
        return record


# ------------------------------------------------------------------------------------------ the columnar path


def plans(checked: Checked) -> list[tuple[Plan, tuple[str, ...], str, int] | None]:
    """Each row of a batch as a Plan, with its identity, country and year, or None where the row must go the
    per-row way (Mapper.to_record): the values are the ones to_record and IncidentRecord.validate give."""
    limits = dict((column, most) for _, column, most in _length_limits()["incident"])
    source_limits = dict((column, most) for _, column, most in _length_limits()["source"])
    for name in ("reports", "actors", "raw_row"):
        checked.blank(name)
    keys = checked.text("key", limits["key"])
    titles = checked.text("title")
    summaries = checked.text("summary")
    origin_ids = checked.text("origin_id", limits["origin_id"])
    urls = checked.text("source_url", source_limits["url"])
    citations = checked.text("source_citation")
    source_titles = checked.text("source_title")
    excerpts = checked.text("excerpt")
    dates = checked.distinct("date", lambda cell: _date(parse_partial_date(cell or None, "date")))
    ends = checked.distinct("date_end", lambda cell: _iso(parse_date(cell or None, "date_end")))
    published = checked.distinct("source_published", lambda cell: _iso(parse_date(cell or None,
                                                                                    "source_published")))
    places = checked.combined(["country", "admin1", "admin2", "place", "latitude", "longitude", "geo_precision"],
                              _place)
    kinds = [checked.distinct(name, _bounded(name, limits[name])) for name in ("attack_type", "target_type",
                                                                                 "weapon_type")]
    suicides = checked.distinct("suicide", lambda cell: parse_bool(cell or None, "suicide"))
    statuses = checked.distinct("status", lambda cell: (parse_choice(cell or None, "status", Status)
                                                        or Status.CONFIRMED).value)
    origin_datasets = checked.distinct("origin_dataset", _bounded("origin_dataset", limits["origin_dataset"]))
    outlets = checked.distinct("source_outlet", _bounded("outlet", source_limits["outlet"]))
    figures = [checked.distinct(name, _counted(name)) for name in (
        "killed_low", "killed_best", "killed_high", "wounded_low", "wounded_best", "wounded_high",
        "perpetrators_killed")]
    perpetrators = checked.distinct("perpetrators", _perpetrators)
    hashes = checked.hashes()

    out: list[tuple[Plan, tuple[str, ...], str, int] | None] = []
    for (fast, key, title, summary, origin_id, url, citation, source_title, excerpt, day, end, when,
                place, attack, target, weapon, suicide, status, origin_dataset, outlet, killed_low, killed,
                killed_high, wounded_low, wounded, wounded_high, perpetrators_killed, links, row_hash) in zip(
            checked.fast.tolist(), keys, titles, summaries, origin_ids, urls, citations, source_titles,
                excerpts, dates, ends, published, places, *kinds, suicides, statuses, origin_datasets, outlets,
                *figures, perpetrators, hashes, strict=True):
        if not (fast and key and (url or citation) and (origin_dataset is None) == (origin_id is None)
                and (killed_low is None or killed_low == killed) and (killed_high is None or killed_high == killed)
                and (wounded_low is None or wounded_low == wounded)
                and (wounded_high is None or wounded_high == wounded)
                and (end is None or end >= day[0])):
            out.append(None)
            continue
        identity = ("url", url) if url else ("citation", citation)
        source = ("article", url, citation, outlet, source_title, when, None, None, None, None, None, None, None,
                  None)
        report = (when, killed, None, None, False, wounded, None, None, False, perpetrators_killed, False, None,
                  None, excerpt, None)
        plan = Plan(
            incident=(key, title, day[0], end, day[1], attack, target, weapon, suicide, summary, status, killed,
                      killed, killed, False, wounded, wounded, wounded, False, perpetrators_killed, origin_dataset,
                      origin_id, None, row_hash),
            location=place,
            reports=[(identity, source, report)],
            links=[(name, origin_dataset or "", "perpetrator", attribution, identity, source)
                   for name, attribution in links],
        )
        found = ("origin", origin_dataset, origin_id) if origin_dataset else ("key", key)
        out.append((plan, found, place[1].country, int(day[0][:4])))
    return out


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(parsed: tuple[date, DatePrecision]) -> tuple[str, str]:
    return parsed[0].isoformat(), parsed[1].value


def _counted(name: str) -> Callable[[str], int | None]:
    return lambda cell: parse_count(cell or None, name)


def _bounded(name: str, most: int) -> Callable[[str], str | None]:
    def parse(cell: str) -> str | None:
        value = cell.strip() or None
        if value is not None:
            check_text(name, value, most)
        return value
    return parse


@lru_cache(maxsize=65536)
def _place(country: str, admin1: str, admin2: str, place: str, latitude: str, longitude: str,
           geo_precision: str) -> tuple[str, LocationRecord]:
    """The location to_record builds from these cells, checked as IncidentRecord.validate checks it."""
    if not country.strip():
        raise FieldError("country", country, "is required")
    lat, lon = coordinates({"latitude": latitude, "longitude": longitude})
    given = parse_choice(geo_precision or None, "geo_precision", GeoPrecision)
    if given in GAZETTEER_PRECISIONS:
        lat = lon = given = None
    location = LocationRecord(country=country_code(country), admin1=admin1.strip() or None,
                              admin2=admin2.strip() or None, place=place.strip() or None, latitude=lat,
                              longitude=lon, geo_precision=given)
    for _, column, most in _length_limits()["location"]:
        value = getattr(location, column)
        if value is not None:
            check_text(column, value, most)
    if len(location.key) > _location_key_length():
        raise FieldError("place", place, "makes too long a key")  # the per-row path says it in full
    return location.key, location


@lru_cache(maxsize=65536)
def _perpetrators(cell: str) -> list[tuple[str, str | None]]:
    links = parse_perpetrators(cell, None) if cell.strip() else []
    for link in links:  # as IncidentRecord.validate checks an actor's name
        if len(link.name) > 300 or not normalize_name(link.name):
            raise FieldError("perpetrators", link.name, "names no actor")
    return [(link.name, link.attribution.value if link.attribution else None) for link in links]
