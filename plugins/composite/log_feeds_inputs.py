"""The input models of the log_feeds tools, imported on a tool's first call, never at start (issue 16)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from oneapi_mcp.plugin_api import DryRunInput, PlanInput

from .log_feeds import _OUTPUT_TYPES, _SIEM_TYPES, LSS_LOG_TYPES, NSS_LOG_TYPES, _Str

__all__ = ["_LssStreamInput", "_NssFeedInput"]


class _NssFeedInput(PlanInput):
    name: str = Field(min_length=1, max_length=255,
                      description="Feed name; an existing feed of this name is updated.")
    log_type: Literal[NSS_LOG_TYPES] = Field(description="nssLogType: what to stream.")  # type: ignore[valid-type]
    siem_type: Literal[_SIEM_TYPES] = Field(description="siemType of the receiving SIEM.")  # type: ignore[valid-type]
    connection_url: _Str = Field(description="The SIEM's HTTPS log collection URL (a publicly trusted certificate).")
    authentication_token: _Str | None = Field(None, description="Token ZIA sends to the SIEM (write-only, never "
                                                                "shown).")
    connection_headers: list[str] | None = Field(None, max_length=10, description="HTTP headers as 'Name: value' "
                                                                                  "(values are never shown).")
    oauth_client_id: _Str | None = Field(None, description="OAuth 2.0 client id (Azure Sentinel, S3).")
    oauth_client_secret: _Str | None = Field(None, description="OAuth 2.0 client secret (write-only, never shown).")
    oauth_token_url: _Str | None = Field(None, description="OAuth 2.0 token URL.")
    output_type: Literal[_OUTPUT_TYPES] = Field(  # type: ignore[valid-type]
        "JSON", description="nssFeedType: the output encoding (default JSON).")
    feed_output_format: _Str | None = Field(None, description="feedOutputFormat; default: ZIA's default for the "
                                                              "log type.")
    nss_type: Literal["NSS_FOR_WEB", "NSS_FOR_FIREWALL"] | None = Field(
        None, description="Default: NSS_FOR_FIREWALL for firewall and DNS logs, else NSS_FOR_WEB.")
    time_zone: _Str = Field("GMT", description="Time zone of timestamps in the output.")
    max_batch_size_kb: int | None = Field(None, ge=16, le=2048, description="Largest HTTP payload ZIA sends, in KB.")
    enabled: bool = Field(True, description="feedStatus ENABLED or DISABLED.")
    validate_format: bool = Field(True, description="Check the output format with ZIA before writing.")
    test_connectivity: bool = Field(True, description="Run ZIA's connectivity test on the feed afterwards.")
    update_secrets: bool = Field(False, description="Send the token/client secret again to an existing feed (they "
                                                    "cannot be read back to compare).")


class _LssStreamInput(DryRunInput):
    name: str = Field(min_length=1, max_length=255,
                      description="Config name; an existing one of this name is updated.")
    host: _Str = Field(description="Log receiver hostname or IP, as the App Connectors reach it.")
    port: int = Field(ge=1, le=65535, description="Log receiver TCP port.")
    log_type: Literal[LSS_LOG_TYPES] = Field(  # type: ignore[valid-type]
        description="sourceLogType, e.g. zpn_trans_log (user activity), zpn_auth_log (user status), zpn_audit_log "
                    "(admin audit).")
    connector_groups: list[str] = Field(min_length=1, max_length=50,
                                        description="App Connector group names or ids that send the logs.")
    encoding: Literal["json", "csv", "tsv"] = Field(
        "json", description="Which of ZPA's default formats to use when format is not given.")
    format: _Str | None = Field(None, description="The log format string (default: ZPA's default for the log type).")
    use_tls: bool = Field(True, description="Stream over TLS.")
    filter: list[str] | None = Field(None, max_length=100, description=(
        "Session status codes to EXCLUDE: ZPA drops the logs with these codes and streams the rest (empty: stream "
        "every log)."))
    enabled: bool = Field(True, description="Stream now (true) or keep it off.")
    description: str | None = Field(None, max_length=1024, description="Free text.")
