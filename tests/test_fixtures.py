"""The seed fixtures load to the incidents, reports and tolls their sources give; bad fixtures load nothing."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select

from incidents.analysis.reads import incident_detail
from incidents.db.engine import session_factory
from incidents.errors import InputError
from incidents.io.importers.fixtures import DEMO_FIXTURES, load_fixtures
from incidents.models import Actor, Incident, IncidentActor, Report, Revision, Source

from .conftest import FIXTURES

SEED_YAML = yaml.safe_load((FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8"))
with open(FIXTURES / "seed_incidents_facts.csv", encoding="utf-8") as _facts:
    FACTS = {row["incident_id"]: row for row in csv.DictReader(_facts)}


def _reported_on(report: dict[str, Any]) -> date:
    source = report["source"]
    if isinstance(source, str):
        source = next(s for s in SEED_YAML["sources"] if s["ref"] == source)
    return report.get("reported_on") or source.get("published_on") or date.min


def expected_figures(incident: dict[str, Any], measure: str) -> tuple[int | None, int | None, int | None]:
    """low/best/high as DESIGN.md defines them, computed straight from the fixture's reports."""
    settled = [r for r in incident["reports"] if not r.get("preliminary") and r.get(measure) is not None]
    if not settled:
        return None, incident.get(f"{measure}_best"), None
    values = [r[measure] for r in settled]
    latest = max(enumerate(settled), key=lambda pair: (_reported_on(pair[1]), pair[0]))[1][measure]
    return min(values), incident.get(f"{measure}_best", latest), max(values)


def _incident(session, key: str) -> Incident:
    return session.scalar(select(Incident).where(Incident.key == key))


def test_seed_incidents_and_reports_load(seeded: Engine) -> None:
    with session_factory(seeded)() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == len(SEED_YAML["incidents"])
        for item in SEED_YAML["incidents"]:
            incident = _incident(session, item["key"])
            reports = session.scalar(select(func.count()).where(Report.incident_id == incident.id))
            assert reports == len(item["reports"]), item["key"]
            for measure in ("killed", "wounded"):
                low, best, high = expected_figures(item, measure)
                stored = tuple(getattr(incident, f"{measure}_{part}") for part in ("low", "best", "high"))
                assert stored == (low, best, high), (item["key"], measure)


def test_killed_ranges_match_the_facts_table(seeded: Engine) -> None:
    """The facts table's killed_low/high are drawn from settled (next-day-onward) tolls, as our range is.

    Kalaya's facts high (35) is UCDP's figure, which arrives with the UCDP import, so only its low is compared.
    """
    with session_factory(seeded)() as session:
        for key, facts in FACTS.items():
            incident = _incident(session, key)
            assert incident.killed_low == int(facts["killed_low"]), key
            if facts["ucdp_best"] != facts["killed_high"]:
                assert incident.killed_high == int(facts["killed_high"]), key
            assert incident.killed_best == int(facts["killed_best"]), key


def test_bajaur_shows_what_the_issue_promises(seeded: Engine) -> None:
    with session_factory(seeded)() as session:
        detail = incident_detail(session, "PAK-2023-07-30-KHAR")
    assert detail["location"]["admin1"] == "Khyber Pakhtunkhwa"
    assert detail["location"]["admin2"] == "Bajaur"
    assert detail["location"]["place"] == "Khar"
    assert [(a["actor"], a["attribution"]) for a in detail["actors"]] == [("Islamic State Khorasan Province", "claimed")]
    assert detail["killed"]["best"] == 63
    settled = [r["killed"] for r in detail["reports"] if not r["preliminary"] and r["killed"] is not None]
    assert 60 in settled  # the seed article's figure is one of the reports the range is drawn from
    assert detail["killed"]["low"] == min(settled) and detail["killed"]["high"] == max(settled)
    assert all(r["source"]["url"] or r["source"]["citation"] for r in detail["reports"])
    preliminary = [r["killed"] for r in detail["reports"] if r["preliminary"]]
    assert preliminary and all(
        k < detail["killed"]["low"] or k > detail["killed"]["high"] for k in preliminary if k is not None
    )


def test_seed_article_is_stored_with_its_text_and_hash(seeded: Engine) -> None:
    text = (FIXTURES / "seed_article.txt").read_text(encoding="utf-8")
    with session_factory(seeded)() as session:
        source = session.scalars(select(Source).where(Source.full_text.is_not(None))).one()
        assert source.full_text == text
        assert source.full_text_sha256 == hashlib.sha256(text.encode()).hexdigest()
        assert source.published_on == date(2025, 10, 16) and source.url is None
        incidents = session.scalars(
            select(Incident.key).join(Report, Report.incident_id == Incident.id).where(Report.source_id == source.id)
        ).all()
        assert sorted(incidents) == sorted(item["key"] for item in SEED_YAML["incidents"])


