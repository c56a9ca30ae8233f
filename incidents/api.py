"""The Python API: one function per CLI command. Each takes a database (URL, file path or Engine)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine, false, func, select
from sqlalchemy.orm import Session

from incidents import extract as extraction  # the package; api.extract is the command
from incidents.analysis import releases as release_reads
from incidents.analysis import summaries, timelines
from incidents.analysis.asof import discard, parse_as_of, snapshot
from incidents.analysis.filters import Filters, filtered_incidents
from incidents.analysis.reads import actor_registry, incident_detail, list_incidents, listing, source_list
from incidents.analysis.reads import history as read_history
from incidents.curation import merging, recording
from incidents.curation.duplicates import candidate_pairs
from incidents.db import admin, migrations
from incidents.db import engine as engines
from incidents.db.url import database_url, describe
from incidents.errors import FieldError, InputError, NotFoundError, UsageError, option
from incidents.extract.dates import FIRST_YEAR, LAST_YEAR
from incidents.files import atomic_write, input_file, output_file, read_text
from incidents.io.exports import export_incidents, frame_rows, spreadsheet_safe, write_datapackage, write_export
from incidents.io.geojson import Written, write_geojson
from incidents.io.importers.fixtures import DEMO_FIXTURES, FIXTURES_DIR, REGISTRY_FIXTURE, LoadResult, load_fixtures
from incidents.io.importing import ImportOptions, ImportResult, Progress, run_import
from incidents.io.parquet import write_frame, write_tables
from incidents.limits import limit
from incidents.models import Actor, Attribution, Incident, Location, Report, Source
from incidents.records import (
    parse_choice,
    parse_date,
)
from incidents.store import actors as registry
from incidents.store import edits
from incidents.store import releases as store_releases
from incidents.store.sources import merge_sources

# What every function takes as `db`: a SQLite path, a SQLAlchemy URL, an Engine, or None (INCIDENTS_DB, else
# ./incidents.db). For many calls on one database, incidents.open() keeps one engine instead.
DatabaseArg = str | Path | Engine | None
T = TypeVar("T")
__all__ = [
    "DatabaseArg", "READY", "Written", "actor_add", "actor_alias", "actor_merge", "actor_rename", "actor_set_parent",
    "actors",
    "add", "add_many", "backup", "chart", "connected", "counts", "current", "delete", "demo", "downgrade", "duplicates",
    "event_log", "export", "extract", "extract_apply", "gaps", "grant_reader", "history", "import_file",
    "releases", "diff", "write_diff", "conflicts", "settle_conflict",
    "incident_listing", "incidents", "init",
    "load", "merge", "not_duplicate", "perpetrator_add", "perpetrator_remove", "perpetrator_set", "read_article",
    "report_add", "report_delete", "report_restore", "restore", "restore_incident", "serve_command", "set_field",
    "show", "site", "source_delete", "source_merge", "source_restore", "sources", "summary",
    "timeline", "unmerge", "upgrade",
]


READY = "incidents_ready"  # an engine's execution option: its schema was checked once (see incidents.Database)


@contextmanager
def connected(db: DatabaseArg, as_of: str | date | None = None, *, ready: bool = True) -> Iterator[Engine]:
    """An engine for `db` for the length of one call. A caller's Engine is used as it is; one made here from a
    path or URL (None: INCIDENTS_DB, else ./incidents.db) is disposed at the end. `ready` requires the schema
    to be current; `as_of` answers from a snapshot of the database at the end of that day, removed afterwards."""
    engine = db if isinstance(db, Engine) else engines.make_engine(database_url(None if db is None else str(db)))
    own = engine is not db
    try:
        if ready and not engine.get_execution_options().get(READY):
            migrations.require_ready(engine)
        day = parse_as_of(as_of)
        if day is None:
            yield engine
            return
        copy = snapshot(engine, day)
        try:
            yield copy
        finally:
            discard(copy)
    finally:
        if own:
            engine.dispose()


def _database_file(db: DatabaseArg) -> Path | None:
    """The SQLite file `db` names (None for PostgreSQL and memory): a file no export may be written over."""
    return engines.sqlite_file(db if isinstance(db, Engine) else database_url(None if db is None else str(db)))


def _write(db: DatabaseArg, what: str, work: Callable[[Session], T]) -> T:
    """`work(session)` in one writing transaction (engines.write) on `db`."""
    with connected(db) as engine:
        return engines.write(engine, what, work)


def init(db: DatabaseArg = None, registry: bool = True) -> str:
    """Create the database if needed and migrate it to the newest schema. A new database gets the bundled actor
    registry (fixtures/actors.yaml) unless `registry` is False. Returns what was done."""
    with connected(db, ready=False) as engine:
        message, created = _schema(engine)
        # A database with nothing in it gets the registry: a new one, and one whose first init was stopped
        # between the schema and the registry (two transactions), so that running init again finishes the job.
        with engines.session_factory(engine)() as session:
            empty = session.scalar(select(Actor.id).limit(1)) is None and session.scalar(
                select(Incident.id).limit(1)) is None
        if not empty or not registry:
            return (f"{message}; the actor registry is empty (--empty-registry)."
                    if created and not registry else message)
        loaded = load_fixtures(engine, [FIXTURES_DIR / REGISTRY_FIXTURE])
        return (f"{message.rstrip('.')}; installed the actor registry ({loaded.actors} actors, from "
                f"{REGISTRY_FIXTURE}).")


def _schema(engine: Engine) -> tuple[str, bool]:
    """Create or upgrade the schema: (what was done, whether the schema is new)."""
    before = migrations.current_revision(engine)
    repaired = migrations.upgrade(engine)
    where = describe(str(engine.url))
    if repaired:
        where += (f" (first repaired a migration that an older version had stopped part-way: dropped the "
                  f"left-over {', '.join(repaired)})")
    if before is None:
        return f"Created the schema in {where} (revision {migrations.head_revision()})", True
    if before != migrations.head_revision():
        return f"Upgraded {where} from {before} to {migrations.head_revision()}.", False
    return f"{where} is already at the newest schema ({before}).", False


def load(db: DatabaseArg, paths: list[str | Path]) -> LoadResult:
    """Load YAML fixture files (actors, sources, incidents) in one transaction."""
    files = [input_file(p, "fixture file") for p in paths]
    with connected(db) as engine:
        return load_fixtures(engine, files)


def import_file(db: DatabaseArg, path: str | Path, progress: Progress | None = None, **options: Any) -> ImportResult:
    """Import a GTD, UCDP GED, ACLED or native CSV (GTD also XLSX; .gz read directly).

    options: format, dry_run, on_error ('abort' or 'skip'), rejects (path), actor_policy, country, who.
    """
    source = input_file(path, "file to import")
    if options.get("rejects") is not None:
        options["rejects"] = output_file(options["rejects"], "rejects file", reads=(source, _database_file(db)))
    with connected(db) as engine:
        return run_import(engine, source, ImportOptions(**options), progress)


EXPORT_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".geojson": "geojson", ".parquet": "parquet"}


def export(db: DatabaseArg, what: str, out: str | Path, fmt: str | None = None, excel: bool = False,
           freq: str = "month", by: str | None = None, rollup: bool = False, as_of: str | date | None = None,
           **filters: Any) -> int:
    """Write an export and its datapackage.json; returns the number of rows.

    what: incidents (the native format, re-importable as CSV), events (the event log), timeline, groups,
    provinces (figures per province keyed by ISO 3166-2 code, for maps).
    fmt: csv, xlsx, json or geojson (incidents and events: one point per incident, see incidents.io.geojson, and
    the count returned is a geojson.Written, which also lists the incidents without coordinates); by default the file
    name's (.csv, .xlsx, .json, .geojson), else csv. A format the file name
    contradicts (--format xlsx --out groups.csv) is refused. `by` and `freq` shape timelines only, `rollup`
    timelines and groups; given to another export they are refused rather than silently ignored.
    """
    if what == "tables":
        return _export_tables(db, out, fmt, as_of, by, freq, rollup, excel, filters)
    path = output_file(out, "export", reads=(_database_file(db),))
    named_format = EXPORT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        fmt = named_format or "csv"
    elif named_format and named_format != fmt:
        raise FieldError("fmt", fmt, f"does not match the file name {path.name} ({named_format}); name a "
                                     f".{fmt} file, or leave {option('fmt')} out")
    if by and what != "timeline":
        raise FieldError("by", by, f"shapes timeline exports only, not {what}")
    if rollup and what not in ("timeline", "groups"):
        raise FieldError("rollup", True, f"applies to timeline and groups exports, not {what}")
    if fmt == "parquet" and what == "incidents":
        raise FieldError("fmt", fmt, "is for `export tables` (every table, one Parquet file each, into a folder) "
                                     "and the analysis tables (events, timeline, groups, provinces); `export "
                                     "incidents` writes the native CSV that `incidents import` reads back")
    if fmt == "geojson" and what not in ("incidents", "events"):
        raise FieldError("fmt", fmt, f"is for incidents and events (points on a map), not {what}; "
                                     "export provinces as csv and join it to province outlines by admin1_code")
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        chosen = Filters(**filters)
        if fmt == "geojson":
            return write_geojson(session, chosen, what, path)
        if what == "incidents":
            return export_incidents(session, chosen, path, excel=excel, fmt=fmt)
        if what == "events":
            frame = timelines.event_log(session, chosen)
        elif what == "timeline":
            frame = timelines.timeline(session, chosen, freq=freq, by=by, rollup=rollup)
        elif what == "groups":
            frame = summaries.group_summary(session, chosen, rollup=rollup, as_of=parse_as_of(as_of))
        elif what == "provinces":
            frame = summaries.province_figures(session, chosen)
        else:
            raise UsageError(f"export {what!r} is not one of: incidents, events, timeline, groups, provinces, tables")
    if fmt == "parquet":
        count = write_frame(frame, path)
        write_datapackage(path, what, list(frame.columns), fmt)
        return count
    return write_export(frame_rows(frame), path, what, list(frame.columns), fmt, excel)


def _export_tables(db: DatabaseArg, out: str | Path, fmt: str | None, as_of: str | date | None, by: str | None,
                   freq: str, rollup: bool, excel: bool, filters: dict[str, Any]) -> int:
    """`export tables`: every table's live rows, one Parquet file each, into the folder `out`."""
    if fmt not in (None, "parquet"):
        raise FieldError("fmt", fmt, "is not parquet; `export tables` writes one Parquet file per table")
    if by or rollup or excel or freq != "month":
        raise UsageError("export tables takes the filters only (no --by, --freq, --rollup or --excel)")
    folder = Path(out)
    if not str(out).strip():
        raise FieldError("out", out, "is blank; name a folder")
    if not folder.parent.exists():
        raise UsageError(f"Cannot write the tables to {folder}: the folder {folder.parent} does not exist; "
                         f"create it first (mkdir -p {folder.parent})")
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        counts = write_tables(session, filtered_incidents(session, Filters(**filters)), folder)
    return counts["incidents"]


