"""Built-in plugin: Zscaler's own log export to a SIEM, configured through the API: ZIA Cloud NSS feeds
(with a connectivity test) and ZPA log streaming (LSS) configs; both plan first and are idempotent by name.
Web, firewall and ZPA user-activity transaction logs are never readable over REST: they reach a SIEM only
this way. This server's own export (its outbox) is the ops plugin siem; both are toolset composite.siem.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import Field

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Refusal,
    Workflow,
    delete_created,
    refusal_result,
    register_secrets,
    tool_result,
)

from ..hookspecs import hookimpl
from ._kit.receivers import check_url, masked

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["LSS_LOG_TYPES", "NSS_LOG_TYPES", "TOOLS", "oneapi_mcp_register_tools"]


# -- helpers -------------------------------------------------------------------------------------
def _amend(result: Any, **extra: Any) -> Any:
    """The workflow's result with secrets masked and `extra` added."""
    data = masked(dict(result.structured_content or {}))
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


# -- definitions ---------------------------------------------------------------------------------
_Str = Annotated[str, Field(min_length=1)]
_SIEM_TYPES = ("SPLUNK", "SUMO_LOGIC", "DEVO", "OTHER", "AZURE_SENTINEL", "S3")
_OUTPUT_TYPES = ("JSON", "CSV", "TAB_SEPARATED", "NAME_VALUE_PAIRS", "SPLUNK_CIM", "QRADAR", "ARCSIGHT_CEF", "CUSTOM")


TOOLS = [
    CompositeTool(
        name="siem_configure_nss_feed",
        keywords=("Cloud NSS", "web logs Sentinel", "Splunk HEC", "ZIA logs SIEM", "firewall logs export",
                  "DNS logs", "Microsoft Sentinel", "log forwarding", "NSS feed", "HTTPS log push",
                  "admin audit feed", "feed format"),
        title="Configure a ZIA Cloud NSS feed",
        description=(
            "Create or update (by name) a ZIA Cloud NSS feed that streams one log type (web, firewall, DNS, admin "
            "audit ...) to a SIEM's HTTPS API, after checking the output format with validateFeedFormat; activates "
            "ZIA once, then runs ZIA's connectivity test. Secrets are sent, never shown. Dry run by default; "
            "idempotent."),
        handler=configure_nss_feed, toolset="composite.siem", scope="write",
        operations=("zia_list_nss_feeds", "zia_get_feed_output_formats", "zia_validate_feed_format",
                    "zia_create_nss_feed", "zia_update_nss_feed", "zia_test_cloud_nss_connectivity", "zia_activate"),
        input_model=f"{_INPUTS}:_NssFeedInput",
    ),
    CompositeTool(
        name="siem_configure_lss_stream",
        keywords=("ZPA logs to Splunk", "log streaming service", "stream ZPA logs", "private access logs",
                  "ZPA user activity", "App Connector logs", "syslog ZPA", "QRadar", "connector status logs",
                  "LSS receiver", "ZPA audit logs", "TLS log stream"),
        title="Configure ZPA log streaming (LSS)",
        description=(
            "Create or update (by name) a ZPA Log Streaming Service config: App Connectors in the given groups "
            "stream one log type (user activity, user status, connector status, audit ...) over TCP, TLS by "
            "default, to a SIEM host and port, in ZPA's default JSON format unless given. Dry run by default; "
            "idempotent."),
        handler=configure_lss_stream, toolset="composite.siem", scope="write",
        operations=("zpa_list_all_lss_configs", "zpa_get_siem_log_format", "zpa_list_assistant_groups",
                    "zpa_create_siem", "zpa_update_siem"),
        input_model=f"{_INPUTS}:_LssStreamInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
