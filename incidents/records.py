"""IncidentRecord and friends: the plain, validated shapes every input (fixture, CLI, importer) produces.

Parsing helpers here raise FieldError naming the field and the bad value; callers add the file and line.
"""

from __future__ import annotations

import calendar
import dataclasses
import enum
import functools
import re
import typing
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

import pycountry

from incidents.errors import FieldError
from incidents.models import ActorKind, Attribution, DatePrecision, GeoPrecision, Role, SourceKind, Status

E = TypeVar("E", DatePrecision, GeoPrecision, Status, Role, Attribution, ActorKind, SourceKind)


# ------------------------------------------------------------------------------------------------- parsers

_PARTIAL_DATE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name} | {
    name.lower(): number for number, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"([a-z]+)\.?"
# A date as an article writes it, in English: '30 July 2023', 'July 30, 2023', '30th of July 2023', 'July 2023'.
_WORDED_DATES = (
    (re.compile(rf"^{_DAY}(?:\s+of)?\s+{_MONTH},?\s+(\d{{4}})$"), ("day", "month", "year")),
    (re.compile(rf"^{_MONTH}\s+{_DAY},?\s+(\d{{4}})$"), ("month", "day", "year")),
    (re.compile(rf"^{_MONTH},?\s+(\d{{4}})$"), ("month", "year")),
)


def _worded_date(text: str) -> tuple[int, int | None, int | None] | None:
    """(year, month, day) of a date written in words, month or day None where it gives none; None if it is not
    one."""
    cleaned = " ".join(text.lower().replace(" ", " ").split())
    for pattern, names in _WORDED_DATES:
        match = pattern.match(cleaned)
        if match:
            parts = dict(zip(names, match.groups(), strict=True))
            month = _MONTHS.get(parts["month"])
            if month is None:
                return None
            return int(parts["year"]), month, int(parts["day"]) if "day" in parts else None
    return None


def parse_partial_date(value: object, field_name: str = "date") -> tuple[date, DatePrecision]:
    """'2023' -> (2023-01-01, year); '2023-07' or 'July 2023' -> (2023-07-01, month); '2023-07-30', '30 July 2023'
    or 'July 30, 2023' -> (that day, day)."""
    if isinstance(value, datetime):
        return value.date(), DatePrecision.DAY
    if isinstance(value, date):
        return value, DatePrecision.DAY
    if isinstance(value, int) and 1 <= value <= 9999:
        return date(value, 1, 1), DatePrecision.YEAR
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value), DatePrecision.DAY  # the common case, in C
        except ValueError:
            pass  # fall through to the full parse for its message
    match = _PARTIAL_DATE.match(str(value)) if value is not None else None
    worded = _worded_date(str(value)) if value is not None and not match and len(str(value)) < 40 else None
    if not match and not worded:
        raise FieldError(field_name, value, "is not a date; use YYYY, YYYY-MM or YYYY-MM-DD (or '30 July 2023', "
                                            "'July 2023')")
    year, month, day = worded or (int(part) if part else None for part in match.groups())  # type: ignore[union-attr]
    try:
        if month is None:
            return date(year, 1, 1), DatePrecision.YEAR  # type: ignore[arg-type]
        if day is None:
            return date(year, month, 1), DatePrecision.MONTH  # type: ignore[arg-type]
        return date(year, month, day), DatePrecision.DAY  # type: ignore[arg-type]
    except ValueError as exc:
        raise FieldError(field_name, value, f"is not a real date ({exc})") from None


def parse_date(value: object, field_name: str) -> date | None:
    """A full calendar date, or None for blank."""
    if is_blank(value):
        return None
    parsed, precision = parse_partial_date(value, field_name)
    if precision is not DatePrecision.DAY:
        raise FieldError(field_name, value, "needs a full date, YYYY-MM-DD")
    return parsed


