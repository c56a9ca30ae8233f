"""One error path: the library names options in its own words, the command line by their flags; database errors
are translated in one place; the command line answers --help without loading the library."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, text

from incidents import api
from incidents.cli import cli
from incidents.db.engine import is_sqlite
from incidents.errors import DatabaseError, FieldError, IncidentsError, UsageError

from .conftest import ROOT

BAJAUR = "PAK-2023-07-30-KHAR"


@pytest.fixture
def loaded_url(db_url: str, seeded: Engine) -> str:
    """A database URL with the bundled registry and seed incidents."""
    return db_url

ADD = ["add", "--date", "2023", "--country", "PAK", "--citation", "c"]
ADD_ARGS: dict[str, Any] = {"date": "2023", "country": "PAK", "citation": "c"}

# (what a Python caller does, what the message starts with there, the same through the command line, and there)
CASES: list[tuple[Callable[[str], object], str, list[str], str]] = [
    (lambda db: api.incidents(db, since="soon"), "since 'soon' is not a date", ["list", "--since", "soon"],
     "--since 'soon' is not a date"),
    (lambda db: api.incidents(db, since="2020", until="2019"), "since '2020' is after until '2019'",
     ["list", "--since", "2020", "--until", "2019"], "--since '2020' is after --until '2019'"),
    (lambda db: api.show(db, BAJAUR, as_of="31 July"), "as_of '31 July' is not a date",
     ["show", BAJAUR, "--as-of", "31 July"], "--as-of '31 July' is not a date"),
    (lambda db: api.add(db, **ADD_ARGS, latitude="95", longitude="70"), "latitude '95' is out of range",
     [*ADD, "--lat", "95", "--lon", "70"], "--lat '95' is out of range"),
    (lambda db: api.add(db, **ADD_ARGS, latitude="30"), "latitude '30' needs longitude too",
     [*ADD, "--lat", "30"], "--lat '30' needs --lon too"),
    (lambda db: api.add(db, **ADD_ARGS, date_end="soon"), "date_end 'soon' is not a date",
     [*ADD, "--date-end", "soon"], "--date-end 'soon' is not a date"),
    (lambda db: api.add(db, **ADD_ARGS, geo_precision="street"), "geo_precision 'street' is not one of",
     [*ADD, "--geo-precision", "street"], "--geo-precision 'street' is not one of"),
    (lambda db: api.add(db, date="2023", country="PAK"), "source_url or citation or source is required",
     ["add", "--date", "2023", "--country", "PAK"], "--source-url or --citation or --source is required"),
    (lambda db: api.add(db, **ADD_ARGS, perpetrators=["TTP=maybe"]), "perpetrators 'TTP=maybe' has attribution 'maybe', which is not",
     [*ADD, "--perpetrator", "TTP=maybe"], "--perpetrator 'TTP=maybe' has attribution"),
    (lambda db: api.report_add(db, BAJAUR, citation="c", killed="many"), "killed 'many' gives no figure",
     ["report", "add", BAJAUR, "--citation", "c", "--killed", "many"], "--killed 'many' gives no figure"),
    (lambda db: api.set_field(db, BAJAUR, "killed_best", "sixty", why="w"), "killed_best 'sixty' is not a whole",
     ["set", BAJAUR, "killed_best", "sixty", "--why", "w"], "killed_best 'sixty' is not a whole"),  # an argument
]


@pytest.mark.parametrize(("call", "python_message", "args", "cli_message"), CASES)
def test_the_library_names_options_its_way_and_the_command_line_by_flag(
        loaded_url: str, call: Callable[[str], object], python_message: str, args: list[str],
        cli_message: str) -> None:
    with pytest.raises(UsageError) as caught:
        call(loaded_url)
    assert str(caught.value).startswith(python_message), str(caught.value)
    assert "--" not in str(caught.value)  # no command-line flag in a library message
    result = CliRunner().invoke(cli, ["--db", loaded_url, *args])
    assert result.exit_code == UsageError.exit_code, result.output
    assert cli_message in result.stderr, result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("call", "message"), [  # values the command line's choices refuse before the library
    (lambda db: api.actor_alias(db, "ISKP", "Daesh-K", dataset="gdelt"), "dataset 'gdelt' is not one of"),
    (lambda db: api.duplicates(db, km=0), "km 0 must be more than 0"),
    (lambda db: api.timeline(db, freq="fortnight"), "freq 'fortnight' is not one of"),
    (lambda db: api.timeline(db, by="weather"), "by 'weather' is not one of"),
    (lambda db: api.incidents(db, status=("rumoured",)), "status 'rumoured' is not one of"),
])
def test_python_callers_get_their_own_words(loaded_url: str, call: Callable[[str], object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        call(loaded_url)
    assert str(caught.value).startswith(message) and "--" not in str(caught.value), str(caught.value)


def test_field_error_is_part_of_the_hierarchy() -> None:
    error = FieldError("killed", "-3", "is negative")
    assert isinstance(error, UsageError) and isinstance(error, IncidentsError)
    assert error.exit_code == 2
    assert (error.field_name, error.value, error.reason) == ("killed", "-3", "is negative")
    assert str(error) == "killed '-3' is negative"
    assert error.render({"killed": "--killed"}) == "--killed '-3' is negative"


@pytest.fixture
def refusing_db(loaded_url: str) -> str:
    """A database that refuses new incidents and reports the way a constraint does (SQLITE_CONSTRAINT, or
    PostgreSQL's check_violation), so that the refusal reaches the command line as an IntegrityError."""
    engine = create_engine(loaded_url)
    with engine.begin() as connection:
        if is_sqlite(engine):
            for table in ("incidents", "reports"):
                connection.execute(text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                                        "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"))
        else:
            connection.execute(text("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
                                    "'refused by a trigger' USING ERRCODE = 'check_violation'; END $$ LANGUAGE plpgsql"))
            for table in ("incidents", "reports"):
                connection.execute(text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                                        "FOR EACH ROW EXECUTE FUNCTION refuse()"))
    engine.dispose()
    return loaded_url


