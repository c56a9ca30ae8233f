"""Source and location rows: found by their identity, created once, blanks filled in later."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import UsageError
from incidents.models import Location, Source
from incidents.records import LocationRecord, SourceRecord, url_identity


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
    """The columns of the locations row `record` becomes (all but id)."""
    return {
        "key": record.key, "country": record.country, "admin1": record.admin1, "admin2": record.admin2,
        "place": record.place, "latitude": record.latitude, "longitude": record.longitude,
        "geo_precision": record.geo_precision.value if record.geo_precision else None,
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
    elif record.citation:
        source = session.scalar(
            select(Source).where(Source.url.is_(None), Source.citation == record.citation).limit(1)
        )
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
