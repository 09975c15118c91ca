"""The input models of the scheduler tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from oneapi_mcp.plugin_api import DryRunInput, ToolInput, distinct_list

from .scheduler import STATUSES, _Bounded

__all__ = ["_CancelInput", "_ListInput", "_ScheduleInput"]


class _ScheduleInput(DryRunInput):
    tool: _Bounded = Field(description="The tool to run: a write operation (e.g. zia_update_url_filtering_rule) or a "
                                       "composite tool (e.g. threat_block_domains) this server allows.")
    arguments: dict[str, Any] | None = Field(None, description="Its arguments, checked now as a direct call would "
                                                               "check them. A composite tool runs with dry_run=false.")
    run_at: _Bounded = Field(description="When: ISO 8601 with an offset (2025-07-01T22:00:00+02:00, or Z for UTC), or "
                                         "a local date and time (2025-07-01T22:00) with time_zone. Not in the past.")
    time_zone: _Bounded | None = Field(None, description="IANA time zone of a local run_at, e.g. Europe/Berlin.")
    note: str | None = Field(None, max_length=500, description="Why (shown in the list and the history).")
    confirm_token: str | None = Field(None, description="Scheduling a destructive tool needs confirmation: the first "
                                                        "call with dry_run=false returns the plan and this token; "
                                                        "call again with it.")


class _ListInput(ToolInput):
    status: distinct_list(Literal[STATUSES]) | None = Field(  # type: ignore[valid-type]
        None, description="Only changes in these states (default all).")
    id: str | None = Field(None, min_length=1, description="One change, with its history.")
    limit: int = Field(50, ge=1, le=500, description="At most this many changes (pending first, by time).")


class _CancelInput(ToolInput):
    id: str = Field(min_length=1, description="The change's id (chg_...).")
