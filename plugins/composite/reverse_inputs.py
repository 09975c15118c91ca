"""The input models of the reverse tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import PlanInput, ToolInput

__all__ = ["_ReleaseInput", "_ReverseInput", "_RunIdInput", "_UnblockDomainsInput", "_UnblockIpsInput"]


class _RunIdInput(ToolInput):
    run_id: str | None = Field(None, min_length=1, max_length=64,
                               description="The run_id the forward tool's result returned.")


class _ReverseInput(PlanInput, _RunIdInput):
    """A reverse tool: which forward run (run_id), dry_run and activate."""


class _ReleaseInput(_ReverseInput):
    user: str | None = Field(None, min_length=1, description="Instead of run_id: the user as given to "
                                                             "threat_isolate_account (latest run).")


class _UnblockDomainsInput(_ReverseInput):
    domains: list[str] | None = Field(
        None, min_length=1, max_length=500,
        description="Instead of run_id: the domains as given to threat_block_domains (latest run).")


class _UnblockIpsInput(_ReverseInput):
    addresses: list[str] | None = Field(
        None, min_length=1, max_length=1000,
        description="Instead of run_id: the addresses as given to remediation_block_ips (latest run).")
