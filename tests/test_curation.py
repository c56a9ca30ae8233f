"""Curation: withdraw (delete) and restore an incident or a report, add, change and remove perpetrators; each
change in `history` and honoured by `--as-of`; on both engines, on the seed incidents and the UCDP sample."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine
from incidents.errors import FieldError, InputError, NotFoundError, UsageError

from .conftest import FIXTURES

KHAR = "PAK-2023-07-30-KHAR"
UCDP_FILE = FIXTURES / "ucdp_ged_pakistan_2015_2021.csv"
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    return db_url


def views(url: str) -> dict[str, list[Any]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = {name: [tuple(row) for row in connection.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2"))]
                 for name in ("incident_report", "group_summary", "monthly_activity")}
    engine.dispose()
    return found


def everything(url: str, tmp_path: Path, name: str) -> tuple[bytes, dict[str, list[Any]], dict[str, Any]]:
    """The native export (bytes), the three views and `show` of Khar (but the time of its last change)."""
    out = tmp_path / f"{name}.csv"
    api.export(url, "incidents", out)
    shown = {k: v for k, v in api.show(url, KHAR).items() if k != "updated_at"}
    return out.read_bytes(), views(url), shown


def test_delete_leaves_every_listing_count_view_and_export_and_restore_round_trips(url: str, tmp_path: Path) -> None:
    before = everything(url, tmp_path, "before")
    listed, total = api.incidents(url, limit=None)
    groups = api.summary(url)
    iskp_before = int(groups.loc[groups["group"] == "Islamic State Khorasan Province", "incidents"].iloc[0])
    timeline_before = int(api.timeline(url, freq="year")["incidents"].sum())

    api.delete(url, KHAR, why="test: checking withdrawal", who="analyst1")
    shown = api.show(url, KHAR)
    assert shown["withdrawn"]["why"] == "test: checking withdrawal" and shown["withdrawn"]["by"] == "analyst1"
    assert KHAR not in {row["key"] for row in api.incidents(url, limit=None)[0]}
    assert api.incidents(url, limit=None)[1] == total - 1
    groups = api.summary(url)
    iskp = groups.loc[groups["group"] == "Islamic State Khorasan Province", "incidents"]
    assert (int(iskp.iloc[0]) if len(iskp) else 0) == iskp_before - 1
    assert int(api.timeline(url, freq="year")["incidents"].sum()) == timeline_before - 1
    assert KHAR not in {row["key"] for row in api.event_log(url).to_dict("records")}
    assert KHAR not in {row[0] for row in views(url)["incident_report"]}
    out = tmp_path / "during.csv"
    api.export(url, "incidents", out)
    assert KHAR not in out.read_text(encoding="utf-8")
    assert all(KHAR not in (pair["a"], pair["b"]) for pair in api.duplicates(url, days=366, km=1000, limit=None))
    assert ("withdrawn_at", "analyst1") in {(h["field"], h["by"]) for h in api.history(url, KHAR)}
    # The day before, it was there.
    assert KHAR in {row["key"] for row in api.incidents(url, limit=None, as_of=YESTERDAY)[0]}
    with pytest.raises(UsageError, match="already withdrawn"):
        api.delete(url, KHAR, why="twice")
    with pytest.raises(UsageError, match="is withdrawn; restore it first"):
        api.merge(url, "PAK-2018-07-13-MASTUNG", KHAR)

    api.restore_incident(url, KHAR)
    assert everything(url, tmp_path, "after") == before  # export byte for byte, views, show
    with pytest.raises(UsageError, match="not withdrawn"):
        api.restore_incident(url, KHAR)


def test_delete_needs_a_reason_and_a_real_key(url: str) -> None:
    with pytest.raises(FieldError, match="why"):
        api.delete(url, KHAR, why="  ")
    with pytest.raises(NotFoundError, match="Did you mean"):
        api.delete(url, KHAR[:-1], why="typo")
    assert api.show(url, KHAR)["withdrawn"] is None


def test_a_reimport_does_not_bring_a_withdrawn_incident_back_and_says_so(db_url: str) -> None:
    api.import_file(db_url, UCDP_FILE)
    rows, total = api.incidents(db_url, limit=3)
    key = rows[0]["key"]
    api.delete(db_url, key, why="test: not an attack")
    again = api.import_file(db_url, UCDP_FILE)
    assert again.inserted == 0
    assert any(key in note and "stay withdrawn" in note for note in again.notes)
    assert api.incidents(db_url, limit=None)[1] == total - 1
    assert api.show(db_url, key)["withdrawn"] is not None


def test_a_withdrawn_report_leaves_the_figures_and_comes_back(url: str) -> None:
    shown = api.show(url, KHAR)
    settled = [r for r in shown["reports"] if not r["preliminary"]]
    withdrawn = next(r for r in settled if r["wounded"] is not None)  # the one settled report with wounded
    rest = [r["wounded"] for r in settled if r is not withdrawn and r["wounded"] is not None]

    result = api.report_delete(url, KHAR, str(withdrawn["source"]["id"]), why="test: misread")
    assert result["source_id"] == withdrawn["source"]["id"]
    after = api.show(url, KHAR)
    assert after["wounded"]["low"] == (min(rest) if rest else None)
    assert after["wounded"]["high"] == (max(rest) if rest else None)
    marked = next(r for r in after["reports"] if r["source"]["id"] == withdrawn["source"]["id"])
    assert marked["withdrawn"]["why"] == "test: misread"
    assert api.show(url, KHAR, as_of=YESTERDAY)["wounded"]["high"] == shown["wounded"]["high"]
    # The source named by its URL works as well as by its id.
    api.report_restore(url, KHAR, withdrawn["source"]["url"])
    assert api.show(url, KHAR)["wounded"] == shown["wounded"]
    with pytest.raises(NotFoundError, match="has no report from the source"):
        api.report_delete(url, KHAR, "https://example.org/not-a-source-of-it", why="x")
    # A whole source: every report it gives, of every incident, is withdrawn, and comes back.
    article = next(r["source"]["id"] for r in shown["reports"] if r["source"]["citation"]
                   and "New Delhi" in r["source"]["citation"])
    reporting = {key for key in (KHAR, "PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA")
                 if any(r["source"]["id"] == article for r in api.show(url, key)["reports"])}
    assert api.source_delete(url, article, why="test: unnamed officials")["incidents"] == sorted(reporting)
    assert all(r["withdrawn"] for key in reporting for r in api.show(url, key)["reports"]
               if r["source"]["id"] == article)
    api.source_restore(url, article)
    assert api.show(url, KHAR)["killed"] == shown["killed"]
    with pytest.raises(UsageError, match="no withdrawn report"):
        api.source_restore(url, article)


def test_perpetrators_add_set_remove_with_history_and_as_of(url: str) -> None:
    link = api.show(url, KHAR)["actors"][0]
    assert link["attribution"] == "claimed"
    api.perpetrator_add(url, KHAR, "TTP", attribution="denied", why="test: the TTP denied it")
    actors = {a["actor"]: a["attribution"] for a in api.show(url, KHAR)["actors"]}
    assert actors["Tehrik-i-Taliban Pakistan"] == "denied"  # found by its alias
    with pytest.raises(UsageError, match="already names"):
        api.perpetrator_add(url, KHAR, "Tehreek-e-Taliban Pakistan")
    with pytest.raises(NotFoundError, match="did you mean 'Tehrik-i-Taliban Pakistan'"):
        api.perpetrator_add(url, KHAR, "Tehrik-e-Taliban Pakistan")  # no alias: refused, not a new group
    assert "Tehrik-e-Taliban Pakistan" not in {a["name"] for a in api.actors(url)}
    api.perpetrator_set(url, KHAR, "ISKP", attribution="suspected", why="test")
    assert {a["actor"]: a["attribution"] for a in api.show(url, KHAR)["actors"]}[link["actor"]] == "suspected"
    api.perpetrator_remove(url, KHAR, "IS-K", why="test: removal")
    assert link["actor"] not in {a["actor"] for a in api.show(url, KHAR)["actors"]}
    with pytest.raises(NotFoundError, match="does not name"):
        api.perpetrator_remove(url, KHAR, "IS-K", why="again")
    with pytest.raises(NotFoundError, match="not in the registry"):
        api.perpetrator_set(url, KHAR, "No Such Group", attribution="claimed")

    changes = [(h["field"], h["old"], h["new"]) for h in api.history(url, KHAR) if h["table"] == "incident_actors"]
    assert ("attribution", "claimed", "suspected") in changes
    assert any(field == "link" and old is None and new.startswith("Tehrik-i-Taliban Pakistan (denied)")
               for field, old, new in changes)
    assert any(field == "link" and new is None and old.startswith(f"{link['actor']} (suspected)")
               for field, old, new in changes)
    # The day before: the claim as it stood, and no TTP link (added today, with no source).
    then = {a["actor"]: a["attribution"] for a in api.show(url, KHAR, as_of=YESTERDAY)["actors"]}
    assert then == {link["actor"]: "claimed"}
    groups = api.summary(url)
    assert "Islamic State Khorasan Province" not in set(groups["group"]) or int(groups.loc[
        groups["group"] == "Islamic State Khorasan Province", "incidents"].iloc[0]) < int(
        api.summary(url, as_of=YESTERDAY).set_index("group").loc["Islamic State Khorasan Province", "incidents"])


def test_cli_delete_restore_and_perpetrators(url: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["--db", url, *args], env={"COLUMNS": "200"})

    result = run("delete", KHAR)
    assert result.exit_code == 2 and "--why" in result.output
    result = run("delete", KHAR, "--why", "test: not one of ours")
    assert result.exit_code == 0, result.output
    shown = run("show", KHAR)
    assert "WITHDRAWN" in shown.output and "test: not one of ours" in shown.output
    assert KHAR not in run("list").output
    assert run("restore", KHAR).exit_code == 0
    assert KHAR in run("list").output
    result = run("perpetrators", "add", KHAR, "TTP", "--attribution", "denied", "--why", "test")
    assert result.exit_code == 0 and "Tehrik-i-Taliban Pakistan (denied)" in result.output
    result = run("perpetrators", "remove", KHAR, "TTP", "--why", "test")
    assert result.exit_code == 0, result.output
    result = run("perpetrators", "remove", KHAR, "TTP", "--why", "test")
    assert result.exit_code != 0 and "does not name" in result.output and "Traceback" not in result.output
    source = api.show(url, KHAR)["reports"][0]["source"]["id"]
    result = run("report", "delete", KHAR, str(source), "--why", "test")
    assert result.exit_code == 0 and "Killed now" in result.output
    listed = json.loads(run("show", KHAR, "--json").output)
    assert sum(1 for r in listed["reports"] if r["withdrawn"]) == 1


# ---- recording from the seed article (the curation issue's "done when")

SEED_ARTICLE = FIXTURES / "seed_article.txt"


def _seed_without_the_article(tmp_path: Path) -> Path:
    """The seed fixture with the seed article's three reports taken out, beside a copy of the article."""
    import yaml

    data = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))
    for incident in data["incidents"]:
        incident["reports"] = [r for r in incident["reports"] if r["source"] != "seed-article"]
    (tmp_path / "seed_article.txt").write_bytes(SEED_ARTICLE.read_bytes())
    path = tmp_path / "seed_without_article.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _article_facts() -> tuple[str, str, int]:
    """The article's citation (as the fixture gives it), its sentence about the three attacks, and the Bajaur toll
    that sentence states: read from the files, not typed here."""
    import re

    import yaml

    data = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))
    citation = next(s["citation"] for s in data["sources"] if s["ref"] == "seed-article")
    text = SEED_ARTICLE.read_text(encoding="utf-8")
    sentence = next(s.strip() + "." for s in text.split(".") if "Bajaur" in s and "Mastung" in s)
    killed = re.search(r"Bajaur killed (\d+)", sentence)
    assert killed is not None
    return citation, sentence, int(killed.group(1))


