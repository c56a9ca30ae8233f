"""The ORM schema: the single source of truth for every table (Alembic migrations are generated from it)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Every constraint gets a stable name, so a later migration can drop it on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        date: Date(),
        dict[str, Any]: JSON(),
    }


class DatePrecision(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class GeoPrecision(enum.StrEnum):
    EXACT = "exact"
    PLACE = "place"
    DISTRICT = "district"
    PROVINCE = "province"
    COUNTRY = "country"
    # Coordinates the gazetteer gave a location named without any (docs/places.md): a town's, or a district's
    # most populous town's. Never typed: they follow the place when it is edited.
    GAZETTEER_PLACE = "gazetteer_place"
    GAZETTEER_DISTRICT = "gazetteer_district"


GAZETTEER_PRECISIONS = {GeoPrecision.GAZETTEER_PLACE, GeoPrecision.GAZETTEER_DISTRICT}


class Status(enum.StrEnum):
    CONFIRMED = "confirmed"
    PROVISIONAL = "provisional"
    DISPUTED = "disputed"


class Role(enum.StrEnum):
    PERPETRATOR = "perpetrator"
    TARGET = "target"
    PARTY = "party"


class Attribution(enum.StrEnum):
    """Strongest first: a claim outranks an attribution by others, which outranks a suspicion."""

    CLAIMED = "claimed"
    ATTRIBUTED = "attributed"
    SUSPECTED = "suspected"
    DENIED = "denied"


class ActorKind(enum.StrEnum):
    GROUP = "group"
    STATE = "state"
    CIVILIANS = "civilians"
    UNIDENTIFIED = "unidentified"
    OTHER = "other"


class SourceKind(enum.StrEnum):
    ARTICLE = "article"
    DATASET_RECORD = "dataset_record"
    DOCUMENT = "document"


def one_of(column: str, values: type[enum.StrEnum]) -> str:
    """SQL for 'column is NULL or one of the enum's values': plain CHECK, same on SQLite and PostgreSQL."""
    listed = ", ".join(f"'{member.value}'" for member in values)
    return f"{column} IS NULL OR {column} IN ({listed})"


def ordered(low: str, best: str, high: str) -> str:
    """SQL for low <= best <= high, each comparison only where both sides are known."""
    return (
        f"({low} IS NULL OR {best} IS NULL OR {low} <= {best}) AND "
        f"({best} IS NULL OR {high} IS NULL OR {best} <= {high}) AND "
        f"({low} IS NULL OR {high} IS NULL OR {low} <= {high})"
    )


def non_negative(*columns: str) -> str:
    return " AND ".join(f"({c} IS NULL OR {c} >= 0)" for c in columns)


class Actor(Base):
    __tablename__ = "actors"
    __table_args__ = (CheckConstraint(one_of("kind", ActorKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=ActorKind.GROUP.value)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Actor | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Actor]] = relationship(back_populates="parent")
    aliases: Mapped[list[ActorAlias]] = relationship(
        back_populates="actor", cascade="all, delete-orphan", order_by="ActorAlias.alias"
    )


