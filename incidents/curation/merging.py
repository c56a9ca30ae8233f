"""`incidents merge KEEP OTHER` and `incidents unmerge OTHER`: one attack reported twice becomes one record.

A merge moves OTHER's reports and actor links onto KEEP and recomputes KEEP's figures from all of them.
Disagreements survive: a link to another actor moves with its source (GTD's ISKP and UCDP's TTP both stay).
What cannot move stays on OTHER, visible through it: a report from a source KEEP already has (one report per
source and incident) and a link to an actor KEEP already has (KEEP's link stands). OTHER itself stays too,
marked merged_into KEEP, with its origin id, so that a re-import of its dataset still finds it; every
listing, timeline, summary, export and SQL view leaves it out, so nothing is counted twice.
The merges table records what moved and KEEP's figures before; unmerge puts both back exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from incidents.errors import UsageError
from incidents.models import Incident, IncidentActor, Merge, NotDuplicate, Report
from incidents.store.actors import stronger_attribution
from incidents.store.figures import recompute_figures
from incidents.store.incidents import require_incident
from incidents.store.reports import reports_of
from incidents.store.revisions import RevisionLog, curated_snapshot, current_user

# What a merge may change on KEEP, saved before it so that unmerge restores it exactly.
FIGURES = ("killed_low", "killed_best", "killed_high", "killed_best_manual", "wounded_low", "wounded_best",
           "wounded_high", "wounded_best_manual", "perpetrators_killed")


def merge(session: Session, keep_key: str, other_key: str, who: str | None = None,
          why: str | None = None) -> dict[str, Any]:
    """Fold incident `other_key` into `keep_key`; returns what moved."""
    if keep_key == other_key:
        raise UsageError(f"Cannot merge {keep_key} into itself.")
    keep = require_incident(session, keep_key, for_update=True)
    other = require_incident(session, other_key, for_update=True)
    for incident in (keep, other):
        if incident.withdrawn_at is not None:
            raise UsageError(f"{incident.key} is withdrawn; restore it first (incidents restore {incident.key}).")
        if incident.merged_into_id is not None:
            into = session.get(Incident, incident.merged_into_id)
            raise UsageError(f"{incident.key} is already merged into {into.key if into else '?'}; "
                             f"unmerge it first (incidents unmerge {incident.key}).")
    if session.scalar(select(Incident.id).where(Incident.merged_into_id == other.id).limit(1)) is not None:
        raise UsageError(f"Records are merged into {other.key}; merge {other.key} itself into nothing else, "
                         f"or merge those records into {keep.key} one by one.")
    before = curated_snapshot(keep)
    saved = {name: getattr(keep, name) for name in FIGURES}

    kept_sources = set(session.scalars(select(Report.source_id).where(Report.incident_id == keep.id)))
    reports = [r for r in reports_of(session, other.id, withdrawn=True) if r.source_id not in kept_sources]
    kept_links = {(link.actor_id, link.role): link for link in session.scalars(
        select(IncidentActor).where(IncidentActor.incident_id == keep.id))}
    other_links = list(session.scalars(select(IncidentActor).where(IncidentActor.incident_id == other.id)
                                       .order_by(IncidentActor.id)))
    links = [link for link in other_links if (link.actor_id, link.role) not in kept_links]
    # Where both name one actor, the stronger word stands on KEEP, whichever record it came from (a claim in
    # OTHER outranks a denial in KEEP, as in an actor merge): the two links swap attribution and source, and
    # unmerge swaps them back.
    swapped: list[tuple[int, int, str | None, str | None]] = []
    for link in other_links:
        twin = kept_links.get((link.actor_id, link.role))
        if twin is not None and stronger_attribution(twin.attribution, link.attribution) != twin.attribution:
            swapped.append((twin.id, link.id, twin.attribution, link.attribution))
            _swap(twin, link)
    session.flush()  # before _move, which expires what the session holds
    report_ids, link_ids = [r.id for r in reports], [link.id for link in links]
    _move(session, report_ids, link_ids, keep.id)
    recompute_figures(keep, reports_of(session, keep.id))  # UsageError if the analyst's best falls outside
    other.merged_into_id = keep.id
    session.add(Merge(kept_id=keep.id, merged_id=other.id, merged_by=who or current_user(), reason=why,
                      moved={"reports": report_ids, "links": link_ids, "kept_before": saved,
                             "swapped": [[kept_id, other_id] for kept_id, other_id, _, _ in swapped]}))
    session.flush()
    revisions = RevisionLog(session, who=who, why=why or f"merge {other.key} into {keep.key}")
    revisions.record("incidents", other.id, "merged_into", None, keep.key)
    _record_moves(revisions, report_ids, link_ids, other.key, keep.key)
    for kept_id, other_id, weaker, stronger in swapped:
        revisions.record("incident_actors", kept_id, "attribution", weaker, stronger)
        revisions.record("incident_actors", other_id, "attribution", stronger, weaker)
    revisions.record_changes(keep, before)
    session.flush()
    return {"kept": keep.key, "merged": other.key, "reports_moved": len(report_ids), "links_moved": len(link_ids),
            "reports_left": len(reports_of(session, other.id, withdrawn=True)),
            "killed": {"low": keep.killed_low, "best": keep.killed_best, "high": keep.killed_high}}


def unmerge(session: Session, key: str, who: str | None = None, why: str | None = None) -> dict[str, Any]:
    """Undo the merge of incident `key` into another: its reports and links go back, the other's figures too."""
    other = require_incident(session, key, for_update=True)
    if other.merged_into_id is None:
        raise UsageError(f"{key} is not merged into anything; `incidents show {key}` lists what is merged into it.")
    record = session.scalars(select(Merge).where(Merge.merged_id == other.id, Merge.undone_at.is_(None))
                             .order_by(Merge.id.desc())).first()
    if record is None:  # pragma: no cover - merged_into_id is only ever set together with a Merge row
        raise UsageError(f"{key} is marked merged but its merge record is missing; set it apart by hand.")
    keep = session.get_one(Incident, record.kept_id, with_for_update=True)
    before = curated_snapshot(keep)
    report_ids, link_ids = record.moved["reports"], record.moved["links"]
    _move(session, report_ids, link_ids, other.id)
    for kept_id, other_id in record.moved.get("swapped", []):  # the stronger word goes back where it came from
        kept_link, other_link = session.get(IncidentActor, kept_id), session.get(IncidentActor, other_id)
        if kept_link is None or other_link is None:  # removed since (incidents perpetrators remove)
            continue
        revisions_swapped = (kept_link.attribution, other_link.attribution)
        _swap(kept_link, other_link)
        session.flush()
        RevisionLog(session, who=who, why=why or f"unmerge {other.key} from {keep.key}").record(
            "incident_actors", kept_id, "attribution", revisions_swapped[0], revisions_swapped[1])
    for name, value in record.moved["kept_before"].items():
        setattr(keep, name, value)
    recompute_figures(keep, reports_of(session, keep.id))  # the same reports as before the merge: the same figures
    # OTHER's from its reports as they are now: a release may have revised them while they sat with KEEP.
    other_before = curated_snapshot(other)
    recompute_figures(other, reports_of(session, other.id))
    other.merged_into_id = None
    record.undone_at = datetime.now(UTC)
    record.undone_by = who or current_user()
    session.flush()
    revisions = RevisionLog(session, who=who, why=why or f"unmerge {other.key} from {keep.key}")
    revisions.record("incidents", other.id, "merged_into", keep.key, None)
    _record_moves(revisions, report_ids, link_ids, keep.key, other.key)
    revisions.record_changes(keep, before)
    revisions.record_changes(other, other_before)
    session.flush()
    return {"kept": keep.key, "restored": other.key, "reports_moved_back": len(report_ids),
            "links_moved_back": len(link_ids)}


