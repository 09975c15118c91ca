"""The input models of the policy_automation tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from oneapi_mcp.plugin_api import OnFailure, PlanInput, ToolInput, on_failure_field

__all__ = ["_ProposedOperation", "_SetLevelInput", "_TestChangeInput"]


class _SetLevelInput(PlanInput):
    level: str = Field(min_length=1, description="Name of the threat level to set.")
    on_failure: OnFailure = on_failure_field("continue")


class _ProposedOperation(ToolInput):
    operation: str = Field(description="e.g. zia_update_url_filtering_rule")
    arguments: dict[str, Any] | None = Field(None, description="Its arguments.")


class _TestChangeInput(ToolInput):
    operations: list[_ProposedOperation] | None = Field(
        None, min_length=1, max_length=50,
        description="The change: generated write operations to apply in order, as {operation, arguments}.")
    threat_level: str | None = Field(None, min_length=1,
                                     description="Instead of operations: a configured threat level to apply.")
    urls: list[str] | None = Field(None, max_length=500,
                                   description="URLs or domains to look up and match against URL filtering rules.")
    ips: list[str] | None = Field(None, max_length=500,
                                  description="Destination IPs to match against firewall filtering rules.")