class ActorAlias(Base):
    """A spelling of an actor. `dataset` scopes a spelling to one dataset ('' = any source).

    UCDP writes Islamic State's attacks in Pakistan as plain 'IS' (filed under the Afghanistan-based
    actor), which elsewhere means the parent organisation; the scope lets both readings coexist.
    """

    __tablename__ = "actor_aliases"
    __table_args__ = (UniqueConstraint("dataset", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    alias: Mapped[str] = mapped_column(String(300))
    normalized: Mapped[str] = mapped_column(String(300))
    dataset: Mapped[str] = mapped_column(String(20), default="")
    note: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[Actor] = relationship(back_populates="aliases")


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"
        ),
        CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        CheckConstraint(one_of("geo_precision", GeoPrecision), name="geo_precision"),
        CheckConstraint("length(country) = 3", name="country_alpha3"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Everything that identifies the place, joined; lets bulk imports find an existing location in one lookup.
    key: Mapped[str] = mapped_column(String(600), unique=True)
    country: Mapped[str] = mapped_column(String(3), index=True)
    admin1: Mapped[str | None] = mapped_column(String(200), index=True)
    # The ISO 3166-2 code of admin1, by any spelling the gazetteer knows (incidents.gazetteer); NULL when it does
    # not know it. Derived, never typed: admin1 keeps the text as the source gave it.
    admin1_code: Mapped[str | None] = mapped_column(String(10), index=True)
    admin2: Mapped[str | None] = mapped_column(String(200))
    # The gazetteer's district code ('PK-KP:bajaur': province code, colon, folded name), by any spelling of admin2
    # it knows; NULL when it knows none. Derived, never typed, as admin1_code.
    admin2_code: Mapped[str | None] = mapped_column(String(120), index=True)
    place: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    geo_precision: Mapped[str | None] = mapped_column(String(20))


class Source(Base):
    """Anything that says something about an incident: an article, or one record of a public dataset."""

    __tablename__ = "sources"
    __table_args__ = (
        UniqueConstraint("dataset", "dataset_record_id"),
        CheckConstraint(one_of("kind", SourceKind), name="kind"),
        CheckConstraint("url IS NOT NULL OR citation IS NOT NULL OR dataset IS NOT NULL", name="identified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default=SourceKind.ARTICLE.value)
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    citation: Mapped[str | None] = mapped_column(Text)
    outlet: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None]
    author: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str | None] = mapped_column(String(20))
    accessed_on: Mapped[date | None]
    full_text: Mapped[str | None] = mapped_column(Text)
    full_text_sha256: Mapped[str | None] = mapped_column(String(64))
    dataset: Mapped[str | None] = mapped_column(String(20))
    dataset_release: Mapped[str | None] = mapped_column(String(50))
    dataset_record_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Import(Base):
    """One run of an import (or fixture load), with its reconciled counts."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(
            non_negative("rows_read", "inserted", "updated", "unchanged", "rejected"), name="counts"
        ),
        CheckConstraint(non_negative("withdrawn", "restored", "conflicts"), name="release_counts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(1000))
    format: Mapped[str] = mapped_column(String(20))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    rows_read: Mapped[int] = mapped_column(default=0)
    inserted: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    imported_by: Mapped[str | None] = mapped_column(String(100))
    # The dataset a GTD, UCDP or ACLED file is of (its origin_dataset), and the release the user named it
    # (`import --release "GED 25.1"`); NULL for native files, fixtures and unnamed releases.
    dataset: Mapped[str | None] = mapped_column(String(20))
    release: Mapped[str | None] = mapped_column(String(50))
    # `--full-release`: the file is the dataset's whole release for `scope` ({"countries": [...], "years":
    # [first, last]}); records of that scope it no longer holds were withdrawn by this run.
    full_release: Mapped[bool] = mapped_column(Boolean, default=False)
    scope: Mapped[dict[str, Any] | None]
    withdrawn: Mapped[int] = mapped_column(default=0)  # records this run withdrew (missing, or on a deletion list)
    restored: Mapped[int] = mapped_column(default=0)  # records a release had withdrawn that this run holds again
    conflicts: Mapped[int] = mapped_column(default=0)  # analyst's fields the release would have changed


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("origin_dataset", "origin_id"),
        CheckConstraint("date_end IS NULL OR date_start <= date_end", name="date_order"),
        CheckConstraint(one_of("date_precision", DatePrecision), name="date_precision"),
        CheckConstraint("date_precision IS NOT NULL", name="date_precision_set"),
        CheckConstraint(one_of("status", Status), name="status"),
        CheckConstraint(
            non_negative(
                "killed_low", "killed_best", "killed_high",
                "wounded_low", "wounded_best", "wounded_high", "perpetrators_killed",
            ),
            name="counts_non_negative",
        ),
        CheckConstraint(ordered("killed_low", "killed_best", "killed_high"), name="killed_order"),
        CheckConstraint(ordered("wounded_low", "wounded_best", "wounded_high"), name="wounded_order"),
        Index("ix_incidents_date_start", "date_start"),
        # Partial: only merged records are indexed, so an import of a million new rows pays nothing for it.
        Index("ix_incidents_merged_into_id", "merged_into_id", sqlite_where=text("merged_into_id IS NOT NULL"),
              postgresql_where=text("merged_into_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    date_start: Mapped[date]
    date_end: Mapped[date | None]
    date_precision: Mapped[str] = mapped_column(String(10), default=DatePrecision.DAY.value)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    attack_type: Mapped[str | None] = mapped_column(String(200))
    target_type: Mapped[str | None] = mapped_column(String(200))
    weapon_type: Mapped[str | None] = mapped_column(String(200))
    suicide: Mapped[bool | None] = mapped_column(Boolean)
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=Status.CONFIRMED.value)
    killed_low: Mapped[int | None] = mapped_column(Integer)
    killed_best: Mapped[int | None] = mapped_column(Integer)
    killed_high: Mapped[int | None] = mapped_column(Integer)
    # True when an analyst chose killed_best; otherwise it follows the latest non-preliminary report.
    killed_best_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    wounded_low: Mapped[int | None] = mapped_column(Integer)
    wounded_best: Mapped[int | None] = mapped_column(Integer)
    wounded_high: Mapped[int | None] = mapped_column(Integer)
    wounded_best_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    perpetrators_killed: Mapped[int | None] = mapped_column(Integer)
    origin_dataset: Mapped[str | None] = mapped_column(String(20))
    origin_id: Mapped[str | None] = mapped_column(String(100))
    raw_row: Mapped[dict[str, Any] | None]
    # Digest of the imported row as read; a re-import of an identical row is recognised without a field compare.
    row_hash: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Set when `incidents merge` folded this record into another: it stays (with its origin id, so a
    # re-import still finds it) but every listing, timeline, summary and view leaves it out.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # Set by `incidents delete KEY --why` (never an attack, or not one of ours): kept with its reports and history,
    # shown by `show`, left out of everything else like a merged record; `incidents restore KEY` clears it.
    withdrawn_at: Mapped[datetime | None]
    # The import run that inserted it (NULL: recorded by hand, by a fixture, or before runs were noted here), so
    # that `incidents diff` can tell which records a release added. No foreign key: runs are never deleted, and
    # a bulk load should not pay a check per row for it.
    import_id: Mapped[int | None] = mapped_column(Integer)

    location: Mapped[Location | None] = relationship()
    actors: Mapped[list[IncidentActor]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentActor.id"
    )
    reports: Mapped[list[Report]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="Report.id"
    )


def live_incidents() -> Any:
    """SQL that keeps the incidents every listing, count, view and export shows: neither merged into another
    record nor withdrawn (`incidents delete`)."""
    return Incident.merged_into_id.is_(None) & Incident.withdrawn_at.is_(None)


class IncidentActor(Base):
    __tablename__ = "incident_actors"
    __table_args__ = (
        UniqueConstraint("incident_id", "actor_id", "role"),
        CheckConstraint(one_of("role", Role), name="role"),
        CheckConstraint("role IS NOT NULL", name="role_set"),
        CheckConstraint(one_of("attribution", Attribution), name="attribution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own on incident_id: the unique (incident_id, actor_id, role) index leads with it.
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default=Role.PERPETRATOR.value)
    attribution: Mapped[str | None] = mapped_column(String(20))
    # The source that makes this attribution, when one is known.
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))

    # When the link was made (NULL: with its incident, as every link made before this column was). `--as-of`
    # counts a link from its source's publication, else from this.
    created_at: Mapped[datetime | None] = mapped_column(default=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="actors")
    actor: Mapped[Actor] = relationship()
    source: Mapped[Source | None] = relationship()


class Report(Base):
    """One source's account of one incident: its figures, as it stated them, and the sentence they rest on."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("incident_id", "source_id"),
        CheckConstraint(
            non_negative("killed", "killed_low", "killed_high", "wounded", "wounded_low", "wounded_high",
                         "perpetrators_killed"),
            name="counts_non_negative",
        ),
        CheckConstraint(ordered("killed_low", "killed", "killed_high"), name="killed_order"),
        CheckConstraint(ordered("wounded_low", "wounded", "wounded_high"), name="wounded_order"),
        CheckConstraint(one_of("attribution", Attribution), name="attribution"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own on incident_id: the unique (incident_id, source_id) index leads with it.
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    reported_on: Mapped[date | None]
    killed: Mapped[int | None] = mapped_column(Integer)
    # A source that gives a range (UCDP's low/high, "between 20 and 30") keeps it here; killed is its best.
    killed_low: Mapped[int | None] = mapped_column(Integer)
    killed_high: Mapped[int | None] = mapped_column(Integer)
    killed_at_least: Mapped[bool] = mapped_column(Boolean, default=False)
    wounded: Mapped[int | None] = mapped_column(Integer)
    wounded_low: Mapped[int | None] = mapped_column(Integer)
    wounded_high: Mapped[int | None] = mapped_column(Integer)
    wounded_at_least: Mapped[bool] = mapped_column(Boolean, default=False)
    perpetrators_killed: Mapped[int | None] = mapped_column(Integer)
    # A running tally from the first hours, later superseded: kept, but left out of low/best/high.
    preliminary: Mapped[bool] = mapped_column(Boolean, default=False)
    perpetrator_stated: Mapped[str | None] = mapped_column(String(300))
    attribution: Mapped[str | None] = mapped_column(String(20))
    excerpt: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set by `incidents report delete KEY SOURCE --why`: kept, shown by `show`, left out of the figures.
    withdrawn_at: Mapped[datetime | None]

    incident: Mapped[Incident] = relationship(back_populates="reports")
    source: Mapped[Source] = relationship()


class Revision(Base):
    """One change to one curated field. Replaying revisions answers 'what did we know on date X'."""

    __tablename__ = "revisions"
    __table_args__ = (Index("ix_revisions_row", "table_name", "row_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    table_name: Mapped[str] = mapped_column(String(50))
    row_id: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"), index=True)


class Merge(Base):
    """One `incidents merge KEEP OTHER`: what moved, so that `incidents unmerge` can put it back exactly."""

    __tablename__ = "merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    kept_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    # {"reports": [ids moved], "links": [ids moved], "kept_before": {field: value before the merge}}
    moved: Mapped[dict[str, Any]]
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[str | None] = mapped_column(String(100))


class NotDuplicate(Base):
    """`incidents not-duplicate A B --why`: an analyst's judgement that two records are two attacks, which
    `incidents duplicates` then respects. The pair is kept in one order (the lower id first)."""

    __tablename__ = "not_duplicates"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_a_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    incident_b_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("incident_a_id", "incident_b_id"),
        CheckConstraint("incident_a_id < incident_b_id", name="pair_ordered"),
    )


class Conflict(Base):
    """A field an analyst changed that a later release of the record's dataset changed too. The import keeps the
    analyst's value and records the release's here; `incidents conflicts` lists the open ones, and `incidents
    conflicts settle KEY FIELD --keep|--take` closes one."""

    __tablename__ = "conflicts"
    __table_args__ = (CheckConstraint("settled_how IS NULL OR settled_how IN ('kept', 'took')", name="settled_how"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(100))
    analyst_value: Mapped[str | None] = mapped_column(Text)  # as the analyst left it
    dataset_old: Mapped[str | None] = mapped_column(Text)  # the dataset's value when the analyst changed it
    dataset_value: Mapped[str | None] = mapped_column(Text)  # the value this release gives
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"), index=True)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None]
    settled_by: Mapped[str | None] = mapped_column(String(100))
    settled_how: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
