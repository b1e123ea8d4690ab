"""The offline extractor on sentence and clause rules and on the five seed articles."""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from service.llm.base import ArticleContext, DraftClaim, Extractor
from service.llm.offline import OfflineExtractor, extract_drafts, split_sentences
from service.models import Usage
from service.pipeline.quantities import normalize
from service.pipeline.timeref import resolve_time

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
PUBLISHED = date(2024, 8, 12)  # the Monday of Putin's meeting; seed 002 carries this date
CONTEXT = ArticleContext(published_at=PUBLISHED)


def seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


def claims_of(prefix: str) -> list[DraftClaim]:
    return extract_drafts(seed(prefix), CONTEXT)


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


SPLIT_CASES = [
    ("One. Two.", ["One.", "Two."]),
    ("Mr. Putin spoke. Gen. Syrskyi said so.", ["Mr. Putin spoke.", "Gen. Syrskyi said so."]),
    ("Dr. Smith met U.S. officials. They left.", ["Dr. Smith met U.S. officials.", "They left."]),
    ("They advanced 7.5 miles. Then stopped.", ["They advanced 7.5 miles.", "Then stopped."]),
    ("It began on Aug. 8 at dawn. Then more.", ["It began on Aug. 8 at dawn.", "Then more."]),
    (
        '"We will win. We must," he said. Then he left.',
        ['"We will win. We must," he said.', "Then he left."],
    ),
    ("“Why? Because,” Putin said. Fine.", ["“Why? Because,” Putin said.", "Fine."]),
    (
        "Headline without stop\nBody one. Body two!",
        ["Headline without stop", "Body one.", "Body two!"],
    ),
    ("Is it? Yes. 12 died.", ["Is it?", "Yes.", "12 died."]),
    ("Trailing space.   \n\n  Next line.", ["Trailing space.", "Next line."]),
    (
        'He said "no. Then.',
        ['He said "no.', "Then."],
    ),  # an unclosed quote does not swallow the line
    ("Putin vows to 'kick the enemy out' Watch live", ["Putin vows to 'kick the enemy out'"]),
]


@pytest.mark.parametrize(("text", "expected"), SPLIT_CASES)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def claim_for(text: str, published: date | None = PUBLISHED) -> DraftClaim:
    (claim,) = extract_drafts(text, ArticleContext(published_at=published))
    return claim


CLAIMANT_CASES = [
    (
        "The acting governor of Kursk, Alexei Smirnov, said that 12 people had died.",
        "Alexei Smirnov",
    ),
    (
        "Aleksey Smirnov, the acting head of the region, informed Putin that 28 fell.",
        "Aleksey Smirnov",
    ),
    ("Smirnov said 180,000 people had been told to evacuate.", "Smirnov"),
    ("“It is 12,” Putin said.", "Putin"),
    ("“It is 12,” said Andrey Miskov.", "Andrey Miskov"),
    ("“It is 12,” Putin was quoted as saying by Russia’s TASS news agency.", "Putin"),
    (
        "Ukrainian military leader Oleksandr Syrskyi also reported on Monday that 3 fell.",
        "Oleksandr Syrskyi",
    ),
    (
        "In the Belgorod region, Governor Vyacheslav Gladkov announced 3 evacuations.",
        "Vyacheslav Gladkov",
    ),
    ("Mr Putin, in a meeting on Monday, said losses were mounting.", "Putin"),
    (
        "Ukraine controls 1,000 sq km, according to the country's army chief.",
        "the country's army chief",
    ),
    (
        "The governor of the Belgorod region, which neighbors Kursk, said 10,000 fled.",
        "The governor of the Belgorod region",
    ),
    (
        "The governor of Kursk – which Ukraine entered last Tuesday – told Putin that 28 fell.",
        "The governor of Kursk",
    ),
    (
        "12 civilians were killed, the region’s acting governor announced yesterday.",
        "the region’s acting governor",
    ),
    ("An influential Russian military blog Rybar said on Monday that it was so.", "Rybar"),
    ("Gen Oleksandr Syrskyi made the announcement on Monday.", "Oleksandr Syrskyi"),
    ("The BBC correspondent, Gordon Corera, says 3 things.", "Gordon Corera"),
    # not attributions
    ("About 11,000 people were told to leave this morning.", None),  # passive
    ("About 11,000 people were also told to leave.", None),
    ("CNN cannot independently verify Putin’s claims that 12 died.", None),  # a noun
    ("They say the settlement is about 4 kilometers away.", None),
    ("“We said 12 died,” the sign read on Monday.", None),  # "said" inside the quotation
]


