"""One tool model: what listing, search, describe, filters and dispatch read of any tool.

A generated operation (`ToolDef`, run by the executor), a plugin's composite tool and a discovery
tool (`CompositeTool`, run by its handler) all answer the same attributes, so the surface has one
path for each job instead of one per kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import mcp_types as t

__all__ = ["KINDS", "ToolModel", "display_title", "filterable", "mcp_definition"]

#: generated: a OneAPI operation the executor runs; composite: a plugin's handler over operations;
#: discovery: a tool for finding and running the others (never hidden by a filter, never searched for)
KINDS = ("generated", "composite", "discovery")


class ToolModel(Protocol):
    """The attributes every tool has, whatever made it."""

    # read-only members: the tools are frozen dataclasses, which a protocol of plain attributes would not match
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def description(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def toolset(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def annotations(self) -> Mapping[str, bool]: ...


def display_title(tool: ToolModel) -> str:
    return tool.title or tool.name.replace("_", " ").capitalize()


def filterable(tool: ToolModel) -> bool:
    """Whether filters (profile, allow/deny, plugins') decide on it: every tool but the discovery ones."""
    return tool.kind != "discovery"


def mcp_definition(tool: ToolModel, input_schema: dict[str, Any]) -> t.Tool:
    """The tool as tools/list shows it, given its listed input schema."""
    import mcp_types as t

    a = tool.annotations
    title = display_title(tool)
    return t.Tool(
        name=tool.name, title=title, description=tool.description, input_schema=input_schema,
        annotations=t.ToolAnnotations(
            title=title, read_only_hint=a["readOnlyHint"], destructive_hint=a["destructiveHint"],
            idempotent_hint=a["idempotentHint"], open_world_hint=a["openWorldHint"]))
