"""The `factcheck` command: serve, migrate, ingest, check (the batch client), bench.

Exit codes a script can rely on: 0 done, 1 unexpected failure, 2 bad usage or input,
3 invalid settings, 4 database (or LLM) unavailable. `check` also: 1 a file could not be
checked, 2 a file was unreadable (skipped), 4 the API is unreachable, 5 --fail-on matched a
claim (1 and 2 win over 5; reports and summary are written in every case but 4).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer
from rich.console import Console

from service.cli_keys import keys_app
from service.errors import FactcheckError, InvalidInput, LLMError, StoreUnavailable
from service.settings import Settings, SettingsError, load_settings

EXIT_INPUT, EXIT_SETTINGS, EXIT_UNAVAILABLE = 2, 3, 4

app = typer.Typer(
    help="Fact-checking service for newsrooms.", no_args_is_help=True, add_completion=False
)
app.add_typer(keys_app, name="keys")
# soft_wrap: an error stays one line a script can grep, whatever the terminal width.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except SettingsError as exc:
        err.print(f"factcheck: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_SETTINGS) from None


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run async work; domain errors become one readable line and an exit code."""
    try:
        return asyncio.run(work())  # type: ignore[arg-type]
    except (StoreUnavailable, LLMError) as exc:
        err.print(f"factcheck: {exc.detail}", markup=False, highlight=False)
        raise typer.Exit(EXIT_UNAVAILABLE) from None
    except InvalidInput as exc:
        err.print(f"factcheck: {exc.detail}", markup=False, highlight=False)
        raise typer.Exit(EXIT_INPUT) from None
    except FactcheckError as exc:
        err.print(f"factcheck: {exc.detail}", markup=False, highlight=False)
        raise typer.Exit(1) from None


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    settings = _settings()
    revision = _run(lambda: _migrate(settings))
    out.print(f"database at migration {revision}")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .txt/.md articles.")],
    source: Annotated[str | None, typer.Option(help="Outlet name for every file.")] = None,
) -> None:
    """Store articles (and their claims) from files; already-stored texts are skipped."""
    settings = _settings()
    _run(lambda: _ingest(settings, paths, source))


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders: .txt/.md/.html/.json.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for reports and summary.")],
    api: Annotated[str, typer.Option(envvar="FACTCHECK_API_URL", help="Service URL.")] = (
        "http://127.0.0.1:8000"
    ),
    api_key: Annotated[
        str | None, typer.Option(envvar="FACTCHECK_API_KEY", help="Sent as a Bearer token.")
    ] = None,
    store: Annotated[bool, typer.Option(help="Keep checked articles as evidence.")] = True,
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Files at once.")] = 4,
    fail_on: Annotated[
        Literal["conflicting", "mixed"] | None,
        typer.Option(help="Exit 5 if a claim is conflicting (mixed: or mixed)."),
    ] = None,
    local: Annotated[bool, typer.Option(help="Run the pipeline here, no server.")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds for one check.")] = 300.0,
) -> None:
    """Check files through the API: one report each, a summary, an exit code to gate on."""
    from service.batch import BatchOptions, check_files

    options = BatchOptions(paths, out_dir, concurrency, store, fail_on)
    settings = _settings() if local else None
    code = _run(
        lambda: check_files(
            options,
            api=api,
            api_key=api_key,
            request_timeout=timeout,
            settings=settings,
            out=out,
            err=err,
        )
    )
    raise typer.Exit(code)


@app.command("export-schemas")
def export_schemas() -> None:
    """Write the API models as JSON Schema into schemas/ (a test keeps them in sync)."""
    from service.schemas import export

    for path in export():
        out.print(f"wrote {path}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Worker processes (FACTCHECK_WORKERS).")
    ] = None,
) -> None:
    """Migrate the database, ingest the seed folder, then serve the API."""
    from service import asgi
    from service.logs import configure_logging

    settings = _settings(host=host, port=port, workers=workers)
    configure_logging(settings.log_format, settings.log_level)
    # Once, here in the parent: the workers started below only serve.
    _run(lambda: _migrate(settings))
    if settings.seed_dir and settings.seed_dir.is_dir():
        _run(lambda: _ingest(settings, [settings.seed_dir], None))
    out.print(
        f"serving on http://{settings.host}:{settings.port} with {settings.workers} "
        f"worker{'s' if settings.workers != 1 else ''} (API docs at /schema)"
    )
    asgi.serve(settings)