def period_end(start: date, precision: DatePrecision) -> date:
    """The last day of the period a partial date stands for ('2018' -> 2018-12-31)."""
    if precision is DatePrecision.YEAR:
        return date(start.year, 12, 31)
    if precision is DatePrecision.MONTH:
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return start


def date_at_precision(start: date, precision: str) -> str:
    """A date as precisely as it is known: 2023, 2023-07 or 2023-07-30 (ISO 8601 at its precision)."""
    if precision == DatePrecision.YEAR:
        return str(start.year)
    if precision == DatePrecision.MONTH:
        return start.strftime("%Y-%m")
    return start.isoformat()


def is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:  # NaN from pandas
        return True
    return isinstance(value, str) and not value.strip()


MAX_COUNT = 2_147_483_647  # the largest value of an INTEGER column on PostgreSQL (and so on both engines)


def parse_count(value: object, field_name: str) -> int | None:
    """A non-negative whole number of people, or None (unknown) for blank."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit() and value.isascii() and len(value) < 10:
        return int(value)  # the common case: a plain non-negative whole number, well inside the column
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise FieldError(field_name, value, "is not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
            raise FieldError(field_name, value, "is not a whole number")
        if len(text.lstrip("+-").split(".")[0].lstrip("0")) > 10:
            raise FieldError(field_name, text if len(text) <= 20 else text[:20] + "...",
                             f"is more than any count the database holds ({MAX_COUNT:,})")
        number = int(float(text))
    if number < 0:
        raise FieldError(field_name, value, "is negative; a count of people cannot be")
    if number > MAX_COUNT:
        raise FieldError(field_name, value, f"is more than any count the database holds ({MAX_COUNT:,})")
    return number


def parse_coordinate(value: object, field_name: str, limit: float) -> float | None:
    if is_blank(value):
        return None
    try:
        number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise FieldError(field_name, value, "is not a number") from None
    if not -limit <= number <= limit:
        raise FieldError(field_name, value, f"is out of range (-{limit:g} to {limit:g})")
    return number


@dataclass(frozen=True, slots=True)
class Toll:
    """A toll as a source states it: one figure (best), a range (low-high), and whether it is a lower bound."""

    best: int | None = None
    low: int | None = None
    high: int | None = None
    at_least: bool = False


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS = {word: number for number, word in enumerate(_UNITS)} | {
    word: 10 * number for number, word in enumerate(_TENS) if word}
# Words a source uses for a number it does not give: no figure can be read from them.
VAGUE_TOLLS = {"dozens", "scores", "several", "many", "some", "few", "a few", "numerous", "hundreds", "thousands",
               "countless", "multiple", "unknown", "unspecified", "a number"}
_AT_LEAST = re.compile(r"^(?:at least|no fewer than|no less than|more than|over|upwards of|>=?)\s*(.+?)$"
                       r"|^(.+?)\s*(?:\+|or more|and more)$")
_RANGE_SEPARATOR = re.compile(r"\s*(?:-|–|—|\bto\b|\band\b)\s*")


def _spelled(text: str) -> int | None:
    """'sixty' -> 60, 'sixty-two' -> 62, 'one hundred and twenty' -> 120, 'a hundred' -> 100, 'two thousand five
    hundred' -> 2500; None if the words are not one number as English writes it ('sixty-two-three', 'one two')."""
    words = [word for word in re.split(r"[\s-]+", text) if word]
    position = 0

    def word(offset: int = 0) -> str | None:
        return words[position + offset] if position + offset < len(words) else None

    def below_hundred() -> int | None:  # 'seven', 'seventeen', 'seventy', 'seventy-seven'
        nonlocal position
        first = word()
        if first in _UNITS:
            position += 1
            return _UNITS.index(first)
        if first in _TENS and first:
            position += 1
            unit = word()
            if unit in _UNITS[1:10]:
                position += 1
                return 10 * _TENS.index(first) + _UNITS.index(unit)
            return 10 * _TENS.index(first)
        return None

    def below_thousand() -> int | None:  # the above, or '(a|one ... nine) hundred [and] [the above]'
        nonlocal position
        first = word()
        if word(1) == "hundred" and (first in ("a", "an") or first in _UNITS[1:20]):  # twelve hundred
            position += 2
            hundreds = 100 * (1 if first in ("a", "an") else _UNITS.index(str(first)))
            if word() == "and":
                position += 1
                rest = below_hundred()
                return None if rest is None else hundreds + rest
            rest = below_hundred()
            return hundreds + (rest or 0)
        return below_hundred()

    if word() in ("a", "an") and word(1) == "thousand":
        value: int | None = 1
        position += 1
    else:
        value = below_thousand()
    if value is not None and word() == "thousand" and value > 0:
        position += 1
        value *= 1000
        if word() == "and":
            position += 1
        if word() is not None:
            rest = below_thousand()
            value = None if rest is None else value + rest
    return value if value is not None and position == len(words) else None


