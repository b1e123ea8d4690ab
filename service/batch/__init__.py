"""The batch client behind `factcheck check`: check folders of articles through the API.

inputs    find .txt/.md/.html/.json files and read each as an article
checkers  send one article: over HTTP (bounded retries) or to the pipeline in process
reports   one report per text in the output folder, and the manifest that makes reruns skip
summary   verdict counts per file and the claims to review, as JSON and Markdown
run       the batch itself, and its exit code
"""

from __future__ import annotations

from rich.console import Console

from service.batch.checkers import ApiChecker, LocalChecker, RetryPolicy
from service.batch.run import EXIT_FLAGGED, BatchOptions, FailOn, run_batch
from service.errors import InvalidInput
from service.settings import Settings


async def check_files(
    options: BatchOptions,
    *,
    api: str,
    api_key: str | None,
    request_timeout: float,
    settings: Settings | None,
    out: Console,
    err: Console,
) -> int:
    """The batch through the API at `api`, or in process when settings are given (--local)."""
    if settings is None and not api.startswith(("http://", "https://")):
        raise InvalidInput(f"--api must be an http:// or https:// URL, not {api!r}")
    checker = (
        LocalChecker(settings) if settings else ApiChecker(api, api_key, timeout=request_timeout)
    )
    return await run_batch(options, checker, out, err)


__all__ = [
    "EXIT_FLAGGED",
    "ApiChecker",
    "BatchOptions",
    "FailOn",
    "LocalChecker",
    "RetryPolicy",
    "check_files",
    "run_batch",
]
