"""The input models of the analytics tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import ToolInput, distinct_list

from ._kit.inputs import ZdxWindowInput
from .analytics import _AS_OF

__all__ = ["_DashboardInput", "_PostureInput", "_TrendsInput"]


class _DashboardInput(ToolInput):
    as_of: str | None = _AS_OF


class _PostureInput(_DashboardInput):
    stale_days: int = Field(180, ge=1, le=3650, description="A ZIA rule unchanged for longer is stale.")
    unseen_days: int = Field(30, ge=1, le=365, description="A device not seen for longer fails the check.")
    poor_score: int = Field(34, ge=1, le=100, description="A ZDX app scoring below this is poor.")
    not_licensed: distinct_list(Literal["zia", "zpa", "zdx", "zcc"]) | None = Field(  # type: ignore[valid-type]
        None, description="Services this tenant does not license: their checks are not applicable (not read, not "
                          "failed).")


class _TrendsInput(ZdxWindowInput):
    score_trend: bool = Field(True, description="Also chart the ZDX score per day (one call per app).")
