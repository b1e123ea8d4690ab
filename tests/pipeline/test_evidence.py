"""What the rules may compare: places, actors, claimants; and how pairs reach the judge."""

from __future__ import annotations

import pytest

from service.llm.base import Judgement, JudgePair, Judging
from service.models import ClaimData, ClaimOut, Quantity, TimeRef, Usage
from service.pipeline.evidence import (
    actors,
    assess,
    claimants_differ,
    comparable_places,
    places,
    same_actor,
)
from service.store.base import Candidate


def claim(statement: str, *, entities=(), claimant=None, quantities=(), time=None) -> ClaimData:
    return ClaimData(
        statement=statement,
        quote=statement,
        span=(0, len(statement)),
        claimant=claimant,
        entities=list(entities),
        quantities=list(quantities),
        time=time,
        extractor="test",
    )


def stored(data: ClaimData, claim_id: int, article_id: int) -> Candidate:
    out = ClaimOut(**data.model_dump(), id=claim_id, article_id=article_id)
    return Candidate(claim=out, source=f"outlet{article_id}", url=None, title=None, rank=1.0)


def count(value: float, measure: str, text: str | None = None) -> Quantity:
    return Quantity(
        text=text or f"{value:,.0f}",
        value=value,
        unit="count",
        dimension="count",
        measure=measure,
        stated_value=value,
    )


MONDAY = TimeRef(text="on Monday", weekday="Monday")
TUESDAY = TimeRef(text="on Tuesday", weekday="Tuesday")


@pytest.mark.parametrize(
    ("statement", "entities", "expected"),
    [
        ("Fighting in the Kursk region.", [], {"kursk"}),
        (
            "Residents of Krasnoyaruzhsky district left.",
            ["Belgorod region"],
            {"krasnoyaruzhsky", "belgorod"},
        ),
        ("Ukrainian forces advanced.", ["Ukraine"], set()),
    ],
)
def test_places(statement: str, entities: list[str], expected: set[str]) -> None:
    assert places(claim(statement, entities=entities)) == expected


def test_figures_in_different_regions_are_not_compared() -> None:
    kursk = claim("120,000 civilians fled the Kursk region.", entities=["Kursk region"])
    belgorod = claim("10,000 people fled the Belgorod region.", entities=["Belgorod region"])
    unplaced = claim("Russian authorities evacuated tens of thousands.")
    assert not comparable_places(kursk, belgorod)
    assert comparable_places(kursk, unplaced)
    assert comparable_places(kursk, claim("In the Kursk region 121,000 left."))


def test_actor_is_named_before_the_time() -> None:
    ordered = claim(
        "Vladimir Putin on Tuesday ordered the army to expel Ukrainian units.",
        entities=["Vladimir Putin", "Kursk region"],
        time=TUESDAY,
    )
    assert actors(ordered) == ({"putin"}, set())
    told = claim(
        "The governor, whose region Ukraine entered last Tuesday, told Putin of 28 villages.",
        entities=["Putin", "Ukraine"],
        time=TimeRef(text="last Tuesday", weekday="Tuesday"),
    )
    assert actors(told) == (set(), {"ukraine"})
    said = claim(
        "Smirnov said evacuations started on August 8.",
        entities=["Alexei Smirnov"],
        claimant="Alexei Smirnov",
        time=TimeRef(text="on August 8"),
    )
    assert actors(said) == ({"smirnov"}, set())  # a speaker acts too: he said it that day


def test_same_actor_matches_surname_to_full_name() -> None:
    full = claim("Vladimir Putin on Tuesday ordered.", entities=["Vladimir Putin"], time=TUESDAY)
    short = claim("Putin held a meeting on Monday.", entities=["Putin"], time=MONDAY)
    other = claim("Zelensky held a meeting on Monday.", entities=["Zelensky"], time=MONDAY)
    assert same_actor(full, short) and same_actor(short, full)
    assert not same_actor(full, other)
    assert not same_actor(short, other)  # one-word names alone never make an actor


async def test_dates_far_apart_are_different_events_not_a_conflict() -> None:
    from datetime import date

    def dated(day: int, weekday: str) -> ClaimData:
        return claim(
            f"Smirnov said on {weekday} that people were evacuated.",
            entities=["Alexei Smirnov"],
            time=TimeRef(text=f"on {weekday}", date=date(2024, 8, day), weekday=weekday),
        )

    monday, tuesday, thursday_before = (
        dated(12, "Monday"),
        dated(13, "Tuesday"),
        dated(8, "Thursday"),
    )
    near = await assess([monday], [[stored(tuesday, 1, 10)]], None)
    assert [a.relation for a in near.per_claim[0]] == ["conflicts"]
    far = await assess([monday], [[stored(thursday_before, 2, 11)]], None)
    assert far.per_claim[0] == []


@pytest.mark.parametrize(
    ("a", "b", "differ"),
    [
        ("Alexei Smirnov", "Aleksey Smirnov", False),
        ("acting governor Smirnov", "Alexei Smirnov", False),
        ("Vyacheslav Gladkov", "Andrey Miskov", True),
        (None, "Andrey Miskov", False),
    ],
)
def test_claimants_differ(a: str | None, b: str | None, differ: bool) -> None:
    assert claimants_differ(a, b) is differ


