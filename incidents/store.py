"""All writes: actor registry and resolution, incident upserts, reports, derived tolls, revisions, import runs."""

from __future__ import annotations

import difflib
import getpass
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import NotFoundError, UsageError
from incidents.models import (
    Actor,
    ActorAlias,
    ActorKind,
    Attribution,
    Import,
    Incident,
    IncidentActor,
    Location,
    Report,
    Revision,
    Source,
    Status,
)
from incidents.records import (
    ActorLink,
    FieldError,
    IncidentRecord,
    LocationRecord,
    ReportRecord,
    SourceRecord,
    derive_figures,
    normalize_name,
    parse_bool,
    parse_choice,
    parse_count,
)

# Fields an analyst curates; a change to any of them is written to `revisions`.
CURATED_FIELDS = (
    "title", "date_start", "date_end", "date_precision", "location_id", "attack_type", "target_type",
    "weapon_type", "suicide", "summary", "status", "killed_low", "killed_best", "killed_high",
    "wounded_low", "wounded_best", "wounded_high", "perpetrators_killed", "origin_dataset", "origin_id",
)

# Strongest first; when two sources attribute one incident to one actor, the stronger word stands.
ATTRIBUTION_STRENGTH = [Attribution.CLAIMED, Attribution.ATTRIBUTED, Attribution.SUSPECTED, Attribution.DENIED]


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# ------------------------------------------------------------------------------------------------ actors


@dataclass
class ActorSpec:
    name: str
    kind: ActorKind = ActorKind.GROUP
    parent: str | None = None
    description: str | None = None
    aliases: list[tuple[str, str, str | None]] = field(default_factory=list)  # (alias, dataset, note)


SUGGESTION_CUTOFF = 80  # rapidfuzz token_sort_ratio, 0-100: below this a name is no useful hint