def test_the_seed_articles_three_attacks_are_recorded_as_reports_once_each(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", _seed_without_the_article(tmp_path)])
    citation, sentence, bajaur_killed = _article_facts()
    before = {key: len(api.show(db_url, key)["reports"])
              for key in (KHAR, "PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA")}
    runner = CliRunner()
    commands = {key: ["--db", db_url, "report", "add", key, "--citation", citation, "--text-file", str(SEED_ARTICLE),
                      "--excerpt", sentence, "--perpetrator", "ISKP", "--attribution", "attributed"]
                + (["--killed", str(bajaur_killed)] if key == KHAR else [])
                for key in before}
    for key, command in commands.items():
        result = runner.invoke(cli, command)
        assert result.exit_code == 0 and "Added the report" in result.output, result.output
        report = next(r for r in api.show(db_url, key)["reports"] if r["source"]["citation"] == citation)
        assert report["excerpt"] == sentence and report["excerpt_verified"] is True
        assert report["killed"] == (bajaur_killed if key == KHAR else None)
    for command in commands.values():  # a second run adds nothing
        result = runner.invoke(cli, command)
        assert result.exit_code == 0 and "Nothing added" in result.output, result.output
    assert {key: len(api.show(db_url, key)["reports"]) for key in before} == {k: n + 1 for k, n in before.items()}
    assert sum(1 for s in api.sources(db_url, limit=None)[0] if s["citation"] == citation) == 1
    # Recording Bajaur again as the article words it stops at the seed incident.
    result = runner.invoke(cli, ["--db", db_url, "add", "--date", "2023", "--country", "Pakistan", "--admin2", "Bajaur",
                                 "--killed", str(bajaur_killed), "--citation", citation])
    assert result.exit_code == 2 and KHAR in result.output
    # A different account from the same source is refused, naming what differs.
    result = runner.invoke(cli, commands[KHAR][:-1] + [str(bajaur_killed + 1)])
    assert result.exit_code == 2 and f"killed {bajaur_killed + 1} (stored: {bajaur_killed})" in result.output


def test_a_file_of_records_goes_through_the_same_checks_all_or_nothing(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", _seed_without_the_article(tmp_path)])
    citation, sentence, bajaur_killed = _article_facts()
    (tmp_path / "article.txt").write_bytes(SEED_ARTICLE.read_bytes())
    rows = tmp_path / "records.csv"
    rows.write_text(
        "report_of,citation,text_file,excerpt,killed,perpetrators\n"
        + "".join(f'{key},"{citation}",article.txt,"{sentence}",{bajaur_killed if key == KHAR else ""},'
                  "ISKP=attributed\n" for key in (KHAR, "PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA")),
        encoding="utf-8")
    counts = api.counts(db_url)
    first = api.add_many(db_url, rows)
    assert sorted(first["reported"]) == sorted([KHAR, "PAK-2018-07-13-MASTUNG", "PAK-2018-11-23-KALAYA"])
    assert api.counts(db_url)["reports"] == counts["reports"] + 3
    second = api.add_many(db_url, rows)
    assert second["reported"] == [] and sorted(second["already"]) == sorted(first["reported"])
    assert api.counts(db_url)["reports"] == counts["reports"] + 3

    # A YAML of new records: one good, one that may be Bajaur, one with a toll that gives no figure.
    batch = tmp_path / "records.yaml"
    batch.write_text(
        "- {date: 30 July 2023, country: PAK, admin2: Bajaur, killed: 'at least 54', citation: test batch}\n"
        "- {date: 2023, country: PAK, admin2: Bajaur, killed: 60, citation: test batch second}\n"
        "- {date: 2018-07-13, country: PAK, admin2: Bannu, killed: dozens, citation: test batch third}\n",
        encoding="utf-8")
    counts = api.counts(db_url)
    with pytest.raises(InputError) as refused:
        api.add_many(db_url, batch)
    message = str(refused.value)
    assert "records.yaml:1: This may be an incident already recorded: PAK-2023-07-30-KHAR" in message
    assert "records.yaml:2: This may be" in message and "new: true" in message
    assert "records.yaml:3: field killed 'dozens' gives no figure" in message
    assert api.counts(db_url) == counts  # nothing was written
    batch.write_text("- {date: 30 July 2023, country: PAK, admin2: Bajaur, killed: 'at least 54', "
                     "citation: test batch, new: true}\n", encoding="utf-8")
    added = api.add_many(db_url, batch)
    assert len(added["added"]) == 1
    assert api.show(db_url, added["added"][0])["reports"][0]["killed_at_least"] is True
    assert api.add_many(db_url, batch)["added"] == []  # a second run adds nothing


@pytest.mark.parametrize("written,day,precision", [
    ("30 July 2023", "2023-07-30", "day"), ("July 30, 2023", "2023-07-30", "day"),
    ("30th of July 2023", "2023-07-30", "day"), ("July 2023", "2023-07-01", "month"), ("Sept. 2018", "2018-09-01", "month"),
])
def test_a_date_as_an_article_writes_it(written: str, day: str, precision: str) -> None:
    from incidents.records import parse_partial_date

    parsed, found = parse_partial_date(written)
    assert (parsed.isoformat(), found.value) == (day, precision)
    with pytest.raises(FieldError, match="is not a real date"):
        parse_partial_date(written.replace("30", "31").replace("July", "June") if "30" in written else "31 June 2023")


def test_duplicates_pair_a_year_dated_record_with_the_day_records_of_its_district_and_year(db_url: str) -> None:
    import csv

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    api.import_file(db_url, UCDP_FILE)
    coarse = api.add(db_url, date="2018", country="PAK", admin2="Mastung", perpetrators=["ISKP"],
                     citation="test record: a year-dated Mastung attack", new=True)["key"]
    pairs = [p for p in api.duplicates(db_url, limit=None) if coarse in (p["a"], p["b"])]
    found = {p["b"] if p["a"] == coarse else p["a"] for p in pairs}
    # Expected from the raw file: UCDP's day-dated (date_prec 1-3) records of 2018 in Mastung.
    expected = {f"UCDP-{row['id']}" for row in csv.DictReader(UCDP_FILE.open(encoding="utf-8"))
                if row["date_start"][:4] == "2018" and "Mastung" in row["adm_2"]
                and row["date_prec"] in ("1", "2", "3")}
    expected.add("PAK-2018-07-13-MASTUNG")
    assert expected and found == expected
    assert all(p["coarse_date"] == "2018" and p["days_apart"] == 0 for p in pairs)
    seed = next(p for p in pairs if "PAK-2018-07-13-MASTUNG" in (p["a"], p["b"]))
    assert seed["shared_perpetrators"] == ["Islamic State"]
    api.not_duplicate(db_url, coarse, "PAK-2018-07-13-MASTUNG", why="test: judged two attacks")
    assert all("PAK-2018-07-13-MASTUNG" not in (p["a"], p["b"])
               for p in api.duplicates(db_url, limit=None) if coarse in (p["a"], p["b"]))


def test_every_seed_report_has_its_sentence_or_says_why_not(db_url: str) -> None:
    import yaml

    data = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))
    reports = [r for incident in data["incidents"] for r in incident["reports"]]
    assert reports and all(r.get("excerpt") or "not available" in r.get("note", "") for r in reports)
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    result = CliRunner().invoke(cli, ["--db", db_url, "show", KHAR], env={"COLUMNS": "200"})
    shown = api.show(db_url, KHAR)["reports"]
    assert result.output.count("(no excerpt recorded)") == sum(1 for r in shown if not r["excerpt"])
    assert result.output.count("(found in the stored text)") == sum(1 for r in shown if r["excerpt_verified"])
    assert result.output.count("(no stored text to check it against)") == sum(
        1 for r in shown if r["excerpt"] and r["excerpt_verified"] is None)


