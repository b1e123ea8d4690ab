"""Prompt templates: TOML data files in prompts/, validated on load, versioned by their hash.

A template file holds a `system` and a `user` part, the `variables` they use (written
`$name` or `${name}`, `$$` for a literal dollar sign) and a `description`:

    description = "What the prompt is for."
    variables = ["article"]
    system = "You extract claims."
    user = "<article>\\n$article\\n</article>"

The version is `name@<first 12 hex of sha256(file bytes)>`, so any edit, even to
whitespace, gives a new version and every claim records which prompt produced it.
"""

from __future__ import annotations

import hashlib
import string
import tomllib
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class PromptError(ValueError):
    """A template that cannot be loaded or rendered; the message names the file or variable."""


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    description: str = ""
    variables: list[str] = Field(description="Every placeholder the parts use, no others.")
    system: str = Field(min_length=1)
    user: str = Field(min_length=1)

    @model_validator(mode="after")
    def _variables_match(self) -> Self:
        used = _placeholders(self.system) | _placeholders(self.user)
        if used != set(self.variables):
            raise ValueError(
                f"variables {sorted(self.variables)} do not match placeholders {sorted(used)}"
            )
        return self

    def render(self, **variables: str) -> list[dict[str, str]]:
        """Return chat messages with the variables filled in; all of them, and only them."""
        missing = set(self.variables) - variables.keys()
        unknown = variables.keys() - set(self.variables)
        if missing or unknown:
            raise PromptError(
                f"prompt {self.name}: missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        return [
            {"role": "system", "content": string.Template(self.system).substitute(variables)},
            {"role": "user", "content": string.Template(self.user).substitute(variables)},
        ]


def load_prompt(name: str, prompts_dir: Path) -> Prompt:
    """Load and validate prompts_dir/<name>.toml."""
    path = Path(prompts_dir) / f"{name}.toml"
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PromptError(f"cannot read prompt {path}: {exc}") from exc
    if "name" in data or "version" in data:
        raise PromptError(f"{path}: name and version come from the file name and content")
    version = f"{name}@{hashlib.sha256(raw).hexdigest()[:12]}"
    try:
        return Prompt(name=name, version=version, **_strip_parts(data))
    except ValidationError as exc:
        raise PromptError(f"invalid prompt {path}: {exc}") from exc


def _strip_parts(data: dict[str, object]) -> dict[str, object]:
    # TOML multi-line strings keep the newline before the closing quotes; drop it.
    return {
        key: value.strip() if key in ("system", "user") and isinstance(value, str) else value
        for key, value in data.items()
    }


def _placeholders(template: str) -> set[str]:
    found: set[str] = set()
    for match in string.Template.pattern.finditer(template):
        if match.group("invalid") is not None:
            raise ValueError(f"invalid placeholder at offset {match.start('invalid')}")
        if name := match.group("named") or match.group("braced"):
            found.add(name)
    return found


__all__ = ["Prompt", "PromptError", "load_prompt"]
