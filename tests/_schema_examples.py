"""Deterministic argument values built from a tool's listed JSON schema.

Two instances per schema: the simplest valid one (required arguments only) and one that sets every
top-level argument. hypothesis-jsonschema 0.23.1 fails against the hypothesis that schemathesis 4
needs, and hypothesis' own search over 1,295 large schemas takes far longer than a test run may, so
values are built directly: the first enum value, the minimum, "x", true, one-item arrays.
"""

from __future__ import annotations

__all__ = ["instance"]


def _value(schema: dict, defs: dict, depth: int, full: bool) -> object:
    if "$ref" in schema:
        if depth > 3:
            return {}
        return _value(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, depth + 1, False)
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _value(schema[key][0], defs, depth, full)
    kind = schema.get("type")
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "array":
        return [] if depth > 3 else [_value(schema.get("items", {}), defs, depth + 1, False)]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        keys = list(props) if full else [k for k in schema.get("required", []) if k in props]
        return {k: _value(props[k], defs, depth + 1, False) for k in keys}
    return "x"


def instance(schema: dict, *, full: bool = False) -> dict:
    """Arguments for a tool: required ones only, or (full=True) every top-level argument."""
    return _value(schema, schema.get("$defs", {}), 0, full)  # type: ignore[return-value]
