"""Cross-source duplicates: the true pairs rank first, a merge counts the attack once and keeps every source's
account, and unmerge gives back exactly what was there. On both engines, on the real samples."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine
from incidents.errors import UsageError

from .conftest import FIXTURES

MASTUNG, KALAYA = "PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA"
UCDP_FILE = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"


def ucdp_row(district: str, day: str) -> dict[str, str]:
    """The UCDP row of Islamic State's attack in `district` within a day after `day`, read from the sample."""
    rows = [r for r in csv.DictReader(UCDP_FILE.open(encoding="utf-8"))
            if district in r["adm_2"] and r["side_a"] == "IS" and day <= r["date_start"][:10] <= day[:8] + "31"]
    assert len(rows) == 1, rows
    return rows[0]



@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, UCDP_FILE)
    return db_url


def test_duplicates_put_the_true_mastung_and_orakzai_pairs_on_top(url: str) -> None:
    mastung = ucdp_row("Mastung", "2018-07-13")
    kalaya = ucdp_row("Orakzai", "2018-11-23")
    pairs = api.duplicates(url, limit=10)
    top = [frozenset((p["a"], p["b"])) for p in pairs[:2]]
    assert set(top) == {frozenset((MASTUNG, f"UCDP-{mastung['id']}")), frozenset((KALAYA, f"UCDP-{kalaya['id']}"))}
    by_pair = {frozenset((p["a"], p["b"])): p for p in pairs}
    kalaya_pair = by_pair[frozenset((KALAYA, f"UCDP-{kalaya['id']}"))]
    assert kalaya_pair["days_apart"] == (int(kalaya["date_start"][8:10]) - 23)  # UCDP dates it a day later
    assert kalaya_pair["days_apart"] == 1
    assert all(p["score"] >= q["score"] for p, q in zip(pairs, pairs[1:], strict=False))  # best first
    assert api.duplicates(url, days=0, limit=10) and all(
        frozenset((p["a"], p["b"])) != frozenset((KALAYA, f"UCDP-{kalaya['id']}")) for p in api.duplicates(url, days=0))


def test_gtd_and_ucdp_rows_of_the_same_attacks_pair_up(url: str) -> None:
    api.import_file(url, FIXTURES / "gtd_format_sample.csv")
    pairs = {frozenset((p["a"], p["b"])): p for p in api.duplicates(url, limit=None)}
    kalaya = ucdp_row("Orakzai", "2018-11-23")
    assert frozenset(("GTD-201811239902", f"UCDP-{kalaya['id']}")) in pairs
    assert frozenset(("GTD-201811239902", KALAYA)) in pairs
    quetta = [p for key, p in pairs.items() if "UCDP-235882" in key]
    # Two GTD events in Quetta that day: the hospital bombing (toll close to UCDP's) ranks above the other.
    assert [p["a"] if p["b"] == "UCDP-235882" else p["b"] for p in sorted(quetta, key=lambda p: -p["score"])] == [
        "GTD-201608089905", "GTD-201608089906"]


def state(url: str, tmp_path: Path, name: str) -> tuple[dict, dict, bytes, list]:
    out = tmp_path / f"{name}.csv"
    api.export(url, "incidents", out)
    engine = make_engine(url)
    with engine.connect() as connection:
        view = connection.execute(text("SELECT * FROM group_summary ORDER BY actor")).all()
    engine.dispose()
    strip = lambda d: {k: v for k, v in d.items() if k != "updated_at"}  # noqa: E731
    return strip(api.show(url, KALAYA)), strip(api.show(url, "UCDP-275159")), out.read_bytes(), list(view)


