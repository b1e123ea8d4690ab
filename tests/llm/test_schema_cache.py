"""Response models build their JSON schema once, and the requests stay what they were.

instructor 1.17 wraps a response model that is not an `OpenAISchema` in a new pydantic class
on every call, so its schema cache never hit and each request rebuilt the tool schema.
ClaimList and JudgementList derive from service.llm.calls.ResponseModel (an `OpenAISchema`
with a cached `model_json_schema`) instead. These tests pin the three things that matter:
the bytes sent are those of a plain BaseModel with the same fields and validators (first
requests and re-asks, every mode) and those of the recordings; the schema is built once per
model however many calls; and instructor still takes our classes as they are.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import respx
from instructor.v2.core.response_model import prepare_response_model
from instructor.v2.providers.openai.schema import generate_openai_schema
from pydantic import BaseModel, create_model, field_validator

from service.llm.calls import ResponseModel, _default_json_schema, ask_structured
from service.llm.client import build_client
from service.llm.judge import JudgementList, expecting
from service.llm.llm_extractor import ClaimList
from tests.recording import (
    RECORDINGS,
    chat_completion,
    json_response,
    llm_settings,
    load_recordings,
)

MODES = ["tools", "json", "json_schema", "md_json"]
CLAIMS = {
    "claims": [
        {
            "statement": "Alexei Smirnov said 12 people had been killed.",
            "quote": "Smirnov said 12 people had been killed.",
            "quantities": [{"text": "12 people", "value": 12, "measure": "people killed"}],
            "event_date": "2024-08-12",
        }
    ]
}
NO_QUOTE = {"claims": [{"statement": "A claim without its quote."}]}
JUDGEMENTS = {"judgements": [{"pair_id": "p1", "relation": "supports", "explanation": "same"}]}
UNKNOWN_ID = {"judgements": [{"pair_id": "zz", "relation": "supports", "explanation": "same"}]}
MESSAGES = [
    {"role": "system", "content": "Answer with the structure asked for."},
    {"role": "user", "content": "<article>Smirnov said 12 people had been killed.</article>"},
]
# model, (invalid answer, valid answer), validation context
CASES: dict[str, tuple[type[BaseModel], tuple[dict[str, Any], dict[str, Any]], Any]] = {
    "extractor": (ClaimList, (NO_QUOTE, CLAIMS), None),
    "judge": (JudgementList, (UNKNOWN_ID, JUDGEMENTS), {"pair_ids": frozenset({"p1", "p2"})}),
}


def answer(mode: str, arguments: dict[str, Any], tool_name: str) -> httpx.Response:
    text = json.dumps(arguments)
    if mode == "tools":
        return json_response(chat_completion(arguments=text, tool_name=tool_name))
    return json_response(
        chat_completion(content=f"```json\n{text}\n```" if mode == "md_json" else text)
    )


@contextmanager
def serving(*answers: httpx.Response) -> Iterator[list[bytes]]:
    """Answer in order (the last repeats) and keep the exact bytes of every request body."""
    sent: list[bytes] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return answers[min(len(sent), len(answers)) - 1]

    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=reply)
        yield sent


async def ask(
    model: type[BaseModel],
    mode: str,
    answers: tuple[dict[str, Any], ...],
    context: Any,
    messages: list[dict[str, str]] = MESSAGES,
) -> tuple[list[bytes], BaseModel]:
    settings = llm_settings(llm_mode=mode)
    given = expecting(context["pair_ids"]) if context else contextlib.nullcontext()
    with serving(*(answer(mode, a, model.__name__) for a in answers)) as sent, given:
        result, _usage = await ask_structured(
            build_client(settings),
            settings,
            response_model=model,
            messages=messages,
            schema="schema",
            cut_off_hint="hint",
        )
    return sent, result


def plain_twin(model: type[BaseModel]) -> type[BaseModel]:
    """The same model as a plain BaseModel: name, docstring, fields and field validators,
    but none of ResponseModel (what instructor was handed before the schema cache)."""
    validators = {
        name: field_validator(*d.info.fields, mode=d.info.mode)(d.func.__func__)  # type: ignore[call-overload]
        for name, d in model.__pydantic_decorators__.field_validators.items()
    }
    fields: dict[str, Any] = {name: (f.annotation, f) for name, f in model.model_fields.items()}
    twin = create_model(model.__name__, __doc__=model.__doc__, __validators__=validators, **fields)
    assert not issubclass(twin, ResponseModel)
    return twin


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES)
async def test_requests_and_reasks_are_those_of_a_plain_model(case: str, mode: str) -> None:
    model, answers, context = CASES[case]
    sent, result = await ask(model, mode, answers, context)
    plain_sent, plain_result = await ask(plain_twin(model), mode, answers, context)
    assert len(sent) == 2  # the invalid answer was re-asked, as with the plain model
    assert sent == plain_sent  # byte for byte: tools, tool_choice, response_format, messages
    assert result.model_dump() == plain_result.model_dump()
    assert type(result) is model  # instructor no longer wraps the model in a class per call


@pytest.mark.parametrize("group", ["extract_claims", "judge_pairs"])
async def test_requests_are_those_recorded(group: str) -> None:
    """The recorded requests (made before the cache) come out again, key order included."""
    model = ClaimList if group == "extract_claims" else JudgementList
    recordings = list(load_recordings(RECORDINGS / group).values())
    assert recordings
    for recorded in recordings:
        body = recorded["request"]["body"]
        arguments = recorded["response"]["body"]["choices"][0]["message"]["tool_calls"][0]
        answer_ = json.loads(arguments["function"]["arguments"])
        context = None
        if model is JudgementList:
            context = {"pair_ids": frozenset(j["pair_id"] for j in answer_["judgements"])}
        sent, _ = await ask(model, "tools", (answer_,), context, messages=body["messages"])
        (request,) = sent
        as_sent = json.loads(request, object_pairs_hook=list)
        assert as_sent == json.loads(json.dumps(body), object_pairs_hook=list)


@pytest.mark.parametrize("mode", MODES)
async def test_the_schema_is_built_once_per_model(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: Counter[str] = Counter()
    pydantic_schema = BaseModel.model_json_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        built[cls.__name__] += 1
        return pydantic_schema(cls, *args, **kwargs)

    monkeypatch.setattr(BaseModel, "model_json_schema", classmethod(counting))
    _default_json_schema.cache_clear()
    generate_openai_schema.cache_clear()
    for _ in range(3):
        for model, answers, context in CASES.values():
            await ask(model, mode, answers, context)  # two requests each: one re-ask
    assert built == {"ClaimList": 1, "JudgementList": 1}


def test_instructor_takes_the_response_models_as_they_are() -> None:
    """What the cache rests on: instructor 1.17 wraps only models that are not OpenAISchema.
    If this fails after an instructor upgrade, re-check what instructor rebuilds per call."""
    for model in (ClaimList, JudgementList):
        assert prepare_response_model(model) is model
        assert generate_openai_schema(model) is generate_openai_schema(model)


def test_the_cached_schema_cannot_be_changed_by_a_caller() -> None:
    first = ClaimList.model_json_schema()
    first["properties"]["claims"]["description"] = "changed"
    first["title"] = "changed"
    again = ClaimList.model_json_schema()
    assert again == BaseModel.model_json_schema.__func__(ClaimList)  # type: ignore[attr-defined]
    assert again["title"] == "ClaimList"
    assert again is not ClaimList.model_json_schema()


def test_other_schema_arguments_are_not_cached() -> None:
    template = "#/components/schemas/{model}"
    other = ClaimList.model_json_schema(ref_template=template)
    assert other == BaseModel.model_json_schema.__func__(ClaimList, ref_template=template)  # type: ignore[attr-defined]
    assert other != ClaimList.model_json_schema()
