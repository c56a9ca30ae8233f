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
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from incidents.errors import FieldError
from incidents.gazetteer import fold, resolve_place
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
    """The sentences of `text` with their character offsets (text[start:end] is the sentence). A short line with
    no closing stop (a headline, a byline: 'Published August 25, 2019') is a sentence of its own; a long one is
    a paragraph wrapped by hand, and goes on."""
    found: list[Sentence] = []
    start = 0
    ends = sorted([*_SENTENCE_END.finditer(text), *_LINE_END.finditer(text)], key=lambda m: m.start())
    for match in ends:
        if match.start() < start:
            continue
        piece = text[start:match.start()]
        if piece.rstrip().endswith(_ABBREVIATIONS):
            continue
        if match.re is _LINE_END and len(piece.strip().rsplit("\n", 1)[-1]) > SHORT_LINE:
            continue
        found.extend(_trimmed(text, start, match.start()))
        start = match.end()
    found.extend(_trimmed(text, start, len(text)))
    return found


_LINE_END = re.compile(r"(?<=[^.!?,;:\s])[ \t]*\n(?=[ \t]*[A-Z0-9\"“‘(])")
SHORT_LINE = 120  # characters: a line this short with no stop is a headline or a byline


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
    killed_low: int | None = None  # the low end of a range the article gives ('50-60'); killed is the high end
    wounded: int | None = None
    attack_type: str | None = None
    target: str | None = None
    perpetrators: list[Perpetrator] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    attackers_killed: int | None = None  # the attackers' own dead, when the text tells them apart

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date, "date_precision": self.date_precision, "place": self.place, "admin2": self.admin2,
            "admin1": self.admin1, "country": self.country, "latitude": self.latitude, "longitude": self.longitude,
            "place_score": self.place_score, "killed": self.killed, "killed_at_least": self.killed_at_least,
            "killed_low": self.killed_low,
            "wounded": self.wounded, "attackers_killed": self.attackers_killed, "attack_type": self.attack_type,
            "target": self.target,
            "perpetrators": [vars(p) for p in self.perpetrators],
            "evidence": [vars(e) for e in self.evidence],
        }


# The words that make a clause about an attack. 'attack' alone (and 'assault', 'struck') is a weak one: it makes an
# attack only with a toll or a date of its own, so 'carried out attacks on Pakistani soil' is none.
ATTACK = re.compile(
    r"\b(suicide (?:bomb(?:ing|ings|er|ers)?|attack(?:er|ers|s)?|squad|blast|strike)|car bomb(?:er|ing|s)?|"
    r"bomb(?:ing|ings|ed|er|ers|s)?|blasts?|explosions?|explosive device|IEDs?|shooting|shootout|shot dead|"
    r"gunned down|gunmen|gun attack|opened fire|fired (?:at|on|into)|grenades?|ambush(?:ed)?|rocket attack|"
    r"stormed|detonated|blew (?:himself|themselves) up|went off|hijacked|murdered|assassinated|assassination|"
    r"assault|attack(?:ed|s)?|struck)\b",
    re.IGNORECASE)
WEAK_ATTACK = {"attack", "attacks", "attacked", "assault", "struck"}
# A clause with one of these is no attack to record: nature, plans and threats, talk about attacks in general,
# operations that killed militants, and figures over a period.
NOT_AN_ATTACK = re.compile(
    r"\b(floods?|flooding|earthquakes?|quake|landslides?|cyclone|monsoon|rains|would|will|plans? to|threat(?:en|ened|"
    r"ens|s)?|vow(?:ed|s)?|warn(?:ed|s)?|no match for|operations?|raids?|air ?strikes?|drone strikes?|crackdown|"
    r"(?:militants|terrorists|insurgents|khawarij) were (?:killed|eliminated)|eliminated|"
    r"killed\s+(?:at least\s+|all\s+)?(?:\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"\w+teen|\w+ty(?:-\w+)?|dozens of|scores of|several)\s+[\"“]?(?:suspected\s+)?(?:militants|terrorists|"
    r"insurgents|khawarij|rebels)|"
    r"per cent|percent|different (?:security )?incidents|separate incidents|"
    r"convicted|sentenced|acquitted|verdict|remained (?:relatively )?peaceful|"
    r"no (?:\w+ )?(?:attacks?|blasts?|incidents?) (?:was |were )?(?:reported|recorded|took place)|"
    r"\d{2,}\s+(?:[a-z-]+\s+){0,2}(?:attacks|bombings|blasts|incidents))\b", re.IGNORECASE)