def test_a_citation_is_kept_once_near_ones_are_asked_about_and_sources_merge(url: str) -> None:
    citation = "test record: an analyst's note, 2023-08-01, on the Khar bombing"
    api.report_add(url, KHAR, citation=citation, killed=54)
    # The same citation but for case, spacing and punctuation is the same source.
    again = api.report_add(url, KHAR, citation="Test record - an analyst's note 2023-08-01 on the Khar bombing",
                           killed=54)
    assert again["added"] is False
    # A near one is asked about, and nothing is written.
    reports = len(api.show(url, KHAR)["reports"])
    api.report_add(url, "PAK-2018-11-23-KALAYA", citation=citation.replace("08-01", "08-02"))  # another day: another
    near = "test record: an analyst's notes, 2023-08-01, on the Khar bombing"
    with pytest.raises(UsageError, match=r"near that of stored source #\d+") as asked:
        api.report_add(url, "PAK-2018-07-13-MASTUNG", citation=near)
    assert "new_source" in str(asked.value)
    api.report_add(url, "PAK-2018-07-13-MASTUNG", citation=near, new_source=True)
    assert len(api.show(url, KHAR)["reports"]) == reports
    ids = {s["citation"]: s["id"] for s in api.sources(url, search="test record", limit=None)[0]}
    assert set(ids) == {citation, near, citation.replace("08-01", "08-02")}

    # The two were one note after all: fold the second into the first.
    result = api.source_merge(url, ids[citation], ids[near], why="test: one note")
    assert result["reports_moved"] == 1
    assert {s["citation"] for s in api.sources(url, search="test record", limit=None)[0]} == set(ids) - {near}
    mastung = api.show(url, "PAK-2018-07-13-MASTUNG")["reports"]
    assert sum(1 for r in mastung if r["source"]["id"] == ids[citation]) == 1
    with pytest.raises(NotFoundError):
        api.source_merge(url, ids[citation], ids[near])
    # Two sources that both report one incident are refused.
    other = api.sources(url, search="brecorder", limit=None)[0][0]["id"]
    with pytest.raises(UsageError, match=f"Both sources report {KHAR}"):
        api.source_merge(url, ids[citation], other)