def timeline(db: DatabaseArg = None, freq: str = "month", by: str | None = None, rollup: bool = False,
             role: str = "perpetrator", rolling: int | None = None, cumulative: bool = False,
             as_of: str | date | None = None, **filters: Any) -> pd.DataFrame:
    """Incidents, killed and wounded per period (see incidents.analysis.timelines.timeline)."""
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        return timelines.timeline(session, Filters(**filters), freq=freq, by=by, rollup=rollup, role=role,
                                  rolling=rolling, cumulative=cumulative)


def summary(db: DatabaseArg = None, rollup: bool = False, role: str = "perpetrator", year: int | None = None,
            as_of: str | date | None = None, **filters: Any) -> pd.DataFrame:
    """Per-group summary (see incidents.analysis.summaries.group_summary)."""
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        return summaries.group_summary(session, Filters(**filters), rollup=rollup, role=role, year=year,
                                       as_of=parse_as_of(as_of))  # 'days since' counts to that day


def gaps(db: DatabaseArg = None, rollup: bool = False, role: str = "perpetrator", as_of: str | date | None = None,
         **filters: Any) -> timelines.Gaps:
    """Quiet spells and unusual years per group (see incidents.analysis.timelines.gaps)."""
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        chosen = Filters(**filters)
        day = parse_as_of(as_of)
        until = chosen.date_bounds()[1]
        return timelines.gaps(session, chosen, rollup=rollup, role=role,
                              as_of=min(day, until) if day and until else day or until)


