"""The input models of the threat_response tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from oneapi_mcp.plugin_api import DryRunInput, OnFailure, PlanInput, on_failure_field, service_list

from ._kit.containment import CONTAINMENT_SERVICES

__all__ = ["_BlockDomainsInput", "_IsolateInput", "_QuarantineInput"]


class _BlockDomainsInput(PlanInput):
    domains: list[str] = Field(min_length=1, max_length=500,
                               description="Domains to block, e.g. evil.example; a leading dot (.evil.example) also "
                                           "covers subdomains.")
    method: Literal["category", "denylist"] = Field(
        "category", description="ZIA mechanism: a custom URL category plus BLOCK rule, or the ATP malicious-URL "
                                "denylist.")
    category: str | None = Field(None, min_length=1, max_length=64,
                                 description="Custom URL category to use or create (default 'oneapi-mcp blocked "
                                             "domains').")
    zpa: bool = Field(True, description="Also act in ZPA on application segments that serve these domains (see "
                                        "zpa_groups and zpa_deny_everyone).")
    zpa_groups: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, min_length=1, max_length=20, description="ZPA SCIM groups to deny the matching application segments to.")
    zpa_deny_everyone: bool = Field(False, description="Deny the matching application segments to everyone (a "
                                                       "deny-all rule placed first); only on this explicit request.")
    force: bool = Field(False, description="Block even the tenant's own domains (refused by default).")
    on_failure: OnFailure = on_failure_field("continue")
    services: service_list(("zia", "zpa")) = None  # type: ignore[valid-type]


class _IsolateInput(PlanInput):
    user: str = Field(min_length=1, description="Email / login name, or ZIdentity user id.")
    reset_password: bool = True
    zia: bool = Field(True, description="Also block the ZIA user with a firewall rule.")
    zpa: bool = Field(True, description="Also deny the person in ZPA.")
    on_failure: OnFailure = on_failure_field("continue")
    services: service_list(CONTAINMENT_SERVICES) = None  # type: ignore[valid-type]


class _QuarantineInput(DryRunInput):
    device: str | None = Field(None, min_length=1, description="Client Connector udid or hostname.")
    user: str | None = Field(None, min_length=1, description="Instead of device: every device of this user (email "
                                                             "or ZIdentity id).")
    force: bool = Field(False, description="forceRemoveDevices (immediate) instead of removeDevices.")
    deny_owner_in_zpa: bool = True
    posture_profile: str | None = Field(None, min_length=1, description="Also deny, tenant-wide, devices failing "
                                                                        "this ZPA posture profile.")
    on_failure: OnFailure = on_failure_field("continue")
    services: service_list(("zcc", "zpa")) = None  # type: ignore[valid-type]
