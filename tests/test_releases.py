"""Dataset releases: `import --release/--full-release`, ACLED deletion lists, analysts' edits kept through a new
release (conflicts, `conflicts settle`), `releases` and `diff`; on both engines, on the bundled UCDP sample and a
trimmed and edited copy of it made here. Every expected figure is computed from the two files."""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine, session_factory
from incidents.errors import FieldError, InputError, NotFoundError, UsageError
from incidents.models import Conflict, Incident, Source

from .conftest import FIXTURES

UCDP_FILE = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"
ACLED_FILE = FIXTURES / "acled_format_sample.csv"


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def one_sided(rows: list[dict[str, str]], skip: int = 0) -> dict[str, str]:
    """A one-sided (type 3) event with a toll: its side_a is a perpetrator."""
    return [row for row in rows if row["type_of_violence"] == "3" and int(row["best"]) > 0][skip]


def live_origins(url: str) -> set[str]:
    engine = make_engine(url)
    with session_factory(engine)() as session:
        found = set(session.scalars(select(Incident.origin_id).where(
            Incident.origin_dataset == "ucdp", Incident.withdrawn_at.is_(None))))
    engine.dispose()
    return {str(origin) for origin in found}


def column_changes(old: dict[str, str], new: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    """The columns two versions of a row differ in, as the diff shows them (a blank cell is no value)."""
    return {f"column {name}": (old[name] or None, new[name] or None) for name in old if old[name] != new[name]}


@pytest.fixture
def release_files(tmp_path: Path) -> dict[str, Any]:
    """The bundled file as release A; a copy trimmed of every 61st row (UCDP-198007 among them) and with edits
    to tolls, places and dates as release B; which rows each edit touched."""
    header, rows = read_rows(UCDP_FILE)
    dropped = {row["id"] for index, row in enumerate(rows) if index % 61 == 7} | {"198007"}
    placed = one_sided(rows, 0)  # the analyst moves it; the release moves it elsewhere: a conflict
    tolled = one_sided(rows, 1)  # the analyst chooses a toll; the release revises its own: a conflict
    dated = one_sided(rows, 2)  # only the release changes it
    unlinked = one_sided(rows, 3)  # the analyst removes its perpetrator; the release revises its toll
    kept_place = one_sided(rows, 4)  # the analyst moves it; the release changes nothing of it
    edited: list[dict[str, str]] = []
    for row in rows:
        if row["id"] in dropped:
            continue
        row = dict(row)
        if row["id"] == placed["id"]:
            row["adm_2"] = "Moved " + row["adm_2"]
        elif row["id"] in (tolled["id"], unlinked["id"]):
            row["best"] = str(int(row["best"]) + 2)
            row["high"] = str(max(int(row["high"]), int(row["best"])))
        elif row["id"] == dated["id"]:
            row["date_start"] = row["date_end"] = "2016-02-29"
        elif row["id"] not in (kept_place["id"],) and int(row["id"]) % 50 == 3:
            row["deaths_unknown"] = str(int(row["deaths_unknown"] or 0) + 1)
            row["best"] = str(int(row["best"]) + 1)
            row["high"] = str(max(int(row["high"]), int(row["best"])))
        edited.append(row)
    assert placed["id"] not in dropped and tolled["id"] not in dropped and dated["id"] not in dropped
    return {"a": UCDP_FILE, "b": write_rows(tmp_path / "ged_b.csv", header, edited), "rows_a": rows,
            "rows_b": edited, "dropped": dropped, "placed": placed, "tolled": tolled, "dated": dated,
            "unlinked": unlinked, "kept_place": kept_place, "header": header}


def test_a_trimmed_and_edited_full_release(db_url: str, release_files: dict[str, Any]) -> None:
    """The Done-when: withdraws exactly the missing records, updates exactly the changed fields, keeps the analyst's
    edits, lists the conflicts; `diff` shows the changes computed here from the two files."""
    files = release_files
    first = api.import_file(db_url, files["a"], release="GED 24.1")
    assert first.release == "GED 24.1" and first.inserted == len(files["rows_a"])
    placed, tolled, unlinked, kept_place = (f"UCDP-{files[name]['id']}" for name in ("placed", "tolled", "unlinked",
                                                                                     "kept_place"))
    api.set_field(db_url, placed, "admin2", "Analyst District", why="checked the source")
    api.set_field(db_url, kept_place, "admin2", "Analyst District", why="checked the source")
    api.set_field(db_url, tolled, "killed_best", str(int(files["tolled"]["best"])), why="the report we trust")
    side_a = files["unlinked"]["side_a"]
    group = [a["actor"] for a in api.show(db_url, unlinked)["actors"] if a["role"] == "perpetrator"][0]
    api.perpetrator_remove(db_url, unlinked, group, why=f"not {side_a}: a misattribution")
    before = {key: api.show(db_url, key) for key in (placed, tolled, kept_place)}

    second = api.import_file(db_url, files["b"], release="GED 25.1", full_release=True)

    by_id_a = {row["id"]: row for row in files["rows_a"]}
    by_id_b = {row["id"]: row for row in files["rows_b"]}
    missing = set(by_id_a) - set(by_id_b)
    changed = {origin for origin in by_id_b if by_id_a[origin] != by_id_b[origin]}
    assert second.withdrawn == len(missing) == len(files["dropped"])
    assert live_origins(db_url) == set(by_id_b)
    assert second.updated == len(changed) and second.inserted == 0
    assert second.unchanged == len(by_id_b) - len(changed)
    assert second.scope == {"countries": ["PAK"], "years": [2015, 2021]}

    # The analyst's edits stand; the release's own figures are on its report.
    after = {key: api.show(db_url, key) for key in (placed, tolled, kept_place)}
    for key in (placed, kept_place):
        assert after[key]["location"]["admin2"] == "Analyst District" == before[key]["location"]["admin2"]
    assert after[tolled]["killed"]["best"] == int(files["tolled"]["best"])
    report = [r for r in after[tolled]["reports"] if r["source"]["dataset"] == "ucdp"][0]
    assert report["killed"] == int(by_id_b[files["tolled"]["id"]]["best"])
    assert report["source"]["dataset_release"] == "GED 25.1"
    assert all(actor["actor"] != group for actor in api.show(db_url, unlinked)["actors"])
    dated = api.show(db_url, f"UCDP-{files['dated']['id']}")
    assert dated["date_start"] == "2016-02-29"

    expected_conflicts = {(placed, "place"), (tolled, "killed_best")}
    assert {(c["key"], c["field"]) for c in second.conflicts} == expected_conflicts
    assert {(c["key"], c["field"]) for c in api.conflicts(db_url)} == expected_conflicts
    place_conflict = [c for c in second.conflicts if c["field"] == "place"][0]
    assert "Analyst District" in str(place_conflict["analyst"]) and "Moved " in str(place_conflict["dataset_new"])

    result = api.diff(db_url, "GED 24.1", "GED 25.1")
    assert result["added"] == [] and result["restored"] == []
    assert {row["origin_id"] for row in result["withdrawn"]} == missing
    assert {row["origin_id"] for row in result["changed"]} == changed
    for record in result["changed"]:
        shown = {c["field"]: (c["old"], c["new"]) for c in record["changes"] if c["field"].startswith("column ")}
        assert shown == column_changes(by_id_a[record["origin_id"]], by_id_b[record["origin_id"]]), record["key"]
    tolls = {record["origin_id"]: {c["field"]: (c["old"], c["new"]) for c in record["changes"]}
             for record in result["changed"]}
    for origin in changed:
        old, new = by_id_a[origin]["best"], by_id_b[origin]["best"]
        if old != new:
            assert tolls[origin]["report killed"] == (old, new)
    assert {(c["key"], c["field"]) for c in result["conflicts"]} == expected_conflicts

    # The same diff as CSV: one line per change.
    lines = list(csv.reader(str(api.write_diff(result, "csv")).splitlines()))
    assert lines[0] == ["change", "key", "origin_id", "field", "old", "new"]
    assert sum(1 for line in lines[1:] if line[0] == "withdrawn") == len(missing)
    assert sum(1 for line in lines[1:] if line[0] == "changed") == sum(len(r["changes"]) for r in result["changed"])

    releases = api.releases(db_url)
    assert [(r["release"], r["full_release"], r["withdrawn"], r["conflicts"]) for r in releases] == [
        ("GED 24.1", False, 0, 0), ("GED 25.1", True, len(missing), 2)]

    # The next release gives the same values: no conflict is raised again, nothing changes.
    third = api.import_file(db_url, files["b"], release="GED 25.1a", full_release=True)
    assert (third.updated, third.withdrawn, third.conflicts) == (0, 0, [])


def test_conflicts_are_settled_by_keeping_or_taking(db_url: str, release_files: dict[str, Any], tmp_path: Path) -> None:
    files = release_files
    api.import_file(db_url, files["a"], release="A")
    placed, tolled = f"UCDP-{files['placed']['id']}", f"UCDP-{files['tolled']['id']}"
    api.set_field(db_url, placed, "admin2", "Analyst District", why="checked")
    api.set_field(db_url, tolled, "killed_best", files["tolled"]["best"], why="checked")
    api.import_file(db_url, files["b"], release="B")
    with pytest.raises(NotFoundError, match="no open conflict on 'title'"):
        api.settle_conflict(db_url, placed, "title", "keep")
    taken = api.settle_conflict(db_url, tolled, "killed_best", "take", why="UCDP revised it")
    new_best = int({row["id"]: row for row in files["rows_b"]}[files["tolled"]["id"]]["best"])
    assert taken["value"] == str(new_best) and api.show(db_url, tolled)["killed"]["best"] == new_best
    api.settle_conflict(db_url, placed, "place", "keep")
    assert api.conflicts(db_url) == []

    # Taken: the field is the dataset's again, and a later release updates it. Kept: the analyst's stays, and a
    # later release that changes it again raises a new conflict.
    header, rows = files["header"], [dict(row) for row in files["rows_b"]]
    for row in rows:
        if row["id"] == files["tolled"]["id"]:
            row["best"] = row["high"] = str(new_best + 1)
        if row["id"] == files["placed"]["id"]:
            row["adm_2"] = "Elsewhere"
    third = api.import_file(db_url, write_rows(tmp_path / "c.csv", header, rows), release="C")
    assert api.show(db_url, tolled)["killed"]["best"] == new_best + 1
    assert [(c["key"], c["field"]) for c in third.conflicts] == [(placed, "place")]
    assert "Elsewhere" in str(third.conflicts[0]["dataset_new"])
    assert api.show(db_url, placed)["location"]["admin2"] == "Analyst District"

    result = CliRunner().invoke(cli, ["--db", db_url, "conflicts", "--json"])
    assert result.exit_code == 0, result.output
    assert [(c["key"], c["release"]) for c in json.loads(result.output)] == [(placed, "C")]
    result = CliRunner().invoke(cli, ["--db", db_url, "conflicts", "settle", placed, "place"])
    assert result.exit_code == 2 and "--keep" in result.output


def test_a_record_back_in_a_release_is_restored_and_an_analysts_restore_stands(
        db_url: str, release_files: dict[str, Any]) -> None:
    files = release_files
    api.import_file(db_url, files["a"], release="A", full_release=True)
    trimmed = api.import_file(db_url, files["b"], release="B", full_release=True)
    assert trimmed.withdrawn == len(files["dropped"])
    back = api.import_file(db_url, files["a"], release="A2", full_release=True)
    assert back.restored == len(files["dropped"]) and back.withdrawn == 0
    assert live_origins(db_url) == {row["id"] for row in files["rows_a"]}
    result = api.diff(db_url, "B", "A2")
    assert {row["origin_id"] for row in result["restored"]} == files["dropped"]
    reverse = api.diff(db_url, "A2", "B")  # B came first: the way back
    assert {row["origin_id"] for row in reverse["withdrawn"]} == files["dropped"]
    assert reverse["restored"] == [] and reverse["added"] == []

    # Withdrawn by a release, brought back by an analyst: the next full release without it leaves it alone.
    api.import_file(db_url, files["b"], release="B2", full_release=True)
    chosen = sorted(files["dropped"])[0]
    api.restore_incident(db_url, f"UCDP-{chosen}", why="the attack happened; UCDP merged it elsewhere")
    again = api.import_file(db_url, files["b"], release="B3", full_release=True)
    assert again.withdrawn == 0 and any("analyst restored" in note for note in again.notes)
    assert chosen in live_origins(db_url)
    since = api.diff(db_url, "B2")  # to now: the analyst's restore is in it
    assert [row["origin_id"] for row in since["restored"]] == [chosen]


def test_a_full_release_with_rejected_rows_withdraws_nothing(db_url: str, release_files: dict[str, Any],
                                                              tmp_path: Path) -> None:
    files = release_files
    api.import_file(db_url, files["a"])
    rows = [dict(row) for row in files["rows_b"]]
    rows[5]["best"] = "many"
    bad = write_rows(tmp_path / "bad.csv", files["header"], rows)
    with pytest.raises(InputError, match=r"bad.csv: 1 of \d+ rows are bad; nothing was imported"):
        api.import_file(db_url, bad, release="B", full_release=True)
    skipped = api.import_file(db_url, bad, release="B", full_release=True, on_error="skip")
    assert skipped.withdrawn == 0 and any(note.startswith("withdrew nothing") for note in skipped.notes)
    assert live_origins(db_url) == {row["id"] for row in files["rows_a"]}


def test_a_merged_record_missing_from_a_release_takes_its_report_along(db_url: str, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP_FILE)
    keep, other = one_sided(rows, 0), one_sided(rows, 1)
    api.import_file(db_url, UCDP_FILE, release="A")
    api.merge(db_url, f"UCDP-{keep['id']}", f"UCDP-{other['id']}", why="one attack")
    merged = api.show(db_url, f"UCDP-{keep['id']}")
    assert len([r for r in merged["reports"] if r["source"]["dataset"] == "ucdp"]) == 2
    trimmed = write_rows(tmp_path / "b.csv", header, [row for row in rows if row["id"] != other["id"]])
    result = api.import_file(db_url, trimmed, release="B", full_release=True)
    assert result.withdrawn == 1
    after = api.show(db_url, f"UCDP-{keep['id']}")
    standing = [r for r in after["reports"] if r["source"]["dataset"] == "ucdp" and not r.get("withdrawn")]
    assert [r["source"]["record_id"] for r in standing] == [keep["id"]]
    assert after["killed"]["high"] == int(keep["high"])


def test_acled_deletion_lists_withdraw(db_url: str, tmp_path: Path) -> None:
    _, rows = read_rows(ACLED_FILE)
    api.import_file(db_url, ACLED_FILE, release="ACLED 2025-11-30")
    listed = tmp_path / "deleted.csv"
    listed.write_text("event_id_cnty,deleted_timestamp\n"
                      f"{rows[0]['event_id_cnty']},1733000000\n{rows[2]['event_id_cnty']},2025-03-01\n"
                      "PAK0000000,2025-03-01\n", encoding="utf-8")
    dry = api.import_file(db_url, listed, dry_run=True)
    assert dry.format == "acled-deletions" and dry.withdrawn == 2 and not dry.committed
    assert dry.diff is not None and len(list(dry.diff["withdrawn"])) == 2  # type: ignore[call-overload]
    keys = {row["key"] for row in api.incidents(db_url, limit=None)[0]}
    assert f"ACLED-{rows[0]['event_id_cnty']}" in keys
    done = api.import_file(db_url, listed, release="deletions 2025-12")
    assert (done.read, done.withdrawn, done.unchanged) == (3, 2, 1)
    keys = {row["key"] for row in api.incidents(db_url, limit=None)[0]}
    assert keys == {f"ACLED-{row['event_id_cnty']}" for row in rows[1:] if row is not rows[2]}
    # An older export that still holds a deleted event does not bring it back.
    again = api.import_file(db_url, ACLED_FILE)
    assert again.restored == 0 and len({row["key"] for row in api.incidents(db_url, limit=None)[0]}) == len(rows) - 2
    history = api.history(db_url, f"ACLED-{rows[0]['event_id_cnty']}")
    assert any(h["field"] == "withdrawn_at" and "deleted by ACLED on 2024-11-30" in (h["why"] or "")
               for h in history)

    bad = tmp_path / "bad.csv"
    bad.write_text("event_id_cnty,deleted_timestamp\nPAK1,soon\n,2025-01-01\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        api.import_file(db_url, bad)
    assert caught.value.problems == [
        "bad.csv:2: column deleted_timestamp: 'soon' is not a Unix time (1700000000), a date (2025-11-30) or a date "
        "and time (2025-11-30 10:00:00)",
        "bad.csv:3: column event_id_cnty: '' is blank"]
    with pytest.raises(UsageError, match="a deletion list is not a release"):
        api.import_file(db_url, listed, full_release=True)


def test_refusals(db_url: str, tmp_path: Path) -> None:
    native = FIXTURES / "extraction" / "README.md"  # any file: the label is checked before it is read
    with pytest.raises(FieldError, match="release"):
        api.import_file(db_url, native, release="x" * 51)
    with pytest.raises(FieldError, match="release"):
        api.import_file(db_url, native, release="GED\x0025.1")
    exported = tmp_path / "native.csv"
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.export(db_url, "incidents", exported)
    with pytest.raises(UsageError, match="release is for a dataset's files"):
        api.import_file(db_url, exported, release="mine")
    with pytest.raises(NotFoundError, match="no release 'GED 99'; the releases are: none yet"):
        api.diff(db_url, "GED 99")


def test_cli_dry_run_prints_the_diff_and_writes_nothing(db_url: str, release_files: dict[str, Any],
                                                         tmp_path: Path) -> None:
    files = release_files
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    assert runner.invoke(cli, ["--db", db_url, "import", str(files["a"]), "--release", "GED 24.1"]).exit_code == 0
    result = runner.invoke(cli, ["--db", db_url, "import", str(files["b"]), "--release", "GED 25.1",
                                 "--full-release", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    changed = sum(1 for row in files["rows_b"] if row != {r["id"]: r for r in files["rows_a"]}[row["id"]])
    assert (f"What this import would change: 0 added, {changed} changed, {len(files['dropped'])} withdrawn"
            in result.output)
    assert "UCDP-198007" in result.output and "dry run: nothing was written" in result.output
    assert live_origins(db_url) == {row["id"] for row in files["rows_a"]}
    result = runner.invoke(cli, ["--db", db_url, "releases"], env=env)
    assert "GED 24.1" in result.output and "GED 25.1" not in result.output
    assert runner.invoke(cli, ["--db", db_url, "import", str(files["b"]), "--release", "GED 25.1",
                               "--full-release"]).exit_code == 0
    out = tmp_path / "diff.csv"
    result = runner.invoke(cli, ["--db", db_url, "diff", "GED 24.1", "GED 25.1", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {row["origin_id"] for row in rows if row["change"] == "withdrawn"} == files["dropped"]
    result = runner.invoke(cli, ["--db", db_url, "diff", "GED 24.1", "GED 25.1", "--json"])
    assert json.loads(result.output)["counts"]["withdrawn"] == len(files["dropped"])
    result = runner.invoke(cli, ["--db", db_url, "diff", "GED 24.1", "GED 25.1"], env=env)
    assert result.exit_code == 0 and "UCDP-198007" in result.output
    result = runner.invoke(cli, ["--db", db_url, "diff", "nope"])
    assert result.exit_code != 0 and "no release 'nope'" in result.output and "Traceback" not in result.output


def test_unchanged_records_carry_the_newest_release(db_url: str) -> None:
    api.import_file(db_url, UCDP_FILE, release="GED 24.1")
    api.import_file(db_url, UCDP_FILE, release="GED 25.1")
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        labels = set(session.scalars(select(Source.dataset_release).where(Source.dataset == "ucdp")))
        assert session.scalar(select(Conflict.id).limit(1)) is None
    engine.dispose()
    assert labels == {"GED 25.1"}


# What the hostile review of releases found; each is held here.

def test_diff_out_never_writes_over_the_database_and_follows_links(tmp_path: Path) -> None:
    db = tmp_path / "incidents.db"
    api.init(str(db))
    api.import_file(str(db), UCDP_FILE, release="A")
    before = db.read_bytes()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db), "diff", "A", "--json", "--out", str(db)])
    assert result.exit_code != 0 and "reads that file" in result.output and db.read_bytes() == before
    target = tmp_path / "real.csv"
    target.write_text("old", encoding="utf-8")
    (tmp_path / "link.csv").symlink_to(target)
    result = runner.invoke(cli, ["--db", str(db), "diff", "A", "--out", str(tmp_path / "link.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "link.csv").is_symlink() and target.read_text(encoding="utf-8").startswith("change,key")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = runner.invoke(cli, ["--db", str(db), "export", "groups", "--out", str(fifo)])
    assert result.exit_code != 0 and "not a regular file" in result.output
    result = runner.invoke(cli, ["--db", str(db), "diff", "A", "--json", "--format", "csv"])
    assert result.exit_code == 2


def test_a_release_after_a_merge_updates_the_kept_incident(db_url: str, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP_FILE)
    keep, other = one_sided(rows, 0), one_sided(rows, 1)
    api.import_file(db_url, UCDP_FILE, release="A")
    api.merge(db_url, f"UCDP-{keep['id']}", f"UCDP-{other['id']}", why="one attack")
    edited = [dict(row) for row in rows]
    for row in edited:
        if row["id"] == other["id"]:
            row["best"] = row["high"] = str(int(row["high"]) + 100)
    api.import_file(db_url, write_rows(tmp_path / "b.csv", header, edited), release="B")
    kept = api.show(db_url, f"UCDP-{keep['id']}")
    assert kept["killed"]["high"] == int(other["high"]) + 100
    assert api.show(db_url, f"UCDP-{other['id']}")["reports"] == []
    api.unmerge(db_url, f"UCDP-{other['id']}", why="two attacks after all")
    assert api.show(db_url, f"UCDP-{other['id']}")["killed"]["best"] == int(other["high"]) + 100
    assert len(api.summary(db_url, as_of=date.today().isoformat())) > 0  # --as-of replays the merge and release


def test_an_analysts_best_outside_a_new_range_is_handed_back_as_a_conflict(db_url: str, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP_FILE)
    chosen = one_sided(rows, 0)
    key = f"UCDP-{chosen['id']}"
    api.import_file(db_url, UCDP_FILE, release="A")
    api.set_field(db_url, key, "killed_best", chosen["low"], why="our count")
    edited = [dict(row) for row in rows]
    new = int(chosen["high"]) + 40
    for row in edited:
        if row["id"] == chosen["id"]:
            row["low"] = row["best"] = row["high"] = str(new)
    result = api.import_file(db_url, write_rows(tmp_path / "b.csv", header, edited), release="B")
    assert result.rejected == 0 and result.updated == 1
    assert [(c["key"], c["field"], c["analyst"], c["dataset_new"]) for c in result.conflicts] == [
        (key, "killed_best", chosen["low"], str(new))]
    assert api.show(db_url, key)["killed"]["best"] == new
    assert api.conflicts(db_url) == []  # the field holds the release's value: nothing left to settle


def test_a_perpetrator_a_release_no_longer_gives_goes(db_url: str, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP_FILE)
    changed, chosen = one_sided(rows, 0), one_sided(rows, 1)
    others = sorted({row["side_a"] for row in rows if row["type_of_violence"] == "3"} - {changed["side_a"]})
    api.import_file(db_url, UCDP_FILE, release="A")
    before = api.summary(db_url)["incidents"].sum()
    old_name = [a["actor"] for a in api.show(db_url, f"UCDP-{changed['id']}")["actors"]
                if a["role"] == "perpetrator"][0]
    group = [a["actor"] for a in api.show(db_url, f"UCDP-{chosen['id']}")["actors"] if a["role"] == "perpetrator"][0]
    api.perpetrator_set(db_url, f"UCDP-{chosen['id']}", group, attribution="claimed", why="a claim we hold")
    edited = [dict(row) for row in rows]
    for row in edited:
        if row["id"] in (changed["id"], chosen["id"]):
            row["side_a"] = others[0]
    api.import_file(db_url, write_rows(tmp_path / "b.csv", header, edited), release="B")
    names = [a["actor"] for a in api.show(db_url, f"UCDP-{changed['id']}")["actors"] if a["role"] == "perpetrator"]
    assert len(names) == 1 and api.summary(db_url)["incidents"].sum() == before + 1  # chosen keeps both
    kept = [a["actor"] for a in api.show(db_url, f"UCDP-{chosen['id']}")["actors"] if a["role"] == "perpetrator"]
    assert group in kept and len(kept) == 2
    record = [r for r in api.diff(db_url, "A", "B")["changed"] if r["origin_id"] == changed["id"]][0]
    gone = [c for c in record["changes"] if c["field"] == "perpetrator" and c["new"] is None]
    assert len(gone) == 1 and gone[0]["old"].startswith(old_name) and old_name not in names


def test_a_release_dropping_a_record_others_are_merged_into_keeps_it(db_url: str, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP_FILE)
    keep, other = one_sided(rows, 0), one_sided(rows, 1)
    api.import_file(db_url, UCDP_FILE, release="A", full_release=True)
    api.merge(db_url, f"UCDP-{keep['id']}", f"UCDP-{other['id']}", why="one attack")
    trimmed = write_rows(tmp_path / "b.csv", header, [row for row in rows if row["id"] != keep["id"]])
    result = api.import_file(db_url, trimmed, release="B", full_release=True)
    assert result.withdrawn == 0 and any("merged into them" in note for note in result.notes)
    kept = api.show(db_url, f"UCDP-{keep['id']}")
    standing = [r["source"]["record_id"] for r in kept["reports"]
                if r["source"]["dataset"] == "ucdp" and not r.get("withdrawn")]
    assert standing == [other["id"]] and kept["killed"]["best"] == int(other["best"])


def test_a_full_releases_scope_is_the_datasets_not_the_analysts(db_url: str, release_files: dict[str, Any]) -> None:
    files = release_files
    api.import_file(db_url, files["a"], release="A")
    moved, redated = sorted(files["dropped"])[:2]
    api.set_field(db_url, f"UCDP-{moved}", "country", "AFG", why="checked")
    api.set_field(db_url, f"UCDP-{redated}", "date", "2014-12-31", why="checked")
    result = api.import_file(db_url, files["b"], release="B", full_release=True)
    assert result.withdrawn == len(files["dropped"])
    assert live_origins(db_url) == {row["id"] for row in files["rows_b"]}


def test_a_deletion_list_leaves_an_analysts_restore_alone(db_url: str, tmp_path: Path) -> None:
    _, rows = read_rows(ACLED_FILE)
    api.import_file(db_url, ACLED_FILE)
    listed = tmp_path / "deleted.csv"
    listed.write_text(f"event_id_cnty,deleted_timestamp\n{rows[0]['event_id_cnty']},1733011200.0\n",
                      encoding="utf-8")
    assert api.import_file(db_url, listed).withdrawn == 1
    api.restore_incident(db_url, f"ACLED-{rows[0]['event_id_cnty']}", why="ACLED was wrong to drop it")
    again = api.import_file(db_url, listed)
    assert again.withdrawn == 0 and any("analyst restored" in note for note in again.notes)
    assert f"ACLED-{rows[0]['event_id_cnty']}" in {row["key"] for row in api.incidents(db_url, limit=None)[0]}


def test_settling_takes_one_answer_and_an_edit_can_settle(db_url: str, release_files: dict[str, Any]) -> None:
    files = release_files
    api.import_file(db_url, files["a"], release="GED\t24.1")
    placed, tolled = f"UCDP-{files['placed']['id']}", f"UCDP-{files['tolled']['id']}"
    api.set_field(db_url, placed, "admin2", "Analyst District", why="checked")
    api.set_field(db_url, tolled, "killed_best", files["tolled"]["best"], why="checked")
    api.import_file(db_url, files["b"], release="GED 25.1", full_release=True)
    again = api.import_file(db_url, files["b"], release="GED 25.1")
    assert any("imported before" in note for note in again.notes)
    assert api.diff(db_url, "GED\t24.1", "GED 25.1")["counts"]["withdrawn"] == len(files["dropped"])
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", db_url, "conflicts", "settle", placed, "place", "--keep", "--take"])
    assert result.exit_code == 2 and "once" in result.output
    api.set_field(db_url, tolled, "killed_best", "auto", why="the reports decide")
    assert [c["key"] for c in api.conflicts(db_url)] == [placed]
    result = runner.invoke(cli, ["--db", db_url, "conflicts", "settle", placed, "place", "--take"])
    assert result.exit_code == 0 and "Moved " in result.output and "location_id" not in result.output


# What the second hostile review found.

def test_merged_records_links_and_reports_follow_releases_and_unmerges(db_url: str, tmp_path: Path) -> None:
    header, rows = read_rows(UCDP_FILE)
    keep, other, third = one_sided(rows, 0), one_sided(rows, 1), one_sided(rows, 2)
    groups = sorted({row["side_a"] for row in rows if row["type_of_violence"] == "3"} - {other["side_a"]})
    api.import_file(db_url, UCDP_FILE, release="A", full_release=True)
    api.merge(db_url, f"UCDP-{keep['id']}", f"UCDP-{other['id']}", why="one attack")
    old = [a["actor"] for a in api.show(db_url, f"UCDP-{other['id']}")["actors"] if a["role"] == "perpetrator"]
    edited = [dict(row) for row in rows if row["id"] != keep["id"]]
    for row in edited:
        if row["id"] == other["id"]:
            row["side_a"] = groups[0]
    changed = api.import_file(db_url, write_rows(tmp_path / "b.csv", header, edited), release="B", full_release=True)
    assert changed.withdrawn == 0  # KEEP stays: OTHER is merged into it
    moved = [r for r in api.diff(db_url, "A", "B")["changed"] if r["origin_id"] == keep["id"]][0]
    assert any(c["field"].startswith("killed_") for c in moved["changes"])  # its figures, recomputed, are in it
    back = api.import_file(db_url, UCDP_FILE, release="C", full_release=True)  # KEEP is in the release again
    assert back.restored >= 1
    reports = api.show(db_url, f"UCDP-{keep['id']}")["reports"]
    assert sorted(r["source"]["record_id"] for r in reports if r["source"]["dataset"] == "ucdp"
                  and not r.get("withdrawn")) == sorted([keep["id"], other["id"]])
    api.import_file(db_url, write_rows(tmp_path / "b2.csv", header, edited), release="D")
    api.unmerge(db_url, f"UCDP-{other['id']}", why="two attacks")
    after = [a["actor"] for a in api.show(db_url, f"UCDP-{other['id']}")["actors"] if a["role"] == "perpetrator"]
    assert old[0] not in after and len(after) == 1
    kept_links = api.show(db_url, f"UCDP-{keep['id']}")["actors"]
    assert all(other["id"] not in str(link["source"] or "") for link in kept_links)

    # A merged record a release withdrew, restored by hand: its report on the kept incident comes back too.
    api.merge(db_url, f"UCDP-{keep['id']}", f"UCDP-{third['id']}", why="one attack")
    dropped = write_rows(tmp_path / "e.csv", header, [row for row in rows if row["id"] != third["id"]])
    assert api.import_file(db_url, dropped, release="E", full_release=True).withdrawn == 1
    api.restore_incident(db_url, f"UCDP-{third['id']}", why="UCDP dropped it in error")
    reports = api.show(db_url, f"UCDP-{keep['id']}")["reports"]
    assert third["id"] in [r["source"]["record_id"] for r in reports if not r.get("withdrawn")]


def test_a_deletion_list_counts_a_kept_merge_target_once(db_url: str, tmp_path: Path) -> None:
    _, rows = read_rows(ACLED_FILE)
    api.import_file(db_url, ACLED_FILE)
    ids = [row["event_id_cnty"] for row in rows]
    api.merge(db_url, f"ACLED-{ids[4]}", f"ACLED-{ids[3]}", why="one attack")
    listed = tmp_path / "deleted.csv"
    listed.write_text(f"event_id_cnty,deleted_timestamp\n{ids[2]},2024-12-01 10:00:00\n{ids[4]},1733011200.5\n",
                      encoding="utf-8")
    result = api.import_file(db_url, listed)
    assert (result.withdrawn, result.unchanged) == (1, 1) and any("merged into" in n for n in result.notes)
    wide = tmp_path / "wide.csv"
    wide.write_text("event_id_cnty,deleted_timestamp\nPAK1,\uff11\uff17\uff13\uff13\uff10\uff10\uff10\uff10\uff10\uff10\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="deleted_timestamp"):
        api.import_file(db_url, wide)


def test_a_failed_tables_export_leaves_no_folder_and_diff_formats_agree(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from incidents.io import parquet

    api.import_file(db_url, UCDP_FILE, release="A")
    calls = []

    def failing(*args: Any) -> int:
        calls.append(args)
        if len(calls) == 3:
            raise OSError(errno.EFBIG, "File too large")
        return 0

    monkeypatch.setattr(parquet, "_stream", failing)
    with pytest.raises(Exception, match="nothing was written"):
        api.export(db_url, "tables", tmp_path / "new")
    assert not (tmp_path / "new").exists()
    result = CliRunner().invoke(cli, ["--db", db_url, "diff", "A", "--format", "csv", "--out", str(tmp_path / "d.json")])
    assert result.exit_code == 2 and not (tmp_path / "d.json").exists()