class CountingJudge:
    """A real Judge behind the interface: answers from a table and records its calls."""

    model = "table"
    prompt_version = "judge@test"

    def __init__(self, answers: dict[tuple[str, str], str]) -> None:
        self.answers = answers
        self.calls: list[list[JudgePair]] = []

    async def judge(self, pairs: list[JudgePair]) -> Judging:
        self.calls.append(pairs)
        judgements = [
            Judgement(
                pair_id=p.pair_id,
                relation=self.answers.get((p.claim, p.evidence), "unrelated"),
                explanation="table",
            )
            for p in pairs
        ] + [Judgement(pair_id="c99-e99", relation="supports", explanation="invented id")]
        return Judging(judgements, Usage(llm_calls=1, prompt_tokens=10, completion_tokens=5))


async def test_rules_settle_figures_and_the_judge_gets_only_open_pairs() -> None:
    checked = [
        claim(
            "Ukrainian forces advanced 30 km into the Kursk region.",
            entities=["Kursk region"],
            quantities=[
                Quantity(
                    text="30 km",
                    value=30,
                    unit="km",
                    dimension="length",
                    measure="advance",
                    stated_value=30,
                )
            ],
        ),
        claim(
            "Putin vowed to expel Ukrainian forces from the Kursk region.",
            entities=["Vladimir Putin", "Kursk region"],
        ),
    ]
    twelve = stored(
        claim(
            "Troops advanced 12 km into the Kursk region.",
            entities=["Kursk region"],
            quantities=[
                Quantity(
                    text="12 km",
                    value=12,
                    unit="km",
                    dimension="length",
                    measure="advance",
                    stated_value=12,
                )
            ],
        ),
        1,
        10,
    )
    kick = stored(
        claim(
            "Putin promised to kick Ukrainian forces out of the Kursk region.",
            entities=["Vladimir Putin"],
        ),
        2,
        11,
    )
    judge = CountingJudge(
        {
            (checked[1].statement, kick.claim.statement): "supports",
            # Never asked: the rules settled this pair, and the judge cannot overturn them.
            (checked[0].statement, twelve.claim.statement): "supports",
        }
    )
    result = await assess(checked, [[twelve, kick], [kick, twelve]], judge, batch_claims=8)

    first, second = result.per_claim
    assert [(a.relation, a.method) for a in first] == [("conflicts", "rules")]
    assert [(a.relation, a.method) for a in second] == [("supports", "llm")]
    assert len(judge.calls) == 1  # one call for the batch, never one per pair
    asked = {(p.claim, p.evidence) for p in judge.calls[0]}
    assert (checked[0].statement, twelve.claim.statement) not in asked
    assert (checked[1].statement, kick.claim.statement) in asked
    assert result.usage.llm_calls == 1


async def test_judge_calls_are_bounded_by_batches_of_claims() -> None:
    evidence = stored(claim("Putin held talks on Kursk with officials."), 1, 10)
    checked = [claim(f"Putin held talks on Kursk number {n}.") for n in range(10)]
    judge = CountingJudge({})
    await assess(checked, [[evidence]] * 10, judge, batch_claims=4)
    assert len(judge.calls) == 3  # ceil(10 / 4)
    assert sum(len(call) for call in judge.calls) == 10


def test_district_figures_compare_only_with_the_same_district() -> None:
    district = claim("About 11,000 residents of Krasnoyaruzhsky district were evacuated.")
    overall = claim("Russian authorities have evacuated tens of thousands of residents.")
    same = claim("Some 11,000 left the Krasnoyaruzhsky district, Miskov said.")
    assert not comparable_places(district, overall)
    assert comparable_places(district, same)


async def test_figures_an_order_of_magnitude_apart_count_different_scopes() -> None:
    evacuated = claim(
        "He said 121,000 people had been evacuated.",
        quantities=[count(121_000, "people evacuated")],
    )
    belgorod = stored(
        claim(
            "The governor of the Belgorod region said around 10,000 people had fled.",
            quantities=[count(10_000, "people fled")],
        ),
        1,
        10,
    )
    misreported = stored(
        claim(
            "Officials said 50,000 people had been evacuated.",
            quantities=[count(50_000, "people evacuated")],
        ),
        2,
        11,
    )
    result = await assess([evacuated], [[belgorod, misreported]], None)
    assert [(a.candidate.claim.id, a.relation) for a in result.per_claim[0]] == [(2, "conflicts")]
    # Named in both, the same place makes even distant figures comparable.
    kursk = claim("121,000 left the Kursk region.", quantities=[count(121_000, "people left")])
    kursk_low = stored(
        claim("In the Kursk region 10,000 left.", quantities=[count(10_000, "people left")]), 3, 12
    )
    same_place = await assess([kursk], [[kursk_low]], None)
    assert [a.relation for a in same_place.per_claim[0]] == ["conflicts"]


async def test_retrieval_bounds_concurrent_searches() -> None:
    import asyncio

    from service.pipeline.retrieve import SEARCH_CONCURRENCY, retrieve

    class CountingStore:
        running = peak = 0

        calls = 0

        async def search_claims(self, queries, exclude, limit):
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
            await asyncio.sleep(0.001)
            self.running -= 1
            return [[] for _ in queries]

    store = CountingStore()
    claims = [claim(f"Officials said {n} people left Kursk.") for n in range(50)]
    assert await retrieve(claims, store, set()) == [[]] * 50  # type: ignore[arg-type]
    # 50 claims in SEARCH_CONCURRENCY calls, all at once: not 50 connections.
    assert store.peak == store.calls == SEARCH_CONCURRENCY
