"""Recording an attack from one source: `incidents add` for one, `incidents add --from FILE` for a CSV or YAML
of several. Both go through `record_from` (every field read as the source states it) and `save_new` (the search
for the incident it may be, then the write), so a batch is held to the same rules as one command."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.curation.duplicates import refuse_a_second_record
from incidents.errors import MISSING, FieldError, InputError, NotFoundError, UsageError, option
from incidents.files import LINE, LINES, input_file, load_yaml_with_lines, read_text
from incidents.limits import limit
from incidents.models import Incident, SourceKind, Status
from incidents.records import (
    IncidentRecord,
    LocationRecord,
    ReportRecord,
    SourceRecord,
    country_code,
    is_blank,
    parse_bool,
    parse_choice,
    parse_coordinate,
    parse_count,
    parse_date,
    parse_partial_date,
    parse_perpetrator,
    parse_typed_precision,
    require_excerpt_in,
    stated_tolls,
)
from incidents.store.edits import add_report
from incidents.store.incidents import Writer
from incidents.store.sources import adopt_known_citation, adopt_known_url, find_source, stored_source

# What one record holds: the keywords of `incidents.api.add`, and the columns of a CSV or keys of a YAML given to
# `incidents add --from`. `perpetrators` is 'NAME' or 'NAME=ATTRIBUTION', several joined by ';' in a file.
FIELDS = (
    "date", "country", "source_url", "citation", "source", "key", "title", "date_end", "admin1", "admin2", "place",
    "latitude", "longitude", "geo_precision", "attack_type", "target_type", "weapon_type", "suicide", "summary",
    "status", "perpetrators", "killed", "killed_at_least", "wounded", "wounded_at_least", "perpetrators_killed",
    "preliminary", "outlet", "source_title", "published", "excerpt", "text_file", "new", "new_source",
)
# A row of a file of records with `report_of: KEY` is one source's account of that incident (`report add`): these.
REPORT_FIELDS = (
    "report_of", "source_url", "citation", "source", "outlet", "source_title", "published", "killed",
    "killed_at_least", "wounded", "wounded_at_least", "perpetrators_killed", "preliminary", "excerpt", "text_file",
    "perpetrators", "new_source",
)


def named_source(session: Session, source: int | str | None, source_url: str | None,
                 citation: str | None) -> tuple[str | None, str | None]:
    """(URL, citation) of the source a record names: by URL or citation as given, or by a stored source's id."""
    if is_blank(source):
        if not source_url and not citation:
            raise FieldError("source_url", MISSING, f"or {option('citation')} or {option('source')} is required: "
                                                    "a record needs its source")
        return source_url, citation
    if source_url or citation:
        raise FieldError("source", source, f"names a stored source; give it, or {option('source_url')} / "
                                           f"{option('citation')}, not both")
    stored = stored_source(session, source)
    if stored.kind == SourceKind.DATASET_RECORD.value:
        raise FieldError("source", source, "is a dataset's record; its reports come with its dataset's import")
    return stored.url, None if stored.url else stored.citation


def article_text(text_file: str | Path | None) -> str | None:
    """The article text a --text-file names, read whole before anything is written; an empty one is refused (an
    excerpt could not be checked against it)."""
    if is_blank(text_file):
        return None
    text = read_text(str(text_file), "article text", limit("FULL_TEXT_BYTES"))
    if not text.strip():
        raise FieldError("text_file", str(text_file), "is empty; give the file of the article's text")
    return text


def _names(value: Any) -> list[str]:
    """Perpetrators as given: a list, one 'NAME[=ATTRIBUTION]', or several joined by ';' (a file's cell)."""
    if is_blank(value):
        return []
    items = value if isinstance(value, list | tuple) else [value]
    if not all(isinstance(item, str) for item in items):
        shown = "a mapping" if isinstance(value, dict) or any(isinstance(item, dict) for item in items) else value
        raise FieldError("perpetrators", shown, "is not a name or list of names ('NAME' or 'NAME=ATTRIBUTION', "
                                                "several joined by ';')")
    return [part.strip() for item in items for part in item.split(";") if part.strip()]


