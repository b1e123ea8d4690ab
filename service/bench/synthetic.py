"""Synthetic stored claims for the retrieval benchmark: many events, a few outlets each.

A real corpus grows by covering more events, not by writing more about one: so the generator
makes events (a topic, its own places and people, its own figures) and has five outlets report
each with about ten claims, drawn from the event's facts and written in shared news vocabulary
(plus countries and organisations every event may mention). Check queries are a sixth outlet's
claims about a stored event, so each has real evidence to find among everything else.

Rows go in through SQLAlchemy Core in large batches, with the same columns, triggers and
generated search column the service's own inserts fill.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.models import ClaimData, Quantity
from service.store import db, terms
from service.store.tables import ArticleRow, ClaimRow, utcnow

CLAIMS_PER_ARTICLE = 10
OUTLETS_PER_EVENT = 5
FACTS_PER_EVENT = 14
BATCH_ARTICLES = 1000

_SYLLABLES = (
    "ka ro vel bor na tis mar len dor vik sa lo pen gra mi tor zel an ul bre".split()
    + "kov ost ima ruk sel dan fir gol hes jun lap mor nev pra qua rin sta tul".split()
)
_SUFFIXES = "sk grad ovo burg ville ton mir ava ets ino ar".split()
_GIVEN = (
    "Anna Boris Carla Dmitri Elena Farid Greta Hassan Ines Jonas Kira Luis Maya Nikolai".split()
)
_SHARED_ENTITIES = [
    *"Russia Ukraine China Germany France Turkey Brazil India Poland Japan Egypt Kenya".split(),
    *["United Nations", "European Union", "NATO", "Red Cross", "World Bank", "White House"],
]
_COMMON = (
    "officials government forces region people city president ministry reported week "
    "attack military spokesman statement local national police residents area security "
    "health workers border country authorities minister emergency report press agency "
    "troops army town village capital district province support services response crisis"
).split()
_TOPICS = {
    "flood": ("homes", "flooded", "rain", "river", "rescue", "dam", "water"),
    "incursion": ("soldiers", "killed", "drone", "shelling", "positions", "advance", "front"),
    "election": ("votes", "counted", "ballots", "turnout", "polling", "candidate", "seats"),
    "strike": ("workers", "joined", "union", "wages", "walkout", "factories", "pay"),
    "earthquake": (
        "buildings",
        "collapsed",
        "magnitude",
        "aftershock",
        "rubble",
        "quake",
        "epicentre",
    ),
    "wildfire": ("hectares", "burned", "blaze", "firefighters", "evacuation", "smoke", "wind"),
    "outbreak": ("cases", "confirmed", "virus", "hospital", "vaccine", "clinics", "patients"),
    "protest": ("protesters", "arrested", "rally", "march", "square", "demonstrators", "riot"),
    "storm": ("houses", "damaged", "hurricane", "winds", "coast", "landfall", "power"),
    "trade": ("tonnes", "shipped", "exports", "tariffs", "grain", "ports", "cargo"),
}
_VERBS = ("said", "told reporters", "announced", "confirmed", "stated")
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()


@dataclass
class Event:
    number: int
    topic: str
    places: list[str]
    people: list[str]
    facts: list[tuple[str, int, str, str]]  # (subject noun, figure, action, place)


def make_event(number: int, rng: random.Random) -> Event:
    topic = rng.choice(sorted(_TOPICS))
    noun, action, *_ = _TOPICS[topic]
    places = [_name(rng) + rng.choice(_SUFFIXES) for _ in range(3)]
    people = [f"{rng.choice(_GIVEN)} {_name(rng).title()}" for _ in range(2)]
    facts = [
        (
            noun,
            rng.choice((12, 28, 40, 75, 120, 300, 1200, 5000, 121000)) * rng.randint(1, 9),
            action,
            rng.choice(places),
        )
        for _ in range(FACTS_PER_EVENT)
    ]
    return Event(number, topic, places, people, facts)


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(2)).title()


def claim_for(event: Event, fact: int, outlet: int, rng: random.Random) -> tuple[str, list[str]]:
    """One outlet's sentence for one of the event's facts, and the entities it names."""
    noun, figure, action, place = event.facts[fact]
    person = event.people[(fact + outlet) % 2]
    words = rng.sample(_COMMON, 4)
    extra = rng.choice(_TOPICS[event.topic][2:])
    shared = rng.choice(_SHARED_ENTITIES)
    sentence = (
        f"{person} {rng.choice(_VERBS)} {figure:,} {noun} were {action} in {place} on "
        f"{rng.choice(_WEEKDAYS)}, as {words[0]} and {words[1]} in the {extra} {words[2]} "
        f"near {shared} {words[3]}."
    )
    return sentence, [person, place, shared]


def article_claims(event: Event, outlet: int, rng: random.Random) -> tuple[str, list[ClaimData]]:
    facts = rng.sample(range(FACTS_PER_EVENT), CLAIMS_PER_ARTICLE)
    text, claims = "", []
    for fact in facts:
        sentence, entities = claim_for(event, fact, outlet, rng)
        start = len(text)
        text += sentence + " "
        noun, figure, action, _ = event.facts[fact]
        quantity = Quantity(
            text=f"{figure:,} {noun}",
            value=figure,
            unit="count",
            dimension="count",
            measure=f"{noun} {action}",
            stated_value=figure,
        )
        claims.append(
            ClaimData(
                statement=sentence,
                quote=sentence,
                span=(start, start + len(sentence)),
                claimant=entities[0],
                entities=entities,
                quantities=[quantity],
                extractor="synthetic/1",
            )
        )
    return text.strip(), claims


def articles(first_event: int, events: int, seed: int) -> Iterator[tuple[str, list[ClaimData]]]:
    """The stored outlets' articles of events first_event .. first_event+events-1."""
    for number in range(first_event, first_event + events):
        rng = random.Random(f"{seed}:{number}")
        event = make_event(number, rng)
        for outlet in range(OUTLETS_PER_EVENT):
            yield article_claims(event, outlet, rng)


