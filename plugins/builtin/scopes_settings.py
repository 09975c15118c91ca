"""`[servers.<name>.plugins.scopes]`: the scopes plugin's settings, defined when first validated (its hook names
this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ScopeSettings"]


class ScopeSettings(BaseModel):
    """`[servers.<name>.plugins.scopes]` (`confirm_ttl` was a key of the server table); read per call."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_keys: ClassVar[dict[str, str]] = {"confirm_ttl": "confirm_ttl"}
    live_settings: ClassVar[frozenset[str]] = frozenset({"confirm_ttl"})

    confirm_ttl: float = Field(300.0, gt=0, le=3600, description="seconds a destructive call's confirm_token lives")