class ActorResolver:
    """Resolves any spelling to one actor through normalized aliases, with every alias held in memory.

    policy 'create': an unknown name becomes a new actor and is listed in `created`;
    policy 'strict': an unknown name is an error.
    """

    def __init__(self, session: Session, policy: str = "create") -> None:
        if policy not in {"create", "strict"}:
            raise UsageError(f"actor policy {policy!r} is not one of: create, strict")
        self.session = session
        self.policy = policy
        self.created: list[str] = []
        self._by_key: dict[tuple[str, str], int] = {}
        self._names: dict[int, str] | None = None  # actor id -> name, read when first suggesting
        for actor_id, dataset, normalized in session.execute(
            select(ActorAlias.actor_id, ActorAlias.dataset, ActorAlias.normalized)
        ):
            self._by_key[(dataset, normalized)] = actor_id
        for actor_id, name in session.execute(select(Actor.id, Actor.name)):
            self._by_key.setdefault(("", normalize_name(name)), actor_id)

    def find(self, name: str, dataset: str = "") -> int | None:
        normalized = normalize_name(name)
        if dataset:
            found = self._by_key.get((dataset, normalized))
            if found is not None:
                return found
        return self._by_key.get(("", normalized))

    def resolve(self, name: str, dataset: str = "") -> int:
        found = self.find(name, dataset)
        if found is not None:
            return found
        if not normalize_name(name):
            raise UsageError(f"actor name {name!r} has no letters or digits")
        if self.policy == "strict":
            hint = self.suggest(name)
            raise UsageError(
                f"unknown actor {name!r} (strict actor policy)" + (f"; did you mean {hint}?" if hint else "")
            )
        actor = Actor(name=name.strip(), kind=ActorKind.GROUP.value)
        self.session.add(actor)
        self.session.flush()
        self._add_alias(actor.id, name, "")
        self.created.append(actor.name)
        return actor.id

    def suggest(self, name: str, limit: int = 3) -> str:
        return ", ".join(repr(n) for n in self.closest(name, limit=limit))

    def closest(self, name: str, limit: int = 3, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """The registry actors whose name or any alias is closest to `name` (rapidfuzz), best first, from the
        spellings this resolver holds already: 'BLA: Balochistan Liberation Army' finds Baloch Liberation Army."""
        if self._names is None:
            self._names = {actor_id: actor_name for actor_id, actor_name in
                           self.session.execute(select(Actor.id, Actor.name))}
        owners: dict[str, str] = {}
        for (_, spelling), actor_id in self._by_key.items():
            if actor_id not in self._names:  # created since the names were read
                self._names[actor_id] = self.session.get_one(Actor, actor_id).name
            if self._names[actor_id] not in exclude:
                owners.setdefault(spelling, self._names[actor_id])
        found: list[str] = []
        for spelling, _score, _ in process.extract(normalize_name(name), list(owners), scorer=fuzz.token_sort_ratio,
                                                   limit=limit * 4, score_cutoff=SUGGESTION_CUTOFF):
            if owners[spelling] not in found:
                found.append(owners[spelling])
        return found[:limit]

    def _add_alias(self, actor_id: int, alias: str, dataset: str, note: str | None = None) -> None:
        key = (dataset, normalize_name(alias))
        owner = self._by_key.get(key)
        if owner is not None and owner != actor_id:
            other = self.session.get(Actor, owner)
            raise UsageError(
                f"alias {alias!r}{f' ({dataset})' if dataset else ''} already names "
                f"{other.name if other else owner}; an alias can name one actor only"
            )
        exists = self.session.scalar(
            select(ActorAlias).where(ActorAlias.dataset == dataset, ActorAlias.normalized == key[1])
        )
        if exists is None:
            self.session.add(
                ActorAlias(actor_id=actor_id, alias=alias.strip(), normalized=key[1], dataset=dataset, note=note)
            )
        self._by_key[key] = actor_id

    def upsert(self, spec: ActorSpec) -> tuple[int, bool]:
        """Create or update one registry entry; returns (actor id, whether anything changed)."""
        actor = self.session.scalar(select(Actor).where(Actor.name == spec.name))
        existing_id = self.find(spec.name)
        if actor is None and existing_id is not None:
            actor = self.session.get(Actor, existing_id)
        changed = False
        if actor is None:
            actor = Actor(name=spec.name, kind=spec.kind.value, description=spec.description)
            self.session.add(actor)
            self.session.flush()
            changed = True
        else:
            for attr, value in (("kind", spec.kind.value), ("description", spec.description)):
                if value is not None and getattr(actor, attr) != value:
                    setattr(actor, attr, value)
                    changed = True
        if spec.parent:
            parent_id = self.find(spec.parent)
            if parent_id is None:
                raise UsageError(f"actor {spec.name!r}: parent {spec.parent!r} is not in the registry (list it first)")
            if actor.parent_id != parent_id:
                actor.parent_id = parent_id
                changed = True
        before = len(self._by_key)
        self._add_alias(actor.id, spec.name, "")
        for alias, dataset, note in spec.aliases:
            self._add_alias(actor.id, alias, dataset, note)
        return actor.id, changed or len(self._by_key) != before


# ------------------------------------------------------------------------------------------ sources, places


def get_or_create_source(session: Session, record: SourceRecord) -> Source:
    """The stored source for `record`, found by URL, dataset record or citation; blanks filled in from `record`."""
    source: Source | None = None
    if record.url:
        source = session.scalar(select(Source).where(Source.url == record.url))
    elif record.dataset and record.dataset_record_id:
        source = session.scalar(
            select(Source).where(
                Source.dataset == record.dataset, Source.dataset_record_id == record.dataset_record_id
            )
        )
    elif record.citation:
        source = session.scalar(
            select(Source).where(Source.url.is_(None), Source.citation == record.citation).limit(1)
        )
    else:
        raise UsageError("a source needs a URL, a citation, or a dataset record id")
    values = {
        "kind": record.kind, "url": record.url, "citation": record.citation, "outlet": record.outlet,
        "title": record.title, "published_on": record.published_on, "author": record.author,
        "language": record.language, "accessed_on": record.accessed_on, "full_text": record.full_text,
        "full_text_sha256": hashlib.sha256(record.full_text.encode()).hexdigest() if record.full_text else None,
        "dataset": record.dataset, "dataset_release": record.dataset_release,
        "dataset_record_id": record.dataset_record_id,
    }
    if source is None:
        source = Source(**values)
        session.add(source)
        session.flush()
        return source
    for attr, value in values.items():
        if value is not None and getattr(source, attr) is None:
            setattr(source, attr, value)
    return source


def get_or_create_location(session: Session, record: LocationRecord) -> Location:
    key = record.key
    location = session.scalar(select(Location).where(Location.key == key))
    if location is None:
        location = Location(
            key=key, country=record.country, admin1=record.admin1, admin2=record.admin2, place=record.place,
            latitude=record.latitude, longitude=record.longitude,
            geo_precision=record.geo_precision.value if record.geo_precision else None,
        )
        session.add(location)
        session.flush()
    return location


# ------------------------------------------------------------------------------------------------ figures


def choose_figures(
    incident_key: str, measure: str, derived: tuple[int | None, int | None, int | None], manual_best: int | None
) -> tuple[int | None, int | None, int | None]:
    """The incident's (low, best, high): the reports' range, with the analyst's best when one is set."""
    low, best, high = derived
    if manual_best is None:
        return low, best, high
    if low is None or high is None:
        return manual_best, manual_best, manual_best  # an analyst's figure with no report behind it is a bound
    if not low <= manual_best <= high:
        raise UsageError(
            f"incident {incident_key}: {measure} best {manual_best} lies outside the range its reports give "
            f"({low}-{high}); add the report that gives {manual_best}, or choose a figure inside the range"
        )
    return low, manual_best, high


def recompute_figures(incident: Incident, reports: list[Report]) -> None:
    """low/high = min/max over non-preliminary reports; best = the analyst's choice, else the latest report's."""
    for measure in ("killed", "wounded"):
        manual = getattr(incident, f"{measure}_best") if getattr(incident, f"{measure}_best_manual") else None
        low, best, high = choose_figures(incident.key, measure, derive_figures(reports, measure), manual)
        setattr(incident, f"{measure}_low", low)
        setattr(incident, f"{measure}_best", best)
        setattr(incident, f"{measure}_high", high)
    if incident.perpetrators_killed is None:
        incident.perpetrators_killed = derive_figures(reports, "perpetrators_killed")[1]


# ------------------------------------------------------------------------------------------------ incidents


def stronger_attribution(a: str | None, b: str | None) -> str | None:
    ranks = {member.value: rank for rank, member in enumerate(ATTRIBUTION_STRENGTH)}
    candidates = [x for x in (a, b) if x is not None]
    return min(candidates, key=lambda x: ranks[x]) if candidates else None


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class Writer:
    """Writes incident records inside one session, recording every change to a curated field.

    One Writer serves one load or import run; counts say what happened to each record.
    """

    def __init__(
        self, session: Session, *, actor_policy: str = "create", who: str | None = None,
        why: str | None = None, import_run: Import | None = None,
    ) -> None:
        self.session = session
        self.actors = ActorResolver(session, actor_policy)
        self.who = who or current_user()
        self.why = why
        self.import_run = import_run
        self.counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        self.last_key: str | None = None

    def save(self, record: IncidentRecord, dataset: str = "") -> str:
        """Insert or update the incident `record` describes; returns 'inserted', 'updated' or 'unchanged'."""
        record.validate()
        incident = self._find(record)
        outcome = "inserted" if incident is None else "unchanged"
        location = get_or_create_location(self.session, record.location) if record.location else None
        if incident is None:
            incident = Incident(key=record.key or self._free_key(record.default_key()))
        before = {name: getattr(incident, name) for name in CURATED_FIELDS} if outcome != "inserted" else {}

        incident.title = record.title
        incident.date_start = record.date_start
        incident.date_end = record.date_end
        incident.date_precision = record.date_precision.value
        incident.location_id = location.id if location else None
        incident.attack_type = record.attack_type
        incident.target_type = record.target_type
        incident.weapon_type = record.weapon_type
        incident.suicide = record.suicide
        incident.summary = record.summary
        incident.status = record.status.value
        incident.origin_dataset = record.origin_dataset
        incident.origin_id = record.origin_id
        incident.raw_row = record.raw_row
        incident.killed_best_manual = record.killed_best is not None
        incident.wounded_best_manual = record.wounded_best is not None
        if record.killed_best is not None:
            incident.killed_best = record.killed_best
        if record.wounded_best is not None:
            incident.wounded_best = record.wounded_best
        if record.perpetrators_killed is not None:
            incident.perpetrators_killed = record.perpetrators_killed
        self.session.add(incident)
        self.session.flush()

        reports_changed = self._save_reports(incident, record.reports)
        actors_changed = self._save_actors(incident, record.actors, dataset)
        reports = list(self.session.scalars(
            select(Report).where(Report.incident_id == incident.id).order_by(Report.id)
        ))
        recompute_figures(incident, reports)
        self.session.flush()

        if outcome != "inserted":
            changes = self._record_revisions(incident, before)
            if changes or reports_changed or actors_changed:
                outcome = "updated"
        self.counts[outcome] += 1
        self.last_key = incident.key
        return outcome

    def _find(self, record: IncidentRecord) -> Incident | None:
        if record.origin_dataset and record.origin_id:
            found = self.session.scalar(
                select(Incident).where(
                    Incident.origin_dataset == record.origin_dataset, Incident.origin_id == record.origin_id
                )
            )
            if found is not None:
                return found
        if record.key:
            return self.session.scalar(select(Incident).where(Incident.key == record.key))
        return None

    def _free_key(self, base: str) -> str:
        key, n = base, 1
        while self.session.scalar(select(Incident.id).where(Incident.key == key)) is not None:
            n += 1
            key = f"{base}-{n}"
        return key

    def _save_reports(self, incident: Incident, reports: list[ReportRecord]) -> bool:
        changed = False
        for record in reports:
            source = get_or_create_source(self.session, record.source)
            report = self.session.scalar(
                select(Report).where(Report.incident_id == incident.id, Report.source_id == source.id)
            )
            values = {
                "reported_on": record.reported_on,
                "killed": record.killed, "killed_low": record.killed_low, "killed_high": record.killed_high,
                "killed_at_least": record.killed_at_least,
                "wounded": record.wounded, "wounded_at_least": record.wounded_at_least,
                "perpetrators_killed": record.perpetrators_killed, "preliminary": record.preliminary,
                "perpetrator_stated": record.perpetrator_stated,
                "attribution": record.attribution.value if record.attribution else None,
                "excerpt": record.excerpt, "note": record.note,
            }
            if report is None:
                self.session.add(Report(incident_id=incident.id, source_id=source.id, **values))
                changed = True
                continue
            for attr, value in values.items():
                if getattr(report, attr) != value:
                    self._revision("reports", report.id, attr, getattr(report, attr), value)
                    setattr(report, attr, value)
                    changed = True
        self.session.flush()
        return changed

    def _save_actors(self, incident: Incident, links: list[ActorLink], dataset: str) -> bool:
        changed = False
        existing = {
            (link.actor_id, link.role): link
            for link in self.session.scalars(select(IncidentActor).where(IncidentActor.incident_id == incident.id))
        }
        for link in links:
            actor_id = self.actors.resolve(link.name, dataset)
            source_id = get_or_create_source(self.session, link.source).id if link.source else None
            attribution = link.attribution.value if link.attribution else None
            row = existing.get((actor_id, link.role.value))
            if row is None:
                row = IncidentActor(
                    incident_id=incident.id, actor_id=actor_id, role=link.role.value,
                    attribution=attribution, source_id=source_id,
                )
                self.session.add(row)
                existing[(actor_id, link.role.value)] = row
                changed = True
                continue
            stronger = stronger_attribution(row.attribution, attribution)
            if stronger != row.attribution:
                self._revision("incident_actors", row.id, "attribution", row.attribution, stronger)
                row.attribution = stronger
                row.source_id = source_id or row.source_id
                changed = True
        self.session.flush()
        return changed

    def _record_revisions(self, incident: Incident, before: dict[str, object]) -> int:
        changes = 0
        for name in CURATED_FIELDS:
            old, new = before.get(name), getattr(incident, name)
            if _as_text(old) != _as_text(new):
                self._revision("incidents", incident.id, name, old, new)
                changes += 1
        return changes

    def _revision(self, table: str, row_id: int, name: str, old: object, new: object) -> None:
        self.session.add(
            Revision(
                table_name=table, row_id=row_id, field=name, old_value=_as_text(old), new_value=_as_text(new),
                changed_by=self.who, reason=self.why,
                import_id=self.import_run.id if self.import_run else None,
            )
        )


def start_import(session: Session, file_name: str, fmt: str, sha256: str | None, who: str | None = None) -> Import:
    run = Import(file_name=file_name, format=fmt, file_sha256=sha256, imported_by=who or current_user())
    session.add(run)
    session.flush()
    return run


def finish_import(run: Import, read: int, counts: dict[str, int], rejected: int = 0) -> None:
    run.rows_read = read
    run.inserted = counts.get("inserted", 0)
    run.updated = counts.get("updated", 0)
    run.unchanged = counts.get("unchanged", 0)
    run.rejected = rejected
    run.finished_at = datetime.now(UTC)


def require_incident(session: Session, key: str, for_update: bool = False) -> Incident:
    """The incident with `key`. for_update locks its row (PostgreSQL) so that two editors of one incident take
    turns: each recomputes the figures from every report, the other's included. SQLite's writers take turns
    already (BEGIN IMMEDIATE)."""
    query = select(Incident).where(Incident.key == key)
    incident = session.scalar(query.with_for_update() if for_update else query)
    if incident is None:
        keys = [k for (k,) in session.execute(select(Incident.key))]
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.4)
        hint = f" Did you mean: {', '.join(close)}?" if close else " List keys with: incidents list"
        raise NotFoundError(f"No incident with key {key!r}.{hint}")
    return incident


