"""From an article to the attacks it reports (docs/extraction.md).

Each clause that says something of an attack becomes a Mention (its date, places, tolls and groups); mentions then
become attacks: a mention joins the attack it is about unless its date, its place or a cue ('earlier', 'another',
'the second incident') says it is another one. Nothing here writes to the database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from incidents.extract.cues import (
    ANAPHORA,
    ANOTHER,
    ATTACK,
    BACKGROUND,
    CLAUSES,
    CONDEMNED,
    COUNTED_INCIDENT,
    DAY_NAMED,
    NOT_AN_ATTACK,
    ORDINAL,
    ORDINALS,
    PERIOD,
    PLURAL,
    WEAK_ATTACK,
    attack_type_of,
)
from incidents.extract.dates import date_in
from incidents.extract.figures import (
    KILLED,
    KILLED_ONE,
    KILLED_RANGE,
    NO_CASUALTIES,
    NUMBER,
    WOUNDED,
    count_words,
    figures_in,
)
from incidents.extract.groups import STRENGTH, Groups, attribution_of
from incidents.extract.places import TARGET, Named, dateline_town, district_of, places_in, same_place, within
from incidents.extract.proposals import Evidence, Perpetrator, Proposal
from incidents.extract.sentences import Sentence, sentences
from incidents.gazetteer import fold

# Characters that look like others: read as those ('Tehrik‑i‑Taliban' with non-breaking hyphens), one for one
LOOKALIKES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                            "\u2212": "-", "\u00a0": " ", "\u2007": " ", "\u202f": " "})


def propose(text: str, published: date | None = None, groups: dict[str, str] | None = None,
            countries: tuple[str, ...] = ("PAK", "AFG")) -> list[Proposal]:
    """The attacks `text` reports. `groups` maps each spelling of a group (as written, any case) to the registry's
    name; `countries` are where places are looked for first. Invisible characters (zero-width spaces, soft
    hyphens: 'Qu\u200betta') are read past, and every piece of evidence still points into `text` as given."""
    kept = [at for at, character in enumerate(text) if unicodedata.category(character) != "Cf"]
    if len(kept) == len(text):
        return _propose(text.translate(LOOKALIKES), published, groups, countries)
    proposals = _propose("".join(text[at] for at in kept).translate(LOOKALIKES), published, groups, countries)
    for proposal in proposals:  # offsets in the text read, back to the text given
        for evidence in proposal.evidence:
            start, end = kept[evidence.start], kept[evidence.end - 1] + 1
            evidence.start, evidence.end, evidence.sentence = start, end, text[start:end]
    return proposals


def _propose(text: str, published: date | None, groups: dict[str, str] | None,
             countries: tuple[str, ...]) -> list[Proposal]:
    groups = groups or {}
    known = Groups(groups)
    events: list[_Event] = []
    topic: tuple[str, str] | None = None  # the group the sentences are about: (registry name, as spelt)
    seen: set[str] = set()
    day_before: tuple[str, Sentence] | None = None  # the last day a sentence named, and that sentence
    headline: list[Mention] = []  # what a headline says: about the attack the article then tells, if it tells one
    for number, sentence in enumerate(sentences(text)):
        if sentence.text in seen:  # a page that prints its lead twice tells one attack, not two
            continue
        seen.add(sentence.text)
        named = known.find(sentence.text)
        clause_start = 0
        pieces = []
        for cut in CLAUSES.finditer(sentence.text):
            pieces.append((clause_start, cut.start()))
            clause_start = cut.end()
        pieces.append((clause_start, len(sentence.text)))
        told = False  # 'a paramilitary official was gunned down, while a policeman died in an attack': two attacks
        waiting: list[Mention] = []  # 'in October, a policeman embraced martyrdom while 17 others suffered injuries
        # after a powerful explosion': a toll before the attack word, in one sentence
        for start, end in pieces:
            mention = _mention(sentence.text[start:end], sentence, published, countries, known, topic, day_before)
            if mention is None:
                continue
            if mention.trigger and mention.killed is not None:
                mention.alone, told = told, True
            if number == 0 and not sentence.text.rstrip("\"”’'").endswith((".", "!", "?")):
                # a headline capitalises every word: only a place the gazetteer knows is one ('in Deadly Bombing')
                mention.places = [named for named in mention.places if named.rank]
                headline.append(mention)
                continue
            if headline and (not events or mention.background or ANOTHER.search(mention.clause)):
                # the article goes on to a toll or to an earlier attack: the headline's attack is the first
                for part in [part for told_first in headline for part in _split(told_first)]:
                    _place(events, part)
                headline = []
            for part in _split(mention):
                into = _place(events, part)
                if into is None and part.trigger is None and part.figures:
                    waiting.append(part)
                elif into is not None and waiting:
                    for early in waiting:
                        into.mentions.insert(into.mentions.index(part), early)
                    waiting = []
        if named:
            topic = named[-1]
        when, precision = date_in(sentence.text, published, said=True)
        if precision == "day" and when is not None:
            day_before = (when, sentence)
    for mention in headline:
        if events and _joins(events[0], mention):  # the article's own sentences are the evidence, the headline after
            events[0].mentions.append(mention)
            best = max(mention.places, key=lambda named: named.weight, default=None)
            if best is not None and (events[0].place is None or best.weight > events[0].place.weight):
                events[0].place = best
        else:
            for part in _split(mention):
                _place(events, part)
    if events and (events[0].place is None or events[0].place.rank == 1):
        # the first attack, told with no place or only its province: at the dateline's town ('QUETTA:') when it
        # lies there
        town = dateline_town(text, countries)
        if town is not None and (events[0].place is None or within(town, events[0].place)):
            events[0].place = town
    for event in events:  # 'five separate attacks ... on Saturday. The first incident occurred in ...': that Saturday
        opener = event.mentions[0] if event.mentions else None
        if event.date is None and opener is not None and opener.day_before is not None and (
                opener.ordinal is not None or ANOTHER.search(opener.clause)):
            event.day_from = opener.day_before
    for number, event in enumerate(events[1:], start=1):
        # 'another attack there in 2012': at the place of the attack told before it
        before = next((e for e in reversed(events[:number]) if e.place is not None), None)
        if event.place is None and before is not None and before.place is not None and before.place.rank != 1:
            event.place, event.place_from = before.place, before.place_from or before
        # 'Meanwhile, another grenade attack took place in the Hazar Ganji area': on the day of the one before
        previous = events[number - 1]
        opener = event.mentions[0] if event.mentions else None
        if event.date is None and event.day_from is None and opener is not None and (
                ANOTHER.search(opener.clause) or re.search(r"\bmeanwhile\b", opener.clause, re.IGNORECASE)):
            if previous.date:
                event.date_from = previous.date_from or previous
            elif previous.day_from is not None:
                event.day_from = previous.day_from
    proposals = [_proposal(event) for event in events if _is_attack(event)]
    # A place the gazetteer does not know is in the country the article's other places are in.
    placed = [p.country for p in proposals if p.country]
    for proposal in proposals:
        if proposal.country is None and placed:
            proposal.country = max(set(placed), key=placed.count)
    return proposals


@dataclass
class Mention:
    """What one clause says about an attack."""

    sentence: Sentence
    clause: str
    trigger: str | None = None
    weak: bool = False  # only 'attack', 'assault' or 'struck'
    anaphora: bool = False  # 'the attack', 'the blast': about one named before
    background: bool = False  # 'earlier', 'another': about another attack than the one before
    killed: int | None = None
    killed_at_least: bool = False
    killed_low: int | None = None  # a range as stated ('50-60 killed'): killed is its high end
    toll_update: bool = False
    wounded: int | None = None
    wounded_at_least: bool = False
    attackers_killed: int | None = None
    date: str | None = None
    date_precision: str | None = None
    places: list[Named] = field(default_factory=list)
    perpetrators: list[Perpetrator] = field(default_factory=list)
    targets: dict[str, str] = field(default_factory=dict)
    alone: bool = False  # one of several attacks a clause lists: an attack of its own
    ordinal: int | None = None  # 'the second incident occurred ...': the article's second attack
    day_before: tuple[str, Sentence] | None = None  # the last day an earlier sentence named

    @property
    def figures(self) -> bool:
        return self.killed is not None or self.wounded is not None

    def evidence(self, name: str, value: Any) -> Evidence:
        return Evidence(name, value, self.sentence.text, self.sentence.start, self.sentence.end)


def _mention(clause: str, sentence: Sentence, published: date | None, countries: tuple[str, ...],
             groups: Groups, topic: tuple[str, str] | None, day_before: tuple[str, Sentence] | None = None
             ) -> Mention | None:
    """What the clause says about an attack, or None when it says nothing of one. `day_before` is the last day an
    earlier sentence named, which 'earlier in the day' refers to."""
    if NOT_AN_ATTACK.search(clause) or (PERIOD.search(clause) and not DAY_NAMED.search(clause)):
        return None
    mention = Mention(sentence, clause)
    counted_incident = list(COUNTED_INCIDENT.finditer(clause))  # 'Another incident occurred ...'
    triggers = sorted([*ATTACK.finditer(clause), *counted_incident], key=lambda m: m.start())
    if triggers:
        mention.trigger = triggers[0].group(1)
        mention.weak = not counted_incident and all(m.group(1).lower() in WEAK_ATTACK for m in triggers)
    anaphora = ANAPHORA.search(clause)
    mention.anaphora = anaphora is not None
    (mention.killed, mention.killed_at_least), mention.attackers_killed = figures_in(KILLED, clause)
    if mention.killed is None and KILLED_ONE.search(clause):
        others = re.search(rf"\balong with\s+(?P<n>{NUMBER})\s+others\b", clause, re.IGNORECASE)
        mention.killed = 1 + (count_words(others.group("n")) or 0 if others else 0)
    if mention.killed is None and NO_CASUALTIES.search(clause):
        mention.killed = 0
    spread = KILLED_RANGE.search(clause)
    if spread is not None and mention.killed is not None:
        low, high = (count_words(spread.group(name) or spread.group(name + "2") or "") for name in ("low", "high"))
        if low is not None and high is not None and low < high and mention.killed in (low, high):
            mention.killed, mention.killed_low = high, low
    mention.toll_update = bool(KILLED[2].search(clause))
    (mention.wounded, mention.wounded_at_least), _ = figures_in(WOUNDED, clause)
    if not mention.figures and not mention.anaphora and not triggers:
        return None
    plural = bool(triggers) and all(m.group(1).lower().endswith("s") for m in triggers)
    if plural and not mention.figures and not mention.anaphora:
        return None  # 'the Taliban usually plant bombs on roads': attacks in general
    if mention.weak and all(PLURAL.fullmatch(m.group(1)) for m in triggers) and not mention.anaphora:
        return None  # 'These attacks claimed the lives of 266': figures over many attacks
    if not re.search(r"\bclaim", clause, re.IGNORECASE):  # the day a group claimed it is not the attack's day
        mention.date, mention.date_precision = date_in(clause, published)
        if mention.date is None:
            mention.date, mention.date_precision = date_in(sentence.text, published)
    elif not DAY_NAMED.search(clause) and not re.search(r"\b(?:today|yesterday)\b", clause, re.IGNORECASE):
        mention.date, mention.date_precision = date_in(clause, published)  # a month or a year is no claim's day
    else:  # unless the day is the attack's own: 'claimed Monday's attack', 'Today's blast was part of our operations'
        owned = re.search(r"\b(?:today|yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday)[’']s\s+"
                          r"(?:[\w-]+\s+){0,2}?(?:attack|blast|bombing|explosion|assault|shooting)", clause,
                          re.IGNORECASE)
        if owned is not None:
            day = owned.group(0).replace("’s", "").replace("'s", "")
            mention.date, mention.date_precision = date_in(day, published)
    mention.day_before = day_before
    if day_before and (re.search(r"\b(?:earlier|later|also) in the day\b", clause, re.IGNORECASE) or (
            re.search(r"\b(?:on )?the same day\b", clause, re.IGNORECASE) and date_in(clause, published)[0] is None)):
        mention.date, mention.date_precision = day_before[0], "day"
    if mention.toll_update:  # 'the death toll rose to 14 on Monday': the day of the count, not of the attack
        mention.date, mention.date_precision = None, None
    after = re.match(r"(a|one|two|three) days? after\b", clause, re.IGNORECASE)
    if after and mention.date_precision == "day" and mention.date:  # 'warned Saturday, a day after four were killed'
        days = count_words(after.group(1)) or 1
        mention.date = (date.fromisoformat(mention.date) - timedelta(days=days)).isoformat()
    mention.background = bool(BACKGROUND.search(clause))
    counted = ORDINAL.search(clause)
    if counted is not None:
        mention.ordinal = ORDINALS.index(counted.group(1).lower()) + 1
    # a place far after every word about the attack is about something else ('hours before the arrival of the
    # Vice Premier in Islamabad')
    cues = [(m.start(), m.end()) for m in [*triggers, *([anaphora] if anaphora else []),
                                          *re.finditer(r"\b(?:killed|killing|dead|died|injured|wounded|martyred)\b",
                                                       clause, re.IGNORECASE)]]
    mention.places = [named for named in places_in(clause, countries)
                      if any(named.start <= start or named.start - end <= NEAR for start, end in cues)]
    if mention.weak and not mention.figures and not mention.anaphora and not (mention.date and mention.places):
        return None  # 'carried out attacks on Pakistani soil': talk of attacks, no attack
    mention.targets = {m.group("name"): m.group("target").strip() for m in TARGET.finditer(clause)}
    mentioned = dict(groups.find(clause))
    if mentioned and not CONDEMNED.search(clause):
        attribution = attribution_of(clause)
        mention.perpetrators = [Perpetrator(name, attribution, stated=spelt) for name, spelt in mentioned.items()]
    elif not mentioned and topic is not None and triggers:
        mention.perpetrators = [Perpetrator(topic[0], "attributed", from_context=True, stated=topic[1])]
    return mention


NEAR = 120  # characters between a place and the nearest word about the attack


@dataclass
class _Event:
    mentions: list[Mention]
    place: Named | None = None
    place_from: _Event | None = None  # the event the place was taken from, when the mentions name none
    date_from: _Event | None = None  # the event the date was taken from ('meanwhile, another blast ...')
    day_from: tuple[str, Sentence] | None = None  # the day of the roundup sentence that introduced it
    told: int = 0  # how recently the article told of it: the event a toll or 'the attack' after it is about
    ordinal: int | None = None  # the article's first, second ... attack, when it counts them

    @property
    def date(self) -> str | None:
        return next((m.date for m in self.mentions if m.date), None)

    @property
    def district(self) -> str | None:
        if self.place is None or self.place.rank != 2:
            return None
        return district_of(self.place)


def _dates_agree(one: str | None, other: str | None) -> bool:
    return one is None or other is None or one.startswith(other) or other.startswith(one)


def _joins(event: _Event, mention: Mention) -> bool:
    """Whether the mention is more about the event rather than another attack: its date does not contradict, it is
    not told as an earlier or another attack with a toll or date of its own, it gives no other toll with a date the
    event lacks, and its places are not elsewhere (another district, or another province)."""
    if not _dates_agree(event.date, mention.date):
        return False
    own = mention.figures or mention.date is not None
    event_figures = any(m.figures for m in event.mentions)
    told_before = mention.anaphora and mention.date is None  # 'earlier, police said three died in the blast'
    if mention.background and own and not told_before and (
            mention.date != event.date or (mention.figures and event_figures)):
        return False
    killed = next((m.killed for m in event.mentions if m.killed is not None), None)
    if (mention.killed is not None and killed is not None and mention.killed != killed and not mention.toll_update
            and mention.date is not None and event.date is None):
        return False
    placed = [named for named in mention.places if named.rank]
    unknown = [named for named in mention.places if not named.rank]
    if own and not placed and unknown and event.place is not None and not event.place.rank and all(
            fold(named.name) != fold(event.place.name) for named in unknown):
        return False  # 'in Mosul village' is not 'in Mosel Kor village', though the gazetteer knows neither
    if own and placed and event.place is not None and event.place.called and not event.place.rank:
        return False  # 'Friday's attack in Peshawar' is not the one 'in the town of Dargai'

    if placed and event.place is not None and event.place.rank and (own or not mention.anaphora):
        return any(within(named, event.place) or within(event.place, named) for named in placed)
    return True


def _split(mention: Mention) -> list[Mention]:
    """'struck at a political rally in Mastung and a market in Orakzai': one attack at each of the places an
    attack clause lists with 'and' (their tolls are not told apart, so none is kept)."""
    listed: list[Named] = []
    for named in mention.places:  # each place once: 'in Kabul' and 'the Kabul police' are one
        if named.rank != 1 and not any(same_place(named, other) for other in listed):
            listed.append(named)
    pairs = zip(listed, listed[1:], strict=False)
    if len(listed) < 2 or not all(" and " in mention.clause[a.end:b.start] for a, b in pairs):
        return [mention]
    parts = []
    for named in listed:
        part = replace(mention, places=[named], killed=None, wounded=None, attackers_killed=None, alone=True)
        parts.append(part)
    return parts


def _place(events: list[_Event], mention: Mention) -> _Event | None:
    """Add the mention to the attack it is about, or make it a new attack when it can open one."""
    opens = mention.trigger is not None and (not mention.weak or mention.figures or mention.date is not None)
    if mention.ordinal is not None:  # the article's n-th attack: the event told as that one, or a new one
        into = next((event for event in events if event.ordinal == mention.ordinal), None)
    elif not events or mention.alone or (opens and not mention.weak and ANOTHER.search(mention.clause)):
        into = None
    elif not opens or mention.anaphora:  # a toll, or 'the attack took place in Sibi': the attack just told or the first
        latest = max(events, key=lambda event: event.told)
        # a toll told again ('So far we have confirmed 10 people dead') after an earlier attack came up
        same = next((event for event in events if not opens and _same_toll(event, mention)), None)
        into = next((event for event in (same, latest, events[0]) if event is not None and _joins(event, mention)),
                    None)
    else:  # the latest attack it fits, one at its place first
        fits = [event for event in reversed(events) if _joins(event, mention)]
        into = next((event for event in fits if event.place is not None and any(
            named.rank == 2 and event.place.rank == 2 and within(named, event.place) for named in mention.places)),
            fits[0] if fits else None)
    if into is None and not ANOTHER.search(mention.clause):
        into = next((event for event in events if _retold(event, mention)), None)
    if into is None:
        if not opens and mention.ordinal is None:
            return None
        into = _Event([], ordinal=mention.ordinal)
        events.append(into)
    into.mentions.append(mention)
    into.told = max(event.told for event in events) + 1
    best = max(mention.places, key=lambda named: named.weight, default=None)
    if best is not None and (into.place is None or (best.rank > into.place.rank and within(best, into.place))
                             or (into.place.weight == 0 and best.rank)):
        into.place = best
    return into


def _same_toll(event: _Event, mention: Mention) -> bool:
    """Whether the mention gives a toll of two or more that the event gives too."""
    return any(getattr(mention, name) is not None and getattr(mention, name) >= 2 and getattr(mention, name) == next(
        (getattr(m, name) for m in event.mentions if getattr(m, name) is not None), None)
        for name in ("killed", "wounded"))


def _retold(event: _Event, mention: Mention) -> bool:
    """Whether the mention tells the event again, in detail after a summary ('Also in the day, a roadside explosion
    injured four people in Bajaur ... Meanwhile, four people were injured as a roadside bomb went off in Mamond
    tehsil of Bajaur district'): the same district and the same toll, of two or more."""
    if event.district is None or not any(named.rank == 2 and district_of(named) == event.district
                                         for named in mention.places):
        return False
    return _same_toll(event, mention)


def _is_attack(event: _Event) -> bool:
    opening = [m for m in event.mentions if m.trigger and (not m.weak or m.figures or m.date)]
    return bool(opening) and (event.place is not None or any(m.figures for m in event.mentions))


def _proposal(event: _Event) -> Proposal:
    mentions = event.mentions
    proposal = Proposal()
    evidence = proposal.evidence

    def first(name: str) -> Mention | None:
        return next((m for m in mentions if getattr(m, name) is not None), None)

    dated = max((m for m in mentions if m.date), key=lambda m: len(m.date or ""), default=None)
    if dated is None and event.date_from is not None:
        dated = max((m for m in event.date_from.mentions if m.date), key=lambda m: len(m.date or ""), default=None)
    if dated is None and event.day_from is not None:
        dated = Mention(event.day_from[1], "", date=event.day_from[0], date_precision="day")
    if dated is not None:
        proposal.date, proposal.date_precision = dated.date, dated.date_precision
        evidence.append(dated.evidence("date", dated.date))
    if event.place is not None:
        source = next((m for m in (event.place_from or event).mentions if event.place in m.places), None) \
            or Mention(event.place.dateline, "") if event.place.dateline else \
            next(m for m in (event.place_from or event).mentions if event.place in m.places)
        resolved = event.place.resolved
        proposal.place = event.place.name
        if resolved is not None:
            proposal.country, proposal.latitude, proposal.longitude = (resolved.country, resolved.latitude,
                                                                       resolved.longitude)
            proposal.admin1, proposal.place_score = resolved.admin1_code, resolved.score
            proposal.admin2 = resolved.admin2_code
        evidence.append(source.evidence("place", proposal.place))
        proposal.target = source.targets.get(event.place.name.split()[0]) or source.targets.get(event.place.name)
        if proposal.target:
            evidence.append(source.evidence("target", proposal.target))
    told = first("killed")
    update = next((m for m in reversed(mentions) if m.toll_update and m.killed is not None), None)
    told = update or told
    if told is not None:
        proposal.killed, proposal.killed_at_least, proposal.killed_low = (told.killed, told.killed_at_least,
                                                                          told.killed_low)
        evidence.append(told.evidence("killed", told.killed))
    for name in ("wounded", "attackers_killed"):
        told = first(name)
        if told is not None:
            setattr(proposal, name, getattr(told, name))
            evidence.append(told.evidence(name, getattr(told, name)))
            if name == "wounded":
                proposal.wounded_at_least = told.wounded_at_least
    typed = next((m for m in mentions if m.trigger and attack_type_of(m.trigger)), None)
    if typed is not None:
        proposal.attack_type = attack_type_of(typed.trigger or "")
        evidence.append(typed.evidence("attack_type", proposal.attack_type))
    # each group the article names as perpetrator, with the strongest tie any sentence gives (a claim over an
    # attribution over a suspicion); the group of the sentences before only when no sentence names one
    strongest: dict[str, tuple[Perpetrator, Mention]] = {}
    for mention in mentions:
        for perpetrator in mention.perpetrators:
            if perpetrator.from_context:
                continue
            had = strongest.get(perpetrator.name)
            if had is None or STRENGTH[perpetrator.attribution] > STRENGTH[had[0].attribution]:
                strongest[perpetrator.name] = (perpetrator, mention)
    if not strongest:
        context = next((m for m in mentions if m.perpetrators), None)
        if context is not None:
            strongest = {p.name: (p, context) for p in context.perpetrators}
    for perpetrator, mention in strongest.values():
        proposal.perpetrators.append(perpetrator)
        evidence.append(mention.evidence("perpetrator", perpetrator.name))
    return proposal
