"""Dataset releases on the write side: which fields of a record an analyst owns (a new release keeps them and
records a conflict), withdrawing the records a full release or a deletion list no longer holds, and bringing
back a record a release had withdrawn when a later one holds it again. The read side (`incidents releases`,
`incidents diff`) is analysis/releases.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from incidents.errors import FieldError, NotFoundError, UsageError
from incidents.models import Conflict, Import, Incident, Location, Report, Revision, Source
from incidents.store.figures import recompute_figures
from incidents.store.reports import reports_of
from incidents.store.revisions import RevisionLog, as_text, curated_snapshot, current_user
from incidents.store.sources import place_words

DATASET_FORMATS = ("gtd", "ucdp", "acled")
DELETIONS = "acled-deletions"  # the format name of ACLED's deletion lists (io/importers/acled_deletions.py)
# Fields a new release of a record's dataset does not overwrite once an analyst has changed them (`incidents
# set`, a merge, a fixture). The date's three fields go together, as `set date` changes them together.
OWNED_FIELDS = (
    "title", "date_start", "date_end", "date_precision", "location_id", "attack_type", "target_type",
    "weapon_type", "suicide", "summary", "status", "perpetrators_killed",
)
DATE_FIELDS = ("date_start", "date_end", "date_precision")
IN_BATCH = 2000


def batches(values: list[Any], size: int = IN_BATCH) -> Iterator[list[Any]]:
    """`values` in slices small enough for one IN (...) list."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def by_analyst(import_format: str | None) -> bool:
    """Whether a revision written by a run of this format (None: no run, a person's edit) is an analyst's."""
    return import_format is None or import_format == "fixture"


def analyst_owned(session: Session, incident_id: int) -> dict[str, str | None]:
    """The fields of an incident an analyst changed since a dataset import last set them, each with the value the
    dataset had given it (what the analyst changed it from, or the value of the last conflict recorded)."""
    owned: dict[str, str | None] = {}
    rows = session.execute(
        select(Revision.field, Revision.old_value, Import.format)
        .outerjoin(Import, Import.id == Revision.import_id)
        .where(Revision.table_name == "incidents", Revision.row_id == incident_id,
               Revision.field.in_(OWNED_FIELDS))
        .order_by(Revision.id)
    )
    for field, old, import_format in rows:
        if by_analyst(import_format):
            owned.setdefault(field, old)  # the earliest change since the dataset's: what the dataset had said
        else:
            owned.pop(field, None)  # a dataset import (or a conflict settled by taking its value) set it after
    if owned:
        for field, value in session.execute(
            select(Conflict.field, Conflict.dataset_value)
            .where(Conflict.incident_id == incident_id).order_by(Conflict.id)
        ):
            if field in owned:
                owned[field] = value  # a release already said this; the analyst has been told
    return owned


def removed_links(session: Session, incident_id: int) -> set[tuple[int, str]]:
    """(actor id, role) of the links an analyst removed from an incident: a new release does not put them back."""
    removed: set[tuple[int, str]] = set()
    for (old,) in session.execute(
        select(Revision.old_value).where(
            Revision.table_name == "incident_actors", Revision.field == "link", Revision.new_value.is_(None),
            Revision.import_id.is_(None), Revision.old_value.like(f'{{"incident_id": {int(incident_id)},%'))
    ):
        kept = json.loads(old or "{}")
        removed.add((kept["actor_id"], kept["role"]))
    return removed


def analyst_set_links(session: Session, link_ids: list[int]) -> set[int]:
    """The links whose attribution an analyst set: a new release does not change it."""
    if not link_ids:
        return set()
    return set(session.scalars(
        select(Revision.row_id).where(Revision.table_name == "incident_actors", Revision.field == "attribution",
                                      Revision.row_id.in_(link_ids), Revision.import_id.is_(None))
    ))


def _latest_withdrawal_runs(session: Session, row_ids: list[int], table: str = "incidents") -> dict[int, str | None]:
    """For each row of `table`, the format of the run that last changed its withdrawal (None: a person's edit); rows
    whose withdrawal never changed are left out."""
    latest: dict[int, str | None] = {}
    for batch in batches(row_ids):
        for row_id, import_format in session.execute(
            select(Revision.row_id, Import.format).outerjoin(Import, Import.id == Revision.import_id)
            .where(Revision.table_name == table, Revision.field == "withdrawn_at", Revision.row_id.in_(batch))
            .order_by(Revision.id)
        ):
            latest[row_id] = import_format
    return latest


