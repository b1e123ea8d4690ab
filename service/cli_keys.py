"""`factcheck keys`: create, list and revoke the API keys the service accepts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from service.errors import InvalidInput, NotFound

if TYPE_CHECKING:  # the database layer loads only when a command runs
    from service.settings import Settings
    from service.store.keys import ApiKey, KeyStore

keys_app = typer.Typer(
    help="Create, list and revoke API keys (the first key makes the API require one).",
    no_args_is_help=True,
)


@keys_app.command()
def create(name: Annotated[str, typer.Option(help="Who or what the key is for.")]) -> None:
    """Create a key and print it; only its hash is stored, so it cannot be shown again."""
    from service.cli import _run, _settings, err, out

    settings = _settings()
    key, plain = _run(lambda: _create(settings, name))
    out.print(plain, markup=False, highlight=False, soft_wrap=True)
    err.print(
        f"created API key {key.id} ({key.name}, prefix {key.prefix}). Store it now: "
        "it cannot be shown again.",
        markup=False,
        highlight=False,
    )


@keys_app.command("list")
def list_keys() -> None:
    """Every key: id, name, prefix, created, last used, revoked."""
    from service.cli import _run, _settings, out

    settings = _settings()
    keys = _run(lambda: _list(settings))
    if not keys:
        out.print("no API keys: the API is open to anyone who can reach it")
        return
    rows = [("id", "name", "prefix", "created", "last used", "revoked")]
    rows += [_row(key) for key in keys]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.print(line.rstrip(), markup=False, highlight=False)


@keys_app.command()
def revoke(
    key_id: Annotated[int, typer.Argument(metavar="ID", help="Id from `keys list`.")],
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from service.cli import _run, _settings, out

    settings = _settings()
    key = _run(lambda: _revoke(settings, key_id))
    out.print(f"revoked API key {key.id} ({key.name}, prefix {key.prefix})", markup=False)


@asynccontextmanager
async def _key_store(settings: Settings) -> AsyncIterator[KeyStore]:
    from service.store import db
    from service.store.keys import KeyStore

    engine = db.create_engine(settings.database_url)
    try:
        yield KeyStore(engine)
    finally:
        await engine.dispose()


async def _create(settings: Settings, name: str) -> tuple[ApiKey, str]:
    async with _key_store(settings) as keys:
        return await keys.create(name)


async def _list(settings: Settings) -> list[ApiKey]:
    async with _key_store(settings) as keys:
        return await keys.list()


async def _revoke(settings: Settings, key_id: int) -> ApiKey:
    async with _key_store(settings) as keys:
        try:
            return await keys.revoke(key_id)
        except NotFound as exc:
            raise InvalidInput(exc.detail) from None  # a bad argument: exit 2


def _row(key: ApiKey) -> tuple[str, ...]:
    return (
        str(key.id),
        key.name,
        key.prefix,
        _when(key.created_at),
        _when(key.last_used_at) or "never",
        _when(key.revoked_at) or "-",
    )


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""
