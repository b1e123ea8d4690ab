"""Figures in claims: read numbers, find them in sentences, normalize them to canonical units.

`normalize` is the one place a figure gets its canonical unit, for LLM and offline drafts alike.
Converted values are rounded to 4 significant digits (7.5 miles → 12.07 km); values already in
the canonical unit, counts, percentages and money keep every digit; currencies are never
converted. Units are read from a whitelist, not by pint's parser (which takes "points" for a
length): "tons" are metric tonnes and "pounds" are a mass ("£" or "pounds sterling" is money).

`find_quantities` is the offline extractor's reader. Its `measure` (the counted noun plus what
happened to it: "people killed") is a word-window heuristic tuned on the seed articles; when it
finds neither noun nor event a count's measure is "", which the comparison treats as unrelated.
It does not read negative numbers, fractions ("a third") or a bare "m" after a number.
"""

from __future__ import annotations

import math
import re
from functools import cache

import pint
from text_to_num import text2num

from service.llm.base import DraftQuantity
from service.models import Qualifier, Quantity

# --- numbers ------------------------------------------------------------------------------------

_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9}
_SCALES |= {"bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12}
_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand million billion trillion dozen"
).split()
_WORD = "|".join(sorted(_WORDS, key=len, reverse=True))
_SPELLED = (
    rf"(?:(?:a|an)\s+(?=(?:hundred|thousand|million|billion|dozen)\b))?"
    rf"\b(?:{_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_WORD}))*\b"
)
_DIGIT_NUMBER = re.compile(rf"({_DIGITS})\s*(thousand|million|billion|trillion|bn|mn|tn|[kmb])?")


def _round4(x: float) -> float:
    return float(f"{x:.4g}")


def parse_number(text: str) -> float | None:
    """'121,000' → 121000, 'twelve' → 12, '1.2 million' → 1.2e6, '1.5bn' → 1.5e9; else None."""
    t = " ".join(text.strip().lower().split())
    if half := re.fullmatch(r"(.+?)\s+and\s+(?:a\s+)?half", t):
        base = parse_number(half.group(1))
        return None if base is None else base + 0.5
    if m := _DIGIT_NUMBER.fullmatch(t):
        return float(m.group(1).replace(",", "")) * _SCALES.get(m.group(2) or "", 1.0)
    t = re.sub(r"^an?\s+", "one ", t)
    if dozen := re.fullmatch(r"(?:(.+?)\s+)?dozen", t):
        base = parse_number(dozen.group(1)) if dozen.group(1) else 1.0
        return None if base is None else base * 12
    if not t or not re.fullmatch(r"[a-z -]+", t):
        return None
    try:
        return float(text2num(t, "en"))
    except (ValueError, IndexError, KeyError):  # text2num's ways of saying "not a number"
        return None


# --- units --------------------------------------------------------------------------------------

# Canonical unit per dimension: (unit string the comparison code expects, pint expression).
CANONICAL = {
    "length": ("km", "kilometer"),
    "area": ("km**2", "kilometer**2"),
    "mass": ("kg", "kilogram"),
    "duration": ("hour", "hour"),
    "speed": ("km/h", "kilometer/hour"),
    "volume": ("l", "liter"),
}
# A whitelist, not pint's own parser: pint reads "points" as a length and "pct" as picocarats.
_PHYSICAL = {
    "length": {
        "kilometer": "km km kilometer",
        "mile": "mi mile",
        "meter": "m meter",
        "foot": "ft foot feet",
        "yard": "yd yard",
    },
    "area": {
        "kilometer**2": "km2 sqkm sqkilometer",
        "mile**2": "mi2 sqmi sqmile",
        "meter**2": "m2 sqm sqmeter",
        "foot**2": "ft2 sqft sqfoot sqfeet",
        "hectare": "ha hectare",
        "acre": "acre",
    },
    "mass": {
        "metric_ton": "t tonne ton metricton",
        "kilogram": "kg kilogram kilo",
        "gram": "g gram",
        "pound": "lb pound",
    },
    "duration": {
        "hour": "h hr hour",
        "minute": "min minute",
        "day": "day",
        "week": "week",
        "month": "month",
        "year": "yr year",
    },
    "speed": {
        "kilometer/hour": "km/h kph kmh kilometerperhour kmperhour",
        "mile/hour": "mph mileperhour",
        "knot": "knot kt",
    },
    "volume": {
        "liter": "l liter",
        "gallon": "gallon",
        "oil_barrel": "barrel bbl",
        "meter**3": "m3 cubicmeter",
    },
}
_UNIT_OF = {
    alias: (dimension, expr)
    for dimension, units in _PHYSICAL.items()
    for expr, aliases in units.items()
    for alias in aliases.split()
}
_CURRENCY = {
    "USD": "$ us$ usd dollar usdollar",
    "EUR": "€ eur euro",
    "GBP": "£ gbp sterling poundsterling poundssterling",
    "RUB": "₽ rub ruble rouble",
    "UAH": "₴ uah hryvnia hryvna hryvnya",
    "JPY": "jpy yen",
    "CNY": "cny yuan renminbi",
}
_CURRENCY_OF = {alias: code for code, aliases in _CURRENCY.items() for alias in aliases.split()}
_PERCENT = {"%", "percent", "percentage", "pct"}


