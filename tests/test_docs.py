"""README.md and docs/ are tested: README's Quick start is what CI runs, its tour and Python example run as
written; every command is in docs/commands.md, every command line shown in docs/ is a real one, every link
leads somewhere, and every test docs/guarantees.md names exists."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
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
    """Every command a user can run: the leaves, and the groups that do something on their own (`actors`)."""
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                names.append(prefix + name)
            names += _all_commands(command, f"{prefix}{name} ")
        else:
            names.append(prefix + name)
    return names


def _group_option(group: click.Group, word: str) -> click.Option:
    flag = word.split("=", 1)[0]
    for param in group.params:
        if isinstance(param, click.Option) and flag in (*param.opts, *param.secondary_opts):
            return param
    raise LookupError(f"`{group.name}` has no option {flag}")


def _resolve(words: list[str]) -> tuple[list[str], click.Command, list[str]]:
    """Walk `incidents WORDS` down the click group, without running anything: (the command's path, the command,
    the words left for it). LookupError if a word in command position names no command."""
    command: click.Command = cli
    path: list[str] = []
    rest = list(words)
    while isinstance(command, click.Group):
        while rest and rest[0].startswith("-"):  # the group's own options (--db URL) come before the sub-command
            word = rest.pop(0)
            option = _group_option(command, word)
            if not option.is_flag and "=" not in word:
                rest.pop(0)
        if not rest:
            if command.invoke_without_command:
                return path, command, rest
            raise LookupError(f"`incidents {' '.join(path)}` needs a sub-command")
        name = rest.pop(0)
        found = command.get_command(click.Context(command), name)
        if found is None:
            raise LookupError(f"`incidents {' '.join([*path, name])}` is not a command")
        path.append(name)
        command = found
    return path, command, rest


def test_resolve_tells_commands_from_non_commands() -> None:
    assert _resolve(["actors", "add", "X"])[0] == ["actors", "add"]
    assert _resolve(["--db", "x.db", "db", "backup", "b.db"])[0] == ["db", "backup"]
    assert _resolve(["actors", "--json"])[0] == ["actors"]
    for words in (["queries"], ["db"], ["actors", "remove", "X"], ["--nope", "list"]):
        with pytest.raises(LookupError):
            _resolve(words)


DOCS = ROOT / "docs"
DOC_FILES = sorted(DOCS.glob("*.md"))
COMMANDS_MD = (DOCS / "commands.md").read_text(encoding="utf-8")


def _documented_commands(text: str) -> set[str]:
    """The commands that `incidents ...` code spans in `text` name (placeholders and options after them aside)."""
    found = set()
    for span in re.findall(r"`(incidents [^`]+)`", text):
        try:
            words = shlex.split(span.replace("\\|", "|"))
            path, _, _ = _resolve(words[1:])
        except (ValueError, LookupError):
            continue
        found.add(" ".join(path))
    return found


@pytest.mark.parametrize("command", _all_commands(cli))
def test_every_command_is_in_docs_commands_md(command: str) -> None:
    assert f"incidents {command}" in COMMANDS_MD, command
    assert command in _documented_commands(COMMANDS_MD), f"no `incidents {command} ...` in docs/commands.md"


def test_documented_commands_sees_a_missing_command() -> None:
    text = "`incidents actors add NAME` and `incidents db backup PATH`"
    assert _documented_commands(text) == {"actors add", "db backup"}
    assert "actors" not in _documented_commands(text)  # a sub-command does not document its group


def _bash_lines(text: str) -> list[str]:
    """Every shell line of every bash block: continuation lines (ending in a backslash) joined, and so are lines
    inside a quoted string that spans several (a multi-line SQL query)."""
    lines: list[str] = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.M | re.S):
        pending = ""
        for line in block.replace("\\\n", " ").splitlines():
            pending = f"{pending}\n{line}" if pending else line
            try:
                shlex.split(pending, comments=True)
            except ValueError:
                continue  # an open quote: the string goes on on the next line
            if pending.strip():
                lines.append(pending)
            pending = ""
        if pending:
            lines.append(pending)  # a quote never closed: _incidents_commands says so
    return lines


def _incidents_commands(line: str) -> list[list[str]]:
    """The `incidents` commands on one shell line, each as its words after `incidents`; other commands skipped."""
    words = shlex.split(line, comments=True)
    commands: list[list[str]] = []
    current: list[str] = []
    for word in [*words, "&&"]:
        if word in ("&&", "||", ";", "|"):
            while current and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", current[0]):  # VAR=value before it
                current.pop(0)
            if current and current[0] in ("incidents", ".venv/bin/incidents"):
                commands.append(current[1:])
            current = []
        else:
            current.append(word)
    return commands


def test_incidents_commands_are_found_on_a_line() -> None:
    assert _bash_lines("```bash\nincidents show K \\\n  --json\nsqlite3 x.db \"SELECT 1\n  FROM t\"\n```\n") == [
        "incidents show K    --json", 'sqlite3 x.db "SELECT 1\n  FROM t"']
    line = "INCIDENTS_DB=/tmp/g.db .venv/bin/incidents init && INCIDENTS_DB=/tmp/g.db .venv/bin/alembic check"
    assert _incidents_commands(line) == [["init"]]
    assert _incidents_commands("sqlite3 incidents.db 'SELECT 1'") == []
    assert _incidents_commands("incidents list --json   # JSON") == [["list", "--json"]]


DOC_COMMAND_LINES = [
    pytest.param(words, id=f"{path.name}: incidents {' '.join(words)}"[:100])
    for path in DOC_FILES
    for line in _bash_lines(path.read_text(encoding="utf-8"))
    for words in _incidents_commands(line)
]


def test_docs_show_command_lines() -> None:
    assert len(DOC_COMMAND_LINES) >= 20


@pytest.mark.parametrize("words", DOC_COMMAND_LINES)
def test_every_command_line_in_docs_names_a_real_command(words: list[str]) -> None:
    """Parsed as click would parse it (the command, its options and their values), never run."""
    try:
        path, command, rest = _resolve(words)
    except LookupError as exc:
        pytest.fail(str(exc))
    if not isinstance(command, click.Group):
        try:
            command.make_context(" ".join(["incidents", *path]), list(rest))
        except click.ClickException as exc:
            pytest.fail(f"incidents {' '.join(words)}: {exc.format_message()}")


def _headings_anchors(text: str) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file (fenced blocks left out)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    anchors = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, flags=re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-"))
    return anchors


def _links(text: str) -> list[str]:
    """The targets of the Markdown links in `text`, outside fenced blocks."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text)