# --------------------------------------------------------------------------------------- analyst's edits

# Fields `incidents set` may change, with how a value is read. killed_best/wounded_best become the analyst's
# choice; the value 'auto' hands them back to the reports.
SETTABLE = {
    "title": "text", "summary": "text", "attack_type": "text", "target_type": "text", "weapon_type": "text",
    "status": "status", "suicide": "bool", "killed_best": "count", "wounded_best": "count",
    "perpetrators_killed": "count",
}


def add_report(session: Session, key: str, record: ReportRecord, who: str | None = None,
               why: str | None = None) -> Report:
    """Add one source's account to an incident and recompute its figures; every change is a revision."""
    incident = require_incident(session, key, for_update=True)
    if record.reported_on is None:
        record.reported_on = record.source.published_on
    source = get_or_create_source(session, record.source)
    if session.scalar(select(Report.id).where(Report.incident_id == incident.id, Report.source_id == source.id)):
        raise UsageError(f"{key} already has a report from {record.source.describe()}; one report per source")
    writer = Writer(session, who=who, why=why)
    before = {name: getattr(incident, name) for name in CURATED_FIELDS}
    report = Report(
        incident_id=incident.id, source_id=source.id, reported_on=record.reported_on, killed=record.killed,
        killed_low=record.killed_low, killed_high=record.killed_high, killed_at_least=record.killed_at_least,
        wounded=record.wounded, wounded_at_least=record.wounded_at_least,
        perpetrators_killed=record.perpetrators_killed, preliminary=record.preliminary,
        perpetrator_stated=record.perpetrator_stated,
        attribution=record.attribution.value if record.attribution else None, excerpt=record.excerpt, note=record.note,
    )
    session.add(report)
    session.flush()
    writer._revision("reports", report.id, "report", None, record.source.describe())
    reports = list(session.scalars(select(Report).where(Report.incident_id == incident.id).order_by(Report.id)))
    recompute_figures(incident, reports)
    session.flush()
    writer._record_revisions(incident, before)
    return report


