"""The perpetrator groups an article names, by the actor registry's spellings, and how it ties them to an attack:
claimed, attributed (blamed by officials or the reporter), suspected or denied."""

from __future__ import annotations

import re

from incidents.gazetteer import fold

CLAIMED = re.compile(r"\bclaim(?:ed|s|ing)?\b|\b(?:accepted|took|assumed|owned|claims?)\s+(?:the\s+)?responsibility|"
                     r"\bsaid (?:one of )?its (?:fighters|members|militants|men|suicide bombers?)\b", re.IGNORECASE)


NOT_CLAIMED = re.compile(r"\bno (?:one|group|organi[sz]ation)\b|\bnot (?:yet )?claimed|\byet to (?:claim|make)",
                         re.IGNORECASE)


SUSPECTED = re.compile(r"\bsuspect|\ballegedly\b|\balleged\b|\bbelieved to\b|\blikely\b|\bsuspicion\b|"
                       r"\bthought to\b", re.IGNORECASE)


DENIED = re.compile(r"\bden(?:ied|ies|y)\b|\brejected (?:any )?(?:involvement|responsibility)", re.IGNORECASE)


STRENGTH = {"claimed": 3, "attributed": 2, "suspected": 1, "denied": 0}


def attribution_of(clause: str) -> str:
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
