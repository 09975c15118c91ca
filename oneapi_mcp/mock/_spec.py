"""The vendored OpenAPI documents, read once into the operation table the mock is built from.

Everything the mock does per request is decided here, at start: which collection an operation
reads or writes, how it paginates, which rate class it spends. Handlers then only look the
answer up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .._catalog import read_document
from ..generated.services import SERVICES as SERVICE_TABLE
from ..generated.services import service_for_path as table_service_for_path

__all__ = [
    "SERVICES",
    "TENANT_PARAMS",
    "CollectionInfo",
    "Operation",
    "Param",
    "ServiceSpec",
    "load_document",
    "load_services",
    "service_for_path",
    "template_params",
]

SERVICES = tuple(SERVICE_TABLE)

# Path parameters that name the tenant rather than an object: any value is accepted and it
# never becomes part of a store key, so one mock tenant answers for every customerId.
TENANT_PARAMS = frozenset({"customerId"})

_PARAM = re.compile(r"\{([^}]+)\}")


def template_params(template: str) -> list[str]:
    """The parameter names of a path template, in order."""
    return _PARAM.findall(template)


def service_for_path(path: str) -> str | None:
    """The service whose operations live under the path's first segment (ZIdentity's is /ziam)."""
    return table_service_for_path(path)


@cache
def load_document(service: str) -> dict[str, Any]:
    """The generated OpenAPI document of one service (shared, never mutate it)."""
    return read_document(service)


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path | query | header
    required: bool
    schema: dict[str, Any]


@dataclass
class Operation:
    service: str
    method: str  # upper case
    path: str  # the template, e.g. /zia/api/v1/users/{id}
    operation_id: str
    params: tuple[Param, ...]
    body_media_type: str | None
    body_schema: dict[str, Any] | None
    body_required: bool
    success_status: int
    response_schema: dict[str, Any] | None
    scope: str
    rate_class: str | None
    pagination: dict[str, Any] | None
    resource: dict[str, Any] | None
    # Filled in by the planner (_plan.py): what the handler does and with which collection.
    kind: str = "generic"
    collection: str | None = None
    id_param: str | None = None
    id_field: str = "id"
    # GraphQL endpoints: operation name -> its spec operation (the path's own and its x-oneapi-variants)
    graphql: dict[str, dict[str, Any]] | None = None

    @property
    def action(self) -> str | None:
        return (self.resource or {}).get("action")


@dataclass(frozen=True)
class CollectionInfo:
    item_schema: dict[str, Any]
    id_field: str  # "__key" when the objects have no id of their own
    id_style: str  # int | digits | zid


@dataclass
class ServiceSpec:
    name: str
    document: dict[str, Any]
    schemas: dict[str, Any]
    rate_classes: dict[str, list[str]]
    paths: dict[str, dict[str, Operation]] = field(default_factory=dict)
    collections: dict[str, CollectionInfo] = field(default_factory=dict)  # filled by the planner

    @property
    def operations(self) -> list[Operation]:
        return [op for methods in self.paths.values() for op in methods.values()]


def _success(responses: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    for code in sorted(c for c in responses if c.isdigit()):
        if code.startswith("2"):
            content = responses[code].get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            return int(code), (media or {}).get("schema")
    return 200, None


def _shared_path_schema(raw: dict[str, Any], param: dict[str, Any]) -> dict[str, Any]:
    """A path parameter of an endpoint that other model operations share (`x-oneapi-variants`, e.g. a
    ZDX application id or a predefined application's name) takes what any of them sends."""
    schema = param.get("schema") or {}
    if param.get("in") != "path":
        return schema
    options = [schema]
    for variant in raw.get("x-oneapi-variants", ()):
        for other in variant.get("parameters", ()):
            if other.get("in") == "path" and other.get("name") == param["name"] and other.get("schema") not in options:
                options.append(other.get("schema") or {})
    return schema if len(options) == 1 else {"anyOf": options}


def _operation(service: str, path: str, method: str, raw: dict[str, Any]) -> Operation:
    params = tuple(
        Param(p["name"], p["in"], bool(p.get("required")), _shared_path_schema(raw, p))
        for p in raw.get("parameters", ())
    )
    body = raw.get("requestBody") or {}
    content = body.get("content") or {}
    media_type = next(iter(content), None)
    status, response_schema = _success(raw.get("responses", {}))
    return Operation(
        service=service,
        method=method.upper(),
        path=path,
        operation_id=raw.get("operationId", f"{method}{path}"),
        params=params,
        body_media_type=media_type,
        body_schema=content[media_type].get("schema") if media_type else None,
        body_required=bool(body.get("required")),
        success_status=status,
        response_schema=response_schema,
        scope=raw.get("x-oneapi-scope", "read"),
        rate_class=raw.get("x-oneapi-rate-class"),
        pagination=raw.get("x-oneapi-pagination"),
        resource=raw.get("x-oneapi-resource"),
        graphql={each["x-oneapi-graphql"]["name"]: each for each in (raw, *raw.get("x-oneapi-variants", ()))
                 if "x-oneapi-graphql" in each} or None,
    )


def load_services(services: tuple[str, ...] | list[str] | None = None) -> dict[str, ServiceSpec]:
    """Read the specs of the given services (all of them by default) into operation tables."""
    from ._contract import corrected_document

    loaded: dict[str, ServiceSpec] = {}
    for name in services or SERVICES:
        if name not in SERVICES:
            raise ValueError(f"unknown service {name!r}; expected one of {', '.join(SERVICES)}")
        doc = corrected_document(name)
        classes = {key: list(value.get("limits", ())) for key, value in doc.get("x-oneapi-rate-classes", {}).items()}
        spec = ServiceSpec(name, doc, doc.get("components", {}).get("schemas", {}), classes)
        for path, item in doc["paths"].items():
            spec.paths[path] = {
                method.upper(): _operation(name, path, method, raw)
                for method, raw in item.items()
                if method in ("get", "put", "post", "delete", "patch")
            }
        loaded[name] = spec
    return loaded
