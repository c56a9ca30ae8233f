"""GeoJSON (RFC 7946) for maps: one point feature per incident, and per-province figures keyed by ISO code.

A feature's properties say how far its point can be trusted (geo_precision: a 'province' point is the province's
middle, a 'gazetteer_place' point the gazetteer's town) and give the tolls with their ranges. Incidents without
coordinates cannot be points: the collection lists their keys in `without_coordinates` (a foreign member, which
RFC 7946 section 6.1 allows) and the command says how many there are, so none is dropped unsaid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents import files
from incidents.analysis.filters import Filters, in_scope
from incidents.analysis.sql import plain
from incidents.analysis.timelines import event_log
from incidents.files import atomic_write
from incidents.models import Incident, Location

# What an `incidents` feature adds to the event log's columns (export events gives those alone).
INCIDENT_EXTRA = ["title", "date_end", "admin1_code", "admin2_code", "geo_precision", "status", "wounded_low",
                  "wounded_high", "perpetrators_killed"]
EVENT_EXTRA = ["admin1_code", "admin2_code", "geo_precision"]


class Written(int):
    """What a GeoJSON export wrote: the number of features (the int itself, as other exports return their row
    count), and the keys of the incidents left off the map for want of coordinates."""

    without_coordinates: list[str]

    def __new__(cls, features: int, without_coordinates: list[str]) -> Written:
        written = super().__new__(cls, features)
        written.without_coordinates = without_coordinates
        return written

    @property
    def features(self) -> int:
        return int(self)


def _extra(session: Session, filters: Filters) -> dict[str, dict[str, Any]]:
    rows = session.execute(
        select(Incident.key, Incident.title, Incident.date_end, Incident.status, Incident.wounded_low,
               Incident.wounded_high, Incident.perpetrators_killed, Location.admin1_code, Location.admin2_code,
               Location.geo_precision, Location.latitude, Location.longitude)
        .outerjoin(Location, Location.id == Incident.location_id).where(in_scope(session, filters)))
    return {row.key: row._asdict() for row in rows}


def _value(value: Any) -> Any:
    value = plain(value)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else value


def write_geojson(session: Session, filters: Filters, what: str, path: Path) -> Written:
    """Write the incidents (what='incidents') or the event log (what='events') matching `filters` as a GeoJSON
    FeatureCollection; oldest first, as the event log."""
    frame = event_log(session, filters)
    extra = _extra(session, filters)
    names = list(frame.columns) + (INCIDENT_EXTRA if what == "incidents" else EVENT_EXTRA)
    features: list[dict[str, Any]] = []
    unplaced: list[str] = []
    for row in frame.to_dict("records"):
        more = extra[row["key"]]
        if more["latitude"] is None or more["longitude"] is None:
            unplaced.append(row["key"])
            continue
        properties = {name: _value(row[name] if name in row else more[name]) for name in names}
        features.append({"type": "Feature", "id": row["key"],
                         # RFC 7946 3.1.1: longitude first, WGS 84
                         "geometry": {"type": "Point", "coordinates": [more["longitude"], more["latitude"]]},
                         "properties": properties})
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features,
                                  "without_coordinates": unplaced}
    if features:
        longitudes = [f["geometry"]["coordinates"][0] for f in features]
        latitudes = [f["geometry"]["coordinates"][1] for f in features]
        collection["bbox"] = [min(longitudes), min(latitudes), max(longitudes), max(latitudes)]
    try:
        with atomic_write(path, "w", encoding="utf-8") as handle:
            json.dump(collection, handle, ensure_ascii=False)
    except OSError as exc:
        if exc.errno not in files.NO_ROOM:
            raise
        raise files.no_room(path, exc) from None
    return Written(len(features), unplaced)
