"""The output folder: one report per checked text, and a manifest that makes reruns resumable.

A report is `<file stem>.<content hash[:12]>.json` (the CheckReport as the API returns it);
`manifest.json` maps each content hash to its report, so a renamed file is still recognized.
Files are written whole (temporary file, then rename), so an interrupted run never leaves a
half report that a rerun would take as done.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from service.models import CheckReport

MANIFEST = "manifest.json"


class ReportDir:
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.entries: dict[str, dict] = self._load_manifest()

    @staticmethod
    def report_name(path: Path, digest: str) -> str:
        return f"{path.stem}.{digest[:12]}.json"

    def find(self, path: Path, digest: str) -> tuple[str, CheckReport] | None:
        """The report already written for this text, if any (and readable)."""
        names = [self.entries.get(digest, {}).get("report"), self.report_name(path, digest)]
        for name in names:
            if isinstance(name, str) and (report := self._read(name)) is not None:
                return name, report
        return None

    def save(self, path: Path, digest: str, report: CheckReport) -> str:
        name = self.report_name(path, digest)
        _write(self.root / name, report.model_dump_json(indent=2))
        self.entries[digest] = {
            "report": name,
            "file": str(path),
            "check_id": report.id,
            "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write(self.root / MANIFEST, json.dumps({"version": 1, "reports": self.entries}, indent=2))
        return name

    def write(self, name: str, text: str) -> Path:
        _write(self.root / name, text)
        return self.root / name

    def _read(self, name: str) -> CheckReport | None:
        try:
            return CheckReport.model_validate_json((self.root / name).read_bytes())
        except (OSError, ValidationError):
            return None  # missing or damaged: check the file again

    def _load_manifest(self) -> dict[str, dict]:
        try:
            data = json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))
            reports = data["reports"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}
        if not isinstance(reports, dict):
            return {}
        return {k: v for k, v in reports.items() if isinstance(v, dict)}


def _write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)
