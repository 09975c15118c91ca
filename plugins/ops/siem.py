"""Built-in plugin: SIEM integration.

Two halves. Zscaler's own log export, configured through the API: ZIA Cloud NSS feeds (with a
connectivity test) and ZPA log streaming (LSS) configs; both plan first and are idempotent by name.
And this server's own export: every tool call's audit records (intent and outcome) and the security events a tool
fetches (ZDX alerts, the ZIA admin audit log) go through a durable outbox (`_outbox.py`) to syslog,
an HTTP event collector or signed webhooks, delivered at least once by a background task of the
running server. Web, firewall and ZPA user-activity transaction logs are never readable over REST:
they reach a SIEM only through NSS and LSS, which is what the first half configures.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import ipaddress
import logging
import re
import secrets as _secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Refusal,
    Workflow,
    delete_created,
    plan_schema,
    refusal_result,
    register_secrets,
    tool_error,
    tool_result,
)

from ..composite._kit.zdx_windows import DOCUMENTED_DAYS
from ..hookspecs import hookimpl
from ._outbox import (
    EVENT_KINDS,
    Delivery,
    Destination,
    Outbox,
    check_url,
    make_event,
    parse_destinations,
    stable_event_id,
)

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import ServerSettings

__all__ = ["TOOLS", "Siem", "siem_for"]

_log = logging.getLogger("oneapi_mcp.siem")
_DB = "siem.sqlite3"
_KEEP_DELIVERED = 7 * 86400  # seconds a delivered event's id is kept (re-exports within it are not re-sent)
_MASK = "***"
_TRANSACTION_LOGS = ("ZIA web, firewall and DNS transaction logs and ZPA user-activity logs cannot be read over the "
                     "REST API: they reach a SIEM only through Cloud NSS feeds (siem_configure_nss_feed) and ZPA "
                     "log streaming (siem_configure_lss_stream)")
_AUDIT_EXPORT = ("the ZIA admin audit log is read by starting an export job (POST /auditlogEntryReport, "
                 "read-scoped although a POST: it replaces the tenant's previous audit-log export, changes no "
                 "configuration and activates nothing), then polling it and downloading its CSV; it holds admin "
                 "changes, not traffic")
_UNAVAILABLE = [
    {"source": "ZWA DLP incidents", "reason": "this export does not read them yet; search them with "
     "zwa_dlp_incident_search"},
    {"source": "Z-Insights (GraphQL) security incidents", "reason": "Z-Insights is not among this server's "
                                                                     "vendored specs"},
    {"source": "ZIA/ZPA transaction logs", "reason": _TRANSACTION_LOGS},
]


# -- settings ------------------------------------------------------------------------------------
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


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"siem": SiemSettings}


def _own(settings: ServerSettings) -> SiemSettings:
    return settings.plugin_settings("siem")


# -- the outbox of a running server --------------------------------------------------------------
class Siem:
    """One server's outbox, its destinations (settings plus registered webhooks) and delivery."""

    def __init__(self, settings: ServerSettings):
        self.settings = settings
        register_secrets([d.secret for d in _own(settings).destinations])  # scrubbed wherever they might appear
        self.outbox = Outbox(settings.state_dir() / _DB)
        self._webhooks = self.outbox.webhooks()
        self.delivery = Delivery(self.outbox, self.destinations, retry_initial=_own(settings).retry_initial,
                                 retry_max=_own(settings).retry_max)

    def destinations(self) -> list[Destination]:
        return [*_own(self.settings).destinations, *self._webhooks]

    @property
    def webhooks(self) -> list[Destination]:
        return list(self._webhooks)

    def refresh(self) -> None:
        self._webhooks = self.outbox.webhooks()

    def takes(self, kind: str) -> bool:
        return any(kind in d.events for d in self.destinations())

    async def add(self, events: list[dict[str, Any]], destinations: list[Destination] | None = None) -> int:
        """Persist events (before any send), then wake the delivery task."""
        added = await asyncio.to_thread(self.outbox.enqueue, events, destinations or self.destinations())
        self.delivery.wake()
        return added

    def start(self) -> None:
        try:
            self.delivery.start()
        except RuntimeError:  # no running loop (a synchronous caller): delivery starts with the server
            pass

    async def close(self) -> None:
        await self.delivery.stop()
        self.outbox.close()


_OPEN: dict[tuple[str, str], Siem] = {}  # (server, data directory) -> its Siem, while the server runs


def _key(settings: ServerSettings) -> tuple[str, str]:
    # by name and place, not by object: a hot reload brings a new settings object for the same server
    return settings.name, str(settings.state_path())


def _existing_db(settings: ServerSettings) -> Path | None:
    """The outbox file if it exists already (without creating the data directory, as state_dir does)."""
    path = settings.state_path() / _DB
    return path if path.exists() else None


def siem_for(settings: ServerSettings, *, create: bool = True) -> Siem | None:
    """The server's Siem; opened on first use when destinations are configured, the outbox exists or
    `create` (registering a webhook); None when there is nothing to export to."""
    siem = _OPEN.get(_key(settings))
    if siem is None and (create or _own(settings).destinations or _existing_db(settings) is not None):
        siem = _OPEN[_key(settings)] = Siem(settings)
    elif siem is not None and siem.settings is not settings:
        siem.settings = settings  # reloaded: its destinations and retry settings follow
    return siem


@hookimpl
def oneapi_mcp_startup(settings: ServerSettings, runtime: Any):
    if not _own(settings).destinations and _existing_db(settings) is None:
        return None

    async def start() -> None:
        siem = await asyncio.to_thread(siem_for, settings)
        await asyncio.to_thread(siem.outbox.prune, _KEEP_DELIVERED)
        siem.delivery.start()

    return start()


@hookimpl
def oneapi_mcp_shutdown(settings: ServerSettings, runtime: Any):
    siem = _OPEN.pop(_key(settings), None)
    return siem.close() if siem is not None else None


