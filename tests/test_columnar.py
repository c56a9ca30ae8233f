"""The columnar import path (io.importers.batches, io.importers.columns, store.bulk, store.rebuild) against the
per-row path: the same records read from the same bytes, the same database, the same messages.

Each comparison imports one file twice, with `ImportOptions(columnar=True)` (the default) and with
`columnar=False` (every row through the format's mapper), into two fresh databases of the same engine, and
compares every table row for row, ids and hashes included, leaving out only the clock's columns.
"""

from __future__ import annotations

import csv
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from incidents.db.engine import make_engine
from incidents.errors import InputError
from incidents.io.importers import native
from incidents.io.importers.batches import Batch, Ragged, read_batches
from incidents.io.importers.columns import _PADDED_OR_ESCAPED
from incidents.io.importers.reading import open_table, skip_hxl_row
from incidents.io.importing import ImportOptions, run_import
from incidents.models import Base

from .conftest import FIXTURES, _create_pg_database, _drop_pg_database

CLOCK = {"created_at", "updated_at", "started_at", "finished_at", "changed_at", "withdrawn_at"}


@pytest.fixture
def second_url(engine_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another fresh database on the same engine as `db_url`."""
    if engine_name == "sqlite":
        path = tmp_path / "second.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"incidents_second_{uuid.uuid4().hex[:12]}"
    yield _create_pg_database(server, name, template=request.getfixturevalue("pg_template"))
    _drop_pg_database(server, name)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, ordered by their first column, without the clock's columns."""
    tables = {}
    with engine.connect() as connection:
        for name, table in Base.metadata.tables.items():
            columns = [column.name for column in table.columns if column.name not in CLOCK]
            rows = connection.execute(text(f"SELECT {', '.join(columns)} FROM {name} ORDER BY 1, 2")).all()
            tables[name] = [tuple(row) for row in rows]
    return tables


def both_ways(url_a: str, url_b: str, paths: list[Path], **options: Any) -> tuple[list[Any], Engine, Engine]:
    """Import `paths` in turn on the columnar path into url_a and on the per-row path into url_b."""
    results: list[Any] = []
    engines = make_engine(url_a), make_engine(url_b)
    for path in paths:
        for engine, columnar in zip(engines, (True, False), strict=True):
            try:
                results.append(run_import(engine, path, ImportOptions(columnar=columnar, **options)).as_dict())
            except InputError as exc:
                results.append(str(exc))
    return results, *engines


# ---------------------------------------------------------------------------------------- a native file

def ucdp_as_native(path: Path, rows: int | None = None) -> list[dict[str, str]]:
    """The bundled UCDP GED sample (real events) written as native rows, one source's account each."""
    out = []
    with (FIXTURES / "ucdp_ged_pakistan_2015_2021.csv").open(newline="", encoding="utf-8") as handle:
        for row in list(csv.DictReader(handle))[:rows]:
            published = row["source_date"] if ";" not in row["source_date"] else ""
            out.append({
                "key": f"GED-{row['id']}", "title": row["dyad_name"], "date": row["date_start"][:10],
                "date_end": row["date_end"][:10] if row["date_end"][:10] != row["date_start"][:10] else "",
                "country": row["iso3"], "admin1": row["adm_1"], "admin2": row["adm_2"],
                "place": row["where_description"], "latitude": row["latitude"], "longitude": row["longitude"],
                "perpetrators": row["side_b"], "killed_best": row["best"], "summary": row["source_headline"],
                "source_citation": row["source_article"], "source_outlet": row["source_office"][:300],
                "source_published": published[:10],
            })
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=native.NATIVE_COLUMNS)
        writer.writeheader()
        writer.writerows(out)
    return out


