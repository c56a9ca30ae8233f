"""A state machine over the command line, as a user types it: random sequences of add, report add, set, merge,
unmerge, import, export, and backup + restore, each run through the real `incidents` command (click's runner, in
process), with hostile values among the ordinary ones.

After every command: it ended with an exit code and at most one error line, never a traceback; the database
passes SQLite's integrity and foreign-key checks; every live incident's killed range is what its reports give (and
its best is theirs unless an analyst set it). At the end an export, imported into an empty database, exports the
same bytes. Short in the suite; `INCIDENTS_LONG=1` runs it long (docs/development.md).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from incidents.cli import cli

from .test_reliability import assert_figures_are_the_reports, assert_whole

LONG = os.environ.get("INCIDENTS_LONG") == "1"
EXIT_CODES = {0, 1, 2, 3, 4, 5, 6}  # docs/commands.md: 0 done, 1-6 a named kind of refusal
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
counts = st.sampled_from(["", "0", "7", "120", "-3", "2147483648", "1e308", "nan", "seven", "12.5"])
dates = st.sampled_from(["2021-03-01", "2021-03-02", "2021-03", "2021", "2021-02-30", "9999-12-31", "0001-01-01",
                         "yesterday", ""])
groups = st.sampled_from(["TTP", "ISKP", "BLA", "Unknown", "k[/]", "\x1b[31mred", ""])


class CommandLine(RuleBasedStateMachine):
    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="incidents-cli-machine-"))
        self.database = self.folder / "incidents.db"
        self.runner = CliRunner()
        self.steps = 0
        assert self.run("init").exit_code == 0

    def run(self, *args: str) -> Result:
        self.steps += 1
        result = self.runner.invoke(cli, ["--db", str(self.database), *args])
        assert result.exit_code in EXIT_CODES, (args, result.exit_code, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        assert "Traceback" not in result.output, (args, result.output)
        assert result.stderr.count("Error:") <= 1, (args, result.stderr)
        return result

    @rule(target=keys, date=dates, killed=counts, title=texts, group=groups)
    def add(self, date: str, killed: str, title: str, group: str) -> str:
        key = f"M{self.steps:04d}"
        args = ["add", "--key", key, "--date", date, "--country", "PAK", "--citation", f"test record {self.steps}",
                "--title", title, "--killed", killed]
        if group:
            args += ["--perpetrator", group]
        return key if self.run(*args).exit_code == 0 else "NO-SUCH-KEY"

    @rule(key=keys, killed=counts, preliminary=st.booleans(), at_least=st.booleans(), published=dates)
    def report(self, key: str, killed: str, preliminary: bool, at_least: bool, published: str) -> None:
        self.run("report", "add", key, "--citation", f"report {self.steps}", "--killed", killed,
                 "--published", published, *(["--preliminary"] if preliminary else []),
                 *(["--at-least"] if at_least else []))

    @rule(key=keys, field=st.sampled_from(["title", "status", "killed_best", "wounded_best", "suicide", "summary",
                                           "attack_type"]),
          value=st.sampled_from(["auto", "12", "-1", "disputed", "yes", "", "x" * 3000, "k[/]", "\x00",
                                 "bytes \udc80 not UTF-8"]))
    def set_field(self, key: str, field: str, value: str) -> None:
        self.run("set", key, field, value, "--why", "the machine")

    @rule(keep=keys, other=keys)
    def merge(self, keep: str, other: str) -> None:
        self.run("merge", keep, other, "--why", "the machine")

    @rule(key=keys)
    def unmerge(self, key: str) -> None:
        self.run("unmerge", key)

    @rule(rows=st.lists(st.tuples(dates, counts, texts), min_size=1, max_size=4))
    def import_file(self, rows: list[tuple[str, str, str]]) -> None:
        import csv

        path = self.folder / f"import-{self.steps}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["key", "date", "country", "source_citation", "killed_best", "title"])
            for number, (date, killed, title) in enumerate(rows):
                writer.writerow([f"I{self.steps:04d}-{number}", date, "PAK", "test file", killed, title])
        before = self._count()
        result = self.run("import", str(path))
        after = self._count()
        assert after == before + (len(rows) if result.exit_code == 0 else 0), result.output  # all or nothing

    @rule(fmt=st.sampled_from(["csv", "xlsx", "json"]))
    def export(self, fmt: str) -> None:
        result = self.run("export", "incidents", "--out", str(self.folder / f"export.{fmt}"))
        assert result.exit_code == 0, result.output

    @precondition(lambda self: self.steps > 3)
    @rule()
    def backup_and_restore(self) -> None:
        before = self._export("before.csv")
        assert self.run("db", "backup", str(self.folder / "machine.backup")).exit_code == 0
        assert self.run("db", "restore", str(self.folder / "machine.backup")).exit_code == 0
        assert self._export("after.csv") == before

    def _count(self) -> int:
        with sqlite3.connect(self.database) as connection:
            count = int(connection.execute("SELECT COUNT(*) FROM incidents").fetchone()[0])
        connection.close()
        return count

    def _export(self, name: str, database: Path | None = None) -> bytes:
        result = self.runner.invoke(cli, ["--db", str(database or self.database), "export", "incidents", "--out",
                                          str(self.folder / name)])
        assert result.exit_code == 0, result.output
        return (self.folder / name).read_bytes()

    @invariant()
    def database_is_whole(self) -> None:
        assert_whole(self.database)

    @invariant()
    def figures_are_the_reports(self) -> None:
        assert_figures_are_the_reports(f"sqlite:///{self.database}")

    def teardown(self) -> None:
        first = self._export("first.csv")
        again = self.folder / "again.db"
        assert self.runner.invoke(cli, ["--db", str(again), "init", "--empty-registry"]).exit_code == 0
        if first.count(b"\n") > 1:
            result = self.runner.invoke(cli, ["--db", str(again), "import", str(self.folder / "first.csv")])
            assert result.exit_code == 0, result.output
        assert self._export("second.csv", again) == first
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()


CommandLine.TestCase.settings = settings(
    max_examples=300 if LONG else 8, stateful_step_count=40 if LONG else 12, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_command_line_machine = CommandLine.TestCase