def test_merge_counts_once_names_every_source_and_unmerge_round_trips_exactly(url: str, tmp_path: Path) -> None:
    kalaya = ucdp_row("Orakzai", "2018-11-23")
    other = f"UCDP-{kalaya['id']}"
    before = state(url, tmp_path, "before")
    listed_before = api.incidents(url, limit=None)[1]
    timeline_before = api.timeline(url, freq="year")["incidents"].sum()
    seed_reports, ucdp_reports = len(before[0]["reports"]), len(before[1]["reports"])

    result = api.merge(url, KALAYA, other, who="analyst1", why="same attack; UCDP dates it a day later")
    merged = api.show(url, KALAYA)
    assert len(merged["reports"]) == seed_reports + ucdp_reports == seed_reports + result["reports_moved"]
    assert all(r["source"]["url"] or r["source"]["citation"] for r in merged["reports"])  # every figure's source
    assert merged["merged"] == [{"key": other, "origin": f"ucdp {kalaya['id']}"}]
    assert api.show(url, other)["merged_into"] == KALAYA
    assert api.incidents(url, limit=None)[1] == listed_before - 1
    assert other not in {r["key"] for r in api.incidents(url, limit=None)[0]}
    assert api.timeline(url, freq="year")["incidents"].sum() == timeline_before - 1
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM incident_report WHERE key = :k"), {"k": other}).scalar() == 0
    engine.dispose()
    # Before the merge (any day before today) the two stood apart.
    then = api.show(url, other, as_of="2025-01-01")
    assert then["merged_into"] is None and then["reports"]
    assert all(r in before[1]["reports"] for r in then["reports"])  # its own reports (those published by then)
    assert other in {r["key"] for r in api.incidents(url, limit=None, as_of="2025-01-01")[0]}
    changes = [(h["field"], h["new"], h["by"]) for h in api.history(url, other)]
    assert ("merged_into", KALAYA, "analyst1") in changes
    # A re-import of the UCDP file still finds the merged record by its origin id: nothing changes.
    again = api.import_file(url, UCDP_FILE)
    assert again.inserted == 0 and again.updated == 0

    api.unmerge(url, other, who="analyst1", why="checking the round trip")
    after = state(url, tmp_path, "after")
    assert after[0] == before[0] and after[1] == before[1]
    assert after[2] == before[2]  # the native export, byte for byte
    assert after[3] == before[3]  # the group_summary view
    with pytest.raises(UsageError, match="not merged"):
        api.unmerge(url, other)


def test_disagreeing_attributions_survive_a_merge_each_with_its_source(url: str) -> None:
    api.import_file(url, FIXTURES / "gtd_format_sample.csv")
    gtd, ucdp = api.show(url, "GTD-201608089905"), api.show(url, "UCDP-235882")
    gtd_says = {(a["actor"], a["attribution"], a["source"]) for a in gtd["actors"] if a["role"] == "perpetrator"}
    ucdp_says = {(a["actor"], a["attribution"], a["source"]) for a in ucdp["actors"] if a["role"] == "perpetrator"}
    assert {a for a, _, _ in gtd_says} != {a for a, _, _ in ucdp_says}  # GTD: ISKP (and JuA); UCDP: TTP
    api.merge(url, "UCDP-235882", "GTD-201608089905", why="Quetta Civil Hospital, 8 August 2016")
    merged = {(a["actor"], a["attribution"], a["source"]) for a in api.show(url, "UCDP-235882")["actors"]
              if a["role"] == "perpetrator"}
    assert merged == gtd_says | ucdp_says
    summary = api.summary(url)
    iskp = summary[summary["group"] == "Islamic State Khorasan Province"]
    assert not iskp.empty


def test_merge_refuses_clearly(url: str) -> None:
    with pytest.raises(UsageError, match="into itself"):
        api.merge(url, KALAYA, KALAYA)
    api.merge(url, KALAYA, "UCDP-275159")
    with pytest.raises(UsageError, match="already merged"):
        api.merge(url, MASTUNG, "UCDP-275159")
    result = CliRunner().invoke(cli, ["--db", url, "merge", MASTUNG, "NO-SUCH-KEY"])
    assert result.exit_code == 3 and "No incident with key" in result.output


