"""Rule comparison of figures, measures and dates, on the figures the seed articles report."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from service.models import Quantity, TimeRef
from service.pipeline.compare import (
    Finding,
    compare_claims,
    compare_quantities,
    compare_times,
    measures_match,
)

UNITS = {
    "count": "count",
    "km": "length",
    "km**2": "area",
    "percent": "percent",
    "USD": "money",
    "EUR": "money",
    "hour": "duration",
}


def q(
    value: float,
    measure: str = "people killed",
    unit: str = "count",
    qualifier: str = "exact",
    text: str | None = None,
    stated: float | None = None,
    upper: float | None = None,
) -> Quantity:
    """A normalized quantity; `text` and `stated_value` default to the value as written."""
    if text is None:
        text = f"{value:,g}" if upper is None else f"{value:,g} to {upper:,g}"
    return Quantity(
        text=text,
        value=value,
        upper=upper,
        unit=unit,
        dimension=UNITS[unit],
        measure=measure,
        qualifier=qualifier,
        stated_value=value if stated is None else stated,
    )


KM2 = "km**2"
FLED, EVAC = "people fled", "residents evacuated"

QUANTITY_CASES = [
    # id, a, b, expected relation
    ("rounded 120,000 vs 121,000", q(120000, FLED), q(121000, EVAC), "supports"),
    ("same exact count", q(12), q(12, "civilian deaths"), "supports"),
    ("zero vs zero", q(0), q(0), "supports"),
    (
        "exact small counts differ",
        q(28, "settlements controlled"),
        q(27, "villages seized"),
        "conflicts",
    ),
    ("10 vs 11 killed", q(10), q(11), "conflicts"),
    ("zero vs three", q(0), q(3), "conflicts"),
    ("round 100 may be a rounded 104", q(100), q(104), "supports"),
    ("round 120 vs 121 injured", q(120, "injured"), q(121, "wounded"), "supports"),
    ("120,000 vs 130,000: rounded, close", q(120000, FLED), q(130000, EVAC), "minor_discrepancy"),
    (
        "around 10,000 vs about 11,000",
        q(10000, FLED, qualifier="about"),
        q(11000, EVAC, qualifier="about"),
        "minor_discrepancy",
    ),
    ("exact 10,000 vs exact 11,000", q(10000, FLED), q(11000, EVAC), "minor_discrepancy"),
    ("about 10,000 vs 10,400", q(10000, FLED, qualifier="about"), q(10400, EVAC), "supports"),
    ("about 12 vs 13 killed", q(12, qualifier="about"), q(13), "minor_discrepancy"),
    (
        "about 28 vs exact 27",
        q(28, "towns seized", qualifier="about"),
        q(27, "settlements controlled"),
        "supports",
    ),
    (
        "about 10,000 vs 12,000",
        q(10000, FLED, qualifier="about"),
        q(12000, EVAC),
        "minor_discrepancy",
    ),
    ("about 10,000 vs 13,000", q(10000, FLED, qualifier="about"), q(13000, EVAC), "conflicts"),
    ("about 12 vs 15 killed", q(12, qualifier="about"), q(15), "conflicts"),
    ("10,000 vs 121,000 evacuated", q(10000, FLED), q(121000, EVAC), "conflicts"),
    ("12 km vs 30 km", q(12, "advance", "km"), q(30, "penetrated", "km"), "conflicts"),
    ("12 km vs 12 km deep", q(12, "advance", "km"), q(12, "advance depth", "km"), "supports"),
    (
        "7.5 miles (12 km) vs 12km",
        q(12.07, "advance", "km", text="7.5 miles (12 kilometers)", stated=7.5),
        q(12, "advance depth", "km", text="12km"),
        "supports",
    ),
    ("5 km vs 5.4 km", q(5, "advance", "km"), q(5.4, "advance", "km"), "supports"),
    ("5 km vs 6 km", q(5, "advance", "km"), q(6, "advance", "km"), "minor_discrepancy"),
    (
        "1,000 km² vs 386 sq mi",
        q(1000, "territory controlled", KM2, "about", text="around 1,000 sq km"),
        q(
            999.74,
            "territory controlled",
            KM2,
            "about",
            text="386 square miles (1,000 square kilometers)",
            stated=386,
        ),
        "supports",
    ),
    (
        "exact 1,000 km² vs exact 999.7",
        q(1000, "territory controlled", KM2),
        q(999.7, "territory controlled", KM2, text="999.7 km2"),
        "supports",
    ),
    (
        "1,000 km² vs 1,300 km²",
        q(1000, "territory controlled", KM2),
        q(1300, "territory controlled", KM2),
        "conflicts",
    ),
    (
        "'km2' is a unit, not a figure",
        q(1000, "territory controlled", KM2, text="1,000 km2"),
        q(1100, "territory controlled", KM2, text="1,100 km2"),
        "minor_discrepancy",
    ),
    (
        "dozens vs 28",
        q(24, "villages controlled", qualifier="more_than", text="dozens"),
        q(28, "settlements controlled"),
        "supports",
    ),
    (
        "dozens vs 12",
        q(24, "villages controlled", qualifier="more_than", text="dozens"),
        q(12, "settlements controlled"),
        "conflicts",
    ),
    ("more than 100 vs 120", q(100, qualifier="more_than"), q(120), "supports"),
    ("more than 100 vs 10,000", q(100, qualifier="more_than"), q(10000), "supports"),
    ("at least 12 vs 12", q(12, qualifier="more_than", text="at least 12"), q(12), "supports"),
    ("more than 100 vs 90", q(100, qualifier="more_than"), q(90), "minor_discrepancy"),
    ("more than 100 vs 50", q(100, qualifier="more_than"), q(50), "conflicts"),
    ("less than 100 vs 90", q(100, qualifier="less_than"), q(90), "supports"),
    ("less than 100 vs 110", q(100, qualifier="less_than"), q(110), "minor_discrepancy"),
    ("less than 100 vs 130", q(100, qualifier="less_than"), q(130), "conflicts"),
    ("less than 100 vs 200", q(100, qualifier="less_than"), q(200), "conflicts"),
    (
        "less than 100 vs less than 50",
        q(100, qualifier="less_than"),
        q(50, qualifier="less_than"),
        "supports",
    ),
    (
        "more than 100 vs less than 50",
        q(100, qualifier="more_than"),
        q(50, qualifier="less_than"),
        "conflicts",
    ),
    (
        "more than 100 vs more than 5,000",
        q(100, qualifier="more_than"),
        q(5000, qualifier="more_than"),
        "supports",
    ),
    (
        "range 10-12 km vs 11 km",
        q(10, "advance", "km", "range", upper=12),
        q(11, "advance", "km"),
        "supports",
    ),
    (
        "range 10-12 km vs 20 km",
        q(10, "advance", "km", "range", upper=12),
        q(20, "advance", "km"),
        "conflicts",
    ),
    ("range 100-200 vs 240", q(100, qualifier="range", upper=200), q(240), "minor_discrepancy"),
    (
        "range 100-200 vs range 180-300",
        q(100, qualifier="range", upper=200),
        q(180, qualifier="range", upper=300),
        "supports",
    ),
    ("range without upper is exact", q(12, qualifier="range"), q(13), "conflicts"),
    (
        "$5 million vs $5.2 million",
        q(5e6, "aid pledged", "USD", text="$5 million", stated=5),
        q(5.2e6, "aid pledged", "USD", text="$5.2 million", stated=5.2),
        "supports",
    ),
    (
        "$5 million vs $8 million",
        q(5e6, "aid pledged", "USD", text="$5 million", stated=5),
        q(8e6, "aid pledged", "USD", text="$8 million", stated=8),
        "conflicts",
    ),
    (
        "1.5 million vs 1,520,000 people",
        q(1.5e6, FLED, text="1.5 million", stated=1.5),
        q(1520000, EVAC),
        "supports",
    ),
    ("twelve vs 13 (no digits)", q(12, text="twelve"), q(13), "conflicts"),
    ("50% vs 55%", q(50, "turnout", "percent"), q(55, "turnout", "percent"), "minor_discrepancy"),
    ("50% vs 80%", q(50, "turnout", "percent"), q(80, "turnout", "percent"), "conflicts"),
    (
        "48 hours vs 2 days (48 h)",
        q(48, "offensive duration", "hour"),
        q(48, "offensive duration", "hour", text="two days", stated=2),
        "supports",
    ),
    # unrelated: different dimension, unit or measure, never a conflict
    ("killed vs km", q(12), q(12, "advance", "km"), "unrelated"),
    ("USD vs EUR", q(5e6, "aid", "USD"), q(5e6, "aid", "EUR"), "unrelated"),
    (
        "strikes vs citizens remain",
        q(2000, "cross-border strikes", qualifier="about"),
        q(2000, "citizens remain", qualifier="about"),
        "unrelated",
    ),
    ("injured vs evacuated", q(121, "people injured"), q(121000, "people evacuated"), "unrelated"),
    (
        "told to evacuate vs evacuated",
        q(180000, "people told to evacuate"),
        q(121000, "people evacuated"),
        "unrelated",
    ),
    (
        "children injured vs people injured",
        q(10, "children injured"),
        q(121, "people injured"),
        "unrelated",
    ),
]


@pytest.mark.parametrize(
    ("a", "b", "expected"), [c[1:] for c in QUANTITY_CASES], ids=[c[0] for c in QUANTITY_CASES]
)
def test_compare_quantities(a: Quantity, b: Quantity, expected: str) -> None:
    finding = compare_quantities(a, b)
    assert finding.relation == expected, finding.explanation
    assert compare_quantities(b, a).relation == expected  # symmetric


def test_explanations_are_one_readable_line() -> None:
    conflict = compare_quantities(q(12, "advance", "km"), q(30, "penetrated", "km"))
    assert conflict == Finding(
        "conflicts", "12 km vs 30 km: differ by 150%, beyond rounding and qualifiers"
    )
    minor = compare_quantities(q(10000, FLED, qualifier="about"), q(11000, EVAC, qualifier="about"))
    assert minor.explanation.startswith("about 10,000 vs about 11,000: differ by 10%")
    exact = compare_quantities(q(28, "settlements controlled"), q(27, "villages seized"))
    assert exact.explanation == "28 vs 27: differ by 4%, and both are exact"
    area = compare_quantities(q(1000, "territory", KM2), q(999.7, "territory", KM2))
    assert area.explanation == "1,000 km² vs 999.7 km²: agree within rounding and qualifiers"
    unrelated = compare_quantities(q(2000, "cross-border strikes"), q(2000, "citizens remain"))
    assert "cross-border strikes" in unrelated.explanation
    assert "\n" not in conflict.explanation + minor.explanation + unrelated.explanation


# --- properties ---------------------------------------------------------------------------------

SEVERITY = {"supports": 0, "minor_discrepancy": 1, "conflicts": 2}
VALUES = [0, 1, 10, 12, 24, 27, 28, 30, 100, 120, 999.7, 1000, 1300, 10000, 11000, 120000, 121000]
POOL = [
    q(v, qualifier=qual, upper=v * 1.5 if qual == "range" else None)
    for v in VALUES
    for qual in ("exact", "about", "more_than", "less_than", "range")
]


def test_compare_quantities_is_symmetric_and_reflexive() -> None:
    for a, b in itertools.combinations(POOL, 2):
        assert compare_quantities(a, b).relation == compare_quantities(b, a).relation, (a, b)
    for a in POOL:
        assert compare_quantities(a, a).relation == "supports", a


def test_loosening_a_qualifier_never_makes_a_disagreement_worse() -> None:
    # "about v" admits everything "v" does, so it can only agree more.
    for v, other in itertools.product(VALUES, POOL):
        exact = compare_quantities(q(v), other).relation
        about = compare_quantities(q(v, qualifier="about"), other).relation
        assert SEVERITY[about] <= SEVERITY[exact], (v, other)


def test_growing_gap_never_makes_agreement_better() -> None:
    for base, qual in itertools.product((12, 1000, 120000), ("exact", "about", "more_than")):
        severities = [
            SEVERITY[compare_quantities(q(base, qualifier=qual), q(base * f)).relation]
            for f in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
        ]
        assert severities == sorted(severities, reverse=True), (base, qual, severities)


# --- measures -----------------------------------------------------------------------------------

MATCHING = [
    ("settlements controlled", "villages controlled"),
    ("settlements controlled", "towns seized"),
    ("villages captured", "localities under control"),
    ("settlements taken", "settlements under ukrainian control"),
    ("people killed", "civilians killed"),
    ("people killed", "civilian deaths"),
    ("people killed", "dead"),
    ("fatalities", "people who died"),
    ("people injured", "others wounded"),
    ("people injured", "civilians hurt"),
    ("number of wounded", "people injured"),
    ("people evacuated", "residents evacuated"),
    ("people evacuated", "people fled"),
    ("residents evacuated", "people who left"),
    ("people relocated", "people displaced"),
    ("people evacuated from their homes", "people evacuated"),
    ("people told to evacuate", "residents advised to evacuate"),
    ("people told to evacuate", "people ordered to leave"),
    ("people told to evacuate", "people to be evacuated"),
    ("advance", "advance depth"),
    ("advance", "penetrated"),
    ("advance depth", "deep"),
    ("territory controlled", "area under control"),
    ("citizens remain", "russian citizens remaining"),
    ("cross-border strikes", "cross-border strikes"),
    ("Cross-Border Strikes", "cross border strikes"),
    ("front width", "width"),
]
NOT_MATCHING = [
    # Nothing named in common: a bare count of one thing is not a count of another.
    ("children", "regions"),
    ("countries", "regions"),
    # Bare counts say nothing about what happened: "two Russian regions" (affected by the
    # incursion) vs "three of the regions" (that border Ukraine).
    ("russian regions", "regions"),
    # A counted noun on one side, people on the other.
    ("border districts being evacuated", "civilians who fled"),
    # The depth of an advance is not the width of the front.
    ("advance depth", "width of the advance along the border"),
    ("cross-border strikes", "citizens remain"),
    ("people injured", "people evacuated"),
    ("people killed", "people injured"),
    ("people evacuated", "people told to evacuate"),
    ("people evacuated", "people advised to evacuate"),
    ("residents evacuated", "people yet to be evacuated"),
    ("people killed", "people killed or injured"),
    ("people killed", "soldiers killed"),
    ("people injured", "children injured"),
    ("settlements controlled", "territory controlled"),
    ("advance", "front width"),
    ("cross-border strikes", "drone strikes"),
    ("advance", "territory controlled"),
    ("", "people killed"),
]


@pytest.mark.parametrize(("a", "b"), MATCHING)
def test_measures_match(a: str, b: str) -> None:
    assert measures_match(a, b)
    assert measures_match(b, a)


@pytest.mark.parametrize(("a", "b"), NOT_MATCHING)
def test_measures_do_not_match(a: str, b: str) -> None:
    assert not measures_match(a, b)
    assert not measures_match(b, a)


# --- times --------------------------------------------------------------------------------------

MON, TUE = date(2024, 8, 12), date(2024, 8, 13)


def t(day: date | None = None, weekday: str | None = None, text: str = "then") -> TimeRef:
    return TimeRef(text=text, date=day, weekday=weekday)


TIME_CASES = [
    ("same date", t(MON), t(MON), "supports"),
    ("different dates", t(MON, "Monday"), t(TUE, "Tuesday"), "conflicts"),
    ("dates win over weekdays", t(MON, "Tuesday"), t(MON, "Monday"), "supports"),
    ("same weekday", t(weekday="Monday"), t(weekday="monday"), "supports"),
    ("abbreviated weekday", t(weekday="Mon"), t(weekday="Monday"), "supports"),
    ("different weekdays", t(weekday="Monday"), t(weekday="Tuesday"), "conflicts"),
    ("date vs its weekday", t(MON), t(weekday="Monday"), "supports"),
    ("date vs another weekday", t(MON), t(weekday="Tuesday"), "conflicts"),
    ("week apart, same weekday", t(MON), t(date(2024, 8, 19)), "conflicts"),
    ("nothing resolved", t(text="last week"), t(text="recently"), "unrelated"),
    ("date vs nothing", t(MON), t(text="recently"), "unrelated"),
    ("unknown weekday name", t(weekday="yesterday"), t(weekday="Monday"), "unrelated"),
]


@pytest.mark.parametrize(
    ("a", "b", "expected"), [c[1:] for c in TIME_CASES], ids=[c[0] for c in TIME_CASES]
)
def test_compare_times(a: TimeRef, b: TimeRef, expected: str) -> None:
    assert compare_times(a, b).relation == expected
    assert compare_times(b, a).relation == expected


def test_time_explanation_names_both_days() -> None:
    finding = compare_times(t(MON), t(TUE))
    assert finding.explanation == "Monday 2024-08-12 vs Tuesday 2024-08-13: different days"


# --- claims -------------------------------------------------------------------------------------


def test_compare_claims_pairs_matching_figures_only() -> None:
    # 000 (NHK) vs 002 (Al-Ittihad): casualties agree, the advance depth does not, and Al-Ittihad
    # dates Putin's meeting a day later.
    a = [q(12, "people killed"), q(121, "people injured"), q(12, "advance", "km")]
    b = [q(12, "civilian deaths"), q(121, "people wounded"), q(30, "penetrated", "km")]
    findings = compare_claims(a, t(MON, "Monday"), b, t(weekday="Tuesday"))
    assert [f.relation for f in findings] == ["supports", "supports", "conflicts", "conflicts"]
    assert findings[-1].explanation.startswith("Monday 2024-08-12 vs Tuesday")


def test_compare_claims_drops_unrelated() -> None:
    a = [q(2000, "cross-border strikes", qualifier="about")]
    b = [q(2000, "citizens remain", qualifier="about"), q(2000, "advance", "km")]
    assert compare_claims(a, None, b, t(MON)) == []
    assert compare_claims([], t(text="recently"), [], t(MON)) == []
