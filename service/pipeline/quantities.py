"""Figures in claims: find them in sentences, with unit, qualifier and what they measure.

`find_quantities` is the offline extractor's reader. Its `measure` (the counted noun plus what
happened to it: "people killed") is a word-window heuristic tuned on the seed articles; when it
finds neither noun nor event a count's measure is "", which the comparison treats as unrelated.
It does not read negative numbers, fractions ("a third") or a bare "m" after a number.

Reading numbers lives in service.pipeline.numbers, units in service.pipeline.units;
`parse_number` and `normalize` are re-exported here, so callers need one import.
"""

from __future__ import annotations

import re

from service.llm.base import DraftQuantity
from service.models import Qualifier
from service.pipeline.numbers import DIGITS, SPELLED, parse_number, vague_range
from service.pipeline.units import dimension_of, is_metric, normalize

__all__ = ["find_quantities", "locate_quantities", "normalize", "parse_number"]

# --- finding figures in a sentence --------------------------------------------------------------

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Numbers that are not figures: dates and times of day. Month names are matched case-sensitively
# so the verb "may" stays a verb.
_NOT_FIGURES = re.compile(
    rf"\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b"
    rf"|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}}\b)?"
    rf"|\b(?:{_MONTHS})\.?\s+\d{{4}}\b"
    rf"|\b\d{{1,2}}(?::\d{{2}})?\s*(?:[ap]\.m\.|[ap]m\b)"
    rf"|\b\d{{1,2}}:\d{{2}}\b"
    rf"|\b\d{{1,2}}\s+o['’]clock\b"
)
_NUM = (
    rf"(?:{DIGITS})(?:\s*(?:thousand|million|billion|trillion)\b|\s?(?:bn|mn|tn)\b|k\b)?"
    rf"|{SPELLED}"
)
_CUR = r"US\$|\$|€|£|₽|₴"
_UNIT_TEXT = (
    r"(?:square|sq\.?)\s*(?:kilomet(?:er|re)s?|kms?|miles?|mi|met(?:er|re)s?|feet|foot|ft)"
    r"|km²|km2|m²|mi²|hectares?|acres?"
    r"|(?:kilomet(?:er|re)s?|miles?)\s+(?:per|an)\s+hour|km/h|kph|mph|knots?"
    r"|cubic\s+met(?:er|re)s?"
    r"|kilomet(?:er|re)s?|kms?|miles?|mi|met(?:er|re)s?|feet|foot|ft|yards?"
    r"|tonnes?|metric\s+tons?|tons?|kilograms?|kg|pounds\s+sterling|pounds?|lbs?"
    r"|hours?|hrs?|days?|weeks?|months?|years?|minutes?"
    r"|lit(?:er|re)s?|gallons?|barrels?"
    r"|percent|per\s+cent|pct|%"
    r"|(?:US\s+)?dollars?|euros?|r(?:o)?ubles?|hryvnias?|USD|EUR|GBP|RUB|UAH"
)
_FIGURE = re.compile(
    rf"(?<![\w.,/-])(?:(?P<cur>{_CUR})\s?)?(?P<num>{_NUM})(?P<half>\s+and\s+(?:a\s+)?half)?",
    re.IGNORECASE,
)
_UNIT_AFTER = re.compile(rf"(?:\s+|-)?(?P<unit>{_UNIT_TEXT})(?![A-Za-z])", re.IGNORECASE)
_RANGE_AFTER = re.compile(
    rf"\s*(?P<sep>-|–|—|to|and)\s*(?:(?:{_CUR})\s?)?(?P<num>{_NUM})", re.IGNORECASE
)
_CONVERSION = re.compile(
    rf"\s*\(\s*(?:about|some|approximately|roughly|around|nearly|almost|~)?\s*"
    rf"(?:(?:{_CUR})\s?)?(?P<num>{_NUM})(?:\s+|-)?(?P<unit>{_UNIT_TEXT})(?![A-Za-z])\s*\)",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"\b(?P<text>(?:dozens|scores|hundreds|thousands|millions|billions|tens)"
    r"(?:\s+of\s+(?:thousands|millions|billions))?)\s+of\b",
    re.IGNORECASE,
)
_QUALIFIERS: list[tuple[Qualifier, str]] = [
    ("less_than", r"less than|fewer than|under|up to|at most|no more than|below"),
    ("more_than", r"more than|over|at least|upwards of|in excess of|no fewer than"),
    ("about", r"about|around|approximately|some|roughly|nearly|almost|an estimated|close to"),
]


