"""Hardening: nothing half-written, no secret on a command line, no backup restored that is not whole.

Each test breaks the promise the way a user or the machine would: a write that fails part-way, a process
killed part-way, a password in the database URL, a damaged or foreign backup.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine
from incidents.errors import DatabaseError, IncidentsError

from .conftest import FIXTURES, PG_URL, ROOT, _create_pg_database, _drop_pg_database


def _count(url: str, table: str = "incidents") -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def _loaded(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, FIXTURES / "ucdp_ged_pakistan_2015_2021.csv")
    return db_url


# --------------------------------------------------------------------------- every file is written whole


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_an_export_that_fails_part_way_leaves_the_old_file(db_url: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    from incidents.io import exports

    url = _loaded(db_url)
    out = tmp_path / f"incidents.{fmt}"
    api.export(url, "incidents", out)
    before, package = out.read_bytes(), (tmp_path / "datapackage.json").read_bytes()
    calls = 0
    real = exports._cell

    def failing(value: object) -> object:
        nonlocal calls
        calls += 1
        if calls > 2000:  # well into the rows: a full disk, a bug, a Ctrl-C
            raise OSError(28, "No space left on device")
        return real(value)

    monkeypatch.setattr(exports, "_cell", failing)
    with pytest.raises(IncidentsError, match="No room to write .*; nothing was written"):
        api.export(url, "events", out)  # the events rows go through _cell; incidents' native rows do not
    assert out.read_bytes() == before and (tmp_path / "datapackage.json").read_bytes() == package
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


KILLED_EXPORT = """
import sys, time
from incidents import api
from incidents.io import exports
real = exports._cell
def slow(value):
    time.sleep(0.0005)
    return real(value)
exports._cell = slow
api.export(sys.argv[1], "events", sys.argv[2])
"""


def test_an_export_killed_part_way_leaves_the_old_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    _loaded(url)
    out = tmp_path / "events.csv"
    out.write_text("the export an analyst sent yesterday\n", encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", KILLED_EXPORT, url, str(out)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while not [p for p in tmp_path.iterdir() if p.name.endswith(".part")] and time.monotonic() < deadline:
        time.sleep(0.02)  # until the child is writing
    assert child.poll() is None, "the export ended before it could be killed"
    time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert out.read_text(encoding="utf-8") == "the export an analyst sent yesterday\n"
    api.export(url, "events", out)  # the next export completes, and sweeps nothing young away
    assert out.read_text(encoding="utf-8").startswith("key,")


def test_a_chart_and_a_rejects_file_are_whole_or_absent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    bad = tmp_path / "bad.csv"
    bad.write_text("key,date,country,source_citation\nA,2020-01-01,PAK,c\nB,not a date,PAK,c\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    from incidents.store import bulk

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the machine failed part-way")

    with monkeypatch.context() as patch:
        patch.setattr(bulk.BulkWriter, "write", broken)
        with pytest.raises(RuntimeError):
            api.import_file(url, bad, on_error="skip", rejects=rejects)
    assert not rejects.exists() and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    result = api.import_file(url, bad, on_error="skip", rejects=rejects)
    assert result.rejected == 1 and rejects.read_text(encoding="utf-8").count("\n") == 2


# ----------------------------------------------------------------------------------- secrets stay secret

SHIM = """#!/bin/sh
printf '%s\\n' "$*" >> "{log}"
printf 'PGPASSWORD=%s\\n' "${{PGPASSWORD:-}}" >> "{log}.env"
exec "{real}" "$@"
"""


@pytest.mark.postgresql
def test_pg_dump_and_pg_restore_never_see_the_password_on_their_command_line(
        pg_server: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ps shows every process's arguments to every user: the password goes in the environment instead."""
    import shutil

    name = f"incidents_secret_{uuid.uuid4().hex[:8]}"
    _create_pg_database(pg_server, name)
    try:
        url = make_url(PG_URL).set(database=name, password="s3cret-XYZ").render_as_string(hide_password=False)
        api.init(url)
        shims = tmp_path / "bin"
        shims.mkdir()
        log = tmp_path / "argv.log"
        for tool in ("pg_dump", "pg_restore"):
            real = shutil.which(tool)
            assert real, f"{tool} is needed for this test"
            (shims / tool).write_text(SHIM.format(log=log, real=real), encoding="utf-8")
            (shims / tool).chmod(0o755)
        monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{os.environ['PATH']}")
        backup = tmp_path / "db.backup"
        assert CliRunner().invoke(cli, ["--db", url, "db", "backup", str(backup)]).exit_code == 0
        assert CliRunner().invoke(cli, ["--db", url, "db", "restore", str(backup)]).exit_code == 0
        arguments = log.read_text(encoding="utf-8")
        assert "s3cret-XYZ" not in arguments and arguments.count("\n") >= 3
        assert "PGPASSWORD=s3cret-XYZ" in (tmp_path / "argv.log.env").read_text(encoding="utf-8")
    finally:
        _drop_pg_database(pg_server, name)


