"""What the fake LLM answers: claims read from the article by rule, one judgement per pair.

The fake is a stand-in model, not a mock of the service: it reads the prompt the service sent
(the rendered prompts/*.toml) and answers what a diligent model would, cheaply enough that its
own CPU time does not distort a benchmark.

Extraction (the `<article>` block of prompts/extract_claims.toml): every sentence that states a
figure, a time or what a named person said is one claim. Its `quote` is the sentence exactly as
written (so it passes grounding); figures come from the service's own figure reader
(service.pipeline.quantities), times are resolved against the publication date in the prompt.
The statement names the outlet ("According to <Outlet>, ..."), as models making a statement
self-contained often do; it also keeps two benchmark articles built from the same seed sentences
from sharing judge-cache entries, while a repeated article gets the same statements.

Judge (the `<pairs>` block of prompts/judge_pairs.toml): one judgement per pair_id sent;
`supports` when claim and evidence share a figure, otherwise `unrelated`.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import lru_cache
from typing import Any, Literal

from service.llm.offline import split_sentences
from service.pipeline.quantities import locate_quantities
from service.pipeline.timeref import find_time, resolve_time

Kind = Literal["extraction", "judge"]

_ARTICLE = re.compile(r"<article>\n(.*)\n</article>", re.S)
_PAIRS = re.compile(r"<pairs>\n(.*)\n</pairs>", re.S)
_PUBLISHED = re.compile(r"Publication date: (\d{4}-\d{2}-\d{2})")
_OUTLET = re.compile(r"Outlet: (.+)")
_REPORTING = re.compile(r"\b(?:said|says|told|announced|added|noted|reported|stated)\b")
_NAME = re.compile(r"[A-Z][\w’'-]+(?:\s+(?:of\s+)?[A-Z][\w’'-]+)*(?:\s+(?:region|district))?")
_FUNCTION_WORDS = frozenset(
    "The A An In On At But And He She It They We This That His Her Its Their Some About "
    "Meanwhile However After Before While When If As According".split()
)
_NOT_NAMES = _FUNCTION_WORDS | frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May "
    "June July August September October November December".split()
)
_FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?")


def request_kind(user_message: str) -> Kind | None:
    """Which prompt the service sent: the extraction or the judge one (None: neither)."""
    if _PAIRS.search(user_message):
        return "judge"
    if _ARTICLE.search(user_message):
        return "extraction"
    return None


def answer(kind: Kind, user_message: str) -> dict[str, Any]:
    """The structured answer, as the response model's JSON (ClaimList or JudgementList)."""
    if kind == "judge":
        return {"judgements": judgements(user_message)}
    return {"claims": claims(user_message)}


def claims(user_message: str) -> list[dict[str, Any]]:
    article = _ARTICLE.search(user_message)
    published = _PUBLISHED.search(user_message)
    outlet = _OUTLET.search(user_message)
    day = published.group(1) if published else None
    source = outlet.group(1).strip() if outlet else "unknown"
    text = article.group(1) if article else ""
    found = []
    for start, end in split_sentences(text):
        claim = _claim(text[start:end], day, source)
        if claim is not None:
            found.append(claim)
    return found


@lru_cache(maxsize=4096)
def _read(sentence: str, day: str | None) -> str | None:
    # Benchmark articles reuse seed sentences; reading each once keeps the fake cheap. The
    # outlet is not part of the key: every benchmark article has its own, so with it the cache
    # was never hit, and reading sentences was half the fake's CPU in section c.
    figures = [draft.model_dump(mode="json") for _, _, draft in locate_quantities(sentence)]
    time_text = find_time(sentence)
    names = [n for n in _NAME.findall(sentence) if n.split()[0] not in _NOT_NAMES]
    reporting = _REPORTING.search(sentence)
    # The speaker is the name closest before "said": "The governor of Kursk, Alexei Smirnov, said".
    before = [n for n in names if reporting and sentence.find(n) < reporting.start()]
    claimant = before[-1] if before else None
    if not (figures or time_text or claimant):
        return None
    published = date.fromisoformat(day) if day else None
    when = resolve_time(time_text, published) if time_text else None
    flat = " ".join(sentence.split())
    if flat.split(" ", 1)[0] in _FUNCTION_WORDS:  # "The governor ..." → "..., the governor ..."
        flat = flat[:1].lower() + flat[1:]
    claim = {
        "statement": flat,  # the outlet goes in front per article (_claim)
        "quote": sentence,
        "claimant": claimant,
        "entities": list(dict.fromkeys(names)),
        "quantities": figures,
        "time_text": time_text,
        "event_date": when.date.isoformat() if when and when.date else None,
    }
    return json.dumps(claim)


def _claim(sentence: str, day: str | None, source: str) -> dict[str, Any] | None:
    read = _read(sentence, day)
    if read is None:
        return None
    claim = json.loads(read)
    claim["statement"] = f"According to {source}, {claim['statement']}"
    return claim


def judgements(user_message: str) -> list[dict[str, str]]:
    block = _PAIRS.search(user_message)
    out = []
    for line in (block.group(1) if block else "").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        mine = _figures(item["claim"], item["claim_quote"])
        for evidence in item["evidence"]:
            shared = mine & _figures(evidence["statement"], evidence["quote"])
            out.append(
                {
                    "pair_id": evidence["pair_id"],
                    "relation": "supports" if shared else "unrelated",
                    "explanation": f"same figure {min(shared)}" if shared else "no shared figure",
                }
            )
    return out


def _figures(*texts: str) -> set[str]:
    return {m.replace(",", "") for text in texts for m in _FIGURE.findall(text)}


__all__ = ["Kind", "answer", "claims", "judgements", "request_kind"]