def test_as_of_undoes_a_later_reimport_of_a_changed_row(db_url: str, tmp_path: Path) -> None:
    import csv

    with UCDP_FILE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, row = reader.fieldnames, next(r for r in reader if r["date_prec"] == "1" and int(r["best"]) > 0)
    assert header is not None
    path = tmp_path / "one_row.csv"

    def write(values: dict[str, str]) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header)
            writer.writeheader()
            writer.writerow(values)

    write(row)
    api.import_file(db_url, path)
    key = f"UCDP-{row['id']}"
    engine = make_engine(db_url)  # as if imported in 2020: an --as-of of yesterday knows the first import
    with engine.begin() as connection:
        connection.execute(text("UPDATE incidents SET created_at = '2020-01-01 00:00:00'"))
        connection.execute(text("UPDATE reports SET created_at = '2020-01-01 00:00:00'"))
    engine.dispose()
    before = api.show(db_url, key)["killed"]["best"]
    assert before == int(row["best"])
    revised = dict(row, best=str(int(row["best"]) + 5), high=str(max(int(row["high"]), int(row["best"]) + 5)))
    write(revised)
    assert api.import_file(db_url, path).updated == 1
    assert api.show(db_url, key)["killed"]["best"] == int(revised["best"])
    # The day before the re-import, the dataset said what it said then.
    assert api.show(db_url, key, as_of=YESTERDAY)["killed"]["best"] == before


