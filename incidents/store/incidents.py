"""Incident records: the Writer that inserts or updates one incident with its reports and actor links, and the
lookup by key that every edit starts from."""

from __future__ import annotations

import difflib
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import NotFoundError
from incidents.models import Actor, Import, Incident, IncidentActor, Report
from incidents.records import ActorLink, IncidentRecord, ReportRecord, derive_figures
from incidents.store.actors import ActorResolver, stronger_attribution
from incidents.store.figures import recompute_figures
from incidents.store.releases import DATE_FIELDS, analyst_owned, analyst_set_links, removed_links
from incidents.store.reports import report_values, reports_of
from incidents.store.revisions import RevisionLog, as_text, curated_snapshot
from incidents.store.sources import get_or_create_location, get_or_create_source


class Writer:
    """Writes incident records inside one session, recording every change to a curated field.

    One Writer serves one load or import run; counts say what happened to each record.
    """

    def __init__(
        self, session: Session, *, actor_policy: str = "create", who: str | None = None,
        why: str | None = None, import_run: Import | None = None, protect: bool = False,
    ) -> None:
        self.session = session
        # A dataset import keeps what an analyst changed (store.releases.analyst_owned) and lists the conflicts.
        self.protect = protect
        self.conflicts: list[dict[str, str | None]] = []
        self.actors = ActorResolver(session, actor_policy)
        self.revisions = RevisionLog(session, who=who, why=why, import_run=import_run)
        self.counts = {"inserted": 0, "updated": 0, "unchanged": 0}
        self.last_key: str | None = None
        self._updating = False

    def save(self, record: IncidentRecord, dataset: str = "") -> str:
        """Insert or update the incident `record` describes; returns 'inserted', 'updated' or 'unchanged'."""
        record.validate()
        incident = self._find(record)
        outcome = "inserted" if incident is None else "unchanged"
        location = get_or_create_location(self.session, record.location) if record.location else None
        if incident is None:
            incident = Incident(key=record.key or self._free_key(record.default_key()),
                                import_id=self.revisions.import_run.id if self.revisions.import_run else None)
        before = curated_snapshot(incident) if outcome != "inserted" else {}
        owned = analyst_owned(self.session, incident.id) if self.protect and outcome != "inserted" else {}
        if owned.keys() & set(DATE_FIELDS):
            owned = {**{name: as_text(before[name]) for name in DATE_FIELDS}, **owned}
        manual = {"killed": incident.killed_best_manual, "wounded": incident.wounded_best_manual}

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
        raw_changed = False
        if self.protect and outcome != "inserted":  # what the dataset changed in its row, column by column
            stored, given = incident.raw_row or {}, record.raw_row or {}
            for column in sorted(stored.keys() | given.keys()):
                if stored.get(column) != given.get(column):
                    raw_changed = True
                    self.revisions.record("incidents", incident.id, f"raw.{column}", stored.get(column),
                                          given.get(column))
        incident.raw_row = record.raw_row
        for measure in ("killed", "wounded"):  # an analyst's chosen best stays through a dataset's update
            kept = self.protect and outcome != "inserted" and manual[measure]
            setattr(incident, f"{measure}_best_manual", getattr(record, f"{measure}_best") is not None or kept)
        if record.killed_best is not None:
            incident.killed_best = record.killed_best
        if record.wounded_best is not None:
            incident.wounded_best = record.wounded_best
        if record.perpetrators_killed is not None:
            incident.perpetrators_killed = record.perpetrators_killed
        for name, dataset_old in owned.items():
            new, analyst = getattr(incident, name), before[name]
            setattr(incident, name, analyst)
            if as_text(new) != as_text(analyst) and as_text(new) != dataset_old:
                self.conflicts.append({"incident_id": str(incident.id), "key": incident.key, "field": name,
                                       "analyst_value": as_text(analyst), "dataset_old": dataset_old,
                                       "dataset_value": as_text(new)})
        self.session.add(incident)
        self.session.flush()

        self._updating = outcome != "inserted"
        # A record merged into another moved its reports and links there: a new release updates them there.
        target = self._kept(incident)
        if target is not incident:
            manual = {"killed": target.killed_best_manual, "wounded": target.wounded_best_manual}
        reports_changed = self._save_reports(target, record.reports, manual if self.protect else {},
                                             incident.origin_dataset)
        # Links stay with the record itself: unmerge moves back only what the merge moved, so a link a release gave
        # a merged record must sit on it (a merged record counts nowhere until it is unmerged).
        actors_changed = self._save_actors(incident, record.actors, dataset, incident.origin_dataset)
        self._recompute(target)  # a merged record's own figures stay as at the merge; unmerge recomputes them
        self.session.flush()

        if outcome != "inserted":
            changes = self.revisions.record_changes(incident, before)
            if changes or reports_changed or actors_changed or raw_changed:
                outcome = "updated"
        self.counts[outcome] += 1
        self.last_key = incident.key
        return outcome

    def _kept(self, incident: Incident) -> Incident:
        """The incident a record was merged into (through any chain of merges), or the record itself."""
        seen = {incident.id}
        while incident.merged_into_id is not None and incident.merged_into_id not in seen:
            seen.add(incident.merged_into_id)
            incident = self.session.get_one(Incident, incident.merged_into_id)
        return incident

    def _recompute(self, incident: Incident) -> None:
        """The incident's figures from its reports. A dataset's update whose range leaves out an analyst's chosen
        best hands that best back to the reports, and says so as a conflict, instead of refusing the row."""
        reports = reports_of(self.session, incident.id)
        if self.protect:
            for measure in ("killed", "wounded"):
                low, _, high = derive_figures(reports, measure)
                chosen = getattr(incident, f"{measure}_best")
                if getattr(incident, f"{measure}_best_manual") and low is not None and high is not None \
                        and chosen is not None and not low <= chosen <= high:
                    setattr(incident, f"{measure}_best_manual", False)
                    recompute_figures(incident, reports)
                    self.conflicts.append({
                        "incident_id": str(incident.id), "key": incident.key, "field": f"{measure}_best",
                        "analyst_value": as_text(chosen), "dataset_old": as_text(chosen),
                        "dataset_value": as_text(getattr(incident, f"{measure}_best")),
                        "reason": "the analyst's best lies outside the range the release gives; handed back to "
                                  "the reports"})
        recompute_figures(incident, reports)

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

    def _save_reports(self, incident: Incident, reports: list[ReportRecord], manual: dict[str, bool],
                      origin_dataset: str | None = None) -> bool:
        """Add or update the reports; a dataset's changed toll under an analyst's chosen best is a conflict."""
        changed = False
        for record in reports:
            source = get_or_create_source(self.session, record.source)
            report = self.session.scalar(
                select(Report).where(Report.incident_id == incident.id, Report.source_id == source.id)
            )
            values = report_values(record)
            if report is None:
                self.session.add(Report(incident_id=incident.id, source_id=source.id, **values))
                changed = True
                continue
            for attr, value in values.items():
                if getattr(report, attr) != value:
                    if self.protect and attr in ("killed", "wounded") and manual.get(attr) \
                            and record.source.dataset == origin_dataset:
                        self.conflicts.append({
                            "incident_id": str(incident.id), "key": incident.key, "field": f"{attr}_best",
                            "analyst_value": as_text(getattr(incident, f"{attr}_best")),
                            "dataset_old": as_text(getattr(report, attr)), "dataset_value": as_text(value)})
                    self.revisions.record("reports", report.id, attr, getattr(report, attr), value)
                    setattr(report, attr, value)
                    changed = True
        self.session.flush()
        return changed

    def _save_actors(self, incident: Incident, links: list[ActorLink], dataset: str,
                     origin_dataset: str | None = None) -> bool:
        changed = False
        existing = {
            (link.actor_id, link.role): link
            for link in self.session.scalars(select(IncidentActor).where(IncidentActor.incident_id == incident.id))
        }
        removed: set[tuple[int, str]] = set()
        analyst_set: set[int] = set()
        if self.protect:
            removed = removed_links(self.session, incident.id)
            analyst_set = analyst_set_links(self.session, [row.id for row in existing.values()])
        new_links = []
        given: set[tuple[int, str]] = set()
        dataset_sources: set[int] = set()  # the record's own dataset source: the links it gives
        for link in links:
            actor_id = self.actors.resolve(link.name, dataset)
            given.add((actor_id, link.role.value))
            if link.source is not None and link.source.dataset and link.source.dataset == origin_dataset:
                dataset_sources.add(get_or_create_source(self.session, link.source).id)
            if (actor_id, link.role.value) in removed:
                continue  # an analyst took this group off the incident; a release does not put it back
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
                new_links.append((row, link.name))
                changed = True
                continue
            if row.id in analyst_set:
                continue  # the attribution an analyst chose stands
            stronger = stronger_attribution(row.attribution, attribution)
            if stronger != row.attribution:
                self.revisions.record("incident_actors", row.id, "attribution", row.attribution, stronger)
                row.attribution = stronger
                row.source_id = source_id or row.source_id
                changed = True
        if self.protect and self._updating:  # a link the release no longer gives goes, unless an analyst set it
            for (actor_id, role), row in list(existing.items()):
                if (actor_id, role) in given or row.source_id not in dataset_sources or row.id in analyst_set:
                    continue
                name = self.session.get_one(Actor, actor_id).name
                words = name + (f" ({row.attribution})" if row.attribution else "")
                kept = {"incident_id": row.incident_id, "actor_id": actor_id, "role": role,
                        "attribution": row.attribution, "source_id": row.source_id,
                        "created_at": row.created_at.isoformat() if row.created_at else None, "words": words}
                self.revisions.record("incident_actors", row.id, "link", json.dumps(kept), None)
                self.session.delete(row)
                changed = True
        self.session.flush()
        if self.revisions.import_run is not None and self._updating:
            for row, name in new_links:  # so that `incidents diff` shows a group a release added to a record
                self.revisions.record("incident_actors", row.id, "link", None,
                                      name + (f" ({row.attribution})" if row.attribution else ""))
        return changed


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