@pytest.mark.parametrize(("text", "claimant"), CLAIMANT_CASES)
def test_claimant(text: str, claimant: str | None) -> None:
    claims = extract_drafts(text, CONTEXT)  # a sentence split into clauses keeps its claimant
    assert claims and {c.claimant for c in claims} == {claimant}


def test_he_said_resolves_to_the_last_claimant() -> None:
    text = (
        "The acting governor of Kursk, Alexei Smirnov, said that 12 people had been killed. "
        "He also said that Ukrainian forces have advanced 12 kilometers into Kursk. "
        "“The situation remains difficult,” he says."
    )
    claims = extract_drafts(text, CONTEXT)
    assert [c.claimant for c in claims] == ["Alexei Smirnov"] * 3
    assert claims[1].statement == (
        "Alexei Smirnov also said that Ukrainian forces have advanced 12 kilometers into Kursk."
    )
    assert claims[2].statement == "The situation remains difficult, Alexei Smirnov says."


def test_unattributed_quotation_goes_to_the_last_speaker() -> None:
    text = '"We did it," Smirnov tells Putin.\n"On August 8, we started. The total is 180,000."'
    claims = extract_drafts(text, CONTEXT)
    assert [c.claimant for c in claims] == ["Smirnov", "Smirnov"]
    assert claims[1].statement == "Smirnov said: On August 8, we started. The total is 180,000."
    assert claims[1].event_date == date(2024, 8, 8)


def test_surname_takes_the_full_name_the_chunk_gives() -> None:
    text = "Russian President Vladimir Putin met officials. Putin said 12 people had been killed."
    (claim,) = extract_drafts(text, CONTEXT)
    assert claim.claimant == "Vladimir Putin"
    assert claim.entities == ["Vladimir Putin"]


ENTITY_CASES = [
    (
        "In the neighboring Belgorod region in southern Russia, Governor Vyacheslav Gladkov "
        "announced the relocation of residents from the Krasnoyaruzhsky district.",
        ["Belgorod", "Russia", "Vyacheslav Gladkov", "Krasnoyaruzhsky"],
    ),
    (
        "On Monday, the Ministry of Defense and the International Criminal Court met in August.",
        ["Ministry of Defense", "International Criminal Court"],
    ),
    (
        "Zelensky noted that Russia launched about 2,000 strikes from Kursk into Ukraine’s Sumy "
        "region.",
        ["Zelensky", "Russia", "Kursk", "Ukraine", "Sumy"],
    ),
    ("Meanwhile, the Ukrainian military chief said 3 fell.", []),
]


@pytest.mark.parametrize(("text", "entities"), ENTITY_CASES)
def test_entities(text: str, entities: list[str]) -> None:
    assert claim_for(text).entities == entities


@pytest.mark.parametrize(
    "text",
    [
        "Comments are closed.",
        "Let your voice be heard! Share your thoughts and ignite discussions.",
        "Watch live",
        "The extent of the operation remains unclear.",  # nothing to check
        " date 2024-08-12 Moscow, Kyiv (Al-Ittihad, agencies)",  # a dateline, no claim
    ],
)
def test_not_check_worthy(text: str) -> None:
    assert extract_drafts(text, CONTEXT) == []


# --- the seeds ----------------------------------------------------------------------------------

SEED_PREFIXES = ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("prefix", SEED_PREFIXES)
def test_every_quote_is_verbatim(prefix: str) -> None:
    text = seed(prefix)
    claims = claims_of(prefix)
    assert len(claims) >= 8
    for claim in claims:
        assert text.find(claim.quote) >= 0, claim.quote
        assert claim.quote == claim.quote.strip()
        assert not claim.quote.startswith(("and ", "but ", "while ", ", "))
        assert not claim.quote.endswith((",", ";", "–", " -"))
        assert claim.statement
        assert not claim.statement.startswith(("“", '"'))
    assert all("Comments are closed" not in c.quote for c in claims)