def set_field(session: Session, key: str, name: str, value: str, who: str | None = None,
              why: str | None = None) -> tuple[object, object]:
    """Change one curated field of an incident; returns (old, new). The change is a revision."""
    if name not in SETTABLE:
        raise UsageError(f"{name!r} cannot be set; settable fields: {', '.join(sorted(SETTABLE))}")
    incident = require_incident(session, key, for_update=True)
    before = {field: getattr(incident, field) for field in CURATED_FIELDS}
    kind = SETTABLE[name]
    with session.no_autoflush:  # the half-changed incident must not reach the database before it is whole
        _set(session, incident, name, kind, value)
    session.flush()
    Writer(session, who=who, why=why)._record_revisions(incident, before)
    return before[name], getattr(incident, name)


def _set(session: Session, incident: Incident, name: str, kind: str, value: str) -> None:
    try:
        if name in ("killed_best", "wounded_best"):
            manual = value.strip().lower() != "auto"
            setattr(incident, f"{name.split('_')[0]}_best_manual", manual)
            if manual:
                setattr(incident, name, parse_count(value, name))
            reports = list(session.scalars(select(Report).where(Report.incident_id == incident.id).order_by(Report.id)))
            recompute_figures(incident, reports)
        elif kind == "count":
            setattr(incident, name, parse_count(value, name))
        elif kind == "bool":
            setattr(incident, name, parse_bool(value, name))
        elif kind == "status":
            status = parse_choice(value, name, Status)
            if status is None:
                raise FieldError(name, value, "is blank")
            incident.status = status.value
        else:
            setattr(incident, name, value.strip() or None)
    except FieldError as exc:
        raise UsageError(f"{name} {exc.value!r} {exc.reason}") from None


