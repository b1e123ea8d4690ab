"""A fake OpenAI-compatible server for the benchmark: real HTTP, real wire format, no model.

    POST /v1/chat/completions   a `chat.completion` answering the extraction or judge prompt
                                (service.bench.fake_answers), after the configured latency
    GET  /stats                 calls, prompt and completion tokens per kind (extraction,
                                judge), the server's own handling time, peak requests in flight,
                                when each completion arrived and was answered (`timeline`)
    POST /reset                 zero the counters
    POST /config                change FakeConfig fields at run time, e.g. {"latency": 1.0}

The answer takes the shape the openai client and instructor expect in the mode the service
sends: a forced tool call named after the request's tool (mode `tools`, the default), a JSON
`content` (modes `json`, `json_schema`), or JSON in a ```json block (mode `md_json`).

Token counts are an approximation, since no tokenizer is installed: UTF-8 bytes / 4, the rule
service.pipeline.chunking.estimate_tokens uses, over every message's content and the tool schema
(prompt) and over the answer's JSON (completion), or fixed counts set in FakeConfig. They are
reported in the answer's `usage` like the real API's, so the service counts them as it would.

Handling time is measured inside the app, from the full request body to the last byte of the
answer, minus the latency sleep; `busy_seconds` is the length of the union of those intervals,
so concurrent requests are not counted twice. Run it in a thread (`running()`, for tests) or as
its own process (`python -m service.bench.fake_llm --port 8100`, what the benchmark does).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import uvicorn

from service.bench.fake_answers import Kind, answer, request_kind

MODEL = "fake-bench-model"


@dataclass
class FakeConfig:
    latency: float = 0.0  # seconds every completion waits before answering
    extraction_latency: float | None = None  # per kind; None: `latency`
    judge_latency: float | None = None
    prompt_tokens: int | None = None  # fixed counts per call; None: estimated (bytes / 4)
    completion_tokens: int | None = None

    def delay(self, kind: Kind) -> float:
        own = self.extraction_latency if kind == "extraction" else self.judge_latency
        return self.latency if own is None else own


@dataclass
class KindStats:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    handling_seconds: float = 0.0


@dataclass
class Stats:
    extraction: KindStats = field(default_factory=KindStats)
    judge: KindStats = field(default_factory=KindStats)
    rejected: int = 0  # requests that were neither prompt
    in_flight: int = 0
    max_in_flight: int = 0
    intervals: list[tuple[float, float]] = field(default_factory=list)
    # (kind, arrived, answered) per completion on time.monotonic(), a clock every process of
    # the machine shares: when each LLM round of a burst of checks reached the server, against
    # when the client sent them, shows where the burst waits.
    timeline: list[tuple[str, float, float]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "extraction": asdict(self.extraction),
            "judge": asdict(self.judge),
            "rejected": self.rejected,
            "max_in_flight": self.max_in_flight,
            "busy_seconds": union_length(self.intervals),
            "timeline": self.timeline,
            "cpu_seconds": time.process_time(),
        }


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text.encode("utf-8")) / 4)


def union_length(intervals: list[tuple[float, float]]) -> float:
    """Total time covered by at least one interval."""
    total, end = 0.0, -math.inf
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def find_prompt(messages: list[dict[str, Any]]) -> tuple[Kind, str] | None:
    """(kind, text) of the message holding the article or the pairs. Not simply the last one:
    md_json mode and instructor's re-asks append messages of their own after it."""
    for message in messages:
        text = message.get("content")
        if isinstance(text, str) and (kind := request_kind(text)) is not None:
            return kind, text
    return None


