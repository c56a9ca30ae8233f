"""The native incidents export: spreadsheet-safe, and export -> import into an empty database is lossless."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from incidents.cli import cli
from incidents.db import make_engine, session_factory
from incidents.exports import export_incidents, spreadsheet_safe, unescape
from incidents.importing import run_import
from incidents.queries import Filters

from .conftest import FIXTURES


def _export(engine: Engine, path: Path) -> Path:
    with session_factory(engine)() as session:
        export_incidents(session, Filters(), path)
    return path


def test_export_then_import_is_lossless(seeded: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    for name in ("ucdp_ged_pakistan_2015_2021.csv", "gtd_format_sample.csv", "acled_format_sample.csv"):
        run_import(seeded, FIXTURES / name)
    first = _export(seeded, tmp_path / "first.csv")
    # A second, empty database on the same engine.
    other_url = request.getfixturevalue("empty_db_url")
    other = make_engine(other_url)
    from incidents.db import upgrade

    upgrade(other)
    result = run_import(other, first)
    assert result.rejected == 0 and result.inserted == result.read
    second = _export(other, tmp_path / "second.csv")
    assert first.read_bytes() == second.read_bytes()  # every field of every incident, report and actor link
    other.dispose()


@pytest.mark.parametrize("value", ["=SUM(A1)", "+1", "-cmd", "@x", "\tx", "\rx", "'quoted", "''twice", "plain"])
def test_spreadsheet_escape_is_reversible_and_neutralises(value: str) -> None:
    escaped = spreadsheet_safe(value)
    assert unescape(escaped) == value
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_export_cells_are_safe_and_numbers_stay_numbers(engine: Engine, tmp_path: Path) -> None:
    native = tmp_path / "in.csv"
    with native.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "title", "date", "country", "killed_best", "latitude", "longitude", "source_url"])
        writer.writerow(["F1", "=HYPERLINK(\"http://x\")", "2020-01-02", "PAK", "3", "-12.5", "-70.25",
                         "https://example.org/f"])
    run_import(engine, native)
    out = _export(engine, tmp_path / "out.csv")
    row = next(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert row["title"] == "'=HYPERLINK(\"http://x\")"
    assert row["latitude"] == "-12.5" and row["killed_best"] == "3"


def test_cli_export_with_filters(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["--db", db_url, "load", str(FIXTURES / "actors.yaml"), str(FIXTURES / "seed_incidents.yaml")])
    out = tmp_path / "iskp2018.csv"
    result = runner.invoke(cli, ["--db", db_url, "export", "incidents", "--actor", "IS-K", "--since", "2018",
                                 "--until", "2018", "--out", str(out), "--excel"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8-sig")))
    assert [r["key"] for r in rows] == ["PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA"]