def _qualifier(before: str) -> Qualifier:
    for qualifier, words in _QUALIFIERS:
        if re.search(rf"\b(?:{words})\s*$", before, re.IGNORECASE):
            return qualifier
    return "exact"


def _looks_like_name(sentence: str, start: int) -> bool:
    """'Article 5', 'Boeing 737', 'number 3', 'No. 10': a label, not an amount."""
    if re.search(r"(?:\b(?:number|no\.?|nr\.?)|#)\s*$", sentence[:start], re.IGNORECASE):
        return True
    m = re.search(r"([A-Za-z][\w’'-]*)\s+$", sentence[:start])
    if not m or not m.group(1)[0].isupper() or not sentence[: m.start(1)].strip(" “\"‘'("):
        return False
    word = m.group(1)
    return not re.fullmatch(rf"(?:{_MONTHS}|{_WEEKDAYS})", word) and _qualifier(word) == "exact"


# --- measures: what a figure counts ---------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z][A-Za-z’'-]*|\d[\d,.]*|[,;:()\[\]–—.!?]")
_BOUNDARY = set(",;:()[]–—.!?")
_RUN_STOP = set(
    "had have has were was are is be been will would could may might in into on at from to of "
    "with within and or but that which who whom per as by for already now still there across "
    "including since during after before than over under inside near along this these those the "
    "a an their his her its our more others away long high tall north south east west inland "
    "off ahead behind ago old".split()
)
_PEOPLE = {"others", "more", "persons", "person", "individuals"}
_IRREGULAR_PLURALS = {"people", "children", "men", "women", "police", "personnel", "staff"}
_EVENT_WORDS = {
    "killed": "killed kill killing dead died die deaths death",
    "injured": "injured injuring wounded wounding hurt injuries",
    "evacuated": "evacuated evacuating evacuate evacuation fled flee fleeing left leaving leave "
    "relocated relocate relocating displaced",
    "controlled": "control controls controlled controlling seize seized seizing captured capture "
    "capturing occupied occupy occupying",
    "remaining": "remain remains remained remaining stranded trapped",
    "launched": "launched launch launching fired",
    "detained": "detained arrested",
}
_EVENT_OF = {word: event for event, words in _EVENT_WORDS.items() for word in words.split()}
_TOLD = {"told", "advised", "ordered", "asked", "urged", "instructed"}
_HUMAN_EVENTS = {"killed", "injured", "evacuated", "told to evacuate", "remaining", "detained"}
_LENGTH_WORDS = {
    "advance": "advanced advance advancing penetrated pushed deep depth into inside",
    "front width": "wide width front frontline spanning",
}
_LENGTH_OF = {word: what for what, words in _LENGTH_WORDS.items() for word in words.split()}
_DEFAULT_MEASURE = {"count": "", "length": "distance", "area": "area", "duration": "duration"}
_DEFAULT_MEASURE |= {"money": "amount", "percent": "share", "mass": "mass", "speed": "speed"}


def _words(text: str) -> list[str]:
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def _window(tokens: list[str], limit: int) -> list[str]:
    """Words up to the clause's end: punctuation, another figure, or a conjunction."""
    out: list[str] = []
    for t in tokens:
        if t in _BOUNDARY or t[0].isdigit() or t in ("and", "but", "while") or len(out) >= limit:
            break
        out.append(t)
    return out


