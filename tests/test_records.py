"""Parsing single values: dates with their precision, counts, coordinates, countries."""

from __future__ import annotations

from datetime import date

import pytest

from incidents.errors import FieldError
from incidents.models import DatePrecision
from incidents.records import country_code, parse_coordinate, parse_count, parse_partial_date, period_end


@pytest.mark.parametrize(
    "text,expected",
    [("2023", (date(2023, 1, 1), DatePrecision.YEAR)), ("2023-07", (date(2023, 7, 1), DatePrecision.MONTH)),
     ("2023-07-30", (date(2023, 7, 30), DatePrecision.DAY)), (2018, (date(2018, 1, 1), DatePrecision.YEAR))],
)
def test_partial_dates_keep_their_precision(text: object, expected: tuple[date, DatePrecision]) -> None:
    assert parse_partial_date(text) == expected


@pytest.mark.parametrize("text", ["30/07/2023", "2023-02-30", "July 2023", "", None, "2023-7-30x"])
def test_bad_dates_name_the_field(text: object) -> None:
    with pytest.raises(FieldError) as caught:
        parse_partial_date(text, "date")
    assert caught.value.field_name == "date"


def test_period_end() -> None:
    assert period_end(date(2024, 2, 1), DatePrecision.MONTH) == date(2024, 2, 29)
    assert period_end(date(2018, 1, 1), DatePrecision.YEAR) == date(2018, 12, 31)


@pytest.mark.parametrize("value,expected", [("63", 63), (63, 63), (63.0, 63), ("", None), (None, None), (" 7 ", 7)])
def test_counts(value: object, expected: int | None) -> None:
    assert parse_count(value, "killed") == expected


@pytest.mark.parametrize("value", ["-1", -5, "sixty", "6.5", True])
def test_bad_counts(value: object) -> None:
    with pytest.raises(FieldError):
        parse_count(value, "killed")


def test_coordinates() -> None:
    assert parse_coordinate("29.903587", "latitude", 90) == pytest.approx(29.903587)
    with pytest.raises(FieldError, match="out of range"):
        parse_coordinate("91", "latitude", 90)


@pytest.mark.parametrize("value", ["PAK", "PK", "Pakistan", "586", "pakistan"])
def test_country_codes(value: str) -> None:
    assert country_code(value) == "PAK"


def test_unknown_country() -> None:
    with pytest.raises(FieldError):
        country_code("Pakistanistan")
