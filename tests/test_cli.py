"""Every command through the CLI runner, on both engines: output, JSON and error exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from incidents.cli import cli
from incidents.cli import render as output
from incidents.errors import DatabaseNotReady, NotFoundError, UsageError

from .conftest import FIXTURES

BAJAUR = "PAK-2023-07-30-KHAR"


def run(db: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


@pytest.fixture
def loaded(db_url: str) -> str:
    result = run(db_url, "load", str(FIXTURES / "actors.yaml"), str(FIXTURES / "seed_incidents.yaml"))
    assert result.exit_code == 0, result.output
    assert "3 inserted" in result.output
    return db_url


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables 250 columns wide, whatever terminal or COLUMNS the suite runs under (rich reads it at import)."""
    monkeypatch.setattr(output.console, "_width", 250)


def keys(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [row["key"] for row in json.loads(result.stdout)["incidents"]]


def test_init_creates_then_reports_up_to_date(empty_db_url: str) -> None:
    first = run(empty_db_url, "init")
    assert first.exit_code == 0 and "Created the schema" in first.output
    second = run(empty_db_url, "init")
    assert second.exit_code == 0 and "already at the newest schema" in second.output


def test_list_filters(loaded: str) -> None:
    everything = keys(run(loaded, "list", "--json"))
    assert len(everything) == 3
    assert keys(run(loaded, "list", "--actor", "IS-K", "--json")) == everything  # alias-aware
    assert keys(run(loaded, "list", "--actor", "Islamic State", "--json")) == []  # the parent is not the branch
    assert keys(run(loaded, "list", "--actor", "Islamic State", "--subgroups", "--json")) == everything
    assert keys(run(loaded, "list", "--country", "Pakistan", "--json")) == everything
    assert keys(run(loaded, "list", "--country", "AFG", "--json")) == []
    assert keys(run(loaded, "list", "--since", "2019", "--json")) == [BAJAUR]
    assert keys(run(loaded, "list", "--until", "2018", "--json")) == ["PAK-2018-11-23-KALAYA", "PAK-2018-07-13-MASTUNG"]
    assert keys(run(loaded, "list", "--since", "2018-07-14", "--until", "2018-11", "--json")) == ["PAK-2018-11-23-KALAYA"]
    limited = run(loaded, "list", "--limit", "1", "--json")
    assert json.loads(limited.stdout)["total"] == 3 and len(keys(limited)) == 1


def test_list_table_shows_ranges(loaded: str, wide: None) -> None:
    result = CliRunner().invoke(cli, ["--db", loaded, "list"])
    assert result.exit_code == 0
    assert "63 (54-63)" in result.output and "149 (128-149)" in result.output


def test_show_json_has_every_report_with_its_source(loaded: str) -> None:
    result = run(loaded, "show", BAJAUR, "--json")
    assert result.exit_code == 0
    detail = json.loads(result.stdout)
    assert detail["killed"]["best"] == 63
    assert detail["actors"][0]["attribution"] == "claimed"
    assert all(r["source"]["url"] or r["source"]["citation"] for r in detail["reports"])
    assert any(r["killed"] == 60 and "Bajaur killed 60" in (r["excerpt"] or "") for r in detail["reports"])


def test_show_table(loaded: str, wide: None) -> None:
    result = CliRunner().invoke(cli, ["--db", loaded, "show", BAJAUR])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for expected in ("Islamic State Khorasan Province", "claimed", "Khar, Bajaur, Khyber Pakhtunkhwa",
                     "best 63 (analyst's choice; per", "range 54 (per", "- 63 (per", "brecorder.com",
                     "(preliminary)"):
        assert expected in text, expected


def test_add_then_list_and_show(loaded: str) -> None:
    result = run(
        loaded, "add", "--date", "2023-09", "--country", "Pakistan", "--admin1", "Balochistan", "--place", "Mastung",
        "--perpetrator", "Unknown", "--citation", "Analyst note: month known only", "--killed", "52",
    )
    assert result.exit_code == 0, result.output
    added = result.output.split("Added incident ")[1].split(".")[0].strip()
    assert added == "PAK-2023-09-MASTUNG"
    detail = json.loads(run(loaded, "show", added, "--json").stdout)
    assert detail["date"] == "2023-09" and detail["date_precision"] == "month"
    source = ["Analyst note: month known only"]
    assert detail["killed"] == {"low": 52, "best": 52, "high": 52, "best_chosen_by_analyst": False,
                                "according_to": {"low": source, "best": source, "high": source}}
    assert detail["actors"][0]["actor"] == "Unidentified perpetrator"
    assert added in keys(run(loaded, "list", "--since", "2023-09", "--until", "2023-09", "--json"))


def test_add_reports_new_actors_and_honours_strict(loaded: str) -> None:
    created = run(loaded, "add", "--date", "2017-02-16", "--country", "PAK", "--citation", "x",
                  "--perpetrator", "Some New Group=suspected")
    assert created.exit_code == 0 and "New actors created: Some New Group" in created.output
    strict = CliRunner().invoke(cli, ["--db", loaded, "add", "--date", "2017-02-16", "--country", "PAK",
                                      "--citation", "y", "--perpetrator", "Another Group", "--actors", "strict"])
    assert strict.exit_code == UsageError.exit_code and "unknown actor 'Another Group'" in strict.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["--date", "2023-07-30", "--country", "PAK"], "needs its source"),
        (["--date", "30/07/2023", "--country", "PAK", "--citation", "c"], "--date '30/07/2023' is not a date"),
        (["--date", "2023", "--country", "Narnia", "--citation", "c"], "--country 'Narnia' is not a country"),
        (["--date", "2023", "--country", "PAK", "--citation", "c", "--killed", "-3"], "--killed '-3' is negative"),
        (["--date", "2023", "--country", "PAK", "--citation", "c", "--lat", "95", "--lon", "70"], "--lat '95' is out of range"),
        (["--date", "2023", "--country", "PAK", "--citation", "c", "--perpetrator", "TTP=maybe"], "is not one of"),
        (["--date", "2023", "--country", "PAK", "--citation", "c", "--key", BAJAUR], "already exists"),
    ],
)
def test_add_errors_are_one_clear_line(loaded: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["--db", loaded, "add", *args])
    assert result.exit_code == UsageError.exit_code, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_show_unknown_key_suggests(loaded: str) -> None:
    result = CliRunner().invoke(cli, ["--db", loaded, "show", "PAK-2023-07-30-KAHR"])
    assert result.exit_code == NotFoundError.exit_code
    assert f"Did you mean: {BAJAUR}" in result.stderr