def query_claims(event_number: int, seed: int) -> list[ClaimData]:
    """A further outlet's claims about a stored event: what a check would retrieve for."""
    rng = random.Random(f"{seed}:{event_number}")
    event = make_event(event_number, rng)
    for outlet in range(OUTLETS_PER_EVENT):  # replay the stored outlets' draws
        article_claims(event, outlet, rng)
    return article_claims(event, OUTLETS_PER_EVENT, rng)[1]


def events_for(claims: int) -> int:
    return max(1, claims // (CLAIMS_PER_ARTICLE * OUTLETS_PER_EVENT))


async def fill(engine: AsyncEngine, first_event: int, events: int, seed: int = 1) -> int:
    """Store the articles of `events` events; returns the number of claims written."""
    written = 0
    batch: list[tuple[str, list[ClaimData]]] = []
    for item in articles(first_event, events, seed):
        batch.append(item)
        if len(batch) == BATCH_ARTICLES:
            written += await _write(engine, batch)
            batch = []
    if batch:
        written += await _write(engine, batch)
    return written


async def _write(engine: AsyncEngine, batch: list[tuple[str, list[ClaimData]]]) -> int:
    now = utcnow()
    rows = [
        {
            "text": text,
            "source": "synthetic",
            "content_hash": hashlib.sha256(text.encode()).hexdigest(),
            "created_at": now,
        }
        for text, _ in batch
    ]
    async with engine.begin() as conn:
        hashes = [row["content_hash"] for row in rows]
        await conn.execute(insert(ArticleRow), rows)
        found = await conn.execute(
            select(ArticleRow.content_hash, ArticleRow.id).where(
                ArticleRow.content_hash.in_(hashes)
            )
        )
        ids = dict(found.all())
        claims = []
        for (_text, items), digest in zip(batch, hashes, strict=True):
            for claim in items:
                data = claim.model_dump(mode="json")
                start, end = data.pop("span")
                claims.append(
                    {
                        **data,
                        "article_id": ids[digest],
                        "span_start": start,
                        "span_end": end,
                        "created_at": now,
                    }
                )
        await conn.execute(insert(ClaimRow), claims)
        counts = terms.tally((c["statement"], c["quote"], c["entities"]) for c in claims)
        await terms.add_counts(conn, db.insert_for(conn.dialect.name), counts)
    return len(claims)
