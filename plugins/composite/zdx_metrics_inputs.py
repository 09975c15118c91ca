"""The input models of the zdx_metrics tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import distinct_list

from ._kit.inputs import ZdxWindowInput
from .zdx_metrics import _DATAPOINTS, DEFAULT_MIN_COVERAGE, _Name

__all__ = ["_AppsInput", "_PerformanceInput", "_ScoresInput", "_SlaInput"]


class _AppsInput(ZdxWindowInput):
    apps: distinct_list(_Name) | None = Field(  # type: ignore[valid-type]
        None, max_length=50, description="ZDX app names or ids (default every app).")


class _ScoresInput(_AppsInput):
    user: str | None = Field(None, min_length=3, description="A user's email (default every user).")
    max_users: int = Field(500, ge=1, le=10000, description="At most this many users in the all-users table.")


class _PerformanceInput(_AppsInput):
    metrics: distinct_list(_Name) | None = Field(  # type: ignore[valid-type]
        None, max_length=8, description="ZDX metric names: pft, dns, availability (default: the API's default set).")
    include_datapoints: bool = _DATAPOINTS


class _SlaInput(_AppsInput):
    target_score: float = Field(66, ge=1, le=100,
                                description="ZDX score counted as meeting the SLA (default 66, ZDX's 'good').")
    required_percent: float = Field(95, ge=0, le=100,
                                    description="% of the window the score must meet the target to pass.")
    min_coverage_percent: float = Field(DEFAULT_MIN_COVERAGE, ge=1, le=100,
                                        description="% of the window the scores must cover for a verdict; below it "
                                                    "the app's status is unknown.")
    include_datapoints: bool = _DATAPOINTS