@hookimpl
def oneapi_mcp_audit_record(settings: ServerSettings, record: dict[str, Any], call: Any):
    """Every tool call's audit records become audit events in the outbox: the intent (`tool_call_intent`,
    committed before the write request is sent) and the outcome (`tool_call`), with one `call_id`."""
    siem = _OPEN.get(_key(settings))
    if siem is None or not siem.takes("audit") or record.get("phase") not in ("intent", "outcome"):
        return None
    if record["phase"] == "intent":
        try:
            siem.outbox.enqueue([make_event("audit", "tool_call_intent", dict(record), server=settings.name,
                                            at=record["time"])], siem.destinations())
            siem.delivery.wake()
        except Exception as exc:  # the call matters more than its export
            _log.warning("could not queue the audit intent of %s: %s", record.get("tool"), type(exc).__name__)
        return None

    async def export() -> None:
        try:
            await siem.add([audit_event(record)])
        except Exception as exc:  # the call's answer matters more than its export
            _log.warning("could not queue the audit event of %s: %s", record.get("tool"), type(exc).__name__)

    return export()


def audit_event(entry: dict[str, Any]) -> dict[str, Any]:
    """The outbox event of a call's outcome record (see `oneapi_mcp_audit_record`)."""
    severity = {"ok": "info", "exception": "error"}.get(entry["outcome"], "warning")
    return make_event("audit", "tool_call", dict(entry), server=entry["server"], severity=severity,
                      at=entry["time"])


# -- helpers -------------------------------------------------------------------------------------
def _masked(value: Any) -> Any:
    """Plans and reports show secrets as ***: tokens, client secrets, header values."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in ("authenticationToken", "clientSecret", "authentication_token") and v not in (None, ""):
                out[k] = _MASK
            elif k == "connectionHeaders" and isinstance(v, list):
                out[k] = [f"{str(h).split(':', 1)[0].strip()}: {_MASK}" for h in v]
            else:
                out[k] = _masked(v)
        return out
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _amend(result: Any, **extra: Any) -> Any:
    """The workflow's result with secrets masked and `extra` added."""
    data = _masked(dict(result.structured_content or {}))
    data.update({k: v for k, v in extra.items() if v is not None})
    return tool_result(data, is_error=bool(result.is_error))


def _headers(values: list[str]) -> list[str]:
    out, bad = [], []
    for raw in values:
        name, sep, value = str(raw).partition(":")
        if not sep or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name.strip()) or not value.strip():
            bad.append(f"{name.strip()[:40]!r} is not 'Name: value'")
        else:
            out.append(f"{name.strip()}:{value.strip()}")
    if bad:
        raise Refusal(f"{len(bad)} invalid connection_headers: " + "; ".join(bad), "invalid_arguments")
    return out


def _refuse_value(exc: ValueError) -> Refusal:
    return Refusal(str(exc), "invalid_arguments")


_HOST = re.compile(r"(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*")


def _check_host(text: str) -> str:
    host = str(text).strip()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST.fullmatch(host) or host.replace(".", "").isdigit():
        raise Refusal(f"{text!r} is not a hostname or IP address", "invalid_arguments")
    return host.lower()


# -- ZIA Cloud NSS feeds -------------------------------------------------------------------------
NSS_LOG_TYPES = ("WEBLOG", "FWLOG", "DNSLOG", "ALERT", "ADMIN_AUDIT", "TUNNEL", "MULTIFEEDLOG", "CASB_FILELOG",
                 "CASB_MAILLOG", "CASB_ITSM", "CASB_CRM", "CASB_CODE_REPO", "CASB_COLLAB", "CASB_PCS", "ECLOG",
                 "EC_DNSLOG", "EC_EVENTLOG", "ENDPOINT_DLP", "EMAIL_DLP", "USER_ACT_REP", "USER_COUNT_ALERT",
                 "USER_IMP_TRAVEL_ALERT")
_FIREWALL_LOGS = {"FWLOG", "DNSLOG", "ECLOG", "EC_DNSLOG", "EC_EVENTLOG"}
_NSS_FIELDS = ("feedStatus", "nssLogType", "nssFeedType", "nssType", "siemType", "connectionURL", "feedOutputFormat",
               "timeZone", "cloudNss", "connectionHeaders", "oauthAuthentication", "clientId", "authenticationUrl",
               "maxBatchSize")


