"""Reports drive the figures; every change to a curated field is a revision with who, when and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from incidents import api
from incidents.cli import cli
from incidents.errors import UsageError

from .conftest import FIXTURES

KALAYA = "PAK-2018-11-23-KALAYA"


def seeded_url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    return db_url


def test_report_add_recomputes_the_range_and_is_recorded(db_url: str) -> None:
    url = seeded_url(db_url)
    before = api.show(url, KALAYA)["killed"]
    result = api.report_add(url, KALAYA, citation="UCDP GED event 275159", killed=before["high"] + 2,
                            published="2018-11-24", who="analyst1", why="UCDP's best")
    assert result["killed"]["high"] == before["high"] + 2 and result["killed"]["low"] == before["low"]
    assert result["killed"]["best"] == before["high"] + 2  # the latest settled report, no analyst's choice here
    changes = {(h["table"], h["field"], h["old"], h["new"], h["by"], h["why"]) for h in api.history(url, KALAYA)}
    assert ("incidents", "killed_high", str(before["high"]), str(before["high"] + 2), "analyst1", "UCDP's best") in changes
    assert ("reports", "report", None, "UCDP GED event 275159", "analyst1", "UCDP's best") in changes


def test_a_preliminary_report_leaves_the_range_alone(db_url: str) -> None:
    url = seeded_url(db_url)
    before = api.show(url, KALAYA)["killed"]
    api.report_add(url, KALAYA, source_url="https://example.org/early", killed=3, preliminary=True)
    assert api.show(url, KALAYA)["killed"] == before


def test_set_records_old_new_who_why(db_url: str) -> None:
    url = seeded_url(db_url)
    result = api.set_field(url, KALAYA, "status", "disputed", who="analyst2", why="UCDP dates it a day later")
    assert (result["old"], result["new"]) == ("confirmed", "disputed")
    last = api.history(url, KALAYA)[-1]
    assert (last["field"], last["old"], last["new"], last["by"], last["why"]) == (
        "status", "confirmed", "disputed", "analyst2", "UCDP dates it a day later")


def test_set_best_inside_the_range_then_back_to_auto(db_url: str) -> None:
    url = seeded_url(db_url)
    api.report_add(url, KALAYA, citation="UCDP GED event 275159", killed=35, published="2018-11-24")
    api.set_field(url, KALAYA, "killed_best", "34", why="analyst's judgement")
    killed = api.show(url, KALAYA)["killed"]
    assert (killed["best"], killed["best_chosen_by_analyst"]) == (34, True)
    api.set_field(url, KALAYA, "killed_best", "auto", why="follow the reports")
    killed = api.show(url, KALAYA)["killed"]
    assert (killed["best"], killed["best_chosen_by_analyst"]) == (35, False)


def test_bad_edits_are_refused_clearly_and_change_nothing(db_url: str) -> None:
    url = seeded_url(db_url)
    before = api.show(url, KALAYA)
    refused = [
        ("killed_best", "400", "lies outside the range its reports give"),
        ("status", "rumoured", "is not one of"),
        ("key", "X", "cannot be set"),
        ("perpetrators_killed", "-1", "is negative"),
    ]
    for field, value, message in refused:
        # `--` ends the options, so a value such as -1 is not read as one.
        result = CliRunner().invoke(cli, ["--db", url, "set", KALAYA, field, "--why", "test", "--", value])
        assert result.exit_code == UsageError.exit_code and message in result.stderr, (field, result.output)
    assert api.show(url, KALAYA) == before
    wikipedia = next(r for r in before["reports"] if r["source"]["url"] == "https://en.wikipedia.org/wiki/2018_Orakzai_bombing")
    other_figure = str(wikipedia["killed"] + 1)
    twice = CliRunner().invoke(cli, ["--db", url, "report", "add", KALAYA, "--source-url",
                                     "https://en.wikipedia.org/wiki/2018_Orakzai_bombing", "--killed", other_figure])
    assert twice.exit_code == UsageError.exit_code and "One report per source" in twice.stderr
    assert f"killed {other_figure} (stored: {wikipedia['killed']})" in twice.stderr  # what differs, and the fix
    assert f"incidents report delete {KALAYA}" in twice.stderr


def test_cli_report_set_history(db_url: str) -> None:
    url = seeded_url(db_url)
    runner = CliRunner()
    added = runner.invoke(cli, ["--db", url, "report", "add", KALAYA, "--citation", "Wire, 2018-11-25",
                                "--killed", "34", "--published", "2018-11-25", "--by", "a1", "--why", "new wire"])
    assert added.exit_code == 0 and "Killed now: best 34, range 33-34" in added.output
    assert runner.invoke(cli, ["--db", url, "set", KALAYA, "title", "Kalaya market bombing", "--why", "w"]).exit_code == 0
    rows = json.loads(runner.invoke(cli, ["--db", url, "history", KALAYA, "--json"]).stdout)
    assert [r["field"] for r in rows][:2] == ["report", "killed_best"] and rows[-1]["new"] == "Kalaya market bombing"
    assert runner.invoke(cli, ["--db", url, "history", "NOPE"]).exit_code == 3


def test_every_figure_in_show_names_its_sources(db_url: str) -> None:
    url = seeded_url(db_url)
    from incidents.analysis.reads import source_label

    for key in ("PAK-2023-07-30-KHAR", KALAYA, "PAK-2018-07-13-MASTUNG"):
        detail = api.show(url, key)
        for measure in ("killed", "wounded"):
            figures = detail[measure]
            for which in ("low", "best", "high"):
                if figures[which] is None:
                    continue
                named = figures["according_to"][which]
                assert named, (key, measure, which)
                # each named source is a settled report giving exactly that figure
                givers = {source_label(r["source"]) for r in detail["reports"]
                          if not r["preliminary"] and r[measure] == figures[which]}
                assert set(named) == givers, (key, measure, which)
    result = CliRunner().invoke(cli, ["--db", url, "show", "PAK-2023-07-30-KHAR"], env={"COLUMNS": "200"})
    assert "per Business Recorder (Reuters) 2023-08-03, Wikipedia), range 54 (per" in " ".join(result.output.split())


def test_an_excerpt_is_checked_against_its_sources_stored_text(db_url: str) -> None:
    """A report on a source whose text is stored must quote it: an excerpt found in the text (whatever its case
    and spacing) is marked verified in `show`; one that is not there is refused; one on a source without text
    is kept unverified."""
    import yaml

    from incidents.errors import FieldError

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    article = (FIXTURES / "seed_article.txt").read_text(encoding="utf-8")
    citation = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))["sources"][0]["citation"]
    sentence = next(part for part in article.split(". ") if "Orakzai" in part and len(part.split()) > 6)
    seed = [r for r in api.show(db_url, "PAK-2018-11-23-KALAYA")["reports"] if r["source"]["citation"] == citation]
    assert seed and all(r["excerpt_verified"] is True for r in seed)  # the seed's own sentence is in its text
    api.add(db_url, key="TEST-ORAKZAI", date="2018-11", country="PAK", citation="test record: no text stored",
            excerpt="anything at all")
    with pytest.raises(FieldError, match="does not occur in the stored text"):
        api.report_add(db_url, "TEST-ORAKZAI", citation=citation, excerpt="the market attack killed 12")
    quoted = "  ".join(sentence.upper().split())  # other case, other spacing: the same words
    api.report_add(db_url, "TEST-ORAKZAI", citation=citation, excerpt=quoted)
    shown = {r["source"]["citation"]: r for r in api.show(db_url, "TEST-ORAKZAI")["reports"]}
    assert shown[citation]["excerpt_verified"] is True
    assert shown["test record: no text stored"]["excerpt_verified"] is None


def test_the_articles_text_is_stored_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    """--text-file stores the article's text with its source (and its sha256); the excerpt must occur in it; a
    source keeps the text it was recorded with."""
    import hashlib

    from sqlalchemy import text as sql

    from incidents.db.engine import make_engine

    api.init(db_url)
    article = (FIXTURES / "seed_article.txt").read_text(encoding="utf-8")
    copy = tmp_path / "article.txt"
    copy.write_text(article, encoding="utf-8")
    sentence = next(part for part in article.split(". ") if "Bajaur" in part and len(part.split()) > 6)
    runner = CliRunner()
    args = ["--db", db_url, "add", "--key", "TEST-BAJAUR", "--date", "2023", "--country", "PAK", "--admin2", "Bajaur",
            "--citation", "test record: the seed article", "--text-file", str(copy)]
    refused = runner.invoke(cli, [*args, "--excerpt", "a sentence the article does not have"])
    assert refused.exit_code == 2 and "does not occur in the article text" in refused.stderr
    added = runner.invoke(cli, [*args, "--excerpt", sentence.lower()])
    assert added.exit_code == 0, added.output
    engine = make_engine(db_url)
    with engine.connect() as connection:
        stored, digest = connection.execute(sql("SELECT full_text, full_text_sha256 FROM sources WHERE citation = "
                                                "'test record: the seed article'")).one()
    engine.dispose()
    assert stored == article and digest == hashlib.sha256(article.encode()).hexdigest()
    assert api.show(db_url, "TEST-BAJAUR")["reports"][0]["excerpt_verified"] is True
    other = tmp_path / "other.txt"
    other.write_text(article.upper(), encoding="utf-8")
    again = runner.invoke(cli, ["--db", db_url, "report", "add", "TEST-BAJAUR", "--citation",
                                "test record: the seed article", "--text-file", str(other)])
    assert again.exit_code == 2 and "has a stored text already" in again.stderr


def test_the_same_add_twice_stops_at_the_first_incident(db_url: str) -> None:
    """`add` run twice with the same source, date and country used to make KEY-2 silently; now the second run
    stops and names the first incident and the command that adds to it; --new records a second one on purpose."""
    api.init(db_url)
    args = ["--db", db_url, "add", "--date", "2018-11-23", "--country", "PAK", "--admin2", "Orakzai",
            "--citation", "test record: one source", "--killed", "33"]
    runner = CliRunner()
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    again = runner.invoke(cli, args)
    assert again.exit_code == 2, again.output
    assert "already gives PAK-2018-11-23-ORAKZAI (2018-11-23)" in again.stderr
    assert "incidents report add PAK-2018-11-23-ORAKZAI" in again.stderr
    assert api.incidents(db_url, limit=None)[1] == 1  # nothing written
    other_day = runner.invoke(cli, [*args[:4], "2018-11-24", *args[5:]])  # the same source, another day: allowed
    assert other_day.exit_code == 0, other_day.output
    on_purpose = runner.invoke(cli, [*args, "--new"])
    assert on_purpose.exit_code == 0, on_purpose.output
    assert api.incidents(db_url, limit=None)[1] == 3


def test_recording_bajaur_again_from_the_article_stops_at_the_seed_incident(db_url: str) -> None:
    """The seed article says 'In 2023, a bombing in Bajaur killed 60': recorded as a new incident, it stops at
    PAK-2023-07-30-KHAR (a year overlaps the day; Bajaur is its district) and names the report add command;
    --new records it anyway; a record of another district or another year goes through."""
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    khar = api.show(db_url, "PAK-2023-07-30-KHAR")
    district = khar["location"]["admin2"]
    year = khar["date"][:4]
    runner = CliRunner()
    args = ["--db", db_url, "add", "--date", year, "--country", "PAK", "--admin2", district, "--killed", "60",
            "--citation", "test record: the seed article's Bajaur sentence"]
    stopped = runner.invoke(cli, args)
    assert stopped.exit_code == 2, stopped.output
    assert "This may be an incident already recorded: PAK-2023-07-30-KHAR" in stopped.stderr
    assert "incidents report add PAK-2023-07-30-KHAR" in stopped.stderr
    before = api.incidents(db_url, limit=None)[1]
    assert runner.invoke(cli, [*args[:4], str(int(year) - 3), *args[5:]]).exit_code == 0  # another year
    assert runner.invoke(cli, [*args, "--new"]).exit_code == 0
    assert api.incidents(db_url, limit=None)[1] == before + 2


def test_another_spelling_of_a_stored_url_is_the_same_source(db_url: str) -> None:
    """A seed report's URL written otherwise (http, 'www.', a trailing '/', tracking parameters, a fragment) on
    report add is that report's source: no second source row, and the one-report-per-source rule applies;
    `sources` lists each source once, with its reports."""
    import yaml

    from incidents.records import url_identity

    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    seed = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))
    incident = next(i for i in seed["incidents"] if i["key"] == "PAK-2018-11-23-KALAYA")
    url = next(r["source"]["url"] for r in incident["reports"] if isinstance(r["source"], dict)
               and r["source"].get("url", "").startswith("https://") and "?" not in r["source"]["url"])
    respelled = url.replace("https://", "http://", 1).rstrip("/") + "/?utm_source=twitter&fbclid=abc#comments"
    assert respelled != url and url_identity(respelled) == url_identity(url)
    api.add(db_url, key="TEST-SECOND", date="2018", country="PAK", citation="test record: a second incident")
    before, total = api.sources(db_url, limit=None)
    with pytest.raises(UsageError, match="has a report from this source"):
        api.report_add(db_url, "PAK-2018-11-23-KALAYA", source_url=respelled, killed=1)
    api.report_add(db_url, "TEST-SECOND", source_url=respelled)
    after, total_after = api.sources(db_url, limit=None)
    assert total_after == total  # reused, not copied
    counts = {row["url"]: row["reports"] for row in after}
    assert counts[url] == {row["url"]: row["reports"] for row in before}[url] + 1
    found, matching = api.sources(db_url, search=url.split("/")[2].upper())
    assert matching >= 1 and all(url.split("/")[2] in (row["url"] or "") for row in found)
