"""`[servers.<name>.plugins.policy_automation]`: the policy_automation plugin's settings, defined when first
validated (its hook names this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["ThreatLevelSettings"]


class ThreatLevelSettings(BaseModel):
    """`[servers.<name>.plugins.policy_automation]` (`threat_levels_file` was a key of the server table);
    read per call."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_keys: ClassVar[dict[str, str]] = {"threat_levels_file": "threat_levels_file"}
    live_settings: ClassVar[frozenset[str]] = frozenset({"threat_levels_file"})

    threat_levels_file: Path | None = None  # TOML of [levels.<name>] threat levels
