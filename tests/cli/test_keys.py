"""`factcheck keys`: create, list, revoke, on SQLite and on a fresh PostgreSQL database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from service.cli import app
from service.store import db
from service.store.keys import KeyStore
from tests.conftest import PG_URL, REQUIRE_PG, _postgres_unavailable

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A migrated database the CLI reaches by URL alone (PostgreSQL: a database of its own)."""
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        yield _migrated({"FACTCHECK_DATABASE_URL": url})
        return
    reason = asyncio.run(_postgres_unavailable())
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"{reason} (FACTCHECK_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"t_keys_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _migrated({"FACTCHECK_DATABASE_URL": PG_URL.rsplit("/", 1)[0] + f"/{name}"})
    finally:
        asyncio.run(_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _admin(statement: str) -> None:
    engine = db.create_engine(PG_URL, pooled=False)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _migrated(env: dict[str, str]) -> dict[str, str]:
    result = runner.invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    return env


def verify(env: dict[str, str], plain: str) -> int | None:
    async def run() -> int | None:
        engine = db.create_engine(env["FACTCHECK_DATABASE_URL"], pooled=False)
        try:
            return await KeyStore(engine).verify(plain)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_create_prints_the_key_once_with_a_warning(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["keys", "create", "--name", "cms"], env=env)
    assert result.exit_code == 0, result.output
    plain = result.stdout.strip()
    assert len(plain.split()) == 1 and len(plain) >= 43  # stdout is the key alone
    assert "cannot be shown again" in result.stderr
    assert verify(env, plain) == 1

    listing = runner.invoke(app, ["keys", "list"], env=env)
    assert listing.exit_code == 0, listing.output
    assert plain[:8] in listing.output
    assert plain not in listing.output  # listings show the prefix only


def test_list_shows_every_column(env: dict[str, str]) -> None:
    empty = runner.invoke(app, ["keys", "list"], env=env)
    assert empty.exit_code == 0 and "no API keys" in empty.output
    runner.invoke(app, ["keys", "create", "--name", "cms"], env=env)
    runner.invoke(app, ["keys", "create", "--name", "wire desk"], env=env)
    lines = runner.invoke(app, ["keys", "list"], env=env).stdout.splitlines()
    assert lines[0].split() == ["id", "name", "prefix", "created", "last", "used", "revoked"]
    assert len(lines) == 3
    assert lines[1].startswith("1 ") and " cms " in lines[1]
    assert lines[2].startswith("2 ") and "wire desk" in lines[2]
    assert lines[1].split()[-2:] == ["never", "-"]  # never used, not revoked


def test_revoke_refuses_the_key(env: dict[str, str]) -> None:
    plain = runner.invoke(app, ["keys", "create", "--name", "cms"], env=env).stdout.strip()
    result = runner.invoke(app, ["keys", "revoke", "1"], env=env)
    assert result.exit_code == 0, result.output
    assert "revoked API key 1 (cms" in result.output
    assert verify(env, plain) is None
    row = runner.invoke(app, ["keys", "list"], env=env).stdout.splitlines()[1]
    assert not row.rstrip().endswith("-")  # the revocation time is shown
    assert runner.invoke(app, ["keys", "revoke", "1"], env=env).exit_code == 0  # idempotent


def test_revoking_an_unknown_id_exits_2_with_one_line(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["keys", "revoke", "99"], env=env)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["factcheck: API key 99 not found"]


@pytest.mark.parametrize("args", [["keys", "create"], ["keys", "create", "--name", " "]])
def test_create_needs_a_name(env: dict[str, str], args: list[str]) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
