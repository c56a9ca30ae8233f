"""From an article to proposed incidents, every field with the sentence it rests on (docs/extraction.md).

Rule-based and offline: sentences are split by punctuation, an attack is a clause that names an attack (a
bombing, blast, shooting ...) together with a toll or a place, and everything else (disasters, statements,
threats, operations that killed militants, statistics over a period) is left out. Dates are resolved against the
publication date ('on Sunday', 'last month', 'in 2023'); places through the gazetteer (incidents.gazetteer); tolls
through the same parser as `add` (incidents.records.parse_toll); groups through the actor registry's spellings.
A clause that names no group takes the group the sentences just before it were about, and says so
(`from_context`). Nothing here writes to the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from incidents.errors import FieldError
from incidents.gazetteer import resolve_place
from incidents.records import NUMBER_WORDS, parse_toll

# ------------------------------------------------------------------------------------------------ sentences


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n\s*\n")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Dr.", "St.", "Gen.", "Lt.", "Col.", "Maj.", "Capt.", "Sgt.", "No.", "Jan.", "Feb.",
                  "Aug.", "Sept.", "Sep.", "Oct.", "Nov.", "Dec.", "U.S.", "U.N.", "a.m.", "p.m.")


def sentences(text: str) -> list[Sentence]:
    """The sentences of `text` with their character offsets (text[start:end] is the sentence)."""
    found: list[Sentence] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        piece = text[start:match.start()]
        if piece.rstrip().endswith(_ABBREVIATIONS):
            continue
        found.extend(_trimmed(text, start, match.start()))
        start = match.end()
    found.extend(_trimmed(text, start, len(text)))
    return found


def _trimmed(text: str, start: int, end: int) -> list[Sentence]:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return []
    offset = start + piece.index(stripped)
    return [Sentence(offset, offset + len(stripped), stripped)]


# ----------------------------------------------------------------------------------------------- proposals


@dataclass
class Evidence:
    """The sentence a field rests on, and where it is in the article."""

    field: str
    value: Any
    sentence: str
    start: int
    end: int


@dataclass
class Perpetrator:
    name: str  # the registry's name
    attribution: str  # claimed, attributed, suspected or denied
    from_context: bool = False
    stated: str | None = None  # as the article spells it ('ISKP'), which a report keeps


@dataclass
class Proposal:
    """One attack the article reports."""

    date: str | None = None  # at its precision: 2023, 2023-07 or 2023-07-30
    date_precision: str | None = None
    place: str | None = None
    admin2: str | None = None
    admin1: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    place_score: float | None = None
    killed: int | None = None
    killed_at_least: bool = False
    wounded: int | None = None
    attack_type: str | None = None
    target: str | None = None
    perpetrators: list[Perpetrator] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    # A sentence that gives a toll or a date but names no attack ('the death toll rose to 35'): it only adds to
    # the attack before it, and is dropped when there is none.
    continuation: bool = False
    toll_update: bool = False  # 'the death toll rose to 63': replaces a lower toll given before

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date, "date_precision": self.date_precision, "place": self.place, "admin2": self.admin2,
            "admin1": self.admin1, "country": self.country, "latitude": self.latitude, "longitude": self.longitude,
            "place_score": self.place_score, "killed": self.killed, "killed_at_least": self.killed_at_least,
            "wounded": self.wounded, "attack_type": self.attack_type, "target": self.target,
            "perpetrators": [vars(p) for p in self.perpetrators],
            "evidence": [vars(e) for e in self.evidence],
        }


ATTACK = re.compile(r"\b(suicide bomb(?:ing|er)|bomb(?:ing|ings|ed|er|ers)?|blasts?|explosions?|shooting|shot dead|"
                    r"gunmen|grenade|IED|ambush(?:ed)?|rocket attack|attack(?:ed)?|struck)\b", re.IGNORECASE)
ATTACK_TYPES = {"suicide bombing": "suicide bombing", "suicide bomber": "suicide bombing", "bombing": "bombing",
                "bombings": "bombing", "bombed": "bombing", "bomb": "bombing", "blast": "bombing",
                "blasts": "bombing", "explosion": "bombing", "explosions": "bombing", "grenade": "grenade attack",
                "ied": "bombing", "shooting": "armed assault", "shot dead": "armed assault", "gunmen": "armed assault",
                "ambush": "armed assault", "ambushed": "armed assault", "rocket attack": "rocket attack"}
# A clause with one of these is no attack to record: nature, plans and threats, talk about attacks in general,
# operations that killed militants, and figures over a period.
NOT_AN_ATTACK = re.compile(
    r"\b(floods?|earthquakes?|quake|landslides?|cyclone|rains|would|will|plans? to|threat(?:en|ened|s)?|vow(?:ed|s)?|"
    r"warn(?:ed|s)?|no match for|operations?|raids?|militants were killed|terrorists were killed|"
    r"killed \w+ (?:militants|terrorists)|first half|so far this year|per cent|percent)\b", re.IGNORECASE)
_WORD = "(?:" + "|".join(sorted([*NUMBER_WORDS, "hundred", "thousand"], key=len, reverse=True)) + ")"
# 60, 1,200, sixty, sixty-two, one hundred and twenty: bounded, so a list of figures cannot make the search slow
NUMBER = rf"(?:\d{{1,3}}(?:,\d{{3}}){{1,3}}(?!\d|,\d)|\d{{1,7}}(?!\d|,\d)|{_WORD}(?:(?:[- ]|\s+and\s+){_WORD}){{0,4}})"
BOUND = r"(?:at least |more than |over |as many as )?"
WHO = r"people|persons|civilians|soldiers|policemen|police|personnel|worshippers"
KILLED = [
    re.compile(rf"\b(?:killed|killing|claimed the lives of|left|leaving)\s+(?P<n>{BOUND}{NUMBER})"
               rf"(?=\s*(?:{WHO}|,|\.|;|$| and| in| while|\b))", re.IGNORECASE),
    re.compile(rf"\b(?P<n>{BOUND}{NUMBER})\s+(?:[\w-]+\s+){{0,3}}?(?:were|have been|had been|was)?\s*"
               r"(?:killed|dead|died|martyred|lost their lives|lives were lost|embraced martyrdom)\b", re.IGNORECASE),
    re.compile(r"\bdeath toll\s+(?:\w+\s+){0,3}?(?:rose|climbed|reached|jumped|increased|escalated|is|was|stood at)\s+"
               rf"(?:to\s+)?(?P<n>{BOUND}{NUMBER})", re.IGNORECASE),
]
WOUNDED = [
    re.compile(rf"\b(?:injuring|wounding|injured|wounded)\s+(?P<n>{BOUND}{NUMBER})(?=\s|,|\.|$)", re.IGNORECASE),
    re.compile(rf"\b(?P<n>{BOUND}{NUMBER})\s+(?:\w+\s+){{0,3}}?(?:were|have been|was)?\s*"
               r"(?:injured|wounded|hurt)\b", re.IGNORECASE),
]
PLACE = re.compile(r"\b(?:in|at|near|of|outside|inside|through|rocked|hit|struck|targeted)\s+"
                   r"(?:(?:the\s+)?(?:north|south|east|west|northern|southern|eastern|western|northwest|northwestern|"
                   r"southwest|southwestern|northeast|northeastern|southeast|southeastern|central|restive|"
                   r"troubled|turbulent|remote)\s+)?(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")
TARGET = re.compile(r"\b(?:at|on|and)\s+(?:a|an|the)\s+(?P<target>[a-z][a-z -]{2,40}?)\s+in\s+(?P<name>[A-Z][\w'’-]+)")
NOT_PLACES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
              "the", "a", "an"}
MONTHS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"], start=1)}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CLAUSES = re.compile(r",\s+while\s+|;\s+|,\s+whereas\s+")
PRONOUN = re.compile(r"\b(it|they|the group|the outfit|the militants|the organisation|the organization)\b",
                     re.IGNORECASE)


def _count(match: re.Match[str] | None) -> tuple[int | None, bool]:
    if match is None:
        return None, False
    try:
        toll = parse_toll(match.group("n").strip().rstrip(","), "killed")
    except FieldError:
        return None, False
    return toll.best if toll.best is not None else toll.high, toll.at_least


def _first(patterns: list[re.Pattern[str]], text: str) -> tuple[int | None, bool]:
    for pattern in patterns:
        for match in pattern.finditer(text):
            value = _count(match)
            if value[0] is not None:
                return value
    return None, False


def _date(text: str, published: date | None) -> tuple[str | None, str | None]:
    """(date at its precision, precision) the clause gives, resolved against the publication date; a date that is
    none ('31 February 2023') or one a page prints with a time ('September 03, 2024 22:35': a byline) gives none."""
    try:
        when, precision = _date_unchecked(re.sub(
            r"\b(?:\w+\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+\w+,?\s+\d{4})\s*(?:,\s*)?\d{1,2}:\d{2}", " ", text),
            published)
        if when is not None:
            date.fromisoformat(when if len(when) == 10 else f"{when}-01" if len(when) == 7 else f"{when}-01-01")
        return when, precision
    except (ValueError, OverflowError):
        return None, None


def _date_unchecked(text: str, published: date | None) -> tuple[str | None, str | None]:
    lowered = text.lower()
    day_month_year = re.search(r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r"),?\s+(\d{4})\b", lowered) or None
    if day_month_year:
        return f"{int(day_month_year.group(3)):04d}-{MONTHS[day_month_year.group(2)]:02d}-" \
               f"{int(day_month_year.group(1)):02d}", "day"
    month_day_year = re.search(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b", lowered)
    if month_day_year:
        return f"{int(month_day_year.group(3)):04d}-{MONTHS[month_day_year.group(1)]:02d}-" \
               f"{int(month_day_year.group(2)):02d}", "day"
    month_year = re.search(r"\b(" + "|".join(MONTHS) + r")\s+(\d{4})\b", lowered)
    if month_year:
        return f"{int(month_year.group(2)):04d}-{MONTHS[month_year.group(1)]:02d}", "month"
    if published is not None:
        # 'on July 30' or '30 July' with no year: the last such day on or before the publication day
        day_month = re.search(r"\b(" + "|".join(MONTHS) + r")\s+(\d{1,2})\b(?!,?\s*\d{4})", lowered) or re.search(
            r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r")\b(?!,?\s*\d{4})", lowered)
        if day_month:
            first, second = day_month.groups()
            month, day = (MONTHS[first], int(second)) if first in MONTHS else (MONTHS[second], int(first))
            try:
                when = date(published.year, month, day)
                if when > published:
                    when = date(published.year - 1, month, day)
                return when.isoformat(), "day"
            except ValueError:
                pass
        weekday = re.search(r"\b(?:on\s+|last\s+|this\s+)?(" + "|".join(WEEKDAYS) + r")\b", lowered)
        if weekday:
            back = (published.weekday() - WEEKDAYS.index(weekday.group(1))) % 7
            return (published - timedelta(days=back)).isoformat(), "day"
        if re.search(r"\b(today|this morning|tonight)\b", lowered):
            return published.isoformat(), "day"
        if re.search(r"\b(yesterday|last night)\b", lowered):
            return (published - timedelta(days=1)).isoformat(), "day"
        if re.search(r"\blast month\b", lowered):
            previous = published.replace(day=1) - timedelta(days=1)
            return f"{previous.year:04d}-{previous.month:02d}", "month"
        if re.search(r"\blast year\b", lowered):
            return f"{published.year - 1:04d}", "year"
    year = re.search(r"\b(?:in|during|of)\s+((?:19|20)\d{2})\b", lowered)
    if year:
        return year.group(1), "year"
    return None, None


def _resolved(name: str, countries: tuple[str, ...]) -> Any:
    for country in countries:
        found = resolve_place(name, country)
        if found is not None and found.score >= 0.99:
            return found
    return None


MOST_PLACES = 8  # places one clause may name: a longer list is no account of one attack, and would be slow
POSSESSIVE = re.compile(r"[’']s\s+")


def _places(text: str, countries: tuple[str, ...]) -> list[tuple[str, Any, re.Match[str]]]:
    """(name, resolved place or None, match) of each place the clause names after in/at/near. 'Quetta's Poodgali
    Chowk' is Poodgali Chowk in Quetta; a name the gazetteer does not know counts only after 'in' and in one or
    two words ('in Orakzai'), so 'of Islamic State' or 'at Police Lines' are no places."""
    found: list[tuple[str, Any, re.Match[str]]] = []
    for match in PLACE.finditer(text):
        if len(found) >= MOST_PLACES:
            break
        words = match.group("name").split()
        while words and words[-1].lower() in NOT_PLACES:
            words.pop()
        if not words or words[0].lower() in NOT_PLACES:
            continue
        name = re.sub(r"[’']s$", "", " ".join(words))  # 'Pakistan's' at the end of the clause
        parts = POSSESSIVE.split(name, maxsplit=1)
        context = None
        if len(parts) == 2:
            context, name = parts[0], parts[1]
            if not name or not name[0].isupper():
                name, context = context, None
        resolved = _resolved(f"{name}, {context}" if context else name, countries) or _resolved(name, countries)
        if resolved is None and context is not None:  # 'Quetta's Poodgali Chowk': a site the gazetteer lacks
            within = _resolved(context, countries)
            if within is not None and within.kind != "country":
                found.append((name, within, match))
                continue
        if resolved is not None and resolved.kind == "country":
            continue
        if resolved is None and not (text[match.start():match.start() + 3].lower() == "in " and len(name.split()) <= 2):
            continue
        found.append((name, resolved, match))
    return found


def propose(text: str, published: date | None = None, groups: dict[str, str] | None = None,
            countries: tuple[str, ...] = ("PAK", "AFG")) -> list[Proposal]:
    """The attacks `text` reports. `groups` maps each spelling of a group (as written, any case) to the registry's
    name; `countries` are where places are looked for first."""
    groups = groups or {}
    # An acronym (BLA, TTP) counts only in capitals: 'bla' in a sentence is no group.
    alternatives = [f"(?-i:{re.escape(name)})" if name.isupper() else re.escape(name)
                    for name in sorted(groups, key=len, reverse=True)]
    group_pattern = re.compile(r"\b(" + "|".join(alternatives) + r")\b", re.IGNORECASE) if groups else None
    lowered_groups = {name.lower(): canonical for name, canonical in groups.items()}
    proposals: list[Proposal] = []
    topic: tuple[str, str] | None = None  # the group the sentences are about: (registry name, as spelt)
    for sentence in sentences(text):
        named = [(lowered_groups[m.group(1).lower()], m.group(1)) for m in group_pattern.finditer(sentence.text)] \
            if group_pattern else []
        clause_start = 0
        pieces = []
        for cut in CLAUSES.finditer(sentence.text):
            pieces.append((clause_start, cut.start()))
            clause_start = cut.end()
        pieces.append((clause_start, len(sentence.text)))
        for start, end in pieces:
            clause = sentence.text[start:end]
            proposals.extend(_clause_proposals(clause, sentence, published, countries, group_pattern,
                                               lowered_groups, topic))
        if named:
            topic = named[-1]
    proposals = _merged(proposals)
    # A place the gazetteer does not know is in the country the article's other places are in.
    known = [p.country for p in proposals if p.country]
    for proposal in proposals:
        if proposal.country is None and known:
            proposal.country = max(set(known), key=known.count)
    return proposals


def _place_words(proposal: Proposal) -> set[str]:
    from incidents.gazetteer import fold

    return set(fold(proposal.place or "").split())


def _same_attack(kept: Proposal, new: Proposal) -> bool:
    """Whether `new`, later in the article, is more about the attack `kept` rather than another one: its date and
    place do not contradict, and one place lies in the other (a province holds its towns)."""
    if kept.date and new.date and not (kept.date.startswith(new.date) or new.date.startswith(kept.date)):
        return False
    if new.place is None or kept.place is None:
        return True
    if _place_words(new) & _place_words(kept):
        return True
    if new.admin2 and kept.admin2 and new.admin2 == kept.admin2:
        return True
    province_only = (new.admin2 is None and new.latitude is None) or (kept.admin2 is None and kept.latitude is None)
    return bool(province_only and new.admin1 and new.admin1 == kept.admin1)


def _merged(proposals: list[Proposal]) -> list[Proposal]:
    """One proposal per attack: a later sentence about the same attack adds what the first lacked (the date, the
    toll as it rose, the group), with its own evidence. A proposal with a perpetrator taken from context is not
    merged into one without."""
    kept: list[Proposal] = []
    for proposal in proposals:
        if proposal.continuation:
            into = kept[-1] if kept else None
            if into is None:
                continue
        else:
            into = next((k for k in reversed(kept) if _same_attack(k, proposal)), None)
        if into is None or (proposal.target and into.target and proposal.target != into.target):
            kept.append(proposal)
            continue
        if into.date is None or (proposal.date and len(proposal.date) > len(into.date)):
            into.date, into.date_precision = proposal.date, proposal.date_precision
        if proposal.place and (into.place is None or (into.admin2 is None and into.latitude is None
                                                      and proposal.latitude is not None)):
            for name in ("place", "admin2", "admin1", "country", "latitude", "longitude", "place_score"):
                setattr(into, name, getattr(proposal, name))
        if proposal.killed is not None and (into.killed is None or (proposal.killed > into.killed and (
                proposal.toll_update or not proposal.continuation))):
            into.killed, into.killed_at_least = proposal.killed, proposal.killed_at_least
        if proposal.wounded is not None and (into.wounded is None or proposal.wounded > into.wounded):
            into.wounded = proposal.wounded
        into.attack_type = into.attack_type or proposal.attack_type
        into.target = into.target or proposal.target
        if proposal.perpetrators and (not into.perpetrators or all(p.from_context for p in into.perpetrators)):
            into.perpetrators = proposal.perpetrators
        into.evidence.extend(proposal.evidence)
    return kept


def _clause_proposals(clause: str, sentence: Sentence, published: date | None, countries: tuple[str, ...],
                      group_pattern: re.Pattern[str] | None, lowered_groups: dict[str, str],
                      topic: tuple[str, str] | None) -> list[Proposal]:
    attack = ATTACK.search(clause)
    if NOT_AN_ATTACK.search(clause):
        return []
    killed, at_least = _first(KILLED, clause)
    wounded, _ = _first(WOUNDED, clause)
    if attack is None:  # more about the attack before it, if anything: its toll, or where and when 'the incident' was
        about = re.search(r"\bthe (?:incident|attack|blast|explosion|bombing)\b", clause, re.IGNORECASE)
        if killed is None and wounded is None and not about:
            return []
        more = Proposal(killed=killed, killed_at_least=at_least, wounded=wounded, continuation=True,
                        toll_update=bool(KILLED[2].search(clause)))
        if about:
            more.date, more.date_precision = _date(clause, published)
            found = _places(clause, countries)
            if found and found[0][1] is not None:  # the first place it names ('in Sibi, 200 km from Quetta')
                place_name, resolved, _ = found[0]
                more.place, more.country, more.admin1, more.admin2 = (place_name, resolved.country,
                                                                     resolved.admin1_code, resolved.admin2_code)
                more.latitude, more.longitude, more.place_score = (resolved.latitude, resolved.longitude,
                                                                   resolved.score)
        more.evidence = [Evidence(field_name, value, sentence.text, sentence.start, sentence.end)
                         for field_name, value in (("date", more.date), ("place", more.place), ("killed", killed),
                                                   ("wounded", wounded)) if value is not None]
        return [more]
    places = _places(clause, countries)
    if killed is None and wounded is None and not places:
        return []
    if attack.group(1).lower() in ("attack", "attacked") and killed is None and wounded is None:
        return []  # 'carried out attacks on Pakistani soil': talk of attacks, no attack
    when, precision = _date(clause, published)
    if when is None:
        when, precision = _date(sentence.text, published)
    targets = {m.group("name"): m.group("target").strip() for m in TARGET.finditer(clause)}
    perpetrators: list[Perpetrator] = []
    mentioned = {lowered_groups[m.group(1).lower()]: m.group(1) for m in group_pattern.finditer(clause)} \
        if group_pattern else {}
    lowered = clause.lower()
    if mentioned:
        attribution = ("denied" if "denied" in lowered else "claimed" if re.search(r"\bclaim", lowered)
                       and not re.search(r"\bno (?:one|group)\b|\bnot (?:yet )?claimed", lowered)
                       else "suspected" if re.search(r"suspect", lowered) else "attributed")
        perpetrators = [Perpetrator(name, attribution, stated=spelt) for name, spelt in mentioned.items()]
    elif topic is not None:
        perpetrators = [Perpetrator(topic[0], "attributed", from_context=True, stated=topic[1])]
    attack_type = ATTACK_TYPES.get(attack.group(1).lower())

    def evidence(name: str, value: Any) -> Evidence:
        return Evidence(name, value, sentence.text, sentence.start, sentence.end)

    made = []
    named_places: list[tuple[str | None, Any]] = [(name, resolved) for name, resolved, _ in places] or [(None, None)]
    for name, resolved in named_places:
        proposal = Proposal(date=when, date_precision=precision, killed=killed if len(places) <= 1 else None,
                            killed_at_least=at_least, wounded=wounded if len(places) <= 1 else None,
                            attack_type=attack_type, target=targets.get(name) if name else None,
                            perpetrators=perpetrators)
        if name is not None:
            proposal.place = name
            if resolved is not None:
                proposal.country, proposal.latitude, proposal.longitude = (resolved.country, resolved.latitude,
                                                                           resolved.longitude)
                proposal.admin1, proposal.place_score = resolved.admin1_code, resolved.score
                proposal.admin2 = resolved.admin2_code
        for field_name in ("date", "place", "killed", "wounded", "attack_type", "target"):
            value = getattr(proposal, field_name)
            if value is not None:
                proposal.evidence.append(evidence(field_name, value))
        for perpetrator in perpetrators:
            proposal.evidence.append(evidence("perpetrator", perpetrator.name))
        made.append(proposal)
    return made


# ---------------------------------------------------------------------------------- against the database


def registry_spellings(session: Any) -> dict[str, str]:
    """Every spelling of every group in the registry (names and aliases of three letters or more) -> its name."""
    from sqlalchemy import select

    from incidents.models import Actor, ActorAlias, ActorKind

    spellings: dict[str, str] = {}
    rows = session.execute(select(ActorAlias.alias, Actor.name).join(Actor, Actor.id == ActorAlias.actor_id)
                           .where(Actor.kind == ActorKind.GROUP.value))
    for alias, name in [*rows, *session.execute(select(Actor.name, Actor.name).where(
            Actor.kind == ActorKind.GROUP.value))]:
        if len(alias) >= 3:
            spellings.setdefault(alias, name)
    return spellings


def matches(session: Any, proposal: Proposal) -> list[dict[str, Any]]:
    """The stored incidents the proposal may be, best first (curation.duplicates.likely_same: overlapping dates,
    coarse ones as intervals, at the same place or district, a province only with a shared group), each with a
    score: 1.0 when it also shares a group with the proposal, else 0.5."""
    from types import SimpleNamespace

    from incidents.curation.duplicates import _named_groups, likely_same
    from incidents.models import Role
    from incidents.records import ActorLink, LocationRecord, parse_partial_date

    if proposal.date is None or proposal.country is None:
        return []
    start, precision = parse_partial_date(proposal.date)
    location = LocationRecord(country=proposal.country, admin1=proposal.admin1, admin2=None, place=proposal.place)
    record = SimpleNamespace(
        location=location, date_start=start, date_end=None, date_precision=precision.value,
        actors=[ActorLink(name=p.name, role=Role.PERPETRATOR, attribution=None) for p in proposal.perpetrators])
    found = likely_same(session, record)
    named = _named_groups(session, record)
    for item in found:  # the date and the place or district agree; a shared group makes it surer
        item["score"] = 1.0 if named & set(item["groups"]) else 0.5
    return sorted(found, key=lambda item: (-item["score"], item["key"]))


# ------------------------------------------------------------------------------------------- review files


def review_text(session: Any, proposals: list[dict[str, Any]], article: Any, text: str, review: Any,
                published: date | None = None, url: str | None = None, outlet: str | None = None) -> str:
    """The review file of `extract --review`: one record per proposal, in the format `add --from` reads (a report
    of the best-matching incident, `report_of: KEY`, or a new provisional incident), each after a comment with the
    sentences its fields rest on. A person deletes a record or fixes a field, then `extract --apply` writes it."""
    import hashlib
    import os

    import yaml
    from sqlalchemy import select

    from incidents.gazetteer import district, unit_name
    from incidents.models import Source

    digest = hashlib.sha256(text.encode()).hexdigest()
    stored = session.scalar(select(Source.id).where(Source.full_text_sha256 == digest).order_by(Source.id).limit(1))
    common: dict[str, Any] = {"text_file": os.path.relpath(article, os.path.dirname(os.path.abspath(review)))}
    if stored is not None:
        common["source"] = stored  # the article is stored already: its reports join that source
    elif url:
        common["source_url"] = url
    else:
        common["citation"] = None  # to fill in: the article has no URL to cite it by
    for name, value in (("outlet", outlet), ("published", published.isoformat() if published else None)):
        if value is not None and stored is None:
            common[name] = value
    parts = [f"# Review of {article} (sha256 {digest[:12]}...): what `incidents extract` proposed.\n"
             "# Delete a record to leave it out, fix any field, then: incidents extract --apply THIS_FILE\n"
             "# A record with report_of adds this article's account to that incident; one without is a new,\n"
             "# provisional incident. Applying the same file twice adds nothing.\n"]
    if stored is None and not url:
        parts.append("# Fill in `citation` (or give `source_url`) in every record before applying.\n")
    for number, proposal in enumerate(proposals, start=1):
        row: dict[str, Any] = {}
        evidence = proposal["evidence"]
        best = proposal["matches"][0] if proposal["matches"] else None
        if best is not None:
            row["report_of"] = best["key"]
        else:
            row.update({"date": proposal["date"], "country": proposal["country"],
                        "admin1": unit_name(proposal["admin1"]) if proposal["admin1"] else None,
                        "admin2": district(proposal["admin2"]).name  # type: ignore[union-attr]
                        if proposal["admin2"] and district(proposal["admin2"]) else None,
                        "place": proposal["place"], "attack_type": proposal["attack_type"],
                        "target_type": proposal["target"], "status": "provisional"})
        row.update(common)
        row.update({"killed": proposal["killed"], "killed_at_least": proposal["killed_at_least"] or None,
                    "wounded": proposal["wounded"]})
        names = [f"{p['stated'] or p['name']}={p['attribution']}" for p in proposal["perpetrators"]]
        if names:
            row["perpetrators"] = names if best is None else names[0]
        tolls = [e for e in evidence if e["field"] == "killed"] or evidence
        if tolls:
            row["excerpt"] = tolls[0]["sentence"]
        row = {name: value for name, value in row.items() if value is not None or name == "citation"}
        lines = [f"\n# {number}. " + (f"a report of {best['key']} (score {best['score']})" if best else "new")
                 + (f"; also possible: {', '.join(m['key'] for m in proposal['matches'][1:])}"
                    if len(proposal["matches"]) > 1 else "")]
        for item in evidence:
            lines.append(f"#    {item['field']} = {item['value']!r}  <- [{item['start']}:{item['end']}] "
                         f"{' '.join(item['sentence'].split())[:160]}")
        if any(p["from_context"] for p in proposal["perpetrators"]):
            lines.append("#    (the perpetrator is the group the sentences before it are about: check it)")
        parts.append("\n".join(lines) + "\n" + yaml.safe_dump([row], allow_unicode=True, sort_keys=False, width=110))
    return "".join(parts)
