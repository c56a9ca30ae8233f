"""The native incidents export: spreadsheet-safe, and export -> import into an empty database is lossless."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from incidents.analysis.filters import Filters
from incidents.cli import cli
from incidents.db.engine import make_engine, session_factory
from incidents.io.exports import export_incidents, spreadsheet_safe, unescape
from incidents.io.importing import run_import

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
    from incidents.db.migrations import upgrade

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


# ------------------------------------------------------------------------------------- reporting exports

KINDS = ["incidents", "events", "timeline", "groups"]


def _loaded_url(db_url: str) -> str:
    from incidents import api

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, FIXTURES / "gtd_format_sample.csv")
    api.add(db_url, date="2020-01-02", country="PAK", citation="formula test", key="FORMULA",
            title='=HYPERLINK("http://example.org")', killed=2)
    return db_url


def test_every_export_validates_as_a_data_package(db_url: str, tmp_path: Path) -> None:
    from frictionless import Package

    from incidents import api

    url = _loaded_url(db_url)
    for what in KINDS:
        for fmt in ("csv", "xlsx", "json"):
            assert api.export(url, what, tmp_path / f"{what}.{fmt}", fmt=fmt) > 0
    report = Package(str(tmp_path / "datapackage.json")).validate()
    problems = {task.name: [error.message for error in task.errors][:2] for task in report.tasks if not task.valid}
    assert report.valid, problems
    assert len(report.tasks) == len(KINDS) * 3
    # A JSON export is a table too: a broken cell makes the package invalid (it is not merely parsed).
    rows = json.loads((tmp_path / "groups.json").read_text(encoding="utf-8"))
    rows[0]["incidents"] = "many"
    (tmp_path / "groups.json").write_text(json.dumps(rows), encoding="utf-8")
    assert not Package(str(tmp_path / "datapackage.json")).validate().valid


def test_an_export_that_cannot_be_right_writes_nothing(db_url: str, tmp_path: Path) -> None:
    from incidents import api
    from incidents.errors import UsageError

    url = _loaded_url(db_url)
    with pytest.raises(UsageError, match="does not match the file name groups.csv"):
        api.export(url, "groups", tmp_path / "groups.csv", fmt="xlsx")
    assert not (tmp_path / "groups.csv").exists()
    api.export(url, "groups", tmp_path / "groups.xlsx")  # the file name chooses the format
    assert (tmp_path / "groups.xlsx").read_bytes().startswith(b"PK")
    with pytest.raises(UsageError, match="shapes timeline exports only"):
        api.export(url, "groups", tmp_path / "g2.csv", by="actor")
    with pytest.raises(UsageError, match="datapackage.json is the file that describes"):
        api.export(url, "groups", tmp_path / "datapackage.json")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "datapackage.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(UsageError, match="is not a data package"):
        api.export(url, "groups", broken / "groups.csv")
    assert not (broken / "groups.csv").exists() and (broken / "datapackage.json").read_text() == "[1, 2]"
    if db_url.startswith("sqlite"):
        database = Path(db_url.removeprefix("sqlite:///"))
        before = database.read_bytes()
        with pytest.raises(UsageError, match="the command reads that file"):
            api.export(url, "groups", database)
        assert database.read_bytes() == before


def test_resource_names_stay_unique(db_url: str, tmp_path: Path) -> None:
    from frictionless import Package

    from incidents import api

    url = _loaded_url(db_url)
    for name in ("خيبر.csv", "بلوچستان.csv", "a b.csv", "a-b.csv"):
        api.export(url, "groups", tmp_path / name)
    package = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    names = [resource["name"] for resource in package["resources"]]
    assert len(names) == len(set(names)) == 4
    assert Package(str(tmp_path / "datapackage.json")).validate().valid


def test_xlsx_has_real_dates_text_ids_no_formulas_and_a_column_sheet(db_url: str, tmp_path: Path) -> None:
    import openpyxl

    from incidents import api

    url = _loaded_url(db_url)
    api.add(url, date="2019-02-01", date_end="2019-02-03", country="PAK", citation="test record: a three-day attack",
            key="THREE-DAYS")
    api.export(url, "events", tmp_path / "events.xlsx", fmt="xlsx")
    api.export(url, "groups", tmp_path / "groups.xlsx", fmt="xlsx")
    api.export(url, "incidents", tmp_path / "incidents.xlsx", fmt="xlsx")
    book = openpyxl.load_workbook(tmp_path / "incidents.xlsx")
    sheet = book["incidents"]
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    rows = {row[0].value: dict(zip(header, row, strict=False)) for row in sheet.iter_rows(min_row=2)}
    assert rows["FORMULA"]["title"].data_type == "s" and rows["FORMULA"]["title"].value.startswith("=")
    assert rows["GTD-201807139901"]["origin_id"].data_type == "s"  # 12 digits kept as text, not a number
    assert rows["THREE-DAYS"]["date_end"].is_date  # a day is a date cell ...
    assert rows["THREE-DAYS"]["date"].value == "2019-02-01" and rows["THREE-DAYS"]["date"].data_type == "s"
    assert [c.value for c in book["columns"]["A"]][1:] == header
    groups = openpyxl.load_workbook(tmp_path / "groups.xlsx")["groups"]
    first_attack = [cell.value for cell in groups[1]].index("first_attack")
    assert groups.cell(row=2, column=first_attack + 1).is_date


def test_json_export_matches_the_frame(db_url: str, tmp_path: Path) -> None:
    import json as jsonlib

    from incidents import api

    url = _loaded_url(db_url)
    api.export(url, "timeline", tmp_path / "t.json", fmt="json", freq="year", by="actor")
    items = jsonlib.loads((tmp_path / "t.json").read_text())
    frame = api.timeline(url, freq="year", by="actor")
    assert len(items) == len(frame) and sum(i["incidents"] for i in items) == frame.incidents.sum()


def test_xlsx_opens_in_libreoffice_with_typed_cells(db_url: str, tmp_path: Path) -> None:
    """LibreOffice reads the export as intended: dates as dates, ids as text, no formula (needs soffice)."""
    import re
    import shutil
    import subprocess

    from incidents import api

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; apt-get install libreoffice-calc-nogui to run this")
    url = _loaded_url(db_url)
    api.export(url, "incidents", tmp_path / "incidents.xlsx", fmt="xlsx")
    api.export(url, "groups", tmp_path / "groups.xlsx", fmt="xlsx")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--convert-to",
                    "fods", "--outdir", str(tmp_path), str(tmp_path / "incidents.xlsx"), str(tmp_path / "groups.xlsx")],
                   check=True, capture_output=True, timeout=180)
    incidents = (tmp_path / "incidents.fods").read_text(encoding="utf-8")
    groups = (tmp_path / "groups.fods").read_text(encoding="utf-8")
    assert "table:formula=" not in incidents and "table:formula=" not in groups
    origin = re.search(r'<table:table-cell[^>]*office:value-type="(\w+)"[^>]*>\s*<text:p>201807139901</text:p>',
                       incidents)
    assert origin and origin.group(1) == "string"
    title = re.search(r'<table:table-cell[^>]*office:value-type="(\w+)"[^>]*>\s*<text:p>=HYPERLINK', incidents)
    assert title and title.group(1) == "string"
    assert 'office:value-type="date"' in groups
