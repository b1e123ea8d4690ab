"""Exports the API contract (pydantic models) as JSON Schema files into schemas/."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from service import models
from service.settings import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "schemas"

# The models a client sends or receives; nested models are $defs inside them.
CONTRACT: dict[str, type[BaseModel]] = {
    "article_in": models.ArticleIn,
    "article": models.ArticleOut,
    "article_page": models.Page,
    "claim": models.ClaimOut,
    "check_in": models.CheckIn,
    "check_report": models.CheckReport,
    "health": models.Health,
}


def render() -> dict[str, str]:
    """File name → file text, exactly as it is written to disk."""
    files = {}
    for name, model in CONTRACT.items():
        mode = "validation" if name.endswith("_in") else "serialization"
        schema = model.model_json_schema(mode=mode)
        files[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for file_name, content in render().items():
        path = directory / file_name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    for stale in set(directory.glob("*.schema.json")) - set(written):
        stale.unlink()
    return written
