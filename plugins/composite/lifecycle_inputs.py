"""The input models of the lifecycle tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import PlanInput, ToolInput

__all__ = ["_ContractorInput", "_DueOffboardingInput", "_OffboardInput", "_OnboardInput", "_PersonInput"]


# -- definitions -----------------------------------------------------------------------------------
class _PersonInput(PlanInput):
    email: str = Field(min_length=3, max_length=254,
                       description="The person's email; becomes the ZIdentity login name and primary email.")
    first_name: str | None = Field(None, max_length=128, description="First name.")
    last_name: str | None = Field(None, max_length=128, description="Last name.")
    display_name: str | None = Field(None, max_length=256,
                                     description="Display name (default: first and last name, else from the email).")


class _OnboardInput(_PersonInput):
    template: str = Field(min_length=1, max_length=128,
                          description="Name of the access template (a [templates.<name>] table).")


class _ContractorInput(_PersonInput):
    end_date: str = Field(min_length=10, max_length=40,
                          description="Last day of access, ISO 8601: 2026-06-30 (access ends after that day, UTC) "
                                      "or a date-time such as 2026-06-30T17:00:00Z.")
    sponsor: str = Field(min_length=3, max_length=254,
                         description="Email of the employee responsible for the contractor (a ZIdentity user).")
    template: str | None = Field(None, min_length=1, max_length=128,
                                 description="Access template to apply as well (optional).")
    contractors_group: str = Field("Contractors", min_length=1, max_length=128,
                                   description="ZIdentity group every contractor joins (default Contractors).")
    max_days: int = Field(365, ge=1, le=1095,
                          description="Longest contract accepted, in days from today (default 365).")


class _DueOffboardingInput(ToolInput):
    within_days: int = Field(0, ge=0, le=365,
                             description="Also list access that ends within this many days (default 0: ended).")
    include_disabled: bool = Field(False, description="Also list expired users who are already disabled.")


class _OffboardInput(PlanInput):
    user: str = Field(min_length=1, description="Email / login name, or ZIdentity user id.")
    reset_password: bool = Field(True, description="Reset the ZIdentity password (the current one stops working).")
    remove_groups: bool = Field(True, description="Remove the user from every ZIdentity group.")
    remove_devices: bool = Field(True, description="Unenroll the user's Client Connector devices (removeDevices).")
    delete_zia_user: bool = Field(False, description="Delete the ZIA user (bulk delete) instead of disabling it.")