async def configure_nss_feed(ctx, args: dict[str, Any]):
    token, client_secret = args.get("authentication_token"), args.get("oauth_client_secret")
    headers_in = list(args.get("connection_headers") or [])
    register_secrets([token, client_secret, *(str(h).partition(":")[2].strip() for h in headers_in)])
    wf = Workflow(ctx, args, on_failure="rollback")
    name = str(args["name"]).strip()
    feed: dict[str, Any] | None = None
    try:
        try:
            url = check_url(args["connection_url"], "connection_url", https_only=True)
        except ValueError as exc:
            raise _refuse_value(exc) from None
        headers = _headers(headers_in)
        log_type = args["log_type"]
        feed_type = args.get("output_type", "JSON")
        fmt = args.get("feed_output_format") or await _default_nss_format(wf, log_type, feed_type)
        if args.get("validate_format", True):
            await _validate_nss_format(wf, fmt, log_type)
        wanted: dict[str, Any] = {
            "name": name, "feedStatus": "ENABLED" if args.get("enabled", True) else "DISABLED",
            "nssLogType": log_type, "nssFeedType": feed_type,
            "nssType": args.get("nss_type") or ("NSS_FOR_FIREWALL" if log_type in _FIREWALL_LOGS else "NSS_FOR_WEB"),
            "siemType": args["siem_type"], "connectionURL": url, "feedOutputFormat": fmt,
            "timeZone": args.get("time_zone", "GMT"), "cloudNss": True}
        if headers:
            wanted["connectionHeaders"] = headers
        if args.get("max_batch_size_kb"):
            # in KB as given: zscaler-sdk-python zscaler/zia/cloud_nss.py ("The maximum batch size in KB", e.g. 512)
            wanted["maxBatchSize"] = int(args["max_batch_size_kb"])
        secret_fields: dict[str, Any] = {}
        if token:
            secret_fields["authenticationToken"] = token
        if args.get("oauth_client_id"):
            if not (client_secret and args.get("oauth_token_url")):
                raise Refusal("OAuth needs oauth_client_id, oauth_client_secret and oauth_token_url together",
                              "invalid_arguments")
            try:
                token_url = check_url(args["oauth_token_url"], "oauth_token_url", https_only=True)
            except ValueError as exc:
                raise _refuse_value(exc) from None
            wanted.update(oauthAuthentication=True, clientId=args["oauth_client_id"], authenticationUrl=token_url)
            secret_fields["clientSecret"] = client_secret
        feeds = await wf.read_all("zia_list_nss_feeds")
        match = [f for f in feeds if str(f.get("name", "")).strip().lower() == name.lower()]
        wf.found["feeds_searched"] = len(feeds)
        if match:
            feed = match[0]
            _plan_nss_update(wf, feed, wanted, secret_fields, bool(args.get("update_secrets")))
        else:
            wf.add("zia_create_nss_feed", {"body": {**wanted, **secret_fields}},
                   f"create ZIA Cloud NSS feed {name!r} ({log_type} to {args['siem_type']})",
                   undo=delete_created("zia_remove_nss_feed", "feedId", "delete the feed"),
                   manual=f"delete ZIA Cloud NSS feed {name!r}")
    except Refusal as exc:
        return refusal_result(exc)
    result = await wf.finish(f"configure ZIA Cloud NSS feed {name!r}")
    outcome = (result.structured_content or {}).get("outcome")
    feed_id = feed.get("id") if feed else None
    if outcome == "applied" and feed is None:
        created = wf.steps[0].result if wf.steps else None
        feed_id = created.get("id") if isinstance(created, dict) else None
    connectivity = None
    if args.get("test_connectivity", True) and feed_id is not None and outcome in ("applied", "nothing_to_do",
                                                                                    "planned"):
        connectivity = await _nss_connectivity(ctx, feed_id)
    extra: dict[str, Any] = {"feed_id": feed_id, "connectivity": connectivity}
    if connectivity and not connectivity["reachable"]:
        data = result.structured_content or {}
        extra["operator_actions"] = [*data.get("operator_actions", []),
                                     f"ZIA could not reach the SIEM for feed {name!r} ({connectivity['detail']}): "
                                     "check connectionURL, the token or headers and the SIEM's certificate (it must "
                                     "be publicly trusted), then re-test with zia_test_cloud_nss_connectivity"]
    return _amend(result, **extra)


def _plan_nss_update(wf: Workflow, feed: dict[str, Any], wanted: dict[str, Any], secret_fields: dict[str, Any],
                     update_secrets: bool) -> None:
    name = wanted["name"]
    wf.found["zia_feed"] = {"id": feed.get("id"), "name": feed.get("name"), "nssLogType": feed.get("nssLogType"),
                            "siemType": feed.get("siemType"), "feedStatus": feed.get("feedStatus")}
    changed = sorted(k for k in _NSS_FIELDS if k in wanted and feed.get(k) != wanted[k])
    if not changed and not (secret_fields and update_secrets):
        wf.already(f"ZIA Cloud NSS feed {name!r} already has these settings")
        if secret_fields:
            wf.already("secrets (authentication token, OAuth client secret) cannot be read back to compare; pass "
                       "update_secrets=true to send them again")
        return
    body = {**feed, **wanted, **(secret_fields if update_secrets or changed else {})}
    what = ", ".join(changed) if changed else "its secrets"
    wf.add("zia_update_nss_feed", {"feedId": feed["id"], "body": body},
           f"update ZIA Cloud NSS feed {name!r}: {what}",
           undo=lambda _r, old=dict(feed): ("zia_update_nss_feed", {"feedId": old["id"], "body": old},
                                            "restore the feed"),
           manual=f"restore ZIA Cloud NSS feed {name!r} ({what})")


async def _default_nss_format(wf: Workflow, log_type: str, feed_type: str) -> str:
    defaults = await wf.read("zia_get_feed_output_formats", {"type": log_type}) or {}
    fmt = None
    if isinstance(defaults, dict):
        fmt = defaults.get(feed_type) or defaults.get(feed_type.lower()) or defaults.get("feedOutputFormat")
    elif isinstance(defaults, str):
        fmt = defaults
    if not isinstance(fmt, str) or not fmt.strip():
        raise Refusal(f"ZIA returned no default {feed_type} output format for {log_type} (zia_get_feed_output_formats);"
                      " give feed_output_format", "invalid_arguments", log_type=log_type)
    return fmt


async def _validate_nss_format(wf: Workflow, fmt: str, log_type: str) -> None:
    answer = await wf.read("zia_validate_feed_format", {"body": fmt, "type": log_type}) or {}
    status = str(answer.get("status", "")).upper() if isinstance(answer, dict) else ""
    wf.found["format_validation"] = status or "no status"
    if any(word in status for word in ("INVALID", "ERROR", "FAIL")):
        detail = {k: answer.get(k) for k in ("errMsg", "errPosition", "errSuggestion") if answer.get(k) is not None}
        raise Refusal(f"ZIA rejected feed_output_format for {log_type}: {detail.get('errMsg', status)}"
                      + (f" at position {detail['errPosition']}" if "errPosition" in detail else "")
                      + (f"; suggestion: {detail['errSuggestion']}" if "errSuggestion" in detail else ""),
                      "invalid_arguments", **detail)


async def _nss_connectivity(ctx, feed_id: Any) -> dict[str, Any]:
    result = await ctx.call_operation("zia_test_cloud_nss_connectivity", {"feedId": feed_id})
    if result.is_error:
        error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
        return {"feed_id": feed_id, "reachable": False, "detail": f"the test itself failed: {error.get('message')}"}
    data = result.data if isinstance(result.data, dict) else {}
    status, code = data.get("testConnectivityStatus"), data.get("testConnectivityCode")
    failed = any(w in str(status).upper() for w in ("FAIL", "ERROR", "INACTIVE", "UNREACHABLE")) or (
        isinstance(code, int) and code >= 400)
    # only the verdict: the test's answer echoes the feed's connection settings, secrets included
    return {"feed_id": feed_id, "reachable": not failed, "status": status, "code": code,
            "detail": f"status {status}, code {code}"}


