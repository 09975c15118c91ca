"""The input models of the discovery tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from oneapi_mcp.plugin_api import SCOPE_ORDER, ToolInput

from .discovery_tools import _NAME, SERVICES

__all__ = ["_EnableInput", "_InvokeInput", "_NameInput", "_SearchInput"]


def _not_blank(query: str) -> str:
    if not query.strip():
        raise ValueError("the query is blank: say what you want, e.g. 'disable a user'")
    return query


class _SearchInput(ToolInput):
    # every check search_operations needs is here (the handler runs none of its own); _not_blank leaves the schema
    query: Annotated[str, AfterValidator(_not_blank)] = Field(
        min_length=1, description="What you want, e.g. 'disable a user', 'which URL category is example.com in', "
                                  "'list app segments in private access'.")
    service: Literal[tuple(SERVICES)] | None = None  # type: ignore[valid-type]
    scope: Literal[SCOPE_ORDER] | None = None  # type: ignore[valid-type]
    limit: int = Field(10, ge=1, le=50, strict=True)  # as JSON gives it: true or "5" is no limit


class _NameInput(ToolInput):
    name: str = Field(description=_NAME)


class _InvokeInput(_NameInput):
    # listed only: a call of invoke_operation is resolved to the tool it names, whose own input checks the arguments
    arguments: dict[str, Any] | None = Field(None, description="The operation's arguments.")


class _EnableInput(ToolInput):
    name: str | None = Field(None, description="Toolset name; omit to list toolsets.")