@pytest.mark.parametrize("prefix", SEED_PREFIXES)
def test_every_seed_figure_normalizes(prefix: str) -> None:
    for claim in claims_of(prefix):
        for q in claim.quantities:
            assert normalize(q) is not None, q


def quantities_with(prefix: str, needle: str) -> list[tuple[DraftClaim, list]]:
    return [(c, c.quantities) for c in claims_of(prefix) if needle in c.quote]


@pytest.mark.parametrize("prefix", ["001", "003"])
def test_parenthesised_conversion_is_one_length(prefix: str) -> None:
    ((claim, _),) = quantities_with(prefix, "7.5 miles (12 kilometers)")
    lengths = [q for q in map(normalize, claim.quantities) if q and q.text.startswith("7.5")]
    assert len(lengths) == 1
    (q,) = lengths
    assert q.unit == "km" and q.dimension == "length" and abs(q.value - 12) <= 0.1
    assert q.text == "7.5 miles (12 kilometers)" and q.qualifier == "about"
    assert not any(n and n.value == 7.5 for n in map(normalize, claim.quantities))


@pytest.mark.parametrize(
    ("prefix", "needle"),
    [
        ("000", "12 people had been killed and 121 others had been injured"),
        ("002", "At least 12 civilians were killed and 121 others injured"),
        ("004", "12 civilians have been killed in the region and 121 others wounded"),
    ],
)
def test_killed_and_injured_are_separate(prefix: str, needle: str) -> None:
    ((claim, quantities),) = quantities_with(prefix, needle)
    by_value = {q.value: q.measure for q in quantities}
    assert "killed" in by_value[12]
    assert "injured" in by_value[121]
    assert claim.claimant in {"Alexei Smirnov", "Smirnov", "the region’s acting governor"}


@pytest.mark.parametrize(
    ("prefix", "noun"),
    [
        ("000", "settlements"),
        ("001", "settlements"),
        ("002", "towns"),
        ("003", "settlements"),
        ("004", "villages"),
    ],
)
def test_twenty_eight_places(prefix: str, noun: str) -> None:
    found = [q for c in claims_of(prefix) for q in c.quantities if q.value == 28]
    assert found
    assert all(q.measure == f"{noun} controlled" for q in found)


def test_seed_002_penetrated_30_km() -> None:
    ((_, quantities),) = quantities_with("002", "penetrated 30 kilometers")
    (q,) = [n for n in map(normalize, quantities) if n and n.dimension == "length"]
    assert (q.value, q.unit, q.measure) == (30, "km", "advance")


def test_seed_002_on_tuesday() -> None:
    ((claim, _),) = quantities_with("002", "Putin on Tuesday ordered")
    assert claim.time_text == "on Tuesday"
    ref = resolve_time(claim.time_text, PUBLISHED, claim.event_date)
    assert ref.weekday == "Tuesday" and ref.date == date(2024, 8, 6)


def test_seed_004_last_tuesday_and_august_8() -> None:
    dates = {c.time_text: c.event_date for c in claims_of("004") if c.time_text}
    assert dates["last Tuesday"] == date(2024, 8, 6)
    assert dates["On August 8"] == date(2024, 8, 8)
    assert dates["this morning"] == PUBLISHED


def test_two_thousands_measure_different_things() -> None:
    ((_, citizens),) = quantities_with("004", "about 2,000 Russian citizens remain")
    ((_, strikes),) = quantities_with("002", "about 2,000 cross-border strikes")
    (a,), (b,) = citizens, strikes
    assert a.value == b.value == 2000 and a.qualifier == b.qualifier == "about"
    assert a.measure == "citizens remaining" and b.measure == "strikes launched"


def test_evacuated_and_told_to_evacuate_differ() -> None:
    ((_, quantities),) = quantities_with("003", "180,000 people had been told to evacuate")
    assert {q.value: q.measure for q in quantities} == {
        180000: "people told to evacuate",
        121000: "people evacuated",
    }