# ---- the hostile review's findings, each kept from coming back

def test_links_a_merge_moved_or_swapped_are_not_edited_behind_its_back(url: str) -> None:
    api.import_file(url, UCDP_FILE)
    other = next(p["a"] if p["b"] == "PAK-2018-11-23-KALAYA" else p["b"] for p in api.duplicates(url, limit=None)
                 if "PAK-2018-11-23-KALAYA" in (p["a"], p["b"]))
    api.perpetrator_add(url, other, "TTP", attribution="suspected", why="test: a link to move")
    api.merge(url, "PAK-2018-11-23-KALAYA", other, why="test: one attack")
    with pytest.raises(UsageError, match="came with the merge"):
        api.perpetrator_remove(url, "PAK-2018-11-23-KALAYA", "TTP", why="test")
    with pytest.raises(UsageError, match="came with the merge"):
        api.perpetrator_set(url, "PAK-2018-11-23-KALAYA", "TTP", attribution="claimed")
    with pytest.raises(UsageError, match="is merged into PAK-2018-11-23-KALAYA"):
        api.perpetrator_add(url, other, "ISKP", why="test")
    with pytest.raises(UsageError, match="is merged into"):
        api.report_add(url, other, citation="test record: a report of a merged record", killed=1)
    # A link added after the merge is the kept record's own: unmerge leaves it there.
    api.perpetrator_add(url, "PAK-2018-11-23-KALAYA", "Lashkar-e-Jhangvi", attribution="suspected", why="test")
    api.unmerge(url, other)
    assert "Lashkar-e-Jhangvi" in {a["actor"] for a in api.show(url, "PAK-2018-11-23-KALAYA")["actors"]}
    assert "Lashkar-e-Jhangvi" not in {a["actor"] for a in api.show(url, other)["actors"]}
    assert {a["actor"]: a["attribution"] for a in api.show(url, other)["actors"]}["Tehrik-i-Taliban Pakistan"] == \
        "suspected"


