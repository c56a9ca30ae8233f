"""The words that make a clause about an attack, or about no attack (disasters, threats, operations, statistics),
and the cues that tell one attack from another: 'the attack' (the one just told), 'earlier', 'another', 'the
second incident'."""

from __future__ import annotations

import re

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


CONDEMNED = re.compile(r"\bcondemn", re.IGNORECASE)


CLAUSES = re.compile(r",?\s+while\s+|;\s+|,?\s+whereas\s+|,\s+(?=(?:a|one|two|three) days? after\b)|"
                     r",?\s+and\s+(?=(?:threatened|vowed|warned)\b)")


def attack_type_of(word: str) -> str | None:
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