def event_log(db: DatabaseArg = None, as_of: str | date | None = None, **filters: Any) -> pd.DataFrame:
    """The chronological list of incidents (see incidents.analysis.timelines.event_log)."""
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        return timelines.event_log(session, Filters(**filters))


def chart(db: DatabaseArg, what: str, out: str | Path, freq: str = "year", by: str | None = "actor",
          rollup: bool = False, as_of: str | date | None = None, **filters: Any) -> Any:
    """Draw a chart (what: timeline or groups) to a .png or .svg file; returns the matplotlib Figure."""
    path = output_file(out, "chart", reads=(_database_file(db),))
    with connected(db, as_of) as engine:
        return _chart(engine, what, path, freq, by, rollup, filters)


DATASET_NAMES = {"ucdp": "UCDP GED", "gtd": "GTD (START)", "acled": "ACLED", None: "recorded here from sources"}


def _chart(engine: Engine, what: str, out: Path, freq: str, by: str | None, rollup: bool,
           filters: dict[str, Any]) -> Any:
    """Draw the chart with a caption that counts what is plotted, says what is left out and why, and names the
    data behind the plotted incidents (datasets, not the database's address)."""
    from incidents.analysis.sql import actor_groups, group_names
    from incidents.analysis.timelines import PLACEABLE
    from incidents.io import charts

    if what not in ("timeline", "groups"):
        raise UsageError(f"chart {what!r} is not one of: timeline, groups")
    chosen = Filters(**filters)
    frame = (timeline(engine, freq=freq, by=by, rollup=rollup, **filters) if what == "timeline"
             else summary(engine, rollup=rollup, **filters))
    with engines.session_factory(engine)() as session:
        scope = Incident.id.in_(filtered_incidents(session, chosen))
        count = session.scalar(select(func.count()).where(scope)) or 0
        if count == 0:
            raise NotFoundError("Nothing to chart: no incident matches the filters.")
        groups = actor_groups(session, chosen, rollup, "perpetrator").subquery()
        reasons: list[tuple[str, Any]] = []  # (why not plotted, SQL for the incidents it leaves out)
        if what == "timeline":
            reasons.append((f"known only more coarsely than a {freq}", Incident.date_precision.not_in(PLACEABLE[freq])))
            if by == "actor":
                reasons.append(("with no perpetrator group", Incident.id.not_in(select(groups.c.incident_id))))
            elif by in ("country", "admin1"):
                column = getattr(Location, by)
                reasons.append((f"with no {by}", Incident.location_id.is_(None) | Incident.location_id.in_(
                    select(Location.id).where(column.is_(None)))))
            elif by == "attack_type":
                reasons.append(("with no attack type", Incident.attack_type.is_(None)))
        else:
            names = group_names(session)
            shown = set(frame["group"].head(charts.TOP_GROUPS))
            shown_ids = [group_id for group_id, name in names.items() if name in shown]
            outside = Incident.id.not_in(select(groups.c.incident_id).where(groups.c.group_id.in_(shown_ids)))
            reasons.append(("with no perpetrator group", Incident.id.not_in(select(groups.c.incident_id))))
            if len(frame) > charts.TOP_GROUPS:
                reasons.append((f"only of the {len(frame) - charts.TOP_GROUPS} groups not shown", outside))
        left_out, earlier = [], false()
        for why, condition in reasons:  # each incident counted under the first reason that leaves it out
            number = session.scalar(select(func.count()).where(scope, condition, ~earlier)) or 0
            if number:
                left_out.append(f"{number} {why}")
            earlier = earlier | condition
        plotted = scope & ~earlier
        shown_count, first, last = session.execute(
            select(func.count(), func.min(Incident.date_start), func.max(Incident.date_start)).where(plotted)).one()
        if not shown_count:
            raise NotFoundError(f"Nothing to chart: of the {count} incidents that match, {'; '.join(left_out)}.")
        datasets = session.execute(select(Incident.origin_dataset, func.count()).where(plotted)
                                   .group_by(Incident.origin_dataset).order_by(func.count().desc())).all()
    shown_filters = ", ".join(f"{k}={'/'.join(v) if isinstance(v, list | tuple) else v}"
                              for k, v in filters.items() if v)
    attribution = ("/".join(chosen.attribution) if chosen.attribution
                   else "claimed, attributed or suspected; denials left out")
    parts = [f"{shown_count} of {count} incidents plotted, {first} to {last}"
             + (f" (filters: {shown_filters})" if shown_filters else "")]
    if left_out:
        parts.append("Not plotted: " + "; ".join(left_out))
    if datasets:
        parts.append("Data: " + ", ".join(f"{DATASET_NAMES.get(d, d)} ({n})" for d, n in datasets))
    if what == "timeline":
        parts.append("Killed: the sum of each incident's best estimate; a gap in a killed line is a period whose "
                     "tolls are all unknown")
    else:
        parts.append("Killed: the sum of each incident's best estimate, over incidents with a known toll")
    if what == "groups" or by == "actor":
        parts.append(f"Groups: perpetrators ({attribution})")
    caption = ". ".join(parts) + "."
    if what == "timeline":
        title = f"Incidents and deaths per {freq}" + (f", by {by}" if by else "")
        return charts.timeline_chart(frame, out, title, caption, other="other groups" if by == "actor" else "other")
    return charts.groups_chart(frame, out, "Incidents and deaths per group", caption)