def report_from(session: Session, fields: dict[str, Any]) -> ReportRecord:
    """One source's account (REPORT_FIELDS) as `report add` takes it: tolls as stated, the perpetrator as the source
    names it ('NAME' or 'NAME=ATTRIBUTION'); the excerpt is checked against the stored text by add_report."""
    unknown = sorted(set(fields) - set(REPORT_FIELDS) - {"report_of"})
    if unknown:
        raise FieldError("columns", unknown[0], f"is not a field of a report (fields: {', '.join(REPORT_FIELDS)})")
    get = fields.get
    source_url, citation = named_source(session, get("source"), get("source_url") or None, get("citation") or None)
    named = SourceRecord(url=source_url, citation=citation, outlet=get("outlet") or None,
                         title=get("source_title") or None, published_on=parse_date(get("published"), "published"),
                         full_text=article_text(get("text_file")))
    names = _names(get("perpetrators"))
    link = parse_perpetrator(names[0], "perpetrators") if names else None  # as the source names it
    return ReportRecord(
        source=named,
        **stated_tolls(get("killed"), get("wounded"), bool(parse_bool(get("killed_at_least"), "killed_at_least")),
                       bool(parse_bool(get("wounded_at_least"), "wounded_at_least"))),
        perpetrators_killed=parse_count(get("perpetrators_killed"), "perpetrators_killed"),
        preliminary=bool(parse_bool(get("preliminary"), "preliminary")),
        excerpt=str(get("excerpt") or "").strip() or None,
        perpetrator_stated=link.name if link else None, attribution=link.attribution if link else None,
    )


def record_from(session: Session, fields: dict[str, Any]) -> IncidentRecord:
    """The new incident `fields` (add's keywords) describe, with its one report, every value read as the source
    states it; FieldError names the first bad field."""
    unknown = sorted(set(fields) - set(FIELDS) - {"new", "new_source"})
    if unknown:
        raise FieldError("columns", unknown[0], f"is not a field of a record (fields: {', '.join(FIELDS)})")
    get = fields.get
    if is_blank(get("date")):
        raise FieldError("date", MISSING, "is required (2023, 2023-07, 2023-07-30 or '30 July 2023')")
    if is_blank(get("country")):
        raise FieldError("country", MISSING, "is required (an ISO code or English name)")
    date_start, precision = parse_partial_date(get("date"), "date")
    report = report_from(session, {name: value for name, value in fields.items() if name in REPORT_FIELDS})
    require_excerpt_in(report.excerpt, report.source.full_text, "the article text (--text-file)")
    links = [parse_perpetrator(item, "perpetrators", report.source) for item in _names(get("perpetrators"))]
    latitude, longitude = get("latitude"), get("longitude")
    record = IncidentRecord(
        key=get("key") or None, date_start=date_start, date_precision=precision,
        date_end=parse_date(get("date_end"), "date_end"), title=get("title") or None,
        attack_type=get("attack_type") or None, target_type=get("target_type") or None,
        weapon_type=get("weapon_type") or None, suicide=parse_bool(get("suicide"), "suicide"),
        summary=get("summary") or None,
        status=parse_choice(get("status") or None, "status", Status) or Status.CONFIRMED,
        perpetrators_killed=parse_count(get("perpetrators_killed"), "perpetrators_killed"),
        location=LocationRecord(
            country=country_code(str(get("country"))), admin1=get("admin1") or None, admin2=get("admin2") or None,
            place=get("place") or None, latitude=parse_coordinate(latitude, "latitude", 90.0),
            longitude=parse_coordinate(longitude, "longitude", 180.0),
            geo_precision=parse_typed_precision(get("geo_precision") or None),
        ),
        actors=links,
        reports=[report],
    )
    if record.location and (record.location.latitude is None) != (record.location.longitude is None):
        raise FieldError("latitude", latitude, f"needs {option('longitude')} too (coordinates come in pairs)")
    record.validate()
    return record


def save_new(session: Session, record: IncidentRecord, new: bool = False, actor_policy: str = "create",
             who: str | None = None, why: str = "incidents add", new_source: bool = False) -> dict[str, Any]:
    """Write `record` as a new incident, unless it may be one recorded already (refuse_a_second_record; `new`
    records it anyway). A citation near a stored one is asked about (adopt_known_citation; `new_source` keeps it
    apart). Returns {'key': ..., 'created_actors': [...]}."""
    if record.key and session.scalar(select(Incident.id).where(Incident.key == record.key)) is not None:
        raise FieldError("key", record.key, "already exists; choose another key")
    adopt_known_url(session, record.reports[0].source)  # another spelling of a stored page's URL is that page
    adopt_known_citation(session, record.reports[0].source, new_source)
    if not new:
        refuse_a_second_record(session, record)
    writer = Writer(session, actor_policy=actor_policy, who=who, why=why)
    writer.save(record)
    return {"key": writer.last_key, "created_actors": writer.actors.created}


