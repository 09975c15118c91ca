"""The field names each operation sends and returns, as words search can match lightly.

A request often names a property rather than the object: "the category of a URL", "a pre-shared key",
"double encryption", "which fields a feed outputs". The operation's own parameters, request body and
response properties (one level, `$ref`s and arrays followed) say which operations carry such a property.
They are read from each service's generated OpenAPI document when the search index is first built.
"""

from __future__ import annotations

from typing import Any

from ._catalog import read_document

__all__ = ["operation_fields"]

# everywhere, so they tell no operation apart; ids of the tenant are in every path
_COMMON = {"id", "name", "description", "customerId", "microtenantId", "page", "pageSize", "pagesize", "search",
           "body", "orgId", "org_id"}


def operation_fields(tools: Any) -> dict[str, list[str]]:
    """Tool name -> the names of its parameters, body properties and response properties (camelCase, as the API
    spells them). GraphQL operations (one path for all) get none."""
    by_service: dict[str, list[Any]] = {}
    for tool in tools:
        if getattr(tool, "graphql", None) is None:
            by_service.setdefault(tool.service, []).append(tool)
    out: dict[str, list[str]] = {}
    for service, service_tools in by_service.items():
        doc = _document(service)
        if doc is None:
            continue
        schemas = doc.get("components", {}).get("schemas", {})
        for tool in service_tools:
            op = doc.get("paths", {}).get(tool.path, {}).get(tool.method.lower())
            if op is not None:
                out[tool.name] = sorted(_names(op, schemas) - _COMMON)
    return out


def _document(service: str) -> dict[str, Any] | None:
    try:
        return read_document(service)
    except (FileNotFoundError, ModuleNotFoundError):
        return None


def _names(op: dict[str, Any], schemas: dict[str, Any]) -> set[str]:
    names = {p["name"] for p in op.get("parameters", []) if "name" in p}
    bodies = [op.get("requestBody", {}), op.get("responses", {}).get("200", {})]
    for part in bodies:
        for content in (part.get("content") or {}).values():
            names |= _properties(content.get("schema") or {}, schemas)
    return names


def _properties(schema: dict[str, Any], schemas: dict[str, Any], depth: int = 0) -> set[str]:
    """The property names of a schema, through `$ref`, array items and allOf; one level of objects."""
    if depth > 4:
        return set()
    if "$ref" in schema:
        return _properties(schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}), schemas, depth + 1)
    if schema.get("type") == "array":
        return _properties(schema.get("items") or {}, schemas, depth + 1)
    names = set((schema.get("properties") or {}).keys())
    for part in schema.get("allOf") or []:
        names |= _properties(part, schemas, depth + 1)
    return names
