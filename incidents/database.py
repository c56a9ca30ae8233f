"""incidents.Database: one handle on one database for a notebook or a script, with one engine for its life.

    import incidents

    with incidents.open("tour.db", create=True) as db:
        db.load("fixtures/actors.yaml", "fixtures/seed_incidents.yaml")
        bajaur = db.incident("PAK-2023-07-30-KHAR")
        print(bajaur.killed.best, [part.actor for part in bajaur.perpetrators])
        db.timeline(actor="IS-K", freq="year")

Every method calls the function of the same command in incidents.api with this handle's engine, so the
handle and the command line give the same answers. Listings come back as DataFrames with documented columns,
one incident as an incidents.results.Incident.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Engine

from incidents import api
from incidents.analysis.timelines import Gaps
from incidents.db import engine as engines
from incidents.db import migrations
from incidents.db.url import database_url, describe
from incidents.errors import IncidentsError, UsageError
from incidents.io.importers.fixtures import LoadResult
from incidents.io.importing import ImportResult
from incidents.results import Added, Change, Incident

INCIDENT_COLUMNS = ["key", "date", "date_precision", "country", "admin1", "place", "perpetrators", "killed_low",
                    "killed_best", "killed_high", "wounded_best", "reports", "title"]
REPORT_COLUMNS = ["source", "url", "published_on", "reported_on", "killed", "killed_at_least", "wounded",
                  "wounded_at_least", "perpetrators_killed", "preliminary", "perpetrator_stated", "attribution",
                  "excerpt"]
ACTOR_COLUMNS = ["name", "kind", "parent", "aliases", "incidents", "description"]
__all__ = ["Database", "open"]
T = TypeVar("T")

HISTORY_COLUMNS = ["when", "table", "row", "field", "old", "new", "by", "why", "import"]


def open(url: str | Path | None = None, *, create: bool = False) -> Database:  # noqa: A001 - incidents.open
    """Open the database at `url` (a SQLite file path or a SQLAlchemy URL; None: INCIDENTS_DB, else
    ./incidents.db). With create=True it is created or migrated to the newest schema first; otherwise it must
    exist at the newest schema (DatabaseNotReady says what to run). Close it with `with` or .close()."""
    return Database(url, create=create)


def _translated(method: Callable[..., T]) -> Callable[..., T]:
    """The method, with database errors turned into IncidentsErrors as the command line turns them."""
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except IncidentsError:
            raise
        except Exception as exc:
            error = engines.database_error(exc)
            if error is None:
                raise
            raise error from exc

    return call


class Database:
    """A handle on one incidents database. See the module docstring for an example."""

    @_translated
    def __init__(self, url: str | Path | None = None, *, create: bool = False) -> None:
        self.url = database_url(None if url is None else str(url))
        base = engines.make_engine(self.url)
        try:
            if create:
                migrations.upgrade(base)
            migrations.require_ready(base)
        except BaseException:
            base.dispose()
            raise
        self._base: Engine | None = base
        self._engine = base.execution_options(**{api.READY: True})  # checked once, here

    # ---- life

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for queries of your own (pd.read_sql(..., db.engine))."""
        if self._base is None:
            raise UsageError(f"The handle on {describe(self.url)} is closed.")
        return self._engine

    def close(self) -> None:
        """Release the engine's connections. The handle cannot be used afterwards."""
        if self._base is not None:
            self._base.dispose()
            self._base = None

    def __enter__(self) -> Database:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<incidents.Database {describe(self.url)}{'' if self._base is not None else ' (closed)'}>"

    # ---- reading

    @_translated
    def incidents(self, *, limit: int | None = None, as_of: str | None = None, **filters: Any) -> pd.DataFrame:
        """Incidents matching the filters, newest first. Filters: actor (any alias), include_subgroups, country,
        admin1, since, until (partial dates: '2018' is the whole year), attribution, status, attack_type.

        Columns: key, date (as precise as known), date_precision, country, admin1, place, perpetrators
        ('Name=attribution; ...'), killed_low, killed_best, killed_high, wounded_best, reports (how many), title.
        attrs['total'] is how many match (more than the rows when `limit` cuts them)."""
        rows, total = api.incidents(self.engine, limit=limit, as_of=as_of, **filters)
        for row in rows:
            row["perpetrators"] = "; ".join(f"{p['actor']}={p['attribution']}" if p["attribution"] else p["actor"]
                                            for p in row["perpetrators"])
        frame = pd.DataFrame(rows, columns=INCIDENT_COLUMNS)
        frame.attrs["total"] = total
        return frame

    @_translated
    def incident(self, key: str, *, as_of: str | None = None) -> Incident:
        """One incident in full: fields, figures with the reports behind them, actors, reports and sources."""
        return Incident.from_dict(api.show(self.engine, key, as_of=as_of))

    @_translated
    def reports(self, key: str, *, as_of: str | None = None) -> pd.DataFrame:
        """The reports of one incident, settled first. Columns: source (outlet or citation), url, published_on,
        reported_on, killed, killed_at_least, wounded, wounded_at_least, perpetrators_killed, preliminary,
        perpetrator_stated, attribution, excerpt."""
        incident = self.incident(key, as_of=as_of)
        return pd.DataFrame([{
            "source": r.source.outlet or r.source.citation or r.source.url, "url": r.source.url,
            "published_on": r.source.published_on, "reported_on": r.reported_on, "killed": r.killed,
            "killed_at_least": r.killed_at_least, "wounded": r.wounded, "wounded_at_least": r.wounded_at_least,
            "perpetrators_killed": r.perpetrators_killed, "preliminary": r.preliminary,
            "perpetrator_stated": r.perpetrator_stated, "attribution": r.attribution, "excerpt": r.excerpt,
        } for r in incident.reports], columns=REPORT_COLUMNS)

    @_translated
    def actors(self) -> pd.DataFrame:
        """The actor registry. Columns: name, kind, parent, aliases (list), incidents (as perpetrator),
        description."""
        rows = api.actors(self.engine)
        for row in rows:
            row["aliases"] = [a["alias"] + (f" ({a['dataset']})" if a["dataset"] else "") for a in row["aliases"]]
        return pd.DataFrame(rows, columns=ACTOR_COLUMNS)

    @_translated
    def history(self, key: str) -> pd.DataFrame:
        """Every recorded change to the incident, its reports and actor links, oldest first. Columns: when,
        table, row, field, old, new, by, why, import (the import run's id)."""
        return pd.DataFrame(api.history(self.engine, key), columns=HISTORY_COLUMNS)

    @_translated
    def timeline(self, **options: Any) -> pd.DataFrame:
        """Incidents, killed and wounded per period (freq, by, rollup, role, rolling, cumulative, as_of and the
        filters); see incidents.analysis.timelines.timeline for the columns."""
        return api.timeline(self.engine, **options)

    @_translated
    def summary(self, **options: Any) -> pd.DataFrame:
        """One row per group (rollup, role, year, as_of and the filters); see
        incidents.analysis.summaries.group_summary for the columns."""
        return api.summary(self.engine, **options)

    @_translated
    def gaps(self, **options: Any) -> Gaps:
        """Quiet spells and unusual years per group (rollup, role, as_of and the filters)."""
        return api.gaps(self.engine, **options)

    @_translated
    def events(self, **options: Any) -> pd.DataFrame:
        """The chronological event log (as_of and the filters)."""
        return api.event_log(self.engine, **options)

    @_translated
    def duplicates(self, **options: Any) -> pd.DataFrame:
        """Candidate pairs of records of one attack, best first (days, km, limit, min_score); one row a pair
        with its score and the part each of date, place, actor and toll played."""
        return pd.DataFrame(api.duplicates(self.engine, **options))

    @_translated
    def counts(self) -> dict[str, int]:
        """How many incidents, reports, sources and actors the database holds."""
        return api.counts(self.engine)

    # ---- writing

    @_translated
    def load(self, *paths: str | Path) -> LoadResult:
        """Load YAML fixture files (actors, sources, incidents with their reports), all or nothing."""
        return api.load(self.engine, list(paths))

    @_translated
    def import_file(self, path: str | Path, **options: Any) -> ImportResult:
        """Import a GTD, UCDP GED, ACLED or native file (format, dry_run, on_error, rejects, actor_policy,
        country, who)."""
        return api.import_file(self.engine, path, **options)

    @_translated
    def add(self, **fields: Any) -> Added:
        """Record a new incident from one source (date, country, source_url or citation, and the rest of
        `incidents add`'s fields by keyword)."""
        result = api.add(self.engine, **fields)
        return Added(key=result["key"], created_actors=result["created_actors"])

    @_translated
    def add_report(self, key: str, **fields: Any) -> Incident:
        """Add one source's account of incident `key`; returns the incident with its figures recomputed."""
        api.report_add(self.engine, key, **fields)
        return self.incident(key)

    @_translated
    def set(self, key: str, field: str, value: str, *, why: str, who: str | None = None) -> Change:
        """Change a curated field of incident `key`; the change is a revision with who and why."""
        result = api.set_field(self.engine, key, field, value, who=who, why=why)
        return Change(key=key, field=field, old=result["old"], new=result["new"])

    @_translated
    def merge(self, keep: str, other: str, *, why: str | None = None, who: str | None = None) -> Incident:
        """Fold incident `other` into `keep`; returns `keep` as it stands now. Undone by unmerge(other)."""
        api.merge(self.engine, keep, other, who=who, why=why)
        return self.incident(keep)

    @_translated
    def unmerge(self, key: str, *, why: str | None = None, who: str | None = None) -> Incident:
        """Undo the merge of incident `key`; returns it, standing apart again."""
        api.unmerge(self.engine, key, who=who, why=why)
        return self.incident(key)

    @_translated
    def delete(self, key: str, *, why: str, who: str | None = None) -> Incident:
        """Withdraw incident `key`: kept with its history, out of every listing, count, view and export."""
        api.delete(self.engine, key, why=why, who=who)
        return self.incident(key)

    @_translated
    def restore(self, key: str, *, why: str | None = None, who: str | None = None) -> Incident:
        """Bring back incident `key`, withdrawn by delete."""
        api.restore_incident(self.engine, key, why=why, who=who)
        return self.incident(key)

    @_translated
    def add_perpetrator(self, key: str, group: str, **options: Any) -> Incident:
        """Name `group` (any alias) a perpetrator of incident `key` (attribution, source, why, who, new_group)."""
        api.perpetrator_add(self.engine, key, group, **options)
        return self.incident(key)

    @_translated
    def remove_perpetrator(self, key: str, group: str, *, why: str, who: str | None = None) -> Incident:
        """Remove perpetrator `group` from incident `key` (kept in the history)."""
        api.perpetrator_remove(self.engine, key, group, who=who, why=why)
        return self.incident(key)

    # ---- files

    @_translated
    def export(self, what: str, out: str | Path, **options: Any) -> int:
        """Write incidents, events, timeline, groups or provinces as CSV, XLSX or JSON with a datapackage.json
        beside it, returning the number of rows; or incidents and events as GeoJSON (fmt='geojson' or a .geojson
        file), returning the number of points as an api.Written, which also lists the incidents without
        coordinates."""
        return api.export(self.engine, what, out, **options)

    @_translated
    def chart(self, what: str, out: str | Path, **options: Any) -> Path:
        """Draw the timeline or groups chart to a .png or .svg file; returns its path."""
        api.chart(self.engine, what, out, **options)
        return Path(out)

    @_translated
    def backup(self, path: str | Path) -> str:
        """Back the database up to `path` (SQLite online backup; pg_dump on PostgreSQL)."""
        return api.backup(self.engine, path)
