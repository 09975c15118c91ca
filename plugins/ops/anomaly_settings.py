"""`[servers.<name>.plugins.anomaly]`: the anomaly plugin's settings, defined when first validated (its hook names
this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .anomaly import check_business_days, check_timezone, parse_business_hours

__all__ = ["AnomalySettings"]


class AnomalySettings(BaseModel):
    """`[servers.<name>.plugins.anomaly]` (formerly `anomaly_<field>` keys of the server table)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_prefix: ClassVar[str] = "anomaly_"

    alerts: bool = True
    window: float = Field(900.0, ge=60, le=86400, description="seconds of recent calls compared with the baseline; "
                          "an alert fires at most once per window")
    baseline_days: int = Field(14, ge=1, le=90, description="days of history the baseline keeps")
    spike_ratio: float = Field(5.0, ge=1, le=1000, description="write/destructive calls in a window, as a multiple "
                               "of the baseline's expectation, that raise write_spike")
    spike_min_calls: int = Field(20, ge=1, le=100_000, description="the fewest write/destructive calls in a window "
                                 "that raise write_spike, whatever the baseline")
    auth_failures: int = Field(5, ge=1, le=10_000, description="authorisation failures of one client within "
                               "auth_window that raise auth_failures")
    auth_window: float = Field(300.0, ge=10, le=86400)
    business_hours: str | None = None  # e.g. "08:00-18:00" in timezone; unset: learned per client
    business_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    timezone: str = "UTC"
    hours_min_calls: int = Field(200, ge=1, description="calls a client needs in its history (on 3 days or more) "
                                 "before its usual hours are learned")

    @field_validator("business_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        days = tuple(d.strip() for d in value.split(",") if d.strip()) if isinstance(value, str) else value
        return check_business_days(tuple(str(d) for d in days))

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: object) -> object:
        return check_timezone(value)

    @field_validator("business_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> object:
        if value in (None, ""):
            return None
        parse_business_hours(value)
        return str(value).strip()
