"""What every file format's importer needs: cell text, required columns, coordinates, the mapper scaffold."""

from __future__ import annotations

from incidents.errors import FieldError
from incidents.records import country_code, parse_coordinate


def text(row: dict[str, str], name: str) -> str | None:
    """The cell's text without surrounding space, or None when blank or absent."""
    value = row.get(name)
    return value.strip() if value and value.strip() else None


def missing_columns(header: list[str], required: list[str]) -> list[str]:
    return [f"missing required column {name!r}" for name in required if name not in header]


def coordinates(row: dict[str, str]) -> tuple[float | None, float | None]:
    """latitude and longitude, in range, and both or neither."""
    latitude = parse_coordinate(row.get("latitude"), "latitude", 90.0)
    longitude = parse_coordinate(row.get("longitude"), "longitude", 180.0)
    if (latitude is None) != (longitude is None):
        raise FieldError("longitude" if longitude is None else "latitude", "", "is blank but its pair is given")
    return latitude, longitude


class DatasetMapper:
    """Turns one dataset's rows (lists of cells, in header order) into records; subclasses say how."""

    identity_column = ""
    note: str | None = None

    def __init__(self, header: list[str], default_country: str | None = None) -> None:
        self.header = header
        if default_country:
            country_code(default_country)  # a country that is none is said once, before any row is read
        self.default_country = default_country

    def row(self, values: list[str]) -> dict[str, str]:
        return dict(zip(self.header, values, strict=True))

    def origin_id(self, row: dict[str, str]) -> str:
        origin = text(row, self.identity_column)
        if not origin:
            raise FieldError(self.identity_column, row.get(self.identity_column), "is blank")
        return origin
