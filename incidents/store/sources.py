"""Source and location rows: found by their identity, created once, blanks filled in later."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import NotFoundError, UsageError, option
from incidents.gazetteer import normalise
from incidents.models import Location, Source, SourceKind
from incidents.records import LocationRecord, SourceRecord, normalize_name, url_identity


def source_values(record: SourceRecord) -> dict[str, Any]:
    """The columns of the sources row `record` becomes (all but id and created_at)."""
    return {
        "kind": record.kind, "url": record.url, "citation": record.citation, "outlet": record.outlet,
        "title": record.title, "published_on": record.published_on, "author": record.author,
        "language": record.language, "accessed_on": record.accessed_on, "full_text": record.full_text,
        "full_text_sha256": hashlib.sha256(record.full_text.encode()).hexdigest() if record.full_text else None,
        "dataset": record.dataset, "dataset_release": record.dataset_release,
        "dataset_record_id": record.dataset_record_id,
    }


def location_values(record: LocationRecord) -> dict[str, Any]:
    """The columns of the locations row `record` becomes (all but id): the text as the source gave it, with the
    gazetteer's codes beside it and its coordinates where the source gave none (incidents.gazetteer.normalise)."""
    found = normalise(record.country, record.admin1, record.admin2, record.place, record.latitude,
                      record.longitude, record.geo_precision.value if record.geo_precision else None)
    return {
        "key": record.key, "country": record.country, "admin1": record.admin1,
        "admin1_code": found.admin1_code, "admin2": record.admin2, "admin2_code": found.admin2_code,
        "place": record.place, "latitude": found.latitude, "longitude": found.longitude,
        "geo_precision": found.geo_precision,
    }


def get_or_create_source(session: Session, record: SourceRecord) -> Source:
    """The stored source for `record`, found by URL, dataset record or citation; blanks filled in from `record`."""
    source = find_source(session, record)
    values = source_values(record)
    if source is None:
        source = Source(**values)
        session.add(source)
        session.flush()
        return source
    if record.full_text and source.full_text and source.full_text != record.full_text:
        stored = (source.full_text_sha256 or "")[:12]
        raise UsageError(f"{record.describe()} has a stored text already (sha256 {stored}...), and this one differs; "
                         "a source keeps the text it was recorded with")
    for attr, value in values.items():
        if value is not None and getattr(source, attr) is None:
            setattr(source, attr, value)
    return source


def same_page(session: Session, url: str) -> Source | None:
    """A stored source whose URL is another spelling of `url` (records.url_identity: http or https, 'www.', a
    trailing '/', tracking parameters, a #fragment), if there is one."""
    identity = url_identity(url)
    host = identity.split("/")[2] if identity.startswith("https://") else ""
    if not host:
        return None
    for candidate in session.scalars(select(Source).where(Source.url.contains(host)).limit(500)):
        if candidate.url and url_identity(candidate.url) == identity:
            return candidate
    return None


def adopt_known_url(session: Session, record: SourceRecord) -> None:
    """Give `record` the URL its page is stored under when it is another spelling of a stored source's URL, so
    that an analyst's edit reuses that source instead of making a second one of the same article."""
    if record.url and session.scalar(select(Source.id).where(Source.url == record.url)) is None:
        known = same_page(session, record.url)
        if known is not None:
            record.url = known.url


NEAR_CITATION = 90  # rapidfuzz token_sort_ratio from which two citations may be one source


def adopt_known_citation(session: Session, record: SourceRecord, new_source: bool = False) -> None:
    """For an analyst's edit: give `record` the citation a stored source has when they differ only in case,
    spacing and punctuation ('Dawn, 23 Nov 2018' and 'dawn 23 nov 2018'), so that source is reused; when a stored
    citation with the same numbers is near but not that (rapidfuzz, NEAR_CITATION), ask: UsageError naming it,
    unless `new_source`. Citations whose numbers differ (another day, another toll) are other sources."""
    if record.url or not record.citation or session.scalar(
            select(Source.id).where(Source.citation == record.citation)) is not None:
        return
    from rapidfuzz import fuzz, process

    wanted = normalize_name(record.citation)
    stored: dict[int, str] = {source_id: citation or "" for source_id, citation in session.execute(
        select(Source.id, Source.citation).where(Source.citation.is_not(None),
                                                 Source.kind != SourceKind.DATASET_RECORD.value))}
    for citation in stored.values():
        if normalize_name(citation) == wanted:
            record.citation = citation
            return
    if new_source or not stored:
        return
    stored = {key: citation for key, citation in stored.items() if _may_be_one(citation, record.citation)}
    near = process.extractOne(record.citation, stored, scorer=fuzz.token_sort_ratio, processor=normalize_name,
                              score_cutoff=NEAR_CITATION) if stored else None
    if near is not None:
        citation, score, source_id = near
        raise UsageError(f"The citation {record.citation!r} is near that of stored source #{source_id}, {citation!r} "
                         f"({score:.0f}% alike). If it is that source, give {option('source')} {source_id}; if it is "
                         f"another, give {option('new_source')}")


def _may_be_one(first: str, second: str) -> bool:
    """Whether two citations can be spellings of one: the same numbers (another date or toll is another source),
    and no word of two letters or fewer in one that the other lacks ('report A' and 'report B', 'editor a' and
    'editor b' name two things); a longer word spelled otherwise may be a slip ('Pakhtunkwa')."""
    if sorted(re.findall(r"\d+", first)) != sorted(re.findall(r"\d+", second)):
        return False
    words = [set(normalize_name(text).split()) for text in (first, second)]
    return all(len(word) > 2 for word in words[0] ^ words[1])