def _record_moves(revisions: RevisionLog, report_ids: list[int], link_ids: list[int], old_key: str,
                  new_key: str) -> None:
    """One revision per report and actor link that changed incident."""
    for report_id in report_ids:
        revisions.record("reports", report_id, "incident", old_key, new_key)
    for link_id in link_ids:
        revisions.record("incident_actors", link_id, "incident", old_key, new_key)


def _swap(a: IncidentActor, b: IncidentActor) -> None:
    """Exchange two links' attribution and source (the word and who said it), leaving each on its incident."""
    a.attribution, b.attribution = b.attribution, a.attribution
    a.source_id, b.source_id = b.source_id, a.source_id


def _move(session: Session, report_ids: list[int], link_ids: list[int], to_incident: int) -> None:
    if report_ids:
        session.execute(update(Report).where(Report.id.in_(report_ids)).values(incident_id=to_incident),
                        execution_options={"synchronize_session": False})
    if link_ids:
        session.execute(update(IncidentActor).where(IncidentActor.id.in_(link_ids)).values(incident_id=to_incident),
                        execution_options={"synchronize_session": False})
    session.expire_all()


def not_duplicate(session: Session, first_key: str, second_key: str, who: str | None = None,
                  why: str | None = None) -> dict[str, Any]:
    """Record that two incidents are two attacks, not one reported twice: `duplicates` leaves the pair out from
    then on. Judging a pair again keeps the first judgement (and says so)."""
    if not why or not why.strip():
        raise UsageError("Say why the two are different attacks (--why): the judgement is kept for others to read")
    first, second = require_incident(session, first_key), require_incident(session, second_key)
    if first.id == second.id:
        raise UsageError(f"{first_key} and {second_key} are one incident; name two")
    low, high = sorted((first.id, second.id))
    earlier = session.scalar(select(NotDuplicate).where(NotDuplicate.incident_a_id == low,
                                                        NotDuplicate.incident_b_id == high))
    if earlier is not None:
        return {"a": first_key, "b": second_key, "recorded": False, "by": earlier.decided_by, "why": earlier.reason}
    session.add(NotDuplicate(incident_a_id=low, incident_b_id=high, decided_by=who or current_user(), reason=why))
    session.flush()
    return {"a": first_key, "b": second_key, "recorded": True, "by": who or current_user(), "why": why}