# ---- a file of records: `incidents add --from FILE`

@dataclass
class BatchResult:
    file: str
    added: list[str] = field(default_factory=list)  # keys of the incidents recorded
    reported: list[str] = field(default_factory=list)  # keys of the incidents a report was added to
    already: list[str] = field(default_factory=list)  # rows whose source gives that incident already: skipped
    created_actors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "added": self.added, "reported": self.reported, "already": self.already,
                "created_actors": self.created_actors}


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line, fields) of each record in a CSV (a header of FIELDS) or a YAML list of mappings; InputError naming the
    file (and line) for anything else."""
    try:
        text = read_text(path, "file of records", limit("FULL_TEXT_BYTES")).removeprefix("\ufeff")  # Excel's BOM
    except UsageError as exc:  # not UTF-8, too large: a bad input file
        raise InputError(str(exc)) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = load_yaml_with_lines(text)
        except yaml.YAMLError as exc:
            raise InputError(f"{path.name} is not valid YAML: {exc}") from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise InputError(f"{path.name}: a file of records is a YAML list of mappings, one per record "
                             "(- date: 2023-07-30 ...)")
        # str keys: a YAML key may be a number; .get: an alias (*a) repeats one mapping, line and all
        return [(item.get(LINE, 0), {str(k): v for k, v in item.items() if k not in (LINE, LINES)}) for item in data]
    if path.suffix.lower() != ".csv":
        raise InputError(f"{path.name}: a file of records is a .csv or a .yaml")
    csv.field_size_limit(limit("FIELD_BYTES"))  # one cell's bound, as the importers keep it
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = [name.strip() for name in next(reader, [])]
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise InputError(f"{path.name}:1: the header names the column {repeated[0]!r} twice")
        for cells in reader:
            if len(cells) > len(header):
                raise InputError(f"{path.name}:{reader.line_num}: the row has more cells than the header has "
                                 "columns")
            rows.append((reader.line_num, {name: value for name, value in zip(header, cells, strict=False)
                                           if not is_blank(value)}))
    except csv.Error as exc:  # a field past csv's bound, a NUL byte
        raise InputError(f"{path.name}:{reader.line_num}: {exc}") from None
    return rows


def add_many(session: Session, path: str | Path, actor_policy: str = "create", who: str | None = None,
             rows: list[tuple[int, dict[str, Any]]] | None = None) -> BatchResult:
    """Record every row of a CSV or YAML of records, each as `add` would (record_from, save_new), in the caller's
    one transaction: all rows or none. A row with `report_of: KEY` is its source's account of that incident, as
    `report add` takes it. A row recorded by an earlier run (its source gives an incident of its date, country and
    place, or the same account of KEY) is skipped: a second run adds nothing. A row that may be another incident
    stops the batch, like `add`, unless its `new` is true. Every problem is named by file, line and field."""
    source = input_file(path, "file of records")
    result = BatchResult(file=str(source))
    problems: list[str] = []
    rows = read_rows(source) if rows is None else rows  # read_rows's rows, when the caller has read them
    if not rows:
        raise InputError(f"{source.name}: no records in it")
    for line, fields in rows:
        text_file = fields.get("text_file")
        if not is_blank(text_file) and not Path(str(text_file)).is_absolute():
            fields["text_file"] = str(source.parent / str(text_file))  # beside the file of records
        try:
            new_source = bool(parse_bool(fields.pop("new_source", None), "new_source"))
            if not is_blank(fields.get("report_of")):
                key = str(fields.pop("report_of")).strip()
                with session.begin_nested():
                    _, added = add_report(session, key, report_from(session, fields), who=who,
                                          why=f"incidents add --from {source.name}", new_source=new_source)
                (result.reported if added else result.already).append(key)
                continue
            new = bool(parse_bool(fields.pop("new", None), "new"))
            record = record_from(session, fields)
            known = _same_source_same_day(session, record)
            if known is not None:
                _agrees_with_stored(session, known, record)  # an applied record edited since is named, not skipped
                result.already.append(known)
                continue
            _excerpt_given_before(session, record)  # ... and one whose date or place was edited is no new incident
            with session.begin_nested():
                saved = save_new(session, record, new=new, actor_policy=actor_policy, who=who,
                                 why=f"incidents add --from {source.name}", new_source=new_source)
            result.added.append(saved["key"])
            result.created_actors += saved["created_actors"]
        except FieldError as exc:
            problems.append(f"{source.name}:{line}: field {exc}")
        except (UsageError, NotFoundError) as exc:
            problems.append(f"{source.name}:{line}: {exc.render({'new': 'new: true (a column or key)'})}")
    if problems:
        raise InputError(f"{source.name}: {len(problems)} of {len(rows)} records cannot be recorded; nothing was "
                         "recorded:", problems)
    return result


def _agrees_with_stored(session: Session, key: str, record: IncidentRecord) -> None:
    """UsageError naming what differs when the report this record's source gives of incident `key`, or the incident
    itself (its place, attack, target), says otherwise than the record (written by an earlier run, edited since)."""
    from sqlalchemy import select

    from incidents.models import Incident, Location, Report
    from incidents.store.edits import same_report

    source = find_source(session, record.reports[0].source)
    if source is None:
        return
    stored = session.scalar(select(Report).join(Incident, Incident.id == Report.incident_id)
                            .where(Incident.key == key, Report.source_id == source.id, Report.withdrawn_at.is_(None)))
    if stored is not None:
        same_report(key, stored, record.reports[0])
    incident = session.scalar(select(Incident).where(Incident.key == key))
    location = session.get(Location, incident.location_id) if incident is not None and incident.location_id else None
    given = {"attack_type": (record.attack_type, incident.attack_type if incident else None),
             "target_type": (record.target_type, incident.target_type if incident else None)}
    if record.location is not None and location is not None:
        given |= {name: (getattr(record.location, name), getattr(location, name))
                  for name in ("place", "admin1", "admin2")}
    differs = [f"{name} {mine!r} (stored: {theirs!r})" for name, (mine, theirs) in given.items()
               if mine and theirs and str(mine).casefold() != str(theirs).casefold()]
    if differs:
        raise UsageError(f"{key} is recorded from this source already, and says otherwise: {'; '.join(differs)}. "
                         f"To change the incident, use incidents set {key} FIELD VALUE")


def _excerpt_given_before(session: Session, record: IncidentRecord) -> None:
    """UsageError when the record's source already gives the record's excerpt as its account of a live incident: a
    record applied before and then given another date or place would otherwise become a second incident."""
    from sqlalchemy import select

    from incidents.models import Incident, Location, Report

    report = record.reports[0]
    if not report.excerpt:
        return
    source = find_source(session, report.source)
    if source is None:
        return
    place = (record.location.place or "").casefold() if record.location else ""
    rows = session.execute(select(Incident.key, Location.place).join(Report, Report.incident_id == Incident.id)
                           .outerjoin(Location, Location.id == Incident.location_id)
                           .where(Report.source_id == source.id, Report.excerpt == report.excerpt,
                                  Report.withdrawn_at.is_(None), Incident.withdrawn_at.is_(None),
                                  Incident.merged_into_id.is_(None)))
    # the same sentence at the same place: the record is that incident, edited ('in Mastung and a market in
    # Orakzai' is one sentence about two places, and two incidents)
    key = next((found for found, stored_place in rows if (stored_place or "").casefold() == place), None)
    if key is not None:
        raise UsageError(f"source #{source.id} already gives this excerpt as its account of {key}; a second incident "
                         f"from the same sentence is refused. To change {key}, use incidents set {key} FIELD VALUE")


def _same_source_same_day(session: Session, record: IncidentRecord) -> str | None:
    """The key of a live incident this record's source already gives on its date and in its country (the row was
    recorded by an earlier run), if there is one."""
    from incidents.curation.duplicates import incident_from_source

    adopt_known_url(session, record.reports[0].source)  # the spelling an earlier run stored
    adopt_known_citation(session, record.reports[0].source, new_source=True)  # (case, punctuation); never asks
    stored = find_source(session, record.reports[0].source)
    return None if stored is None else incident_from_source(session, stored.id, record)
