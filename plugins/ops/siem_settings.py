"""`[servers.<name>.plugins.siem]`: the siem plugin's settings, defined when first validated (its hook names
this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ._outbox import Destination, parse_destinations

__all__ = ["SiemSettings"]


class SiemSettings(BaseModel):
    """`[servers.<name>.plugins.siem]` (formerly `siem_<field>` keys of the server table): `destinations`
    as `[[servers.<name>.plugins.siem.destinations]]` tables ({name, type = syslog | hec | webhook, ...},
    validated by `_outbox.parse_destinations`, which never echoes a token)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True, arbitrary_types_allowed=True)
    legacy_prefix: ClassVar[str] = "siem_"

    destinations: tuple[Destination, ...] = ()
    retry_initial: float = Field(2.0, gt=0, le=300, description="seconds before a failed SIEM delivery is first "
                                 "retried; doubled per failure in a row (jittered)")
    retry_max: float = Field(300.0, gt=0, le=86400, description="the longest wait between SIEM delivery retries")

    @field_validator("destinations", mode="before")
    @classmethod
    def _destinations(cls, value: object) -> object:
        return parse_destinations(value) if value else ()  # raises SiemConfigError, which shows no input