def rewrite(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=native.NATIVE_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def counting_plans(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows native.plans accepted, and how many it sent the per-row way."""
    counts = [0, 0]
    plans = native.plans

    def counted(checked: Any) -> Any:
        found = plans(checked)
        counts[0] += sum(plan is not None for plan in found)
        counts[1] += sum(plan is None for plan in found)
        return found

    monkeypatch.setattr(native, "plans", counted)
    return counts


def test_a_native_file_stores_the_same_database_both_ways(db_url: str, second_url: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """824 real events; a few rows the columnar checks send the per-row way (a spreadsheet apostrophe, a padded
    title, no key); then the same file again (all unchanged) and an edited copy (updates, which go the per-row
    way from a columnar row)."""
    counts = counting_plans(monkeypatch)
    rows = ucdp_as_native(tmp_path / "a.csv")
    rows[3]["title"] = "'" + rows[3]["title"]
    rows[4]["title"] = " " + rows[4]["title"] + " "
    rows[5]["key"] = ""
    rows[6]["date"] = rows[6]["date"][:7]
    rows[7]["perpetrators"] += "=claimed; " + rows[8]["perpetrators"] + "=suspected"
    rows[9]["admin2"] = "'" + rows[9]["admin2"]  # each cell of a place drops its own apostrophe (review)
    rows[10]["place"], rows[10]["country"] = "'" + rows[10]["place"], "'PAK"
    first = rewrite(tmp_path / "a.csv", rows)
    edited = [dict(row) for row in rows]
    for row in edited[10:20]:
        row["killed_best"] = str(int(row["killed_best"] or 0) + 1)
    edited[21]["place"] = "Bajaur"
    second = rewrite(tmp_path / "b.csv", edited)

    results, fast, slow = both_ways(db_url, second_url, [first, first, second])
    for columnar, per_row in zip(results[::2], results[1::2], strict=True):
        assert {k: v for k, v in columnar.items() if k != "file"} == {k: v for k, v in per_row.items() if k != "file"}
    assert results[0]["inserted"] == len(rows)
    assert results[2]["unchanged"] == len(rows)
    assert results[4]["updated"] == 11
    assert counts == [3 * (len(rows) - 3), 3 * 3]  # three rows of each file the per-row way, the rest columnar
    assert dump(fast) == dump(slow)


@pytest.mark.parametrize("name", ["gtd_format_sample.csv", "ucdp_ged_pakistan_2015_2021.csv",
                                  "acled_format_sample.csv"])
def test_the_dataset_samples_store_the_same_database_both_ways(db_url: str, second_url: str, name: str) -> None:
    results, fast, slow = both_ways(db_url, second_url, [FIXTURES / name])
    assert results[0]["inserted"] == results[1]["inserted"] > 0
    assert dump(fast) == dump(slow)


BAD = {  # row index -> (column, value): each a row the per-row path refuses
    1: ("date", "2017-02-30"), 2: ("date", "2017-13"), 3: ("killed_best", "-1"), 4: ("killed_best", "abc"),
    5: ("country", "Narnia"), 6: ("country", ""), 7: ("latitude", "95"), 8: ("longitude", ""),
    9: ("perpetrators", "=claimed"), 10: ("perpetrators", "X=maybe"), 11: ("key", "GED-254484"),
    12: ("source_citation", ""), 13: ("killed_low", "999"), 14: ("date_end", "2001-01-01"),
    15: ("status", "bogus"), 16: ("suicide", "perhaps"), 17: ("title", "a\x00b"), 18: ("attack_type", "x" * 300),
    19: ("source_published", "2017-07"), 20: ("perpetrators", "!!!"), 21: ("place", "p" * 400),
}


def test_bad_rows_get_the_same_messages_both_ways(db_url: str, second_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    counts = counting_plans(monkeypatch)
    rows = ucdp_as_native(tmp_path / "a.csv", 60)
    for index, (column, value) in BAD.items():
        rows[index][column] = value
    path = rewrite(tmp_path / "bad.csv", rows)
    with path.open("a", encoding="utf-8") as handle:
        handle.write("GED-short,row\n")  # ragged: pyarrow hands the rest of the file to the csv module
    results, fast, slow = both_ways(db_url, second_url, [path])
    assert results[0] == results[1]
    assert f"{len(BAD) + 1} of {len(rows) + 1} rows are bad" in results[0]
    assert "bad.csv:3: column date: '2017-02-30' is not a real date" in results[0]
    assert counts[0] >= len(rows) - len(BAD) - 1  # the good rows went the columnar way

    rejects = [tmp_path / "fast.csv", tmp_path / "slow.csv"]
    for engine, columnar, out in zip((fast, slow), (True, False), rejects, strict=True):
        run_import(engine, path, ImportOptions(columnar=columnar, on_error="skip", rejects=out))
    assert rejects[0].read_bytes() == rejects[1].read_bytes()
    assert len(list(csv.reader(rejects[0].open(encoding="utf-8")))) == len(BAD) + 2  # header and the ragged row
    assert dump(fast) == dump(slow)


def test_a_failed_import_into_an_empty_database_leaves_its_indexes(engine: Engine, tmp_path: Path) -> None:
    """Indexes set aside for a load into an empty database come back when it commits and when it rolls back."""
    def indexes() -> set[str]:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'index'"
            else:
                query = ("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' UNION ALL "
                         "SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace")
            return {row[0] for row in connection.execute(text(query))}

    before = indexes()
    rows = ucdp_as_native(tmp_path / "a.csv", 40)
    rows[30]["date"] = "never"
    with pytest.raises(InputError):
        run_import(engine, rewrite(tmp_path / "bad.csv", rows))
    assert indexes() == before
    del rows[30]
    assert run_import(engine, rewrite(tmp_path / "good.csv", rows)).inserted == 39
    assert indexes() == before


# ------------------------------------------------------------------------------------- reading the bytes

EDGES = {
    "quote in mid-field": b'a,b\nx"y"z,2\n',
    "text after a closing quote": b'a,b\n"xy"zz,2\n',
    "a space before a quote": b'a,b\n "xy",2\n',
    "an empty quoted field": b'a,b\n"",2\n',
    "doubled quotes": b'a,b\n"he said ""hi""",2\n',
    "CRLF": b'a,b\r\nx,2\r\ny,3\r\n',
    "quoted newlines": b'a,b\n"line1\nline2",2\n"l1\r\nl2\r\nl3",3\nlast,4\n',
    "blank lines": b'a,b\nx,1\n\ny,2\n\r\nz,3\n',
    "blank lines at the end": b'a,b\nx,1\ny,2\n\n\n',
    "a lone carriage return": b'a,b\rx,2\ry,3\r',
    "a byte-order mark": b'\xef\xbb\xbfa,b\nx,1\n',
    "a ragged row": b'a,b\nx,1\ny\nz,3,4\nw,5\n',
    "an open quote": b'a,b\nx,1\n"y,2\nz,3\n',
    "no newline at the end": b'a,b\nx,1\ny,2',
    "an HXL row": b'a,b\n#date,#adm1\nx,1\n',
}


@pytest.mark.parametrize("name", list(EDGES))
def test_pyarrow_and_the_csv_module_read_the_same_records(tmp_path: Path, name: str) -> None:
    path = tmp_path / "edge.csv"
    path.write_bytes(EDGES[name])
    expected = list(skip_hxl_row(open_table(path, ["utf-8"])).rows)
    table = skip_hxl_row(open_table(path, ["utf-8"]))
    got: list[tuple[int, list[str]]] = []
    for batch in read_batches(path, table, ["utf-8"]):
        if isinstance(batch, Ragged):
            got.append((batch.line, batch.values))
        else:
            assert isinstance(batch, Batch)
            got.extend((line, batch.row(index)) for index, line in enumerate(batch.lines))
    assert got == expected


def test_every_character_str_strip_takes_sends_a_cell_the_per_row_way() -> None:
    """The free-text check (pyarrow's RE2) flags a cell that str.strip() would change, and one that starts with
    the exports' apostrophe or holds a NUL; it leaves alone a cell with such characters inside."""
    import pyarrow as pa
    import pyarrow.compute as pc

    spaces = [chr(code) for code in range(0x110000) if chr(code).isspace()]
    flagged = [f"{space}x" for space in spaces] + [f"x{space}" for space in spaces] + ["'x", "a\x00b"]
    inside = [f"x{space}y" for space in spaces] + ["x'y"]
    assert all(cell.strip() != cell for cell in flagged[:-2])
    result = pc.match_substring_regex(pa.array(flagged + inside), _PADDED_OR_ESCAPED).to_pylist()
    assert result == [True] * len(flagged) + [False] * len(inside)
