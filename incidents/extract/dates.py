"""The date a clause gives, at its precision, resolved against the publication date ('on Sunday', 'last month',
'in 2023', 'earlier this month'); a date that cannot be resolved stays None rather than being guessed."""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"], start=1)}


MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())} | {"sept": 9})


# a month by name or abbreviation ('Oct.'); 'May' only with its capital, so 'the toll may rise' is no month
MONTH = r"(?:(?-i:May)|" + "|".join(sorted((m for m in MONTHS if m != "may"), key=len, reverse=True)) + r")\b\.?"


WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


FIRST_YEAR, LAST_YEAR = 1900, 2100  # the years an attack's date may have


def date_in(text: str, published: date | None, said: bool = False) -> tuple[str | None, str | None]:
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
            day = date.fromisoformat(when if len(when) == 10 else f"{when}-01" if len(when) == 7 else f"{when}-01-01")
            if not FIRST_YEAR <= day.year <= LAST_YEAR:  # 'in 0001', a typing slip: no attack's date
                return None, None
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
