"""schemas/ must match the pydantic models: the exported files are the published contract."""

from __future__ import annotations

from service.schemas import SCHEMA_DIR, render


def test_schema_files_match_models() -> None:
    expected = render()
    on_disk = {path.name: path.read_text(encoding="utf-8") for path in SCHEMA_DIR.glob("*.json")}
    assert sorted(on_disk) == sorted(expected), "run `factcheck export-schemas`"
    for name, content in expected.items():
        assert on_disk[name] == content, f"{name} is stale: run `factcheck export-schemas`"


def test_claim_schema_carries_what_comparison_needs() -> None:
    import json

    claim = json.loads(render()["claim.schema.json"])
    assert {"statement", "quote", "span", "claimant", "quantities", "time"} <= set(
        claim["properties"]
    )
    quantity = claim["$defs"]["Quantity"]["properties"]
    assert {"value", "unit", "dimension", "measure", "qualifier"} <= set(quantity)