# Figures over a period: no attack, unless the clause also names the day of one ('Gunmen murdered a journalist in
# Ghazni on Monday, the third reporter to be killed in the last two months')
PERIOD = re.compile(r"\b(?:first half|so far this year|over the (?:last|past)|in the (?:last|past) \w+ (?:days|weeks|"
                    r"months|years)|in the first \w+ months|(?:wave|spate|string) of)\b", re.IGNORECASE)
DAY_NAMED = re.compile(r"\b(?:on (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|today|yesterday|"
                       r"last night)\b", re.IGNORECASE)
# Attacks in the plural with no single one among them: talk or statistics ('These attacks claimed 266 lives')
PLURAL = re.compile(r"\b(?:attacks|bombings|blasts|explosions|incidents|assaults)\b", re.IGNORECASE)
# 'The attack', 'the blast', 'the incident': more about an attack the article has named already
ANAPHORA = re.compile(r"\b(?:the|that|this|today[’']s|the latest|the deadly)\s+(?:\w+\s+)?(?:incident|attack|blast|"
                      r"explosion|bombing|assault|shooting)\b", re.IGNORECASE)
# An attack told as background: an earlier or another one
BACKGROUND = re.compile(r"\b(earlier|previous(?:ly)?|last (?:month|year|week)|in the past|ago|history|"
                        r"(?:hours|days|weeks|months|years) after|(?:a|an|one) (?:day|week|month) after|comes after|"
                        r"came after|meanwhile|separately|the second in|"
                        r"(?:the|a) (?:last|similar|separate) (?:attack|assault|bombing|blast|incident)|"
                        r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday) last)\b|"
                        r"\b(?:another|a second|one more)\s+(?:[\w-]+\s+){0,2}?(?:attack|assault|bombing|blast|"
                        r"explosion|incident|bomber|shooting)", re.IGNORECASE)
# An attack told as one more: never more about the one before it
ANOTHER = re.compile(r"\b(?:another|a second|a separate|one more)\s+(?:[\w-]+\s+){0,2}?(?:attack|assault|bombing|"
                     r"blast|explosion|incident|bomber|shooting)|\bin a separate\b|\bseparately\b", re.IGNORECASE)
# 'The first incident occurred in Mosel Kor village ... The third incident occurred near Islamia Model School':
# an article that counts its attacks
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth"]
ORDINAL = re.compile(r"\bthe (first|second|third|fourth|fifth|sixth) (?:incident|attack|blast|explosion)"
                     r"(?:\s+[\w,]+){0,2}?\s+(?:occurred|took place|happened|was reported|was carried out)\b",
                     re.IGNORECASE)
COUNTED_INCIDENT = re.compile(r"\b(?:another|the (?:first|second|third|fourth|fifth|sixth)) (incident)\s+"
                              r"(?:occurred|took place|happened|was reported)\b", re.IGNORECASE)
ATTACKERS = re.compile(r"\b(attackers?|militants?|terrorists?|assailants?|bombers?|insurgents?|gunmen|khawarij|"
                       r"fighters|Taliban)\b", re.IGNORECASE)
CONDEMNED = re.compile(r"\bcondemn", re.IGNORECASE)


def _attack_type(word: str) -> str | None:
    word = word.lower()
    for start, kind in (("suicide", "suicide bombing"), ("car bomb", "bombing"), ("grenade", "grenade attack"),
                        ("rocket", "rocket attack"), ("hijack", "hijacking"), ("ambush", "armed assault")):
        if word.startswith(start):
            return kind
    if re.match(r"bomb|blast|explos|ied|detonat|blew|went off", word):
        return "bombing"
    if re.match(r"shoot|shot|gun|opened fire|fired|stormed", word):
        return "armed assault"
    return None