# -- ZPA log streaming ---------------------------------------------------------------------------
LSS_LOG_TYPES = ("zpn_trans_log", "zpn_auth_log", "zpn_ast_auth_log", "zpn_http_trans_log", "zpn_audit_log",
                 "zpn_sys_auth_log", "zpn_ast_comprehensive_stats", "zpn_waf_http_exchanges_log")
_LSS_FIELDS = ("lssHost", "lssPort", "sourceLogType", "format", "useTls", "enabled", "filter")


async def configure_lss_stream(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="rollback")
    name = str(args["name"]).strip()
    try:
        host = _check_host(args["host"])
        log_type = args["log_type"]
        groups = await _connector_groups(wf, list(args["connector_groups"]))
        fmt = args.get("format") or await _default_lss_format(wf, log_type, args.get("encoding", "json"))
        config: dict[str, Any] = {"name": name, "lssHost": host, "lssPort": int(args["port"]),
                                  "sourceLogType": log_type, "format": fmt, "useTls": bool(args.get("use_tls", True)),
                                  "enabled": bool(args.get("enabled", True)),
                                  "filter": sorted(set(args.get("filter") or []))}
        if args.get("description"):
            config["description"] = args["description"]
        configs = await wf.read_all("zpa_list_all_lss_configs")
        wf.found["lss_configs_searched"] = len(configs)
        match = [c for c in configs if str((c.get("config") or {}).get("name", "")).strip().lower() == name.lower()]
        group_refs = [{"id": int(g["id"]) if str(g["id"]).isdigit() else g["id"], "name": str(g.get("name"))}
                      for g in groups]
        wf.found["connector_groups"] = [{"id": g["id"], "name": g.get("name")} for g in groups]
        if match:
            _plan_lss_update(wf, match[0], config, group_refs)
        else:
            # `filter` lists the session status codes LSS leaves out (zscaler-sdk-python zscaler/zpa/lss.py:
            # "filter_status_codes (list): A list of Session Status Codes that will be excluded by LSS")
            excluded = f", excluding status codes {', '.join(config['filter'])}" if config["filter"] else ""
            wf.add("zpa_create_siem", {"body": {"config": config, "connectorGroups": group_refs}},
                   f"create ZPA log streaming config {name!r} ({log_type} to {host}:{config['lssPort']}{excluded})",
                   undo=delete_created("zpa_remove_siem", "lssId", "delete the config"),
                   manual=f"delete ZPA log streaming config {name!r}")
    except Refusal as exc:
        return refusal_result(exc)
    result = await wf.finish(f"configure ZPA log streaming {name!r}")
    return _amend(result, api_limits=[*(result.structured_content or {}).get("api_limits", []),
                                      "ZPA streams logs from the App Connectors in the chosen groups: the SIEM must "
                                      "accept TCP from them; the API has no connectivity test for LSS"])


def _plan_lss_update(wf: Workflow, current: dict[str, Any], config: dict[str, Any], groups: list[dict]) -> None:
    have = dict(current.get("config") or {})
    name = config["name"]
    wf.found["zpa_lss"] = {"id": current.get("id"), "name": have.get("name"), "lssHost": have.get("lssHost"),
                           "lssPort": have.get("lssPort"), "sourceLogType": have.get("sourceLogType")}
    normal = {**have, "filter": sorted(set(have.get("filter") or [])), "lssPort": int(have.get("lssPort") or 0)}
    changed = [k for k in _LSS_FIELDS if normal.get(k) != config[k]]
    if config.get("description") and have.get("description") != config["description"]:
        changed.append("description")
    have_groups = sorted(str(g.get("id")) for g in current.get("connectorGroups") or [])
    if have_groups != sorted(str(g["id"]) for g in groups):
        changed.append("connectorGroups")
    if not changed:
        wf.already(f"ZPA log streaming config {name!r} already has these settings")
        return
    body = {**current, "config": {**have, **config}, "connectorGroups": groups}
    wf.add("zpa_update_siem", {"lssId": current["id"], "body": body},
           f"update ZPA log streaming config {name!r}: {', '.join(changed)}",
           undo=lambda _r, old=dict(current): ("zpa_update_siem", {"lssId": old["id"], "body": old},
                                               "restore the config"),
           manual=f"restore ZPA log streaming config {name!r}")


async def _connector_groups(wf: Workflow, wanted: list[str]) -> list[dict[str, Any]]:
    groups = await wf.read_all("zpa_list_assistant_groups")
    out, missing = [], []
    for item in wanted:
        key = str(item).strip().lower()
        match = [g for g in groups if key in (str(g.get("id")).lower(), str(g.get("name", "")).strip().lower())]
        if match:
            if match[0] not in out:
                out.append(match[0])
        else:
            missing.append(str(item))
    if missing:
        raise Refusal(f"unknown ZPA App Connector group(s) {', '.join(repr(m) for m in missing)}: searched names and "
                      f"ids of {len(groups)} groups with zpa_list_assistant_groups", "not_found",
                      connector_groups=missing, known=sorted(str(g.get("name")) for g in groups)[:50])
    return out


async def _default_lss_format(wf: Workflow, log_type: str, encoding: str) -> str:
    formats = await wf.read("zpa_get_siem_log_format", {"logType": log_type}) or {}
    fmt = formats.get(encoding) if isinstance(formats, dict) else None
    if not isinstance(fmt, str) or not fmt.strip():
        raise Refusal(f"ZPA returned no default {encoding} format for {log_type} (zpa_get_siem_log_format); give "
                      "format", "invalid_arguments", log_type=log_type)
    return fmt


# -- webhooks (ours) -----------------------------------------------------------------------------
def _no_outbox() -> Any:
    return tool_error("no SIEM export is configured on this server: add destinations to its "
                      "[servers.<name>.plugins.siem] table (formerly siem_destinations; see docs/siem.md) or "
                      "register a webhook with siem_register_webhook", "not_configured")