@app.command()
def bench(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write the tables as Markdown here.")
    ] = None,
    quick: Annotated[bool, typer.Option(help="Fewer checks: a smoke run of a minute.")] = False,
    postgres_url: Annotated[
        str | None,
        typer.Option(help="Also run on PostgreSQL (a temporary database on this server)."),
    ] = None,
    workers: Annotated[
        list[int] | None,
        typer.Option(
            "--workers", min=1, max=64, help="`serve --workers` values to measure throughput with."
        ),
    ] = None,
    retrieval_sizes: Annotated[
        list[int] | None,
        typer.Option(
            "--retrieval-size",
            min=0,
            help="Stored claims to measure retrieval at (repeat; default 10k, 100k, 1M; 0: skip).",
        ),
    ] = None,
) -> None:
    """Benchmark the service over HTTP against a fake LLM (see service/bench/__init__.py)."""
    from service.bench.processes import BenchError
    from service.bench.run import QUICK_RETRIEVAL_SIZES, BenchOptions, run_bench

    options = BenchOptions(quick=quick, postgres_url=postgres_url)
    if retrieval_sizes is not None:
        options.retrieval_sizes = tuple(retrieval_sizes)
    elif quick:
        options.retrieval_sizes = QUICK_RETRIEVAL_SIZES
    if workers:
        options.workers = tuple(workers)
    elif quick:
        options.workers = (1,)

    started = time.monotonic()

    def progress(line: str) -> None:
        elapsed = time.monotonic() - started
        err.print(f"bench [{elapsed:4.0f} s]: {line}", markup=False, highlight=False)

    # Piped into a file, the tables keep their columns instead of folding at 80 characters.
    tables = out if out.is_terminal else Console(width=250)
    try:
        report = _run(
            lambda: run_bench(options, show=lambda t: tables.print(t.rich()), progress=progress)
        )
    except BenchError as exc:
        err.print(f"factcheck: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    if out_file is not None:
        out_file.write_text(report.markdown(), encoding="utf-8")
        out.print(f"wrote {out_file}")


async def _migrate(settings: Settings) -> str:
    from service.store import db

    engine = db.create_engine(settings.database_url)
    try:
        return await db.migrate(engine)
    except (OSError, TimeoutError) as exc:
        raise StoreUnavailable(f"database unavailable: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("sqlalchemy", "asyncpg", "sqlite3")):
            raise StoreUnavailable(f"database unavailable: {exc}".splitlines()[0]) from exc
        raise
    finally:
        await engine.dispose()


async def _ingest(settings: Settings, paths: list[Path], source: str | None) -> None:
    from service.llm.factory import build_backends
    from service.pipeline.ingest import find_article_files, read_article_file
    from service.pipeline.run import Pipeline
    from service.store.sql import SqlStore

    files = list(find_article_files(paths))
    if not files:
        raise InvalidInput("no .txt or .md files found in " + ", ".join(map(str, paths)))
    store = SqlStore.from_url(settings.database_url)
    extractor, judge = build_backends(settings)
    pipeline = Pipeline(store=store, extractor=extractor, judge=judge, settings=settings)
    try:
        for path in files:
            article, created = await pipeline.ingest(read_article_file(path, source))
            state = "stored" if created else "already stored"
            out.print(f"{state}: {path} → article {article.id}, {len(article.claims)} claims")
    finally:
        await store.close()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Library chatter (every migration step, every HTTP request the batch client makes)
    # would bury the one line per file a user reads.
    for noisy in ("alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app()