def test_sources_restore_brings_back_only_what_sources_delete_withdrew(url: str) -> None:
    article = next(r["source"]["id"] for r in api.show(url, KHAR)["reports"] if r["source"]["citation"]
                   and "New Delhi" in r["source"]["citation"])
    api.report_delete(url, KHAR, str(article), why="test: withdrawn on its own")
    first = api.source_delete(url, article, why="test: the whole source")
    assert KHAR not in first["incidents"]
    restored = api.source_restore(url, article)
    assert restored["incidents"] == first["incidents"]
    assert next(r for r in api.show(url, KHAR)["reports"] if r["source"]["id"] == article)["withdrawn"]


def test_a_withdrawn_report_takes_its_perpetrators_killed_and_its_correction_takes_its_place(url: str) -> None:
    api.report_add(url, KHAR, citation="test record: a report that counts attackers", perpetrators_killed=1)
    assert api.show(url, KHAR)["perpetrators_killed"] == 1
    api.report_delete(url, KHAR, "test record: a report that counts attackers", why="test: misread")
    assert api.show(url, KHAR)["perpetrators_killed"] is None
    # The advice: withdraw, then add the corrected account from that source; it takes the report's place.
    result = api.report_add(url, KHAR, citation="test record: a report that counts attackers", perpetrators_killed=2)
    assert result["added"] is True
    report = next(r for r in api.show(url, KHAR)["reports"]
                  if r["source"]["citation"] == "test record: a report that counts attackers")
    assert report["perpetrators_killed"] == 2 and report["withdrawn"] is None
    assert api.show(url, KHAR)["perpetrators_killed"] == 2