async def register_webhook(ctx, args: dict[str, Any]):
    name = args["name"]
    try:
        url = check_url(args["url"], "url")
    except ValueError as exc:
        return tool_error(str(exc), "invalid_arguments")
    if any(d.name == name for d in _own(ctx.settings).destinations):
        return tool_error(f"{name!r} is a destination in this server's settings; choose another name",
                          "invalid_arguments")
    siem = siem_for(ctx.settings)
    given = args.get("secret")
    if given:
        register_secrets([given])
    current = next((d for d in siem.destinations() if d.name == name), None)
    events = frozenset(args.get("events") or EVENT_KINDS)
    secret = given or (current.secret if current is not None else None) or _secrets.token_urlsafe(32)
    hook = Destination(name=name, type="webhook", url=url, secret=secret, events=events, origin="registered")
    shown = {**hook.describe(), "signature": "X-OneAPI-MCP-Signature: sha256=HMAC-SHA256(secret, "
                                             "'<X-OneAPI-MCP-Timestamp>.' + raw body)"}
    if current is not None and (current.url, current.events, current.secret) == (url, events, secret):
        siem.start()
        return tool_result({"outcome": "nothing_to_do", "summary": f"webhook {name!r} is already registered as "
                            "asked", "webhook": shown})
    await asyncio.to_thread(siem.outbox.put_webhook, hook)
    siem.refresh()
    siem.start()
    data: dict[str, Any] = {"outcome": "updated" if current else "registered",
                            "summary": f"webhook {name!r} {'updated' if current else 'registered'}: "
                                       f"{', '.join(sorted(events))} events are signed and sent to {hook.target()}",
                            "webhook": shown}
    if not given and current is None:
        data["signing_secret"] = secret  # generated here: shown once, never again
        data["note"] = "store signing_secret in the receiver now; it is not shown again"
    return tool_result(data)


async def list_webhooks(ctx, args: dict[str, Any]):
    siem = siem_for(ctx.settings, create=False)
    hooks = siem.webhooks if siem is not None else []
    stats = await asyncio.to_thread(siem.outbox.stats) if siem is not None else {}
    rows = [{**h.describe(), "pending": stats.get(h.name, {}).get("pending", 0),
             "delivered": stats.get(h.name, {}).get("delivered", 0)} for h in hooks]
    return tool_result({"webhooks": rows, "count": len(rows),
                        "summary": f"{len(rows)} webhook(s) registered" if rows else "no webhook is registered"})


async def remove_webhook(ctx, args: dict[str, Any]):
    name = args["name"]
    siem = siem_for(ctx.settings, create=False)
    hooks = [h.name for h in siem.webhooks] if siem is not None else []
    if name not in hooks:
        return tool_error(f"no registered webhook {name!r}; registered: {', '.join(hooks) or 'none'}", "not_found",
                          webhook=name)
    await asyncio.to_thread(siem.outbox.delete_webhook, name)
    dropped = await asyncio.to_thread(siem.outbox.drop, name)
    siem.refresh()
    return tool_result({"outcome": "removed", "summary": f"webhook {name!r} removed; {dropped} undelivered event(s) "
                        "for it were dropped", "dropped_events": dropped})


# -- status and flush ----------------------------------------------------------------------------
def _age(stamp: float | None) -> float | None:
    return round(time.time() - stamp, 1) if stamp else None


def _when(stamp: float | None) -> str | None:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds") if stamp else None


async def _rows(siem: Siem) -> list[dict[str, Any]]:
    stats = await asyncio.to_thread(siem.outbox.stats)
    rows = []
    for d in siem.destinations():
        s = stats.get(d.name, {})
        retry = siem.delivery.retry_in(d.name)
        done, failures = s.get("delivered", 0), s.get("failures", 0)
        healthy = not (failures and s.get("last_error"))
        rows.append({**d.describe(), "pending": s.get("pending", 0),
                     "acknowledged": done if d.acknowledges else 0, "sent": 0 if d.acknowledges else done,
                     "healthy": healthy, "state": _state(d, healthy),
                     "oldest_pending_age_s": _age(s.get("oldest_pending")), "failures_in_a_row": failures,
                     "last_error": s.get("last_error"), "last_error_at": _when(s.get("last_error_at")),
                     "last_success_at": _when(s.get("last_success_at")),
                     "next_retry_in_s": round(retry, 1) if retry is not None else None})
    return rows


def _state(dest: Destination, healthy: bool) -> str:
    if not healthy:
        return "unhealthy: not acknowledging; events kept in the outbox" if dest.acknowledges else (
            "unhealthy: sending fails; events kept in the outbox")
    if dest.acknowledges:
        return "healthy: events leave the outbox only when the receiver acknowledges them"
    return (f"best-effort ({dest.syslog_transport}): events are counted sent, never acknowledged; the receiver "
            "cannot confirm it read them (use transport tls or relp)")


async def siem_status(ctx, args: dict[str, Any]):
    from oneapi_mcp.plugin_api import Table, report_result

    siem = siem_for(ctx.settings, create=False)
    if siem is None:
        return _no_outbox()
    rows = await _rows(siem)
    pending = sum(r["pending"] for r in rows)
    failing = [r["name"] for r in rows if not r["healthy"]]
    best_effort = [r["name"] for r in rows if r["guarantee"] == "best-effort"]
    summary = (f"{len(rows)} destination(s), {pending} event(s) waiting"
               + (f"; unhealthy: {', '.join(failing)} (events kept in the outbox, retried with backoff)" if failing
                  else "")
               + (f"; best-effort, sent but never acknowledged: {', '.join(best_effort)}" if best_effort else ""))
    data = {"summary": summary, "pending_total": pending, "delivery_running": siem.delivery.running,
            "outbox": str(siem.outbox.path), "destinations": rows, "failing": failing, "best_effort": best_effort}
    table = Table("SIEM destinations", ["name", "type", "target", "guarantee", "healthy", "pending", "acknowledged",
                                        "sent", "oldest_pending_age_s", "failures_in_a_row", "last_error",
                                        "last_success_at", "next_retry_in_s"], rows)
    return report_result("SIEM export status", data, sections=[summary], tables=[table])