def incidents(db: DatabaseArg = None, limit: int | None = 100, as_of: str | date | None = None,
              **filters: Any) -> tuple[list[dict[str, Any]], int]:
    """Incidents matching filters (actor, include_subgroups, country, since, until); returns (rows, total)."""
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        return list_incidents(session, Filters(**filters), limit)


@contextmanager
def incident_listing(db: DatabaseArg = None, limit: int | None = 100, as_of: str | date | None = None,
                     **filters: Any) -> Iterator[tuple[Iterator[dict[str, Any]], int]]:
    """As `incidents`, with the rows made as they are read: `with incident_listing(...) as (rows, total):`. For a
    listing too long to hold (the CLI's `list --json`); the rows must be read inside the `with`."""
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        yield listing(session, Filters(**filters), limit)


def show(db: DatabaseArg, key: str, as_of: str | date | None = None) -> dict[str, Any]:
    """One incident in full: fields, actors with attribution, every report with its source.

    With `as_of`, as known at the end of that day (see incidents.analysis.asof); the answer then says so under 'as_of'.
    """
    with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
        detail = incident_detail(session, key)
    if as_of is not None:
        detail["as_of"] = str(parse_as_of(as_of))
    return detail


def extract(db: DatabaseArg, text: str | None = None, file: str | Path | None = None,
            published: str | date | None = None, review: str | Path | None = None, url: str | None = None,
            outlet: str | None = None, article: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The attacks an article reports (its `text`, or the UTF-8 `file`; incidents.extract.propose),
    each with the sentence every field rests on and `matches`: the stored incidents it may be a report of, best
    first (empty: a new incident). `published` (YYYY-MM-DD) resolves 'on Sunday', 'last month' and the like.
    Nothing is written to the database; with `review` (needs `file`), the review file that `extract_apply` reads
    is written there (docs/extraction.md): never over an existing file, which a person may have edited. `article`
    is what read_article gave for `file`, when the caller has read it already."""
    if review is not None and file is None:
        raise UsageError("A review file names the article's file; give the article as a file, not as text")
    if isinstance(published, datetime):
        published = published.date()
    target = None
    if review is not None:
        target = output_file(review, "review file", reads=(_database_file(db), input_file(str(file), "article")))
        if target.suffix.lower() not in (".yaml", ".yml"):
            raise FieldError("review", str(review), "is not a .yaml file; --apply reads the review as YAML")
        if target.exists():
            raise UsageError(f"The review file {target} exists (perhaps edited by hand): name a new file, or delete "
                             "it first")
    if url is not None and not re.fullmatch(r"https?://[^\s/]+\.[^\s]+", url.strip()):
        raise FieldError("url", url, "is no web address (http:// or https://, a host and a path)")
    if isinstance(published, str) and not published.strip():
        raise FieldError("published", published, "is empty; give the date as YYYY-MM-DD, or leave it out")
    page = article or read_article(text=text, file=file)
    text = page["text"]
    when = parse_date(published, "published") if published is not None and not isinstance(published, date) \
        else published
    if when is not None and not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise FieldError("published", str(published), f"is no publication date of a news article (before "
                                                      f"{FIRST_YEAR} or after {LAST_YEAR})")
    if when is None and page["published"]:
        when = date.fromisoformat(page["published"])
    url, outlet = url or page["url"], outlet or page["outlet"]
    with connected(db) as engine, engines.session_factory(engine)() as session:
        found = extraction.propose(text, when, extraction.registry_spellings(session))
        proposals = [{**proposal.as_dict(), "matches": extraction.matches(session, proposal)} for proposal in found]
        if target is not None:
            cited = Path(str(file)).resolve()
            if page["html"]:  # the review cites the page's main text, kept beside it, where its excerpts are
                cited = output_file(target.with_name(target.stem + ".article.txt"), "article text",
                                    reads=(_database_file(db), Path(str(file)).resolve()))
                if cited.exists() and cited.read_bytes() != text.encode():
                    raise UsageError(f"{cited} exists and holds another text: name a new review file, or delete it "
                                     "first")
            written = extraction.review_text(session, proposals, cited, text, target, when, url, outlet)
            if page["html"]:
                with atomic_write(cited, "w", encoding="utf-8") as handle:
                    handle.write(text)
            with atomic_write(target, "w", encoding="utf-8") as handle:
                handle.write(written)
    return proposals


SITE_MARK = ".incidents-site"  # the file that says a folder is a site `incidents site` wrote, which it may replace
STAGING = ".incidents-site-"  # the folder a site is built in, beside its own, until it is put in place


def site(db: DatabaseArg, out: str | Path, progress: Callable[[int, int], None] | None = None,
         as_of: str | date | None = None, **filters: Any) -> dict[str, Any]:
    """Write the static site of the incidents `filters` select into the folder `out` (incidents.site.build): it
    opens from the file system with no network. A folder that holds anything but a site written before is refused;
    the site is built beside it and put in place whole, so a failure leaves the folder as it was."""
    import os
    import shutil
    import tempfile
    import time

    from incidents.site.build import build

    if not str(out).strip():
        raise FieldError("out", out, "is empty; name the folder to write the site into")
    folder = Path(out).resolve()  # '.', '..' and a link to a folder: the folder itself
    if folder == Path(folder.anchor) or folder == Path.cwd().resolve():
        raise UsageError(f"Cannot write the site into {out}: name a new folder (the site replaces its folder whole, "
                         "and this one is the root or the one you are in)")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"Cannot write the site into {folder}: it is a file; name a folder")
    if not folder.parent.is_dir():
        what = "is a file" if folder.parent.exists() else "does not exist"
        raise UsageError(f"Cannot write the site into {folder}: {folder.parent} {what}; name a folder in a folder "
                         "that exists")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / SITE_MARK).exists():
        raise UsageError(f"{folder} holds files that are not a site `incidents site` wrote; name an empty or new "
                         "folder (the site would replace what is there)")
    database = _database_file(db)
    if database is not None and folder.resolve() in database.resolve().parents:
        raise UsageError(f"Cannot write the site into {folder}: the database {database} is in it")
    for left in folder.parent.glob(f"{STAGING}*"):  # a build killed before it could clean up, an hour ago or more
        if left.is_dir() and not left.is_symlink() and time.time() - left.stat().st_mtime > 3600:
            shutil.rmtree(left, ignore_errors=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING, dir=folder.parent))
    except OSError as exc:
        raise UsageError(f"Cannot write the site beside {folder}: {exc.strerror} in {folder.parent}") from None
    mask = os.umask(0)
    os.umask(mask)
    staging.chmod(0o777 & ~mask)  # a site is for sharing: as readable as any folder the user makes
    try:
        with connected(db, as_of) as engine, engines.session_factory(engine)() as session:
            result = build(session, staging, Filters(**filters), progress=progress,
                           as_of=str(parse_as_of(as_of)) if as_of is not None else None)
        (staging / SITE_MARK).write_text("Written by incidents site; it replaces this folder when run again.\n",
                                         encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f"{STAGING}old-{staging.name[len(STAGING):]}")
            folder.rename(old)
            staging.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    result["folder"] = str(folder)
    return result


def serve_command(db: DatabaseArg, metadata_file: str | Path, port: int = 8001, host: str = "127.0.0.1") -> list[str]:
    """The command that runs Datasette on the SQLite database `db` with the project's metadata (incidents.site.
    datasette), which is written to `metadata_file`; `incidents serve` runs it. UsageError for PostgreSQL
    (Datasette serves SQLite files) and when Datasette is not installed (pip install '.[web]')."""
    import json
    import sys

    from incidents.site.datasette import metadata

    database = _database_file(db)
    if database is None:
        raise UsageError("Datasette serves SQLite files, and this database is not one; on PostgreSQL, point a BI tool "
                         "at the reporting views (incidents db grant-reader ROLE gives a role those and nothing else)")
    if not database.exists():
        raise NotFoundError(f"No database at {database}. Create it with: incidents --db {database} init")
    if not 0 < port < 65536:
        raise FieldError("port", port, "is no TCP port (1-65535)")
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}", host or ""):
            raise FieldError("host", host, "is no address to listen on (127.0.0.1, 0.0.0.0, ::1 or a host name)") \
                from None
    with connected(db):  # the schema is current, so the views the metadata describes are there
        pass
    if not _module_exists("datasette"):
        raise UsageError("incidents serve needs Datasette, an optional extra: pip install '.[web]' (or "
                         "pip install datasette)")
    described = Path(metadata_file)
    with atomic_write(described, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(metadata(database.stem), indent=2))
    return [sys.executable, "-m", "datasette", "serve", str(database), "--metadata", str(described),
            "--host", host, "--port", str(port)]


def _module_exists(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def read_article(text: str | None = None, file: str | Path | None = None) -> dict[str, Any]:
    """An article as `extract` reads it: plain UTF-8 text, or a saved web page (incidents.extract.pages), whose
    main text, publication date, URL, outlet and title are taken from the page. Keys: text, html, published
    (YYYY-MM-DD or None), url, outlet, title."""
    from incidents.extract import pages

    name = str(file) if file is not None else "on standard input"
    if file is not None:
        text = read_text(file, "article", limit("FULL_TEXT_BYTES"))
    if text is None or not text.strip():
        raise UsageError(f"The article {name} is empty")
    if "\x00" in text:
        raise UsageError(f"The article {name} is not text (it holds NUL bytes); give the article's text or its saved "
                         "page")
    html = pages.is_html(text, name if file is not None else "")
    page = pages.read_page(text, name) if html else None
    body = page.text if page is not None else text
    most = limit("ARTICLE_CHARS")
    if len(body) > most:
        raise UsageError(f"The article {name} is {len(body):,} characters long, more than any news article "
                         f"({most:,}; INCIDENTS_MAX_ARTICLE_CHARS raises the bound): give one article at a time")
    if page is None:
        return {"text": text, "html": False, "published": None, "url": None, "outlet": None, "title": None}
    return {"text": page.text, "html": True, "published": page.published.isoformat() if page.published else None,
            "url": page.url, "outlet": page.outlet, "title": page.title}


def extract_apply(db: DatabaseArg, review: str | Path, who: str | None = None) -> dict[str, Any]:
    """Write a review file of `extract --review` as a person left it: every record, all or none, through the same
    path as `add --from` (add_many); a second apply adds nothing."""
    path = input_file(review, "review file")
    try:
        rows = recording.read_rows(path)
    except InputError as exc:
        if "no records" not in str(exc):
            raise
        rows = []
    if not rows:
        raise UsageError(f"{path.name}: no records in it (the article gave none, or all were deleted): nothing to "
                         "apply")
    digest = extraction.review_digest(path)

    def apply(session: Session) -> dict[str, Any]:
        if digest is not None:  # the article the review was written from, and no other
            extraction.check_review_article(session, path, rows, digest)
        return recording.add_many(session, review, who=who, rows=rows).as_dict()

    return _write(db, "incidents extract --apply", apply)


def sources(db: DatabaseArg = None, search: str | None = None,
            limit: int | None = 100) -> tuple[list[dict[str, Any]], int]:
    """Stored sources, most reported first, with their report counts and stored-text digests; (rows, total)."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return source_list(session, search, limit)


