"""The input models of the directory_sync tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import DryRunInput, ToolInput

__all__ = ["_CompareScimInput", "_SyncUsersInput"]


# -- definitions -----------------------------------------------------------------------------------
class _SyncUsersInput(DryRunInput):
    content: str = Field(min_length=1, max_length=5_000_000, description="The export itself, as text.")
    format: Literal["csv", "json", "ldif"] = Field(description="The export's format.")
    create_groups: bool = Field(False, description="Create ZIdentity groups the export names that do not exist (else "
                                                   "they are bad rows).")
    remove_missing: bool = Field(False, description="Also act on ZIdentity users of the export's domains that it does "
                                                    "not list (see missing_action).")
    missing_action: Literal["disable", "delete"] = Field(
        "disable", description="What remove_missing does: disable (default) or delete (bulk delete, cannot be undone).")


class _CompareScimInput(ToolInput):
    idp: str | None = Field(None, min_length=1, description="Only this ZPA IdP (id or name).")