def history(session: Session, key: str) -> list[dict[str, object]]:
    """Every revision of an incident, its reports and its actor links, oldest first."""
    incident = require_incident(session, key)
    report_ids = list(session.scalars(select(Report.id).where(Report.incident_id == incident.id)))
    link_ids = list(session.scalars(select(IncidentActor.id).where(IncidentActor.incident_id == incident.id)))
    rows = session.scalars(
        select(Revision).where(
            ((Revision.table_name == "incidents") & (Revision.row_id == incident.id))
            | ((Revision.table_name == "reports") & Revision.row_id.in_(report_ids or [-1]))
            | ((Revision.table_name == "incident_actors") & Revision.row_id.in_(link_ids or [-1]))
        ).order_by(Revision.changed_at, Revision.id)
    )
    return [{"when": r.changed_at.isoformat(), "table": r.table_name, "row": r.row_id, "field": r.field,
             "old": r.old_value, "new": r.new_value, "by": r.changed_by, "why": r.reason, "import": r.import_id}
            for r in rows]


# ------------------------------------------------------------------------------------ registry edits


def _actor(session: Session, name: str) -> Actor:
    resolver = ActorResolver(session, "strict")
    actor_id = resolver.find(name)
    if actor_id is None:
        hint = resolver.suggest(name)
        raise NotFoundError(f"No actor is called {name!r}." + (f" Did you mean {hint}?" if hint else ""))
    actor = session.get(Actor, actor_id)
    assert actor is not None
    return actor


