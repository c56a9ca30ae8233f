"""`--as-of DATE`: what did we know at the end of that day? Reports count from their publication date, later
edits are undone, and list, show, timeline, summary and export all answer from the same snapshot."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import text

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine
from incidents.errors import FieldError, UsageError

from .conftest import FIXTURES

BAJAUR = "PAK-2023-07-30-KHAR"
KALAYA = "PAK-2018-11-23-KALAYA"


def fixture_reports(key: str) -> list[dict]:
    data = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))
    return next(i for i in data["incidents"] if i["key"] == key)["reports"]


def known_range(key: str, day: date) -> tuple[int, int]:
    """The killed range the fixture's settled reports published by `day` give, read from the YAML itself."""
    killed = [r["killed"] for r in fixture_reports(key)
              if isinstance(r["source"], dict) and r["source"].get("published_on") and r["source"]["published_on"] <= day
              and not r.get("preliminary") and r.get("killed") is not None]
    return min(killed), max(killed)


@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    return db_url


def test_what_did_we_know_about_bajaur_on_31_july_2023(url: str) -> None:
    now = api.show(url, BAJAUR)
    then = api.show(url, BAJAUR, as_of="2023-07-31")
    assert then["as_of"] == "2023-07-31"
    published = {r["source"]["published_on"] for r in then["reports"]}
    assert published and max(published) <= "2023-07-31"  # nothing published later
    dated = [r for r in fixture_reports(BAJAUR) if isinstance(r["source"], dict)
             and r["source"].get("published_on") and r["source"]["published_on"] <= date(2023, 7, 31)]
    assert len(then["reports"]) == len(dated) < len(now["reports"])
    low, high = known_range(BAJAUR, date(2023, 7, 31))
    assert (then["killed"]["low"], then["killed"]["high"]) == (low, high)
    assert then["killed"]["best"] != now["killed"]["best"]  # the analyst's 63 came later
    assert then["actors"] == []  # the claim's only source was published on 1 August
    after_claim = api.show(url, BAJAUR, as_of="2023-08-01")
    assert [(a["actor"], a["attribution"]) for a in after_claim["actors"]] == [
        ("Islamic State Khorasan Province", "claimed")]
    low, high = known_range(BAJAUR, date(2023, 8, 3))
    assert (api.show(url, BAJAUR, as_of="2023-08-03")["killed"]["low"],
            api.show(url, BAJAUR, as_of="2023-08-03")["killed"]["high"]) == (low, high)


def recorded_years_ago(url: str, key: str) -> None:
    """Date the incident's creation in 2020, so that an --as-of of yesterday still has it."""
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE incidents SET created_at = :t WHERE key = :k"),
                           {"t": "2020-01-01 00:00:00", "k": key})
    engine.dispose()


def test_later_edits_are_undone_and_history_shows_them(url: str) -> None:
    recorded_years_ago(url, KALAYA)
    before = api.show(url, KALAYA)
    api.set_field(url, KALAYA, "status", "disputed", why="a later source doubts the attribution")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert api.show(url, KALAYA, as_of=yesterday)["status"] == before["status"] != "disputed"
    assert api.show(url, KALAYA, as_of=date.today().isoformat())["status"] == "disputed"
    assert [(h["field"], h["old"], h["new"]) for h in api.history(url, KALAYA) if h["field"] == "status"] == [
        ("status", before["status"], "disputed")]
    listed, _ = api.incidents(url, as_of=yesterday, status=[before["status"]])
    assert KALAYA in {row["key"] for row in listed}


def test_every_reading_command_answers_as_of(url: str, tmp_path: Path) -> None:
    keys_then = {row["key"] for row in api.incidents(url, as_of="2018-07-31")[0]}
    keys_now = {row["key"] for row in api.incidents(url)[0]}
    assert "PAK-2018-07-13-MASTUNG" in keys_then and BAJAUR not in keys_then and BAJAUR in keys_now
    assert api.timeline(url, freq="year", as_of="2018-12-31")["incidents"].sum() < api.timeline(
        url, freq="year")["incidents"].sum()
    out = tmp_path / "then.csv"
    assert api.export(url, "incidents", out, as_of="2023-07-31") == 3
    row = next(r for r in csv.DictReader(out.open(encoding="utf-8")) if r["key"] == BAJAUR)
    assert int(row["killed_high"]) == known_range(BAJAUR, date(2023, 7, 31))[1]
    groups = api.summary(url, as_of="2023-07-31")
    iskp = groups[groups["group"] == "Islamic State Khorasan Province"]["incidents"].iloc[0]
    now = api.summary(url)
    assert iskp == now[now["group"] == "Islamic State Khorasan Province"]["incidents"].iloc[0] - 1  # not Bajaur yet
    result = CliRunner().invoke(cli, ["--db", url, "show", BAJAUR, "--as-of", "2023-07-31"])
    assert result.exit_code == 0 and "As known at the end of 2023-07-31" in result.output
    result = CliRunner().invoke(cli, ["--db", url, "list", "--as-of", "31 July"])
    assert result.exit_code == 2 and "--as-of '31 July' is not a date" in result.output
    with pytest.raises(UsageError):
        api.show(url, BAJAUR, as_of="yesterday")


