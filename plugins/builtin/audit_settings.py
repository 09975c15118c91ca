"""`[servers.<name>.plugins.audit]`: the audit plugin's settings, defined when first validated (its hook names
this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AuditSettings"]


class AuditSettings(BaseModel):
    """`[servers.<name>.plugins.audit]` (formerly `audit_max_bytes` and `audit_backups`); the log's path,
    `audit_log`, stays a server setting (the core and other plugins read it)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_prefix: ClassVar[str] = "audit_"

    max_bytes: int = Field(10_000_000, ge=1_000, description="the audit file's size at which it is rotated")
    backups: int = Field(5, ge=0, le=100, description="rotated audit files kept")