# ------------------------------------------------------------------------ a restore checks before it acts


def _sqlite_backup(tmp_path: Path) -> tuple[str, Path]:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    _loaded(url)
    backup = tmp_path / "good.backup"
    api.backup(url, backup)
    return url, backup


def test_restore_refuses_a_damaged_foreign_or_newer_backup_and_changes_nothing(tmp_path: Path) -> None:
    url, backup = _sqlite_backup(tmp_path)
    before = (tmp_path / "incidents.db").read_bytes()
    flipped = tmp_path / "flipped.backup"
    data = bytearray(backup.read_bytes())
    for offset in range(len(data) // 2, len(data) // 2 + 4096, 7):  # damage pages in the middle
        data[offset] ^= 0xFF
    flipped.write_bytes(bytes(data))
    only_version = tmp_path / "only_version.backup"
    with sqlite3.connect(only_version) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("INSERT INTO alembic_version VALUES ('648d59eab669')")
    newer = tmp_path / "newer.backup"
    newer.write_bytes(backup.read_bytes())
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    for bad, message in ((flipped, "damaged|not an incidents backup"), (only_version, "has no incidents"),
                         (newer, "does not know")):
        with pytest.raises(DatabaseError, match=message):
            api.restore(url, bad)
        assert (tmp_path / "incidents.db").read_bytes() == before, bad.name
    assert api.restore(url, backup).startswith("Restored")


def _changed(backup: Path, name: str, *statements: str) -> Path:
    """A copy of `backup` changed by SQL run with SQLite's own checks off (as another tool could)."""
    changed = backup.with_name(name)
    changed.write_bytes(backup.read_bytes())
    with sqlite3.connect(changed) as connection:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("PRAGMA ignore_check_constraints = ON")
        for statement in statements:
            connection.execute(statement)
    connection.close()
    return changed


def test_restore_refuses_rows_that_break_the_schema_and_a_schema_not_its_own(tmp_path: Path) -> None:
    """A backup whose rows break a CHECK constraint or a foreign key, one with a table, trigger or view added or
    changed, one whose schema text is damaged, and the database itself under another name: each is refused,
    the database is left as it was, and no file is left beside the backup."""
    url, backup = _sqlite_backup(tmp_path)
    before = (tmp_path / "incidents.db").read_bytes()
    with sqlite3.connect(backup) as connection:
        sql = connection.execute("SELECT sql FROM sqlite_master WHERE name = 'sources'").fetchone()[0]
    connection.close()
    flipped_schema = backup.with_name("flipped_schema.backup")
    data = bytearray(backup.read_bytes())
    at = data.find(b"REFERENCES sources")
    data[at + 14] ^= 0xFF  # 'sources' becomes 's?urces' inside the schema's own text
    flipped_schema.write_bytes(bytes(data))
    (tmp_path / "same.backup").hardlink_to(tmp_path / "incidents.db")
    cases = {
        _changed(backup, "negative.backup", "UPDATE incidents SET killed_low = -5"): "CHECK constraint failed",
        _changed(backup, "orphans.backup", "DELETE FROM sources"): "refers to a missing row of sources",
        _changed(backup, "trigger.backup", "CREATE TRIGGER t AFTER INSERT ON incidents BEGIN SELECT 1; END"):
            "its trigger t is not in the schema",
        _changed(backup, "table.backup", "CREATE TABLE extra (x)"): "its table extra is not in the schema",
        _changed(backup, "view.backup", "DROP VIEW incident_report",
                 "CREATE VIEW incident_report AS SELECT 1 AS x"): "its view incident_report differs",
        flipped_schema: "not an incidents backup|differs|damaged",
        tmp_path / "same.backup": "is the database itself",
    }
    assert "sources" in sql
    for bad, message in cases.items():
        with pytest.raises(DatabaseError, match=message):
            api.restore(url, bad)
        assert (tmp_path / "incidents.db").read_bytes() == before, bad.name
    assert api.restore(url, backup).startswith("Restored")
    assert not [path.name for path in tmp_path.iterdir() if path.name.endswith(("-wal", "-shm", "-journal"))
                and not path.name.startswith("incidents.db")]


@pytest.mark.postgresql
def test_a_truncated_postgresql_dump_changes_nothing(pg_server: Engine, tmp_path: Path) -> None:
    """pg_restore of two thirds of a dump used to leave 0 incidents; now it is one transaction."""
    name = f"incidents_truncated_{uuid.uuid4().hex[:8]}"
    url = _create_pg_database(pg_server, name, template=None)
    try:
        api.init(url)
        _loaded(url)
        backup = tmp_path / "db.backup"
        api.backup(url, backup)
        counts = (_count(url), _count(url, "reports"), _count(url, "sources"))
        truncated = tmp_path / "truncated.backup"
        truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size * 2 // 3])
        with pytest.raises(DatabaseError, match="nothing was changed"):
            api.restore(url, truncated)
        assert (_count(url), _count(url, "reports"), _count(url, "sources")) == counts
        assert api.restore(url, backup).startswith("Restored")
    finally:
        _drop_pg_database(pg_server, name)


# ------------------------------------------------- values out of range, markup and control codes in the data

HOSTILE = [
    (["add", "--date", "2020-01-01", "--country", "PAK", "--citation", "x", "--killed", "9223372036854775808"],
     2, "--killed '9223372036854775808' is more than any count the database holds"),
    (["add", "--date", "2020-01-01", "--country", "PAK", "--citation", "x", "--wounded", "2147483648"],
     2, "is more than any count the database holds (2,147,483,647)"),
    (["list", "--limit", "99999999999999999999999"], 2, "'--limit': 99999999999999999999999 is not in the range"),
    (["timeline", "--rolling", "99999999999999999999999"], 2, "is not in the range 2<=x<=10000"),
    (["duplicates", "--km", "nan"], 2, "--km nan is not a distance above 0"),
    (["duplicates", "--days", "1000000"], 2, "is not in the range 0<=x<=366"),
    (["--db", "postgresql+psycopg://user:hunter2@host:abc/x", "list"], 2, "'postgresql+psycopg://user:***@host:abc/x'"),
    (["timeline", "--freq", "fortnight"], 2, "'fortnight' is not one of"),
    (["import", "fifo"], 2, "fifo is not a regular file"),
    (["duplicates", "--min-score", "nan"], 2, "--min-score nan is not a score from 0 to 1"),
    (["--db", "", "list"], 2, "The database is named by an empty --db"),
    (["export", "incidents", "--out", "loop"], 2, "loop is a loop of symbolic links"),
    (["db", "backup", "loop"], 2, "loop is a loop of symbolic links"),
    (["chart", "groups", "--out", "loop.png"], 2, "loop.png is a loop of symbolic links"),
    (["import", "binary.csv"], 6, "binary.csv: the first line is not a header of column names (it holds control"),
    (["import", "nul.csv.gz"], 6, "nul.csv.gz:2: this record cannot be read as CSV: a line is longer than 1,000"),
]


@pytest.mark.parametrize(("args", "exit_code", "message"), HOSTILE, ids=[" ".join(h[0][:2]) for h in HOSTILE])
def test_a_value_out_of_range_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
                                          exit_code: int, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_DB", raising=False)
    assert CliRunner().invoke(cli, ["demo", "--no-exports"]).exit_code == 0
    os.mkfifo(tmp_path / "fifo")
    for name in ("loop", "loop.png"):  # two links that lead to each other
        (tmp_path / name).symlink_to(tmp_path / f"{name}.other")
        (tmp_path / f"{name}.other").symlink_to(tmp_path / name)
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    import gzip

    (tmp_path / "nul.csv.gz").write_bytes(gzip.compress(b"key,date,country,source_citation\n" + b"\0" * 5_000_000))
    monkeypatch.setenv("INCIDENTS_MAX_FIELD_BYTES", "1000")  # the line is refused when 1,001 characters are read
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert "hunter2" not in result.output


def test_gtd_values_past_any_column_are_named_by_line(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "gtd.csv"
    bad.write_text("eventid,iyear,imonth,iday,country_txt,nkill,gname,latitude,longitude\n"
                   "1,2015,1,1,Pakistan,1e308,X,,\n2,inf,1,1,Pakistan,1,X,,\n3,2015,1,1,Pakistan,1,X,nan,nan\n",
                   encoding="utf-8")
    with pytest.raises(Exception) as raised:
        api.import_file(db_url, bad, format="gtd")
    text_of = str(raised.value)
    assert "gtd.csv:2: column nkill: '1e308'" in text_of and "gtd.csv:3: column iyear: 'inf'" in text_of
    assert "gtd.csv:4: column latitude: 'nan'" in text_of
    assert _count(db_url) == 0


def test_markup_and_control_codes_in_the_data_are_shown_not_obeyed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    runner = CliRunner()
    added = runner.invoke(cli, ["--db", url, "add", "--date", "2020-01-01", "--country", "PAK", "--citation", "x",
                                "--key", "k[/]", "--title", "esc\x1b[31mred [bold]x[/bold]"])
    assert added.exit_code == 0 and "Added incident k[/]." in added.output  # the write committed: no traceback
    for command in (["show", "k[/]"], ["list"], ["history", "k[/]"]):
        result = runner.invoke(cli, ["--db", url, *command], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
        assert "\x1b" not in result.output, command  # the ESC code is written out, not sent to the terminal
    shown = runner.invoke(cli, ["--db", url, "show", "k[/]"], env={"COLUMNS": "200"}).output
    assert "esc\\x1b[31mred [bold]x[/bold]" in shown


def test_an_xlsx_export_holds_a_control_character_in_excels_form(tmp_path: Path) -> None:
    import openpyxl

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    api.add(url, date="2020-01-01", country="PAK", citation="x", key="ESC", title="esc\x1b[31mred\x07")
    api.export(url, "incidents", tmp_path / "incidents.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "incidents.xlsx")["incidents"]
    header = [cell.value for cell in sheet[1]]
    assert sheet.cell(row=2, column=header.index("title") + 1).value == "esc_x001B_[31mred_x0007_"


def test_a_nul_character_is_refused_with_its_field_on_both_engines(db_url: str) -> None:
    """PostgreSQL refuses NUL in text with a driver error; both engines now refuse it first, naming the field."""
    result = CliRunner().invoke(cli, ["--db", db_url, "add", "--date", "2020-01-01", "--country", "PAK",
                                      "--citation", "x", "--title", "a\x00b"])
    assert result.exit_code == 2 and "--title 'a\\x00b' contains a NUL character" in result.stderr, result.output
    assert _count(db_url) == 0


# ------------------------------------------------------------------------------ every read is bounded


def test_a_field_past_the_bound_is_named_not_read_into_memory(tmp_path: Path) -> None:
    """A 261 KB .csv.gz of one endless field used to grow past 9 GB; now the record is refused at the bound."""
    import gzip

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"key,date,country,source_citation,title\nA,2020-01-01,PAK,c," + b"x" * 11_000_000))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(Exception, match=r"bomb.csv.gz:2: .*a line is longer than 10,000,000 characters"):
        api.import_file(url, bomb)
    # A quoted field of many short lines is held to the same bound, as a field.
    lines = gzip.compress(b'key,date,country,source_citation,title\nA,2020-01-01,PAK,c,"' + (b"x" * 999 + b"\n") * 11_000
                          + b'"\n')
    bomb.write_bytes(lines)
    with pytest.raises(Exception, match=r"bomb.csv.gz:2: .*a field is larger than 10,000,000 characters"):
        api.import_file(url, bomb)
    assert _count(url) == 0


def test_the_bounds_can_be_raised_and_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(2_500)) + "\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"wide.csv:1: the header has 2,500 columns, more than 2,000"):
        api.import_file(url, wide)
    text_file = tmp_path / "long.csv"
    text_file.write_text("key,date,country,source_citation,title\nA,2020-01-01,PAK,c," + "y" * 5_000 + "\n",
                         encoding="utf-8")
    monkeypatch.setenv("INCIDENTS_MAX_FIELD_BYTES", "1000")
    with pytest.raises(Exception, match="longer than 1,000 characters"):
        api.import_file(url, text_file)
    monkeypatch.setenv("INCIDENTS_MAX_FIELD_BYTES", "100000")
    assert api.import_file(url, text_file).inserted == 1


def test_an_xlsx_too_large_to_hold_is_refused_before_it_is_opened(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["eventid", "iyear", "imonth", "iday", "country_txt", "gname"])
    for number in range(200):
        sheet.append([f"2015010{number:04d}", 2015, 1, 1, "Pakistan", f"group {number}"])
    book.save(tmp_path / "gtd.xlsx")
    import zipfile

    strings = "".join(f"<si><t>group {number}</t></si>" for number in range(200))
    with zipfile.ZipFile(tmp_path / "gtd.xlsx", "a") as archive:  # as Excel writes text: a shared-strings part
        archive.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://'
                         f'schemas.openxmlformats.org/spreadsheetml/2006/main" count="200">{strings}</sst>')
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    monkeypatch.setenv("INCIDENTS_MAX_XLSX_STRINGS_BYTES", "500")
    with pytest.raises(Exception, match=r"gtd.xlsx: its text takes [\d,]+ bytes unpacked, more than 500"):
        api.import_file(url, tmp_path / "gtd.xlsx")
    assert _count(url) == 0