def source_merge(db: DatabaseArg, keep: int, other: int, why: str | None = None,
                 who: str | None = None) -> dict[str, Any]:
    """Fold stored source `other` into `keep` (one article stored twice; see incidents.store.sources.merge_sources)."""
    return _write(db, f"incidents sources merge {keep} {other}",
                  lambda session: merge_sources(session, keep, other, who=who, why=why))


def source_delete(db: DatabaseArg, source: int, why: str | None = None, who: str | None = None) -> dict[str, Any]:
    """Withdraw every report of stored source `source` (found unreliable): kept and shown, out of the figures."""
    return _write(db, f"incidents sources delete {source}",
                  lambda session: edits.withdraw_source(session, source, who=who, why=why))


def source_restore(db: DatabaseArg, source: int, why: str | None = None, who: str | None = None) -> dict[str, Any]:
    """Bring back the withdrawn reports of stored source `source`."""
    return _write(db, f"incidents sources restore {source}",
                  lambda session: edits.restore_source(session, source, who=who, why=why))


def actors(db: DatabaseArg = None) -> list[dict[str, Any]]:
    """The actor registry: names, kinds, parents, aliases, incident counts."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return actor_registry(session)


def add(
    db: DatabaseArg, *, date: str, country: str, source_url: str | None = None, citation: str | None = None,
    key: str | None = None, title: str | None = None, date_end: str | None = None, admin1: str | None = None,
    admin2: str | None = None, place: str | None = None, latitude: float | str | None = None,
    longitude: float | str | None = None, geo_precision: str | None = None, attack_type: str | None = None,
    target_type: str | None = None, weapon_type: str | None = None, suicide: bool | None = None,
    summary: str | None = None, status: str = "confirmed", perpetrators: list[str] | None = None,
    killed: int | str | None = None, killed_at_least: bool = False, wounded: int | str | None = None,
    wounded_at_least: bool = False, perpetrators_killed: int | str | None = None, preliminary: bool = False,
    outlet: str | None = None, source_title: str | None = None, published: str | None = None,
    excerpt: str | None = None, text_file: str | Path | None = None, actor_policy: str = "create",
    who: str | None = None, new: bool = False, source: int | str | None = None, new_source: bool = False,
) -> dict[str, Any]:
    """Record one new incident from one source. `date` as the source gives it (2023, 2023-07, 2023-07-30,
    '30 July 2023'); `perpetrators` items are 'NAME' or 'NAME=ATTRIBUTION'; tolls as stated ('at least 60',
    '50-60', 'sixty'); the source: `source_url`, `citation`, or `source`, a stored source's id. A citation near
    a stored one (but for case, spacing and punctuation: that one) is refused naming it, unless `new_source`.

    It stops, naming them, when the same source already gives an incident of that date, country and place (the same
    command run twice made a silent second incident), or when an incident of an overlapping date is recorded at
    the same district or place and not blamed on other groups only (likely_same); `new=True` records it anyway.

    Returns {'key': ..., 'created_actors': [...]}.
    """
    fields = {name: value for name, value in locals().items()
              if name in recording.FIELDS and name not in ("new", "new_source") and value is not None}
    fields["perpetrators"] = [perpetrators] if isinstance(perpetrators, str) else list(perpetrators or [])

    def write(session: Session) -> dict[str, Any]:
        record = recording.record_from(session, fields)
        return recording.save_new(session, record, new=new, actor_policy=actor_policy, who=who,
                                  new_source=new_source)

    return _write(db, "incidents add", write)


def add_many(db: DatabaseArg, path: str | Path, actor_policy: str = "create", who: str | None = None) -> dict[str, Any]:
    """Record every row of a CSV or YAML of records (the columns or keys are `add`'s keywords), each as `add` would,
    all or none. Rows recorded by an earlier run are skipped; see incidents.curation.recording.add_many."""
    return _write(db, "incidents add --from", lambda session: recording.add_many(
        session, path, actor_policy=actor_policy, who=who).as_dict())


def report_add(
    db: DatabaseArg, key: str, *, source_url: str | None = None, citation: str | None = None, outlet: str | None = None,
    source_title: str | None = None, published: str | None = None, killed: int | str | None = None,
    wounded: int | str | None = None, at_least: bool = False, perpetrators_killed: int | str | None = None,
    preliminary: bool = False, perpetrator: str | None = None, attribution: str | None = None,
    excerpt: str | None = None, text_file: str | Path | None = None, who: str | None = None, why: str | None = None,
    source: int | str | None = None, new_source: bool = False,
) -> dict[str, Any]:
    """Add one source's account of incident `key`; its low/best/high are recomputed at once. Returns them, and
    'added': False when the incident has this very account already (the same command run twice adds nothing).
    `text_file`: the article's text, stored with the source (its sha256 too); the excerpt must occur in it. The
    source: `source_url`, `citation`, or `source`, a stored source's id."""
    fields = {"source_url": source_url, "citation": citation, "source": source, "outlet": outlet,
              "source_title": source_title, "published": published, "killed": killed, "wounded": wounded,
              "killed_at_least": at_least, "perpetrators_killed": perpetrators_killed, "preliminary": preliminary,
              "excerpt": excerpt, "text_file": text_file}
    level = parse_choice(attribution, "attribution", Attribution)

    def write(session: Session) -> dict[str, Any]:
        record = recording.report_from(session, fields)
        record.perpetrator_stated, record.attribution = perpetrator, level  # as the source words it, any name
        _, added = edits.add_report(session, key, record, who=who, why=why, new_source=new_source)
        return incident_detail(session, key) | {"added": added}

    detail = _write(db, f"incidents report add {key}", write)
    return {"key": key, "killed": detail["killed"], "wounded": detail["wounded"], "added": detail["added"]}


def set_field(db: DatabaseArg, key: str, field: str, value: str, who: str | None = None,
              why: str | None = None) -> dict[str, Any]:
    """Change a curated field of incident `key` (recorded as a revision); returns old and new values. `value` is
    read as the command line reads it (a number or text; None clears a text field)."""
    value = "" if value is None else str(value)
    old, new = _write(db, f"incidents set {key} {field}",
                      lambda session: edits.set_field(session, key, field, value, who=who, why=why))
    return {"key": key, "field": field, "old": old, "new": new}


def delete(db: DatabaseArg, key: str, why: str | None = None, who: str | None = None) -> dict[str, Any]:
    """Withdraw incident `key` (never an attack, or not one to count): kept with its reports and history, shown
    by `show` as withdrawn, left out of every listing, count, view and export. `why` is required."""
    return _write(db, f"incidents delete {key}", lambda session: edits.withdraw(session, key, who=who, why=why))


def restore_incident(db: DatabaseArg, key: str, why: str | None = None, who: str | None = None) -> dict[str, Any]:
    """Undo `delete`: incident `key` counts again, as it did before."""
    return _write(db, f"incidents restore {key}", lambda session: edits.restore(session, key, who=who, why=why))


def report_delete(db: DatabaseArg, key: str, source: str, why: str | None = None,
                  who: str | None = None) -> dict[str, Any]:
    """Withdraw the report of incident `key` from `source` (its id, URL or citation): kept and shown, left out of
    the figures, which are recomputed. `why` is required."""
    return _write(db, f"incidents report delete {key}",
                  lambda session: edits.withdraw_report(session, key, source, who=who, why=why))


def report_restore(db: DatabaseArg, key: str, source: str, why: str | None = None,
                   who: str | None = None) -> dict[str, Any]:
    """Undo `report_delete`."""
    return _write(db, f"incidents report restore {key}",
                  lambda session: edits.restore_report(session, key, source, who=who, why=why))


def perpetrator_add(db: DatabaseArg, key: str, group: str, attribution: str | None = None,
                    source: str | None = None, who: str | None = None, why: str | None = None,
                    new_group: bool = False) -> dict[str, Any]:
    """Name `group` (any alias) a perpetrator of incident `key`, with the attribution (claimed, attributed,
    suspected, denied) and the source (id, URL or citation) that gives it. An unknown name is refused with the
    nearest ones, unless `new_group` adds it to the registry."""
    return _write(db, f"incidents perpetrators add {key}", lambda session: edits.perpetrator_add(
        session, key, group, attribution=attribution, source=source, who=who, why=why, new_group=new_group))


def perpetrator_set(db: DatabaseArg, key: str, group: str, attribution: str | None = None,
                    source: str | None = None, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Change the attribution and/or source of perpetrator `group` of incident `key`."""
    return _write(db, f"incidents perpetrators set {key}", lambda session: edits.perpetrator_set(
        session, key, group, attribution=attribution, source=source, who=who, why=why))


def perpetrator_remove(db: DatabaseArg, key: str, group: str, who: str | None = None,
                       why: str | None = None) -> dict[str, Any]:
    """Remove perpetrator `group` from incident `key` (kept in the history; `--as-of` before today shows it)."""
    return _write(db, f"incidents perpetrators remove {key}",
                  lambda session: edits.perpetrator_remove(session, key, group, who=who, why=why))


def duplicates(db: DatabaseArg = None, days: int = 3, km: float = 25.0, limit: int | None = 50,
               min_score: float = 0.0) -> list[dict[str, Any]]:
    """Candidate pairs of records of one attack, best first (see incidents.curation.duplicates for the scoring)."""
    if days < 0:
        raise FieldError("days", days, "must be 0 or more")
    if km <= 0:
        raise FieldError("km", km, "must be more than 0")
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return [pair.as_dict() for pair in candidate_pairs(session, days=days, km=km, limit=limit,
                                                           min_score=min_score)]


def merge(db: DatabaseArg, keep: str, other: str, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Fold incident `other` into `keep` (see incidents.curation.merging); recorded, and undone by unmerge."""
    return _write(db, f"incidents merge {keep} {other}",
                  lambda session: merging.merge(session, keep, other, who=who, why=why))


def unmerge(db: DatabaseArg, key: str, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Undo the merge of incident `key` into another, exactly."""
    return _write(db, f"incidents unmerge {key}",
                  lambda session: merging.unmerge(session, key, who=who, why=why))


def not_duplicate(db: DatabaseArg, first: str, second: str, who: str | None = None,
                  why: str | None = None) -> dict[str, Any]:
    """Record that incidents `first` and `second` are two attacks: `duplicates` leaves the pair out from then on."""
    return _write(db, f"incidents not-duplicate {first} {second}",
                  lambda session: merging.not_duplicate(session, first, second, who=who, why=why))


def releases(db: DatabaseArg = None, dataset: str | None = None) -> list[dict[str, Any]]:
    """Every import of a dataset (GTD, UCDP, ACLED and ACLED deletion lists), oldest first, with its release
    label, scope and counts."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return release_reads.list_releases(session, dataset)


def diff(db: DatabaseArg, first: str, second: str = release_reads.NOW, dataset: str | None = None) -> dict[str, Any]:
    """What changed between release `first` and release `second` (or 'now', analysts' edits included): records
    added, changed field by field with old and new values, withdrawn, restored, and conflicts with analysts' edits."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return release_reads.diff(session, first, second, dataset)


def write_diff(result: dict[str, Any], fmt: str, out: str | Path | None = None, db: DatabaseArg = None) -> str | int:
    """A diff as JSON or CSV: written to `out` whole or not at all (returns the lines written), else returned.
    `db`, the database the diff was read from, is never written over."""
    if fmt == "json":
        text = json.dumps(result, ensure_ascii=False, indent=2, default=str) + "\n"
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(release_reads.DIFF_COLUMNS)
        writer.writerows([spreadsheet_safe(value) if isinstance(value, str) else value for value in row]
                         for row in release_reads.diff_rows(result))
        text = buffer.getvalue()
    else:
        raise FieldError("format", fmt, "is not one of: json, csv")
    if out is None:
        return text
    path = output_file(out, "diff", reads=(_database_file(db),))
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return text.count("\n")


def conflicts(db: DatabaseArg = None, dataset: str | None = None) -> list[dict[str, Any]]:
    """The fields analysts changed that a later release changed too, not yet settled."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return release_reads.open_conflicts(session, dataset)


def settle_conflict(db: DatabaseArg, key: str, field: str, how: str, who: str | None = None,
                    why: str | None = None) -> dict[str, Any]:
    """Settle the open conflicts of incident `key`'s `field`: how='keep' the analyst's value, or 'take' the
    release's (which hands the field back to the dataset: later releases update it again)."""
    return _write(db, "incidents conflicts settle",
                  lambda session: store_releases.settle(session, key, field, how, who, why))


def history(db: DatabaseArg, key: str) -> list[dict[str, Any]]:
    """Every recorded change to incident `key`, its reports and actor links, oldest first."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return read_history(session, key)


def actor_add(db: DatabaseArg, name: str, kind: str = "group", parent: str | None = None,
              aliases: list[str] | None = None, who: str | None = None, why: str | None = None) -> str:
    """A new actor in the registry, with its kind, parent group and aliases; returns its name."""
    return _write(db, "incidents actors add",
                  lambda session: registry.add_actor(session, name, kind, parent, aliases, who, why).name)


def actor_alias(db: DatabaseArg, name: str, alias: str, dataset: str = "", who: str | None = None,
                why: str | None = None) -> str:
    """ALIAS becomes another spelling of actor NAME (in one dataset's files only, with `dataset`)."""
    return _write(db, "incidents actors alias",
                  lambda session: registry.add_alias(session, name, alias, dataset, who, why).name)


def actor_rename(db: DatabaseArg, name: str, new_name: str, who: str | None = None, why: str | None = None) -> str:
    """Rename an actor; the old name stays an alias. Returns the new name."""
    return _write(db, "incidents actors rename",
                  lambda session: registry.rename_actor(session, name, new_name, who, why).name)


def actor_merge(db: DatabaseArg, keep: str, other: str, who: str | None = None,
                why: str | None = None) -> dict[str, Any]:
    """Fold actor `other` into `keep` (see incidents.store.actors.merge_actors); returns what moved."""
    return _write(db, "incidents actors merge",
                  lambda session: registry.merge_actors(session, keep, other, who, why))


def actor_set_parent(db: DatabaseArg, name: str, parent: str | None, who: str | None = None,
                     why: str | None = None) -> str:
    """Put an actor under a parent group for roll-ups (None: at the top); cycles are refused."""
    return _write(db, "incidents actors set-parent",
                  lambda session: registry.set_parent(session, name, parent, who, why).name)


def counts(db: DatabaseArg = None) -> dict[str, int]:
    """How many incidents, reports, sources and actors the database holds."""
    with connected(db) as engine, engines.session_factory(engine)() as session:
        return {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (("incidents", Incident), ("reports", Report), ("sources", Source), ("actors", Actor))
        }


def current(db: DatabaseArg = None) -> dict[str, str | None]:
    """The database's schema revision and the newest this version of incidents knows."""
    with connected(db, ready=False) as engine:
        migrations.require_file(engine)
        return {"database": describe(str(engine.url)), "current": migrations.current_revision(engine),
                "head": migrations.head_revision()}


def upgrade(db: DatabaseArg = None, revision: str = "head") -> dict[str, str | None]:
    """Migrate the schema up to `revision` (default: the newest); returns current()."""
    migrations.check_revision(revision)
    with connected(db, ready=False) as engine:
        migrations.require_file(engine)
        migrations.upgrade(engine, revision)
        return current(engine)


def downgrade(db: DatabaseArg = None, revision: str = "-1") -> dict[str, str | None]:
    """Migrate the schema down to `revision` ('-1' one step, 'base' no tables); returns current()."""
    migrations.check_revision(revision)
    with connected(db, ready=False) as engine:
        migrations.require_file(engine)
        if migrations.current_revision(engine) is None:
            raise UsageError("The database has no schema to downgrade.")
        migrations.downgrade(engine, revision)
        return current(engine)


def backup(db: DatabaseArg, path: str | Path) -> str:
    """Back the database up to `path` (SQLite online backup; pg_dump on PostgreSQL)."""
    target = output_file(path, "backup", reads=(_database_file(db),))
    with connected(db) as engine:
        return admin.backup(engine, target)


def restore(db: DatabaseArg, path: str | Path) -> str:
    """Replace the database's contents with a backup made by `backup`."""
    backup_file = input_file(path, "backup")
    with connected(db, ready=False) as engine:
        return admin.restore(engine, backup_file)


def grant_reader(db: DatabaseArg, role: str, password: str | None = None) -> str:
    """PostgreSQL: let `role` read the reporting views and nothing else."""
    with connected(db) as engine:
        return admin.grant_reader(engine, role, password)


def demo(db: DatabaseArg = None, fixtures_dir: str | Path | None = None,
         exports_dir: str | Path | None = "exports") -> dict[str, Any]:
    """The quick-start job: create/upgrade the database, load the bundled fixtures, return an overview,
    and (unless exports_dir is None) write exports, their datapackage.json, a chart and the site there."""
    folder = Path(fixtures_dir) if fixtures_dir else FIXTURES_DIR
    missing = [name for name in DEMO_FIXTURES if not (folder / name).exists()]
    if missing:
        raise UsageError(f"The fixtures folder {folder} lacks {', '.join(missing)}; name the folder that has them "
                         f"({option('fixtures_dir')}).")
    with connected(db, ready=False) as engine:
        return _demo(engine, folder, exports_dir)


def _demo(engine: Engine, folder: Path, exports_dir: str | Path | None) -> dict[str, Any]:
    message, created = _schema(engine)  # the load below brings the registry, from the folder named
    message += "." if created else ""
    result = load(engine, [folder / name for name in DEMO_FIXTURES])
    rows, total = incidents(engine, limit=None)
    groups = summary(engine)
    written = []
    if exports_dir is not None:
        folder = Path(exports_dir)
        folder.mkdir(parents=True, exist_ok=True)
        for what, name, fmt in (("incidents", "incidents.csv", "csv"), ("events", "events.xlsx", "xlsx"),
                                ("timeline", "timeline.csv", "csv"), ("groups", "groups.xlsx", "xlsx")):
            export(engine, what, folder / name, fmt=fmt, freq="year", by="actor" if what == "timeline" else None)
            written.append(folder / name)
        chart(engine, "timeline", folder / "timeline.png", freq="year", by="actor")
        site(engine, folder / "site")
        written += [folder / "timeline.png", folder / "datapackage.json", folder / "site" / "index.html"]
    return {"init": message, "load": result, "counts": counts(engine), "incidents": rows, "total": total,
            "groups": groups, "written": [str(path) for path in written]}
