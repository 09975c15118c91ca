"""The input models of the users tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import DryRunInput, OnFailure, PlanInput, ToolInput, on_failure_field, service_list

from ._kit.containment import CONTAINMENT_SERVICES
from .users import _User

__all__ = ["_CreateUserInput", "_DisableUserInput", "_GroupMembersInput", "_ShowAccessInput"]


class _CreateUserInput(PlanInput):
    email: str = Field(min_length=3, max_length=254, description="The person's email; also their ZIdentity login name.")
    display_name: str | None = Field(None, min_length=1, max_length=128,
                                     description="Display name (default: first and last name, else the email name).")
    first_name: str | None = Field(None, min_length=1, max_length=64, description="First name.")
    last_name: str | None = Field(None, min_length=1, max_length=64, description="Last name.")
    groups: list[str] | None = Field(None, max_length=100,
                                     description="Existing ZIdentity group names (or ids) to add the user to.")
    zia_department: str | None = Field(None, min_length=1,
                                       description="Also create a ZIA user, in this existing ZIA department (by name).")


class _DisableUserInput(PlanInput):
    user: _User
    zia: bool = Field(True, description="Also block the person's ZIA user with a firewall rule (default true).")
    zpa: bool = Field(False, description="Also add a ZPA access rule denying the person (default false; so does "
                                         "listing zpa in services).")
    on_failure: OnFailure = on_failure_field("continue")
    services: service_list(CONTAINMENT_SERVICES) = None  # type: ignore[valid-type]


class _ShowAccessInput(ToolInput):
    user: _User


class _GroupMembersInput(DryRunInput):
    group: str = Field(min_length=1, description="ZIdentity group name (exact) or id.")
    users: list[str] = Field(min_length=1, max_length=500, description="Email addresses of the ZIdentity users.")