@pytest.mark.parametrize("cell", ["[" * 100_000 + "]" * 100_000, "[" * 25 + "]" * 25, '{"a":' * 30 + "1" + "}" * 30])
def test_json_nested_too_deep_is_a_field_error(tmp_path: Path, cell: str) -> None:
    import csv

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    native = tmp_path / "deep.csv"
    with native.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["key", "date", "country", "source_citation", "raw_row"],
                                      ["A", "2020-01-01", "PAK", "c", cell]])
    with pytest.raises(Exception, match=r"deep.csv:2: column raw_row: .* nested more than 20 levels"):
        api.import_file(url, native)
    assert _count(url) == 0


# ------------------------------------------------------------------------------ nothing lost on import


def test_two_keyless_files_of_one_day_are_two_incidents(db_url: str, tmp_path: Path) -> None:
    header = "date,country,title,source_citation\n"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(header + "2020-05-01,PAK,a market bombing,test record one\n", encoding="utf-8")
    second.write_text(header + "2020-05-01,PAK,a checkpoint attack,test record two\n", encoding="utf-8")
    api.import_file(db_url, first)
    assert api.import_file(db_url, second).inserted == 1
    titles = sorted(row["title"] for row in api.incidents(db_url, limit=None)[0])
    assert titles == ["a checkpoint attack", "a market bombing"]  # the first's title is not overwritten
    assert api.import_file(db_url, first).unchanged == 1  # and a file imported again finds itself


