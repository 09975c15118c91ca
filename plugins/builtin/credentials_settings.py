"""`[servers.<name>.plugins.credentials]`: the credentials plugin's settings, defined when first validated (its
hook names this class by import path; see oneapi_mcp_plugin_settings)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["CredentialSettings"]


class CredentialSettings(BaseModel):
    """`[servers.<name>.plugins.credentials]` (`keyring_service` was a key of the server table)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
    legacy_keys: ClassVar[dict[str, str]] = {"keyring_service": "keyring_service"}

    keyring_service: str = "oneapi-mcp"  # the OS keyring service holding the client secret (user: the client id)