def _broken_links(page: Path) -> list[str]:
    broken = []
    for target in _links(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not a file here
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target} (no {destination})")
        elif anchor and destination.suffix == ".md" and anchor not in _headings_anchors(
                destination.read_text(encoding="utf-8")):
            broken.append(f"{target} (no heading #{anchor})")
    return broken


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOC_FILES], ids=lambda p: p.name)
def test_every_relative_link_leads_somewhere(page: Path) -> None:
    assert not _broken_links(page), _broken_links(page)


def test_broken_links_are_found(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("# A heading: `code`\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text("[a](there.md) [b](there.md#a-heading-code) [c](gone.md) [d](there.md#nowhere) "
                    "[e](https://example.org/x) [f](#here)\n\n## Here\n", encoding="utf-8")
    assert _broken_links(page) == [f"gone.md (no {tmp_path / 'gone.md'})", "there.md#nowhere (no heading #nowhere)"]


def test_every_docs_page_is_linked_from_the_readme() -> None:
    assert len(DOC_FILES) >= 8
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _links(README)}
    for page in DOC_FILES:
        assert page.resolve() in linked, f"README.md does not link {page.relative_to(ROOT)}"
    where = _section("Where to read on")
    for page in DOC_FILES:
        assert f"[docs/{page.name}](docs/{page.name})" in where, page.name


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
    # Every data package the tour wrote (its exports, and the demo's) is valid, XLSX included.
    from frictionless import Package

    packages = sorted(tmp_path.rglob("datapackage.json"))
    assert len(packages) == 3
    formats: set[str] = set()
    for package in packages:
        report = Package(str(package)).validate()
        assert report.valid, [error.message for task in report.tasks for error in task.errors][:3]
        formats |= {resource["format"] for resource in json.loads(package.read_text())["resources"]}
    assert formats == {"csv", "xlsx", "json", "parquet"}


def test_the_python_example_runs_and_prints_what_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = _first_block(_section("The Python API"), "python")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - the README's own example
    expected = [line.split("#", 1)[1].strip() for line in code.splitlines()
                if line.lstrip().startswith("print(") and "#" in line]
    assert expected
    for value in expected:
        assert value in printed.getvalue(), value


def test_guarantees_name_tests_that_exist() -> None:
    """Each promise in docs/guarantees.md points at tests; they must exist, or the promise is unguarded."""
    section = (DOCS / "guarantees.md").read_text(encoding="utf-8")
    references = re.findall(r"`(tests/[\w/]+\.py)(?:::([\w*]+))?`", section)
    assert len(references) >= 10
    for path, name in references:
        source = (ROOT / path).read_text(encoding="utf-8")
        if name:
            pattern = "def " + name.replace("*", r"\w*") + r"\("
            assert re.search(pattern, source), f"{path}::{name}"
    for name in re.findall(r"`::(\w+)`", section):
        assert any(f"def {name}(" in p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("*.py")), name


def test_every_bound_is_listed_with_its_default_and_override() -> None:
    """docs/guarantees.md's table of bounds holds each bound of incidents/limits.py, at its default, with its
    environment variable; a bound added or changed without the table fails here."""
    from incidents.limits import DEFAULTS

    page = (ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8")
    rows = {line for line in page.splitlines() if line.startswith("|") and "INCIDENTS_MAX_" in line}
    for name, default in DEFAULTS.items():
        assert any(f"| {default:,} | `INCIDENTS_MAX_{name}` |" in row for row in rows), name
    assert len(rows) == len(DEFAULTS)
