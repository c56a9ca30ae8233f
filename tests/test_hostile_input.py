"""Hostile input: whatever bytes arrive, an import ends in a clear error or a clean import, never a traceback
and never a partial batch. Property-based (hypothesis), on SQLite: the write path is the same on both engines,
which the example-based import tests cover."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from incidents.db.engine import make_engine, session_factory
from incidents.db.migrations import upgrade
from incidents.errors import IncidentsError
from incidents.io.importing import ImportOptions, run_import
from incidents.models import Incident, Report, Source

from .conftest import FIXTURES

NASTY = st.sampled_from([
    "", " ", '"', '""', "'", ",", ";", "\n", "\r\n", "\t", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)",
    "'; DROP TABLE incidents; --", "\u202eevil\u202c", "مستونگ", "\u0000", "NaN", "-99", "2018-02-30",
    "99999999999999999999", "ISKP=claimed", "x" * 5000, "1e309", "[]", "{", "\ufeff",
])
CELL = st.one_of(NASTY, st.text(max_size=40), st.integers(-10**6, 10**6).map(str))
FORMAT = st.sampled_from([None, "native", "gtd", "ucdp", "acled"])
SAMPLES = [FIXTURES / "acled_format_sample.csv", FIXTURES / "gtd_format_sample.csv",
           FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"]
HEADERS = {
    "native": ["key", "date", "country", "perpetrators", "killed_best", "latitude", "longitude", "source_url"],
    "acled": next(csv.reader(io.StringIO(SAMPLES[0].read_text(encoding="utf-8")))),
    "ucdp": next(csv.reader(io.StringIO(SAMPLES[2].read_text(encoding="utf-8")))),
}


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    upgrade(engine)
    return engine


def _counts(engine: Engine) -> tuple[int, int, int]:
    with session_factory(engine)() as session:
        return tuple(int(session.scalar(select(func.count()).select_from(m)) or 0)  # type: ignore[return-value]
                     for m in (Incident, Report, Source))


def _import_holds_its_promise(engine: Engine, path: Path, fmt: str | None, on_error: str = "abort") -> None:
    before = _counts(engine)
    try:
        result = run_import(engine, path, ImportOptions(format=fmt, on_error=on_error))
    except IncidentsError as exc:
        assert str(exc)  # a message a person can read
        assert _counts(engine) == before, "a failed import wrote something"
        return
    assert result.reconciles()
    after = _counts(engine)
    assert after[0] - before[0] == result.inserted, "incidents written differ from the count reported"


FUZZ = settings(max_examples=int(os.environ.get("INCIDENTS_FUZZ_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


@FUZZ
@given(data=st.binary(max_size=2000), fmt=FORMAT)
def test_binary_junk(fuzz_engine: Engine, tmp_path_factory: pytest.TempPathFactory, data: bytes,
                     fmt: str | None) -> None:
    path = tmp_path_factory.mktemp("junk") / "junk.csv"
    path.write_bytes(data)
    _import_holds_its_promise(fuzz_engine, path, fmt)


@FUZZ
@given(kind=st.sampled_from(sorted(HEADERS)), rows=st.lists(st.lists(CELL, max_size=60), max_size=8),
       on_error=st.sampled_from(["abort", "skip"]), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]))
def test_valid_header_hostile_rows(fuzz_engine: Engine, tmp_path_factory: pytest.TempPathFactory, kind: str,
                                   rows: list[list[str]], on_error: str, encoding: str) -> None:
    header = HEADERS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow((row * (len(header) // max(len(row), 1) + 1))[: len(header)] if row else [])
    path = tmp_path_factory.mktemp("rows") / f"{kind}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    _import_holds_its_promise(fuzz_engine, path, None if kind == "native" else kind, on_error)


@FUZZ
@given(sample=st.sampled_from(SAMPLES), cuts=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), CELL),
                                                      min_size=1, max_size=6),
       on_error=st.sampled_from(["abort", "skip"]))
def test_mutated_real_samples(fuzz_engine: Engine, tmp_path_factory: pytest.TempPathFactory, sample: Path,
                              cuts: list[tuple[float, int, str]], on_error: str) -> None:
    data = sample.read_bytes()[:20000]
    for where, length, insert in cuts:
        position = int(where * len(data))
        data = data[:position] + insert.encode("utf-8", errors="replace") + data[position + length:]
    path = tmp_path_factory.mktemp("mutated") / sample.name
    path.write_bytes(data)
    _import_holds_its_promise(fuzz_engine, path, None, on_error)


TEXT = st.one_of(NASTY.filter(lambda s: "\x00" not in s and len(s) < 200),
                 st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30))
INCIDENT = st.fixed_dictionaries({
    "title": TEXT, "summary": TEXT, "place": TEXT, "attack_type": TEXT.map(lambda s: s[:200]),
    "date": st.dates(min_value=__import__("datetime").date(1970, 1, 1)).map(str)
    | st.integers(1970, 2030).map(str),
    "killed": st.one_of(st.none(), st.integers(0, 5000)),
    "perpetrator": st.one_of(st.none(), st.sampled_from(["ISKP", "TTP", "Lashkar-e-Jhangvi"]),
                             TEXT.filter(lambda s: any(c.isalnum() for c in s) and ";" not in s and "=" not in s
                                         and s == s.strip()).map(lambda s: s[:300])),
})


@settings(max_examples=int(os.environ.get("INCIDENTS_FUZZ_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(incidents=st.lists(INCIDENT, min_size=1, max_size=5))
def test_random_incidents_survive_export_and_import(tmp_path_factory: pytest.TempPathFactory,
                                                     incidents: list[dict]) -> None:
    from incidents.analysis.filters import Filters
    from incidents.io.exports import export_incidents

    folder = tmp_path_factory.mktemp("roundtrip")
    source = folder / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "title", "summary", "date", "country", "place", "attack_type", "killed_best",
                         "perpetrators", "source_url"])
        for number, item in enumerate(incidents):
            writer.writerow([f"R{number}", item["title"], item["summary"], item["date"], "PAK", item["place"],
                             item["attack_type"], "" if item["killed"] is None else item["killed"],
                             item["perpetrator"] or "", f"https://example.org/{number}"])
    exports: list[Path] = []
    for name in ("a", "b"):
        engine = make_engine(f"sqlite:///{folder / name}.db")
        upgrade(engine)
        result = run_import(engine, source if name == "a" else exports[-1])
        assert result.rejected == 0 and result.inserted == len(incidents)
        out = folder / f"{name}.csv"
        with session_factory(engine)() as session:
            export_incidents(session, Filters(), out)
        exports.append(out)
        engine.dispose()
    assert exports[0].read_bytes() == exports[1].read_bytes()
