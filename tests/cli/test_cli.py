"""The `factcheck` command: exit codes and one-line errors a script can use."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.store.db import head_revision
from tests.conftest import SEEDS

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env or factcheck.db from the developer's checkout
    return {"FACTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def test_migrate_then_ingest_seeds_is_idempotent(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    assert f"at migration {head_revision()}" in result.output

    first = runner.invoke(app, ["ingest", str(SEEDS)], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.count("stored: ") == 5
    assert "already stored" not in first.output

    second = runner.invoke(app, ["ingest", str(SEEDS / "002_53ffd6e50b0f3c6f.txt")], env=env)
    assert second.exit_code == 0
    assert "already stored" in second.output


def test_ingest_uses_file_name_as_source(env: dict[str, str], tmp_path: Path) -> None:
    runner.invoke(app, ["migrate"], env=env)
    article = tmp_path / "reuters.md"
    article.write_text("Headline\n\nTwelve people were killed, officials said.", encoding="utf-8")
    result = runner.invoke(app, ["ingest", str(article)], env=env)
    assert result.exit_code == 0, result.output

    import asyncio

    from service.store.sql import SqlStore

    async def first_article():
        store = SqlStore.from_url(env["FACTCHECK_DATABASE_URL"])
        try:
            return (await store.list_articles(limit=1, offset=0)).items[0]
        finally:
            await store.close()

    stored = asyncio.run(first_article())
    assert stored.source == "reuters"
    assert stored.title == "Headline"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/no/such/path"], "no such file or folder"),
        (["ingest", "{tmp}"], "no .txt or .md files"),
        (["ingest", "{tmp}/binary.txt"], "not UTF-8"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    runner.invoke(app, ["migrate"], env=env)
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00\x81binary")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = [a.replace("{tmp}", str(empty) if a == "{tmp}" else str(tmp_path)) for a in args]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FACTCHECK_DATABASE_URL", "mysql://localhost/x"),
        ("FACTCHECK_PORT", "eighty"),
        ("FACTCHECK_LLM_MODE", "telepathy"),
    ],
)
def test_invalid_settings_exit_3_with_one_line(
    env: dict[str, str], variable: str, value: str
) -> None:
    result = runner.invoke(app, ["migrate"], env={**env, variable: value})
    assert result.exit_code == 3
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert variable in lines[0]


def test_unreachable_database_exits_4(env: dict[str, str]) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:1/none"
    result = runner.invoke(app, ["migrate"], env={**env, "FACTCHECK_DATABASE_URL": url})
    assert result.exit_code == 4
    assert "database unavailable" in result.output
    assert "Traceback" not in result.output