def withdrawn_by_a_release(session: Session, incident_ids: list[int]) -> set[int]:
    """Those of the (withdrawn) incidents that a full release withdrew for missing, which a later file holding
    them brings back. An analyst's withdrawal stays, and so does a deletion list's: the dataset removed that
    event, and an older file that still holds it does not undo that."""
    return {incident_id for incident_id, run_format in _latest_withdrawal_runs(session, incident_ids).items()
            if not by_analyst(run_format) and run_format != DELETIONS}


def restored_by_an_analyst(session: Session, incident_ids: list[int]) -> set[int]:
    """Those of the (live) incidents an analyst brought back (`incidents restore`) after a withdrawal."""
    latest = _latest_withdrawal_runs(session, incident_ids)
    return {incident_id for incident_id, run_format in latest.items() if by_analyst(run_format)}


class ReleaseLog:
    """Withdraws and restores records for one import run, each change a revision of that run."""

    def __init__(self, session: Session, run: Import, why: str) -> None:
        self.session = session
        self.run = run
        self.why = why
        self.who = run.imported_by or current_user()
        self.kept_for_merges: list[int] = []  # records a release dropped that others are merged into

    def _revisions(self, rows: Iterable[tuple[str, int, str, object, object]]) -> None:
        values = [
            {"table_name": table, "row_id": row_id, "field": field, "old_value": as_text(old),
             "new_value": as_text(new), "changed_at": datetime.now(UTC), "changed_by": self.who,
             "reason": self.why, "import_id": self.run.id}
            for table, row_id, field, old, new in rows
        ]
        if values:
            self.session.execute(insert(Revision), values)

    def withdraw(self, incident_ids: list[int]) -> int:
        """Withdraw these live incidents (and their dataset record's reports that a merge moved elsewhere). An
        incident other records were merged into stays, for their sake: only its own dataset report is withdrawn
        (`kept_for_merges` lists them)."""
        targets: set[int] = set()
        for batch in batches(incident_ids):
            targets.update(self.session.scalars(select(Incident.merged_into_id).where(
                Incident.merged_into_id.in_(batch), Incident.withdrawn_at.is_(None))))
        self.kept_for_merges.extend(sorted(targets))
        for incident_id in sorted(targets):
            self._own_report(incident_id)
        return self._set([incident_id for incident_id in incident_ids if incident_id not in targets], withdrawn=True)

    def _own_report(self, incident_id: int) -> None:
        """Withdraw an incident's report from its own dataset record, and recompute its figures."""
        incident = self.session.get_one(Incident, incident_id)
        now = datetime.now(UTC)
        for report in self.session.scalars(
            select(Report).join(Source, Source.id == Report.source_id)
            .where(Report.incident_id == incident_id, Report.withdrawn_at.is_(None),
                   Source.dataset == incident.origin_dataset, Source.dataset_record_id == incident.origin_id)
        ):
            report.withdrawn_at = now
            self._revisions([("reports", report.id, "withdrawn_at", None, now)])
        self.session.flush()
        self._recompute(incident_id)

    def restore(self, incident_ids: list[int]) -> int:
        return self._set(incident_ids, withdrawn=False)

    def _set(self, incident_ids: list[int], withdrawn: bool) -> int:
        now = datetime.now(UTC)
        changed = 0
        for batch in batches(incident_ids):
            state = Incident.withdrawn_at.is_(None) if withdrawn else Incident.withdrawn_at.is_not(None)
            rows = list(self.session.execute(
                select(Incident.id, Incident.withdrawn_at, Incident.origin_dataset, Incident.origin_id)
                .where(Incident.id.in_(batch), state)
            ))
            if not rows:
                continue
            ids = [row[0] for row in rows]
            self.session.execute(update(Incident).where(Incident.id.in_(ids))
                                 .values(withdrawn_at=now if withdrawn else None),
                                 execution_options={"synchronize_session": False})
            self._revisions(("incidents", row[0], "withdrawn_at", row[1], now if withdrawn else None)
                            for row in rows)
            self._moved_reports(rows, withdrawn, now)
            changed += len(rows)
        self.session.expire_all()
        return changed

    def _moved_reports(self, rows: list[Any], withdrawn: bool, now: datetime) -> None:
        """A record merged into another took its dataset report along: that report follows its record."""
        wanted = [(str(dataset), str(origin_id), incident_id) for incident_id, _, dataset, origin_id in rows
                  if dataset and origin_id]
        if not wanted:
            return
        by_dataset: dict[str, dict[str, int]] = {}
        for dataset, origin_id, incident_id in wanted:
            by_dataset.setdefault(dataset, {})[origin_id] = incident_id
        touched: set[int] = set()
        for dataset, origins in by_dataset.items():
            for report_id, incident_id, record_id, was in self.session.execute(
                select(Report.id, Report.incident_id, Source.dataset_record_id, Report.withdrawn_at)
                .join(Source, Source.id == Report.source_id)
                .where(Source.dataset == dataset, Source.dataset_record_id.in_(list(origins)))
            ):
                if incident_id == origins.get(record_id or "") or (was is None) != withdrawn:
                    continue
                self.session.execute(update(Report).where(Report.id == report_id)
                                     .values(withdrawn_at=now if withdrawn else None),
                                     execution_options={"synchronize_session": False})
                self._revisions([("reports", report_id, "withdrawn_at", was, now if withdrawn else None)])
                touched.add(incident_id)
        self.session.expire_all()
        for incident_id in touched:
            self._recompute(incident_id)

    def _recompute(self, incident_id: int) -> None:
        """An incident's figures from its standing reports, each change a revision of this run."""
        incident = self.session.get_one(Incident, incident_id)
        before = curated_snapshot(incident)
        recompute_figures(incident, reports_of(self.session, incident_id))
        self.session.flush()
        RevisionLog(self.session, who=self.who, why=self.why, import_run=self.run).record_changes(incident, before)
        self.session.flush()