_WORD = "(?:" + "|".join(sorted([*NUMBER_WORDS, "hundred", "thousand"], key=len, reverse=True)) + ")"
# 60, 1,200, sixty, sixty-two, one hundred and twenty: bounded, so a list of figures cannot make the search slow
NUMBER = rf"(?:\d{{1,3}}(?:,\d{{3}}){{1,3}}(?!\d|,\d)|\d{{1,7}}(?!\d|,\d)|{_WORD}(?:(?:[- ]|\s+and\s+){_WORD}){{0,4}})"
BOUND = r"(?:at least |more than |over |as many as |nearly |around |about |some |up to )?"
WHO = r"people|persons|civilians|soldiers|policemen|police|personnel|worshippers|others"
# words between a figure and 'killed' that are no other figure or toll ('34 lives were lost', '4 police officers')
BETWEEN = r"(?:(?!killed\b|dead\b|died\b|injured\b|wounded\b|and\b)[A-Za-z][\w’'-]*,?\s+){0,4}?"
KILLED = [
    re.compile(rf"\b(?:killed|killing|claimed the lives of|left|leaving|kills)\s+(?P<n>{BOUND}{NUMBER})\b"
               rf"(?!\s*(?:{BETWEEN})?(?:injured|wounded|hurt))", re.IGNORECASE),
    re.compile(rf"\b(?P<n>{BOUND}{NUMBER})\s+{BETWEEN}(?:were|have been|had been|was|are)?\s*"
               r"(?:killed|dead|died|martyred|lost their lives|lives were lost|embraced martyrdom|shot dead|"
               r"gunned down|slain|perished)\b", re.IGNORECASE),
    re.compile(r"\bdeath toll\s+(?:\w+\s+){0,3}?(?:rose|climbed|reached|jumped|increased|escalated|is|was|stood at|"
               rf"has risen|had risen)\s+(?:to\s+)?(?P<n>{BOUND}{NUMBER})", re.IGNORECASE),
]
# one victim told without a figure: 'a policeman was killed', 'killed a Chinese national'
KILLED_ONE = re.compile(
    r"(?<!and )\b(?:(?:a|an)\s+(?:[\w()-]+\s+){0,4}?(?:was|had been|has been)\s+(?:killed|shot dead|gunned down|"
    r"martyred|slain)|,\s+(?:a|an)\s+[^,]{3,80},\s+was\s+(?:killed|shot dead|gunned down|martyred|slain)|"
    r"(?:a|an)\s+(?:[\w-]+\s+){0,3}?(?:embraced martyrdom|died)|"
    r"(?:killed|killing|murdered|shot dead|gunned down|assassinated)\s+(?:a|an)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:man|woman|boy|girl|child|policeman|soldier|national|reporter|"
    r"official|officer|civilian|worker|guard|employee|lecturer|journalist|student|teacher|leader))\b", re.IGNORECASE)
KILLED_SUM = [
    re.compile(rf"\b(?:killed|killing|kills)\s+(?P<n>{BOUND}{NUMBER})\s+(?:[A-Za-z-]+\s+){{1,2}}?and\s+"
               rf"(?P<m>{NUMBER})\s+[A-Za-z]", re.IGNORECASE),
    re.compile(rf"\b(?P<n>{BOUND}{NUMBER}|an?)\s+(?:[A-Za-z-]+\s+){{1,2}}?and\s+(?P<m>{NUMBER}|an?)\s+"
               r"(?:[A-Za-z-]+\s+){1,2}?"
               r"(?:were|have been|had been)\s+(?:killed|martyred|shot dead|slain)\b", re.IGNORECASE),
]
WOUNDED_SUM = [
    re.compile(rf"\b(?:injuring|wounding|injured|wounded)\s+(?P<n>{BOUND}{NUMBER})\s+(?:[A-Za-z-]+\s+){{1,2}}?and\s+"
               rf"(?P<m>{NUMBER}|an?)\s+[A-Za-z]", re.IGNORECASE),
    re.compile(rf"\b(?P<n>{BOUND}{NUMBER}|an?)\s+(?:[A-Za-z-]+\s+){{1,2}}?and\s+(?P<m>{NUMBER}|an?)\s+"
               r"(?:[A-Za-z-]+\s+){1,2}?(?:were|have been|had been)\s+(?:injured|wounded|hurt)\b", re.IGNORECASE),
]
# '50-60 people were killed', 'killing between 50 and 60': a range, as stated
KILLED_RANGE = re.compile(rf"\b(?:between\s+)?(?P<low>\d{{1,5}}|{_WORD})\s*(?:-|–|to|and)\s*"
                          rf"(?P<high>\d{{1,5}}|{_WORD})\s+"
                          r"(?:(?:[\w-]+\s+){0,3}?(?:were|have been|had been)?\s*(?:killed|dead|died|martyred)\b)|"
                          rf"\b(?:killed|killing|kills)\s+(?:between\s+)?(?P<low2>\d{{1,5}}|{_WORD})\s*(?:-|–|to|and)\s*"
                          rf"(?P<high2>\d{{1,5}}|{_WORD})\b", re.IGNORECASE)
NO_CASUALTIES = re.compile(r"\bno (?:civilian or military |civilian |military )?casualties\b|\bno one was (?:killed|"
                           r"hurt|injured)\b", re.IGNORECASE)
