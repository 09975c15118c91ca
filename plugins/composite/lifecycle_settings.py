"""`[servers.<name>.plugins.lifecycle]`: the lifecycle plugin's settings, defined when first validated (its hook names
this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["LifecycleSettings"]


class LifecycleSettings(BaseModel):
    """`[servers.<name>.plugins.lifecycle]` (`templates_file` was a key of the server table); read per call."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_keys: ClassVar[dict[str, str]] = {"templates_file": "templates_file"}
    live_settings: ClassVar[frozenset[str]] = frozenset({"templates_file"})

    templates_file: Path | None = None  # TOML of [templates.<name>] access templates