def _one_figure(text: str, field_name: str, stated: object) -> int:
    text = text.strip()
    digits = text.replace(",", "").replace("\u202f", "").replace(" ", "")
    grouped = re.fullmatch(r"\d{1,3}([,\u202f ]\d{3})+", text) is not None  # 1,200 or 1 200, not 1,2,3 or 1,20
    if digits.isdigit() and digits.isascii() and (grouped or text.isdigit()):
        number = parse_count(digits, field_name)
        assert number is not None
        return number
    spelled = _spelled(text)
    if spelled is None:
        raise FieldError(field_name, stated, "is not a figure this tool can read (a number such as 60 or sixty, "
                         "'at least 60', '60+', or a range such as 50-60)")
    number = parse_count(spelled, field_name)
    assert number is not None
    return number


def parse_toll(value: object, field_name: str) -> Toll:
    """A toll as a source states it: '60', 'sixty', '1,200', 'at least 60', '60+', 'more than 60' (a lower bound,
    as stated), '50-60', 'between 50 and 60'. A word that gives no figure ('dozens', 'several') is refused with
    the reason; blank is unknown."""
    if is_blank(value):
        return Toll()
    if isinstance(value, int) and not isinstance(value, bool):
        return Toll(best=parse_count(value, field_name))
    text = " ".join(str(value).lower().split())
    if text in VAGUE_TOLLS or text.removesuffix(" of") in VAGUE_TOLLS:
        raise FieldError(field_name, value, "gives no figure; record the number the source gives, or leave the toll "
                         "out (unknown)")
    bound = _AT_LEAST.match(text)
    if bound:
        return Toll(best=_one_figure(bound.group(1) or bound.group(2), field_name, value), at_least=True)
    if text.startswith(("-", "−")):
        parse_count(text, field_name)  # the usual message for a negative count
    if _spelled(text) is not None:  # 'sixty-two' is one figure, not a range
        return Toll(best=parse_count(_spelled(text), field_name))
    spread = text.removeprefix("between ")
    for separator in _RANGE_SEPARATOR.finditer(spread):  # 'twenty-one to 22' splits at 'to', not at its '-'
        try:
            low, high = (_one_figure(part, field_name, value)
                         for part in (spread[:separator.start()], spread[separator.end():]))
        except FieldError:
            continue
        if low > high:
            raise FieldError(field_name, value, "is a range whose first figure is above its second")
        return Toll(low=low, high=high) if low != high else Toll(best=low)
    return Toll(best=_one_figure(text, field_name, value))


def stated_tolls(killed: object, wounded: object, killed_at_least: bool = False,
                 wounded_at_least: bool = False) -> dict[str, Any]:
    """A report's toll fields (ReportRecord's keywords) from the killed and wounded as the source states them."""
    dead, hurt = parse_toll(killed, "killed"), parse_toll(wounded, "wounded")
    return {"killed": dead.best, "killed_low": dead.low, "killed_high": dead.high,
            "killed_at_least": killed_at_least or dead.at_least, "wounded": hurt.best, "wounded_low": hurt.low,
            "wounded_high": hurt.high, "wounded_at_least": wounded_at_least or hurt.at_least}


