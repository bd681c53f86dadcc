"""Reading the regulator's OpenAPI files: the enums a response schema allows, and the schema itself as plain
JSON Schema (refs inlined, OAS-only keywords translated) for generating documents."""

from __future__ import annotations

import re
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

# Keywords that describe rather than constrain; dropped so generation sees only the contract.
_DESCRIPTIVE = {"description", "example", "examples", "title", "externalDocs", "deprecated", "readOnly", "writeOnly"}


@cache
def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        spec: dict[str, Any] = yaml.safe_load(fh)
    return spec


def _ref(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def enums(spec: dict[str, Any], schema: str) -> dict[str, list[str]]:
    """Every enum reachable from `components.schemas[schema]`, keyed by property path (`data[].type`)."""
    found: dict[str, list[str]] = {}

    def walk(node: Any, path: str, seen: frozenset[str]) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            if node["$ref"] in seen:
                return
            seen = seen | {node["$ref"]}
            node = _ref(spec, node["$ref"])
        if "enum" in node:
            found.setdefault(path.lstrip("."), []).extend(v for v in node["enum"] if v not in found.get(path, []))
        for key in ("allOf", "oneOf", "anyOf"):
            for sub in node.get(key, []):
                walk(sub, path, seen)
        if "items" in node:
            walk(node["items"], f"{path}[]", seen)
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, f"{path}.{name}", seen)

    walk(spec["components"]["schemas"][schema], "", frozenset())
    return {k.lstrip("."): sorted(set(v)) for k, v in found.items()}


def json_schema(spec: dict[str, Any], schema: str) -> dict[str, Any]:
    """`components.schemas[schema]` with every $ref inlined and OAS 3.0 `nullable` as a JSON Schema type."""

    def inline(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [inline(n, seen) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in seen:  # recursive schemas do not occur in these specs; cut rather than loop
                return {}
            return inline(_ref(spec, ref), seen | {ref})
        out = {k: inline(v, seen) for k, v in node.items() if k not in _DESCRIPTIVE and k != "nullable"}
        if node.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out

    result: dict[str, Any] = inline(spec["components"]["schemas"][schema], frozenset())
    return result


# ---- documents from a schema -------------------------------------------------------------------
# hypothesis-jsonschema would be the obvious tool, but its latest release (0.23.1) fails on the
# installed Hypothesis (6.170: "'many' object has no attribute 'more'" in every object schema), so this
# covers the subset of JSON Schema the Open Finance specs use: types, enum, pattern, formats, lengths,
# bounds, required/optional properties, allOf/oneOf/anyOf, arrays.

_UTC = st.just(UTC)


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    if "pattern" in schema:
        pattern = schema["pattern"]
        # ECMA-262 \d and \w are ASCII; Python's match any Unicode digit or letter.
        anchored = pattern if pattern.startswith("^") else f"^(?:{pattern})$"
        text = st.from_regex(re.compile(anchored, re.ASCII), fullmatch=True)
        return text.filter(lambda s: low <= len(s) <= high)
    fmt = schema.get("format")
    if fmt == "date-time":
        return st.datetimes(timezones=_UTC).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if fmt == "date":
        return st.dates().map(lambda d: d.isoformat())
    return st.text(min_size=low, max_size=min(high, low + 40))


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key == "properties":
                merged.setdefault("properties", {}).update(value)
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            else:
                merged[key] = value
    return merged


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for `schema` (a ref-free JSON Schema as `json_schema` returns it)."""
    if "allOf" in schema:
        return strategy(_merge([{k: v for k, v in schema.items() if k != "allOf"}, *schema["allOf"]]))
    for key in ("oneOf", "anyOf"):
        if key in schema:
            rest = {k: v for k, v in schema.items() if k != key}
            return st.one_of([strategy(_merge([rest, option])) for option in schema[key]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([strategy({**schema, "type": k}) for k in kind])
    if kind == "null":
        return st.none()
    if kind == "boolean":
        return st.booleans()
    if kind == "integer" or (kind == "number" and schema.get("format") == "integer"):
        return st.integers(schema.get("minimum", -(10**6)), schema.get("maximum", 10**6))
    if kind == "number":
        # As the API parses JSON numbers (parse_float=Decimal): never binary floats.
        low, high = schema.get("minimum", -(10**6)), schema.get("maximum", 10**6)
        return st.decimals(low, high, places=4, allow_nan=False, allow_infinity=False)
    if kind == "string":
        return _string(schema)
    if kind == "array" or "items" in schema:
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 2), low + 2)
        return st.lists(strategy(schema.get("items", {})), min_size=low, max_size=high)
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", [])) & set(props)
        return st.fixed_dictionaries(
            {k: strategy(v) for k, v in props.items() if k in required},
            optional={k: strategy(v) for k, v in props.items() if k not in required},
        )
    return st.none()
