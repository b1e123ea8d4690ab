"""Compare two claims' figures and dates by rule: supports, conflicts, minor discrepancy, unrelated.

Every figure becomes an interval of the values its writer could have meant, then two intervals
are compared. The rules (the constants below):

* Rounding. A figure is read as precise to its last significant digit: "121,000" is 121,000 ± 500,
  "7.5 miles" is ± 0.05 mile, "12 km" ± 0.5 km. A figure with one significant digit is read as
  having two ("10,000" is ± 500, not ± 5,000), because a writer rounding harder says "about".
  When `text` holds several numbers they are one figure and its conversion ("7.5 miles
  (12 kilometers)"), so the coarsest of them sets the tolerance: the conversion is only as
  precise as the rounder side. Tolerances are relative, so scale words ("5 million") keep them.
* Counts are whole: a count whose tolerance is half a unit or less is exact, so 28 and 27
  conflict while 120,000 and 121,000 (± 5,000 and ± 500) agree.
* Qualifiers. exact: the rounding alone. about: ± max(rounding, ABOUT_RELATIVE). more_than /
  less_than: [v, ∞) / (-∞, v], closed because the normalizer also maps "at least" and "up to"
  there ("at least 12" must agree with 12). range: [v, upper], each end widened by its
  rounding; vague plurals arrive as ranges ("dozens" = 24-99 agrees with 28).
* Outcome. Intervals that overlap support each other. Intervals that merely touch do not:
  adjacent roundings ("around 10,000" = [9,500, 10,500] and "about 11,000" = [10,500, 11,500])
  describe different figures. A gap under MINOR_GAP_RELATIVE of the figures is a
  minor_discrepancy, unless both figures are precise (exact counts), when any gap conflicts.
  Larger gaps conflict (12 km vs 30 km).
* Figures of different dimensions, units or measures are unrelated, never conflicting: "2,000
  strikes" says nothing about "2,000 citizens remain".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from service.models import Quantity, TimeRef

FindingRelation = Literal["supports", "conflicts", "minor_discrepancy", "unrelated"]

ABOUT_RELATIVE = 0.04
"""'about X' admits X ± 4%: 'about 1,000 km²' agrees with 386 sq mi = 999.7 km², while two
'about' figures 10% apart (10,000 vs 11,000) no longer overlap and are flagged."""
MINOR_GAP_RELATIVE = 0.15
"""A gap between the intervals under 15% of the figures is a minor discrepancy, above it a
conflict. With the tolerances on top, figures up to roughly 20-25% apart are 'minor'
(about 10,000 vs 12,000) and 1,000 vs 1,300 km² conflict. Kept tight because a minor
discrepancy still counts as support in the verdict."""
MIN_SIGNIFICANT_DIGITS = 2
"""Round figures are read as having at least this many significant digits ('10,000' ± 500)."""


@dataclass(frozen=True)
class Finding:
    relation: FindingRelation
    explanation: str


@dataclass(frozen=True)
class _Interval:
    lo: float
    hi: float

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi


# --- measures -----------------------------------------------------------------------------------

# What happened to the subject. Two measures match only when they name the same events.
# Words are stemmed before lookup, so one form of each regular word is enough.
_EVENTS = {
    "killed": "kill dead death died die fatality",
    "injured": "injure injury wound hurt",
    "evacuated": "evacuate evacuation evacuee left leave fled flee relocate relocation "
    "displace resettle resettlement moved",
    "controlled": "control controlled seize capture taken take took occupy occupied held hold",
    "advance": "advance penetrate penetration deep depth pushed",
    # The breadth of a front is not the depth of an advance along it.
    "width": "width wide breadth front frontline stretch",
    "remain": "remain stay stayed trapped",
    "strike": "strike attack shelling",
    # Not done yet: "people yet to be evacuated" is not "people evacuated".
    "pending": "yet pending awaiting await not",
}
# Who or what it happened to. Missing on one side is compatible; different subjects are not.
_SUBJECTS = {
    "person": "people person civilian resident citizen other individual inhabitant population",
    "child": "child children minor kid",
    "soldier": "soldier troop serviceman servicemen",
    "settlement": "settlement village town locality hamlet",
    "territory": "territory land area ground swath swathe",
}
# "told to evacuate" (an order or a plan) is a different measure from "evacuated"; so is
# "to be evacuated". "forced to flee" is not: they fled.
_ORDER_WORDS = frozenset(
    "told advised ordered asked urged instructed warned order orders called required will "
    "plan planned scheduled expected due".split()
)
_STOP_WORDS = frozenset(
    "a an the of to in into from for on at by with and or have has had been be being was were "
    "is are already now more number total some their his her its that who which as so far still "
    "than under inside there here this these those".split()
)


@lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    # A light stemmer, applied to both vocabulary and input, so plurals and tenses meet.
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        word = word[:-1]
    return word.removesuffix("e") if len(word) > 3 else word


def _lookup(groups: dict[str, str]) -> dict[str, str]:
    return {_stem(word): name for name, words in groups.items() for word in words.split()}


_EVENT_OF = _lookup(_EVENTS)
_SUBJECT_OF = _lookup(_SUBJECTS)
_ORDERS = frozenset(_stem(w) for w in _ORDER_WORDS)


@lru_cache(maxsize=65_536)  # every pair of figures compares two measures: most are repeats
def _signature(measure: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(events, subjects, other words) of a measure phrase."""
    raw = re.findall(r"[a-z]+", measure.lower())
    words = [w for w in raw if w not in _STOP_WORDS]
    events: set[str] = set()
    subjects: set[str] = set()
    others: set[str] = set()
    ordered = any(raw[i : i + 2] == ["to", "be"] for i in range(len(raw) - 1))
    for word in map(_stem, words):
        if word in _ORDERS:
            ordered = True
        elif word in _EVENT_OF:
            events.add(_EVENT_OF[word])
        elif word in _SUBJECT_OF:
            subjects.add(_SUBJECT_OF[word])
        else:
            others.add(word)
    if ordered and "evacuated" in events:
        events = (events - {"evacuated"}) | {"told to evacuate"}
    elif ordered:
        others.add("order")
    return frozenset(events), frozenset(subjects), frozenset(others)


