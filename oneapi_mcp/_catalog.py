"""The generated tool surface as data: list every tool without importing a single pydantic model.

Definitions come from `oneapi_mcp.generated.<svc>.tools` (plain literals), input JSON schemas from
each service's `schemas.json` (read on first use), and input models are imported per toolset
module on first use, so listing 1,295 tools costs milliseconds and a call pays only for the
classes of its own toolset.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["Catalog", "ToolDef", "ToolsetDef", "load_catalog"]

_PACKAGE = "oneapi_mcp.generated"


@dataclass(frozen=True)
class ToolDef:
    """One generated tool: everything but its handler (the executor runs it)."""

    kind: ClassVar[str] = "generated"
    name: str
    title: str
    description: str
    service: str
    toolset: str
    scope: str
    annotations: dict[str, bool]
    method: str
    path: str
    operation_id: str
    input_model: str  # "<toolset module>:<class name>"
    params: tuple[tuple[str, str, str, bool, bool], ...]  # (field, wire name, location, required, explode)
    body_content_type: str | None
    pagination: dict | None
    rate_class: str
    resource: dict | None
    graphql: dict | None = None  # GraphQL operations: {operation, name, document, result} (see _graphql)


@dataclass(frozen=True)
class ToolsetDef:
    name: str
    description: str
    module: str
    tools: tuple[str, ...]


@dataclass
class Catalog:
    tools: dict[str, ToolDef]
    toolsets: dict[str, ToolsetDef]
    rate_classes: dict[str, dict]
    _schemas: dict[str, dict[str, dict]] = field(default_factory=dict, repr=False)

    @cached_property
    def services(self) -> tuple[str, ...]:
        return tuple(sorted({t.service for t in self.tools.values()}))

    def input_schema(self, name: str) -> dict[str, Any]:
        """The tool's input JSON schema (its input model's schema, compacted at generation time)."""
        tool = self.tools[name]
        if tool.service not in self._schemas:
            self._schemas[tool.service] = _service_schemas(tool.service)
        return self._schemas[tool.service][name]

    def input_model(self, name: str) -> type[BaseModel]:
        """The tool's pydantic input model; imports only that tool's toolset module."""
        tool = self.tools[name]
        module, cls = tool.input_model.split(":")
        return getattr(importlib.import_module(f"{_PACKAGE}.{tool.service}.inputs.{module}"), cls)


@cache
def _service_schemas(service: str) -> dict[str, dict[str, Any]]:
    """One service's input schemas, parsed once per process: every runtime's catalog (one per named server; the
    test suite builds hundreds) reads the same installed files, and ZIA's and ZPA's (1 MB and 1.3 MB of JSON)
    cost ~25 ms each to parse. Read-only: callers that change a schema copy it first (ToolSurface)."""
    text = resources.files(f"{_PACKAGE}.{service}").joinpath("schemas.json").read_text()
    return json.loads(text)["schemas"]


def read_document(service: str) -> dict[str, Any]:
    """One service's generated OpenAPI document, read and parsed now (not kept: callers that keep it cache it,
    as the mock does)."""
    return json.loads(resources.files(f"{_PACKAGE}.{service}").joinpath("openapi.json").read_text())


def load_catalog(services: tuple[str, ...] | None = None) -> Catalog:
    """Read the definition tables of the generated services (all of them by default)."""
    if services is None:
        services = importlib.import_module(_PACKAGE).SERVICES
    tools: dict[str, ToolDef] = {}
    toolsets: dict[str, ToolsetDef] = {}
    rate_classes: dict[str, dict] = {}
    for svc in services:
        table = importlib.import_module(f"{_PACKAGE}.{svc}.tools")
        for row in table.TOOLS:
            tools[row["name"]] = ToolDef(**row)
        for name, ts in table.TOOLSETS.items():
            toolsets[name] = ToolsetDef(name=name, description=ts["description"], module=ts["module"],
                                        tools=tuple(ts["tools"]))
        rate_classes.update(table.RATE_CLASSES)
    return Catalog(tools=tools, toolsets=toolsets, rate_classes=rate_classes)
