"""README.md is tested: its Quick start is what CI runs, its tour and Python example run as written."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from incidents.cli import cli

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_commands_module():
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / ".ci" / "readme_commands.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", README, flags=re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def _first_block(section: str, language: str) -> str:
    match = re.search(rf"^```{language}\n(.*?)^```", section, flags=re.M | re.S)
    assert match, f"no {language} block"
    return match.group(1)


def test_quick_start_is_exactly_two_commands_and_ci_runs_them() -> None:
    commands = _readme_commands_module().quick_start_commands(ROOT / "README.md")
    assert len(commands) == 2
    setup, tests = commands
    assert "pip install" in setup and setup.endswith("incidents demo")
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "readme_commands.py 0" in ci and "readme_commands.py 1" in ci
    assert "INCIDENTS_REQUIRE_PG=1" in ci
    assert "pytest" not in ci  # CI runs the tests only through README's command


def _all_commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _all_commands(command, f"{prefix}{name} ")
        else:
            names.append(prefix + name)
    return names


def test_every_command_is_in_the_readme() -> None:
    for command in _all_commands(cli):
        assert f"incidents {command}" in README, command


def test_the_cli_tour_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INCIDENTS_DB", raising=False)
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")  # the tour runs from a checkout
    tour = _first_block(_section("A five-minute tour of the command line"), "bash")
    lines = [shlex.split(line, comments=True) for line in tour.splitlines() if line.strip()]
    assert len(lines) >= 8
    for words in lines:
        assert words[0] == "incidents"
        result = CliRunner().invoke(cli, words[1:])
        assert result.exit_code == 0, (words, result.output)
    assert (tmp_path / "incidents.db").exists()  # the default database, in the current folder


def test_the_python_example_runs_and_prints_what_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = _first_block(_section("The Python API"), "python")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    expected = [line.split("#", 1)[1].strip() for line in code.splitlines() if line.startswith("print(") and "#" in line]
    assert expected
    for value in expected:
        assert value in printed.getvalue(), value


def test_guarantees_name_tests_that_exist() -> None:
    """Each promise in README's Guarantees points at tests; they must exist, or the promise is unguarded."""
    section = _section("Guarantees")
    references = re.findall(r"`(tests/[\w/]+\.py)(?:::([\w*]+))?`", section)
    assert len(references) >= 10
    for path, name in references:
        source = (ROOT / path).read_text(encoding="utf-8")
        if name:
            pattern = "def " + name.replace("*", r"\w*") + r"\("
            assert re.search(pattern, source), f"{path}::{name}"
    for name in re.findall(r"`::(\w+)`", section):
        assert any(f"def {name}(" in p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("*.py")), name
