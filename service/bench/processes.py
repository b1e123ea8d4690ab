"""The processes the benchmark drives: the fake LLM server and the real service (`factcheck
serve`), each a subprocess on a free port, plus the databases the service runs on.

The service gets a clean environment: FACTCHECK_* settings of the caller's shell pass through
(so `FACTCHECK_LLM_CONCURRENCY=8 factcheck bench` measures that), except those the benchmark
owns (database, LLM endpoint and key, rate limit, seeds, host, port, workers). It runs in a
temporary folder, so no `.env` of the working directory is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from service.settings import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"
OWNED = {
    "FACTCHECK_DATABASE_URL",
    "FACTCHECK_LLM_BASE_URL",
    "FACTCHECK_LLM_API_KEY",
    "FACTCHECK_RATE_LIMIT_PER_MINUTE",
    "FACTCHECK_SEED_DIR",
    "FACTCHECK_HOST",
    "FACTCHECK_PORT",
    "FACTCHECK_WORKERS",
    "FACTCHECK_API_KEYS",
}
START_TIMEOUT = 180.0  # seconds: migrations and the seed ingest happen before serving


class BenchError(Exception):
    """The benchmark cannot go on (a process did not start); the message says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def passed_settings() -> dict[str, str]:
    """The caller's FACTCHECK_* settings the service is started with."""
    return {k: v for k, v in os.environ.items() if k.startswith("FACTCHECK_") and k not in OWNED}


def _environment(extra: dict[str, str]) -> dict[str, str]:
    drop = ("FACTCHECK_", "OPENAI_API_KEY", "PROMETHEUS_MULTIPROC_DIR")
    base = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**base, **passed_settings(), **extra}


@dataclass
class Process:
    """A started subprocess with its HTTP root URL and log file."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    async def wait_ready(self, path: str, patience: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + patience
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while True:
                if self.process.returncode is not None:
                    raise BenchError(
                        f"{self.name} exited ({self.process.returncode}): {self.tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(path)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise BenchError(f"{self.name} not ready after {patience:.0f} s: {self.tail()}")
                await asyncio.sleep(0.2)

    def tail(self, lines: int = 5) -> str:
        with contextlib.suppress(OSError):
            return " | ".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"

    async def stop(self) -> None:
        """SIGINT (uvicorn shuts down gracefully, workers too), then SIGKILL to its group."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only ours
                await self.process.wait()


@contextlib.asynccontextmanager
async def _started(name: str, args: list[str], env: dict[str, str], workdir: Path, url: str):
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *args,
            env=env,
            cwd=workdir,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
        )
    started = Process(name, process, url, log)
    try:
        yield started
    finally:
        await started.stop()


@contextlib.asynccontextmanager
async def fake_llm(workdir: Path) -> AsyncIterator[Process]:
    """`python -m service.bench.fake_llm` on a free port; its URL is the server root."""
    port = free_port()
    args = [sys.executable, "-m", "service.bench.fake_llm", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    async with _started("fake-llm", args, _environment({}), workdir, url) as process:
        await process.wait_ready("/stats", patience=30)
        yield process


@contextlib.asynccontextmanager
async def service(
    workdir: Path, database_url: str, llm_url: str, workers: int = 1
) -> AsyncIterator[Process]:
    """`factcheck serve` on a free port: migrated, seeds ingested, rate limit off."""
    port = free_port()
    env = _environment(
        {
            "FACTCHECK_DATABASE_URL": database_url,
            "FACTCHECK_LLM_BASE_URL": f"{llm_url}/v1",
            "FACTCHECK_LLM_API_KEY": "bench",
            "FACTCHECK_RATE_LIMIT_PER_MINUTE": "0",
            "FACTCHECK_SEED_DIR": str(SEEDS),
        }
    )
    args = [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--workers", str(workers)]
    name = f"service-{workers}w"
    async with _started(name, args, env, workdir, f"http://127.0.0.1:{port}") as process:
        await process.wait_ready("/readyz")
        yield process


@contextlib.asynccontextmanager
async def postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A fresh database on the server of `admin_url` (whose role may create databases),
    dropped afterwards; the value is its URL."""
    name = f"factcheck_bench_{secrets.token_hex(4)}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await engine.dispose()
        raise BenchError(f"cannot create a database at {admin_url}: {exc}") from exc
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


__all__ = [
    "BenchError",
    "Process",
    "fake_llm",
    "free_port",
    "passed_settings",
    "postgres_database",
    "service",
]