def own_reports_withdrawn_by_a_release(session: Session, incident: Incident) -> list[Report]:
    """The withdrawn reports (on any incident) of a record's own dataset source that a release or a deletion list
    withdrew, not an analyst: they come back with the record."""
    if not incident.origin_dataset or not incident.origin_id:
        return []
    reports = list(session.scalars(
        select(Report).join(Source, Source.id == Report.source_id)
        .where(Source.dataset == incident.origin_dataset, Source.dataset_record_id == incident.origin_id,
               Report.withdrawn_at.is_not(None))))
    if not reports:
        return []
    latest = _latest_withdrawal_runs(session, [report.id for report in reports], "reports")
    return [report for report in reports if report.id in latest and not by_analyst(latest[report.id])]


def bring_back_reports(session: Session, incident: Incident, log: RevisionLog) -> int:
    """Restore the record's own dataset reports a release withdrew, and recompute the incidents they sit on."""
    reports = own_reports_withdrawn_by_a_release(session, incident)
    for report in reports:
        log.record("reports", report.id, "withdrawn_at", report.withdrawn_at, None)
        report.withdrawn_at = None
    session.flush()
    for incident_id in sorted({report.incident_id for report in reports}):
        holder = session.get_one(Incident, incident_id)
        before = curated_snapshot(holder)
        recompute_figures(holder, reports_of(session, incident_id))
        session.flush()
        log.record_changes(holder, before)
    return len(reports)


def missing_from(session: Session, dataset: str, scope: dict[str, Any], held: Callable[[str], bool]) -> list[int]:
    """The ids of the live records of `dataset` in `scope` (its countries and years) that a file does not hold
    (`held(origin id)` is false), merged ones too. The scope is judged by the dataset's own date and country: a
    record an analyst re-dated or moved is in scope by what the dataset had said."""
    first, last = scope["years"]
    countries = set(scope["countries"])
    edited = set(session.scalars(
        select(Revision.row_id).join(Incident, Incident.id == Revision.row_id)
        .outerjoin(Import, Import.id == Revision.import_id)
        .where(Revision.table_name == "incidents", Revision.field.in_(["date_start", "location_id"]),
               Incident.origin_dataset == dataset, or_(Revision.import_id.is_(None), Import.format == "fixture"))
    ))
    query = (
        select(Incident.id, Incident.origin_id, Incident.date_start, Location.country)
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(Incident.origin_dataset == dataset, Incident.withdrawn_at.is_(None))
        .execution_options(yield_per=10000)
    )
    missing, recheck = [], []
    for incident_id, origin_id, day, country in session.execute(query):
        if held(origin_id or ""):
            continue
        if incident_id in edited:
            recheck.append(incident_id)
        elif country in countries and first <= day.year <= last:
            missing.append(incident_id)
    for incident_id in recheck:  # what the dataset said, before the analyst's change
        owned = analyst_owned(session, incident_id)
        incident = session.get_one(Incident, incident_id)
        day_text = owned.get("date_start")
        day = date.fromisoformat(day_text[:10]) if day_text else incident.date_start
        location_text = owned.get("location_id") if "location_id" in owned else str(incident.location_id or "")
        location = session.get(Location, int(location_text)) if location_text and location_text.isdigit() else None
        if location is not None and location.country in countries and first <= day.year <= last:
            missing.append(incident_id)
    return missing


