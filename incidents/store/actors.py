"""The actor registry: resolving any spelling to one actor, fuzzy suggestions, and the registry's edits."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from incidents.errors import FieldError, NotFoundError, UsageError
from incidents.models import Actor, ActorAlias, ActorKind, Attribution, IncidentActor, Source
from incidents.records import normalize_name, parse_choice
from incidents.store.revisions import RevisionLog

# Strongest first; when two sources attribute one incident to one actor, the stronger word stands.
ATTRIBUTION_STRENGTH = [Attribution.CLAIMED, Attribution.ATTRIBUTED, Attribution.SUSPECTED, Attribution.DENIED]


@dataclass
class ActorSpec:
    name: str
    kind: ActorKind = ActorKind.GROUP
    parent: str | None = None
    description: str | None = None
    aliases: list[tuple[str, str, str | None]] = field(default_factory=list)  # (alias, dataset, note)


SUGGESTION_CUTOFF = 80  # rapidfuzz token_sort_ratio, 0-100: below this a name is no useful hint


class ActorResolver:
    """Resolves any spelling to one actor through normalized aliases, with every alias held in memory.

    policy 'create': an unknown name becomes a new actor and is listed in `created`;
    policy 'strict': an unknown name is an error.
    """

    def __init__(self, session: Session, policy: str = "create") -> None:
        if policy not in {"create", "strict"}:
            raise UsageError(f"actor policy {policy!r} is not one of: create, strict")
        self.session = session
        self.policy = policy
        self.created: list[str] = []
        self._by_key: dict[tuple[str, str], int] = {}
        self._names: dict[int, str] | None = None  # actor id -> name, read when first suggesting
        for actor_id, dataset, normalized in session.execute(
            select(ActorAlias.actor_id, ActorAlias.dataset, ActorAlias.normalized)
        ):
            self._by_key[(dataset, normalized)] = actor_id
        for actor_id, name in session.execute(select(Actor.id, Actor.name)):
            self._by_key.setdefault(("", normalize_name(name)), actor_id)

    def find(self, name: str, dataset: str = "") -> int | None:
        normalized = normalize_name(name)
        if dataset:
            found = self._by_key.get((dataset, normalized))
            if found is not None:
                return found
        return self._by_key.get(("", normalized))

    def resolve(self, name: str, dataset: str = "") -> int:
        found = self.find(name, dataset)
        if found is not None:
            return found
        if not normalize_name(name):
            raise UsageError(f"actor name {name!r} has no letters or digits")
        if self.policy == "strict":
            hint = self.suggest(name)
            raise UsageError(
                f"unknown actor {name!r} (strict actor policy)" + (f"; did you mean {hint}?" if hint else "")
            )
        actor = Actor(name=name.strip(), kind=ActorKind.GROUP.value)
        self.session.add(actor)
        self.session.flush()
        self._add_alias(actor.id, name, "")
        self.created.append(actor.name)
        return actor.id

    def suggest(self, name: str, limit: int = 3) -> str:
        return ", ".join(repr(n) for n in self.closest(name, limit=limit))

    def closest(self, name: str, limit: int = 3, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """The registry actors whose name or any alias is closest to `name` (rapidfuzz), best first, from the
        spellings this resolver holds already: 'BLA: Balochistan Liberation Army' finds Baloch Liberation Army."""
        if self._names is None:
            self._names = {actor_id: actor_name for actor_id, actor_name in
                           self.session.execute(select(Actor.id, Actor.name))}
        owners: dict[str, str] = {}
        for (_, spelling), actor_id in self._by_key.items():
            if actor_id not in self._names:  # created since the names were read
                self._names[actor_id] = self.session.get_one(Actor, actor_id).name
            if self._names[actor_id] not in exclude:
                owners.setdefault(spelling, self._names[actor_id])
        found: list[str] = []
        for spelling, _score, _ in process.extract(normalize_name(name), list(owners), scorer=fuzz.token_sort_ratio,
                                                   limit=limit * 4, score_cutoff=SUGGESTION_CUTOFF):
            if owners[spelling] not in found:
                found.append(owners[spelling])
        return found[:limit]

    def _add_alias(self, actor_id: int, alias: str, dataset: str, note: str | None = None) -> None:
        key = (dataset, normalize_name(alias))
        owner = self._by_key.get(key)
        if owner is not None and owner != actor_id:
            other = self.session.get(Actor, owner)
            raise UsageError(
                f"alias {alias!r}{f' ({dataset})' if dataset else ''} already names "
                f"{other.name if other else owner}; an alias can name one actor only"
            )
        exists = self.session.scalar(
            select(ActorAlias).where(ActorAlias.dataset == dataset, ActorAlias.normalized == key[1])
        )
        if exists is None:
            self.session.add(
                ActorAlias(actor_id=actor_id, alias=alias.strip(), normalized=key[1], dataset=dataset, note=note)
            )
        self._by_key[key] = actor_id

    def upsert(self, spec: ActorSpec) -> tuple[int, bool]:
        """Create or update one registry entry; returns (actor id, whether anything changed)."""
        actor = self.session.scalar(select(Actor).where(Actor.name == spec.name))
        existing_id = self.find(spec.name)
        if actor is None and existing_id is not None:
            actor = self.session.get(Actor, existing_id)
        changed = False
        if actor is None:
            actor = Actor(name=spec.name, kind=spec.kind.value, description=spec.description)
            self.session.add(actor)
            self.session.flush()
            changed = True
        else:
            for attr, value in (("kind", spec.kind.value), ("description", spec.description)):
                if value is not None and getattr(actor, attr) != value:
                    setattr(actor, attr, value)
                    changed = True
        if spec.parent:
            parent_id = self.find(spec.parent)
            if parent_id is None:
                raise UsageError(f"actor {spec.name!r}: parent {spec.parent!r} is not in the registry (list it first)")
            parent = self.session.get(Actor, parent_id)
            if parent is not None and _is_within(self.session, parent, actor):
                # The database already holds them as one (an analyst merged them): the registry's parent is
                # the actor itself or one of its own sub-groups. The analyst's merge stands; no cycle is made.
                parent_id = actor.parent_id
            if actor.parent_id != parent_id:
                actor.parent_id = parent_id
                changed = True
        before = len(self._by_key)
        self._add_alias(actor.id, spec.name, "")
        for alias, dataset, note in spec.aliases:
            self._add_alias(actor.id, alias, dataset, note)
        return actor.id, changed or len(self._by_key) != before


def stronger_attribution(a: str | None, b: str | None) -> str | None:
    """The stronger of two attributions of one actor to one incident. A link with no attribution given (UCDP's
    sides, a native link without one) still says the actor did it, so it outranks a denial and only a denial."""
    ranks: dict[str | None, float] = {member.value: rank for rank, member in enumerate(ATTRIBUTION_STRENGTH)}
    ranks[None] = ranks[Attribution.DENIED.value] - 0.5
    return min((a, b), key=lambda x: ranks[x])


def _actor(session: Session, name: str) -> Actor:
    resolver = ActorResolver(session, "strict")
    actor_id = resolver.find(name)
    if actor_id is None:
        hint = resolver.suggest(name)
        raise NotFoundError(f"No actor is called {name!r}." + (f" Did you mean {hint}?" if hint else ""))
    actor = session.get(Actor, actor_id)
    assert actor is not None
    return actor


def add_actor(session: Session, name: str, kind: str = "group", parent: str | None = None,
              aliases: list[str] | None = None, who: str | None = None, why: str | None = None) -> Actor:
    """A new registry entry; refused when the name (or an alias) already names an actor."""
    resolver = ActorResolver(session, "strict")
    if resolver.find(name) is not None:
        raise UsageError(f"{name!r} already names an actor; add a spelling with: incidents actors alias")
    kind_value = parse_choice(kind, "kind", ActorKind) or ActorKind.GROUP
    actor_id, _ = resolver.upsert(ActorSpec(name=name.strip(), kind=kind_value, parent=parent,
                                            aliases=[(alias, "", None) for alias in aliases or []]))
    RevisionLog(session, who=who, why=why).record("actors", actor_id, "created", None, name.strip())
    session.flush()
    return session.get(Actor, actor_id)  # type: ignore[return-value]


def add_alias(session: Session, name: str, alias: str, dataset: str = "", who: str | None = None,
              why: str | None = None) -> Actor:
    if dataset not in {"", "gtd", "ucdp", "acled"}:
        raise FieldError("dataset", dataset, "is not one of: gtd, ucdp, acled")
    actor = _actor(session, name)
    resolver = ActorResolver(session, "strict")
    resolver._add_alias(actor.id, alias, dataset)
    RevisionLog(session, who=who, why=why).record("actors", actor.id, "alias", None,
                                                alias + (f" ({dataset})" if dataset else ""))
    session.flush()
    return actor


def rename_actor(session: Session, name: str, new_name: str, who: str | None = None,
                 why: str | None = None) -> Actor:
    """Rename an actor; the old name stays an alias, so imports and filters that use it still find it."""
    actor = _actor(session, name)
    new_name = new_name.strip()
    other = ActorResolver(session, "strict").find(new_name)
    if other is not None and other != actor.id:
        raise UsageError(f"{new_name!r} already names another actor; to fold one into the other use: "
                         f"incidents actors merge {new_name!r} {name!r}")
    if session.scalar(select(Actor.id).where(Actor.name == new_name, Actor.id != actor.id)) is not None:
        raise UsageError(f"{new_name!r} already names another actor")
    old = actor.name
    actor.name = new_name
    resolver = ActorResolver(session, "strict")
    resolver._add_alias(actor.id, new_name, "")
    resolver._add_alias(actor.id, old, "")
    RevisionLog(session, who=who, why=why).record("actors", actor.id, "name", old, new_name)
    session.flush()
    return actor


def _is_within(session: Session, actor: Actor, group: Actor) -> bool:
    """Whether `actor` is `group` or sits somewhere under it."""
    ancestor: Actor | None = actor
    while ancestor is not None:
        if ancestor.id == group.id:
            return True
        ancestor = session.get(Actor, ancestor.parent_id) if ancestor.parent_id else None
    return False


def merge_actors(session: Session, keep_name: str, other_name: str, who: str | None = None,
                 why: str | None = None) -> dict[str, object]:
    """Fold actor `other_name` into `keep_name`: its name and every alias become KEEP's aliases, its incident
    links and sub-groups follow, and the merge is recorded. Reports keep the name as their source stated it.
    Where an incident names both, one link stays: the stronger attribution, with its source (the other is kept
    in the history)."""
    keep, other = _actor(session, keep_name), _actor(session, other_name)
    if keep.id == other.id:
        raise UsageError(f"{keep_name!r} and {other_name!r} are one actor already")
    return merge_actor_records(session, keep, other, who, why)


def merge_actor_records(session: Session, keep: Actor, other: Actor, who: str | None = None,
                        why: str | None = None, name_as_alias: bool = True) -> dict[str, object]:
    """merge_actors, given the two actors themselves; with name_as_alias False OTHER's name does not become an
    alias of KEEP (a registry that names it gives it its spellings)."""
    other_name = other.name
    if _is_within(session, keep, other):
        raise UsageError(f"{keep.name!r} sits under {other.name!r}; merge the other way round, or move it first")
    revisions = RevisionLog(session, who=who, why=why or f"merge actor {other.name} into {keep.name}")
    aliases = list(session.scalars(select(ActorAlias).where(ActorAlias.actor_id == other.id)))
    kept_keys = {(a.dataset, a.normalized) for a in session.scalars(
        select(ActorAlias).where(ActorAlias.actor_id == keep.id))}
    for alias in aliases:
        if (alias.dataset, alias.normalized) in kept_keys:
            session.delete(alias)
        else:
            alias.actor_id = keep.id
        scope = f" ({alias.dataset})" if alias.dataset else ""
        revisions.record("actors", keep.id, "alias", None, alias.alias + scope)
    own_name = ("", normalize_name(other.name))
    spellings = len(aliases)
    held = session.scalar(select(ActorAlias.actor_id).where(ActorAlias.dataset == "",
                                                            ActorAlias.normalized == own_name[1]))
    if name_as_alias and held is None and own_name not in kept_keys | {(a.dataset, a.normalized) for a in aliases}:
        session.add(ActorAlias(actor_id=keep.id, alias=other.name, normalized=own_name[1], dataset=""))
        spellings += 1
    moved = joined = 0
    kept_links = {(link.incident_id, link.role): link for link in session.scalars(
        select(IncidentActor).where(IncidentActor.actor_id == keep.id))}
    for link in list(session.scalars(select(IncidentActor).where(IncidentActor.actor_id == other.id))):
        twin = kept_links.get((link.incident_id, link.role))
        if twin is None:
            link.actor_id = keep.id
            revisions.record("incident_actors", link.id, "actor", other.name, keep.name)
            moved += 1
            continue
        stronger = stronger_attribution(twin.attribution, link.attribution)
        if stronger != twin.attribution:
            revisions.record("incident_actors", twin.id, "attribution", twin.attribution, stronger)
            twin.attribution, twin.source_id = stronger, link.source_id
        revisions.record("incident_actors", link.id, "actor", other.name,
                         f"{keep.name} (one link: {link.attribution or 'no'} attribution by source {link.source_id})")
        session.delete(link)
        joined += 1
    children = list(session.scalars(select(Actor).where(Actor.parent_id == other.id)))
    for child in children:
        child.parent_id = keep.id
        revisions.record("actors", child.id, "parent", other.name, keep.name)
    if keep.parent_id is None and other.parent_id is not None and other.parent_id != keep.id:
        keep.parent_id = other.parent_id
    revisions.record("actors", other.id, "merged_into", other.name, keep.name)
    session.flush()
    session.delete(other)
    session.flush()
    return {"kept": keep.name, "merged": other_name, "aliases": spellings, "links_moved": moved,
            "links_joined": joined, "subgroups": len(children)}


def fold_into_registry(session: Session, specs: list[ActorSpec], who: str | None = None) -> list[tuple[str, str]]:
    """Before a registry loads: merge each actor outside it (made by an import, or by hand) that it names into the
    entry that names it, recorded as an actor merge; returns (actor, entry) pairs.

    A spelling is looked up as the datasets of the actor's links scope it first (UCDP's 'IS' is ISKP), then as
    any source writes it. Spellings the registry gives to an entry are left to the registry (the generic 'IS'
    stays Islamic State's); the actor's other spellings follow it into the entry.
    """
    claims: dict[tuple[str, str], str] = {}
    kinds = {spec.name: spec.kind for spec in specs}
    for spec in specs:
        claims.setdefault(("", normalize_name(spec.name)), spec.name)
        for alias, dataset, _ in spec.aliases:
            claims.setdefault((dataset, normalize_name(alias)), spec.name)
    folded = []
    for actor in session.scalars(select(Actor).where(Actor.name.not_in(kinds)).order_by(Actor.id)).all():
        datasets = sorted({d for (d,) in session.execute(
            select(Source.dataset).join(IncidentActor, IncidentActor.source_id == Source.id)
            .where(IncidentActor.actor_id == actor.id).distinct()) if d})
        aliases = list(session.scalars(select(ActorAlias).where(ActorAlias.actor_id == actor.id)))
        targets: set[str] = set()
        for spelling in {normalize_name(actor.name)} | {a.normalized for a in aliases}:
            scoped = {claims[(d, spelling)] for d in datasets if (d, spelling) in claims}
            targets |= scoped or ({claims[("", spelling)]} if ("", spelling) in claims else set())
        if len(targets) > 1:
            raise UsageError(f"actor {actor.name!r} is named by several registry entries "
                             f"({', '.join(sorted(targets))}); merge it by hand first: "
                             "incidents actors merge KEEP OTHER")
        if not targets:
            continue
        target = targets.pop()
        for row in aliases:
            if (row.dataset, row.normalized) in claims:
                session.delete(row)
        keep = session.scalar(select(Actor).where(Actor.name == target))
        if keep is None:
            keep = Actor(name=target, kind=kinds[target].value)
            session.add(keep)
        session.flush()
        name = actor.name
        merge_actor_records(session, keep, actor, who, f"registry loaded: {name} is {target}", name_as_alias=False)
        folded.append((name, target))
    return folded


def set_parent(session: Session, name: str, parent: str | None, who: str | None = None,
               why: str | None = None) -> Actor:
    """Place an actor under a parent group (for roll-ups), or at the top with parent None. Cycles are refused."""
    actor = _actor(session, name)
    parent_actor = _actor(session, parent) if parent else None
    if parent_actor is not None and _is_within(session, parent_actor, actor):
        raise UsageError(f"{parent_actor.name!r} is {actor.name!r} or one of its sub-groups; "
                         "a group cannot sit under itself")
    old = session.get(Actor, actor.parent_id).name if actor.parent_id else None  # type: ignore[union-attr]
    actor.parent_id = parent_actor.id if parent_actor else None
    RevisionLog(session, who=who, why=why).record("actors", actor.id, "parent", old,
                                                parent_actor.name if parent_actor else None)
    session.flush()
    return actor