def test_seed_claimants() -> None:
    claimants = {c.claimant for c in claims_of("001")}
    assert {
        "Aleksey Smirnov",
        "Oleksandr Syrskyi",
        "Vyacheslav Gladkov",
        "Andrey Miskov",
    } <= claimants
    assert "Vladimir Putin" in {c.claimant for c in claims_of("003")}


# --- clauses: one claim per fact ---------------------------------------------------------------

CLAUSE_CASES = [
    # sentence → (quote, statement) per claim
    (
        "Ukrainian forces advanced 12 km on Sunday and took 28 villages on Monday.",
        [
            (
                "Ukrainian forces advanced 12 km on Sunday",
                "Ukrainian forces advanced 12 km on Sunday.",
            ),
            ("took 28 villages on Monday", "Ukrainian forces took 28 villages on Monday."),
        ],
    ),
    (
        "The incursion, which is now affecting two Russian regions, has displaced 5,000 people.",
        [
            (
                "which is now affecting two Russian regions",
                "The incursion is now affecting two Russian regions.",
            ),
            ("has displaced 5,000 people", "The incursion has displaced 5,000 people."),
        ],
    ),
    (
        "Putin said that 3 regions were hit, and that 28 villages had fallen.",
        [
            ("Putin said that 3 regions were hit", "Putin said that 3 regions were hit."),
            ("that 28 villages had fallen", "Putin said that 28 villages had fallen."),
        ],
    ),
    (
        "Zelensky said Kyiv had taken 1,000 sq km, adding that 80 soldiers were captured.",
        [
            (
                "Zelensky said Kyiv had taken 1,000 sq km",
                "Zelensky said Kyiv had taken 1,000 sq km.",
            ),
            (
                "adding that 80 soldiers were captured",
                "Zelensky added that 80 soldiers were captured.",
            ),
        ],
    ),
    (
        "The army seized 12 villages on Tuesday, while Russia evacuated 5,000 people.",
        [
            ("The army seized 12 villages on Tuesday", "The army seized 12 villages on Tuesday."),
            ("Russia evacuated 5,000 people", "Russia evacuated 5,000 people."),
        ],
    ),
    (
        "Officials said 500 homes were destroyed; 40 people remain missing.",
        [
            ("Officials said 500 homes were destroyed", "Officials said 500 homes were destroyed."),
            ("40 people remain missing", "40 people remain missing."),
        ],
    ),
]


@pytest.mark.parametrize(("sentence", "expected"), CLAUSE_CASES)
def test_one_claim_per_fact_bearing_clause(sentence: str, expected: list[tuple[str, str]]) -> None:
    claims = extract_drafts(sentence, CONTEXT)
    assert [(c.quote, c.statement) for c in claims] == expected
    assert all(c.quote in sentence for c in claims)


@pytest.mark.parametrize(
    "sentence",
    [
        # one event's figures: a new subject and verb, but the same predicate family
        "Smirnov said 12 people were killed and 121 others were injured on Monday.",
        "Smirnov reported that 180,000 people had been advised to evacuate, with 121,000 "
        "already leaving the area.",
        "Smirnov said 180,000 people had been told to evacuate and that 121,000 have left.",
        # facts in one clause only, however many clauses
        "Reports indicate that forces have deployed in many areas, while Russian authorities "
        "have evacuated tens of thousands of residents.",
        "On Monday, the Ministry of Defense and the Court met with 3 envoys.",
        # joints inside a quotation, parentheses or a figure do not split
        "“The number of deaths is 12, the number of wounded is 121,” Smirnov said.",
        "Forces advanced 7.5 miles (12 kilometers, and more) on Monday.",
        "Between 10 and 15 people were hurt on Monday.",
    ],
)
def test_sentence_with_one_fact_bearing_clause_stays_whole(sentence: str) -> None:
    (claim,) = extract_drafts(sentence, CONTEXT)
    assert claim.quote == sentence


