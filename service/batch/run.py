"""Runs a batch: read the files, skip texts already reported, check the rest a few at a time,
write the reports and the summary, and choose the exit code."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.batch.checkers import ApiRefused, Checker, CheckFailed, Unavailable
from service.batch.inputs import SUFFIXES, BadInput, find_inputs, read_input
from service.batch.reports import ReportDir
from service.batch.summary import FileResult, FileStatus, summarize, to_markdown
from service.errors import InvalidInput
from service.models import CheckIn, CheckReport
from service.pipeline.ingest import content_hash

# Exit codes beyond the CLI's (0 done, 1 failure, 2 bad input, 4 unavailable).
EXIT_FAILED, EXIT_INPUT, EXIT_UNAVAILABLE, EXIT_FLAGGED = 1, 2, 4, 5

FailOn = Literal["conflicting", "mixed"]


@dataclass
class BatchOptions:
    paths: list[Path]
    out: Path
    concurrency: int = 4
    store: bool = True
    fail_on: FailOn | None = None


@dataclass
class _Todo:
    index: int
    path: Path
    digest: str
    request: CheckIn


async def run_batch(options: BatchOptions, checker: Checker, out: Console, err: Console) -> int:
    """Check every file; returns the exit code. Only unusable paths raise (InvalidInput)."""
    try:
        return await _run_batch(options, checker, out, err)
    finally:
        await checker.aclose()


async def _run_batch(options: BatchOptions, checker: Checker, out: Console, err: Console) -> int:
    files = list(find_inputs(options.paths))
    if not files:
        kinds = ", ".join(sorted(SUFFIXES))
        raise InvalidInput(f"no {kinds} files found in " + ", ".join(map(str, options.paths)))
    try:
        reports = ReportDir(options.out)
    except OSError as exc:
        raise InvalidInput(f"{options.out}: cannot write reports ({exc.strerror})") from None

    results: list[tuple[FileResult, CheckReport | None]] = []
    todo: list[_Todo] = []
    for path in files:
        try:
            article = read_input(path)
        except BadInput as exc:
            err.print(f"skipped: {exc}", markup=False, highlight=False)
            results.append((FileResult(path=str(path), status="skipped", error=str(exc)), None))
            continue
        digest = content_hash(article.text)
        found = reports.find(path, digest)
        # A report made with --no-store does not count when the text should now be stored.
        if found and (found[1].article_id is not None or not options.store):
            name, report = found
            out.print(f"already checked: {path} → {name}", markup=False, highlight=False)
            results.append((_done(path, "reused", digest, name, report), report))
            continue
        request = CheckIn(**article.model_dump(), store=options.store)
        todo.append(_Todo(len(results), path, digest, request))
        results.append((FileResult(path=str(path), status="failed", content_hash=digest), None))

    if todo:
        try:
            await checker.ready()
        except Unavailable as exc:
            err.print(f"factcheck: {exc}", markup=False, highlight=False)
            return EXIT_UNAVAILABLE
        await _check_all(todo, results, reports, checker, options.concurrency, out, err)

    summary = summarize(results, checker.where)
    reports.write("summary.json", summary.model_dump_json(indent=2))
    written = reports.write("summary.md", to_markdown(summary))
    t = summary.totals
    out.print(
        f"{t.checked} checked, {t.reused} already checked, {t.failed} failed, {t.skipped} "
        f"skipped; {t.conflicting} conflicting, {t.mixed} mixed claims. Summary: {written}",
        markup=False,
        highlight=False,
    )
    if t.failed:
        return EXIT_FAILED
    if t.skipped:
        return EXIT_INPUT
    if options.fail_on and summary.has(options.fail_on):
        return EXIT_FLAGGED
    return 0


async def _check_all(
    todo: list[_Todo],
    results: list[tuple[FileResult, CheckReport | None]],
    reports: ReportDir,
    checker: Checker,
    concurrency: int,
    out: Console,
    err: Console,
) -> None:
    gate = asyncio.Semaphore(concurrency)
    refused: list[str] = []

    async def one(item: _Todo) -> None:
        async with gate:
            try:
                if refused:
                    raise CheckFailed(f"not sent: {refused[0]}")
                report = await checker.check(item.request)
                name = reports.save(item.path, item.digest, report)
            except ApiRefused as exc:
                refused.append(str(exc))
                _failed(item, results, str(exc), err)
            except (CheckFailed, OSError) as exc:
                _failed(item, results, str(exc), err)
            else:
                result = _done(item.path, "checked", item.digest, name, report)
                results[item.index] = (result, report)
                line = f"checked: {item.path} → {_counts(report)}"
                out.print(line, markup=False, highlight=False)
            progress.advance(task)

    with Progress(
        TextColumn("checking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,  # quiet in logs and pipes
        transient=True,
    ) as progress:
        task = progress.add_task("check", total=len(todo))
        await asyncio.gather(*(one(item) for item in todo))


def _done(
    path: Path, status: FileStatus, digest: str, name: str, report: CheckReport
) -> FileResult:
    return FileResult(
        path=str(path),
        status=status,
        content_hash=digest,
        report=name,
        check_id=report.id,
        counts=report.summary,
    )


def _failed(item: _Todo, results: list, error: str, err: Console) -> None:
    err.print(f"failed: {item.path}: {error}", markup=False, highlight=False)
    results[item.index] = (
        FileResult(path=str(item.path), status="failed", content_hash=item.digest, error=error),
        None,
    )


def _counts(report: CheckReport) -> str:
    s = report.summary
    parts = [f"{getattr(s, v)} {v}" for v in ("supported", "conflicting", "mixed", "unverified")]
    nonzero = [p for p in parts if not p.startswith("0 ")]
    return f"{s.claims} claims" + (": " + ", ".join(nonzero) if nonzero else "")