def measures_match(a: str, b: str) -> bool:
    """Whether two measure phrases count the same thing: 'towns seized' ~ 'villages controlled'."""
    events_a, subjects_a, others_a = _signature(a)
    events_b, subjects_b, others_b = _signature(b)
    if events_a != events_b:
        return False
    if subjects_a and subjects_b and subjects_a != subjects_b:
        return False
    # A subject on one side only is compatible with a bare event ("killed" ~ "people killed"),
    # not with another counted noun ("border districts evacuated" vs "civilians fled").
    if bool(subjects_a) != bool(subjects_b) and (others_a if not subjects_a else others_b):
        return False
    # Extra modifiers on one side only ("Russian citizens remain") still match; two different
    # modifiers ("drone strikes" vs "cross-border strikes") do not.
    if not (others_a <= others_b or others_b <= others_a):
        return False
    # And they must say what happened, or be the same words: a bare count ("two Russian
    # regions" vs "three of the regions") names no event to agree or disagree about.
    return bool(events_a) or (others_a == others_b and subjects_a == subjects_b)


# --- quantities ---------------------------------------------------------------------------------

# A digit right after a letter is part of a unit ("km2"), not a figure.
_NUMBER = re.compile(r"(?<![A-Za-z])\d[\d,]*(?:\.\d+)?")


def _relative_rounding(written: str) -> float:
    """Half the last significant digit of a written number, relative to the number."""
    digits = written.replace(",", "")
    number = float(digits)
    if number == 0:
        return 0.0
    if "." in digits:
        step = 10.0 ** -len(digits.split(".")[1])
    else:
        zeros = len(digits) - len(digits.rstrip("0"))
        zeros = max(0, min(zeros, len(digits.lstrip("0")) - MIN_SIGNIFICANT_DIGITS))
        step = 10.0**zeros
    return step / 2 / number


def _rounding(text: str, stated_value: float | None, dimension: str, value: float) -> float:
    """Relative tolerance implied by how the figure was written (0 for exact counts)."""
    written = _NUMBER.findall(text)
    if not written and stated_value is not None:
        written = [f"{stated_value:f}".rstrip("0").rstrip(".")]
    relative = max((_relative_rounding(w) for w in written), default=0.0)
    if dimension == "count" and relative * abs(value) <= 0.5 + 1e-9:
        return 0.0  # whole counts: half a unit of rounding is no rounding at all
    return relative


def _interval(q: Quantity) -> _Interval:
    return _interval_of(q.text, q.stated_value, q.dimension, q.value, q.qualifier, q.upper)


@lru_cache(maxsize=65_536)  # a stored figure is compared with every claim that retrieves it
def _interval_of(
    text: str,
    stated_value: float | None,
    dimension: str,
    v: float,
    qualifier: str | None,
    upper: float | None,
) -> _Interval:
    rel = _rounding(text, stated_value, dimension, v)
    if qualifier == "more_than":
        return _Interval(v, math.inf)
    if qualifier == "less_than":
        return _Interval(-math.inf, v)
    if qualifier == "range" and upper is not None:
        lo, hi = sorted((v, upper))
        return _Interval(lo - rel * abs(lo), hi + rel * abs(hi))
    half = rel * abs(v)
    if qualifier == "about":
        half = max(half, ABOUT_RELATIVE * abs(v))
    return _Interval(v - half, v + half)