WOUNDED = [
    re.compile(rf"\b(?:injuring|wounding|injured|wounded|injures|wounds)\s+(?P<n>{BOUND}{NUMBER})\b"
               r"(?!\s*(?:[A-Za-z]+\s+){0,3}?(?:were |was )?(?:killed|dead|died))", re.IGNORECASE),
    re.compile(rf"\b(?P<n>{BOUND}{NUMBER})\s+{BETWEEN}(?:were|have been|was|are|others)?\s*"
               r"(?:injured|wounded|hurt|sustained (?:wounds|injuries)|suffered (?:injuries|wounds))\b",
               re.IGNORECASE),
]
PLACE = re.compile(r"\b(?:in|at|near|of|outside|inside|through|rocked|hit|struck|targeted)\s+(?:the\s+)?"
                   r"(?:(?:north|south|east|west|northern|southern|eastern|western|northwest|northwestern|north-west|"
                   r"north-western|southwest|southwestern|south-west|south-western|northeast|northeastern|southeast|"
                   r"southeastern|central|restive|troubled|turbulent|remote|upmarket|busy)\s+)?"
                   r"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,2})")
# 'Balochistan's Mastung district', 'KP's Lakki Marwat district': a place within a place, with no word before it
WITHIN = re.compile(r"\b(?P<within>[A-Z][\w-]+)(?:\s+(?:province|district|city))?[’']s\s+"
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
MONTHS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"], start=1)}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())} | {"sept": 9})
# a month by name or abbreviation ('Oct.'); 'May' only with its capital, so 'the toll may rise' is no month
MONTH = r"(?:(?-i:May)|" + "|".join(sorted((m for m in MONTHS if m != "may"), key=len, reverse=True)) + r")\b\.?"
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
CLAUSES = re.compile(r",?\s+while\s+|;\s+|,?\s+whereas\s+|,\s+(?=(?:a|one|two|three) days? after\b)|"
                     r",?\s+and\s+(?=(?:threatened|vowed|warned)\b)")
PRONOUN = re.compile(r"\b(it|they|the group|the outfit|the militants|the organisation|the organization)\b",
                     re.IGNORECASE)


def _count(match: re.Match[str] | None) -> tuple[int | None, bool]:
    if match is None:
        return None, False
    words = match.group("n").strip().rstrip(",")
    words = re.sub(r"^(?:nearly|around|about|some|up to|as many as)\s+", "", words, flags=re.IGNORECASE)
    try:
        toll = parse_toll(words, "killed")
    except FieldError:
        return None, False
    return toll.best if toll.best is not None else toll.high, toll.at_least


def _figures(patterns: list[re.Pattern[str]], text: str) -> tuple[tuple[int | None, bool], int | None]:
    """((victims, at least), attackers) the clause counts: a figure whose words name attackers ('two of the
    attackers were shot dead', 'killed 21 terrorists') counts them, not their victims."""
    victims: tuple[int | None, bool] = (None, False)
    attackers = None
    text = INCLUDING.sub(" ", text)  # '53 people, including 46 girls, were slain'
    for pattern in patterns:
        for match in pattern.finditer(text):
            value = _count(match)
            if value[0] is None:
                continue
            words = match.group(0) + text[match.end():match.end() + 25] if pattern is patterns[0] else match.group(0)
            if ATTACKERS.search(words.replace(match.group("n"), " ")):
                attackers = attackers if attackers is not None else value[0]
            elif victims[0] is None:
                victims = value
    if patterns in (KILLED, WOUNDED):
        for pattern in KILLED_SUM if patterns is KILLED else WOUNDED_SUM:  # 'killing nine Chinese and four Pakistanis'
            for match in pattern.finditer(text):
                first, other = (_count_words(match.group("n")), False), _count_words(match.group("m"))
                if victims[0] in (first[0], other, None) and first[0] is not None and other is not None \
                        and not ATTACKERS.search(match.group(0)):
                    return (first[0] + other, first[1]), attackers
    return victims, attackers


INCLUDING = re.compile(r",\s+including\s+[^,]{1,80},")


def _count_words(words: str) -> int | None:
    if words.strip().lower() in ("a", "an"):
        return 1
    try:
        return parse_toll(words.strip(), "killed").best
    except FieldError:
        return None


def _date(text: str, published: date | None, said: bool = False) -> tuple[str | None, str | None]:
    """(date at its precision, precision) the clause gives, resolved against the publication date; a date that is
    none ('31 February 2023') or one a page prints with a time ('September 03, 2024 22:35': a byline) gives none.
    The day something was said ('said on Tuesday') counts only with `said`."""
    # a wire dateline ('Quetta [Pakistan], September 13 :') is the day of the report
    text = re.sub(rf"^[A-Z][A-Za-z ]+(?:\s*\[[^\]]*\])?,\s+{MONTH}\s+\d{{1,2}}\s*(?::|\()", " ", text,
                  flags=re.IGNORECASE)
    try:
        when, precision = _date_unchecked(re.sub(
            r"\b(?:\w+\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+\w+\.?,?\s+\d{4})\s*(?:,\s*)?\d{1,2}:\d{2}", " ", text),
            published, said)
        if when is not None:
            date.fromisoformat(when if len(when) == 10 else f"{when}-01" if len(when) == 7 else f"{when}-01-01")
        return when, precision
    except (ValueError, OverflowError):
        return None, None


def _month(word: str) -> int:
    return MONTHS[word.lower().rstrip(".")]


def _date_unchecked(text: str, published: date | None, said: bool) -> tuple[str | None, str | None]:
    flags = re.IGNORECASE
    day_month_year = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({MONTH}),?\s+(\d{{4}})\b", text, flags)
    if day_month_year:
        return f"{int(day_month_year.group(3)):04d}-{_month(day_month_year.group(2)):02d}-" \
               f"{int(day_month_year.group(1)):02d}", "day"
    month_day_year = re.search(rf"\b({MONTH})\s+(\d{{1,2}}),?\s+(\d{{4}})\b", text, flags)
    if month_day_year:
        return f"{int(month_day_year.group(3)):04d}-{_month(month_day_year.group(1)):02d}-" \
               f"{int(month_day_year.group(2)):02d}", "day"
    month_year = re.search(rf"\b({MONTH}),?\s+(\d{{4}})\b", text, flags)
    if month_year:
        return f"{int(month_year.group(2)):04d}-{_month(month_year.group(1)):02d}", "month"
    text = re.sub(r"\b(?:scheduled for|due on|planned for|next|until)\s+\w+", " ", text, flags=flags)
    # the day something was said is not the day of the attack when another day is named: 'in a Telegram post on
    # Tuesday, ISIL said it struck the previous day (Monday)'
    days = len(re.findall(r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", text, flags))
    if not said and days > 1:
        text = re.sub(r"\b(?:post|statement|message|video|announcement|interview|briefing|said|told|announced|"
                      r"confirmed|reported)\s+(?:on\s+|late on\s+|early on\s+)?(?:monday|tuesday|wednesday|thursday|"
                      r"friday|saturday|sunday)\b", " ", text, flags=flags)
    lowered = text.lower()
    if published is not None:
        # 'on July 30' or '30 July' with no year: the last such day on or before the publication day
        day_month = re.search(rf"\b({MONTH})\s+(\d{{1,2}})\b(?!,?\s*\d{{4}})", text, flags) or re.search(
            rf"\b(\d{{1,2}})\s+({MONTH})(?!,?\s*\d{{4}})", text, flags)
        if day_month:
            first, second = day_month.groups()
            month, day = (_month(first), int(second)) if not first.isdigit() else (_month(second), int(first))
            try:
                when = date(published.year, month, day)
                if when > published:
                    when = date(published.year - 1, month, day)
                return when.isoformat(), "day"
            except ValueError:
                pass
        if re.search(r"\b(today|this morning|tonight|earlier in the day|earlier today)\b|today[’']s", lowered):
            return published.isoformat(), "day"
        weekday = re.search(r"\b(?:on\s+|last\s+|this\s+)?(" + "|".join(WEEKDAYS) + r")\b(\s+last\b)?", lowered)
        if weekday:
            back = (published.weekday() - WEEKDAYS.index(weekday.group(1))) % 7
            if weekday.group(2):  # 'on Tuesday last': the week before
                back += 7
            return (published - timedelta(days=back)).isoformat(), "day"
        if re.search(r"\b(yesterday|last night)\b", lowered):
            return (published - timedelta(days=1)).isoformat(), "day"
        if re.search(r"\blast month\b", lowered):
            previous = published.replace(day=1) - timedelta(days=1)
            return f"{previous.year:04d}-{previous.month:02d}", "month"
        if re.search(r"\b(?:earlier |later )?this month\b", lowered):
            return f"{published.year:04d}-{published.month:02d}", "month"
        # 'in January', 'earlier in August', 'February this year': the last such month up to the publication
        month_only = re.search(rf"\b(?:in|since|during|earlier in|early|late|mid-?)\s+({MONTH})(?!\s*\d)", text,
                               flags) \
            or re.search(rf"\b({MONTH})\s+this year\b", text, flags)
        if month_only:
            month = _month(month_only.group(1))
            year = published.year if month <= published.month else published.year - 1
            return f"{year:04d}-{month:02d}", "month"
        if re.search(r"\blast week\b", lowered):  # the month, if all of last week falls in one
            start, end = published - timedelta(days=published.weekday() + 7), published - timedelta(
                days=published.weekday() + 1)
            if (start.year, start.month) == (end.year, end.month):
                return f"{start.year:04d}-{start.month:02d}", "month"
        weeks = re.search(r"\b(?:days|weeks) (?:ago|after|earlier|before)\b", lowered)
        if weeks:  # some days or weeks before publication: the month, or the year, if all of them fall in one
            earliest = published - timedelta(days=62 if "weeks" in weeks.group(0) else 31)
            if (earliest.year, earliest.month) == (published.year, published.month):
                return f"{published.year:04d}-{published.month:02d}", "month"
            if earliest.year == published.year:
                return f"{published.year:04d}", "year"
        if re.search(r"\blast year\b", lowered):
            return f"{published.year - 1:04d}", "year"
        if re.search(r"\b(?:earlier )?this year\b", lowered):
            return f"{published.year:04d}", "year"
    in_year = re.search(r"\b(?:in|during|of)\s+((?:19|20)\d{2})\b|\b((?:19|20)\d{2}),?\s+when\b", lowered)
    if in_year:
        return in_year.group(1) or in_year.group(2), "year"
    return None, None


def _resolved(name: str, countries: tuple[str, ...]) -> Any:
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


def _places(text: str, countries: tuple[str, ...]) -> list[Named]:
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
        resolved = _resolved(f"{name}, {context}" if context else name, countries) or _resolved(name, countries)
        if resolved is None and context is None and after:  # 'at Shahrah-e-Iqbal, Quetta'
            context = after.group(1)
        if resolved is None and context is not None:  # 'Quetta's Poodgali Chowk': a site the gazetteer lacks
            within = _resolved(context, countries)
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


# --------------------------------------------------------------------------------------- mentions, events


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
    (mention.killed, mention.killed_at_least), mention.attackers_killed = _figures(KILLED, clause)
    if mention.killed is None and KILLED_ONE.search(clause):
        others = re.search(rf"\balong with\s+(?P<n>{NUMBER})\s+others\b", clause, re.IGNORECASE)
        mention.killed = 1 + (_count_words(others.group("n")) or 0 if others else 0)
    if mention.killed is None and NO_CASUALTIES.search(clause):
        mention.killed = 0
    spread = KILLED_RANGE.search(clause)
    if spread is not None and mention.killed is not None:
        low, high = (_count_words(spread.group(name) or spread.group(name + "2") or "") for name in ("low", "high"))
        if low is not None and high is not None and low < high and mention.killed in (low, high):
            mention.killed, mention.killed_low = high, low
    mention.toll_update = bool(KILLED[2].search(clause))
    (mention.wounded, _), _ = _figures(WOUNDED, clause)
    if not mention.figures and not mention.anaphora and not triggers:
        return None
    plural = bool(triggers) and all(m.group(1).lower().endswith("s") for m in triggers)
    if plural and not mention.figures and not mention.anaphora:
        return None  # 'the Taliban usually plant bombs on roads': attacks in general
    if mention.weak and all(PLURAL.fullmatch(m.group(1)) for m in triggers) and not mention.anaphora:
        return None  # 'These attacks claimed the lives of 266': figures over many attacks
    if not re.search(r"\bclaim", clause, re.IGNORECASE):  # the day a group claimed it is not the attack's day
        mention.date, mention.date_precision = _date(clause, published)
        if mention.date is None:
            mention.date, mention.date_precision = _date(sentence.text, published)
    elif not DAY_NAMED.search(clause) and not re.search(r"\b(?:today|yesterday)\b", clause, re.IGNORECASE):
        mention.date, mention.date_precision = _date(clause, published)  # a month or a year is no claim's day
    else:  # unless the day is the attack's own: 'claimed Monday's attack', 'Today's blast was part of our operations'
        owned = re.search(r"\b(?:today|yesterday|monday|tuesday|wednesday|thursday|friday|saturday|sunday)[’']s\s+"
                          r"(?:[\w-]+\s+){0,2}?(?:attack|blast|bombing|explosion|assault|shooting)", clause,
                          re.IGNORECASE)
        if owned is not None:
            mention.date, mention.date_precision = _date(owned.group(0).replace("’s", "").replace("'s", ""), published)
    mention.day_before = day_before
    if day_before and (re.search(r"\b(?:earlier|later|also) in the day\b", clause, re.IGNORECASE) or (
            re.search(r"\b(?:on )?the same day\b", clause, re.IGNORECASE) and _date(clause, published)[0] is None)):
        mention.date, mention.date_precision = day_before[0], "day"
    if mention.toll_update:  # 'the death toll rose to 14 on Monday': the day of the count, not of the attack
        mention.date, mention.date_precision = None, None
    after = re.match(r"(a|one|two|three) days? after\b", clause, re.IGNORECASE)
    if after and mention.date_precision == "day" and mention.date:  # 'warned Saturday, a day after four were killed'
        days = _count_words(after.group(1)) or 1
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
    mention.places = [named for named in _places(clause, countries)
                      if any(named.start <= start or named.start - end <= NEAR for start, end in cues)]
    if mention.weak and not mention.figures and not mention.anaphora and not (mention.date and mention.places):
        return None  # 'carried out attacks on Pakistani soil': talk of attacks, no attack
    mention.targets = {m.group("name"): m.group("target").strip() for m in TARGET.finditer(clause)}
    mentioned = dict(groups.find(clause))
    if mentioned and not CONDEMNED.search(clause):
        attribution = _attribution(clause)
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
        return _district(self.place)


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
        return any(_within(named, event.place) or _within(event.place, named) for named in placed)
    return True


def _within(inner: Named, outer: Named) -> bool:
    """Whether `inner` lies in `outer`: the same district, or a town or district of that province."""
    if not inner.rank or not outer.rank:
        return True
    if outer.rank == 1:
        return inner.resolved.admin1_code == outer.resolved.admin1_code
    if inner.rank == 1:
        return False
    return _district(inner) == _district(outer)


def _same_place(one: Named, other: Named) -> bool:
    if one.rank and other.rank:
        return _district(one) == _district(other)
    return one.name == other.name


def _district(named: Named) -> str | None:
    return named.resolved.admin2_code or named.resolved.name


def _split(mention: Mention) -> list[Mention]:
    """'struck at a political rally in Mastung and a market in Orakzai': one attack at each of the places an
    attack clause lists with 'and' (their tolls are not told apart, so none is kept)."""
    listed: list[Named] = []
    for named in mention.places:  # each place once: 'in Kabul' and 'the Kabul police' are one
        if named.rank != 1 and not any(_same_place(named, other) for other in listed):
            listed.append(named)
    pairs = zip(listed, listed[1:], strict=False)
    if len(listed) < 2 or not all(" and " in mention.clause[a.end:b.start] for a, b in pairs):
        return [mention]
    parts = []
    for named in listed:
        part = replace(mention, places=[named], killed=None, wounded=None, attackers_killed=None, alone=True)
        parts.append(part)
    return parts


CLAIMED = re.compile(r"\bclaim(?:ed|s|ing)?\b|\b(?:accepted|took|assumed|owned|claims?)\s+(?:the\s+)?responsibility|"
                     r"\bsaid (?:one of )?its (?:fighters|members|militants|men|suicide bombers?)\b", re.IGNORECASE)
NOT_CLAIMED = re.compile(r"\bno (?:one|group|organi[sz]ation)\b|\bnot (?:yet )?claimed|\byet to (?:claim|make)",
                         re.IGNORECASE)
SUSPECTED = re.compile(r"\bsuspect|\ballegedly\b|\balleged\b|\bbelieved to\b|\blikely\b|\bsuspicion\b|"
                       r"\bthought to\b", re.IGNORECASE)
DENIED = re.compile(r"\bden(?:ied|ies|y)\b|\brejected (?:any )?(?:involvement|responsibility)", re.IGNORECASE)
STRENGTH = {"claimed": 3, "attributed": 2, "suspected": 1, "denied": 0}


def _attribution(clause: str) -> str:
    """How the clause ties the group it names to the attack: claimed, denied, suspected, or else attributed (named
    by officials or the reporter)."""
    if DENIED.search(clause):
        return "denied"
    if CLAIMED.search(clause) and not NOT_CLAIMED.search(clause):
        return "claimed"
    return "suspected" if SUSPECTED.search(clause) else "attributed"


GOVERNING = re.compile(r"(?:[’']s)?\s+(?:government|takeover|administration|authorities|regime|rule|prisons?|"
                       r"-led|interior ministry|prosecution)\b", re.IGNORECASE)


class Groups:
    """The registry's groups as an article names them: by any spelling (an acronym in capitals only: 'bla' in a
    sentence is no group), or by a spelling that differs only in its vowels and joining letters
    ('Tehrik-e-Taliban Pakistan' for 'Tehrik-i-Taliban Pakistan')."""

    PHRASE = re.compile(r"\b[A-Z][\w'’]*(?:(?:\s+|-(?:[a-z]{1,3}-)?)[A-Z][\w'’]*){1,5}")

    def __init__(self, spellings: dict[str, str]) -> None:
        alternatives = [f"(?-i:{re.escape(name)})" if name.isupper() else re.escape(name)
                        for name in sorted(spellings, key=len, reverse=True)]
        self.pattern = re.compile(r"\b(" + "|".join(alternatives) + r")\b", re.IGNORECASE) if spellings else None
        self.lowered = {name.lower(): canonical for name, canonical in spellings.items()}
        self.skeletons = {self.skeleton(name): canonical for name, canonical in spellings.items()
                          if len(re.split(r"[\s-]+", name)) >= 3}

    @staticmethod
    def skeleton(name: str) -> str:
        words = [word for word in re.split(r"[\s-]+", fold(name)) if word not in ("e", "i", "ul", "ud", "al", "el")]
        return " ".join(word[0] + re.sub(r"[aeiouy]", "", word[1:]) for word in words if word)

    def find(self, text: str) -> list[tuple[str, str]]:
        """(registry name, as spelt) of each group the text names, in order."""
        if self.pattern is None:
            return []
        candidates = [(m.start(), m.end(), self.lowered[m.group(1).lower()]) for m in self.pattern.finditer(text)]
        if self.skeletons:
            candidates += [(m.start(), m.end(), self.skeletons[self.skeleton(m.group(0))])
                           for m in self.PHRASE.finditer(text) if self.skeleton(m.group(0)) in self.skeletons]
        found: list[tuple[int, int, str]] = []
        for start, end, canonical in sorted(candidates, key=lambda c: c[0] - c[1]):  # the longest name first
            if not any(start < taken_end and taken_start < end for taken_start, taken_end, _ in found):
                found.append((start, end, canonical))
        # 'the Taliban government', 'the Taliban takeover': a group named as a government, not as an attacker
        found = [(start, end, canonical) for start, end, canonical in found
                 if not GOVERNING.match(text, end)]
        return [(canonical, text[start:end]) for start, end, canonical in sorted(found)]


def propose(text: str, published: date | None = None, groups: dict[str, str] | None = None,
            countries: tuple[str, ...] = ("PAK", "AFG")) -> list[Proposal]:
    """The attacks `text` reports. `groups` maps each spelling of a group (as written, any case) to the registry's
    name; `countries` are where places are looked for first."""
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
        when, precision = _date(sentence.text, published, said=True)
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
        town = _dateline(text, countries)
        if town is not None and (events[0].place is None or _within(town, events[0].place)):
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


DATELINE = re.compile(r"^(?P<caps>[A-Z]{2,}(?: [A-Z]{2,}){0,3})(?:/[A-Z]+)?(?:,\s+[A-Z][a-z]+)?\s*(?::|\(|[–—-]\s)|"
                      r"\|\s*(?P<pipe>[A-Z][a-z]+)\s*\||"
                      r"^(?P<wire>[A-Z][a-z]+)(?:\s+\[[^\]]{1,30}\])?,\s+[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*"
                      r"(?:\((?:PTI|IANS|ANI|AP|AFP)\)|:)",
                      re.MULTILINE)


def _dateline(text: str, countries: tuple[str, ...]) -> Named | None:
    """The town a page's dateline names ('QUETTA:', 'KABUL, Afghanistan (AP) —', 'PTI | Karachi |'), if the gazetteer
    knows it as a town or district."""
    match = DATELINE.search(text[:2000])
    if match is None:
        return None
    name = (match.group("caps") or "").title() or match.group("pipe") or match.group("wire")
    resolved = _resolved(name, countries)
    if resolved is None or resolved.kind not in ("town", "district"):
        return None
    group = next(g for g in ("caps", "pipe", "wire") if match.group(g))
    line = next((s for s in sentences(text) if s.start <= match.start(group) < s.end), None)
    if line is None:
        return None
    return Named(name, resolved, match.start(group), match.end(group), dateline=line)


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
            named.rank == 2 and event.place.rank == 2 and _within(named, event.place) for named in mention.places)),
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
    if best is not None and (into.place is None or (best.rank > into.place.rank and _within(best, into.place))
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
    if event.district is None or not any(named.rank == 2 and _district(named) == event.district
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
    typed = next((m for m in mentions if m.trigger and _attack_type(m.trigger)), None)
    if typed is not None:
        proposal.attack_type = _attack_type(typed.trigger or "")
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
        killed = f"{proposal['killed_low']}-{proposal['killed']}" if proposal.get("killed_low") is not None \
            else proposal["killed"]
        row.update({"killed": killed, "killed_at_least": proposal["killed_at_least"] or None,
                    "wounded": proposal["wounded"], "perpetrators_killed": proposal.get("attackers_killed")})
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
