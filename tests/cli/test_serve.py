"""`factcheck serve`: migrate once in the parent, then one process or N workers (uvicorn faked)."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from litestar import Litestar
from typer.testing import CliRunner

from service import asgi
from service.cli import app
from service.metrics import MULTIPROC_ENV

runner = CliRunner()


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """serve and asgi.create configure the root logger; put pytest's handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def keep_collector() -> Iterator[None]:
    """serve and asgi.create tune this process's garbage collector; undo it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    return {
        "FACTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "FACTCHECK_SEED_DIR": "",
        "FACTCHECK_LOG_FORMAT": "text",
    }


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run replaced by a recorder of what it was asked, and the environment then."""
    calls: list[dict[str, Any]] = []

    def fake_run(target: Any, **options: Any) -> None:
        folder = os.environ.get(MULTIPROC_ENV)
        calls.append({"target": target, "metrics_dir": folder, **options})
        assert folder is None or Path(folder).is_dir()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    return calls


def test_workers_get_the_factory_and_a_shared_metrics_folder(
    env: dict[str, str], served: list[dict[str, Any]]
) -> None:
    result = runner.invoke(app, ["serve", "--workers", "3", "--port", "8123"], env=env)
    assert result.exit_code == 0, result.output
    assert "with 3 workers" in result.output
    (call,) = served
    assert call["target"] == "service.asgi:create"
    assert (call["factory"], call["workers"], call["port"]) == (True, 3, 8123)
    assert call["log_config"] is None  # our handler, not uvicorn's, formats its lines
    assert call["access_log"] is False  # one access line per request, ours, with its id
    assert call["metrics_dir"] is not None
    assert not Path(call["metrics_dir"]).exists()  # removed when the server stops
    assert MULTIPROC_ENV not in os.environ
    assert Path("serve.db").exists()  # migrated in the parent, before the workers


def test_one_worker_serves_the_app_object(
    env: dict[str, str], served: list[dict[str, Any]]
) -> None:
    result = runner.invoke(app, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    (call,) = served
    assert isinstance(call["target"], Litestar)
    assert "workers" not in call
    assert call["metrics_dir"] is None
    assert_settled()


def assert_settled() -> None:
    # Tuned for serving: startup's objects frozen out of collections, a larger young budget.
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == asgi.GC_YOUNG_ALLOCATIONS


def test_workers_from_the_environment(env: dict[str, str], served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve"], env={**env, "FACTCHECK_WORKERS": "2"})
    assert result.exit_code == 0, result.output
    assert served[0]["workers"] == 2


def test_bad_worker_counts_are_refused(env: dict[str, str], served: list[dict[str, Any]]) -> None:
    option = runner.invoke(app, ["serve", "--workers", "0"], env=env)
    assert option.exit_code == 2  # usage error, from the option's own bounds
    assert "--workers" in option.output
    variable = runner.invoke(app, ["serve"], env={**env, "FACTCHECK_WORKERS": "0"})
    assert variable.exit_code == 3
    assert "FACTCHECK_WORKERS" in variable.output
    assert served == []


def test_worker_factory_builds_the_app_from_the_environment(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**env, "FACTCHECK_LOG_LEVEL": "warning"}.items():
        monkeypatch.setenv(name, value)
    assert isinstance(asgi.create(), Litestar)
    assert logging.getLogger().level == logging.WARNING
    assert_settled()