def test_seed_002_first_sentence_is_three_claims() -> None:
    text = seed("002")
    sentence = next(
        text[a:b] for a, b in split_sentences(text) if "lightning offensive" in text[a:b]
    )
    claims = [c for c in claims_of("002") if c.quote in sentence]
    assert len(claims) == 3
    spans = [(text.find(c.quote), text.find(c.quote) + len(c.quote)) for c in claims]
    assert len(set(spans)) == 3 and all(a >= 0 for a, _ in spans)
    assert all(end <= start for (_, end), (start, _) in pairwise(spans))  # in order, apart
    dated, towns, fled = claims
    assert dated.time_text == "on Tuesday" and dated.quantities == []
    assert dated.statement.index("Putin") < dated.statement.index("on Tuesday")
    assert dated.event_date == date(2024, 8, 6)
    assert [(q.value, q.measure) for q in towns.quantities] == [(28, "towns controlled")]
    assert towns.time_text is None and "28 towns" in towns.statement
    assert [(q.value, q.measure) for q in fled.quantities] == [(120000, "civilians evacuated")]
    assert fled.time_text is None and fled.quote == "forced 120,000 civilians to flee"
    # the figures count in the sentence's place, and the subject is a person
    assert all("Kursk region" in c.entities for c in (towns, fled))
    assert all("Vladimir Putin" in c.entities for c in claims)


def test_seed_000_monday_meeting_names_putin_first() -> None:
    (claim,) = [c for c in claims_of("000") if c.time_text == "on Monday" and "Putin" in c.quote]
    assert claim.quote == (
        "Putin held a meeting on Monday with national security officials and authorities from "
        "three of the regions that border Ukraine."
    )
    assert claim.statement.index("Putin") < claim.statement.index("on Monday")
    assert "Vladimir Putin" in claim.entities


def test_seed_000_advance_and_settlements_are_two_claims() -> None:
    advance, settlements = [
        c
        for c in claims_of("000")
        if "28 settlements" in c.statement or "12 kilometers" in c.statement
    ]
    assert [q.measure for q in advance.quantities] == ["advance"]
    assert settlements.quote == "taken control of 28 settlements"
    assert settlements.statement == (
        "Alexei Smirnov also said that Ukrainian forces have taken control of 28 settlements."
    )
    assert settlements.claimant == "Alexei Smirnov"


def test_seed_004_date_of_the_incursion_is_not_the_governors() -> None:
    claims = [c for c in claims_of("004") if c.time_text == "last Tuesday"]
    assert claims and all(c.quote == "which Ukraine entered last Tuesday" for c in claims)
    assert all(
        c.statement == "The Kursk region, which Ukraine entered last Tuesday." for c in claims
    )
    villages = [c for c in claims_of("004") if c.quote.startswith("told Putin that")]
    assert villages and all(c.time_text is None for c in villages)
    assert villages[0].statement.startswith("The governor of the Kursk region told Putin")


@pytest.mark.parametrize(
    ("prefix", "needle", "values"),
    [
        ("001", "180,000 people had been advised to evacuate", {180000, 121000}),
        ("004", "121,000 people have now been evacuated", {121000, 59000}),
        ("003", "180,000 people had been told to evacuate", {180000, 121000}),
    ],
)
def test_evacuation_figures_of_one_event_stay_together(
    prefix: str, needle: str, values: set[float]
) -> None:
    ((_, quantities),) = quantities_with(prefix, needle)
    assert {q.value for q in quantities} == values


def test_seed_claim_counts() -> None:
    # offline-rules/1 gave 14, 8, 13, 13, 22: the splits are the ones the tests above name.
    counts = [len(claims_of(prefix)) for prefix in SEED_PREFIXES]
    assert counts == [15, 8, 16, 14, 24]


# --- the protocol -------------------------------------------------------------------------------


async def test_extractor_protocol() -> None:
    extractor: Extractor = OfflineExtractor()
    assert isinstance(extractor, Extractor)
    assert (extractor.name, extractor.model, extractor.prompt_version) == (
        "offline-rules/2",
        None,
        None,
    )
    extraction = await extractor.extract(seed("000"), CONTEXT)
    assert extraction.usage == Usage()
    assert extraction.claims == claims_of("000")


async def test_extract_without_publication_date() -> None:
    extraction = await OfflineExtractor().extract(seed("002"), ArticleContext())
    by_time = {c.time_text: c.event_date for c in extraction.claims if c.time_text}
    assert by_time["on Tuesday"] is None
    assert by_time["yesterday"] is None


async def test_extract_empty_chunk() -> None:
    assert (await OfflineExtractor().extract("", CONTEXT)).claims == []