CURLY_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}


TRACKING_PARAMETERS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "cmpid", "ocid", "ref", "ref_src")


def url_identity(url: str) -> str:
    """What makes two spellings of an article's URL the same page: the scheme (http is https), the host without
    'www.' and a default port, the path without a trailing '/', and the query without tracking parameters
    (utm_*, fbclid, ...) in sorted order; the #fragment is left out. Text that is no URL is itself."""
    from urllib.parse import parse_qsl, urlencode, urlsplit

    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        port = parts.port
    except ValueError:
        return url
    if not host:
        return url
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = sorted((key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
                   if not key.lower().startswith(TRACKING_PARAMETERS))
    return f"https://{host}{parts.path.rstrip('/')}" + (f"?{urlencode(query)}" if query else "")


def excerpt_in_text(excerpt: str | None, text: str | None) -> bool | None:
    """Whether a report's excerpt occurs in its source's stored text, ignoring case, whitespace and curly quotes
    (True or False); None when there is no excerpt or no text to look in."""
    if not excerpt or not text:
        return None

    def plain(words: str) -> str:
        words = words.translate(CURLY_QUOTES)
        return " ".join(unicodedata.normalize("NFKC", words).casefold().split())

    return plain(excerpt) in plain(text)


def require_excerpt_in(excerpt: str | None, text: str | None, where: str) -> None:
    """FieldError when the source's text is at hand (`where` names it) and the excerpt does not occur in it."""
    if excerpt_in_text(excerpt, text) is False:
        raise FieldError("excerpt", excerpt, f"does not occur in {where}; quote the sentence as the source gives it "
                         "(case and spacing may differ)")


def parse_bool(value: object, field_name: str) -> bool | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y"}:
        return True
    if text in {"0", "false", "no", "n"}:
        return False
    raise FieldError(field_name, value, "is not yes/no")


def parse_choice(value: object, field_name: str, choices: type[E]) -> E | None:
    if is_blank(value):
        return None
    text = str(value).strip().lower()
    try:
        return choices(text)
    except ValueError:
        allowed = ", ".join(member.value for member in choices)
        raise FieldError(field_name, value, f"is not one of: {allowed}") from None


TYPED_PRECISIONS = ("exact", "place", "district", "province", "country")


def parse_typed_precision(value: object, field_name: str = "geo_precision") -> GeoPrecision | None:
    """A geo precision a person or a source gives: one of TYPED_PRECISIONS. 'gazetteer_place' and
    'gazetteer_district' say the gazetteer gave the point, so they are never typed (docs/places.md)."""
    precision = parse_choice(value, field_name, GeoPrecision)
    if precision is not None and precision.value not in TYPED_PRECISIONS:
        raise FieldError(field_name, value, f"is the gazetteer's own precision, not one to type; give one of: "
                                            f"{', '.join(TYPED_PRECISIONS)}")
    return precision


def parse_perpetrator(item: str, field_name: str, source: SourceRecord | None = None) -> ActorLink:
    """'NAME' or 'NAME=ATTRIBUTION' (claimed, attributed, suspected, denied) -> a perpetrator link. The text after
    the last '=' is the attribution, so a name may itself hold '='."""
    name, equals, level = item.rpartition("=")
    if not equals:
        name, level = item, ""
    if not name.strip():
        raise FieldError(field_name, item, "has an entry without a name")
    try:
        attribution = parse_choice(level.strip() or None, field_name, Attribution)
    except FieldError as exc:
        raise FieldError(field_name, item, f"has attribution {level.strip()!r}, which {exc.reason}") from None
    return ActorLink(name=name.strip(), role=Role.PERPETRATOR, source=source, attribution=attribution)


@lru_cache(maxsize=4096)
def country_code(value: str) -> str:
    """ISO 3166-1 alpha-3 for a code ('PAK', 'PK', '586') or an English name ('Pakistan')."""
    text = value.strip()
    try:
        found = pycountry.countries.get(numeric=text.zfill(3)) if text.isdigit() else pycountry.countries.lookup(text)
    except LookupError:
        found = None
    if found is None:
        raise FieldError("country", value, "is not a country name or ISO 3166 code")
    return str(found.alpha_3)


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """The form aliases are matched on: no accents, case, punctuation or repeated spaces.

    'IS-K', 'is k' and 'IS K' are one key; so are 'Tehrik-i-Taliban Pakistan' and 'Tehrik i Taliban Pakistan'.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    # Letters and digits of any script count (تحریک طالبان پاکستان is a name too); accents and punctuation do not.
    kept = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(kept.casefold().split())


def slugify(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "-", normalize_name(text)).strip("-").upper()


# ------------------------------------------------------------------------------------------------- records


@lru_cache(maxsize=65536)
def location_key(country: str, admin1: str | None, admin2: str | None, place: str | None,
                 latitude: float | None, longitude: float | None, geo_precision: str) -> str:
    coords = "" if latitude is None else f"{latitude:.6f},{longitude:.6f}"
    names = "|".join(normalize_name(part) if part else "" for part in (country, admin1, admin2, place))
    return f"{names}|{coords}|{geo_precision}"


@dataclass(slots=True)
class LocationRecord:
    country: str
    admin1: str | None = None
    admin2: str | None = None
    place: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_precision: GeoPrecision | None = None

    @property
    def key(self) -> str:
        """Identity of a place; coordinates are part of it, so typed coordinates are never merged away."""
        return location_key(self.country, self.admin1, self.admin2, self.place, self.latitude, self.longitude,
                            self.geo_precision.value if self.geo_precision else "")

    def describe(self) -> str:
        return ", ".join(part for part in (self.place, self.admin2, self.admin1, self.country) if part)


@dataclass(slots=True)
class SourceRecord:
    url: str | None = None
    citation: str | None = None
    outlet: str | None = None
    title: str | None = None
    published_on: date | None = None
    author: str | None = None
    language: str | None = None
    accessed_on: date | None = None
    full_text: str | None = None
    kind: str = "article"
    dataset: str | None = None
    dataset_release: str | None = None
    dataset_record_id: str | None = None

    def describe(self) -> str:
        return self.url or self.citation or f"{self.dataset} {self.dataset_record_id}"

    def identity(self) -> tuple[Any, ...]:
        """What makes two mentions one source: the URL, else the dataset record, else the citation text."""
        if self.url:
            return ("url", self.url)
        if self.dataset and self.dataset_record_id:
            return ("record", self.dataset, self.dataset_record_id)
        return ("citation", self.citation or "")


@dataclass(slots=True)
class ReportRecord:
    source: SourceRecord
    reported_on: date | None = None
    killed: int | None = None
    killed_low: int | None = None
    killed_high: int | None = None
    killed_at_least: bool = False
    wounded: int | None = None
    wounded_low: int | None = None
    wounded_high: int | None = None
    wounded_at_least: bool = False
    perpetrators_killed: int | None = None
    preliminary: bool = False
    perpetrator_stated: str | None = None
    attribution: Attribution | None = None
    excerpt: str | None = None
    note: str | None = None


@dataclass(slots=True)
class ActorLink:
    """An actor named by a record, by any of its spellings, with its role and how sure we are."""

    name: str
    role: Role = Role.PERPETRATOR
    attribution: Attribution | None = None
    source: SourceRecord | None = None
    column: str = "perpetrators"  # where the name was read, for error messages


@dataclass(slots=True)
class IncidentRecord:
    key: str | None
    date_start: date
    date_precision: DatePrecision = DatePrecision.DAY
    date_end: date | None = None
    title: str | None = None
    location: LocationRecord | None = None
    attack_type: str | None = None
    target_type: str | None = None
    weapon_type: str | None = None
    suicide: bool | None = None
    summary: str | None = None
    status: Status = Status.CONFIRMED
    killed_best: int | None = None  # an analyst's choice; otherwise derived from reports
    wounded_best: int | None = None
    perpetrators_killed: int | None = None
    origin_dataset: str | None = None
    origin_id: str | None = None
    raw_row: dict[str, Any] | None = None
    actors: list[ActorLink] = field(default_factory=list)
    reports: list[ReportRecord] = field(default_factory=list)

    def validate(self) -> None:
        """Checks that span fields, and text lengths against the columns they go to."""
        _check_lengths(self)
        if self.date_end is not None and self.date_end < self.date_start:
            raise FieldError("date_end", self.date_end.isoformat(), f"is before date {self.date_start}")
        if not self.reports:
            raise FieldError("reports", None, "is empty; every incident needs at least one source")
        seen = set()
        for report in self.reports:
            if report.reported_on is None:
                report.reported_on = report.source.published_on  # a report is dated by its source by default
            identity = report.source.identity()
            if identity in seen:
                raise FieldError("reports", report.source.describe(), "appears twice; give one report per source")
            seen.add(identity)

    def default_key(self) -> str:
        place = self.location.place or self.location.admin2 or self.location.admin1 if self.location else None
        parts = [self.location.country if self.location else "XXX", self.date_start.isoformat()]
        if self.date_precision is DatePrecision.MONTH:
            parts[1] = self.date_start.strftime("%Y-%m")
        elif self.date_precision is DatePrecision.YEAR:
            parts[1] = str(self.date_start.year)
        if place:
            parts.append(slugify(place))
        return "-".join(parts)


def derive_figures(reports: list[Any], measure: str) -> tuple[int | None, int | None, int | None]:
    """(low, latest, high) of `measure` over the reports that are not preliminary.

    low/high take a report's own range where it gives one (killed_low/killed_high); `latest` is the figure of
    the most recent report by reported_on, later list position breaking ties. Works on ReportRecord and on
    the ORM Report alike.
    """
    lows: list[int] = []
    highs: list[int] = []
    latest: int | None = None
    latest_order: tuple[date, int] | None = None
    for position, report in enumerate(reports):
        if report.preliminary:
            continue
        value = getattr(report, measure)
        low = getattr(report, f"{measure}_low", None)
        high = getattr(report, f"{measure}_high", None)
        low = value if low is None else low
        high = value if high is None else high
        if low is not None:
            lows.append(low)
        if high is not None:
            highs.append(high)
        if value is not None:
            order = (report.reported_on or date.min, position)
            if latest_order is None or order > latest_order:
                latest, latest_order = value, order
    return (min(lows) if lows else None, latest, max(highs) if highs else None)


@lru_cache(maxsize=1)
def _length_limits() -> dict[str, list[tuple[str, str, int]]]:
    """(record attribute, column name, max length) per record kind, read from the ORM columns themselves."""
    from incidents.models import Incident, Location, Report, Source

    def limits(model: Any, names: list[str]) -> list[tuple[str, str, int]]:
        return [(name, name, model.__table__.c[name].type.length) for name in names]

    return {
        "incident": limits(Incident, ["key", "attack_type", "target_type", "weapon_type", "origin_dataset",
                                      "origin_id"]),
        "location": limits(Location, ["admin1", "admin2", "place"]),
        "source": limits(Source, ["url", "outlet", "author", "language", "dataset", "dataset_release",
                                  "dataset_record_id"]),
        "report": limits(Report, ["perpetrator_stated"]),
    }


@lru_cache(maxsize=1)
def _location_key_length() -> int:
    from sqlalchemy import String

    from incidents.models import Location

    column_type = Location.__table__.c["key"].type
    assert isinstance(column_type, String) and column_type.length is not None
    return column_type.length


def _too_long(obj: Any, checks: list[tuple[str, str, int]]) -> None:
    for attribute, column, limit in checks:
        value = getattr(obj, attribute)
        if value is not None:
            check_text(column, value, limit)


def _kind_of(value: object) -> str:
    """What a JSON value is, in words: 'a number', 'a JSON object'."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a JSON object"
    return "a JSON list" if isinstance(value, list) else type(value).__name__


@functools.cache
def _text_fields(kind: type[Any]) -> frozenset[str]:
    """The fields of a record class that hold text (annotated str or str | None)."""
    hints = typing.get_type_hints(kind)
    return frozenset(name for name, hint in hints.items() if hint in (str, str | None))


def _no_nul(obj: Any) -> None:
    """Every text field holds text that a database can store: a str (not a number or a list from a JSON cell),
    with no NUL (it ends a C string: PostgreSQL refuses it, SQLite's tools cut the text there) and no lone
    surrogate (a JSON escape such as \\udc80 that is no character and cannot be written as UTF-8)."""
    text_fields = _text_fields(type(obj))  # type: ignore[arg-type]  # a class is hashable
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        if item.name in text_fields and value is not None and not isinstance(value, str):
            raise FieldError(item.name, str(value)[:60], f"is {_kind_of(value)}, not text")
        if isinstance(value, str):
            check_text(item.name, value)


def check_text(name: str, value: str, most: int | None = None) -> None:
    """FieldError unless `value` is text a column can hold: no NUL (it ends a C string: PostgreSQL refuses it,
    SQLite's tools cut the text there), no lone surrogate (a \\udXXX escape that is no character and cannot be
    written as UTF-8), and at most `most` characters."""
    if "\x00" in value:
        raise FieldError(name, value[:60], "contains a NUL character (\\x00), which no text column can hold")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(name, value[:60].encode("utf-8", "backslashreplace").decode(),
                         "contains a lone surrogate (a \\udXXX escape that is no character)") from None
    if most is not None and len(value) > most:
        raise FieldError(name, value[:60] + "...", f"is {len(value)} characters long; at most {most} fit")


KEPT_AS_GIVEN = {"full_text"}  # an article's text is stored byte for byte (its sha256 is recorded)


def _tidy(obj: Any) -> None:
    """Leading and trailing whitespace is no part of a value, and a blank optional value is no value: stored
    so, an export imported again gives the same export (it did not: '  title ' and ' ' came back otherwise)."""
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        if isinstance(value, str) and not isinstance(value, enum.Enum) and item.name not in KEPT_AS_GIVEN:
            tidy = value.strip()
            setattr(obj, item.name, None if not tidy and item.default is None else tidy)


def _check_lengths(record: IncidentRecord) -> None:
    for part in (record, record.location, *record.reports, *(r.source for r in record.reports), *record.actors,
                 *(link.source for link in record.actors)):
        if part is not None:
            _tidy(part)
            _no_nul(part)
    limits = _length_limits()
    _too_long(record, limits["incident"])
    if record.location is not None:
        _too_long(record.location, limits["location"])
        key, most = record.location.key, _location_key_length()
        if len(key) > most:  # the names, normalised (U+FDFA becomes 18 letters), make the place's key
            longest = max(("place", "admin2", "admin1"), key=lambda name: len(getattr(record.location, name) or ""))
            raise FieldError(longest, (getattr(record.location, longest) or "")[:60] + "...",
                             f"makes, with the rest of the place, a key of {len(key)} characters once normalised; "
                             f"at most {most} fit")
    for report in record.reports:
        _too_long(report, limits["report"])
        _too_long(report.source, limits["source"])
    for link in record.actors:
        if len(link.name) > 300:
            raise FieldError(link.column, link.name[:60] + "...",
                             f"is {len(link.name)} characters long; at most 300 fit")
        if not normalize_name(link.name):
            raise FieldError(link.column, link.name, "has no letters or digits, so it cannot name an actor")