def test_reloading_changes_nothing(seeded: Engine) -> None:
    result = load_fixtures(seeded, [FIXTURES / name for name in DEMO_FIXTURES])
    assert result.counts == {"inserted": 0, "updated": 0, "unchanged": len(SEED_YAML["incidents"])}
    with session_factory(seeded)() as session:
        assert session.scalar(select(func.count()).select_from(Revision)) == 0
        assert session.scalar(select(func.count()).select_from(Incident)) == len(SEED_YAML["incidents"])


def _edited_copy(tmp_path: Path, old: str, new: str) -> Path:
    text = (FIXTURES / "seed_incidents.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "seed_article.txt").write_bytes((FIXTURES / "seed_article.txt").read_bytes())
    path = tmp_path / "seed_incidents.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_changed_figure_updates_and_leaves_a_revision(seeded: Engine, tmp_path: Path) -> None:
    # The Business Recorder report of 63 becomes 62: Bajaur's high is still 63 (Wikipedia), nothing else moves.
    path = _edited_copy(tmp_path, "          published_on: 2023-08-03\n        killed: 63",
                        "          published_on: 2023-08-03\n        killed: 62")
    result = load_fixtures(seeded, [path])
    assert result.counts["updated"] == 1 and result.counts["unchanged"] == 2
    with session_factory(seeded)() as session:
        changes = session.execute(select(Revision.table_name, Revision.field, Revision.old_value, Revision.new_value)).all()
        assert ("reports", "killed", "63", "62") in changes


def test_an_analyst_best_outside_the_reported_range_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = _edited_copy(tmp_path, "killed_best: 63", "killed_best: 70")
    load_fixtures(engine, [FIXTURES / "actors.yaml"])
    with pytest.raises(InputError, match="killed best 70 lies outside the range its reports give"):
        load_fixtures(engine, [path])
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0  # nothing half-written


BAD_FIXTURES = {
    "bad date": ("date: 2018-11-23", "date: 2018-11-31", r"seed_incidents.yaml:\d+: field date: '2018-11-31' is not a real date"),
    "negative toll": ("killed: 128", "killed: -128", r":\d+: field killed: -128 is negative"),
    "words for no number": ("killed: 149\n        wounded: 186", "killed: dozens\n        wounded: 186",
                            r":\d+: field killed: 'dozens' gives no figure"),
    "latitude out of range": ("latitude: 33.74556", "latitude: 133.74556", r":\d+: field latitude: 133.74556 is out of range"),
    "unknown attribution": ("attribution: claimed", "attribution: probably", r":\d+: field attribution: 'probably' is not one of"),
    "unknown field": ("    attack_type: Bombing/Explosion", "    atack_type: Bombing/Explosion",
                      r":\d+: field atack_type: is not a field of an incident"),
    "unknown source ref": ("source: seed-article", "source: seed-artcle", r"'seed-artcle' is not a source ref"),
}


@pytest.mark.parametrize("old,new,message", BAD_FIXTURES.values(), ids=BAD_FIXTURES.keys())
def test_bad_fixture_names_line_and_field_and_writes_nothing(
    engine: Engine, tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _edited_copy(tmp_path, old, new)
    with pytest.raises(InputError, match=message):
        load_fixtures(engine, [FIXTURES / "actors.yaml", path])
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
        assert session.scalar(select(func.count()).select_from(Actor)) == 0  # the good actors file was not half-loaded


def test_error_line_numbers_point_at_the_bad_line(engine: Engine, tmp_path: Path) -> None:
    path = _edited_copy(tmp_path, "killed: 128", "killed: -128")
    bad_line = next(n for n, line in enumerate(path.read_text().splitlines(), 1) if "killed: -128" in line)
    with pytest.raises(InputError) as caught:
        load_fixtures(engine, [path])
    assert f"seed_incidents.yaml:{bad_line}: field killed" in str(caught.value)


def test_perpetrator_attributions_carry_their_source(seeded: Engine) -> None:
    with session_factory(seeded)() as session:
        rows = session.execute(
            select(Incident.key, IncidentActor.attribution, Source.url, Source.citation)
            .join(IncidentActor, IncidentActor.incident_id == Incident.id)
            .join(Source, Source.id == IncidentActor.source_id)
        ).all()
    expected = {item["key"]: item["perpetrators"][0]["source"] for item in SEED_YAML["incidents"]}
    assert {key: url or citation for key, _, url, citation in rows} == expected
