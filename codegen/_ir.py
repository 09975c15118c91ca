"""The generator's intermediate representation: frozen, sorted, free of I/O.

`codegen._parse` builds it from a loaded spec; `codegen._render` turns it into files without
making any decision of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Annotations",
    "Operation",
    "Param",
    "Problem",
    "Scope",
    "Service",
    "SpecError",
    "Toolset",
]

Scope = Literal["read", "write", "destructive"]


@dataclass(frozen=True)
class Problem:
    """Something wrong in a spec: `error` stops generation, `warning` is reported and generation goes on."""

    level: Literal["error", "warning"]
    file: str
    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.file}#{self.pointer}: {self.message}"


class SpecError(Exception):
    """Raised with every error-level problem found, after all of them were gathered."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Annotations:
    """The four MCP tool annotations, all derived from the scope (and the HTTP method for idempotence)."""

    read_only_hint: bool
    destructive_hint: bool
    idempotent_hint: bool
    open_world_hint: bool = True


@dataclass(frozen=True)
class Param:
    """One tool argument that maps to a path or query parameter, or to the request body."""

    field_name: str  # the argument name in the tool's input (a Python identifier)
    wire_name: str  # the name on the wire (path template variable or query key)
    location: Literal["path", "query", "body", "variable"]  # variable: of a GraphQL document
    required: bool
    schema: dict = field(hash=False, compare=False)
    description: str = ""
    explode: bool = False
    content_type: str = ""  # body only


@dataclass(frozen=True)
class Operation:
    service: str
    operation_id: str
    tool_name: str
    input_model: str  # class name of the generated input model
    method: str
    path: str
    title: str
    description: str
    scope: Scope
    annotations: Annotations
    toolset: str
    rate_class: str
    params: tuple[Param, ...]
    pagination: dict | None = field(default=None, hash=False, compare=False)
    resource: dict | None = field(default=None, hash=False, compare=False)
    hand_written_description: bool = False
    pointer: str = ""  # JSON pointer of the operation in its spec
    # GraphQL operations (x-oneapi-graphql): {operation, name, document, result}; arguments are its variables
    graphql: dict | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class Toolset:
    name: str
    description: str
    tools: tuple[str, ...]


@dataclass(frozen=True)
class Service:
    name: str
    title: str
    spec_file: str
    spec_sha256: str
    overlay_sha256: str
    operations: tuple[Operation, ...]
    toolsets: tuple[Toolset, ...]
    schemas: dict = field(hash=False, compare=False)  # components/schemas after overlays
    request_schemas: dict = field(hash=False, compare=False)  # as used inside request bodies
    rate_classes: dict = field(hash=False, compare=False)
    openapi: dict = field(default_factory=dict, hash=False, compare=False)  # the spec after overlays
    secret_fields: tuple[str, ...] = ()  # field names whose values are secrets (see codegen._secrets)
    not_secret_fields: tuple[str, ...] = ()  # named like secrets, but not (reviewed false positives)
    # its row of the services table (generated/services.py): short name, title, base paths, rate
    # classes, 429 style, the entitlement probe's tool and arguments, operation count
    info: dict = field(default_factory=dict, hash=False, compare=False)