def stored_source(session: Session, number: object) -> Source:
    """The stored source with id `number` ('12', '#12' or 12), or NotFoundError: the one check of a typed source id,
    so that no id ('²', a 30-digit number) reaches the database as something it cannot hold."""
    text = str(number).strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise NotFoundError(f"No source #{str(number)[:40]}: a source id is a number, as `incidents sources` lists")
    found = session.get(Source, int(text))
    if found is None:
        raise NotFoundError(f"No source #{text}; `incidents sources` lists them")
    return found


def is_source_id(text: str) -> bool:
    """Whether a typed source reference is an id ('12', '#12'), not a URL or citation."""
    stripped = text.strip().lstrip("#")
    return stripped.isdigit()


def named_source_record(session: Session, text: str) -> SourceRecord:
    """A typed reference to a source that is no id: a URL or a citation, spelt as the stored one is where it is
    another spelling of it (adopt_known_url, adopt_known_citation)."""
    record = SourceRecord(url=text.strip()) if "://" in text else SourceRecord(citation=text.strip())
    adopt_known_url(session, record)
    adopt_known_citation(session, record, new_source=True)  # the same but for case and punctuation; never asks
    return record


def find_source(session: Session, record: SourceRecord) -> Source | None:
    """The stored source `record` names (by URL, dataset record or citation), if there is one."""
    source: Source | None = None
    if record.url:
        source = session.scalar(select(Source).where(Source.url == record.url))
    elif record.dataset and record.dataset_record_id:
        source = session.scalar(
            select(Source).where(
                Source.dataset == record.dataset, Source.dataset_record_id == record.dataset_record_id
            )
        )
    elif record.citation:  # a source with a URL too (after `sources merge`) is found by its citation as well
        source = session.scalar(
            select(Source).where(Source.citation == record.citation).order_by(Source.url.is_not(None), Source.id)
            .limit(1))
    else:
        raise UsageError("a source needs a URL, a citation, or a dataset record id")
    return source


def place_words(location: Location) -> str:
    """A stored place as a person reads it: 'Khar, Bajaur, Khyber Pakhtunkhwa, PAK (34.7325, 71.52361)'."""
    words = ", ".join(part for part in (location.place, location.admin2, location.admin1, location.country) if part)
    return words + (f" ({location.latitude}, {location.longitude})" if location.latitude is not None else "")


def get_or_create_location(session: Session, record: LocationRecord) -> Location:
    """The stored location with `record`'s key (country, province, district, place, coordinates), created once."""
    location = session.scalar(select(Location).where(Location.key == record.key))
    if location is None:
        location = Location(**location_values(record))
        session.add(location)
        session.flush()
    return location


def merge_sources(session: Session, keep_id: int, other_id: int, who: str | None = None,
                  why: str | None = None) -> dict[str, Any]:
    """Fold stored source `other_id` into `keep_id` (one article stored twice): its reports and the actor links it
    gives move to `keep_id`, which takes any particulars it lacks (outlet, title, date, text ...); `other_id` is
    deleted. Refused when both hold a text and the texts differ, when either is a dataset's record, or when both
    report one incident (withdraw one of those reports first). Each moved report is a revision."""
    from incidents.models import Incident, IncidentActor, Report
    from incidents.store.revisions import RevisionLog

    keep, other = stored_source(session, keep_id), stored_source(session, other_id)
    if keep.id == other.id:
        raise UsageError(f"Cannot merge source #{keep_id} into itself.")
    for number, source in ((keep_id, keep), (other_id, other)):
        if source.kind == SourceKind.DATASET_RECORD.value:
            raise UsageError(f"Source #{number} is a dataset's record, kept as its import made it; merge articles "
                             "and documents only")
    if keep.full_text and other.full_text and keep.full_text != other.full_text:
        raise UsageError(f"Sources #{keep_id} and #{other_id} hold different texts (sha256 "
                         f"{(keep.full_text_sha256 or '')[:12]}... and {(other.full_text_sha256 or '')[:12]}...); "
                         "they are not one article")
    both = session.execute(
        select(Incident.key).join(Report, Report.incident_id == Incident.id)
        .where(Report.source_id == other_id, Report.incident_id.in_(
            select(Report.incident_id).where(Report.source_id == keep_id)))).scalars().all()
    if both:
        raise UsageError(f"Both sources report {', '.join(sorted(both))}; one report per source and incident: "
                         f"withdraw one of them first (`incidents report delete KEY {other_id} --why ...`)")
    revisions = RevisionLog(session, who=who, why=why or f"merge source #{other_id} into #{keep_id}")
    moved = list(session.scalars(select(Report).where(Report.source_id == other_id)))
    for report in moved:
        report.source_id = keep_id
        revisions.record("reports", report.id, "source", other.url or other.citation,
                         keep.url or keep.citation)
    links = list(session.scalars(select(IncidentActor).where(IncidentActor.source_id == other_id)))
    for link in links:
        link.source_id = keep_id
    taken = {column: getattr(other, column) for column in (
        "url", "citation", "outlet", "title", "published_on", "author", "language", "accessed_on", "full_text",
        "full_text_sha256") if getattr(keep, column) is None and getattr(other, column) is not None}
    session.flush()
    session.delete(other)
    session.flush()  # the other's URL is free before the kept source takes it
    for column, value in taken.items():
        setattr(keep, column, value)
    revisions.record("sources", keep_id, "merged", other.url or other.citation, None)
    session.flush()
    return {"kept": keep_id, "merged": other_id, "reports_moved": len(moved), "links_moved": len(links),
            "took": sorted(taken)}
