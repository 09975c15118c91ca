"""The input models of the siem tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import DryRunInput, ToolInput, distinct_list

from .siem import _ALERT_HOURS, _SOURCES, EVENT_KINDS, _Str

__all__ = ["_ExportInput", "_FlushInput", "_NoInput", "_RegisterWebhookInput", "_RemoveWebhookInput"]


class _RegisterWebhookInput(ToolInput):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Webhook name.")
    url: _Str = Field(description="Receiver URL (https; http only to localhost).")
    secret: str | None = Field(None, min_length=16, description="Signing secret (default: generated).")
    events: distinct_list(Literal[EVENT_KINDS]) | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description="Which events it receives: audit (every tool call) and/or security "
                                        "(siem_export_events).")


class _NoInput(ToolInput):
    pass


class _RemoveWebhookInput(ToolInput):
    name: _Str = Field(description="Webhook name.")


class _ExportInput(DryRunInput):
    sources: distinct_list(Literal[tuple(_SOURCES)]) | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description="Which sources to read (default: all).")
    # the ZDX alert lists it reads document at most 14 days per request (plugins/composite/_kit/zdx_windows.py)
    hours: float = Field(24, gt=0, le=_ALERT_HOURS, description=(
        f"How far back to read, in hours (at most {_ALERT_HOURS}: ZDX alert lists answer at most 14 days)."))
    destinations: list[str] | None = Field(None, min_length=1, description="Only these destinations (default: "
                                                                           "all that take security events).")


class _FlushInput(ToolInput):
    destination: _Str | None = Field(None, description="Only this destination (default: all).")