@cache
def _registry() -> pint.UnitRegistry:
    # Building a registry takes about a second, so only the first figure pays for it.
    return pint.UnitRegistry()


def _unit_key(unit: str) -> str:
    """'Square Kilometres' → 'sqkilometer', 'km²' → 'km2', 'miles per hour' → 'mileperhour'."""
    u = unit.strip().lower().rstrip(".")
    u = u.replace("²", "2").replace("³", "3").replace("^", "").replace("**", "")
    u = u.replace("metre", "meter").replace("litre", "liter").replace("per cent", "percent")
    u = re.sub(r"\bsquare\b|\bsq\b\.?", "sq", u)
    words = [
        w[:-1] if len(w) > 2 and w.endswith("s") and not w.endswith("ss") else w for w in u.split()
    ]  # plural → singular: 'kilometers', 'hectares', 'lbs'
    return "".join(words)


def _split_scale(unit: str) -> tuple[float, str]:
    """'million people' → (1e6, 'people'): a scale word the writer put in the unit."""
    m = re.match(r"\s*(thousand|million|billion|trillion|bn|mn)\b\s*", unit, re.IGNORECASE)
    return (_SCALES[m.group(1).lower()], unit[m.end() :]) if m else (1.0, unit)


def _convert(value: float, dimension: str, expr: str) -> float:
    canonical = CANONICAL[dimension][1]
    if expr == canonical:
        return value  # stated in the canonical unit: keep every digit the writer gave
    q = _registry().Quantity(value, expr).to(canonical)
    return _round4(float(q.magnitude))


def normalize(draft: DraftQuantity) -> Quantity | None:
    """The draft in its dimension's canonical unit, or None when its number or unit is unknown."""
    if not math.isfinite(draft.value) or (
        draft.upper is not None and not math.isfinite(draft.upper)
    ):
        return None
    scale, unit = _split_scale(draft.unit or "")
    value = draft.value * scale
    upper = None if draft.upper is None else draft.upper * scale
    key = _unit_key(unit) if unit.strip() else ""
    measure = draft.measure.strip()
    if key in _UNIT_OF:
        dimension, expr = _UNIT_OF[key]
        canonical = CANONICAL[dimension][0]
        value = _convert(value, dimension, expr)
        upper = None if upper is None else _convert(upper, dimension, expr)
    elif key in _CURRENCY_OF or unit.strip().upper() in _CURRENCY:
        dimension = "money"
        canonical = _CURRENCY_OF.get(key) or unit.strip().upper()
    elif key in _PERCENT:
        dimension = canonical = "percent"
    elif not key or re.fullmatch(r"[a-z][a-z' -]*", unit.strip().lower()):
        # No unit, or a counted noun ("people", "villages"): a count; the noun says what of.
        dimension = canonical = "count"
        noun = unit.strip().lower()
        if noun and not measure:
            measure = noun
    else:
        return None  # looks like a unit ('km/zz', 'm^4') but not one we know: don't guess
    return Quantity(
        text=draft.text,
        value=value,
        upper=upper,
        unit=canonical,
        dimension=dimension,
        measure=measure,
        qualifier=draft.qualifier,
        stated_value=draft.value,
        stated_unit=draft.unit,
    )


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
    rf"(?:{_DIGITS})(?:\s*(?:thousand|million|billion|trillion)\b|\s?(?:bn|mn|tn)\b|k\b)?"
    rf"|{_SPELLED}"
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
    r"\b(?P<text>(?P<a>dozens|hundreds|thousands|millions|tens)"
    r"(?:\s+of\s+(?P<b>thousands|millions))?)\s+of\b",
    re.IGNORECASE,
)
# "dozens" means at least two dozen: the smallest value the word allows, as a lower bound.
_VAGUE_VALUE = {"dozens": 24, "hundreds": 200, "thousands": 2000, "millions": 2e6, "tens": 20}
_QUALIFIERS: list[tuple[Qualifier, str]] = [
    ("less_than", r"less than|fewer than|under|up to|at most|no more than|below"),
    ("more_than", r"more than|over|at least|upwards of|in excess of|no fewer than"),
    ("about", r"about|around|approximately|some|roughly|nearly|almost|an estimated|close to"),
]
_METRIC = {"kilometer", "meter", "kilometer**2", "meter**2", "hectare", "metric_ton", "kilogram"}
_METRIC |= {"gram", "kilometer/hour", "liter", "meter**3"}


