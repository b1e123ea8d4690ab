"""Recorded OpenAI chat completions, replayed with respx so the real openai + instructor run.

Layout
    tests/recordings/<group>/<label>.<key>.json, one file per request:
        {"key": ..., "request": {"method", "path", "body"}, "response": {"status_code",
         "headers", "body"}}
    `body` is the exact wire JSON: the request openai-python sent, the `chat.completion`
    the server answered. `key` is request_key(request body): a sha256 of its model, messages,
    tools and response_format. A request without a recording fails the test, naming its key.

Replay (default)
    with replaying("extract_claims", label="000_645ecb53b1ed8b97") as replay: ...
    Any change to the prompt, the claim schema or the instructor version changes the
    request, hence the key: re-record, or regenerate the synthetic seed recordings with
    `.venv/bin/python -m tests.recordings.build`.
    Group judge_pairs holds the judge calls of the seed scenario (000, 001, 003, 004 stored,
    002 checked); a change to the judge prompt or schema, the extraction recordings, retrieval
    or comparison changes them: `.venv/bin/python -m tests.recordings.build_judge`.

Record
    FACTCHECK_RECORD=1 FACTCHECK_LLM_BASE_URL=https://api.openai.com/v1 \\
    FACTCHECK_LLM_API_KEY=sk-... .venv/bin/pytest tests/llm -k seed
    Requests go to the real endpoint (the key is never written); the first 200 answer of a
    label replaces that label's old files. Review the diff before committing.

Faults
    scripted(*answers) answers in order with wire-format chat_completion()/error_response()
    bodies or transport exceptions, and counts requests inside the respx side effect.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from service.llm.base import ArticleContext
from service.settings import Settings

RECORDINGS = Path(__file__).parent / "recordings"
SEEDS = Path(__file__).parent.parent / "seeds"
SEED_PUBLISHED = date(2024, 8, 13)  # seed 002 says "date 2024-08-12"; all use the same day
FAKE_BASE_URL = "https://llm.test/v1"
RECORDED_MODEL = "gpt-4o-mini-2024-07-18"
KEY_FIELDS = ("model", "messages", "tools", "response_format")
_FORWARDED = "x-factcheck-recording"  # marks the real request made in record mode


def recording() -> bool:
    return os.environ.get("FACTCHECK_RECORD") == "1"


def llm_settings(**overrides: Any) -> Settings:
    """Settings for LLM tests: a fake endpoint and no .env; the real one when recording."""
    values: dict[str, Any] = {
        "llm_base_url": FAKE_BASE_URL,
        "llm_api_key": "sk-test",
        "llm_model": "gpt-4o-mini",
        "llm_mode": "tools",
        "llm_timeout": 60.0,
        "llm_max_attempts": 4,
        "llm_deadline": 180.0,
        "llm_max_reasks": 2,
        "chunk_tokens": 1500,
        "seed_dir": None,
    }
    if recording():
        values["llm_base_url"] = os.environ["FACTCHECK_LLM_BASE_URL"]
        values["llm_api_key"] = os.environ["FACTCHECK_LLM_API_KEY"]
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


def seed_stems() -> list[str]:
    return sorted(path.stem for path in SEEDS.glob("*.txt"))


def seed_text(stem: str) -> str:
    return (SEEDS / f"{stem}.txt").read_text(encoding="utf-8")


def seed_context() -> ArticleContext:
    return ArticleContext(published_at=SEED_PUBLISHED)


def request_key(body: dict[str, Any]) -> str:
    material = {field: body.get(field) for field in KEY_FIELDS}
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def chat_completion(
    *,
    arguments: str | None = None,
    content: str | None = None,
    tool_name: str = "ClaimList",
    prompt_tokens: int = 1000,
    completion_tokens: int = 200,
    finish_reason: str | None = None,
    seed: str = "",
) -> dict[str, Any]:
    """A `chat.completion` as gpt-4o-mini sends it: a tool call (`arguments`, a JSON string)
    or plain `content` (JSON and MD_JSON modes). `seed` makes the ids deterministic."""
    digest = hashlib.sha256(f"{seed}|{arguments}|{content}".encode()).hexdigest()
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if arguments is not None:
        message["tool_calls"] = [
            {
                "id": f"call_{_alnum(digest[:24])}",
                "type": "function",
                "function": {"name": tool_name, "arguments": arguments},
            }
        ]
    return {
        "id": f"chatcmpl-{_alnum(digest[24:53])}",
        "object": "chat.completion",
        "created": 1723550400 + int(digest[:4], 16) % 3600,
        "model": RECORDED_MODEL,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason
                or ("tool_calls" if arguments is not None else "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "system_fingerprint": "fp_48196bc67a",
    }


def json_response(body: dict[str, Any], status_code: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status_code, json=body, headers={"x-request-id": "req_test", **headers})


def error_response(
    status_code: int, message: str = "error", code: str | None = None, **headers: str
) -> httpx.Response:
    """An OpenAI error answer; headers use underscores (retry_after -> retry-after)."""
    body = {"error": {"message": message, "type": "error", "param": None, "code": code}}
    return json_response(
        body, status_code, **{name.replace("_", "-"): value for name, value in headers.items()}
    )


class Replayer:
    """A respx side effect answering chat-completion requests from recording files."""

    def __init__(self, group: str, label: str) -> None:
        self.directory = RECORDINGS / group
        self.label = label
        self.recordings = load_recordings(self.directory)
        self.served: list[str] = []
        self.forward_transport: httpx.AsyncBaseTransport | None = None  # record mode; tests

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        key = request_key(body)
        if key not in self.recordings:
            last = str(body.get("messages", [{}])[-1].get("content", ""))[:80]
            # pytest.fail raises a BaseException: openai, instructor and tenacity only catch
            # Exception, so this cannot turn into a retried "connection error".
            pytest.fail(
                f"no recording {self.label}.{key}.json in {self.directory} for a request "
                f"to {body.get('model')} ending {last!r}; re-record (FACTCHECK_RECORD=1) "
                "or regenerate (python -m tests.recordings.build)",
                pytrace=False,
            )
        self.served.append(key)
        response = self.recordings[key]["response"]
        return httpx.Response(
            response["status_code"], headers=response["headers"], json=response["body"]
        )

    async def record(self, request: httpx.Request) -> httpx.Response:
        """Record mode: forward to the real endpoint, save a 200 answer, return it."""
        headers = {**request.headers, _FORWARDED: "1"}
        async with httpx.AsyncClient(transport=self.forward_transport, timeout=300) as client:
            real = await client.send(
                httpx.Request(request.method, request.url, headers=headers, content=request.content)
            )
        if real.status_code == 200:
            if not self.served:  # a new recording of this label replaces the old ones
                for stale in self.directory.glob(f"{self.label}.*.json"):
                    stale.unlink()
            body = json.loads(request.content)
            save_recording(self.directory, self.label, request.url.path, body, real.json())
            self.served.append(request_key(body))
        # Only the headers that describe the (already decoded) body travel back.
        keep = {k: v for k, v in real.headers.items() if k in ("content-type", "x-request-id")}
        return httpx.Response(real.status_code, headers=keep, content=real.content)


class Scripted:
    """A respx side effect that answers requests in order and keeps what was sent.

    Answers are httpx.Responses or exceptions (httpx.ReadTimeout, ...) raised as the
    transport would; the last answer repeats. Counting here, inside the side effect, counts
    HTTP requests as the server sees them, whatever retries happen above.
    """

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@contextmanager
def scripted(*answers: httpx.Response | Exception) -> Iterator[Scripted]:
    """Answer chat-completion requests with `answers`, in order."""
    script = Scripted(*answers)
    with respx.mock() as router:
        router.post(path__regex=r"/chat/completions$").mock(side_effect=script)
        yield script


def load_recordings(directory: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if request_key(data["request"]["body"]) != data["key"]:
            raise AssertionError(f"{path}: key does not match its request; file edited by hand?")
        found[data["key"]] = data
    return found


def save_recording(
    directory: Path, label: str, path: str, request: dict[str, Any], response: dict[str, Any]
) -> Path:
    key = request_key(request)
    record = {
        "key": key,
        "request": {"method": "POST", "path": path, "body": request},
        "response": {
            "status_code": 200,
            "headers": {"content-type": "application/json"},
            "body": response,
        },
    }
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{label}.{key}.json"
    target.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


@contextmanager
def replaying(group: str, label: str) -> Iterator[Replayer]:
    """Answer every chat-completion request from tests/recordings/<group> (or record it)."""
    replayer = Replayer(group, label)
    with respx.mock(assert_all_called=False) as router:
        if recording():
            router.route(headers={_FORWARDED: "1"}).pass_through()
            router.post(path__regex=r"/chat/completions$").mock(side_effect=replayer.record)
        else:
            router.post(path__regex=r"/chat/completions$").mock(side_effect=replayer)
        yield replayer


def _alnum(hex_digits: str) -> str:
    # OpenAI ids are mixed-case alphanumerics; hex digits alone would look synthetic.
    table = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(table[(int(c, 16) * 7 + i) % len(table)] for i, c in enumerate(hex_digits))
