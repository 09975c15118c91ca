"""The input models of the incident tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from pydantic import Field

from oneapi_mcp.plugin_api import ToolInput

from .._kit.inputs import WindowInput
from .tools import _Strings

__all__ = ['_AssetsInput', '_AuditInput', '_CorrelateInput', '_EventsInput', '_ReportInput']


class _AuditInput(ToolInput):
    audit_log: bool = Field(True, description="Also export the ZIA admin audit log for the window (an export job: no "
                                              "configuration change) and keep the entries naming the person.")
    audit_log_wait_seconds: float = Field(30, ge=0, le=120,
                                          description="How long to wait for the audit-log export to finish.")


class _AssetsInput(ToolInput):
    devices: _Strings = Field(None, max_length=20,
                              description="Client Connector udids or hostnames, or ZDX device ids or names.")
    domains: _Strings = Field(None, max_length=100,
                              description="Domains, e.g. evil.example (.evil.example includes subdomains).")
    hashes: _Strings = Field(None, max_length=50, description=(
        "File hashes: MD5 (sandbox report and block list) or SHA-256 (validated, not searchable: ZIA takes MD5)."))


class _EventsInput(_AuditInput, WindowInput):
    user: str = Field(min_length=3, max_length=254, description="The person's email.")
    md5_hashes: _Strings = Field(None, max_length=50,
                                 description="MD5s of files seen in the incident: their ZIA sandbox verdicts.")


class _CorrelateInput(WindowInput, _AssetsInput):
    users: _Strings = Field(None, max_length=20, description="Emails.")


class _ReportInput(_AuditInput, WindowInput, _AssetsInput):
    user: str | None = Field(None, min_length=3, max_length=254,
                             description="The person at the centre of the incident (email).")
    title: str | None = Field(None, min_length=1, max_length=120, description="Report title.")
