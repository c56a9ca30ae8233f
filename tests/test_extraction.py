"""incidents extract: the attacks an article reports, each field with its sentence, matched to stored incidents.
Expected attacks are read here from the seed facts file, not from the extractor."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from incidents import api
from incidents.cli import cli
from incidents.extract import propose, sentences

from .conftest import FIXTURES

ARTICLE = FIXTURES / "seed_article.txt"
PUBLISHED = "2025-10-16"  # the article's own dateline: ' date 2025-10-16 New Delhi, Oct 16'


def seed_facts() -> list[dict[str, str]]:
    with (FIXTURES / "seed_incidents_facts.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def url(db_url: str) -> str:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    return db_url


def test_sentences_keep_their_offsets() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    found = sentences(text)
    assert len(found) > 30
    assert all(text[s.start:s.end] == s.text for s in found)
    assert any(s.text.startswith("In 2023, a bombing in Bajaur killed 60") for s in found)


def test_the_seed_article_gives_exactly_its_three_attacks_each_matched_to_its_seed(url: str) -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    proposals = api.extract(url, file=ARTICLE, published=PUBLISHED)
    facts = seed_facts()
    seeds = {row["incident_id"]: row for row in facts}
    assert len(proposals) == len(facts) == 3
    for proposal in proposals:
        # the date at the article's precision (a year), the place, and ISKP from the sentences before it
        assert proposal["date_precision"] == "year" and proposal["country"] == "PAK"
        assert [p["name"] for p in proposal["perpetrators"]] == ["Islamic State Khorasan Province"]
        assert all(p["from_context"] and p["attribution"] == "attributed" for p in proposal["perpetrators"])
        best = proposal["matches"][0]
        assert seeds[best["key"]]["date_local"].startswith(proposal["date"]) and best["score"] == 1.0
        for evidence in proposal["evidence"]:  # every field rests on a sentence of the article, where it says
            assert text[evidence["start"]:evidence["end"]] == evidence["sentence"]
    by_place = {p["place"]: p for p in proposals}
    assert set(by_place) == {"Bajaur", "Mastung", "Orakzai"}
    assert by_place["Bajaur"]["killed"] == 60 and by_place["Bajaur"]["attack_type"] == "bombing"
    assert by_place["Mastung"]["target"] == "political rally" and by_place["Orakzai"]["target"] == "market"
    matched = {p["place"]: p["matches"][0]["key"] for p in proposals}
    assert len(set(matched.values())) == 3  # three seeds, one each
    # each the seed of that place, by the facts file's own district column ('Bajaur District')
    assert matched == {row["admin2"].split()[0]: row["incident_id"] for row in facts}


def test_no_attack_is_proposed_from_talk_about_attacks() -> None:
    groups = {"ISKP": "Islamic State Khorasan Province", "Taliban": "Taliban"}
    assert propose("The Taliban was no match for the ISKP, and the outfit suffered heavy losses.", None, groups) == []
    assert propose("Moreover, the ISKP has carried out violent attacks on Pakistani soil.", None, groups) == []
    assert propose("Floods killed 40 people in Swat on Monday.", None, groups) == []
    assert propose("Security forces killed 12 militants in an operation in North Waziristan.", None, groups) == []
    assert propose("The TTP threatened to attack police stations in Peshawar.", None, groups) == []


def test_dates_are_resolved_against_the_publication_day() -> None:
    from datetime import date

    found = propose("A suicide bomber killed 12 people at a market in Quetta on Sunday.", date(2023, 7, 31))
    assert [(p.date, p.date_precision, p.killed, p.place) for p in found] == [("2023-07-30", "day", 12, "Quetta")]
    found = propose("A blast killed 5 people in Peshawar last month.", date(2023, 7, 31))
    assert [(p.date, p.date_precision) for p in found] == [("2023-06", "month")]
    found = propose("A blast killed 5 people in Peshawar on Sunday.", None)  # nothing to resolve it against
    assert [(p.date, p.date_precision) for p in found] == [(None, None)]


def test_the_command_prints_the_attacks_and_json(url: str) -> None:
    result = CliRunner().invoke(cli, ["--db", url, "extract", str(ARTICLE), "--published", PUBLISHED, "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 3
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["--db", url, "extract", str(ARTICLE)])
    assert result.exit_code == 0 and "Bajaur" in result.stdout and "from context" in result.stdout
    result = CliRunner().invoke(cli, ["--db", url, "extract", "/nonexistent/article.txt"])
    assert result.exit_code != 0 and "No article at" in result.stderr


DEVSET = FIXTURES / "extraction"


def _devset() -> list[dict]:
    import yaml

    return yaml.safe_load((DEVSET / "manifest.yaml").read_text(encoding="utf-8"))


EVALSET = FIXTURES / "extraction_eval"


def _evalset() -> list[dict]:
    import yaml

    return yaml.safe_load((EVALSET / "manifest.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", [DEVSET, EVALSET], ids=["development", "evaluation"])
def test_the_sets_sentences_are_in_their_articles(folder: Path) -> None:
    import yaml

    entries = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert sum(1 for e in entries if e["attack"]) >= 15 and sum(1 for e in entries if not e["attack"]) >= 5
    assert sorted(p.name for p in (folder / "articles").iterdir()) == sorted(Path(e["file"]).name for e in entries)
    for entry in entries:
        text = (folder / entry["file"]).read_text(encoding="utf-8")
        assert entry["attack"] == bool(entry.get("incidents")), entry["file"]
        for incident in entry.get("incidents") or []:
            for sentence in incident.get("sentences") or []:
                assert sentence in text, (entry["file"], sentence[:60])


def test_the_evaluation_set_is_apart_from_the_development_set() -> None:
    development = {e["url"] for e in _devset()}
    evaluation = {e["url"] for e in _evalset()}
    assert len(evaluation) == len(_evalset()) and not development & evaluation


def test_no_incident_comes_from_an_article_with_no_attack() -> None:
    import sys
    from datetime import date

    sys.path.insert(0, str(FIXTURES.parent))
    from bench.bench_extract import groups

    spellings = groups()
    for folder, entry in [*((DEVSET, e) for e in _devset()), *((EVALSET, e) for e in _evalset())]:
        if entry["attack"]:
            continue
        text = (folder / entry["file"]).read_text(encoding="utf-8")
        published = date.fromisoformat(str(entry["published"])) if entry.get("published") else None
        assert propose(text, published, spellings) == [], entry["file"]


def test_a_review_applied_adds_the_article_as_a_report_to_each_and_twice_adds_nothing(
        url: str, tmp_path: Path) -> None:
    """The seeds hold this article's reports already; withdrawn, applying the review puts the article's account
    back on each of the three, with its text and sha256 kept on the one stored source."""
    review = tmp_path / "review.yaml"
    api.extract(url, file=ARTICLE, published=PUBLISHED, review=review)
    keys = [row["incident_id"] for row in seed_facts()]
    first = api.extract_apply(url, review)
    assert first["reported"] == [] and sorted(first["already"]) == sorted(keys)  # the seeds' own reports
    source = next(r["source"]["id"] for r in api.show(url, keys[0])["reports"]
                  if r["source"].get("citation", "").startswith("Unattributed news article"))
    for key in keys:
        api.report_delete(url, key, str(source), why="test: withdrawn to be applied again")
    again = api.extract_apply(url, review)
    assert sorted(again["reported"]) == sorted(keys)
    assert api.extract_apply(url, review)["reported"] == []  # a second apply adds nothing
    bajaur = next(r for r in api.show(url, keys[0])["reports"] if r["source"]["id"] == source and not r["withdrawn"])
    assert bajaur["killed"] == 60 and bajaur["excerpt"].startswith("In 2023, a bombing in Bajaur killed 60")


def test_an_unmatched_attack_is_applied_as_a_new_provisional_incident(db_url: str, tmp_path: Path) -> None:
    entry = next(e for e in _devset() if e["file"].startswith("articles/01-"))
    article = DEVSET / entry["file"]
    api.load(db_url, [FIXTURES / "actors.yaml"])
    review = tmp_path / "review.yaml"
    proposals = api.extract(db_url, file=article, published=str(entry["published"]), review=review,
                            url=entry["url"], outlet=entry["outlet"])
    assert len(proposals) == 1 and proposals[0]["matches"] == []
    added = api.extract_apply(db_url, review)["added"]
    assert len(added) == 1
    shown = api.show(db_url, added[0])
    expected = entry["incidents"][0]
    assert shown["status"] == "provisional" and shown["date"] == expected["date"]
    assert shown["killed"]["best"] == expected["killed"] and shown["reports"][0]["source"]["url"] == entry["url"]
    assert api.extract_apply(db_url, review)["added"] == []  # a second apply adds nothing
    # a record edited after it was applied is named, not skipped in silence, and nothing is written
    import re

    from incidents.errors import InputError

    edited = re.sub(r"(?m)^  killed: \d+$", f"  killed: {expected['killed'] + 1}", review.read_text(encoding="utf-8"))
    assert edited != review.read_text(encoding="utf-8")
    review.write_text(edited, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        api.extract_apply(db_url, review)
    assert "says otherwise" in str(raised.value) and f"killed {expected['killed'] + 1}" in str(raised.value)
    assert api.show(db_url, added[0])["killed"]["best"] == expected["killed"]


# ---------------------------------------------------------- what a hostile review of extract found


def test_a_review_never_overwrites_the_article_or_the_database(url: str, tmp_path: Path) -> None:
    from incidents.errors import FieldError, UsageError

    article = tmp_path / "article.txt"
    article.write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    before = article.read_bytes()
    with pytest.raises(UsageError, match="reads that file"):
        api.extract(url, file=article, review=article)
    assert article.read_bytes() == before
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///")
        with pytest.raises(UsageError, match="reads that file|part of the database"):
            api.extract(url, file=article, review=database)
        assert api.incidents(url, limit=1)[1] == 3  # the database is whole
    with pytest.raises(FieldError, match="yaml"):
        api.extract(url, file=article, review=tmp_path / "review.txt")


def test_two_attacks_of_one_day_in_one_article_are_both_applied(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    article = tmp_path / "two.txt"  # made-up text for the test, not a fact: two places, one day
    article.write_text("A bomb blast killed 5 people in Quetta on Friday. On Friday too, gunmen shot dead 3 "
                       "policemen in Peshawar.", encoding="utf-8")
    review = tmp_path / "review.yaml"
    proposals = api.extract(db_url, file=article, published="2023-07-29", review=review,
                            url="https://example.org/test-two-attacks")
    assert [(p["date"], p["place"]) for p in proposals] == [("2023-07-28", "Quetta"), ("2023-07-28", "Peshawar")]
    assert len(api.extract_apply(db_url, review)["added"]) == 2
    assert api.extract_apply(db_url, review)["added"] == []


def test_odd_text_gives_an_answer_quickly() -> None:
    import time
    from datetime import date

    start = time.perf_counter()
    assert [p.killed for p in propose("A bomb in Quetta killed " + "1," * 20000 + "1 people.", None)] == [None]
    assert len(propose("A bomb killed 5 people " + " ".join(f"in X{i}aa" for i in range(5000)), None)) <= 8
    assert time.perf_counter() - start < 10  # was minutes: backtracking on lists of figures and places
    # a date that is none, or a byline's time, is no attack date; an overflowing publication day is none either
    assert [p.date for p in propose("A blast killed 3 people in Quetta on 31 February 2023.", None)] == [None]
    assert [p.date for p in propose("Kabul, September 03, 2024 22:35 IST. A blast killed 6 people in Kabul on "
                                    "Monday.", date(2024, 9, 3))] == ["2024-09-02"]
    assert [p.date for p in propose("A blast killed 3 people in Quetta yesterday.", date(1, 1, 1))] == [None]
    # an acronym counts in capitals only
    assert propose("A bla bla blast killed 3 people in Quetta.", None, {"BLA": "BLA"})[0].perpetrators == []


# ------------------------------------------------------------------- saved pages, attackers, more attacks


PAGE = DEVSET / "pages" / "01-dawn-quetta-poodgali-chowk.html"


def test_a_saved_page_gives_its_main_text_date_address_and_outlet() -> None:
    """The page wraps development article 01 with the metadata its manifest entry gives (fixtures README)."""
    from datetime import date

    entry = next(e for e in _devset() if e["file"].startswith("articles/01-"))
    page = api.read_article(file=PAGE)
    assert page["html"] and page["published"] == str(entry["published"]) and page["url"] == entry["url"]
    assert page["title"] == entry["title"] and page["outlet"] and page["outlet"] in entry["outlet"]
    for sentence in entry["incidents"][0]["sentences"][:1]:
        assert sentence in page["text"]
    assert "Most popular" not in page["text"] and "Copyright" not in page["text"]  # the page's furniture is left
    text = (DEVSET / entry["file"]).read_text(encoding="utf-8")
    as_text = [(p.date, p.place, p.killed, p.wounded) for p in propose(text, date.fromisoformat(entry["published"]))]
    assert [(p.date, p.place, p.killed, p.wounded) for p in propose(page["text"], date.fromisoformat(
        page["published"]))] == as_text != []
    plain = api.read_article(text="<p>not a page</p> but text")
    assert not plain["html"] and plain["text"] == "<p>not a page</p> but text"


def test_a_saved_page_is_reviewed_and_applied_with_its_own_date_and_address(db_url: str, tmp_path: Path) -> None:
    import hashlib

    entry = next(e for e in _devset() if e["file"].startswith("articles/01-"))
    api.load(db_url, [FIXTURES / "actors.yaml"])
    review = tmp_path / "review.yaml"
    result = CliRunner().invoke(cli, ["--db", db_url, "extract", str(PAGE), "--review", str(review)])
    assert result.exit_code == 0, result.output
    assert f"published {entry['published']}" in result.stdout and entry["url"] in result.stdout
    kept = tmp_path / "review.article.txt"  # the page's main text, beside the review: its excerpts are in it
    assert kept.read_text(encoding="utf-8") == api.read_article(file=PAGE)["text"]
    added = api.extract_apply(db_url, review)["added"]
    assert len(added) == 1
    shown = api.show(db_url, added[0])
    expected = entry["incidents"][0]
    assert shown["date"] == expected["date"] and shown["killed"]["best"] == expected["killed"]
    source = shown["reports"][0]["source"]
    assert source["url"] == entry["url"]
    assert source["full_text_sha256"] == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert api.extract_apply(db_url, review)["added"] == []
    assert PAGE.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")  # the page itself untouched


def test_attackers_are_counted_apart_and_another_attack_is_one_of_its_own() -> None:
    from datetime import date

    # made-up sentences for the test, not facts
    found = propose("Gunmen killed 5 policemen in Quetta on Monday. Two of the attackers were shot dead.",
                    date(2023, 7, 31))
    assert [(p.killed, p.attackers_killed) for p in found] == [(5, 2)]
    found = propose("A blast killed 4 people in Peshawar on Monday. Meanwhile, another blast in Peshawar killed 2 "
                    "people.", date(2023, 7, 31))
    assert [(p.place, p.killed) for p in found] == [("Peshawar", 4), ("Peshawar", 2)]
    found = propose("Between 50 and 60 people were killed in a blast in Quetta. A bomb killing 12 to 15 people hit "
                    "Peshawar on Monday.", date(2023, 7, 31))
    assert [(p.place, p.killed_low, p.killed) for p in found] == [("Quetta", 50, 60), ("Peshawar", 12, 15)]
    found = propose("QUETTA: A grenade attack wounded 6 people on Sunday.", date(2023, 7, 31))
    assert [(p.date, p.place, p.wounded) for p in found] == [("2023-07-30", "Quetta", 6)]  # the dateline's town
    found = propose("Blast in Mastung\n\nA blast killed 3 people in Mastung on Monday. It came weeks after a bomb "
                    "killed 9 people there.", date(2023, 7, 31))
    assert [(p.date, p.killed) for p in found] == [("2023-07-31", 3), ("2023", 9)]


# ------------------------------------------------------------ what the second hostile review found


def test_odd_input_is_refused_in_one_line_and_odd_text_read_right(db_url: str, tmp_path: Path) -> None:
    import textwrap
    import time
    from datetime import date

    from incidents.errors import FieldError, UsageError

    api.load(db_url, [FIXTURES / "actors.yaml"])
    # a year no attack has, and a publication day before any newspaper: no date, or a clear refusal
    assert [p.date for p in propose("On 3 March 0001, a bomb blast in Quetta killed 5.", None)] == [None]
    with pytest.raises(FieldError, match="published"):
        api.extract(db_url, text="A blast killed 5 people in Quetta yesterday.", published="0001-02-01")
    with pytest.raises(FieldError, match="published"):
        api.extract(db_url, text="A blast killed 5 people in Quetta yesterday.", published=" ")
    with pytest.raises(FieldError, match="url"):
        api.extract(db_url, file=DEVSET / "articles/01-dawn-quetta-poodgali-chowk.txt", url="javascript:alert(1)",
                    review=tmp_path / "r.yaml")
    with pytest.raises(UsageError, match="NUL"):
        api.extract(db_url, text="\x00" * 50)
    with pytest.raises(UsageError, match="more than any news article"):
        api.extract(db_url, text="A blast killed 5 people in Quetta. " * 20_000)
    result = CliRunner().invoke(cli, ["--db", db_url, "extract", "-"], input="")
    assert result.exit_code != 0 and "standard input is empty" in result.stderr
    # a hyphenated chain no longer takes quadratic time
    start = time.perf_counter()
    propose("A bomb killed 5 people in " + "-".join(["A"] * 20_000) + " on Monday.", None)
    assert time.perf_counter() - start < 5
    # wrapped by hand, or with CRLF line ends, an article reads as it does on one line a paragraph
    text = (DEVSET / "articles/05-arynews-quetta-nawa-killi.txt").read_text(encoding="utf-8")
    wrapped = "\n\n".join("\n".join(textwrap.wrap(part, 60)) for part in text.split("\n\n"))
    read = [(p.date, p.place, p.killed, p.wounded) for p in propose(text, date(2022, 12, 31))]
    assert read and [(p.date, p.place, p.killed, p.wounded) for p in propose(wrapped, date(2022, 12, 31))] == read
    assert [(p.date, p.place, p.killed, p.wounded)
            for p in propose(text.replace("\n", "\r\n"), date(2022, 12, 31))] == read
    # invisible characters are read past, look-alike hyphens read as hyphens; evidence points into the text given
    odd = "Tehrik\u2011i\u2011Taliban Pakistan claimed a bomb that killed 6\u200b0 people in Qu\u200betta on Monday."
    found = propose(odd, date(2023, 7, 31), {"Tehrik-i-Taliban Pakistan": "Tehrik-i-Taliban Pakistan"})
    assert [(p.killed, p.place, [g.name for g in p.perpetrators]) for p in found] == [
        (60, "Quetta", ["Tehrik-i-Taliban Pakistan"])]
    assert all(odd[e.start:e.end] == e.sentence for e in found[0].evidence)
    assert [(p.wounded, p.wounded_at_least) for p in propose("A blast injured at least six people in Quetta.")] == [
        (6, True)]
    # a page with a byte-order mark or an XML declaration is a page
    page = (DEVSET / "pages" / "01-dawn-quetta-poodgali-chowk.html").read_text(encoding="utf-8")
    assert api.read_article(text="\ufeff" + page)["html"] and api.read_article(
        text='<?xml version="1.0" encoding="utf-8"?>\n' + page)["html"]


def test_a_review_keeps_to_its_article_and_an_edited_record_is_no_second_incident(
        db_url: str, tmp_path: Path) -> None:
    import re

    from incidents.errors import InputError, UsageError

    api.load(db_url, [FIXTURES / "actors.yaml"])
    entry = next(e for e in _devset() if e["file"].startswith("articles/01-"))
    article = tmp_path / "article.txt"
    article.write_text((DEVSET / entry["file"]).read_text(encoding="utf-8"), encoding="utf-8")
    review = tmp_path / "review.yaml"
    api.extract(db_url, file=article, published=str(entry["published"]), review=review, url=entry["url"])
    with pytest.raises(UsageError, match="exists"):  # never written over: a person may have edited it
        api.extract(db_url, file=article, published=str(entry["published"]), review=review, url=entry["url"])
    original = review.read_text(encoding="utf-8")
    # an impossible date typed without quotes is named with its line and field, not a traceback
    review.write_text(re.sub(r"(?m)^- date: .*$", "- date: 2022-11-31", original), encoding="utf-8")
    with pytest.raises(InputError, match="date"):
        api.extract_apply(db_url, review)
    # the review's article and no other: not the review itself, not an edited copy
    review.write_text(re.sub(r"(?m)^  text_file: .*$", "  text_file: review.yaml", original), encoding="utf-8")
    with pytest.raises(InputError, match="not the article this review was written from"):
        api.extract_apply(db_url, review)
    assert api.incidents(db_url, limit=1)[1] == 0  # nothing written by any of these
    review.write_text(original, encoding="utf-8")
    added = api.extract_apply(db_url, review)["added"]
    assert len(added) == 1
    # applied, then given another day or another place: refused and named, not a second incident
    review.write_text(re.sub(r"(?m)^- date: .*$", "- date: '2022-09-15'", original), encoding="utf-8")
    with pytest.raises(InputError, match="already gives this excerpt"):
        api.extract_apply(db_url, review)
    review.write_text(re.sub(r"(?m)^  place: .*$", "  place: Sariab", original), encoding="utf-8")
    with pytest.raises(InputError, match="place 'Sariab'"):
        api.extract_apply(db_url, review)
    assert api.incidents(db_url, limit=None)[1] == 1


def test_a_file_name_cannot_write_records_into_a_review(db_url: str, tmp_path: Path) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    entry = next(e for e in _devset() if e["file"].startswith("articles/01-"))
    article = tmp_path / "evil\n- date: 2020\n  country: PAK\n  citation: INJECTED\n  killed: 999\n#.txt"
    article.write_text((DEVSET / entry["file"]).read_text(encoding="utf-8"), encoding="utf-8")
    review = tmp_path / "review.yaml"
    api.extract(db_url, file=article, published=str(entry["published"]), review=review, url=entry["url"])
    applied = api.extract_apply(db_url, review)
    assert len(applied["added"]) == 1
    assert all(api.show(db_url, key)["killed"]["best"] != 999 for key in applied["added"])