def test_preliminary_false_is_false_and_rejects_are_spreadsheet_safe(db_url: str, tmp_path: Path) -> None:
    import csv

    native = tmp_path / "native.csv"
    with native.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([
            ["key", "date", "country", "source_citation", "reports"],
            ["P", "2020-01-01", "PAK", "c", '[{"source": {"citation": "c"}, "killed": 5, "preliminary": "false"}]'],
            ["Q", "not a date", "PAK", "=HYPERLINK(\"http://example.org\")", ""],
        ])
    rejects = tmp_path / "rejects.csv"
    api.import_file(db_url, native, on_error="skip", rejects=rejects)
    report = api.show(db_url, "P")["reports"][0]
    assert report["preliminary"] is False and api.show(db_url, "P")["killed"]["best"] == 5
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][rows[0].index("source_citation")] == "'=HYPERLINK(\"http://example.org\")"


def test_whitespace_round_trips(db_url: str, tmp_path: Path) -> None:
    """Export, import into an empty database, export again: the same bytes, whatever spaces the values had."""
    from incidents.analysis.filters import Filters
    from incidents.db.engine import session_factory
    from incidents.io.exports import export_incidents

    api.add(db_url, date="2020-01-01", country="PAK", citation="  spaced citation ", title="  a title\t",
            key="SPACES", place="   ", perpetrators=["TTP \t=claimed"])
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        export_incidents(session, Filters(), tmp_path / "first.csv")
    engine.dispose()
    again = f"sqlite:///{tmp_path / 'again.db'}"
    api.init(again, registry=False)
    api.import_file(again, tmp_path / "first.csv")
    engine = make_engine(again)
    with session_factory(engine)() as session:
        export_incidents(session, Filters(), tmp_path / "second.csv")
    engine.dispose()
    assert (tmp_path / "first.csv").read_bytes() == (tmp_path / "second.csv").read_bytes()
    shown = api.show(db_url, "SPACES")
    assert shown["title"] == "a title" and shown["actors"][0]["actor"] == "TTP"


