"""The places a clause names, through the gazetteer (incidents.gazetteer): 'in Quetta', 'Quetta's Poodgali Chowk',
'Shahrah-e-Iqbal, Quetta', 'the town of Dargai', 'Lahore police', a page's dateline ('QUETTA:'); and which place
lies in which."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incidents.extract.cues import ATTACK
from incidents.extract.sentences import Sentence, sentences
from incidents.gazetteer import fold, resolve_place

PLACE = re.compile(r"\b(?:in|at|near|of|outside|inside|through|rocked|hit|struck|targeted)\s+(?:the\s+)?"
                   r"(?:(?:north|south|east|west|northern|southern|eastern|western|northwest|northwestern|north-west|"
                   r"north-western|southwest|southwestern|south-west|south-western|northeast|northeastern|southeast|"
                   r"southeastern|central|restive|troubled|turbulent|remote|upmarket|busy)\s+)?"
                   r"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")


# 'Balochistan's Mastung district', 'KP's Lakki Marwat district': a place within a place, with no word before it
WITHIN = re.compile(r"(?<![\w-])(?P<within>[A-Z][\w-]+)(?:\s+(?:province|district|city))?[’']s\s+"
                    r"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")


# '... 200 kilometers (120 miles) southeast of Quetta', 'the capital of Baluchistan': a place named to say where
# another one is
REFERENCE = re.compile(r"(?:(?:km|kilomet\w+|miles)(?:\s*\([^)]*\))?\s+(?:[a-z-]+\s+)?(?:of|from)|capital(?:\s+of)?|"
                       r"border(?:ing|s)?|near the border with)\s+(?:the\s+)?$", re.IGNORECASE)


# 'Lahore police', 'Mastung Deputy Commissioner': a place named before its officials (counted when the gazetteer
# knows it)
OFFICIALS = re.compile(r"\b(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+(?:police|(?:Deputy |Assistant )?Commissioner|"
                       r"district police|city police|Tehsildar|blast|bombing|attack|explosion)\b")


TARGET = re.compile(r"\b(?:at|on|and)\s+(?:a|an|the)\s+(?P<target>[a-z][a-z -]{2,40}?)\s+in\s+(?P<name>[A-Z][\w'’-]+)")


NOT_PLACES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
              "the", "a", "an", "afghan", "pakistani", "chinese", "indian", "iranian", "american", "baloch", "pashtun",
              "islamic", "taliban", "district", "province", "city", "police", "army", "maoist", "maoists", "syrian",
              "iraqi", "yemeni", "bangladeshi", "kashmiri", "sunni", "shia", "shiite", "muslim", "christian", "hindu",
              "sikh", "afghans", "pakistanis"}


# words that name a province somewhere but are no place in a sentence
COMMON_WORDS = {"central", "eastern", "western", "northern", "southern", "capital", "north", "south", "east", "west",
                "national", "federal", "islamic", "border", "coast", "coastal", "upper", "lower", "middle",
                "north east", "south east", "north west", "south west", "northwest", "southwest", "northeast",
                "southeast"}


# 'near Parachgan Banda area', 'in Mosel Kor village': a name the gazetteer lacks, said to be a place
PLACE_NOUN = re.compile(r"\s+(?:area|village|town|bazaar|market|chowk|road|locality|neighbou?rhood|tehsil|"
                        r"sub-?division|district)\b", re.IGNORECASE)


NOT_A_PLACE = re.compile(r"\b(?:Hospital|Medical|Trauma)\b")


MOST_PLACES = 8  # places one clause may name: a longer list is no account of one attack, and would be slow


POSSESSIVE = re.compile(r"[’']s\s+")


def resolved_place(name: str, countries: tuple[str, ...]) -> Any:
    for country in countries:
        found = resolve_place(name, country)
        if found is not None and found.score >= 0.99:
            return found
    # elsewhere the gazetteer has no towns by name, but every country's provinces ('Baghdad', 'Borno')
    if len(name) >= 5 and fold(name) not in COMMON_WORDS:
        found = resolve_place(name)
        if found is not None and found.kind == "province" and found.score >= 0.99:
            return found
    return None


@dataclass
class Named:
    """A place a clause names: as written, what the gazetteer made of it (or None) and where it is in the clause."""

    name: str
    resolved: Any
    start: int  # in the clause, or in the article for a dateline
    end: int
    dateline: Sentence | None = None  # the sentence of a dateline's place, which is in no mention
    called: bool = False  # the text calls it a town, village or area, though the gazetteer does not know it

    @property
    def weight(self) -> float:
        """Which of a clause's places is the attack's: the most precise, a named town the gazetteer lacks ('the
        town of Dargai in NWFP') before its province."""
        return 1.5 if self.called and not self.rank else self.rank

    @property
    def rank(self) -> int:
        """How much it says of where: a town, district or site in one 2, a province 1, an unknown name 0."""
        if self.resolved is None:
            return 0
        return 1 if self.resolved.kind == "province" else 2


def places_in(text: str, countries: tuple[str, ...]) -> list[Named]:
    """Each place the clause names after in/at/near (or as 'Quetta's Nawa Killi'), in order. 'Quetta's Poodgali
    Chowk' and 'Shahrah-e-Iqbal, Quetta' are sites in Quetta; a name the gazetteer does not know counts only after
    'in' and in one or two words ('in Orakzai'), so 'of Islamic State' or 'at Police Lines' are no places; a place
    named to say where another is ('200 km south of Quetta') and a country are left out."""
    found: list[Named] = []
    matches = sorted([*PLACE.finditer(text), *WITHIN.finditer(text), *OFFICIALS.finditer(text)],
                     key=lambda m: m.start("name"))
    for match in matches:
        if len(found) >= MOST_PLACES:
            break
        if any(match.start("name") < item.end and item.start < match.end("name") for item in found):
            continue
        if REFERENCE.search(text[max(0, match.start() - 60):match.start("name")]):
            continue
        words = match.group("name").split()
        while words and (words[-1].lower() in NOT_PLACES or ATTACK.fullmatch(words[-1])):
            words.pop()
        if not words or words[0].lower() in NOT_PLACES:
            continue
        name = re.sub(r"[’']s$", "", " ".join(words))  # 'Pakistan's' at the end of the clause
        context = match.group("within") if "within" in match.groupdict() else None
        parts = POSSESSIVE.split(name, maxsplit=1)
        if len(parts) == 2:
            context, name = parts[0], parts[1]
            if not name or not name[0].isupper():
                name, context = context, None
        before = text[max(0, match.start() - 40):match.start()]
        if NOT_A_PLACE.search(name) or re.search(r"\b(?:taken|shifted|rushed|moved|transferred|brought|admitted)\s+"
                                                 r"(?:\w+\s+){0,3}(?:to|at|in)\s+(?:the\s+)?$", before):
            continue  # 'rushed to Peshawar's Lady Reading Hospital': where the wounded were taken, not the attack
        after = re.match(r",\s+([A-Z][\w-]+)", text[match.end("name"):])
        resolved = (resolved_place(f"{name}, {context}" if context else name, countries)
                    or resolved_place(name, countries))
        if resolved is None and context is None and after:  # 'at Shahrah-e-Iqbal, Quetta'
            context = after.group(1)
        if resolved is None and context is not None:  # 'Quetta's Poodgali Chowk': a site the gazetteer lacks
            within = resolved_place(context, countries)
            if within is not None and within.kind != "country":
                found.append(Named(name, within, match.start("name"), match.end("name")))
                continue
        if resolved is not None and resolved.kind == "country":
            continue
        if resolved is None and (re.fullmatch(r"[A-Z]{2,5}", name)
                                 or re.search(r"(?:an|ese|i)$", name) and re.match(
                                     r"\s+(?:city|town|capital|province|forces|army|police|government|officials?|"
                                     r"security|nationals?|militants?)\b", text[match.end("name"):])):
            continue  # 'IDP', 'the Nigerian city of ...'
        # a name the gazetteer lacks that the text calls a place: 'near Parachgan Banda area', 'the town of Dargai'
        called = resolved is None and bool(PLACE_NOUN.match(text, match.end("name")) or re.search(
            r"\b(?:city|town|village|area|outskirts)\s+$",
            text[max(0, match.start() - 20):match.start()]) and text[match.start():match.start() + 3].lower() == "of ")
        if resolved is None and (match.re is OFFICIALS or not (
                text[match.start():match.start() + 3].lower() == "in " and len(name.split()) <= 2 or called)):
            continue
        found.append(Named(name, resolved, match.start("name"), match.end("name"), called=called))
    return found


def within(inner: Named, outer: Named) -> bool:
    """Whether `inner` lies in `outer`: the same district, or a town or district of that province."""
    if not inner.rank or not outer.rank:
        return True
    if outer.rank == 1:
        return inner.resolved.admin1_code == outer.resolved.admin1_code
    if inner.rank == 1:
        return False
    return district_of(inner) == district_of(outer)


def same_place(one: Named, other: Named) -> bool:
    if one.rank and other.rank:
        return district_of(one) == district_of(other)
    return one.name == other.name


def district_of(named: Named) -> str | None:
    return named.resolved.admin2_code or named.resolved.name


DATELINE = re.compile(r"^(?P<caps>[A-Z]{2,}(?: [A-Z]{2,}){0,3})(?:/[A-Z]+)?(?:,\s+[A-Z][a-z]+)?\s*(?::|\(|[–—-]\s)|"
                      r"\|\s*(?P<pipe>[A-Z][a-z]+)\s*\||"
                      r"^(?P<wire>[A-Z][a-z]+)(?:\s+\[[^\]]{1,30}\])?,\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*"
                      r"(?:\((?:PTI|IANS|ANI|AP|AFP)\)|:)",
                      re.MULTILINE)


def dateline_town(text: str, countries: tuple[str, ...]) -> Named | None:
    """The town a page's dateline names ('QUETTA:', 'KABUL, Afghanistan (AP) —', 'PTI | Karachi |'), if the gazetteer
    knows it as a town or district."""
    match = DATELINE.search(text[:2000])
    if match is None:
        return None
    name = (match.group("caps") or "").title() or match.group("pipe") or match.group("wire")
    resolved = resolved_place(name, countries)
    if resolved is None or resolved.kind not in ("town", "district"):
        return None
    group = next(g for g in ("caps", "pipe", "wire") if match.group(g))
    line = next((s for s in sentences(text) if s.start <= match.start(group) < s.end), None)
    if line is None:
        return None
    return Named(name, resolved, match.start(group), match.end(group), dateline=line)