@pytest.mark.parametrize("source", ["²", "99999999999999999999999", "#0"])
def test_a_source_id_no_database_holds_is_not_found(url: str, source: str) -> None:
    with pytest.raises((NotFoundError, FieldError)):
        api.report_delete(url, KHAR, source, why="test")
    with pytest.raises((NotFoundError, FieldError)):
        api.perpetrator_add(url, KHAR, "TTP", source=source, why="test")
    with pytest.raises((NotFoundError, FieldError)):
        api.report_add(url, KHAR, source=source, killed=1)
    if source.isascii() and source.isdigit():
        with pytest.raises(NotFoundError):
            api.source_delete(url, int(source), why="test")


def test_a_dataset_record_is_no_source_for_a_hand_made_report(url: str) -> None:
    api.import_file(url, UCDP_FILE)
    record = next(s["id"] for s in api.sources(url, limit=None)[0] if s["kind"] == "dataset_record")
    with pytest.raises(FieldError, match="is a dataset's record"):
        api.add(url, date="2015-01-30", country="PAK", admin2="Shikarpur", killed=51, source=record, new=True)


def test_a_source_is_found_by_its_citation_after_a_merge_gave_it_a_url(url: str) -> None:
    api.report_add(url, KHAR, citation="test record: a source first known by its citation", killed=54)
    api.report_add(url, "PAK-2018-07-13-MASTUNG", source_url="https://example.org/test-record-first-known-by-url")
    by_name = {s["citation"] or s["url"]: s["id"] for s in api.sources(url, search="test", limit=None)[0]}
    api.source_merge(url, by_name["test record: a source first known by its citation"],
                     by_name["https://example.org/test-record-first-known-by-url"], why="test: one source")
    before = api.counts(url)["sources"]
    api.report_add(url, "PAK-2018-11-23-KALAYA", citation="test record: a source first known by its citation")
    assert api.counts(url)["sources"] == before
    api.report_delete(url, KHAR, "TEST RECORD - a source first known by its citation", why="test: by another case")