def _number(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.2f}".rstrip("0").rstrip(".")


def _show(q: Quantity) -> str:
    return _shown(q.qualifier, q.value, q.upper, q.unit)


@lru_cache(maxsize=65_536)
def _shown(qualifier: str | None, value: float, upper: float | None, unit: str) -> str:
    unit = {"count": "", "km**2": " km²"}.get(unit, f" {unit}")
    if qualifier == "range" and upper is not None:
        return f"{_number(value)}–{_number(upper)}{unit}"
    prefix = {"about": "about ", "more_than": "more than ", "less_than": "less than "}
    return f"{prefix.get(qualifier or '', '')}{_number(value)}{unit}"


def _difference(a: float, b: float) -> str:
    smaller = min(abs(a), abs(b))
    if smaller == 0:
        return f"differ by {_number(abs(a - b))}"
    percent = abs(a - b) / smaller * 100
    return f"differ by {percent:.0f}%" if percent >= 1 else f"differ by {percent:.1f}%"


def compare_quantities(a: Quantity, b: Quantity) -> Finding:
    """Whether two figures agree, allowing for rounding and qualifiers (rules in the docstring)."""
    if a.dimension != b.dimension or a.unit != b.unit:
        return Finding("unrelated", f"different kinds of figure: {a.unit} vs {b.unit}")
    if not measures_match(a.measure, b.measure):
        return Finding("unrelated", f"different measures: '{a.measure}' vs '{b.measure}'")
    pair = f"{_show(a)} vs {_show(b)}"
    ia, ib = _interval(a), _interval(b)
    lo, hi = max(ia.lo, ib.lo), min(ia.hi, ib.hi)
    if lo < hi or (lo == hi and (ia.is_point or ib.is_point)):
        return Finding("supports", f"{pair}: agree within rounding and qualifiers")
    # For a range or a bound, the distance that matters is to its nearest end.
    bounded = {a.qualifier, b.qualifier} & {"range", "more_than", "less_than"}
    differ = _difference(hi, lo) if bounded else _difference(a.value, b.value)
    scale = max(abs(lo), abs(hi))
    relative_gap = (lo - hi) / scale if scale else 0.0
    if ia.is_point and ib.is_point:
        return Finding("conflicts", f"{pair}: {differ}, and both are exact")
    if relative_gap < MINOR_GAP_RELATIVE:
        return Finding("minor_discrepancy", f"{pair}: {differ}, slightly beyond rounding")
    return Finding("conflicts", f"{pair}: {differ}, beyond rounding and qualifiers")


# --- times --------------------------------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(t: TimeRef) -> str | None:
    if t.date is not None:
        return _WEEKDAYS[t.date.weekday()]
    if t.weekday:
        name = t.weekday.strip().lower()
        return next((d for d in _WEEKDAYS if len(name) >= 3 and d.startswith(name)), None)
    return None


def _show_time(t: TimeRef) -> str:
    day = _weekday(t)
    shown = " ".join(x for x in (day and day.capitalize(), t.date and t.date.isoformat()) if x)
    return shown or t.text


def compare_times(a: TimeRef, b: TimeRef) -> Finding:
    """Same day supports, different days conflict; dates first, else weekdays."""
    pair = f"{_show_time(a)} vs {_show_time(b)}"
    if a.date is not None and b.date is not None:
        same = a.date == b.date
    elif (day_a := _weekday(a)) and (day_b := _weekday(b)):
        same = day_a == day_b
    else:
        return Finding("unrelated", f"{pair}: no comparable date or weekday")
    if same:
        return Finding("supports", f"{pair}: same day")
    return Finding("conflicts", f"{pair}: different days")


# --- claims -------------------------------------------------------------------------------------


def compare_claims(
    a_quantities: Sequence[Quantity],
    a_time: TimeRef | None,
    b_quantities: Sequence[Quantity],
    b_time: TimeRef | None,
    comparable: Callable[[Quantity, Quantity], bool] | None = None,
) -> list[Finding]:
    """Every related finding between two claims: each figure of A against the figures of B that
    measure the same thing, then the dates. Unrelated pairs are dropped; the caller merges them
    (verdict.merge_findings), since only it knows whether the claims are about the same event."""
    findings = [
        compare_quantities(qa, qb)
        for qa in a_quantities
        for qb in b_quantities
        if qa.dimension == qb.dimension and (comparable is None or comparable(qa, qb))
    ]
    if a_time is not None and b_time is not None:
        findings.append(compare_times(a_time, b_time))
    return [f for f in findings if f.relation != "unrelated"]
