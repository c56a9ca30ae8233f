"""Parsing single values: dates with their precision, counts, coordinates, countries."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize("text", ["30/07/2023", "2023-02-30", "Julyy 2023", "31 June 2023", "", None, "2023-7-30x"])
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


# ------------------------------------------------------------------ tolls as a source states them

def _in_words(number: int) -> str:
    """An English spelling of 0 <= number < 1,000,000, written here independently of the parser."""
    units = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
    tens = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

    def below_thousand(n: int) -> str:
        parts = []
        if n >= 100:
            parts.append(f"{units[n // 100]} hundred")
            n %= 100
            if n:
                parts.append("and")
        if n >= 20:
            parts.append(tens[n // 10] + (f"-{units[n % 10]}" if n % 10 else ""))
        elif n or not parts:
            parts.append(units[n])
        return " ".join(parts)

    if number >= 1000:
        rest = number % 1000
        return f"{below_thousand(number // 1000)} thousand" + (f" {below_thousand(rest)}" if rest else "")
    return below_thousand(number)


@given(st.integers(0, 999_999))
def test_a_toll_in_words_or_digits_is_that_number(number: int) -> None:
    from incidents.records import Toll, parse_toll

    for stated in (str(number), f"{number:,}", _in_words(number), _in_words(number).upper()):
        assert parse_toll(stated, "killed") == Toll(best=number), stated
    for stated in (f"at least {number}", f"{number}+", f"more than {_in_words(number)}", f"{number} or more"):
        assert parse_toll(stated, "killed") == Toll(best=number, at_least=True), stated


@given(st.integers(0, 5000), st.integers(1, 5000))
def test_a_range_is_kept_as_a_range(low: int, width: int) -> None:
    from incidents.records import Toll, parse_toll

    high = low + width
    for stated in (f"{low}-{high}", f"{low} – {high}", f"between {low} and {high}", f"{_in_words(low)} to {high}"):
        assert parse_toll(stated, "killed") == Toll(low=low, high=high), stated
    with pytest.raises(FieldError, match="first figure is above its second"):
        parse_toll(f"{high}-{low}", "killed")


@pytest.mark.parametrize("stated", ["one two three", "sixty sixty", "1,2,3", "1,20", "a", "thousand thousand",
                                    "hundred", "twenty twenty", "twelve hundred and"])
def test_words_that_are_no_one_number_are_refused(stated: str) -> None:
    """The hostile review's cases: each was read as some number (one two three as 6, 1,2,3 as 123)."""
    from incidents.records import parse_toll

    with pytest.raises(FieldError, match="is not a figure this tool can read"):
        parse_toll(stated, "killed")


@pytest.mark.parametrize("stated", ["dozens", "several", "Scores of", "many", "a few", "hundreds"])
def test_a_word_that_gives_no_figure_is_refused_with_the_reason(stated: str) -> None:
    from incidents.records import parse_toll

    with pytest.raises(FieldError, match="gives no figure; record the number the source gives"):
        parse_toll(stated, "killed")


def test_the_command_line_takes_tolls_as_stated_and_show_names_the_range(tmp_path: Path) -> None:
    """'at least 60' on add, '50-63' on report add: the incident's range is 50-63, each end per the report
    that gives it, and each report shows what it stated."""
    from click.testing import CliRunner

    from incidents import api
    from incidents.cli import cli

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    runner = CliRunner()
    added = runner.invoke(cli, ["--db", url, "add", "--key", "T", "--date", "2023-07-30", "--country", "PAK",
                                "--citation", "first report", "--killed", "at least 60", "--wounded", "100+"])
    assert added.exit_code == 0, added.output
    ranged = runner.invoke(cli, ["--db", url, "report", "add", "T", "--citation", "second report", "--killed",
                                 "fifty to sixty-three"])
    assert ranged.exit_code == 0, ranged.output
    shown = api.show(url, "T")
    assert (shown["killed"]["low"], shown["killed"]["best"], shown["killed"]["high"]) == (50, 60, 63)
    assert shown["killed"]["according_to"] == {"low": ["second report"], "best": ["first report"],
                                               "high": ["second report"]}
    first, second = shown["reports"]
    assert first["killed_at_least"] and first["wounded"] == 100 and first["wounded_at_least"]
    assert (second["killed"], second["killed_low"], second["killed_high"]) == (None, 50, 63)
    refused = runner.invoke(cli, ["--db", url, "report", "add", "T", "--citation", "third", "--killed", "dozens"])
    assert refused.exit_code == 2 and "--killed 'dozens' gives no figure" in refused.stderr
