"""incidents extract: the attacks an article reports, each field with its sentence, matched to stored incidents.
Expected attacks are read here from the seed facts file, not from the extractor."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from incidents import api
from incidents.cli import cli
from incidents.curation.extraction import propose, sentences

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
    result = CliRunner().invoke(cli, ["--db", url, "extract", str(ARTICLE)])
    assert result.exit_code == 0 and "Bajaur" in result.stdout and "from context" in result.stdout
    result = CliRunner().invoke(cli, ["--db", url, "extract", "/nonexistent/article.txt"])
    assert result.exit_code != 0 and "No article at" in result.stderr


DEVSET = FIXTURES / "extraction"


def _devset() -> list[dict]:
    import yaml

    return yaml.safe_load((DEVSET / "manifest.yaml").read_text(encoding="utf-8"))


def test_the_development_sets_sentences_are_in_their_articles() -> None:
    entries = _devset()
    assert sum(1 for e in entries if e["attack"]) >= 20 and sum(1 for e in entries if not e["attack"]) >= 5
    for entry in entries:
        text = (DEVSET / entry["file"]).read_text(encoding="utf-8")
        for incident in entry.get("incidents") or []:
            for sentence in incident.get("sentences") or []:
                assert sentence in text, (entry["file"], sentence[:60])


def test_no_incident_comes_from_an_article_with_no_attack() -> None:
    import sys
    from datetime import date

    sys.path.insert(0, str(FIXTURES.parent))
    from bench.bench_extract import groups

    spellings = groups()
    for entry in _devset():
        if entry["attack"]:
            continue
        text = (DEVSET / entry["file"]).read_text(encoding="utf-8")
        published = date.fromisoformat(str(entry["published"])) if entry.get("published") else None
        assert propose(text, published, spellings) == [], entry["file"]
