"""Editing the actor registry: add, alias, rename, set-parent; each a revision, cycles and clashes refused."""

from __future__ import annotations

import csv

from click.testing import CliRunner
from sqlalchemy import text

from incidents import api
from incidents.cli import cli
from incidents.db.engine import make_engine, session_factory
from incidents.models import Revision

from .conftest import FIXTURES


def run(url: str, *args: str):
    return CliRunner().invoke(cli, ["--db", url, *args])


def registry(url: str) -> dict[str, dict]:
    return {actor["name"]: actor for actor in api.actors(url)}


def test_add_alias_rename_set_parent(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    assert run(db_url, "actors", "add", "Jaish al-Adl", "--alias", "JaA", "--why", "seen in UCDP").exit_code == 0
    assert "JaA" in [a["alias"] for a in registry(db_url)["Jaish al-Adl"]["aliases"]]
    assert run(db_url, "actors", "alias", "ISKP", "Wilayat Khurasan", "--by", "a1").exit_code == 0
    assert [r["key"] for r in api.incidents(db_url, actor="Wilayat Khurasan")[0]] == [
        r["key"] for r in api.incidents(db_url, actor="ISKP")[0]] != []
    assert run(db_url, "actors", "rename", "Afghan Taliban", "Islamic Emirate of Afghanistan").exit_code == 0
    renamed = registry(db_url)["Islamic Emirate of Afghanistan"]
    assert "Afghan Taliban" in [a["alias"] for a in renamed["aliases"]]  # the old name still finds it
    assert run(db_url, "actors", "set-parent", "Hizb-ul-Ahrar", "TTP").exit_code == 0
    assert registry(db_url)["Hizb-ul-Ahrar"]["parent"] == "Tehrik-i-Taliban Pakistan"
    assert run(db_url, "actors", "set-parent", "Hizb-ul-Ahrar").exit_code == 0
    assert registry(db_url)["Hizb-ul-Ahrar"]["parent"] is None
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        fields = [(r.field, r.new_value) for r in session.query(Revision).filter(Revision.table_name == "actors")]
    engine.dispose()
    assert ("created", "Jaish al-Adl") in fields and ("name", "Islamic Emirate of Afghanistan") in fields
    assert ("parent", "Tehrik-i-Taliban Pakistan") in fields and ("alias", "Wilayat Khurasan") in fields


def test_registry_edits_refuse_what_would_break_it(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    cases = [
        (("actors", "add", "ISKP"), 2, "already names an actor"),
        (("actors", "alias", "TTP", "IS-K"), 2, "already names Islamic State Khorasan Province"),
        (("actors", "set-parent", "Islamic State", "ISKP"), 2, "cannot sit under itself"),
        (("actors", "rename", "TTP", "Lashkar-e-Jhangvi"), 2, "already names another actor"),
        (("actors", "alias", "Nobody Group", "NG"), 3, "No actor is called 'Nobody Group'"),
    ]
    before = registry(db_url)
    for args, code, message in cases:
        result = run(db_url, *args)
        assert result.exit_code == code and message in result.stderr, (args, result.output)
    assert registry(db_url) == before


def without_alias(url: str, alias: str) -> None:
    """The registry as a user might have it before anyone added ACLED's spelling of a group."""
    engine = make_engine(url)
    with engine.begin() as connection:
        assert connection.execute(text("DELETE FROM actor_aliases WHERE alias = :a"), {"a": alias}).rowcount == 1
    engine.dispose()


ACLED_BLA = "BLA: Balochistan Liberation Army"


def acled_rows_naming(name: str) -> list[dict[str, str]]:
    return [r for r in csv.DictReader((FIXTURES / "acled_format_sample.csv").open(encoding="utf-8"))
            if name in (r["actor1"], r["assoc_actor_1"])]


def test_an_unknown_name_on_import_comes_with_the_closest_actors(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml"])
    without_alias(db_url, ACLED_BLA)
    strict = run(db_url, "import", str(FIXTURES / "acled_format_sample.csv"), "--actors", "strict")
    assert strict.exit_code == 6 and "did you mean 'Baloch Liberation Army'" in strict.output, strict.output
    result = api.import_file(db_url, FIXTURES / "acled_format_sample.csv")
    assert ACLED_BLA in result.created_actors
    assert result.actor_suggestions[ACLED_BLA][0] == "Baloch Liberation Army"
    # Names with no near neighbour get no suggestion rather than a poor one.
    assert all(result.actor_suggestions.get(name, [None])[0] != "Unidentified perpetrator"
               for name in result.created_actors)


def test_actors_merge_keeps_every_alias_link_and_attribution(db_url: str) -> None:
    api.load(db_url, [FIXTURES / "actors.yaml", FIXTURES / "seed_incidents.yaml"])
    without_alias(db_url, ACLED_BLA)
    api.import_file(db_url, FIXTURES / "acled_format_sample.csv")
    expected = {r["event_id_cnty"] for r in acled_rows_naming(ACLED_BLA)}
    assert expected and {r["key"] for r in api.incidents(db_url, actor=ACLED_BLA)[0]} == {
        f"ACLED-{e}" for e in expected}
    before_bla = {r["key"] for r in api.incidents(db_url, actor="Baloch Liberation Army")[0]}
    aliases_before = {a["alias"] for a in registry(db_url)["Baloch Liberation Army"]["aliases"]}

    result = run(db_url, "actors", "merge", "Baloch Liberation Army", ACLED_BLA, "--why", "ACLED's spelling")
    assert result.exit_code == 0, result.output
    merged = registry(db_url)
    assert ACLED_BLA not in merged
    assert {a["alias"] for a in merged["Baloch Liberation Army"]["aliases"]} == aliases_before | {ACLED_BLA}
    after = {r["key"] for r in api.incidents(db_url, actor="Baloch Liberation Army")[0]}
    assert after == before_bla | {f"ACLED-{e}" for e in expected}
    assert {r["key"] for r in api.incidents(db_url, actor=ACLED_BLA)[0]} == after  # the old name still finds them
    show = api.show(db_url, f"ACLED-{sorted(expected)[0]}")
    assert [a["actor"] for a in show["actors"] if a["role"] == "perpetrator"] == ["Baloch Liberation Army"]
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        recorded = [(r.field, r.old_value, r.new_value, r.reason) for r in session.query(Revision)
                    .filter(Revision.table_name == "actors", Revision.field == "merged_into")]
    engine.dispose()
    assert recorded == [("merged_into", ACLED_BLA, "Baloch Liberation Army", "ACLED's spelling")]
    assert run(db_url, "actors", "merge", "ISKP", "ISKP").exit_code == 2
    assert "sits under" in run(db_url, "actors", "merge", "ISKP", "Islamic State").output
