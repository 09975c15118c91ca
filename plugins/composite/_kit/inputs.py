"""The input-model mixins composite families share (a window's from/to; a ZDX window's from/to/period):
imported by the families' `*_inputs` modules on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import ToolInput

from .time_windows import window_field
from .zdx import WINDOW_PROPERTIES

__all__ = ["WindowInput", "ZdxWindowInput"]


class WindowInput(ToolInput):
    """The from/to arguments of a tool over a window (WINDOW_ARGUMENTS)."""

    from_: str | None = window_field("from")
    to: str | None = window_field("to")


class ZdxWindowInput(ToolInput):
    """A report over a time window: from/to or period (WINDOW_PROPERTIES)."""

    from_: str | None = Field(None, alias="from", description=WINDOW_PROPERTIES["from"]["description"])
    to: str | None = Field(None, description=WINDOW_PROPERTIES["to"]["description"])
    period: str | None = Field(None, pattern=WINDOW_PROPERTIES["period"]["pattern"],
                               description=WINDOW_PROPERTIES["period"]["description"])