def _qualifier(before: str) -> Qualifier:
    for qualifier, words in _QUALIFIERS:
        if re.search(rf"\b(?:{words})\s*$", before, re.IGNORECASE):
            return qualifier
    return "exact"


def _is_metric(unit: str) -> bool:
    key = _unit_key(unit)
    return key in _UNIT_OF and _UNIT_OF[key][1] in _METRIC


def _dimension(unit: str | None) -> str:
    if not unit:
        return "count"
    key = _unit_key(unit)
    if key in _UNIT_OF:
        return _UNIT_OF[key][0]
    return "percent" if key in _PERCENT else "money"


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
    """'dozens of villages', 'tens of thousands of residents': the least the words allow."""
    out = []
    for m in _VAGUE.finditer(sentence):
        a, b = m.group("a").lower(), (m.group("b") or "").lower()
        if a == "tens" and not b:
            continue
        value = _VAGUE_VALUE[a] * (_VAGUE_VALUE[b] / 2 if b else 1)
        measure = _measure(sentence, m.start(), m.end("text"), "count")
        draft = DraftQuantity(
            text=m.group("text"), value=value, measure=measure, qualifier="more_than"
        )
        out.append((m.start(), m.end(), draft))
    return out


def _read_figure(sentence: str, m: re.Match[str]) -> tuple[int, DraftQuantity] | None:
    """The figure starting at a number match and where it ends, or None if it is no figure."""
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
        same_kind = not (unit and unit2) or _dimension(unit2.group("unit")) == _dimension(unit)
        if second is not None and same_kind:
            upper, qualifier = second, "range"
            end = unit2.end() if unit2 else r.end()
            unit = unit or (unit2.group("unit") if unit2 else None)
            text_start = between.start() if between else start
    c = _CONVERSION.match(sentence, end)
    if c and unit and _dimension(unit) == _dimension(c.group("unit")) != "count":
        converted = parse_number(c.group("num"))
        if converted is not None and _is_metric(c.group("unit")) and not _is_metric(unit):
            value, unit = converted, c.group("unit")  # the metric side wins
        end = c.end()
    dimension = _dimension(unit)
    if m.group("cur"):
        unit, dimension = m.group("cur"), "money"
    measure = _measure(sentence, start, end, dimension)
    text = sentence[text_start:end]
    return end, DraftQuantity(
        text=text, value=value, upper=upper, unit=unit, measure=measure, qualifier=qualifier
    )


def find_quantities(sentence: str) -> list[DraftQuantity]:
    """Every figure in a sentence with its unit, qualifier and measure.

    Dates, times of day, years (a bare 1900-2100 with no unit or qualifier), ordinals, numbers
    inside names ('Su-27', 'Article 5') and the pronoun 'one' are not figures. An imperial figure
    followed by its metric conversion in parentheses is one figure, and the metric side wins.
    """
    vague = _vague_figures(sentence)
    skip = [(m.start(), m.end()) for m in _NOT_FIGURES.finditer(sentence)]
    skip += [(a, b) for a, b, _ in vague]
    found = [(a, draft) for a, _, draft in vague]
    taken_until = 0  # a range or a conversion consumes the numbers inside it
    for m in _FIGURE.finditer(sentence):
        if m.start() < taken_until or any(a < m.end() and m.start() < b for a, b in skip):
            continue
        if figure := _read_figure(sentence, m):
            taken_until = figure[0]
            found.append((m.start(), figure[1]))
    return [draft for _, draft in sorted(found, key=lambda pair: pair[0])]