def test_a_duplicate_search_too_wide_to_hold_is_refused(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:

    for day in range(1, 6):
        api.add(db_url, date=f"2020-01-0{day}", country="PAK", admin1="Balochistan", citation=f"test record {day}")
    assert api.duplicates(db_url, days=7, limit=None)  # they pair up
    monkeypatch.setenv("INCIDENTS_MAX_CANDIDATE_PAIRS", "5")
    with pytest.raises(Exception, match="more than 5 candidate pairs; narrow days or km"):
        api.duplicates(db_url, days=7, limit=None)


def test_what_the_third_hostile_review_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The -wal file is the database too; a 400-digit count and a raw_row that is no object are field errors;
    a password in the URL's query is masked; a dialect without its driver is one line."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_DB", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "--no-exports"]).exit_code == 0
    wal = runner.invoke(cli, ["export", "incidents", "--out", "incidents.db-wal"])
    assert wal.exit_code == 2 and "it is part of the database" in wal.stderr
    (tmp_path / "big.csv").write_text("date,country,source_citation,killed_best\n2020-01-01,PAK,x," + "1" * 400
                                      + "\n", encoding="utf-8")
    (tmp_path / "raw.csv").write_text("key,date,country,source_citation,raw_row\nZ,2020-01-01,PAK,x,[1]\n",
                                      encoding="utf-8")
    for name, message in (("big.csv", "big.csv:2: column killed_best"), ("raw.csv", "must be a JSON object")):
        result = runner.invoke(cli, ["import", name])
        assert result.exit_code == 6 and message in result.stderr, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    secret = runner.invoke(cli, ["--db", f"{PG_URL}?password=QsSecret77", "db", "current"])
    assert "QsSecret77" not in secret.output
    driver = runner.invoke(cli, ["--db", "mysql://u:pw@h/x", "list"])
    assert driver.exit_code == 2 and "needs a driver that is not installed" in driver.stderr, driver.output


def test_long_answers_are_written_as_made_and_a_table_is_cut_with_a_note(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeline or a listing too long for a screen: the table shows the first MAX_TABLE_ROWS rows and says how
    many there are and that --json gives them all; --json gives every row, the same JSON as one json.dumps."""
    import json

    from incidents.cli import render

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    api.load(url, [FIXTURES / "seed_incidents.yaml"])
    monkeypatch.setattr(render, "MAX_TABLE_ROWS", 7)
    runner = CliRunner()
    frame = api.timeline(url, freq="month")
    table = runner.invoke(cli, ["--db", url, "timeline", "--freq", "month"])
    assert table.exit_code == 0, table.output
    assert f"The table shows the first 7 of {len(frame):,} rows; --json gives them all" in table.output
    first, eighth = (render.period_label(frame["period"][n], "month") for n in (0, 7))
    assert first in table.output and eighth not in table.output
    whole = runner.invoke(cli, ["--db", url, "timeline", "--freq", "month", "--json"])
    assert len(json.loads(whole.output)["periods"]) == len(frame)
    monkeypatch.setattr(render, "MAX_TABLE_ROWS", 2)
    listing = runner.invoke(cli, ["--db", url, "list", "--limit", "1000"])
    total = api.incidents(url, limit=None)[1]
    assert total == 3 and "The table shows the first 2 of 3 rows; --json gives them all" in listing.output
    listed = json.loads(runner.invoke(cli, ["--db", url, "list", "--limit", "1000", "--json"]).output)
    assert listed == json.loads(json.dumps({"total": total, "incidents": api.incidents(url, limit=1000)[0]},
                                           default=str))


def test_json_written_in_pieces_is_the_json_of_one_dumps() -> None:
    """files.write_json with LazyLists (rows made as written) gives byte for byte what json.dumps gives for the
    same data as lists, empty lists and nesting included."""
    import io
    import json

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from incidents.files import LazyList, write_json

    values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                          lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                                        max_size=3), max_leaves=20)

    def lazy(value: object) -> object:
        if isinstance(value, list):
            return LazyList(lazy(item) for item in value)
        if isinstance(value, dict):
            return {key: lazy(item) for key, item in value.items()}
        return value

    @settings(max_examples=300, deadline=None)
    @given(value=values, indent=st.sampled_from([1, 2]))
    def check(value: object, indent: int) -> None:
        handle = io.StringIO()
        write_json(handle, lazy(value), indent=indent)
        assert handle.getvalue() == json.dumps(value, indent=indent, ensure_ascii=False, default=str)

    check()


def test_every_bound_names_its_override(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeline past limits TIMELINE_ROWS is refused, naming INCIDENTS_MAX_TIMELINE_ROWS; raising it lets the
    same question through; a value that is no positive whole number leaves the default."""
    from incidents.errors import FieldError
    from incidents.limits import DEFAULTS, limit

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    days = len(api.timeline(db_url, freq="day", since="2018-01-01", until="2018-12-31"))
    assert days == 365
    monkeypatch.setenv("INCIDENTS_MAX_TIMELINE_ROWS", "300")
    with pytest.raises(FieldError, match="365 rows.*more than 300.*INCIDENTS_MAX_TIMELINE_ROWS raises the bound"):
        api.timeline(db_url, freq="day", since="2018-01-01", until="2018-12-31")
    monkeypatch.setenv("INCIDENTS_MAX_TIMELINE_ROWS", "1_000")
    assert len(api.timeline(db_url, freq="day", since="2018-01-01", until="2018-12-31")) == 365
    for nonsense in ("-5", "0", "lots", ""):
        monkeypatch.setenv("INCIDENTS_MAX_TIMELINE_ROWS", nonsense)
        assert limit("TIMELINE_ROWS") == DEFAULTS["TIMELINE_ROWS"]


def test_the_xlsx_bound_counts_what_openpyxl_holds_whatever_its_name(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is on the parts openpyxl holds in memory (all but the sheets, which it streams): a big sheet
    passes a bound smaller than itself, and text moved to a part of another name is still counted."""
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["eventid", "iyear", "imonth", "iday", "country_txt", "gname"])
    for number in range(3000):
        sheet.append([201501010000 + number, 2015, 1, 1 + number % 28, "Pakistan", "TTP"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    with zipfile.ZipFile(plain) as archive:
        sizes = {info.filename: info.file_size for info in archive.infolist()}
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet_size = sizes["xl/worksheets/sheet1.xml"]
    rest = sum(sizes.values()) - sheet_size
    assert rest < sheet_size // 2
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    monkeypatch.setenv("INCIDENTS_MAX_XLSX_STRINGS_BYTES", str(sheet_size // 2))
    api.import_file(url, plain, dry_run=True)  # the streamed sheet is not held, so not counted

    # The same workbook with a large shared-strings part under another name: openpyxl finds it by its content type.
    strings = "".join(f"<si><t>note {number:06d}</t></si>" for number in range(20_000))
    parts["xl/strs.xml"] = (f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="20000" '
                            f'uniqueCount="20000">{strings}</sst>').encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/strs.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml" /></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'sharedStrings" Target="strs.xml" /></Relationships>'))
    renamed = tmp_path / "renamed.xlsx"
    with zipfile.ZipFile(renamed, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(Exception, match=r"renamed.xlsx: its text takes [\d,]+ bytes unpacked, more than"):
        api.import_file(url, renamed, dry_run=True)
    # ... and declared a sheet as well as shared strings, to slip past a count of non-sheets: still counted.
    twice = tmp_path / "twice.xlsx"
    with zipfile.ZipFile(twice, "w") as archive:
        for name, data in parts.items():
            if name == "[Content_Types].xml":
                data = data.replace(b"<Override PartName=\"/xl/strs.xml\"", (
                    b'<Override PartName="/xl/strs.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                    b'spreadsheetml.worksheet+xml" /><Override PartName="/xl/strs.xml"'))
            archive.writestr(name, data)
    with pytest.raises(Exception, match=r"twice.xlsx: its text takes [\d,]+ bytes unpacked, more than"):
        api.import_file(url, twice, dry_run=True)
    monkeypatch.setenv("INCIDENTS_MAX_XLSX_STRINGS_BYTES", "100000000")
    assert api.import_file(url, renamed, dry_run=True).read == 3000  # a workbook openpyxl reads, strings and all


SOURCE = '"source": {"citation": "test record"}'
TYPE_CONFUSED = [  # (column, JSON cell, what the one-line error says)
    ("reports", '[{"source": {"url": 12345}}]', "column url: '12345' is a number, not text"),
    ("reports", '[{"source": {"citation": "c", "record_id": {"a": 1}}}]', "is a JSON object, not text"),
    ("reports", '[{' + SOURCE + ', "excerpt": {"a": 1}}]', "excerpt"),
    ("reports", '[{' + SOURCE + ', "killed": NaN}]', "NaN is no number JSON allows"),
    ("reports", '[{' + SOURCE + ', "killed": 1e999}]', "too large a number"),
    ("reports", '[{' + SOURCE + ', "killed_at_least": "maybe"}]', "is not yes/no"),
    ("reports", '[{' + SOURCE + ', "killed_low": 9, "killed_high": 1}]', "killed_low 9 is above its killed_high 1"),
    ("reports", '[{' + SOURCE + ', "excerpt": "\\udc80"}]', "lone surrogate"),
    ("raw_row", '{"a": "\\udc80"}', "lone surrogate"),
    ("raw_row", '{"\\ud800": 1}', "lone surrogate"),
    ("actors", '[{"actor": {"a": 1}}]', "an actor name (text)"),
    ("actors", '[{"actor": "ISKP", "source": {"url": [1]}}]', "is a JSON list, not text"),
    ("actors", '[{"actor": "ISKP", "source": "a string"}]', "has a source that is not an object"),
]


@pytest.mark.parametrize(("column", "cell", "message"), TYPE_CONFUSED, ids=[c[1][:40] for c in TYPE_CONFUSED])
def test_json_cells_of_the_wrong_type_are_one_line_naming_the_line(tmp_path: Path, column: str, cell: str,
                                                                    message: str) -> None:
    """A native JSON cell whose values have the wrong type (a number for a URL, an object for a name, NaN, a
    lone surrogate) is refused with the file and line, and nothing is written; a right one of each is read."""
    import csv

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    path = tmp_path / "native.csv"
    with path.open("w", encoding="utf-8", newline="", errors="surrogatepass") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "date", "country", "source_citation", "title", column])
        writer.writerow(["GOOD", "2020-01-01", "PAK", "a source", "fine", ""])
        writer.writerow(["BAD", "2020-01-02", "PAK", "a source", "confused", cell])
    result = CliRunner().invoke(cli, ["--db", url, "import", str(path)])
    assert result.exit_code == 6, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.startswith("Error: native.csv: 1 of 2 rows are bad; nothing was imported")
    named = [line for line in result.stderr.splitlines() if line.strip().startswith("native.csv:3: ")]
    assert len(named) == 1 and message in named[0], result.stderr
    assert _count(url) == 0


def test_right_json_cells_of_each_kind_are_read(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    path = tmp_path / "native.csv"
    path.write_text(
        'key,date,country,title,reports,actors,raw_row\n'
        'OK,2020-01-01,PAK,fine,"[{""source"": {""citation"": ""c"", ""record_id"": ""7""}, ""killed"": 3, '
        '""killed_at_least"": ""no"", ""wounded_at_least"": true}]","[{""actor"": ""ISKP"", ""source"": '
        '{""citation"": ""c""}}]","{""a"": ""\\u00e9""}"\n', encoding="utf-8")
    api.import_file(url, path)
    shown = api.show(url, "OK")
    assert shown["killed"]["best"] == 3 and shown["actors"][0]["actor"] == "ISKP"
    report = shown["reports"][0]
    assert report["killed_at_least"] is False and report["wounded_at_least"] is True


@pytest.mark.parametrize(("package", "message"), [
    ("[" * 100_000 + "]" * 100_000, "it nests too deep"),
    ('{"resources": [], "x": NaN}', "NaN is no number JSON allows"),
    ('{"resources": [], "x": 1e999999}', "Out of range float values"),
    ('{"resources": [], "x": "\\udc80"}', "surrogates not allowed"),
    ('{"resources": [{"name": 5, "path": "a.csv"}]}', "lists a resource that no data package can hold"),
    ('{"resources": [{"name": "a", "path": "../../etc/passwd"}]}', "lists a resource that no data package can hold"),
])
def test_a_datapackage_json_that_cannot_be_written_back_is_refused_first(tmp_path: Path, package: str,
                                                                          message: str) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    (tmp_path / "datapackage.json").write_text(package, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", url, "export", "incidents", "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert not (tmp_path / "x.csv").exists()
    assert (tmp_path / "datapackage.json").read_text(encoding="utf-8") == package


def test_a_timeline_chart_of_any_years_is_drawn(tmp_path: Path) -> None:
    """Matplotlib draws years 1 to 9999 only; an incident in year 1 or 9999 (both valid dates) is charted."""
    from PIL import Image

    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url)
    for day in ("0001-01-01", "2018-07-13", "9999-12-31"):
        api.add(url, date=day, country="PAK", citation=f"test record {day}", perpetrators=["ISKP"], killed=1)
    choices: list[dict[str, Any]] = [{}, {"by": "actor"}, {"since": "0001", "until": "0500"}]
    for options in choices:
        path = tmp_path / f"chart-{len(options)}.png"
        api.chart(url, "timeline", path, freq="year", **options)
        assert Image.open(path).size[0] > 500


def test_what_a_killed_write_left_is_swept_by_the_next_write_in_its_folder(tmp_path: Path) -> None:
    """A SIGKILL part-way through a write leaves a hidden '.NAME.<12 hex>.part' file; the next write into that
    folder, of any file, removes such leftovers once they are a minute old, and nothing else."""
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    api.init(url, registry=False)
    old = tmp_path / ".yesterday.csv.0123456789ab.part"
    fresh = tmp_path / ".running.csv.ba9876543210.part"  # a write still going on in another process
    mine = tmp_path / ".notes.part"  # not the tool's pattern: someone else's file
    for path in (old, fresh, mine):
        path.write_text("half", encoding="utf-8")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(mine, (an_hour_ago, an_hour_ago))
    api.export(url, "incidents", tmp_path / "today.csv")
    assert not old.exists() and fresh.exists() and mine.exists()


def test_a_backup_of_a_database_an_older_version_left_is_restored(tmp_path: Path) -> None:
    """A database stepped back to an older revision (as going back to an older release does) has tables and
    views rewritten with other quoting and text: its backup is still this tool's, and restores."""
    from alembic.script import ScriptDirectory

    from incidents.db.migrations import alembic_config

    revisions = [script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    source = tmp_path / "demo.db"
    api.demo(str(source), exports_dir=None)
    for revision in revisions[1:]:  # every revision below head
        older = tmp_path / f"at-{revision}.db"
        older.write_bytes(source.read_bytes())
        api.downgrade(str(older), revision)
        backup = tmp_path / f"at-{revision}.backup"
        with sqlite3.connect(older) as connection:
            connection.execute(f"VACUUM INTO '{backup}'")
        connection.close()
        target = tmp_path / f"target-{revision}.db"
        api.init(str(target))
        assert api.restore(str(target), backup).startswith("Restored"), revision
        assert _count(f"sqlite:///{target}") == _count(f"sqlite:///{source}")
