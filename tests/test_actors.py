"""Any spelling the datasets use resolves to one actor; scoped spellings only in their dataset."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import Engine

from incidents.analysis.filters import actor_ids, find_actor
from incidents.db.engine import session_factory, transaction
from incidents.errors import NotFoundError, UsageError
from incidents.records import normalize_name
from incidents.store.actors import ActorResolver, ActorSpec

from .conftest import FIXTURES

ISKP = "Islamic State Khorasan Province"


@pytest.mark.parametrize(
    "spelling",
    ["ISKP", "IS-K", "ISIS-K", "is k", "Islamic State - Khorasan Province", "Khorasan Chapter of the Islamic State",
     "Daesh-Khorasan", "Islamic State Khorasan Province (ISKP)", "islamic  state   KHORASAN province"],
)
def test_every_iskp_spelling_resolves_to_iskp(seeded: Engine, spelling: str) -> None:
    with session_factory(seeded)() as session:
        assert find_actor(session, spelling).name == ISKP


def test_ucdp_is_means_iskp_only_in_ucdp(seeded: Engine) -> None:
    with session_factory(seeded)() as session:
        resolver = ActorResolver(session, policy="strict")
        iskp = find_actor(session, ISKP).id
        parent = find_actor(session, "Islamic State").id
        assert resolver.resolve("IS", dataset="ucdp") == iskp
        assert resolver.resolve("IS") == parent
        assert resolver.resolve("IS", dataset="gtd") == parent


def test_the_registry_covers_the_frequent_dataset_names(seeded: Engine) -> None:
    """Every group name seen in 100+ GTD or UCDP rows resolves without creating anything."""
    with open(FIXTURES / "actor_names.csv", encoding="utf-8") as handle:
        frequent = [row for row in csv.DictReader(handle) if int(row["rows"]) >= 100]
    dataset = {"gtd_derived_pakistan_2007_2018": "gtd", "ucdp_ged_pakistan": "ucdp"}
    with session_factory(seeded)() as session:
        resolver = ActorResolver(session, policy="strict")
        for row in frequent:
            resolver.resolve(row["name"], dataset=dataset[row["dataset"]])
        assert resolver.created == []


def test_strict_policy_refuses_unknown_names_with_suggestions(seeded: Engine) -> None:
    with (
        session_factory(seeded)() as session,
        pytest.raises(UsageError, match="unknown actor 'Lashkar-e-Jhangvy'.*Lashkar-e-Jhangvi"),
    ):
        ActorResolver(session, policy="strict").resolve("Lashkar-e-Jhangvy")


def test_create_policy_creates_once_and_lists_it(seeded: Engine) -> None:
    with transaction(seeded) as session:
        resolver = ActorResolver(session, policy="create")
        first = resolver.resolve("Jaish al-Adl")
        assert resolver.resolve("JAISH AL ADL") == first
        assert resolver.created == ["Jaish al-Adl"]


def test_an_alias_cannot_name_two_actors(seeded: Engine) -> None:
    with session_factory(seeded)() as session:
        resolver = ActorResolver(session)
        with pytest.raises(UsageError, match="already names Islamic State Khorasan Province"):
            resolver.upsert(ActorSpec(name="Some other group", aliases=[("IS-K", "", None)]))


def test_subgroups_roll_up_to_their_parent(seeded: Engine) -> None:
    with session_factory(seeded)() as session:
        ttp = find_actor(session, "TTP")
        with_factions = actor_ids(session, "TTP", include_subgroups=True)
        assert ttp.id in with_factions
        assert find_actor(session, "Jamaat-ul-Ahrar").id in with_factions
        assert find_actor(session, "TTP-KM").id in with_factions
        assert find_actor(session, "Lashkar-e-Jhangvi").id not in with_factions
        assert actor_ids(session, "TTP") == {ttp.id}


def test_unknown_actor_filter_suggests_spellings(seeded: Engine) -> None:
    with session_factory(seeded)() as session, pytest.raises(NotFoundError, match="Did you mean.*ISIS-K"):
        find_actor(session, "ISIS-KK")


@pytest.mark.parametrize(
    "a,b", [("IS-K", "is k"), ("Tehrik-i-Taliban Pakistan", "tehrik i taliban pakistan"), ("Sehwān", "sehwan"),
            ("تحریک طالبان پاکستان", "تحریک  طالبان-پاکستان")]
)
def test_normalization(a: str, b: str) -> None:
    assert normalize_name(a) == normalize_name(b)


def test_names_in_other_scripts_are_names() -> None:
    assert normalize_name("تحریک طالبان پاکستان") == "تحریک طالبان پاکستان"
    assert normalize_name("مستونگ") != normalize_name("کوئٹہ")