def _noun(after: list[str], singular: bool = False) -> str | None:
    """The counted noun right after a figure: 'Russian citizens remain' → 'citizens'.

    Counts need a plural ('12 people'); units take a singular noun too ('10km zone')."""
    i = 2 if after[:2] == ["of", "the"] else 1 if after[:1] == ["of"] else 0
    run: list[str] = []
    for t in after[i : i + 3]:
        if t in _BOUNDARY or t[0].isdigit() or (t in _RUN_STOP and t not in _PEOPLE):
            break
        run.append(t)
        if t in _PEOPLE:
            break
    plural = [
        t
        for t in run
        if t in _IRREGULAR_PLURALS or t in _PEOPLE or (t.endswith("s") and t[-2:] != "ss")
    ]
    if singular and not plural:
        plural = [t for t in run if t not in _LENGTH_OF and t not in _EVENT_OF]
    head = next((t for t in plural if t not in _PEOPLE), plural[0] if plural else None)
    return "people" if head in _PEOPLE else head


def _event(after: list[str], before: list[str]) -> str | None:
    """What happened to the counted thing, from the clause after the figure, else before it."""
    told = bool(before) and before[-1] in _TOLD  # "told 180,000 people to evacuate"
    for t in _window(after, 10):
        told = told or t in _TOLD
        if t in _EVENT_OF:
            event = _EVENT_OF[t]
            return "told to evacuate" if told and event == "evacuated" else event
    for t in _window(before[::-1], 6):  # nearest word first
        if t in _EVENT_OF:
            return _EVENT_OF[t]
    return None


def _measure(sentence: str, start: int, end: int, dimension: str) -> str:
    after, before = _words(sentence[end:]), _words(sentence[:start])
    if dimension == "count":
        if m := re.search(
            r"\bnumber of ([a-z][a-z -]*?) (?:is|was|stands at|stood at|rose to|reached)\s*$",
            sentence[:start],
            re.IGNORECASE,
        ):
            return m.group(1).lower()  # "the number of civilian deaths is 12"
        noun, event = _noun(after), _event(after, before)
        if after[:3] == ["more", "to", "go"] and "evacuat" in sentence.lower():
            event = "yet to evacuate"  # "121,000 evacuated – with 59,000 more to go"
        if noun is None and event in _HUMAN_EVENTS:
            noun = "people"  # "121,000 have left already"
        return " ".join(w for w in (noun, event) if w)
    if dimension == "length":
        near = _window(after, 6) + _window(before[::-1], 6)
        found = [_LENGTH_OF[t] for t in near if t in _LENGTH_OF]
        if found:
            return found[0]
        if "from" in after[:2] and "border" in after[:4]:
            return "distance from border"
    if dimension == "area" and any(_EVENT_OF.get(t) == "controlled" for t in _words(sentence)):
        return "territory controlled"
    noun, event = _noun(after, singular=True), _event(after, before)
    return " ".join(w for w in (noun, event) if w) or _DEFAULT_MEASURE.get(dimension, dimension)


# --- finding figures ----------------------------------------------------------------------------


def _is_year(number: str, value: float) -> bool:
    return bool(re.fullmatch(r"\d{4}", number)) and 1900 <= value <= 2100


def _vague_figures(sentence: str) -> list[tuple[int, int, DraftQuantity]]:
    """'dozens of villages', 'tens of thousands of residents': ranges (numbers.VAGUE_RANGES)."""
    out = []
    for m in _VAGUE.finditer(sentence):
        bounds = vague_range(m.group("text"))
        if bounds is None:
            continue  # "tens of kilometers", "dozens of thousands": no agreed reading
        measure = _measure(sentence, m.start(), m.end("text"), "count")
        draft = DraftQuantity(
            text=m.group("text"),
            value=bounds[0],
            upper=bounds[1],
            measure=measure,
            qualifier="range",
        )
        out.append((m.start(), m.end("text"), draft))
    return out