def test_the_snapshot_is_the_same_whatever_its_batch_size(url: str, monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    from incidents.analysis import asof

    api.import_file(url, FIXTURES / "ucdp_ged_pakistan_2015_2021.csv")
    api.merge(url, KALAYA, "UCDP-275159", why="same attack")  # a merge made today: undone in any earlier snapshot
    answers = []
    for batch in (20_000, 7, 1):  # one batch; batches that split the merged pair apart; one incident a batch
        monkeypatch.setattr(asof, "BATCH", batch)
        out = tmp_path / f"batch{batch}.csv"
        api.export(url, "incidents", out, as_of="2019-06-30")
        answers.append((out.read_bytes(), api.show(url, KALAYA, as_of="2019-06-30"),
                        api.show(url, "UCDP-275159", as_of="2019-06-30")))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][2]["merged_into"] is None and answers[0][1]["merged"] == []


def test_summary_and_gaps_count_days_to_the_day_asked_about(url: str) -> None:
    groups = api.summary(url, as_of="2023-07-31")
    iskp = groups[groups["group"] == "Islamic State Khorasan Province"].iloc[0]
    assert iskp["days_since_last"] == (date(2023, 7, 31) - date.fromisoformat(str(iskp["last_attack"]))).days
    assert api.gaps(url, as_of="2023-07-31").groups.attrs["as_of"] == date(2023, 7, 31)
    result = CliRunner().invoke(cli, ["--db", url, "list", "--as-of", "2023-07-31"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "As known at the end of 2023-07-31" in result.output
    assert "As known" not in CliRunner().invoke(cli, ["--db", url, "list"]).output


def test_every_curated_field_can_be_corrected_and_as_of_undoes_it(url: str) -> None:
    """The date (at any precision), its end and the place (country, province, district, place, coordinates)
    are corrected with `set`; each correction is in `history` in words, and `--as-of` the day before gives the
    incident as it was."""
    recorded_years_ago(url, KALAYA)
    before = api.show(url, KALAYA)
    changes = [("date", "2018-11"), ("date_end", "2018-11-30"), ("admin2", "Orakzai District"),
               ("place", "Kalaya bazaar"), ("coordinates", "33.69, 70.97"), ("geo_precision", "place"),
               ("attack_type", "Bombing"), ("title", "Kalaya market bombing")]
    for field, value in changes:
        api.set_field(url, KALAYA, field, value, why="a correction from the article")
    after = api.show(url, KALAYA)
    assert (after["date"], after["date_precision"], after["date_end"]) == ("2018-11", "month", "2018-11-30")
    place = after["location"]
    assert (place["admin2"], place["place"], place["latitude"], place["longitude"], place["geo_precision"]) == (
        "Orakzai District", "Kalaya bazaar", 33.69, 70.97, "place")
    assert place["country"] == before["location"]["country"] and place["admin1"] == before["location"]["admin1"]
    fields = [h["field"] for h in api.history(url, KALAYA) if h["why"] == "a correction from the article"]
    assert {"date_start", "date_precision", "date_end", "location_id", "attack_type", "title"} <= set(fields)
    moved = [h for h in api.history(url, KALAYA) if h["field"] == "location_id"]
    assert "Kalaya bazaar" in moved[-1]["new"] and "Kalaya bazaar" not in moved[0]["old"]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    then = api.show(url, KALAYA, as_of=yesterday)
    for name in ("date", "date_precision", "date_end", "location", "attack_type", "title"):
        assert then[name] == before[name], name
    with pytest.raises(FieldError, match="date_end '2018-10-01' is before the date"):
        api.set_field(url, KALAYA, "date_end", "2018-10-01", why="a mistake")
    with pytest.raises(FieldError, match="coordinates '33.69' is not 'LATITUDE, LONGITUDE'"):
        api.set_field(url, KALAYA, "coordinates", "33.69", why="a mistake")
    assert api.show(url, KALAYA) == after  # a refused correction changes nothing
