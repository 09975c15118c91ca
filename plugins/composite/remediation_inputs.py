"""The input models of the remediation tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import PlanInput

from .remediation import DEFAULT_IP_GROUP, DEFAULT_SCAN_RULE, GROUP_ADDRESS_CAP

__all__ = ["_BlockIpsInput", "_RevokeInput", "_ScanningInput"]


# -- definitions -----------------------------------------------------------------------------------
class _BlockIpsInput(PlanInput):
    addresses: list[str] = Field(min_length=1, max_length=GROUP_ADDRESS_CAP,
                                 description="IPv4 addresses or CIDR networks to block, e.g. 198.51.100.7 or "
                                             "203.0.113.0/24.")
    group: str | None = Field(None, min_length=1, max_length=128,
                              description=f"Destination IP group to use or create (default {DEFAULT_IP_GROUP!r}).")
    rule: str | None = Field(None, min_length=1, max_length=31,
                             description="Firewall rule to use or create (default 'Block <group>', cut to 31 "
                                         "characters, the ZIA limit).")
    allow_private: bool = Field(False, description="Also allow private, loopback, link-local and CGNAT ranges "
                                                   "(blocking them can cut users off from internal networks).")


class _RevokeInput(PlanInput):
    user: str | None = Field(None, min_length=1,
                             description="ZIdentity user (email, login name or id) whose password is reset.")
    api_client: str | None = Field(None, min_length=1,
                                   description="ZIdentity API client (name or id) whose secrets are deleted.")
    api_client_secret_ids: list[str] | None = Field(
        None, min_length=1, max_length=50,
        description="Only these secret ids of api_client (default: all its secrets).")
    zpa_api_key_names: list[str] | None = Field(None, min_length=1, max_length=100,
                                                description="ZPA API keys to delete, by name or id.")
    zia_vpn_ids: list[str] | None = Field(None, min_length=1, max_length=500,
                                          description="ZIA VPN credentials to delete, by id, FQDN or IP address.")


class _ScanningInput(PlanInput):
    users: list[str] | None = Field(None, max_length=100, description="ZIA users, by email.")
    groups: list[str] | None = Field(None, max_length=100, description="ZIA user groups, by name or id.")
    locations: list[str] | None = Field(None, max_length=100, description="ZIA locations, by name or id.")
    tenant_settings: bool = Field(False, description="Also turn on the tenant-wide advanced threat, malware and ATP "
                                                     "inspection settings (they affect everyone; only on request).")
    sandbox_rule: bool = Field(True, description="Add or extend the sandbox rule.")
    ssl_inspection_rule: bool = Field(True, description="Add or extend the SSL inspection (decrypt) rule.")
    rule_name: str | None = Field(None, min_length=1, max_length=31,
                                  description=f"Name of both rules (default {DEFAULT_SCAN_RULE!r}; ZIA allows 31 "
                                              "characters).")