@pytest.mark.parametrize("args", [
    [*ADD, "--killed", "3"],
    ["report", "add", BAJAUR, "--citation", "another source", "--killed", "60"],
])
def test_a_refused_write_is_one_answer_wherever_it_comes_from(refusing_db: str, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--db", refusing_db, *args])
    assert result.exit_code == DatabaseError.exit_code, result.output
    assert "The database refused the change" in result.stderr and "refused by a trigger" in result.stderr
    assert "Traceback" not in result.output


def test_a_database_that_cannot_write_is_exit_5(tmp_path: Path) -> None:
    """A SQLite file opened read-only (a URI file name) refuses the write: exit 5, one line, nothing written."""
    path = tmp_path / "incidents.db"
    assert CliRunner().invoke(cli, ["--db", str(path), "demo", "--no-exports"]).exit_code == 0
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    result = CliRunner().invoke(cli, ["--db", read_only, *ADD])
    assert result.exit_code == DatabaseError.exit_code, result.output
    assert "The database could not do that" in result.stderr and "readonly" in result.stderr
    assert len(api.incidents(str(path), limit=None)[0]) == 3


def test_add_and_the_native_format_read_name_equals_attribution_alike(loaded_url: str, tmp_path: Path) -> None:
    name = "Lashkar=e=Test"  # a name holding '=': the attribution is what follows the last one
    api.add(loaded_url, **ADD_ARGS, key="ADDED", perpetrators=[f"{name}=suspected"])
    native = tmp_path / "native.csv"
    native.write_text(f"key,date,country,source_citation,perpetrators\nIMPORTED,2023,PAK,c2,{name}=suspected\n",
                      encoding="utf-8")
    api.import_file(loaded_url, native)
    for key in ("ADDED", "IMPORTED"):
        actors = api.show(loaded_url, key)["actors"]
        assert [(a["actor"], a["attribution"]) for a in actors] == [(name, "suspected")], actors


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


HEAVY = ("pandas", "sqlalchemy", "matplotlib", "rich", "alembic", "openpyxl", "numpy")
PROBE = """
import json, sys
from incidents.cli import main
heavy = set(json.loads(sys.argv[2]))
sys.argv = ["incidents", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & heavy)), file=sys.stderr)
"""


@pytest.mark.parametrize("words", [[], ["help"], ["import"], ["actors", "add"], ["db", "upgrade"], ["export"]])
def test_help_loads_none_of_the_library(words: list[str]) -> None:
    for args in ([*words, "--help"], ["help", *words]):
        child = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
        assert "Usage: incidents" in child.stdout, child.stdout + child.stderr
        assert json.loads(child.stderr.strip().splitlines()[-1]) == [], (args, child.stderr)


@pytest.mark.parametrize("words", _commands(cli), ids=" ".join)
def test_every_command_has_help_and_help_command_shows_it(words: tuple[str, ...]) -> None:
    command: click.Command = cli
    for name in words:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    assert command.help and len(command.help.split()) >= 4, words
    direct = CliRunner().invoke(cli, [*words, "--help"], prog_name="incidents")
    through_help = CliRunner().invoke(cli, ["help", *words], prog_name="incidents")
    assert direct.exit_code == 0 and through_help.exit_code == 0
    assert through_help.output == direct.output


def test_help_for_an_unknown_command_says_so() -> None:
    result = CliRunner().invoke(cli, ["help", "nope"])
    assert result.exit_code == UsageError.exit_code
    assert "no command `incidents nope`" in result.stderr


def test_an_unknown_format_names_the_option_each_way(tmp_path: Path, loaded_url: str) -> None:
    weird = tmp_path / "weird.csv"
    weird.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IncidentsError) as caught:
        api.import_file(loaded_url, weird)
    assert "Name it (format) if you know" in str(caught.value)
    result = CliRunner().invoke(cli, ["--db", loaded_url, "import", str(weird)])
    assert "Name it (--format) if you know" in result.stderr and "{" not in result.stderr