def test_bad_files_of_records_are_named_by_file_and_line(url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTS_MAX_FIELD_BYTES", "100000")  # the bound on one cell, as the importers keep it
    cases = {
        "mapping.yaml": ("- {date: 2020, country: PAK, admin2: Zhob, citation: test, new: true, "
                         "perpetrators: {TTP: claimed}}\n", "records.yaml:1: field perpetrators"),
        "alias.yaml": ("- &a {date: 2020, country: PAK, admin2: Zhob, citation: test record alias, new: true}\n"
                       "- *a\n", None),
        "keys.yaml": ("- {1: a, x: b}\n", "is not a field of a record"),
        "repeated.csv": ("date,date,country,citation\n2020,2021,PAK,test\n", "names the column 'date' twice"),
        "long.csv": ("date,country,citation,title\n2020,PAK,test," + "x" * 200_000 + "\n", "records.csv:2"),
        "latin1.csv": (None, "not UTF-8"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / ("records" + Path(name).suffix)
        if content is None:
            path.write_bytes("date,country,citation\n2020,PAK,caf\xe9\n".encode("latin-1"))
        else:
            path.write_text(content, encoding="utf-8")
        counts = api.counts(url)
        if message is None:  # an alias repeats one record: the second is the first, recorded once
            assert len(api.add_many(url, path)["added"]) == 1
            continue
        with pytest.raises(InputError, match=message):
            api.add_many(url, path)
        assert api.counts(url) == counts
    bom = tmp_path / "bom.csv"  # as Excel saves a CSV: a byte-order mark before the header
    bom.write_bytes("\ufeffdate,country,admin2,citation,new\n2020,PAK,Zhob,test record: BOM,true\n".encode())
    assert len(api.add_many(url, bom)["added"]) == 1


def test_a_second_run_with_another_spelling_of_the_source_adds_nothing(url: str, tmp_path: Path) -> None:
    rows = tmp_path / "records.csv"
    rows.write_text("date,country,admin2,source_url,new\n2019-05-05,PAK,Zhob,https://example.org/test-record-c1,true\n",
                    encoding="utf-8")
    assert len(api.add_many(url, rows)["added"]) == 1
    rows.write_text("date,country,admin2,source_url,new\n2019-05-05,PAK,Zhob,http://www.example.org/test-record-c1/,"
                    "true\n", encoding="utf-8")
    again = api.add_many(url, rows)
    assert again["added"] == [] and len(again["already"]) == 1


def test_an_empty_article_text_and_a_blank_excerpt_are_not_evidence(url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    with pytest.raises(FieldError, match="is empty"):
        api.report_add(url, KHAR, citation="test record: empty text", text_file=empty, excerpt="x")
    api.report_add(url, KHAR, citation="test record: blank excerpt", excerpt="   ", killed=54)
    report = next(r for r in api.show(url, KHAR)["reports"] if r["source"]["citation"] == "test record: blank excerpt")
    assert report["excerpt"] is None