def _read_figure(sentence: str, m: re.Match[str]) -> tuple[int, int, DraftQuantity] | None:
    """The figure at a number match with its [start, end), or None if it is no figure."""
    start, end, number = m.start(), m.end(), m.group("num")
    value = parse_number(number)
    if value is None or number.strip().lower() in ("one", "a", "an"):
        return None
    value += 0.5 if m.group("half") else 0
    rest = sentence[end:]
    unit_m = _UNIT_AFTER.match(rest)
    unit = unit_m.group("unit") if unit_m else None
    if unit_m:
        end += unit_m.end()
    elif m.group("cur") and re.match(r"m\b", rest):
        value, end = value * 1e6, end + 1  # "$2m": millions, not meters
    elif re.match(r"[A-Za-z]|[:/]\d", rest):
        return None  # "1st", "3D", "10:30", "24/7"
    qualifier = _qualifier(sentence[:start])
    if not unit and not m.group("cur") and qualifier == "exact":
        if _is_year(number, value) or _looks_like_name(sentence, start):
            return None
    upper, text_start = None, start
    between = re.search(r"\bbetween\s*$", sentence[:start], re.IGNORECASE)
    r = _RANGE_AFTER.match(sentence, end)
    if r and (r.group("sep").lower() != "and" or between):
        second = parse_number(r.group("num"))
        unit2 = _UNIT_AFTER.match(sentence, r.end())
        same_kind = not (unit and unit2) or dimension_of(unit2.group("unit")) == dimension_of(unit)
        if second is not None and same_kind:
            upper, qualifier = second, "range"
            end = unit2.end() if unit2 else r.end()
            unit = unit or (unit2.group("unit") if unit2 else None)
            text_start = between.start() if between else start
    c = _CONVERSION.match(sentence, end)
    if c and unit and dimension_of(unit) == dimension_of(c.group("unit")) != "count":
        converted = parse_number(c.group("num"))
        if converted is not None and is_metric(c.group("unit")) and not is_metric(unit):
            value, unit = converted, c.group("unit")  # the metric side wins
        end = c.end()
    dimension = dimension_of(unit)
    if m.group("cur"):
        unit, dimension = m.group("cur"), "money"
    measure = _measure(sentence, start, end, dimension)
    text = sentence[text_start:end]
    draft = DraftQuantity(
        text=text, value=value, upper=upper, unit=unit, measure=measure, qualifier=qualifier
    )
    return text_start, end, draft


def locate_quantities(sentence: str) -> list[tuple[int, int, DraftQuantity]]:
    """Every figure in a sentence with its [start, end) offsets there, in text order.

    Dates, times of day, years (a bare 1900-2100 with no unit or qualifier), ordinals, numbers
    inside names ('Su-27', 'Article 5') and the pronoun 'one' are not figures. An imperial figure
    followed by its metric conversion in parentheses is one figure, and the metric side wins.
    """
    vague = _vague_figures(sentence)
    skip = [(m.start(), m.end()) for m in _NOT_FIGURES.finditer(sentence)]
    skip += [(a, b) for a, b, _ in vague]
    found = list(vague)
    taken_until = 0  # a range or a conversion consumes the numbers inside it
    for m in _FIGURE.finditer(sentence):
        if m.start() < taken_until or any(a < m.end() and m.start() < b for a, b in skip):
            continue
        if figure := _read_figure(sentence, m):
            start, end, draft = figure
            taken_until = end
            found.append((start, end, draft))
    return sorted(found, key=lambda figure: figure[0])


def find_quantities(sentence: str) -> list[DraftQuantity]:
    """Every figure in a sentence with its unit, qualifier and measure (see locate_quantities)."""
    return [draft for _, _, draft in locate_quantities(sentence)]
