"""The input models of the policy_sync tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import OnFailure, PlanInput, on_failure_field

from .policy_sync import PREFIX, _Entry

__all__ = ["_BlockDestinationInput", "_EnforceDlpInput"]


# -- definitions -----------------------------------------------------------------------------------
class _BlockDestinationInput(PlanInput):
    name: str = Field(min_length=1, max_length=31 - len(PREFIX), pattern="^[A-Za-z0-9][A-Za-z0-9 ._-]*$",
                      description=f"Short name of the intent (1-{31 - len(PREFIX)} characters); every object it "
                                  f"creates is named '{PREFIX}<name>', and applying the same name again updates them.")
    group: str = Field(min_length=1, description="Group name, as in ZIA (groups) and in ZPA (the IdP's SCIM groups).")
    destinations: list[str] | None = Field(
        None, max_length=500, description="Domains (example.com; .example.com with subdomains), IPs or CIDRs.")
    applications: list[str] | None = Field(None, max_length=50,
                                           description="ZPA application segment names (or ids) to block; their host "
                                                       "names are blocked in ZIA too.")
    on_failure: OnFailure = on_failure_field("continue")


class _EnforceDlpInput(PlanInput):
    name: str = Field(min_length=1, max_length=31, description="Name of the web DLP rule and of its DLP engine.")
    departments: list[str] = Field(min_length=1, max_length=100,
                                   description="ZIA department names the rule applies to.")
    dictionary: str | None = Field(None, min_length=1, description="DLP dictionary to use, created when missing "
                                                                   "(default: the rule name).")
    phrases: list[_Entry] | None = Field(None, max_length=256,
                                         description="Phrases the dictionary must hold (added when missing).")
    patterns: list[_Entry] | None = Field(None, max_length=8, description="Regular expressions the dictionary must "
                                                                          "hold (added when missing).")
    min_matches: int = Field(1, ge=1, le=1000, description="Matches of the dictionary needed to trigger the rule.")
    action: Literal["BLOCK", "ALLOW"] = Field("BLOCK", description="BLOCK the upload, or ALLOW it and log the DLP "
                                                                    "hit.")
