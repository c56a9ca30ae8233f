"""Parquet: `export tables` writes one typed file per table, which DuckDB and pandas read back to the counts and
tolls the database gives; `export groups|events|... --format parquet` writes that one table. On both engines."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from incidents import api
from incidents.cli import cli
from incidents.errors import FieldError, UsageError
from incidents.io.parquet import TABLE_ORDER

from .conftest import FIXTURES

UCDP_FILE = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"
KHAR = "PAK-2023-07-30-KHAR"

GROUP_TOLLS = """
    SELECT a.name AS grp, COUNT(DISTINCT i.id) AS incidents, SUM(i.killed_best) AS killed_best,
           SUM(i.killed_low) AS killed_low, SUM(i.killed_high) AS killed_high
    FROM '{d}/incident_actors.parquet' ia
    JOIN '{d}/incidents.parquet' i ON i.id = ia.incident_id
    JOIN '{d}/actors.parquet' a ON a.id = ia.actor_id
    WHERE ia.role = 'perpetrator' AND (ia.attribution IS NULL OR ia.attribution <> 'denied')
    GROUP BY a.name
"""


@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, UCDP_FILE)
    return db_url


def test_tables_round_trip_through_duckdb_and_pandas(url: str, tmp_path: Path) -> None:
    withdrawn = "UCDP-198007"
    api.delete(url, withdrawn, why="not an attack of ours")
    out = tmp_path / "tables"
    assert api.export(url, "tables", out) == api.incidents(url, limit=1)[1]
    assert sorted(path.name for path in out.iterdir()) == sorted([f"{name}.parquet" for name in TABLE_ORDER]
                                                                 + ["datapackage.json"])
    rows, total = api.incidents(url, limit=None)
    connection = duckdb.connect()
    count, killed = connection.execute(f"SELECT COUNT(*), SUM(killed_best) FROM '{out}/incidents.parquet'").fetchone() \
        or (0, 0)
    assert count == total
    assert killed == sum(row["killed_best"] or 0 for row in rows)
    assert connection.execute(f"SELECT COUNT(*) FROM '{out}/incidents.parquet' WHERE key = ?",
                              [withdrawn]).fetchone() == (0,)

    summary = api.summary(url)
    found = {row[0]: row[1:] for row in connection.execute(GROUP_TOLLS.format(d=out)).fetchall()}
    assert len(summary) >= 3
    for record in summary.to_dict("records"):
        assert found[record["group"]] == (record["incidents"], record["killed_best"], record["killed_low"],
                                          record["killed_high"]), record["group"]

    frame = pd.read_parquet(out / "incidents.parquet")
    assert len(frame) == total and frame["killed_best"].sum() == killed
    typed = {row[0]: row[1] for row in
             connection.execute(f"DESCRIBE SELECT * FROM '{out}/incidents.parquet'").fetchall()}
    assert (typed["date_start"], typed["killed_best"], typed["suicide"], typed["key"]) == (
        "DATE", "BIGINT", "BOOLEAN", "VARCHAR")
    seed = frame[frame["key"] == KHAR].iloc[0]
    detail = api.show(url, KHAR)
    assert (seed["date_start"].isoformat(), int(seed["killed_best"])) == (detail["date_start"], detail["killed"]["best"])
    reports = connection.execute(f"SELECT COUNT(*) FROM '{out}/reports.parquet' r JOIN '{out}/incidents.parquet' i "
                                 "ON i.id = r.incident_id WHERE i.key = ?", [KHAR]).fetchone()
    assert reports == (len([r for r in detail["reports"] if not r.get("withdrawn")]),)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert [resource["name"] for resource in package["resources"]] == list(TABLE_ORDER)


def test_a_filtered_export_and_one_table(url: str, tmp_path: Path) -> None:
    out = tmp_path / "isk"
    count = api.export(url, "tables", out, actor="Islamic State Khorasan Province", include_subgroups=True)
    rows, total = api.incidents(url, limit=None, actor="Islamic State Khorasan Province", include_subgroups=True)
    assert (count,) == (total,) == duckdb.connect().execute(f"SELECT COUNT(*) FROM '{out}/incidents.parquet'").fetchone()
    groups = tmp_path / "groups.parquet"
    written = api.export(url, "groups", groups)
    frame = pd.read_parquet(groups)
    assert written == len(frame) == len(api.summary(url))
    assert frame["killed_best"].sum() == api.summary(url)["killed_best"].sum()


def test_refusals_write_nothing(url: str, tmp_path: Path) -> None:
    a_file = tmp_path / "file.parquet"
    a_file.write_bytes(b"kept")
    with pytest.raises(UsageError, match="writes a folder"):
        api.export(url, "tables", a_file)
    assert a_file.read_bytes() == b"kept"
    with pytest.raises(FieldError, match="export tables"):
        api.export(url, "incidents", tmp_path / "incidents.parquet")
    with pytest.raises(FieldError, match="one Parquet file per table"):
        api.export(url, "tables", tmp_path / "t", fmt="csv")
    with pytest.raises(UsageError, match="does not exist"):
        api.export(url, "tables", tmp_path / "no" / "such")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="holds other files"):
        api.export(url, "tables", mixed)
    assert sorted(path.name for path in mixed.iterdir()) == ["notes.txt"]
    earlier = tmp_path / "earlier"
    api.export(url, "tables", earlier)
    before = {path.name: path.read_bytes() for path in earlier.iterdir() if path.is_file()}
    (earlier / "reports.parquet").unlink()
    (earlier / "reports.parquet").mkdir()
    with pytest.raises(UsageError, match="not a file"):
        api.export(url, "tables", earlier)
    assert {path.name: path.read_bytes() for path in earlier.iterdir() if path.is_file()} == {
        name: data for name, data in before.items() if name != "reports.parquet"}
    result = CliRunner().invoke(cli, ["--db", url, "export", "tables", "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0 and "one file per table" in result.output
    assert not list(tmp_path.glob("**/*.part"))


def test_tables_that_take_long_to_write_are_all_kept(url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A table written for minutes (ten million incidents) must not see the tables already written swept away as
    a killed writer's leftovers: here the clock says every file is hours old by the time the next is begun."""
    import time as clock

    from incidents import files

    real = clock.time
    monkeypatch.setattr(files.time, "time", lambda: real() + 7200)
    out = tmp_path / "slow"
    api.export(url, "tables", out)
    assert sorted(path.name for path in out.iterdir()) == sorted([f"{name}.parquet" for name in TABLE_ORDER]
                                                                 + ["datapackage.json"])