async def siem_flush(ctx, args: dict[str, Any]):
    siem = siem_for(ctx.settings, create=False)
    if siem is None:
        return _no_outbox()
    names = [d.name for d in siem.destinations()]
    wanted = args.get("destination")
    if wanted and wanted not in names:
        return tool_error(f"no SIEM destination {wanted!r}; configured: {', '.join(names) or 'none'}", "not_found")
    reports = await siem.delivery.flush([wanted] if wanted else None)
    rows = {r["name"]: r for r in await _rows(siem)}
    out = [{"destination": r["destination"], "acknowledged_now": r["acknowledged"], "sent_now": r["sent"],
            "still_pending": rows.get(r["destination"], {}).get("pending"), "error": r["error"]} for r in reports]
    failed = [r for r in out if r["error"]]
    summary = (f"{_counts(reports)} to {len(out) - len(failed)} of {len(out)} destination(s)")
    if failed:
        summary += ("; unreachable: " + "; ".join(f"{r['destination']} ({r['error']})" for r in failed)
                    + ". Their events stay in the outbox and are retried with backoff")
    return tool_result({"outcome": "partial" if failed else "delivered", "summary": summary, "destinations": out})


def _counts(reports: list[dict[str, Any]]) -> str:
    acked, sent = sum(r["acknowledged"] for r in reports), sum(r["sent"] for r in reports)
    return f"{acked} event(s) acknowledged" + (f", {sent} sent best-effort (not acknowledged)" if sent else "")


# -- security events -----------------------------------------------------------------------------
class _SourceError(Exception):
    pass


async def _read(ctx, operation: str, arguments: dict[str, Any]) -> Any:
    result = await ctx.call_operation(operation, arguments)
    if result.is_error:
        error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
        raise _SourceError(f"{operation} failed: {error.get('message', result.data)}")
    return result.data