def add_actor(session: Session, name: str, kind: str = "group", parent: str | None = None,
              aliases: list[str] | None = None, who: str | None = None, why: str | None = None) -> Actor:
    """A new registry entry; refused when the name (or an alias) already names an actor."""
    resolver = ActorResolver(session, "strict")
    if resolver.find(name) is not None:
        raise UsageError(f"{name!r} already names an actor; add a spelling with: incidents actors alias")
    kind_value = parse_choice(kind, "kind", ActorKind) or ActorKind.GROUP
    actor_id, _ = resolver.upsert(ActorSpec(name=name.strip(), kind=kind_value, parent=parent,
                                            aliases=[(alias, "", None) for alias in aliases or []]))
    Writer(session, who=who, why=why)._revision("actors", actor_id, "created", None, name.strip())
    session.flush()
    return session.get(Actor, actor_id)  # type: ignore[return-value]


def add_alias(session: Session, name: str, alias: str, dataset: str = "", who: str | None = None,
              why: str | None = None) -> Actor:
    if dataset not in {"", "gtd", "ucdp", "acled"}:
        raise UsageError(f"--dataset {dataset!r} is not one of: gtd, ucdp, acled")
    actor = _actor(session, name)
    resolver = ActorResolver(session, "strict")
    resolver._add_alias(actor.id, alias, dataset)
    Writer(session, who=who, why=why)._revision("actors", actor.id, "alias", None,
                                                alias + (f" ({dataset})" if dataset else ""))
    session.flush()
    return actor


def rename_actor(session: Session, name: str, new_name: str, who: str | None = None,
                 why: str | None = None) -> Actor:
    """Rename an actor; the old name stays an alias, so imports and filters that use it still find it."""
    actor = _actor(session, name)
    new_name = new_name.strip()
    other = ActorResolver(session, "strict").find(new_name)
    if other is not None and other != actor.id:
        raise UsageError(f"{new_name!r} already names another actor; to fold one into the other use: "
                         f"incidents actors merge {new_name!r} {name!r}")
    if session.scalar(select(Actor.id).where(Actor.name == new_name, Actor.id != actor.id)) is not None:
        raise UsageError(f"{new_name!r} already names another actor")
    old = actor.name
    actor.name = new_name
    resolver = ActorResolver(session, "strict")
    resolver._add_alias(actor.id, new_name, "")
    resolver._add_alias(actor.id, old, "")
    Writer(session, who=who, why=why)._revision("actors", actor.id, "name", old, new_name)
    session.flush()
    return actor


