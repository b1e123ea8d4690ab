"""Re-ranking the index's candidates: which of them comparison gets to see."""

from __future__ import annotations

from datetime import date

from service.models import ClaimData, ClaimOut, TimeRef
from service.pipeline.retrieve import KEEP_PER_CLAIM, name_words, rerank
from service.store.base import Candidate


def claim(statement: str, entities: list[str], day: date | None = None) -> ClaimData:
    time = TimeRef(text="on that day", date=day) if day else None
    return ClaimData(
        statement=statement,
        quote=statement,
        span=(0, len(statement)),
        entities=entities,
        time=time,
        extractor="test",
    )


def candidate(data: ClaimData, claim_id: int, rank: float) -> Candidate:
    out = ClaimOut(**data.model_dump(), id=claim_id, article_id=claim_id)
    return Candidate(claim=out, source="outlet", url=None, title=None, rank=rank)


def test_a_name_is_its_telling_words() -> None:
    assert name_words("Vladimir Putin") == {"vladimir", "putin"}
    assert name_words("Mr Putin") == {"putin"}
    assert name_words("Kursk region") == {"kursk"}
    assert name_words("acting governor") == frozenset()


def test_one_person_named_two_ways_counts_as_shared() -> None:
    checked = claim("Vladimir Putin ordered the army to expel the troops.", ["Vladimir Putin"])
    putin = candidate(claim("Mr Putin held a meeting.", ["Mr Putin"]), 1, rank=0.9)
    other = candidate(claim("Zelensky held a meeting.", ["Volodymyr Zelensky"]), 2, rank=1.0)
    assert [c.claim.id for c in rerank(checked, [other, putin])] == [1, 2]


def test_a_shared_kind_of_place_is_not_a_shared_place() -> None:
    checked = claim("Residents of the Kursk region left.", ["Kursk region"])
    belgorod = candidate(
        claim("Residents of the Belgorod region left.", ["Belgorod region"]), 1, 0.9
    )
    kursk = candidate(claim("People left Kursk.", ["Kursk"]), 2, rank=0.85)
    other = candidate(claim("Residents left.", []), 3, rank=1.0)
    assert [c.claim.id for c in rerank(checked, [belgorod, other, kursk])] == [2, 3, 1]


def test_a_dated_act_of_the_same_person_is_kept_over_undated_ones() -> None:
    """What the date rule needs to compare: "Putin on Tuesday" against "Putin on Monday"."""
    checked = claim(
        "Putin on Tuesday ordered the army to expel the troops.",
        ["Vladimir Putin"],
        date(2024, 8, 13),
    )
    undated = [
        candidate(claim(f"Putin said thing {i}.", ["Vladimir Putin"]), i, rank=1.0)
        for i in range(KEEP_PER_CLAIM)
    ]
    monday = candidate(
        claim("Putin held a meeting on Monday.", ["Vladimir Putin"], date(2024, 8, 12)), 99, 0.8
    )
    kept = rerank(checked, [*undated, monday])
    assert len(kept) == KEEP_PER_CLAIM
    assert kept[0].claim.id == 99


def test_a_date_alone_adds_nothing() -> None:
    """Without a person or place in common, two dates are two events (service.pipeline.evidence)."""
    checked = claim("Putin on Tuesday ordered the army out.", ["Vladimir Putin"], date(2024, 8, 13))
    dated = candidate(
        claim("Storms hit the coast on Monday.", ["Florida"], date(2024, 8, 12)), 1, 0.8
    )
    undated = candidate(claim("The army moved.", []), 2, rank=1.0)
    assert [c.claim.id for c in rerank(checked, [dated, undated])] == [2, 1]