def test_actors_json(loaded: str) -> None:
    result = run(loaded, "actors", "--json")
    registry = {actor["name"]: actor for actor in json.loads(result.stdout)}
    iskp = registry["Islamic State Khorasan Province"]
    assert iskp["parent"] == "Islamic State" and iskp["incidents"] == 3
    assert {"alias": "IS", "dataset": "ucdp"} in [{k: a[k] for k in ("alias", "dataset")} for a in iskp["aliases"]]
    assert registry["Jamaat-ul-Ahrar"]["parent"] == "Tehrik-i-Taliban Pakistan"


def test_actors_table(loaded: str, wide: None) -> None:
    result = CliRunner().invoke(cli, ["--db", loaded, "actors"])
    assert result.exit_code == 0 and "IS [ucdp only]" in result.output


def test_db_current_upgrade_downgrade(db_url: str) -> None:
    assert "up to date" in run(db_url, "db", "current").output
    down = run(db_url, "db", "downgrade", "base")
    assert down.exit_code == 0 and "(none: empty)" in down.output
    assert "needs: incidents db upgrade" in run(db_url, "db", "current").output
    refused = CliRunner().invoke(cli, ["--db", db_url, "list"])
    assert refused.exit_code == DatabaseNotReady.exit_code and "incidents init" in refused.stderr
    up = run(db_url, "db", "upgrade")
    assert up.exit_code == 0 and "now at revision" in up.output
    assert run(db_url, "list", "--json").exit_code == 0


def test_commands_on_a_missing_database_say_what_to_run(tmp_path: Path) -> None:
    missing = str(tmp_path / "nothing.db")
    for command in (["list"], ["show", BAJAUR], ["actors"], ["load", str(FIXTURES / "actors.yaml")]):
        result = CliRunner().invoke(cli, ["--db", missing, *command])
        assert result.exit_code == DatabaseNotReady.exit_code, command
        assert f"incidents --db {missing} init" in result.stderr
    assert not Path(missing).exists()


def test_db_option_falls_back_to_environment(tmp_path: Path) -> None:
    path = tmp_path / "from-env.db"
    result = CliRunner(env={"INCIDENTS_DB": str(path)}).invoke(cli, ["init"])
    assert result.exit_code == 0 and path.exists()


def test_load_reports_bad_file_without_traceback(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("incidents:\n  - key: X\n    date: 2023-02-30\n    reports: []\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", db_url, "load", str(bad)])
    assert result.exit_code == 6
    assert "bad.yaml:3: field date: '2023-02-30' is not a real date" in result.stderr
    assert "bad.yaml:4: field reports" in result.stderr
    assert "Traceback" not in result.output


def test_demo_builds_and_shows_the_database(empty_db_url: str, wide: None, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    result = CliRunner().invoke(cli, ["--db", empty_db_url, "demo", "--exports", str(exports)])
    assert result.exit_code == 0, result.output
    assert "holds 3 incidents" in result.output and BAJAUR in result.output
    assert "Per-group summary" in result.output and "Islamic State Khorasan Province" in result.output
    for name in ("incidents.csv", "events.xlsx", "timeline.csv", "groups.xlsx", "timeline.png", "datapackage.json"):
        assert (exports / name).stat().st_size > 0, name
    again = CliRunner().invoke(cli, ["--db", empty_db_url, "demo", "--no-exports"])
    assert "0 inserted, 0 updated, 3 unchanged" in again.output


def test_every_command_has_help() -> None:
    commands = ["init", "load", "list", "show", "add", "actors", "demo", "db", "db current", "db upgrade",
                "db downgrade"]
    for command in commands:
        result = CliRunner().invoke(cli, [*command.split(), "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, command
        assert len(result.output.split("Options:")[0].strip().splitlines()) >= 3, command  # has a description


def test_text_with_brackets_is_printed_literally(loaded: str, wide: None) -> None:
    """Rich would read '[bold]' or '[/x]' in a title as markup; data must print as it was stored."""
    title = "Attack on [bold]market[/bold] [/x] [ucdp only]"
    added = run(loaded, "add", "--date", "2020", "--country", "PAK", "--citation", "[cite] 1", "--title", title,
                "--key", "BRACKETS")
    assert added.exit_code == 0, added.output
    shown = CliRunner().invoke(cli, ["--db", loaded, "show", "BRACKETS"])
    assert shown.exit_code == 0, shown.output
    assert title in shown.output and "[cite] 1" in shown.output
    missing = CliRunner().invoke(cli, ["--db", loaded, "show", "[bold]nothing[/bold]"])
    assert "'[bold]nothing[/bold]'" in missing.stderr
