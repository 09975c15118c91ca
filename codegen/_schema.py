"""JSON-schema helpers for rendering: subsets of a spec's schemas, and compact tool input schemas."""

from __future__ import annotations

import copy
import re

__all__ = ["compact_input_schema", "open_schema", "reachable_schemas", "request_schemas", "strip_read_only"]

_REF = re.compile(r"^#/(?:components/schemas|\$defs)/(.+)$")


def _refs(node: object, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)):
            out.add(m.group(1))
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)


def reachable_schemas(roots: list[dict], schemas: dict[str, dict]) -> dict[str, dict]:
    """The named schemas that `roots` reference, directly or through each other, sorted by name."""
    found: set[str] = set()
    todo: set[str] = set()
    for root in roots:
        _refs(root, todo)
    while todo:
        name = todo.pop()
        if name in found or name not in schemas:
            continue
        found.add(name)
        _refs(schemas[name], todo)
    return {name: schemas[name] for name in sorted(found)}


def strip_read_only(schema: dict) -> dict:
    """Drop properties marked readOnly (server-set fields never sent in a request)."""
    out = copy.deepcopy(schema)
    props = out.get("properties")
    if isinstance(props, dict):
        ro = {k for k, v in props.items() if isinstance(v, dict) and v.get("readOnly")}
        for k in ro:
            del props[k]
        if "required" in out:
            out["required"] = [r for r in out["required"] if r not in ro]
            if not out["required"]:
                del out["required"]
    return out


_NULL = {"type": "null"}


def _simplify(node: object, *, in_properties: bool = False) -> object:
    """Remove pydantic's per-field titles and `anyOf [X, null]` wrappers on optional fields."""
    if isinstance(node, list):
        return [_simplify(v) for v in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # keys are property names, not keywords
        return {k: _simplify(v) for k, v in node.items()}
    out: dict = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = _simplify(value, in_properties=True)
        else:
            out[key] = _simplify(value)
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and _NULL in any_of:
        other = next(v for v in any_of if v != _NULL)
        rest = {k: v for k, v in out.items() if k != "anyOf"}
        if rest.get("default", 0) is None:
            del rest["default"]
        merged = dict(other) if isinstance(other, dict) else {}
        merged.update(rest)
        return merged
    return out


def _recursive_defs(defs: dict[str, dict]) -> set[str]:
    edges = {}
    for name, schema in defs.items():
        found: set[str] = set()
        _refs(schema, found)
        edges[name] = found & set(defs)
    recursive: set[str] = set()
    for start in defs:
        stack, seen = list(edges[start]), set()
        while stack:
            n = stack.pop()
            if n == start:
                recursive.add(start)
                break
            if n not in seen:
                seen.add(n)
                stack.extend(edges.get(n, ()))
    return recursive


def compact_input_schema(schema: dict) -> dict:
    """A client-friendly input schema: refs to non-recursive definitions inlined, titles and
    null-wrappers removed. Recursive definitions stay in `$defs`."""
    schema = _simplify(copy.deepcopy(schema))  # type: ignore[assignment]
    defs: dict[str, dict] = schema.pop("$defs", {})
    keep = _recursive_defs(defs)

    def inline(node: object, depth: int = 0) -> object:
        if isinstance(node, list):
            return [inline(v, depth) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)) and m.group(1) in defs and m.group(1) not in keep:
            target = inline(defs[m.group(1)], depth + 1)
            extra = {k: v for k, v in node.items() if k != "$ref"}
            return {**target, **extra} if isinstance(target, dict) else target
        return {k: inline(v, depth) for k, v in node.items()}

    out = inline(schema)
    kept = {name: inline(defs[name]) for name in sorted(keep)}
    if kept:
        out["$defs"] = kept  # type: ignore[index]
    return out  # type: ignore[return-value]


def _ref_name(node: object) -> str | None:
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        m = _REF.match(node["$ref"])
        return m.group(1) if m else None
    return None


def open_schema(node: object) -> object:
    """Let a request body carry fields the spec does not know: the tenant accepts fields the SDK's
    models lack (tests/recorded/: NSS feeds are created with feedType and enabled), so an object
    schema without its own `additionalProperties` keeps unknown keys instead of dropping them. The
    executor names what it passes through (`oneapi_mcp._passthrough`)."""
    if isinstance(node, list):
        return [open_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: open_schema(v) if k in ("items", "allOf", "anyOf", "oneOf") else v for k, v in node.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: open_schema(v) for k, v in node["properties"].items()}
        out.setdefault("additionalProperties", True)
    return out


def request_schemas(schemas: dict[str, dict], resource_types: set[str]) -> dict[str, dict]:
    """The schemas as they are used inside request bodies.

    Server-set (readOnly) properties are removed, and a property that holds another resource
    (one with its own load endpoint) is reduced to a reference: `{id, name}` plus pass-through of
    anything else. That is how OneAPI bodies refer to other objects, and it keeps input schemas
    small (ZPA's provisioning body shrinks from ~60 KB).
    """
    out: dict[str, dict] = {}
    refs: dict[str, str] = {}

    def ref_schema_name(target: str) -> str:
        if target not in refs:
            name = f"{target}Ref"
            while name in schemas:
                name += "_"
            refs[target] = name
        return refs[target]

    def reduce(node: object) -> object:
        target = _ref_name(node)
        if target in resource_types and "id" in (schemas.get(target, {}).get("properties") or {}):
            return {"$ref": f"#/components/schemas/{ref_schema_name(target)}"}
        if isinstance(node, dict) and node.get("type") == "array":
            return {**node, "items": reduce(node.get("items"))}
        return node

    for name, schema in schemas.items():
        s = strip_read_only(schema)
        if isinstance(s.get("properties"), dict):
            s["properties"] = {k: reduce(v) for k, v in s["properties"].items()}
        out[name] = open_schema(s)
    for target, name in sorted(refs.items()):
        props = schemas[target]["properties"]
        out[name] = {
            "type": "object",
            "description": f"A reference to a {target} by its id; other {target} fields are passed through as given.",
            "properties": {k: copy.deepcopy(props[k]) for k in ("id", "name") if k in props},
            "additionalProperties": True,
        }
    return dict(sorted(out.items()))
