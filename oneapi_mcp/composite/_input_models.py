"""The mixins of composite tools' input models (pydantic classes, so defining them costs start-up time):
imported only by the modules that define tools' models, on a tool's first call (issue 16). Public through
`oneapi_mcp.plugin_api` (and `composite._inputs`), which import this module when a name is first asked for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ._workflow import DRY_RUN_ARGUMENTS

__all__ = ["DryRunInput", "PlanInput", "ToolInput"]


class ToolInput(BaseModel):
    """The base of a composite tool's input model: an argument the model does not declare is refused.
    Built on first use (validation or schema), not when the class is defined."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class DryRunInput(ToolInput):
    """A tool that plans: `dry_run` (default true) only looks and returns the calls it would make."""

    dry_run: bool = Field(True, description=DRY_RUN_ARGUMENTS["dry_run"]["description"])


class PlanInput(DryRunInput):
    """A tool that plans ZIA/ZTW changes: `dry_run`, and `activate` (once at the end, default true)."""

    activate: bool = Field(True, description=DRY_RUN_ARGUMENTS["activate"]["description"])