_ALERT_HOURS = min(DOCUMENTED_DAYS[op] for op in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts")) * 24
_ZDX_SEVERITY = {"critical": "critical", "major": "error", "high": "error", "warning": "warning", "medium": "warning",
                 "minor": "notice", "low": "notice", "info": "info"}


async def _zdx_alerts(ctx, start: float, end: float, server: str) -> list[dict[str, Any]]:
    events = []
    for operation in ("zdx_list_ongoing_alerts", "zdx_list_historical_alerts"):
        data = await _read(ctx, operation, {"from_": int(start), "to": int(end), "all_pages": True,
                                            "max_items": 5000})
        alerts = data.get("items", data.get("alerts", [])) if isinstance(data, dict) else data or []
        for alert in alerts:
            if not isinstance(alert, dict):
                continue
            at = alert.get("ended_on") or alert.get("started_on")
            events.append(make_event(
                "security", "zdx_alert", alert, server=server,
                severity=_ZDX_SEVERITY.get(str(alert.get("severity", "")).lower(), "warning"),
                event_id=stable_event_id("zdx_alert", alert.get("id"), alert.get("alert_status"),
                                         alert.get("ended_on")),
                at=datetime.fromtimestamp(at, UTC) if isinstance(at, (int, float)) and at > 0 else None))
    return events


async def _zia_admin_audit(ctx, start: float, end: float, server: str, wait: float = 60.0) -> list[dict[str, Any]]:
    await _read(ctx, "zia_create_audit_log_report", {"body": {"startTime": int(start * 1000),
                                                              "endTime": int(end * 1000), "page": 1,
                                                              "pageSize": 1000}})
    deadline = time.monotonic() + wait
    while True:
        status = await _read(ctx, "zia_get_audit_log_entry_report_export_status", {})
        state = str((status or {}).get("status", "")).upper() if isinstance(status, dict) else ""
        if state == "COMPLETE":
            break
        if state in ("ERROR", "FAILED", "CANCELLED", "CANCELED") or (isinstance(status, dict) and state not in (
                "EXECUTING", "RUNNING", "IN_PROGRESS", "QUEUED", "PENDING", "") and status.get("errorCode")):
            raise _SourceError(f"the ZIA admin audit log export failed: {status.get('errorMessage') or state}")
        if time.monotonic() > deadline:
            raise _SourceError(f"the ZIA admin audit log export did not finish within {wait:.0f} s (status "
                               f"{state or 'unknown'}); run the export again later")
        await asyncio.sleep(1.0)
    rows = audit_rows(await _read(ctx, "zia_get_audit_log_entry_report_data", {}))
    return [make_event("security", "zia_admin_audit", row, server=server,
                       severity="warning" if str(row.get("Result", "")).upper().startswith("FAIL") else "notice",
                       event_id=stable_event_id("zia_admin_audit", row)) for row in rows]


def audit_rows(data: Any) -> list[dict[str, str]]:
    """The rows of a ZIA admin audit log export (CSV; the download may come as text or base64)."""
    if isinstance(data, list):
        return [r for r in data if isinstance(r, dict)]
    text = data if isinstance(data, str) else None
    if isinstance(data, dict):
        if isinstance(data.get("text"), str):
            text = data["text"]
        elif isinstance(data.get("body"), str):
            try:
                text = base64.b64decode(data["body"], validate=True).decode("utf-8-sig")
            except ValueError:
                text = data["body"]
    if not text:
        return []
    lines = text.lstrip("\ufeff").splitlines()
    # the export starts with a few report lines (name, period); the table starts at its header row
    start = next((i for i, line in enumerate(lines) if re.search(r"\bTime", line) and re.search(
        r"\b(Action|Admin)\b", line)), 0)
    rows = []
    for row in csv.DictReader(lines[start:]):
        clean = {str(k).strip(): str(v or "").strip() for k, v in row.items() if k is not None}
        if any(clean.values()):
            rows.append(clean)
    return rows


_SOURCES = {"zdx_alerts": _zdx_alerts, "zia_admin_audit": _zia_admin_audit}


async def export_events(ctx, args: dict[str, Any]):
    siem = siem_for(ctx.settings, create=False)
    if siem is None:
        return _no_outbox()
    targets = [d for d in siem.destinations() if "security" in d.events]
    if args.get("destinations"):
        unknown = sorted(set(args["destinations"]) - {d.name for d in targets})
        if unknown:
            return tool_error(f"unknown SIEM destination(s) {', '.join(unknown)} (or they do not take security "
                              f"events); these do: {', '.join(d.name for d in targets) or 'none'}", "not_found")
        targets = [d for d in targets if d.name in args["destinations"]]
    if not targets:
        return tool_error("no SIEM destination takes security events (events = [\"security\"])", "not_configured")
    end = time.time()
    start = end - float(args.get("hours", 24)) * 3600
    sources = list(dict.fromkeys(args.get("sources") or list(_SOURCES)))
    events: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    problems: list[dict[str, str]] = []
    for n, source in enumerate(sources):
        await ctx.progress(n, len(sources), f"reading {source}")
        try:
            found = await _SOURCES[source](ctx, start, end, ctx.settings.name)
        except _SourceError as exc:
            problems.append({"source": source, "problem": str(exc)})
            continue
        counts[source] = len(found)
        events.extend(found)
    window = {"from": _when(start), "to": _when(end)}
    base = {"window": window, "events_found": counts, "source_problems": problems or None,
            "unavailable_sources": _UNAVAILABLE, "destinations": [d.name for d in targets],
            "notes": [_AUDIT_EXPORT] if "zia_admin_audit" in sources else None}
    if args.get("dry_run", True):
        return tool_result({"outcome": "planned", "dry_run": True, **base,
                            "summary": f"{len(events)} security event(s) found, none queued; call siem_export_events "
                                       "again with dry_run=false to queue and send them",
                            "sample": [_masked(e) for e in events[:3]]}, is_error=bool(problems) and not events)
    added = await siem.add(events, targets)
    reports = await siem.delivery.flush([d.name for d in targets])
    failed = [r for r in reports if r["error"]]
    summary = (f"{len(events)} security event(s) found, {added} newly queued "
               f"({len(events) * len(targets) - added} were exported before); "
               f"{_counts(reports)} now")
    if failed:
        summary += ("; unreachable: " + "; ".join(f"{r['destination']} ({r['error']})" for r in failed)
                    + ". The events stay in the outbox and are retried with backoff (see siem_get_status)")
    outcome = "nothing_to_do" if not added and not any(r["acknowledged"] or r["sent"] for r in reports) else (
        "queued" if failed else "delivered")
    actions = None
    if problems:  # a source that could not be read exported nothing: never reported as delivered
        outcome, summary = "partial", summary + "; not exported: " + ", ".join(p["source"] for p in problems)
        actions = [f"{p['source']} could not be read ({p['problem']}): none of its events were exported; run "
                   "siem_export_events again once it can be read (events already exported are not sent twice)"
                   for p in problems]
    return tool_result({"outcome": outcome, "dry_run": False, **base, "queued": added, "summary": summary,
                        "delivery": reports, "operator_actions": actions}, is_error=bool(problems))


# -- definitions ---------------------------------------------------------------------------------
_STR = {"type": "string", "minLength": 1}
_EVENTS = {"type": "array", "items": {"type": "string", "enum": list(EVENT_KINDS)}, "minItems": 1, "uniqueItems": True,
           "description": "Which events it receives: audit (every tool call) and/or security (siem_export_events)."}

TOOLS = [
    CompositeTool(
        name="siem_configure_nss_feed",
        title="Configure a ZIA Cloud NSS feed",
        description=(
            "Create or update (by name) a ZIA Cloud NSS feed that streams one log type (web, firewall, DNS, admin "
            "audit ...) to a SIEM's HTTPS API, after checking the output format with validateFeedFormat; activates "
            "ZIA once, then runs ZIA's connectivity test. Secrets are sent, never shown. Dry run by default; "
            "idempotent."),
        handler=configure_nss_feed, toolset="composite.siem", scope="write",
        operations=("zia_list_nss_feeds", "zia_get_feed_output_formats", "zia_validate_feed_format",
                    "zia_create_nss_feed", "zia_update_nss_feed", "zia_test_cloud_nss_connectivity", "zia_activate"),
        input_schema=plan_schema({
            "name": {**_STR, "maxLength": 255, "description": "Feed name; an existing feed of this name is updated."},
            "log_type": {"type": "string", "enum": list(NSS_LOG_TYPES), "description": "nssLogType: what to stream."},
            "siem_type": {"type": "string", "enum": ["SPLUNK", "SUMO_LOGIC", "DEVO", "OTHER", "AZURE_SENTINEL", "S3"],
                          "description": "siemType of the receiving SIEM."},
            "connection_url": {**_STR, "description": "The SIEM's HTTPS log collection URL (a publicly trusted "
                                                      "certificate)."},
            "authentication_token": {**_STR, "description": "Token ZIA sends to the SIEM (write-only, never shown)."},
            "connection_headers": {"type": "array", "items": {"type": "string"}, "maxItems": 10,
                                   "description": "HTTP headers as 'Name: value' (values are never shown)."},
            "oauth_client_id": {**_STR, "description": "OAuth 2.0 client id (Azure Sentinel, S3)."},
            "oauth_client_secret": {**_STR, "description": "OAuth 2.0 client secret (write-only, never shown)."},
            "oauth_token_url": {**_STR, "description": "OAuth 2.0 token URL."},
            "output_type": {"type": "string", "enum": ["JSON", "CSV", "TAB_SEPARATED", "NAME_VALUE_PAIRS", "SPLUNK_CIM",
                                                       "QRADAR", "ARCSIGHT_CEF", "CUSTOM"], "default": "JSON",
                            "description": "nssFeedType: the output encoding (default JSON)."},
            "feed_output_format": {**_STR, "description": "feedOutputFormat; default: ZIA's default for the log type."},
            "nss_type": {"type": "string", "enum": ["NSS_FOR_WEB", "NSS_FOR_FIREWALL"],
                         "description": "Default: NSS_FOR_FIREWALL for firewall and DNS logs, else NSS_FOR_WEB."},
            "time_zone": {**_STR, "default": "GMT", "description": "Time zone of timestamps in the output."},
            "max_batch_size_kb": {"type": "integer", "minimum": 16, "maximum": 2048,
                                  "description": "Largest HTTP payload ZIA sends, in KB."},
            "enabled": {"type": "boolean", "default": True, "description": "feedStatus ENABLED or DISABLED."},
            "validate_format": {"type": "boolean", "default": True,
                                "description": "Check the output format with ZIA before writing."},
            "test_connectivity": {"type": "boolean", "default": True,
                                  "description": "Run ZIA's connectivity test on the feed afterwards."},
            "update_secrets": {"type": "boolean", "default": False,
                               "description": "Send the token/client secret again to an existing feed (they cannot "
                                              "be read back to compare)."},
        }, ["name", "log_type", "siem_type", "connection_url"]),
    ),
    CompositeTool(
        name="siem_configure_lss_stream",
        title="Configure ZPA log streaming (LSS)",
        description=(
            "Create or update (by name) a ZPA Log Streaming Service config: App Connectors in the given groups "
            "stream one log type (user activity, user status, connector status, audit ...) over TCP, TLS by "
            "default, to a SIEM host and port, in ZPA's default JSON format unless given. Dry run by default; "
            "idempotent."),
        handler=configure_lss_stream, toolset="composite.siem", scope="write",
        operations=("zpa_list_all_lss_configs", "zpa_get_siem_log_format", "zpa_list_assistant_groups",
                    "zpa_create_siem", "zpa_update_siem"),
        input_schema=plan_schema({
            "name": {**_STR, "maxLength": 255, "description": "Config name; an existing one of this name is updated."},
            "host": {**_STR, "description": "Log receiver hostname or IP, as the App Connectors reach it."},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535, "description": "Log receiver TCP port."},
            "log_type": {"type": "string", "enum": list(LSS_LOG_TYPES),
                         "description": "sourceLogType, e.g. zpn_trans_log (user activity), zpn_auth_log (user "
                                        "status), zpn_audit_log (admin audit)."},
            "connector_groups": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 50,
                                 "description": "App Connector group names or ids that send the logs."},
            "encoding": {"type": "string", "enum": ["json", "csv", "tsv"], "default": "json",
                         "description": "Which of ZPA's default formats to use when format is not given."},
            "format": {**_STR, "description": "The log format string (default: ZPA's default for the log type)."},
            "use_tls": {"type": "boolean", "default": True, "description": "Stream over TLS."},
            "filter": {"type": "array", "items": {"type": "string"}, "maxItems": 100,
                       "description": "Session status codes to EXCLUDE: ZPA drops the logs with these codes and "
                                      "streams the rest (empty: stream every log)."},
            "enabled": {"type": "boolean", "default": True, "description": "Stream now (true) or keep it off."},
            "description": {"type": "string", "maxLength": 1024, "description": "Free text."},
        }, ["name", "host", "port", "log_type", "connector_groups"], activation=False),
    ),
    CompositeTool(
        name="siem_register_webhook",
        title="Register an outbound webhook",
        description=(
            "Register (or update, by name) a webhook this server sends events to: each event is one POST of JSON "
            "signed with HMAC-SHA256 (X-OneAPI-MCP-Signature: sha256=<hex> over '<X-OneAPI-MCP-Timestamp>.<body>'), "
            "queued in a durable outbox and retried until acknowledged (2xx). Without secret, one is generated and "
            "shown once."),
        handler=register_webhook, toolset="composite.siem", scope="write",
        input_schema={"type": "object", "additionalProperties": False, "required": ["name", "url"], "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$", "description": "Webhook name."},
            "url": {**_STR, "description": "Receiver URL (https; http only to localhost)."},
            "secret": {"type": "string", "minLength": 16, "description": "Signing secret (default: generated)."},
            "events": _EVENTS}},
    ),
    CompositeTool(
        name="siem_list_webhooks",
        title="List outbound webhooks",
        description="The webhooks registered on this server, with events pending and delivered (secrets not shown).",
        handler=list_webhooks, toolset="composite.siem", scope="read",
        input_schema={"type": "object", "additionalProperties": False, "properties": {}},
    ),
    CompositeTool(
        name="siem_remove_webhook",
        title="Remove an outbound webhook",
        description="Remove a registered webhook; its undelivered events are dropped.",
        handler=remove_webhook, toolset="composite.siem", scope="write",
        input_schema={"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
            "name": {**_STR, "description": "Webhook name."}}},
    ),
    CompositeTool(
        name="siem_export_events",
        title="Export security events to the SIEM",
        description=(
            "Read security events (ZDX alerts, the ZIA admin audit log) for the last hours and queue them in the "
            "durable outbox for every destination that takes security events, then deliver. Event ids are stable: "
            "an event exported before is not sent again. An unreachable SIEM keeps its events queued. ZWA DLP "
            "incidents (not exported yet), Z-Insights and transaction logs are left out (see "
            "unavailable_sources). Dry run by default."),
        handler=export_events, toolset="composite.siem", scope="write",
        operations=("zdx_list_ongoing_alerts", "zdx_list_historical_alerts", "zia_create_audit_log_report",
                    "zia_get_audit_log_entry_report_export_status", "zia_get_audit_log_entry_report_data"),
        input_schema=plan_schema({
            "sources": {"type": "array", "items": {"type": "string", "enum": list(_SOURCES)}, "minItems": 1,
                        "uniqueItems": True, "description": "Which sources to read (default: all)."},
            # the ZDX alert lists it reads document at most 14 days per request (plugins/composite/_kit/zdx_windows.py)
            "hours": {"type": "number", "exclusiveMinimum": 0, "maximum": _ALERT_HOURS, "default": 24,
                      "description": f"How far back to read, in hours (at most {_ALERT_HOURS}: ZDX alert lists "
                                     "answer at most 14 days)."},
            "destinations": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                             "description": "Only these destinations (default: all that take security events)."},
        }, activation=False),
    ),
    CompositeTool(
        name="siem_get_status",
        title="SIEM export status",
        description=("Each SIEM destination's health, guarantee (acknowledged, or best-effort for UDP and plain TCP "
                     "syslog), queue depth, events acknowledged or sent, oldest waiting event, last error and next "
                     "retry, from this server's durable outbox."),
        handler=siem_status, toolset="composite.siem", scope="read",
        input_schema={"type": "object", "additionalProperties": False, "properties": {}},
    ),
    CompositeTool(
        name="siem_flush_outbox",
        title="Deliver queued SIEM events now",
        description=("Deliver what the outbox holds now, without waiting for the retry backoff; reports what each "
                     "destination acknowledged and which are unreachable (their events stay queued)."),
        handler=siem_flush, toolset="composite.siem", scope="read",
        input_schema={"type": "object", "additionalProperties": False, "properties": {
            "destination": {**_STR, "description": "Only this destination (default: all)."}}},
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
