"""Tolls as an article states them: killed and wounded ('at least 60', 'sixty', 'the death toll rose to 63', '21
civilians and four soldiers', 'between 50 and 60', 'a policeman was killed'), through the same parser as `add`
(incidents.records.parse_toll), with the attackers' own dead told apart."""

from __future__ import annotations

import re

from incidents.errors import FieldError
from incidents.records import NUMBER_WORDS, parse_toll

ATTACKERS = re.compile(r"\b(attackers?|militants?|terrorists?|assailants?|bombers?|insurgents?|gunmen|khawarij|"
                       r"fighters|Taliban)\b", re.IGNORECASE)


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


INCLUDING = re.compile(r",\s+including\s+[^,]{1,80},")


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


def figures_in(patterns: list[re.Pattern[str]], text: str) -> tuple[tuple[int | None, bool], int | None]:
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
                first, other = (count_words(match.group("n")), False), count_words(match.group("m"))
                if victims[0] in (first[0], other, None) and first[0] is not None and other is not None \
                        and not ATTACKERS.search(match.group(0)):
                    return (first[0] + other, first[1]), attackers
    return victims, attackers


def count_words(words: str) -> int | None:
    if words.strip().lower() in ("a", "an"):
        return 1
    try:
        return parse_toll(words.strip(), "killed").best
    except FieldError:
        return None
