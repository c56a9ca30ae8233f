"""The YAML fixture format (actors, shared sources, incidents -> reports): parse to records and load them.

Every problem is reported as file:line, the field and the value; a file with any problem writes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from incidents.db.engine import take_bulk_lock, write
from incidents.errors import FieldError, InputError, NotFoundError, UsageError
from incidents.files import LINE, LINES, load_yaml_with_lines
from incidents.limits import limit, override
from incidents.models import ActorKind, Attribution, DatePrecision, Role, Status
from incidents.records import (
    ActorLink,
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
    parse_toll,
    parse_typed_precision,
)
from incidents.store.actors import ActorSpec, fold_into_registry
from incidents.store.imports import finish_import, start_import
from incidents.store.incidents import Writer

FIXTURES_DIR = Path(__file__).resolve().parents[3] / "fixtures"  # the repository's fixtures/
REGISTRY_FIXTURE = "actors.yaml"  # the bundled actor registry, installed by `incidents init`
DEMO_FIXTURES = (REGISTRY_FIXTURE, "seed_incidents.yaml")



@dataclass
class Fixture:
    path: Path
    actors: list[ActorSpec] = field(default_factory=list)
    incidents: list[IncidentRecord] = field(default_factory=list)


@dataclass
class LoadResult:
    files: list[str]
    actors: int = 0
    incidents_read: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"inserted": 0, "updated": 0, "unchanged": 0})
    created_actors: list[str] = field(default_factory=list)
    merged_actors: list[tuple[str, str]] = field(default_factory=list)  # (actor outside the registry, entry)




def read_full_text(path: Path, folder: Path) -> str:
    """A source's article text, from a regular file inside the fixture's folder, at most limits FULL_TEXT_BYTES:
    not /dev/zero, not a pipe, not /etc/passwd by way of '../../'."""
    try:
        resolved = path.resolve()
    except (RuntimeError, OSError):  # a loop of symbolic links
        raise UsageError("it is a loop of symbolic links") from None
    if not resolved.is_relative_to(folder.resolve()):
        raise UsageError(f"it is outside the fixture's folder {folder}; put the article's text beside the fixture")
    if not resolved.is_file():
        raise UsageError("it is not a regular file")
    if resolved.stat().st_size > limit("FULL_TEXT_BYTES"):
        raise UsageError(f"it is larger than {limit('FULL_TEXT_BYTES'):,} bytes, more than an article's text "
                         f"({override('FULL_TEXT_BYTES')})")
    return resolved.read_text(encoding="utf-8")


class _Reader:
    """Walks one parsed file, turning mappings into records and collecting every problem found."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []
        self.sources: dict[str, SourceRecord] = {}  # by ref
        self.seen: dict[str, SourceRecord] = {}  # every source in the file, by URL and by citation

    def problem(self, mapping: dict[str, Any], name: str, message: str) -> None:
        line = mapping.get(LINES, {}).get(name, mapping.get(LINE, "?"))
        self.problems.append(f"{self.path.name}:{line}: field {name}: {message}")

    def get(self, mapping: dict[str, Any], name: str, parse: Any, *args: Any) -> Any:
        try:
            return parse(mapping.get(name), name, *args)
        except FieldError as exc:
            self.problem(mapping, name, f"{exc.value!r} {exc.reason}")
            return None

    def text(self, mapping: dict[str, Any], name: str) -> str | None:
        value = mapping.get(name)
        if is_blank(value):
            return None
        if isinstance(value, dict | list):
            self.problem(mapping, name, "must be text")
            return None
        return str(value).strip()

    def check_keys(self, mapping: dict[str, Any], allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in allowed and key not in (LINE, LINES):
                self.problem(mapping, key, f"is not a field of {what} (fields: {', '.join(sorted(allowed))})")

    # ---- sources

    SOURCE_FIELDS = {
        "ref", "kind", "url", "citation", "outlet", "title", "published_on", "author", "language",
        "accessed_on", "full_text_file",
    }

    def source(self, value: Any, owner: dict[str, Any], name: str) -> SourceRecord | None:
        if isinstance(value, str):
            if value in self.sources:
                return self.sources[value]
            if value.startswith(("http://", "https://")):
                return SourceRecord(url=value)
            if value in self.seen:
                return self.seen[value]
            self.problem(owner, name, f"{value!r} is not a source ref, URL or citation given in this file")
            return None
        if not isinstance(value, dict):
            self.problem(owner, name, "must be a source ref, a URL, or a mapping with url/citation")
            return None
        self.check_keys(value, self.SOURCE_FIELDS, "a source")
        record = SourceRecord(
            url=self.text(value, "url"), citation=self.text(value, "citation"),
            outlet=self.text(value, "outlet"), title=self.text(value, "title"),
            published_on=self.get(value, "published_on", parse_date),
            author=self.text(value, "author"), language=self.text(value, "language"),
            accessed_on=self.get(value, "accessed_on", parse_date),
            kind=self.text(value, "kind") or "article",
        )
        if record.kind not in {"article", "document"}:
            self.problem(value, "kind", f"{record.kind!r} is not one of: article, document")
        text_file = self.text(value, "full_text_file")
        if text_file:
            path = self.path.parent / text_file
            try:
                record.full_text = read_full_text(path, self.path.parent)
            except (OSError, UnicodeDecodeError, UsageError) as exc:
                self.problem(value, "full_text_file", f"cannot read {path}: {exc}")
        if not (record.url or record.citation):
            self.problem(value, "url", "a source needs a url or a citation")
        ref = self.text(value, "ref")
        if ref:
            if ref in self.sources:
                self.problem(value, "ref", f"{ref!r} names two sources")
            self.sources[ref] = record
        for identity in (record.url, record.citation):
            if identity:
                self.seen.setdefault(identity, record)
        return record

    # ---- actors

    def actor(self, item: dict[str, Any]) -> ActorSpec | None:
        self.check_keys(item, {"name", "kind", "parent", "description", "aliases"}, "an actor")
        name = self.text(item, "name")
        if not name:
            self.problem(item, "name", "is required")
            return None
        spec = ActorSpec(
            name=name,
            kind=self.get(item, "kind", parse_choice, ActorKind) or ActorKind.GROUP,
            parent=self.text(item, "parent"),
            description=self.text(item, "description"),
        )
        for alias in item.get("aliases") or []:
            if isinstance(alias, str | int | float):
                spec.aliases.append((str(alias), "", None))
            elif isinstance(alias, dict) and self.text(alias, "alias"):
                self.check_keys(alias, {"alias", "dataset", "note"}, "an alias")
                dataset = self.text(alias, "dataset") or ""
                if dataset not in {"", "gtd", "ucdp", "acled"}:
                    self.problem(alias, "dataset", f"{dataset!r} is not one of: gtd, ucdp, acled")
                spec.aliases.append((str(self.text(alias, "alias")), dataset, self.text(alias, "note")))
            else:
                self.problem(item, "aliases", f"{alias!r} is not an alias (a name, or a mapping with alias:)")
        return spec

    # ---- incidents

    INCIDENT_FIELDS = {
        "key", "title", "date", "date_end", "location", "attack_type", "target_type", "weapon_type", "suicide",
        "summary", "status", "killed_best", "wounded_best", "perpetrators_killed", "perpetrators", "targets",
        "reports",
    }
    REPORT_FIELDS = {
        "source", "reported_on", "killed", "killed_at_least", "wounded", "wounded_at_least",
        "perpetrators_killed", "preliminary", "perpetrator", "attribution", "excerpt", "note",
    }

    def incident(self, item: dict[str, Any]) -> IncidentRecord | None:
        self.check_keys(item, self.INCIDENT_FIELDS, "an incident")
        problems_before = len(self.problems)
        try:
            date_start, precision = parse_partial_date(item.get("date"))
        except FieldError as exc:
            # Keep checking the rest of the incident, so one pass reports every problem in it.
            self.problem(item, "date", f"{exc.value!r} {exc.reason}")
            date_start, precision = date.min, DatePrecision.DAY
        record = IncidentRecord(
            key=self.text(item, "key"), date_start=date_start, date_precision=precision,
            date_end=self.get(item, "date_end", parse_date), title=self.text(item, "title"),
            attack_type=self.text(item, "attack_type"), target_type=self.text(item, "target_type"),
            weapon_type=self.text(item, "weapon_type"), suicide=self.get(item, "suicide", parse_bool),
            summary=self.text(item, "summary"),
            status=self.get(item, "status", parse_choice, Status) or Status.CONFIRMED,
            killed_best=self.get(item, "killed_best", parse_count),
            wounded_best=self.get(item, "wounded_best", parse_count),
            perpetrators_killed=self.get(item, "perpetrators_killed", parse_count),
        )
        if isinstance(item.get("location"), dict):
            record.location = self.location(item["location"])
        elif item.get("location") is not None:
            self.problem(item, "location", "must be a mapping with country, admin1, admin2, place, ...")
        reports = item.get("reports") or []
        if not reports:
            self.problem(item, "reports", "is empty; every incident needs at least one source")
        for report in reports:
            parsed = self.report(report)
            if parsed:
                record.reports.append(parsed)
        for list_name, role in (("perpetrators", Role.PERPETRATOR), ("targets", Role.TARGET)):
            for link in item.get(list_name) or []:
                if isinstance(link, str):
                    record.actors.append(ActorLink(name=link, role=role))
                    continue
                self.check_keys(link, {"actor", "attribution", "source"}, f"an entry of {list_name}")
                name = self.text(link, "actor")
                if not name:
                    self.problem(link, "actor", "is required")
                    continue
                source = self.source(link["source"], link, "source") if link.get("source") else None
                attribution = self.get(link, "attribution", parse_choice, Attribution)
                record.actors.append(ActorLink(name=name, role=role, attribution=attribution, source=source))
        try:
            record.validate()
        except FieldError as exc:
            if exc.field_name != "reports":
                self.problem(item, exc.field_name, f"{exc.value!r} {exc.reason}")
        return record if len(self.problems) == problems_before else None

    def location(self, item: dict[str, Any]) -> LocationRecord | None:
        self.check_keys(
            item, {"country", "admin1", "admin2", "place", "latitude", "longitude", "geo_precision"}, "a location"
        )
        country = self.text(item, "country")
        if not country:
            self.problem(item, "country", "is required (an ISO 3166 code or an English name)")
            return None
        try:
            code = country_code(country)
        except FieldError as exc:
            self.problem(item, "country", f"{exc.value!r} {exc.reason}")
            return None
        record = LocationRecord(
            country=code, admin1=self.text(item, "admin1"), admin2=self.text(item, "admin2"),
            place=self.text(item, "place"),
            latitude=self.get(item, "latitude", parse_coordinate, 90.0),
            longitude=self.get(item, "longitude", parse_coordinate, 180.0),
            geo_precision=self.get(item, "geo_precision", parse_typed_precision),
        )
        if (record.latitude is None) != (record.longitude is None):
            self.problem(item, "latitude", "latitude and longitude come together or not at all")
        return record

    def tolls(self, item: dict[str, Any]) -> dict[str, Any]:
        """killed and wounded as the source states them ('at least 60', '50-60', 'sixty'; see parse_toll)."""
        found: dict[str, Any] = {}
        for measure in ("killed", "wounded"):
            toll = self.get(item, measure, parse_toll)
            at_least = bool(self.get(item, f"{measure}_at_least", parse_bool))
            if toll is not None:
                found |= {measure: toll.best, f"{measure}_low": toll.low, f"{measure}_high": toll.high}
                at_least = at_least or toll.at_least
            found[f"{measure}_at_least"] = at_least
        return found

    def report(self, item: Any) -> ReportRecord | None:
        if not isinstance(item, dict):
            self.problems.append(f"{self.path.name}: a report must be a mapping, not {item!r}")
            return None
        self.check_keys(item, self.REPORT_FIELDS, "a report")
        if "source" not in item:
            self.problem(item, "source", "is required")
            return None
        source = self.source(item["source"], item, "source")
        if source is None:
            return None
        return ReportRecord(
            source=source,
            reported_on=self.get(item, "reported_on", parse_date),
            **self.tolls(item),
            perpetrators_killed=self.get(item, "perpetrators_killed", parse_count),
            preliminary=bool(self.get(item, "preliminary", parse_bool)),
            perpetrator_stated=self.text(item, "perpetrator"),
            attribution=self.get(item, "attribution", parse_choice, Attribution),
            excerpt=self.text(item, "excerpt"),
            note=self.text(item, "note"),
        )


def read_fixture(path: Path) -> Fixture:
    """Parse and validate a fixture file; raise InputError listing every problem, with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"No fixture file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Cannot read {path}: {exc}") from None
    try:
        data = load_yaml_with_lines(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path.name} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not ({"actors", "incidents", "sources"} & set(data)):
        raise InputError(f"{path.name}: a fixture is a YAML mapping with actors:, sources: and/or incidents:")
    reader = _Reader(path)
    fixture = Fixture(path=path)
    reader.check_keys(data, {"actors", "sources", "incidents"}, "a fixture")
    for item in data.get("sources") or []:
        if not isinstance(item, dict) or not item.get("ref"):
            reader.problems.append(f"{path.name}: each entry of sources: needs a ref: name")
            continue
        reader.source(item, item, "ref")
    for item in data.get("actors") or []:
        spec = reader.actor(item) if isinstance(item, dict) else None
        if spec:
            fixture.actors.append(spec)
    keys: dict[str, int] = {}
    for item in data.get("incidents") or []:
        if not isinstance(item, dict):
            reader.problems.append(f"{path.name}: each entry of incidents: must be a mapping")
            continue
        record = reader.incident(item)
        if record and record.key:
            if record.key in keys:
                reader.problem(item, "key", f"{record.key!r} is used twice (first on line {keys[record.key]})")
            keys[record.key] = item[LINE]
        if record:
            fixture.incidents.append(record)
    if reader.problems:
        raise InputError(f"{path.name} has {len(reader.problems)} problem(s); nothing was loaded:", reader.problems)
    return fixture


def load_fixtures(engine: Engine, paths: list[Path], who: str | None = None) -> LoadResult:
    """Load fixture files in one transaction: all of them, or (on any error) none."""
    fixtures = [read_fixture(path) for path in paths]

    def load_all(session: Session) -> LoadResult:
        result = LoadResult(files=[str(path) for path in paths])
        take_bulk_lock(session.connection())
        for fixture in fixtures:
            data = fixture.path.read_bytes()
            run = start_import(session, str(fixture.path), "fixture", hashlib.sha256(data).hexdigest(), who)
            try:
                result.merged_actors += fold_into_registry(session, fixture.actors, who) if fixture.actors else []
            except UsageError as exc:
                raise InputError(f"{fixture.path.name}: {exc}") from None
            writer = Writer(session, who=who, why=f"fixture {fixture.path.name}", import_run=run)
            for spec in fixture.actors:
                try:
                    writer.actors.upsert(spec)
                except UsageError as exc:
                    raise InputError(f"{fixture.path.name}: actor {spec.name!r}: {exc}") from None
            result.actors += len(fixture.actors)
            for record in fixture.incidents:
                try:
                    writer.save(record)
                except UsageError as exc:
                    raise InputError(f"{fixture.path.name}: incident {record.key}: {exc}") from None
            finish_import(run, len(fixture.incidents), writer.counts)
            result.incidents_read += len(fixture.incidents)
            for name, count in writer.counts.items():
                result.counts[name] += count
            result.created_actors.extend(writer.actors.created)
        return result

    return write(engine, "incidents load", load_all)
