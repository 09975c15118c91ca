"""`[servers.<name>.plugins.scheduler]`: the scheduler plugin's settings, defined when first validated (its hook names
this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SchedulerSettings"]


class SchedulerSettings(BaseModel):
    """`[servers.<name>.plugins.scheduler]` (formerly the `schedule_<field>` keys of the server table)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_prefix: ClassVar[str] = "schedule_"

    runner: bool = Field(True, description="this process runs the due changes (false: another replica sharing "
                         "its data directory does)")
    poll: float = Field(30.0, gt=0, le=3600, description="seconds at most between looks at the schedule store (for "
                        "schedules another replica made); schedules made here wake it at once")
    lateness: float = Field(3600.0, ge=0, description="seconds a change may start late (missed while the server was "
                            "down) before it is marked missed instead of run")
    claim_timeout: float = Field(300.0, ge=1, le=86400, description="seconds without a heartbeat after which a "
                                 "running change's process is taken as dead (interrupted)")