FIELD_NAMES = {"place": "location_id", "date": "date_start"}  # a conflict's field as `set` names it


def _typed(field: str, value: str | None) -> object:
    if value is None:
        return None
    if field in ("date_start", "date_end"):
        return date.fromisoformat(value)
    if field in ("location_id", "perpetrators_killed", "killed_best", "wounded_best"):
        return int(value)
    if field == "suicide":
        return value == "True"
    return value


def still_open(session: Session, conflict: Conflict) -> bool:
    """Whether a conflict still needs a person: not when its record no longer counts (withdrawn, merged), nor when
    the field already holds the release's value, or a chosen toll was handed back to the reports (`set ... auto`)."""
    incident = session.get_one(Incident, conflict.incident_id)
    if incident.withdrawn_at is not None or incident.merged_into_id is not None:
        return False
    if conflict.field in ("killed_best", "wounded_best") \
            and not getattr(incident, f"{conflict.field.split('_')[0]}_best_manual"):
        return False
    return as_text(getattr(incident, conflict.field)) != conflict.dataset_value


def settle(session: Session, key: str, field: str, how: str, who: str | None = None,
           why: str | None = None) -> dict[str, Any]:
    """Close the open conflicts of one field of incident `key`. keep: the analyst's value stays (and later releases
    still leave it alone); take: the release's newest value replaces it, and the field is the dataset's again."""
    if how not in ("keep", "take"):
        raise FieldError("how", how, "is not one of: keep, take")
    incident = session.scalar(select(Incident).where(Incident.key == key).with_for_update())
    if incident is None:
        raise NotFoundError(f"No incident with key {key!r}. List keys with: incidents list")
    name = FIELD_NAMES.get(field, field)
    rows = [row for row in session.scalars(select(Conflict).where(Conflict.incident_id == incident.id,
                                                                  Conflict.settled_at.is_(None)).order_by(Conflict.id))
            if still_open(session, row)]
    chosen = [row for row in rows if row.field == name]
    if not chosen:
        others = sorted({row.field for row in rows})
        raise NotFoundError(f"{key} has no open conflict on {field!r}"
                            + (f"; it has on: {', '.join(others)}" if others else "; it has none"))
    latest = chosen[-1]
    result: dict[str, Any] = {"key": key, "field": "place" if name == "location_id" else name, "how": how}
    if how == "take":
        run = session.get_one(Import, latest.import_id)
        log = RevisionLog(session, who=who, why=why or "conflict settled: took the release's value", import_run=run)
        if name in ("killed_best", "wounded_best"):  # the figure goes back to following the reports
            measure = name.split("_")[0]
            before = getattr(incident, name)
            setattr(incident, f"{measure}_best_manual", False)
            recompute_figures(incident, reports_of(session, incident.id))
            log.record("incidents", incident.id, name, before, getattr(incident, name))
        else:
            before = getattr(incident, name)
            setattr(incident, name, _typed(name, latest.dataset_value))
            if incident.date_end is not None and incident.date_end < incident.date_start:
                raise UsageError(f"{key}: the release's {name} {latest.dataset_value} would put the end before the "
                                 "start; settle the other date field first, or set both with `incidents set`")
            log.record("incidents", incident.id, name, before, getattr(incident, name))
        result["value"] = as_text(getattr(incident, name))
        location = session.get(Location, incident.location_id) if name == "location_id" and incident.location_id \
            else None
        result["shown"] = place_words(location) if location is not None else result["value"]
    now = datetime.now(UTC)
    for row in chosen:
        row.settled_at, row.settled_by = now, who or current_user()
        row.settled_how = "took" if how == "take" else "kept"
        row.reason = why
    session.flush()
    result["settled"] = len(chosen)
    return result
