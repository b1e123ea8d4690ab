"""Finding the event's time in a sentence and resolving it against the publication date."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from service.pipeline.timeref import find_time, resolve_time

FIND_CASES = [
    ("On Monday, Ukrainian media outlets released video footage.", "On Monday"),
    ("Putin held a meeting on Monday with officials.", "on Monday"),
    ("Kyiv launched a surprise attack on Russian territory last Tuesday.", "last Tuesday"),
    ("They will meet next Friday.", "next Friday"),
    ("We met on Monday morning.", "on Monday morning"),
    ("the region's acting governor announced yesterday.", "yesterday"),
    ("about 11,000 people were told to leave this morning.", "this morning"),
    ("The strike happened last night.", "last night"),
    ('"On August 8, we started [evacuating] all of the six border districts."', "On August 8"),
    ("It began on 12 August 2024 at dawn.", "on 12 August 2024"),
    ("It began on Aug. 8, 2024.", "on Aug. 8, 2024"),
    (" date 2024-08-12 Moscow, Kyiv (Al-Ittihad, agencies)", "2024-08-12"),
    ("It was signed 12/08/2024.", "12/08/2024"),
    ("the war that began in February 2022.", "in February 2022"),
    ("since the Russian invasion began in 2022.", "in 2022"),
    ("until last week Kyiv had not launched any incursion.", "last week"),
    # the most specific expression wins over an earlier, vaguer one
    ("Putin on Tuesday ruled out talks on the war that began in February 2022.", "on Tuesday"),
    ("In 2022, on Monday, it began.", "on Monday"),
    # no time
    ("The extent of the operation remains unclear.", None),
    ("Prices may rise in the spring.", None),  # "may" is not May
    ("The 2,000 strikes continued.", None),
    ("", None),
]


@pytest.mark.parametrize(("sentence", "expected"), FIND_CASES)
def test_find_time(sentence: str, expected: str | None) -> None:
    assert find_time(sentence) == expected


MONDAY, TUESDAY, SUNDAY = date(2024, 8, 12), date(2024, 8, 13), date(2024, 8, 11)

RESOLVE_CASES = [
    # text, published, date, weekday
    ("on Monday", MONDAY, date(2024, 8, 12), "Monday"),  # the publication day itself
    ("on Monday", TUESDAY, date(2024, 8, 12), "Monday"),
    ("on Monday", SUNDAY, date(2024, 8, 5), "Monday"),  # across the week boundary
    ("Monday", MONDAY, date(2024, 8, 12), "Monday"),
    ("On Monday morning", TUESDAY, date(2024, 8, 12), "Monday"),
    ("on Tuesday", MONDAY, date(2024, 8, 6), "Tuesday"),
    ("on Tuesday", TUESDAY, date(2024, 8, 13), "Tuesday"),
    ("on Tuesday", SUNDAY, date(2024, 8, 6), "Tuesday"),
    ("on Sunday", MONDAY, date(2024, 8, 11), "Sunday"),
    ("on Sunday", SUNDAY, date(2024, 8, 11), "Sunday"),
    ("on saturday", SUNDAY, date(2024, 8, 10), "Saturday"),
    # "last" is strictly before the publication day
    ("last Monday", MONDAY, date(2024, 8, 5), "Monday"),
    ("last Monday", TUESDAY, date(2024, 8, 12), "Monday"),
    ("last Tuesday", MONDAY, date(2024, 8, 6), "Tuesday"),
    ("last Tuesday", TUESDAY, date(2024, 8, 6), "Tuesday"),
    ("last Sunday", SUNDAY, date(2024, 8, 4), "Sunday"),
    ("last Sunday", MONDAY, date(2024, 8, 11), "Sunday"),
    ("next Monday", MONDAY, date(2024, 8, 19), "Monday"),
    ("next Monday", SUNDAY, date(2024, 8, 12), "Monday"),
    # days relative to publication
    ("yesterday", MONDAY, date(2024, 8, 11), "Sunday"),
    ("yesterday", date(2024, 3, 1), date(2024, 2, 29), "Thursday"),  # leap day
    ("today", TUESDAY, date(2024, 8, 13), "Tuesday"),
    ("this morning", MONDAY, date(2024, 8, 12), "Monday"),
    ("last night", SUNDAY, date(2024, 8, 10), "Saturday"),
    # explicit dates: the year of publication, never after it
    ("On August 8", MONDAY, date(2024, 8, 8), "Thursday"),
    ("August 13", MONDAY, date(2023, 8, 13), "Sunday"),
    ("August 13", TUESDAY, date(2024, 8, 13), "Tuesday"),
    ("on December 31", date(2025, 1, 2), date(2024, 12, 31), "Tuesday"),
    ("12 August 2024", SUNDAY, date(2024, 8, 12), "Monday"),
    ("on 8th of August", MONDAY, date(2024, 8, 8), "Thursday"),
    ("Aug. 8, 2023", MONDAY, date(2023, 8, 8), "Tuesday"),
    ("2024-08-12", None, date(2024, 8, 12), "Monday"),
    ("12 August 2024", None, date(2024, 8, 12), "Monday"),
    # not a day
    ("in February 2022", MONDAY, None, None),
    ("in 2022", MONDAY, None, None),
    ("last week", MONDAY, None, None),
    ("this year", MONDAY, None, None),
    ("February 30", MONDAY, None, None),
    # without a publication date only the weekday is known
    ("on Monday", None, None, "Monday"),
    ("last Tuesday", None, None, "Tuesday"),
    ("yesterday", None, None, None),
    ("August 8", None, None, None),
]


@pytest.mark.parametrize(("text", "published", "expected", "weekday"), RESOLVE_CASES)
def test_resolve_time(
    text: str, published: date | None, expected: date | None, weekday: str | None
) -> None:
    ref = resolve_time(text, published)
    assert (ref.text, ref.date, ref.weekday) == (text, expected, weekday)


def test_publication_datetime_counts_as_its_day() -> None:
    ref = resolve_time("on Monday", datetime(2024, 8, 12, 23, 59))
    assert ref.date == date(2024, 8, 12)


def test_llm_date_is_kept_and_weekday_comes_from_the_text() -> None:
    ref = resolve_time("on Tuesday", MONDAY, event_date=date(2024, 8, 12))
    assert (ref.date, ref.weekday) == (date(2024, 8, 12), "Tuesday")


def test_llm_date_is_kept_and_weekday_comes_from_the_date() -> None:
    ref = resolve_time("yesterday", MONDAY, event_date=date(2024, 8, 1))
    assert (ref.date, ref.weekday) == (date(2024, 8, 1), "Thursday")


def test_llm_date_without_publication_date() -> None:
    ref = resolve_time("2024-08-06", None, event_date=date(2024, 8, 6))
    assert (ref.date, ref.weekday) == (date(2024, 8, 6), "Tuesday")
