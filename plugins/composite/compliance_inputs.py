"""The input models of the compliance tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import ToolInput, distinct_list

from ._kit.inputs import WindowInput
from ._kit.time_windows import WINDOW_ARGUMENTS, window_field
from .compliance import _CHECKS, _NOT_LICENSED

__all__ = ["_ReportInput", "_ResidencyInput", "_ViolationsInput"]


class _ReportInput(ToolInput):
    checks: distinct_list(Literal[_CHECKS]) | None = Field(  # type: ignore[valid-type]
        None, min_length=1, description="Only these controls (default all).")
    stale_days: int = Field(365, ge=30, le=3650,
                            description="A rule unchanged for longer than this many days counts as stale.")
    not_licensed: distinct_list(Literal["zia", "zpa", "easm"]) | None = Field(  # type: ignore[valid-type]
        None, description=_NOT_LICENSED)


class _ViolationsInput(WindowInput):
    from_: str | None = window_field("from", WINDOW_ARGUMENTS["from"]["description"].replace(
        "Default 24h ago", "Default 7d ago"))
    department: str | None = Field(None, min_length=1, max_length=128,
                                   description="One ZIA department (name or id); default all.")
    min_risk_score: int = Field(70, ge=0, le=100, description="A user with a ZIA risk score at or above this (or "
                                                              "level HIGH or CRITICAL) counts as high-risk.")


class _ResidencyInput(ToolInput):
    allowed_countries: list[str] | None = Field(None, max_length=250, description="ISO 3166 alpha-2 codes traffic "
                                                                                 "may stay in (e.g. DE, FR, NL).")
