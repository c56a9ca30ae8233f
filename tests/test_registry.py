"""Editing the actor registry: add, alias, rename, set-parent; each a revision, cycles and clashes refused."""

from __future__ import annotations

from click.testing import CliRunner

from incidents import api
from incidents.cli import cli
from incidents.db import make_engine, session_factory
from incidents.models import Revision

from .conftest import FIXTURES


def run(url: str, *args: str):  # type: ignore[no-untyped-def]
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
