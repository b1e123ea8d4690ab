"""When a claimed event happened: find the time expression in a sentence, resolve it to a date.

Relative expressions resolve against the article's publication date, reading news in the past
tense: "on Monday" is the most recent Monday on or before publication, "last Monday" the one
strictly before it, "next Monday" the one strictly after. A month or a year alone is not a day,
so it keeps its text and no date.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from dateutil import parser as date_parser
from dateutil.relativedelta import FR, MO, SA, SU, TH, TU, WE, relativedelta

from service.models import TimeRef

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RELATIVE_WEEKDAYS = (MO, TU, WE, TH, FR, SA, SU)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?\b"
_YEAR = r"(?:19|20)\d{2}\b"
_PREP = r"(?:(?i:on|since|by|until|from|before|after)\s+)?"
# Month and weekday names are matched case-sensitively so "may" and "march" stay verbs.
_ISO = re.compile(rf"\b{_YEAR}-\d{{2}}-\d{{2}}\b")
_NUMERIC = re.compile(rf"\b\d{{1,2}}/\d{{1,2}}/{_YEAR}")
_MONTH_DAY = re.compile(rf"{_PREP}\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?")
_DAY_MONTH = re.compile(rf"{_PREP}\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?")
_WEEKDAY = re.compile(
    r"(?:(?i:on|last|this|next|since|by|until|early|late)\s+)?"
    rf"\b(?P<day>{'|'.join(WEEKDAYS)})\b(?:\s+(?i:morning|afternoon|evening|night))?"
)
_RELATIVE = re.compile(
    r"(?i)\b(?:yesterday|today|tonight|earlier\s+today|last\s+night"
    r"|this\s+(?:morning|afternoon|evening|week|month|year)|last\s+(?:week|month|year))\b"
)
_MONTH_YEAR = re.compile(rf"(?:(?i:in|since|by|until|from|early|late)\s+)?\b{_MONTH}\s+{_YEAR}")
_YEAR_ONLY = re.compile(rf"(?i:\b(?:in|since|by|until|from|during)\s+){_YEAR}")
# Most specific first: a sentence "on Tuesday ... the war that began in February 2022" is about
# Tuesday.
_PATTERNS = (_ISO, _NUMERIC, _MONTH_DAY, _DAY_MONTH, _WEEKDAY, _RELATIVE, _MONTH_YEAR, _YEAR_ONLY)


def find_time(sentence: str) -> str | None:
    """The time expression of the event in a sentence, as written ('on Monday'), or None."""
    for pattern in _PATTERNS:
        if m := pattern.search(sentence):
            return m.group(0)
    return None


def _as_date(value: date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _weekday_in(text: str) -> str | None:
    m = re.search(rf"\b({'|'.join(WEEKDAYS)})\b", text, re.IGNORECASE)
    return m.group(1).capitalize() if m else None


def _explicit_date(text: str, published: date | None) -> date | None:
    """'August 8' (the year of publication, never after it), '12 August 2024', '2024-08-12'."""
    has_year = re.search(_YEAR, text) is not None
    if not has_year and published is None:
        return None
    default = datetime(published.year if published else 2000, 1, 1)
    cleaned = re.sub(r"(?i)^(?:on|since|by|until|from|before|after)\s+", "", text.strip())
    try:
        parsed = date_parser.parse(cleaned, default=default).date()
    except (ValueError, OverflowError):  # ParserError is a ValueError; "February 30" too
        return None
    if not has_year and published is not None and parsed > published:
        parsed -= relativedelta(years=1)
    return parsed


def _relative_date(text: str, published: date) -> date | None:
    t = " ".join(text.lower().split())
    if day := _weekday_in(t):
        weekday = _RELATIVE_WEEKDAYS[WEEKDAYS.index(day)]
        if re.search(r"\blast\b", t):
            return published - timedelta(days=1) + relativedelta(weekday=weekday(-1))
        if re.search(r"\bnext\b", t):
            return published + timedelta(days=1) + relativedelta(weekday=weekday(+1))
        return published + relativedelta(weekday=weekday(-1))
    if re.search(r"\b(?:yesterday|last night)\b", t):
        return published - timedelta(days=1)
    if re.search(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b", t):
        return published
    return None


def resolve_time(text: str, published_at: date | None, event_date: date | None = None) -> TimeRef:
    """The expression with its calendar date (when resolvable) and weekday.

    An `event_date` given by an LLM is kept; the weekday then comes from the text if it names
    one, else from the date.
    """
    published = _as_date(published_at)
    resolved = _as_date(event_date)
    if resolved is None:
        if any(p.search(text) for p in (_ISO, _NUMERIC, _MONTH_DAY, _DAY_MONTH)):
            resolved = _explicit_date(text, published)
        elif published is not None:
            resolved = _relative_date(text, published)
    weekday = _weekday_in(text) or (WEEKDAYS[resolved.weekday()] if resolved else None)
    return TimeRef(text=text, date=resolved, weekday=weekday)
