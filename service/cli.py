"""The `factcheck` command: serve, migrate, ingest.

Exit codes a script can rely on: 0 done, 1 unexpected failure, 2 bad usage or input,
3 invalid settings, 4 database (or LLM) unavailable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from service.errors import FactcheckError, InvalidInput, LLMError, StoreUnavailable
from service.settings import Settings, SettingsError, load_settings

EXIT_INPUT, EXIT_SETTINGS, EXIT_UNAVAILABLE = 2, 3, 4

app = typer.Typer(
    help="Fact-checking service for newsrooms.", no_args_is_help=True, add_completion=False
)
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
) -> None:
    """Migrate the database, ingest the seed folder, then serve the API."""
    import uvicorn

    from service.app import create_app

    settings = _settings(host=host, port=port)
    _run(lambda: _migrate(settings))
    if settings.seed_dir and settings.seed_dir.is_dir():
        _run(lambda: _ingest(settings, [settings.seed_dir], None))
    out.print(f"serving on http://{settings.host}:{settings.port} (API docs at /schema)")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


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
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app()
