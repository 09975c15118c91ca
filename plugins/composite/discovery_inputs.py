"""The input models of the discovery tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import ToolInput, distinct_list

from .discovery import SERVICES

__all__ = ["_StatusInput"]


class _StatusInput(ToolInput):
    services: distinct_list(Literal[tuple(SERVICES)]) | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description=f"Services to check (default all: {', '.join(SERVICES)}).")
    top_alerts: int = Field(5, ge=0, le=50, description="How many ZDX ongoing alerts to list, most severe first.")
    timeout_seconds: float = Field(30, ge=1, le=300, description="Deadline per service; a service that misses it is "
                                                                 "reported as timed out.")
