"""Reading numbers, normalizing units and finding figures in sentences (mostly seed sentences)."""

from __future__ import annotations

import pytest

from service.llm.base import DraftQuantity
from service.pipeline.numbers import VAGUE_RANGES, vague_range
from service.pipeline.quantities import find_quantities, locate_quantities, normalize, parse_number
from service.pipeline.units import _registry

PARSE_CASES = [
    ("121,000", 121000),
    ("7.5", 7.5),
    ("0.5", 0.5),
    ("12", 12),
    ("1,234,567", 1234567),
    ("twelve", 12),
    ("Twelve", 12),
    ("a hundred and twenty-one", 121),
    ("one hundred twenty-one", 121),
    ("two thousand", 2000),
    ("twenty-one thousand", 21000),
    ("one million two hundred thousand", 1200000),
    ("a dozen", 12),
    ("two dozen", 24),
    ("three and a half", 3.5),
    ("two and half", 2.5),
    ("180 thousand", 180000),
    ("1.2 million", 1200000),
    ("1.5bn", 1.5e9),
    ("1.5 bn", 1.5e9),
    ("2 billion", 2e9),
    ("10k", 10000),
    ("$", None),
    ("", None),
    ("   ", None),
    ("abc", None),
    ("first", None),
    ("12km", None),
    ("2024-08-12", None),
    ("1,2", None),
    ("7,5", None),
    ("nan", None),
    ("inf", None),
    ("dozens", None),
    ("twelve apples", None),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_number(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


def draft(
    value: float, unit: str | None, upper: float | None = None, measure: str = ""
) -> DraftQuantity:
    return DraftQuantity(
        text=f"{value} {unit}", value=value, upper=upper, unit=unit, measure=measure
    )


NORMALIZE_CASES = [
    # value, stated unit, upper → value, upper, canonical unit, dimension
    (7.5, "miles", None, 12.07, None, "km", "length"),
    (7.5, "mi", None, 12.07, None, "km", "length"),
    (12, "kilometers", None, 12, None, "km", "length"),
    (12, "kilometres", None, 12, None, "km", "length"),
    (12, "km", None, 12, None, "km", "length"),
    (300, "meters", None, 0.3, None, "km", "length"),
    (1000, "feet", None, 0.3048, None, "km", "length"),
    (10, "miles", 20, 16.09, 32.19, "km", "length"),
    (386, "sq mi", None, 999.7, None, "km**2", "area"),
    (386, "square miles", None, 999.7, None, "km**2", "area"),
    (1000, "square kilometers", None, 1000, None, "km**2", "area"),
    (1000, "square kilometres", None, 1000, None, "km**2", "area"),
    (1000, "sq km", None, 1000, None, "km**2", "area"),
    (1000, "km²", None, 1000, None, "km**2", "area"),
    (1000, "km2", None, 1000, None, "km**2", "area"),
    (1000, "km**2", None, 1000, None, "km**2", "area"),
    (100, "hectares", None, 1, None, "km**2", "area"),
    (5, "tonnes", None, 5000, None, "kg", "mass"),
    (5, "kg", None, 5, None, "kg", "mass"),
    (5, "lbs", None, 2.268, None, "kg", "mass"),
    (3, "hours", None, 3, None, "hour", "duration"),
    (2, "days", None, 48, None, "hour", "duration"),
    (60, "mph", None, 96.56, None, "km/h", "speed"),
    (1, "kilometres per hour", None, 1, None, "km/h", "speed"),
    (10, "litres", None, 10, None, "l", "volume"),
    (5, "%", None, 5, None, "percent", "percent"),
    (5, "percent", None, 5, None, "percent", "percent"),
    (5, "per cent", None, 5, None, "percent", "percent"),
    (1.5e9, "$", None, 1.5e9, None, "USD", "money"),
    (5, "dollars", None, 5, None, "USD", "money"),
    (5, "USD", None, 5, None, "USD", "money"),
    (5, "€", None, 5, None, "EUR", "money"),
    (5, "euros", None, 5, None, "EUR", "money"),
    (5, "£", None, 5, None, "GBP", "money"),
    (10, "rubles", None, 10, None, "RUB", "money"),
    (10, "UAH", None, 10, None, "UAH", "money"),
    (12, None, None, 12, None, "count", "count"),
    (12, "", None, 12, None, "count", "count"),
    (12, "people", None, 12, None, "count", "count"),
    (28, "villages", None, 28, None, "count", "count"),
    (5, "points", None, 5, None, "count", "count"),  # pint would read a typographic length
    (1.2, "million people", None, 1.2e6, None, "count", "count"),
    (121000, None, None, 121000, None, "count", "count"),  # counts keep every digit
    (12345.6, "km", None, 12345.6, None, "km", "length"),  # canonical units are not rounded
]


@pytest.mark.parametrize(
    ("value", "unit", "upper", "want", "want_upper", "canonical", "dimension"), NORMALIZE_CASES
)
def test_normalize_units(
    value: float,
    unit: str | None,
    upper: float | None,
    want: float,
    want_upper: float | None,
    canonical: str,
    dimension: str,
) -> None:
    q = normalize(draft(value, unit, upper))
    assert q is not None
    assert (q.value, q.upper, q.unit, q.dimension) == (want, want_upper, canonical, dimension)
    assert (q.stated_value, q.stated_unit) == (value, unit)


@pytest.mark.parametrize(
    ("unit", "measure", "expected"),
    [
        ("people", "", "people"),
        ("Russian citizens", "", "russian citizens"),
        ("civilians", "people killed", "people killed"),
        (None, "strikes launched", "strikes launched"),
    ],
)
def test_normalize_count_noun_becomes_measure(
    unit: str | None, measure: str, expected: str
) -> None:
    q = normalize(draft(12, unit, measure=measure))
    assert q is not None and q.measure == expected and q.unit == "count"


def test_normalize_keeps_text_and_qualifier() -> None:
    d = DraftQuantity(
        text="7.5 miles (12 kilometers)",
        value=12,
        unit="kilometers",
        measure="advance",
        qualifier="about",
    )
    q = normalize(d)
    assert q is not None
    assert (q.text, q.qualifier, q.measure, q.value, q.unit) == (
        d.text,
        "about",
        "advance",
        12,
        "km",
    )


@pytest.mark.parametrize(
    ("value", "unit", "upper"),
    [
        (5, "km/zz", None),
        (5, "m^4", None),
        (5, "12#", None),
        (float("nan"), "km", None),
        (float("inf"), None, None),
        (5, "km", float("nan")),
    ],
)
def test_normalize_rejects_what_it_cannot_read(
    value: float, unit: str, upper: float | None
) -> None:
    assert normalize(draft(value, unit, upper)) is None


@pytest.mark.parametrize("unit", ["", " ", "²", "**", "sq", "per", "$$", "km/", "..", "-"])
def test_normalize_never_raises(unit: str) -> None:
    normalize(draft(1, unit))  # None or a Quantity, never an exception


def test_one_registry() -> None:
    assert _registry() is _registry()


def figures(sentence: str) -> list[tuple[str, float, float | None, str | None, str]]:
    return [(q.text, q.value, q.upper, q.unit, q.qualifier) for q in find_quantities(sentence)]


FIND_CASES = [
    # units
    ("They advanced 12 kilometers.", [("12 kilometers", 12, None, "kilometers", "exact")]),
    ("Troops are 12km deep.", [("12km", 12, None, "km", "exact")]),
    ("A 10 mi drive.", [("10 mi", 10, None, "mi", "exact")]),
    ("It covers 300 sq mi.", [("300 sq mi", 300, None, "sq mi", "exact")]),
    ("It covers 1,000 sq km.", [("1,000 sq km", 1000, None, "sq km", "exact")]),
    ("It covers 1,000 km² now.", [("1,000 km²", 1000, None, "km²", "exact")]),
    (
        "It covers 1.2 million hectares.",
        [("1.2 million hectares", 1.2e6, None, "hectares", "exact")],
    ),
    ("A wall 12 feet high.", [("12 feet", 12, None, "feet", "exact")]),
    ("It weighs 180 thousand tonnes.", [("180 thousand tonnes", 180000, None, "tonnes", "exact")]),
    ("Prices rose 5% in a year.", [("5%", 5, None, "%", "exact")]),
    ("Prices rose 3 per cent.", [("3 per cent", 3, None, "per cent", "exact")]),
    (
        "Wind of 60 mph and 100 km/h gusts.",
        [("60 mph", 60, None, "mph", "exact"), ("100 km/h", 100, None, "km/h", "exact")],
    ),
    ("It lasted 3 hours.", [("3 hours", 3, None, "hours", "exact")]),
    # money
    ("Aid of $1.5bn was pledged.", [("$1.5bn", 1.5e9, None, "$", "exact")]),
    ("Aid of $2m was pledged.", [("$2m", 2e6, None, "$", "exact")]),
    ("Aid of €300 million was pledged.", [("€300 million", 3e8, None, "€", "exact")]),
    ("It cost 500 million rubles.", [("500 million rubles", 5e8, None, "rubles", "exact")]),
    # spelled numbers
    ("Twelve people died.", [("Twelve", 12, None, None, "exact")]),
    (
        "A hundred and twenty-one others were hurt.",
        [("A hundred and twenty-one", 121, None, None, "exact")],
    ),
    ("It took two and half years.", [("two and half years", 2.5, None, "years", "exact")]),
    # qualifiers
    ("About 11,000 residents left.", [("11,000", 11000, None, None, "about")]),
    ("around 10,000 people fled", [("10,000", 10000, None, None, "about")]),
    ("approximately 7.5 miles", [("7.5 miles", 7.5, None, "miles", "about")]),
    ("some 386 square miles", [("386 square miles", 386, None, "square miles", "about")]),
    ("roughly 5 people", [("5", 5, None, None, "about")]),
    ("nearly 40 miles", [("40 miles", 40, None, "miles", "about")]),
    ("almost 40 villages", [("40", 40, None, None, "about")]),
    ("an estimated 5,000 troops", [("5,000", 5000, None, None, "about")]),
    ("more than 100 villages", [("100", 100, None, None, "more_than")]),
    ("over 100 villages", [("100", 100, None, None, "more_than")]),
    ("At least 12 civilians died.", [("12", 12, None, None, "more_than")]),
    ("upwards of 300 troops", [("300", 300, None, None, "more_than")]),
    ("less than 50 people", [("50", 50, None, None, "less_than")]),
    ("fewer than 50 people", [("50", 50, None, None, "less_than")]),
    ("under 50 people", [("50", 50, None, None, "less_than")]),
    ("up to 30 km", [("30 km", 30, None, "km", "less_than")]),
    ("at most 3 days", [("3 days", 3, None, "days", "less_than")]),
    # ranges
    ("Between 10 and 15 people were hurt.", [("Between 10 and 15", 10, 15, None, "range")]),
    ("It killed 10-15 soldiers.", [("10-15", 10, 15, None, "range")]),
    ("From 10 to 20 percent voted.", [("10 to 20 percent", 10, 20, "percent", "range")]),
    ("They moved 5 to 10 km.", [("5 to 10 km", 5, 10, "km", "range")]),
    # an imperial figure and its metric conversion are one figure; metric wins
    (
        "advanced approximately 7.5 miles (12 kilometers) into Russian territory",
        [("7.5 miles (12 kilometers)", 12, None, "kilometers", "about")],
    ),
    (
        "some 386 square miles (1,000 square kilometers) of territory",
        [("386 square miles (1,000 square kilometers)", 1000, None, "square kilometers", "about")],
    ),
    (
        "a 25-mile (40-kilometer) wide stretch",
        [("25-mile (40-kilometer)", 40, None, "kilometer", "exact")],
    ),
    ("12 km (7.5 miles) away", [("12 km (7.5 miles)", 12, None, "km", "exact")]),
    # vague amounts: ranges, from two of the unit to just under the next word's
    ("seizing dozens of Russian villages", [("dozens", 24, 99, None, "range")]),
    (
        "evacuated tens of thousands of residents",
        [("tens of thousands", 20000, 99999, None, "range")],
    ),
    ("hundreds of troops", [("hundreds", 200, 999, None, "range")]),
    ("thousands of people", [("thousands", 2000, 9999, None, "range")]),
    ("scores of wounded", [("scores", 40, 99, None, "range")]),
    (
        "Hundreds of thousands of people fled.",
        [("Hundreds of thousands", 200000, 999999, None, "range")],
    ),
    ("millions of refugees", [("millions", 2e6, 9.99e8, None, "range")]),
    ("tens of millions of dollars", [("tens of millions", 2e7, 99999999, None, "range")]),
    ("It cost billions of dollars.", [("billions", 2e9, 9.99e11, None, "range")]),
]


@pytest.mark.parametrize(("sentence", "expected"), FIND_CASES)
def test_find_quantities(sentence: str, expected: list[tuple[object, ...]]) -> None:
    assert figures(sentence) == expected


NOT_FIGURES = [
    "since the Russian invasion began in 2022.",
    "the war that began in February 2022.",
    "In 2024 the war went on.",
    "On August 8, we started.",
    "On 8 August they left.",
    "It happened on Aug. 8, 2024.",
    "date 2024-08-12 Moscow, Kyiv",
    "It was 12/08/2024.",
    "They met at 10:30 and again at 5 p.m. and 6pm.",
    "In his first statements he spoke.",
    "The 1st battalion and the 22nd brigade moved.",
    "Su-27 jets and F-16 fighters flew.",
    "NATO's Article 5 was cited.",
    "A Boeing 737 landed.",
    "Article number 3.",
    "Downing Street No. 10 and room #12.",
    "Each one deserves a fair response.",
    "It is a risky one.",
    "It runs 24/7.",
    "Comments are closed.",
    "They advanced tens of kilometers.",  # a vague length: no agreed reading
]


@pytest.mark.parametrize("sentence", NOT_FIGURES)
def test_not_figures(sentence: str) -> None:
    assert find_quantities(sentence) == []


def test_year_with_a_qualifier_or_comma_is_a_figure() -> None:
    assert figures("about 2,000 cross-border strikes") == [("2,000", 2000, None, None, "about")]
    assert figures("In 2022, 2,000 people died.") == [("2,000", 2000, None, None, "exact")]


MEASURE_CASES = [
    # seed sentence, figure text, measure
    (
        "The acting governor of Kursk, Alexei Smirnov, said that 12 people had been killed and "
        "121 others had been injured in the region.",
        {"12": "people killed", "121": "people injured"},
    ),
    (
        "He also said that Ukrainian forces have advanced 12 kilometers into Kursk and taken "
        "control of 28 settlements.",
        {"12 kilometers": "advance", "28": "settlements controlled"},
    ),
    (
        "He added that 121,000 people have already evacuated from the area.",
        {"121,000": "people evacuated"},
    ),
    (
        "Smirnov reported that 180,000 people had been advised to evacuate, with 121,000 already "
        "leaving the area.",
        {"180,000": "people told to evacuate", "121,000": "people evacuated"},
    ),
    (
        "Smirnov said 180,000 people had been told to evacuate and that 121,000 have left already.",
        {"180,000": "people told to evacuate", "121,000": "people evacuated"},
    ),
    (
        "In Belgorod, the region next to Kursk, about 11,000 people were told to leave this "
        "morning.",
        {"11,000": "people told to evacuate"},
    ),
    (
        "The commander-in-chief said Ukrainian troops have taken control of about 1,000 square "
        "kilometers.",
        {"1,000 square kilometers": "territory controlled"},
    ),
    (
        "Ukraine now controls around 1,000 sq km of territory in Russia's Kursk region.",
        {"1,000 sq km": "territory controlled"},
    ),
    (
        "He added that Ukrainian forces had advanced approximately 7.5 miles (12 kilometers) into "
        "Russian territory, spanning a 25-mile (40-kilometer) wide section of the border.",
        {"7.5 miles (12 kilometers)": "advance", "25-mile (40-kilometer)": "front width"},
    ),
    (
        "it appears that Ukrainian forces have crossed the border between the two countries and "
        "penetrated 30 kilometers into Russian territory.",
        {"two": "countries", "30 kilometers": "advance"},
    ),
    ("Ukrainian troops are 12km deep inside the area, he said.", {"12km": "advance"}),
    (
        "They say the settlement is located about 4 kilometers from the border.",
        {"4 kilometers": "distance from border"},
    ),
    (
        "an offensive that has allowed Kiev's forces to seize 28 towns and forced 120,000 "
        "civilians to flee.",
        {"28": "towns controlled", "120,000": "civilians evacuated"},
    ),
    (
        "Smirnov tells Putin that about 2,000 Russian citizens remain in areas occupied by "
        "Ukrainian forces in Kursk.",
        {"2,000": "citizens remaining"},
    ),
    (
        "Zelensky noted that Russia launched about 2,000 cross-border strikes from Kursk into "
        "Ukraine's Sumy region over the summer.",
        {"2,000": "strikes launched"},
    ),
    (
        "At least 12 civilians were killed and 121 others injured in the Ukrainian incursion.",
        {"12": "civilians killed", "121": "people injured"},
    ),
    (
        "The number of civilian deaths is 12, the number of wounded is 121, including 10 children.",
        {"12": "civilian deaths", "121": "wounded", "10": "children"},
    ),
    (
        "The Kursk governor added that 121,000 people have now been evacuated from their homes – "
        "with 59,000 more to go.",
        {"121,000": "people evacuated", "59,000": "people yet to evacuate"},
    ),
    (
        "Aleksey Smirnov informed Putin that 28 settlements within his jurisdiction were now under "
        "Ukrainian control.",
        {"28": "settlements controlled"},
    ),
    (
        "Ukrainian troops seizing dozens of Russian villages and significant areas of land.",
        {"dozens": "villages controlled"},
    ),
    (
        "Russian authorities have evacuated tens of thousands of residents.",
        {"tens of thousands": "residents evacuated"},
    ),
    (
        "About 11,000 residents from Krasnoyaruzhsky district were evacuated, the head of the "
        "district administration said later.",
        {"11,000": "residents evacuated"},
    ),
    ("First stage: 10km zone in four districts.", {"10km": "zone", "four": "districts"}),
]


@pytest.mark.parametrize(("sentence", "expected"), MEASURE_CASES)
def test_measures_on_seed_sentences(sentence: str, expected: dict[str, str]) -> None:
    assert {q.text: q.measure for q in find_quantities(sentence)} == expected


def test_seed_figures_normalize() -> None:
    sentence = (
        "Ukrainian military leader Oleksandr Syrskyi also reported on Monday that about 386 "
        "square miles (1,000 square kilometers) of Russian territory were now under Ukrainian "
        "control."
    )
    (found,) = find_quantities(sentence)
    q = normalize(found)
    assert q is not None
    assert (q.value, q.unit, q.dimension, q.qualifier) == (1000, "km**2", "area", "about")
    assert q.text == "386 square miles (1,000 square kilometers)"


def test_vague_ranges_are_ordered_and_disjoint_by_scale() -> None:
    bounds = sorted(VAGUE_RANGES.values())
    assert all(lo < hi for lo, hi in bounds)
    assert vague_range("Tens  of Thousands") == (20_000, 99_999)
    assert vague_range("tens") is None and vague_range("a few") is None
    # each plural ends below the next word's start: "thousands" never means 12,000
    for smaller, larger in [
        ("dozens", "hundreds"),
        ("hundreds", "thousands"),
        ("thousands", "tens of thousands"),
        ("tens of thousands", "hundreds of thousands"),
        ("hundreds of thousands", "millions"),
    ]:
        assert VAGUE_RANGES[smaller][1] < VAGUE_RANGES[larger][0]


def test_vague_amount_is_a_range_not_a_lower_bound() -> None:
    (q,) = [normalize(d) for d in find_quantities("They evacuated tens of thousands of residents.")]
    assert q is not None
    assert (q.value, q.upper, q.qualifier, q.unit) == (20000, 99999, "range", "count")
    assert q.measure == "residents evacuated"


@pytest.mark.parametrize(
    "sentence",
    [
        "Between 10 and 15 people were hurt, and two and half years passed.",
        "He added that Ukrainian forces had advanced approximately 7.5 miles (12 kilometers) "
        "into Russian territory, spanning a 25-mile (40-kilometer) wide section of the border.",
        "Russian authorities have evacuated tens of thousands of residents and $2m.",
    ],
)
def test_locate_quantities_gives_the_figure_offsets(sentence: str) -> None:
    located = locate_quantities(sentence)
    assert located
    assert [d for _, _, d in located] == find_quantities(sentence)
    for start, end, draft in located:
        assert sentence[start:end] == draft.text