def test_the_marks_never_reach_a_python_caller_and_errors_pickle(loaded_url: str) -> None:
    with pytest.raises(FieldError) as caught:
        api.incidents(loaded_url, since="2020", until="2019")
    error = caught.value
    for shown in (str(error), repr(error), error.message, error.args[0], error.reason):
        assert "\x1f" not in shown, shown
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is FieldError and str(again) == str(error) and again.field_name == "since"
    assert again.render({"since": "--since", "until": "--until"}).endswith("is after --until '2019'")


def test_help_for_an_unknown_command_loads_none_of_the_library() -> None:
    probe = PROBE.replace('"Usage: incidents"', '""')
    child = subprocess.run([sys.executable, "-c", probe, json.dumps(["help", "db", "nope"]), json.dumps(HEAVY)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "no command `incidents db nope`" in child.stderr
    assert json.loads(child.stderr.strip().splitlines()[-1]) == []


# Issue 11, item 8: ordinary mistakes, each one line naming the file, with its exit code, and nothing written.
MISTAKES = [
    (["import", "missing.csv"], 3, "No file to import at missing.csv"),
    (["import", "{fixtures}/gtd_format_sample.csv", "--on-error", "skip", "--rejects", "nodir/rejects.csv"], 2,
     "the folder nodir does not exist"),
    (["export", "incidents", "--out", "nodir/x.csv"], 2, "Cannot write the export nodir/x.csv: the folder nodir"),
    (["export", "groups", "--format", "xlsx", "--out", "nodir/x.xlsx"], 2, "the folder nodir does not exist"),
    (["chart", "timeline", "--out", "nodir/x.png"], 2, "Cannot write the chart nodir/x.png: the folder nodir"),
    (["db", "backup", "nodir/b.db"], 2, "Cannot write the backup nodir/b.db: the folder nodir"),
    (["db", "restore", "nodir/b.db"], 3, "No backup at nodir/b.db"),
    (["load", "nope.yaml"], 3, "No fixture file at nope.yaml"),
    (["--db", "nodir/x.db", "init"], 2, "the folder nodir does not exist; create it first"),
    (["db", "upgrade", "nope"], 2, "Cannot migrate to revision 'nope'"),
    (["db", "downgrade", "nope"], 2, "Cannot migrate to revision 'nope'"),
    (["db", "upgrade", ""], 2, "Cannot migrate to revision '': no revision was named"),
    (["--db", "missing.db", "db", "current"], 4, "No database at missing.db"),
    (["--db", "missing.db", "db", "downgrade", "-1"], 4, "No database at missing.db"),
    (["--db", "missing.db", "db", "upgrade", "nope"], 2, "Cannot migrate to revision 'nope'"),
    (["--db", "nodir/", "init"], 2, "names a folder, not a file"),
    (["export", "incidents", "--out", "nodir/"], 2, "nodir/ names a folder"),
    (["export", "incidents", "--out", "-"], 2, "'-' (standard input or output) cannot be the export"),
    (["export", "groups", "--out", "incidents.db"], 2, "the command reads that file"),
    (["db", "backup", "incidents.db"], 2, "the command reads that file"),
    (["import", "{fixtures}/gtd_format_sample.csv", "--on-error", "skip", "--rejects", "incidents.db"], 2,
     "the command reads that file"),
    (["import", "."], 2, ". is a folder; name the file to import itself"),
    (["export", "groups", "--out", "."], 2, "it is a folder"),
    (["export", "groups", "--format", "xlsx", "--out", "groups.csv"], 2, "does not match the file name"),
    (["import", "{fixtures}/gtd_format_sample.csv", "--country", "Narnia"], 2, "--country 'Narnia' is not a"),
]


@pytest.mark.parametrize(("args", "exit_code", "message"), MISTAKES, ids=[" ".join(m[0][:3]) for m in MISTAKES])
def test_an_ordinary_mistake_is_one_line_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], exit_code: int, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_DB", raising=False)
    assert CliRunner().invoke(cli, ["demo", "--no-exports"]).exit_code == 0
    before = (tmp_path / "incidents.db").read_bytes()
    files = sorted(tmp_path.rglob("*"))
    args = [arg.format(fixtures=ROOT / "fixtures") for arg in args]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == exit_code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert sorted(tmp_path.rglob("*")) == files  # no file made: no 'nodir', no empty 'missing.db', no '-'
    assert (tmp_path / "incidents.db").read_bytes() == before


def test_db_downgrade_takes_minus_one_as_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    assert CliRunner().invoke(cli, ["--db", url, "init", "--empty-registry"]).exit_code == 0
    head = api.current(url)["current"]
    result = CliRunner().invoke(cli, ["--db", url, "db", "downgrade", "-1"])
    assert result.exit_code == 0, result.output
    assert api.current(url)["current"] not in (head, None)
    assert CliRunner().invoke(cli, ["--db", url, "db", "upgrade"]).exit_code == 0
    assert api.current(url)["current"] == head


def test_a_gtd_copy_without_a_country_column_is_told_once(tmp_path: Path) -> None:
    """A GTD-derived copy that kept no country column and no coordinates to tell it from (one with coordinates
    imports: tests/test_places.py): one line before any row is read, not one per row."""
    import pandas as pd

    rows = pd.read_csv(ROOT / "fixtures" / "gtd_format_sample.csv", dtype=str, keep_default_na=False,
                       encoding="latin-1")
    copy = tmp_path / "gtd_without_country.csv"
    rows.drop(columns=["country", "country_txt", "latitude", "longitude"]).to_csv(copy, index=False)
    url = f"sqlite:///{tmp_path / 'incidents.db'}"
    assert CliRunner().invoke(cli, ["--db", url, "init"]).exit_code == 0
    result = CliRunner().invoke(cli, ["--db", url, "import", str(copy)])
    assert result.exit_code == UsageError.exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: gtd_without_country.csv: ") and "--country" in lines[0]
    assert "no coordinates" in lines[0]
    assert api.incidents(url, limit=None)[1] == 0
    with pytest.raises(UsageError, match=r"gtd_without_country.csv: .* with country \(for example PAK\)"):
        api.import_file(url, copy)
    assert api.import_file(url, copy, country="PAK").inserted == len(rows)
