"""An article's sentences with their character offsets: every field of a proposal rests on one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass


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
    wrapped = _hard_wrapped(text)
    ends = sorted([*_SENTENCE_END.finditer(text), *([] if wrapped else _LINE_END.finditer(text))],
                  key=lambda m: m.start())
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


_LINE_END = re.compile(r"(?<=[^.!?,;:\s])[ \t]*\r?\n(?=[ \t]*[A-Z0-9\"“‘(])")
_WRAPPED_LINE = re.compile(r"[^\s.!?]\r?\n[ \t]*[a-z]")  # a sentence that goes on on the next line


def _hard_wrapped(text: str) -> bool:
    """Whether the text's lines were wrapped by hand (every 60 or 80 characters): then a line without a stop is
    no headline, and lines do not end sentences."""
    breaks = text.count("\n") - 2 * text.count("\n\n")
    return breaks > 0 and len(_WRAPPED_LINE.findall(text)) >= max(2, breaks // 10)


SHORT_LINE = 120  # characters: a line this short with no stop is a headline or a byline


def _trimmed(text: str, start: int, end: int) -> list[Sentence]:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return []
    offset = start + piece.index(stripped)
    return [Sentence(offset, offset + len(stripped), stripped)]