def test_cli_duplicates_merge_unmerge(url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", url, "duplicates", "--limit", "2"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert MASTUNG in result.output and KALAYA in result.output
    result = runner.invoke(cli, ["--db", url, "merge", KALAYA, "UCDP-275159", "--why", "same attack"])
    assert result.exit_code == 0 and "Merged UCDP-275159 into PAK-2018-11-23-KALAYA" in result.output
    result = runner.invoke(cli, ["--db", url, "show", KALAYA], env={"COLUMNS": "160"})
    assert "Merged here" in result.output and "UCDP-275159" in result.output
    result = runner.invoke(cli, ["--db", url, "unmerge", "UCDP-275159"])
    assert result.exit_code == 0 and "stands apart" in result.output


def test_a_record_typed_without_coordinates_pairs_by_its_towns_point(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    api.import_file(db_url, FIXTURES / "acled_format_sample.csv")
    row = next(r for r in csv.DictReader((FIXTURES / "acled_format_sample.csv").open(encoding="utf-8"))
               if r["event_id_cnty"] == "PAK99906")
    # The same attack typed in by hand from the sample's own sources, with a province but no coordinates.
    added = api.add(db_url, date=row["event_date"], country="PAK", admin1=row["admin1"], place=row["location"],
                    killed=row["fatalities"], citation="fixtures/acled_format_sample.csv, PAK99906",
                    new=True)["key"]  # add would stop at the ACLED record: this test wants the pair
    pairs = api.duplicates(db_url, limit=None)
    pair = next(p for p in pairs if {p["a"], p["b"]} == {added, "ACLED-PAK99906"})
    assert pair["toll_score"] == 1.0
    # The gazetteer gave the typed record its town's point (docs/places.md); the pair is as far apart as that
    # point is from ACLED's, computed here from the gazetteer's file.
    with (FIXTURES / "geonames_towns_pk_af.csv").open(encoding="utf-8", newline="") as handle:
        town = next(t for t in csv.DictReader(handle) if t["country"] == "PK" and t["name"] == row["location"])
    assert api.show(db_url, added)["location"]["geo_precision"] == "gazetteer_place"
    lat1, lon1, lat2, lon2 = map(math.radians, (float(row["latitude"]), float(row["longitude"]),
                                                float(town["latitude"]), float(town["longitude"])))
    km = 2 * 6371.0088 * math.asin(math.sqrt(math.sin((lat2 - lat1) / 2) ** 2
                                             + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2))
    assert pair["km_apart"] == pytest.approx(km, abs=0.15)


def test_a_denial_is_no_shared_perpetrator(db_url: str) -> None:
    """Two records of one day and place, one claimed by BLA and one where TTP denied it: TTP is not shared."""
    api.load(db_url, [FIXTURES / "actors.yaml"])
    common: dict[str, Any] = {"date": "2019-05-10", "country": "PAK", "admin1": "Balochistan", "place": "Quetta",
                              "killed": 4}
    a = api.add(db_url, **common, citation="test record A", perpetrators=["TTP=denied", "BLA=claimed"])["key"]
    b = api.add(db_url, **common, citation="test record B", perpetrators=["TTP=denied"], new=True)["key"]
    pair = next(p for p in api.duplicates(db_url, limit=None) if {p["a"], p["b"]} == {a, b})
    assert pair["shared_perpetrators"] == []


def test_a_claim_outranks_a_denial_whichever_record_is_kept(db_url: str) -> None:
    """K has TTP denied (and BLA claimed), O has TTP claimed: merged either way, the attack is TTP's; unmerged,
    each record has its own word back."""
    api.load(db_url, [FIXTURES / "actors.yaml"])
    for keep_first in (True, False):
        common: dict[str, Any] = {"date": "2019-06-01" if keep_first else "2019-06-02", "country": "PAK"}
        k = api.add(db_url, **common, citation=f"test K {keep_first}", perpetrators=["TTP=denied", "BLA=claimed"])
        o = api.add(db_url, **common, citation=f"test O {keep_first}", perpetrators=["TTP=claimed"])
        keep, other = (k["key"], o["key"]) if keep_first else (o["key"], k["key"])
        api.merge(db_url, keep, other, why="test")
        ttp = {a["actor"]: a["attribution"] for a in api.show(db_url, keep)["actors"]}
        assert ttp["Tehrik-i-Taliban Pakistan"] == "claimed" and ttp["Baloch Liberation Army"] == "claimed"
        assert api.incidents(db_url, actor="TTP", since=common["date"], until=common["date"])[1] == 1
        api.unmerge(db_url, other)
        back = {key: {a["actor"]: a["attribution"] for a in api.show(db_url, key)["actors"]}
                for key in (k["key"], o["key"])}
        assert back[k["key"]]["Tehrik-i-Taliban Pakistan"] == "denied"
        assert back[o["key"]]["Tehrik-i-Taliban Pakistan"] == "claimed"


def test_a_pair_judged_two_attacks_stays_out_of_duplicates(url: str) -> None:
    """`not-duplicate` keeps the judgement with who and why; `duplicates` leaves that pair out and no other;
    judging it again keeps the first judgement; a merge of the pair is still possible by hand."""
    before = api.duplicates(url, limit=None)
    top = before[-1]  # the weakest candidate
    runner = CliRunner()
    judged = runner.invoke(cli, ["--db", url, "not-duplicate", top["b"], top["a"], "--why", "two attacks",
                                 "--by", "analyst1"])
    assert judged.exit_code == 0, judged.output
    after = api.duplicates(url, limit=None)
    assert len(before) > 1 and [(p["a"], p["b"]) for p in after] == [(p["a"], p["b"]) for p in before[:-1]]
    again = runner.invoke(cli, ["--db", url, "not-duplicate", top["a"], top["b"], "--why", "again"])
    assert again.exit_code == 0 and "judged two attacks already, by analyst1: two attacks" in again.output
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT decided_by, reason FROM not_duplicates")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("analyst1", "two attacks")]
    refused = runner.invoke(cli, ["--db", url, "not-duplicate", top["a"], top["a"], "--why", "x"])
    assert refused.exit_code == 2 and "are one incident" in refused.stderr
    missing = runner.invoke(cli, ["--db", url, "not-duplicate", top["a"], top["b"]])
    assert missing.exit_code == 2 and "--why" in missing.stderr
