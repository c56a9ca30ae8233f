"""A state machine over the library's edits: random sequences of add, report add, merge, unmerge, backup and
restore, and export + import, checked after every step.

After each step the database passes SQLite's integrity and foreign-key checks, every live incident's killed
range is the one its reports give (and its best is theirs unless an analyst chose it), and at the end an
export imported into an empty database exports the same bytes. Short in the suite; `INCIDENTS_LONG=1` runs it
long (docs/development.md).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, precondition, rule
from sqlalchemy import select

from incidents import api
from incidents.analysis.filters import Filters
from incidents.db.engine import make_engine, session_factory
from incidents.errors import IncidentsError
from incidents.io.exports import export_incidents
from incidents.models import Incident
from incidents.records import derive_figures
from incidents.store.reports import reports_of

LONG = os.environ.get("INCIDENTS_LONG") == "1"
GROUPS = ["TTP", "BLA", "ISKP", "Talib Splinter"]
ATTRIBUTIONS = ["claimed", "attributed", "suspected", "denied"]
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)


class Curation(RuleBasedStateMachine):
    keys = Bundle("keys")
    merged = Bundle("merged")

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="incidents-machine-"))
        self.url = f"sqlite:///{self.folder / 'incidents.db'}"
        api.init(self.url, registry=False)
        self.steps = 0

    @rule(target=keys, day=st.integers(1, 28), killed=st.none() | st.integers(0, 500), title=texts,
          group=st.sampled_from(GROUPS), attribution=st.sampled_from(ATTRIBUTIONS))
    def add(self, day: int, killed: int | None, title: str, group: str, attribution: str) -> str:
        self.steps += 1
        try:
            return str(api.add(self.url, date=f"2021-03-{day:02d}", country="PAK", citation=f"test record {self.steps}",
                               title=title, killed=killed, perpetrators=[f"{group}={attribution}"])["key"])
        except IncidentsError:  # a title the tool refuses (a NUL): refused whole, nothing written
            return "NO-SUCH-KEY"

    @rule(key=keys, killed=st.none() | st.integers(0, 500), preliminary=st.booleans(), day=st.integers(1, 28))
    def report(self, key: str, killed: int | None, preliminary: bool, day: int) -> None:
        self.steps += 1
        with contextlib.suppress(IncidentsError):  # no such key, or merged away: a clear refusal is right
            api.report_add(self.url, key, citation=f"report {self.steps}", killed=killed, preliminary=preliminary,
                           published=f"2021-04-{day:02d}")

    @rule(target=merged, keep=keys, other=consumes(keys))
    def merge(self, keep: str, other: str) -> str:
        try:
            api.merge(self.url, keep, other, why="the machine")
        except IncidentsError:
            return "NOT-MERGED"
        return other

    @rule(key=consumes(merged))
    def unmerge(self, key: str) -> None:
        with contextlib.suppress(IncidentsError):
            api.unmerge(self.url, key)

    @precondition(lambda self: self.steps > 3)
    @rule()
    def backup_and_restore(self) -> None:
        backup = self.folder / "machine.backup"
        before = self._export("before.csv")
        api.backup(self.url, backup)
        api.restore(self.url, backup)
        assert self._export("after.csv") == before

    @invariant()
    def database_is_whole(self) -> None:
        assert_whole(self.folder / "incidents.db")

    @invariant()
    def figures_are_the_reports(self) -> None:
        assert_figures_are_the_reports(self.url)

    def _export(self, name: str, url: str | None = None) -> bytes:
        engine = make_engine(url or self.url)
        try:
            with session_factory(engine)() as session:
                export_incidents(session, Filters(), self.folder / name)
        finally:
            engine.dispose()
        return (self.folder / name).read_bytes()

    def teardown(self) -> None:
        first = self._export("first.csv")
        again = f"sqlite:///{self.folder / 'again.db'}"
        api.init(again, registry=False)
        if first.count(b"\n") > 1:
            api.import_file(again, self.folder / "first.csv")
        assert self._export("second.csv", again) == first
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()


def assert_whole(database: Path) -> None:
    """The SQLite file passes its integrity and foreign-key checks."""
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    connection.close()


def assert_figures_are_the_reports(url: str) -> None:
    """Every live incident's killed range is what its reports give, and its best is theirs unless an analyst set
    it."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            for incident in session.scalars(select(Incident).where(Incident.merged_into_id.is_(None))):
                low, latest, high = derive_figures(reports_of(session, incident.id), "killed")
                assert (incident.killed_low, incident.killed_high) == (low, high), incident.key
                if not incident.killed_best_manual:
                    assert incident.killed_best == latest, incident.key
    finally:
        engine.dispose()


Curation.TestCase.settings = settings(
    max_examples=400 if LONG else 12, stateful_step_count=40 if LONG else 10, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_curation_machine = Curation.TestCase