def completion(body: dict[str, Any], kind: Kind, prompt: str, config: FakeConfig) -> dict:
    """The `chat.completion` answering `prompt`, in the wire format of the mode the body used."""
    messages = body.get("messages", [])
    payload = json.dumps(answer(kind, prompt), ensure_ascii=False)
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    if tools := body.get("tools"):
        name = tools[0]["function"]["name"]
        digest = hashlib.sha256(payload.encode()).hexdigest()
        call = {"name": name, "arguments": payload}
        message["tool_calls"] = [
            {"id": f"call_{digest[:24]}", "type": "function", "function": call}
        ]
    elif body.get("response_format"):
        message["content"] = payload
    else:  # md_json: the JSON in a fenced block, as chat models write it
        message["content"] = f"```json\n{payload}\n```"
    schema = json.dumps(body.get("tools") or body.get("response_format") or "")
    asked = sum(estimate_tokens(str(m.get("content") or "")) + 4 for m in messages)
    prompt_tokens = config.prompt_tokens or asked + estimate_tokens(schema)
    completion_tokens = config.completion_tokens or estimate_tokens(payload)
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tools else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "system_fingerprint": "fp_fake",
    }


class FakeLLM:
    """The ASGI app. Counters live here; one instance per server."""

    def __init__(self, config: FakeConfig | None = None) -> None:
        self.config = config or FakeConfig()
        self.stats = Stats()
        self._running = 0  # completions being served, across resets
        self._idle: asyncio.Event | None = None  # set when none are (made in the server's loop)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        route = (scope["method"], scope["path"].rstrip("/"))
        if route == ("POST", "/v1/chat/completions"):
            await self._complete(body, send)
        elif route == ("GET", "/stats"):
            await self._settled()
            await _send(send, 200, self.stats.as_json())
        elif route == ("POST", "/reset"):
            self.stats = Stats()
            await _send(send, 200, self.stats.as_json())
        elif route == ("POST", "/config"):
            known = {f.name for f in fields(FakeConfig)}
            changes = {k: v for k, v in json.loads(body or b"{}").items() if k in known}
            self.config = FakeConfig(**{**asdict(self.config), **changes})
            await _send(send, 200, asdict(self.config))
        else:
            await _send(send, 404, {"error": {"message": "not found", "type": "invalid_request"}})

    async def _settled(self, patience: float = 1.0) -> None:
        """Let answers already sent finish their bookkeeping (their handling time ends after
        the client has the answer); only waits when a caller asks while requests run."""
        if self._running:
            self._idle = self._idle or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), patience)

    async def _complete(self, raw: bytes, send: Any) -> None:
        stats = self.stats  # a /reset while this request runs must not mix the counters
        started, arrived = time.perf_counter(), time.monotonic()
        self._running += 1
        if self._idle is not None:
            self._idle.clear()
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            body = json.loads(raw)
            found = find_prompt(body.get("messages", []))
            if found is None:
                stats.rejected += 1
                error = {"message": "neither an extraction nor a judge prompt", "type": "fake"}
                await _send(send, 400, {"error": error})
                return
            kind, prompt = found
            answered = completion(body, kind, prompt, self.config)
            built = time.perf_counter()
            # Counted before the answer leaves: a client never sees an uncounted call.
            own = stats.extraction if kind == "extraction" else stats.judge
            own.calls += 1
            own.prompt_tokens += answered["usage"]["prompt_tokens"]
            own.completion_tokens += answered["usage"]["completion_tokens"]
            if delay := self.config.delay(kind):
                await asyncio.sleep(delay)
            resumed = time.perf_counter()
            await _send(send, 200, answered)
            done = time.perf_counter()
            own.handling_seconds += (built - started) + (done - resumed)
            stats.intervals += [(started, built), (resumed, done)]
            stats.timeline.append((kind, arrived, time.monotonic()))
        finally:
            stats.in_flight -= 1
            self._running -= 1
            if not self._running and self._idle is not None:
                self._idle.set()


async def _send(send: Any, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _server(app: FakeLLM, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_keep_alive=30,
    )
    return uvicorn.Server(config)


@contextmanager
def running(config: FakeConfig | None = None) -> Iterator[tuple[str, FakeLLM]]:
    """(base URL ending in /v1, app) of a fake server in a thread, on a free port."""
    app = FakeLLM(config)
    server = _server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True, name="fake-llm")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake LLM server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", app
    finally:
        server.should_exit = True
        thread.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per completion")
    args = parser.parse_args()
    _server(FakeLLM(FakeConfig(latency=args.latency)), args.host, args.port).run()


if __name__ == "__main__":
    main()


__all__ = ["FakeConfig", "FakeLLM", "completion", "find_prompt", "running", "union_length"]