def _is_within(session: Session, actor: Actor, group: Actor) -> bool:
    """Whether `actor` is `group` or sits somewhere under it."""
    ancestor: Actor | None = actor
    while ancestor is not None:
        if ancestor.id == group.id:
            return True
        ancestor = session.get(Actor, ancestor.parent_id) if ancestor.parent_id else None
    return False


def merge_actors(session: Session, keep_name: str, other_name: str, who: str | None = None,
                 why: str | None = None) -> dict[str, object]:
    """Fold actor `other_name` into `keep_name`: its name and every alias become KEEP's aliases, its incident
    links and sub-groups follow, and the merge is recorded. Reports keep the name as their source stated it.
    Where an incident names both, one link stays: the stronger attribution, with its source (the other is kept
    in the history)."""
    keep, other = _actor(session, keep_name), _actor(session, other_name)
    if keep.id == other.id:
        raise UsageError(f"{keep_name!r} and {other_name!r} are one actor already")
    if _is_within(session, keep, other):
        raise UsageError(f"{keep.name!r} sits under {other.name!r}; merge the other way round, or move it first")
    writer = Writer(session, who=who, why=why or f"merge actor {other.name} into {keep.name}")
    aliases = list(session.scalars(select(ActorAlias).where(ActorAlias.actor_id == other.id)))
    kept_keys = {(a.dataset, a.normalized) for a in session.scalars(
        select(ActorAlias).where(ActorAlias.actor_id == keep.id))}
    for alias in aliases:
        if (alias.dataset, alias.normalized) in kept_keys:
            session.delete(alias)
        else:
            alias.actor_id = keep.id
        scope = f" ({alias.dataset})" if alias.dataset else ""
        writer._revision("actors", keep.id, "alias", None, alias.alias + scope)
    own_name = ("", normalize_name(other.name))
    spellings = len(aliases)
    if own_name not in kept_keys | {(a.dataset, a.normalized) for a in aliases}:
        session.add(ActorAlias(actor_id=keep.id, alias=other.name, normalized=own_name[1], dataset=""))
        spellings += 1
    moved = joined = 0
    kept_links = {(link.incident_id, link.role): link for link in session.scalars(
        select(IncidentActor).where(IncidentActor.actor_id == keep.id))}
    for link in list(session.scalars(select(IncidentActor).where(IncidentActor.actor_id == other.id))):
        twin = kept_links.get((link.incident_id, link.role))
        if twin is None:
            link.actor_id = keep.id
            writer._revision("incident_actors", link.id, "actor", other.name, keep.name)
            moved += 1
            continue
        stronger = stronger_attribution(twin.attribution, link.attribution)
        if stronger != twin.attribution:
            writer._revision("incident_actors", twin.id, "attribution", twin.attribution, stronger)
            twin.attribution, twin.source_id = stronger, link.source_id
        writer._revision("incident_actors", link.id, "actor", other.name,
                         f"{keep.name} (one link: {link.attribution or 'no'} attribution by source {link.source_id})")
        session.delete(link)
        joined += 1
    children = list(session.scalars(select(Actor).where(Actor.parent_id == other.id)))
    for child in children:
        child.parent_id = keep.id
        writer._revision("actors", child.id, "parent", other.name, keep.name)
    if keep.parent_id is None and other.parent_id is not None and other.parent_id != keep.id:
        keep.parent_id = other.parent_id
    writer._revision("actors", other.id, "merged_into", other.name, keep.name)
    session.flush()
    session.delete(other)
    session.flush()
    return {"kept": keep.name, "merged": other_name, "aliases": spellings, "links_moved": moved,
            "links_joined": joined, "subgroups": len(children)}


def set_parent(session: Session, name: str, parent: str | None, who: str | None = None,
               why: str | None = None) -> Actor:
    """Place an actor under a parent group (for roll-ups), or at the top with parent None. Cycles are refused."""
    actor = _actor(session, name)
    parent_actor = _actor(session, parent) if parent else None
    if parent_actor is not None and _is_within(session, parent_actor, actor):
        raise UsageError(f"{parent_actor.name!r} is {actor.name!r} or one of its sub-groups; "
                         "a group cannot sit under itself")
    old = session.get(Actor, actor.parent_id).name if actor.parent_id else None  # type: ignore[union-attr]
    actor.parent_id = parent_actor.id if parent_actor else None
    Writer(session, who=who, why=why)._revision("actors", actor.id, "parent", old,
                                                parent_actor.name if parent_actor else None)
    session.flush()
    return actor
