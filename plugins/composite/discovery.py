"""Built-in plugin: service discovery (which Zscaler services this tenant and API client can use, and
how they are doing).

OneAPI has no service-health or status API (trust.zscaler.com is not part of it), so the status is
composed: one cheap GET per service says whether it is reachable, whether the token is accepted and
whether the client is entitled (403 means not); a few reads per service add what an operator looks
at first (ZIA activation, ZPA connector health, ZDX ongoing alerts, ...). Services are checked
concurrently, each within its own deadline, and a failing service is reported, never fatal.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import anyio
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp.plugin_api import SCOPE_ORDER, CompositeTool, tool_result

from ..hookspecs import hookimpl

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

_NAMES = {name: row.title.split(" through ")[0] for name, row in SERVICE_TABLE.items()}
_NO_HEALTH_API = ("OneAPI has no service-health or status API (trust.zscaler.com is not part of it): reachability, "
                  "authentication and entitlement come from one cheap GET per service (HTTP 403 = not entitled, or "
                  "the API client lacks the role), health from each service's own objects")
_ZCC_LIMITS = ("ZCC allows 100 API calls per hour per tenant and its download endpoints (downloadServiceStatus, "
               "downloadDevices) 3 per day, so only one getDevices page is read; per-device service status is not "
               "fetched (call zcc_download_service_status_for_devices yourself when it is worth one of the 3)")
_SEVERITY = {"critical": 0, "major": 1, "high": 1, "warning": 2, "medium": 2, "minor": 3, "low": 3, "info": 4}
_ZCC_PAGE = 100


class _Check:
    """One service's probe and health reads; what went wrong is recorded, never raised."""

    def __init__(self, ctx, service: str, top_alerts: int):
        self.ctx, self.service, self.top_alerts = ctx, service, top_alerts
        self.out: dict[str, Any] = {"service": service, "name": _NAMES[service], "status": "not_checked",
                                    "reachable": None, "authenticated": None, "entitled": None, "latency_ms": None}
        self.details: dict[str, Any] = {}
        self.attention: list[str] = []
        self.problems: list[dict[str, Any]] = []
        self.probed = False

    async def probe(self, operation: str, arguments: dict[str, Any]) -> Any:
        """The one timed GET that decides reachable / authenticated / entitled; None if it failed."""
        self.out["probe"] = operation
        started = time.perf_counter()
        result = await self.ctx.call_operation(operation, arguments)
        self.out["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if result.is_error:
            self._classify(result.data.get("error", {}) if isinstance(result.data, dict) else {})
            return None
        self.probed = True
        self.out.update(status="ok", reachable=True, authenticated=True, entitled=True)
        return result.data

    async def read(self, operation: str, arguments: dict[str, Any] | None = None, *, all_pages: bool = False) -> Any:
        """A health read after the probe; a failure is listed under problems and gives None."""
        args = dict(arguments or {})
        if all_pages:
            args.update(all_pages=True, max_items=5000)
        result = await self.ctx.call_operation(operation, args)
        if result.is_error:
            error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
            self.problems.append({"operation": operation, "http_status": error.get("status"),
                                  "error": error.get("message", str(result.data))})
            return None
        data = result.data
        if all_pages:
            return list(data.get("items", [])) if isinstance(data, dict) else list(data or [])
        return data

    def _classify(self, error: dict[str, Any]) -> None:
        kind, status, message = error.get("kind"), error.get("status"), error.get("message")
        self.out["error"] = message
        if status is not None:
            self.out["http_status"] = status
        if kind in ("not_configured", "missing_setting"):
            self.out.update(status="not_configured", latency_ms=None)
        elif kind == "scope_denied":
            self.out.update(status="not_checked", latency_ms=None,
                            error=f"this server's filters hide the probe: {message}")
        elif kind == "auth":  # the token request itself failed
            self.out.update(status="unauthenticated", authenticated=False)
        elif kind in ("unreachable", "timeout"):
            self.out.update(status="unreachable" if kind == "unreachable" else "timeout", reachable=False)
        elif status == 401:
            self.out.update(status="unauthenticated", reachable=True, authenticated=False)
        elif status == 403:
            self.out.update(status="not_entitled", reachable=True, authenticated=True, entitled=False)
        elif status == 429 or kind == "rate_limited":
            self.out.update(status="rate_limited", reachable=status is not None or None, authenticated=True)
        else:
            self.out.update(status="error", reachable=status is not None or None)

    def timed_out(self, seconds: float) -> None:
        message = f"no answer within {seconds:g} s"
        if self.probed:
            self.problems.append({"operation": "(remaining reads)", "error": message})
        else:
            self.out.update(status="timeout", error=message)

    def crashed(self, exc: Exception) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if self.probed:
            self.problems.append({"operation": "(health reads)", "error": message})
        else:
            self.out.update(status="error", error=message)

    def report(self, tools: dict[str, Any]) -> dict[str, Any]:
        out = dict(self.out)
        if self.probed and self.problems:
            out["status"] = "partial"
        if self.details:
            out["details"] = self.details
        if self.attention:
            out["attention"] = self.attention
        if self.problems:
            out["problems"] = self.problems
        out["tools"] = tools
        out["line"] = _line(out)
        return out


# -- per service -----------------------------------------------------------------------------------
async def _zia(check: _Check) -> None:
    status = await check.probe("zia_get_activation_status", {})
    if status is None:
        return
    state = status.get("status") if isinstance(status, dict) else status
    check.details["activation"] = state
    if state and state != "ACTIVE":
        check.attention.append(f"ZIA activation is {state}: staged changes are waiting for zia_activate "
                               "(activation is tenant-wide)")


async def _zpa(check: _Check) -> None:
    first = await check.probe("zpa_list_assistant_groups", {"pagesize": 500})
    if first is None:
        return
    groups = _page_items(first)
    if int(first.get("totalPages") or 1) > 1:
        groups = await check.read("zpa_list_assistant_groups", {"pagesize": 500}, all_pages=True) or groups
    connectors = await check.read("zpa_list_all_assistants", {"pagesize": 500}, all_pages=True)
    edges = await check.read("zpa_list_all_private_brokers", {"pagesize": 500}, all_pages=True)
    if connectors is not None:
        check.details["connectors"] = _fleet(connectors)
        down = [c for c in connectors if not _healthy(c)]
        check.details["connectors"]["unhealthy"] = [
            {"name": c.get("name"), "group": c.get("appConnectorGroupName"), "enabled": c.get("enabled"),
             "controlChannelStatus": c.get("controlChannelStatus"), "currentVersion": c.get("currentVersion")}
            for c in down[:10]]
        if down:
            check.attention.append(f"{len(down)} of {len(connectors)} ZPA app connectors are not connected: "
                                   + ", ".join(str(c.get("name")) for c in down[:5]))
        by_group = Counter(c.get("appConnectorGroupId") for c in connectors if _healthy(c))
        check.details["connector_groups"] = [
            {"name": g.get("name"), "enabled": g.get("enabled"), "connectors": len(g.get("connectors") or []),
             "connected": by_group.get(g.get("id"), 0)} for g in groups]
        empty = [g.get("name") for g in groups if g.get("enabled", True) and not by_group.get(g.get("id"))]
        if empty:
            check.attention.append("ZPA connector group(s) with no connected connector: " + ", ".join(map(str, empty)))
    else:
        check.details["connector_groups"] = {"total": len(groups)}
    if edges is not None:
        check.details["private_service_edges"] = _fleet(edges)


async def _zdx(check: _Check) -> None:
    first = await check.probe("zdx_list_ongoing_alerts", {})
    if first is None:
        return
    alerts = list(first.get("alerts") or []) if isinstance(first, dict) else []
    if isinstance(first, dict) and first.get("next_offset"):
        alerts = await check.read("zdx_list_ongoing_alerts", {}, all_pages=True) or alerts
    ranked = sorted(alerts, key=lambda a: (_SEVERITY.get(str(a.get("severity", "")).lower(), 5),
                                           -int(a.get("num_devices") or 0)))
    check.details["ongoing_alerts"] = {
        "count": len(alerts),
        "by_severity": dict(Counter(str(a.get("severity")) for a in alerts)),
        "top": [{"id": a.get("id"), "rule": a.get("rule_name"), "severity": a.get("severity"),
                 "application": (a.get("application") or {}).get("name"), "devices": a.get("num_devices"),
                 "started_on": a.get("started_on")} for a in ranked[:check.top_alerts]]}
    critical = [a for a in alerts if str(a.get("severity", "")).lower() == "critical"]
    if critical:
        check.attention.append(f"{len(critical)} critical ZDX alert(s) ongoing: "
                               + ", ".join(str(a.get("rule_name")) for a in critical[:3]))


async def _zcc(check: _Check) -> None:
    devices = await check.probe("zcc_list_devices", {"page": 1, "pageSize": _ZCC_PAGE})
    if devices is None:
        return
    devices = list(devices) if isinstance(devices, list) else []
    check.details["devices_first_page"] = {
        "count": len(devices), "more": len(devices) >= _ZCC_PAGE,
        "by_state": dict(Counter(str(d.get("registrationState") or d.get("state")) for d in devices))}


async def _zid(check: _Check) -> None:
    users = await check.probe("zid_list_users", {"limit": 1})
    if users is None:
        return
    check.details["users"] = _total(users)
    groups = await check.read("zid_list_groups", {"limit": 1})
    if groups is not None:
        check.details["groups"] = _total(groups)


async def _ztw(check: _Check) -> None:
    status = await check.probe("ztw_get_status", {})
    if status is None or not isinstance(status, dict):
        return
    check.details["activation"] = {k: status.get(k) for k in ("orgEditStatus", "orgLastActivateStatus",
                                                              "adminActivateStatus") if k in status}
    if status.get("orgEditStatus") == "EDITS_PRESENT":
        check.attention.append("ZTW has edits waiting for ztw_activate")
    if status.get("adminActivateStatus") == "ADM_ACTV_FAIL":
        check.attention.append("the last ZTW activation failed")


async def _probe_only(check: _Check) -> None:
    """A service with no health reads here: its entitlement probe (the services table's) says it all."""
    row = SERVICE_TABLE[check.service]
    if row.probe is None:  # Z-Insights and ZMS: no query with fixed arguments speaks for the service
        check.out.update(status="not_checked", error=f"{row.short} has no entitlement probe: no query with fixed "
                                                     "arguments answers for the whole service (codegen/_graphql.py)")
        return
    await check.probe(row.probe, dict(row.probe_arguments))


# services with health reads first (in the order an operator looks at them), then every other
# service of the services table with its probe alone
_CHECKS = {"zia": _zia, "zpa": _zpa, "zdx": _zdx, "zcc": _zcc, "zid": _zid, "ztw": _ztw}
SERVICES = (*_CHECKS, *sorted(s for s in SERVICE_TABLE if s not in _CHECKS))


def _page_items(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        return list(data.get("list") or data.get("items") or [])
    return list(data or [])


def _total(data: Any) -> int | None:
    if isinstance(data, dict):
        total = data.get("results_total")
        return int(total) if total is not None else len(data.get("records") or [])
    return None


def _healthy(node: dict[str, Any]) -> bool:
    return str(node.get("controlChannelStatus", "")).upper() in ("ZPN_STATUS_AUTHENTICATED", "ACTIVE", "UP",
                                                                  "CONNECTED") and node.get("enabled", True)


def _fleet(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of App Connectors or Service Edges by the status fields ZPA reports."""
    out: dict[str, Any] = {"total": len(nodes), "enabled": sum(1 for n in nodes if n.get("enabled", True)),
                           "connected": sum(1 for n in nodes if _healthy(n))}
    for key in ("controlChannelStatus", "runtimeStatus", "upgradeStatus"):
        counts = Counter(str(n[key]) for n in nodes if n.get(key) is not None)
        if counts:
            out[f"by_{key}"] = dict(counts)
    behind = [n for n in nodes if n.get("expectedVersion") and n.get("currentVersion") != n.get("expectedVersion")]
    out["behind_expected_version"] = len(behind)
    return out


# -- tools on this server --------------------------------------------------------------------------
def _tool_counts(ctx) -> dict[str, dict[str, Any]]:
    """Per service: generated tools this server allows (lists or lets invoke_operation call) and the total.

    The hidden set is asked from the `oneapi_mcp_filter_tools` hooks exactly as the server's tool
    surface asks it (profile scopes, allow/deny globs, other plugins' filters); the surface itself is
    not reachable from a composite tool's context.
    """
    runtime, settings = ctx.call.runtime, ctx.call.server
    tools = list(runtime.catalog.tools.values())
    hidden: set[str] = set()
    for answer in runtime.plugins.hook.oneapi_mcp_filter_tools(settings=settings, tools=tools):
        hidden.update(answer.keys() if hasattr(answer, "keys") else answer)
    out: dict[str, dict[str, Any]] = {}
    for tool in tools:
        entry = out.setdefault(tool.service, {"allowed": 0, "total": 0,
                                              "by_scope": {s: {"allowed": 0, "total": 0} for s in SCOPE_ORDER}})
        scope = entry["by_scope"][tool.scope]
        entry["total"] += 1
        scope["total"] += 1
        if tool.name not in hidden:
            entry["allowed"] += 1
            scope["allowed"] += 1
    return out


def _line(report: dict[str, Any]) -> str:
    parts = [f"{report['service']}: {report['status']}"]
    if report.get("latency_ms") is not None:
        parts.append(f"{report['latency_ms']:.0f} ms")
    details = report.get("details") or {}
    if "activation" in details:
        activation = details["activation"]
        parts.append("activation " + (activation if isinstance(activation, str) else
                                      "/".join(str(v) for v in activation.values())))
    if "connectors" in details:
        c = details["connectors"]
        parts.append(f"{c['connected']}/{c['total']} connectors connected")
    if "ongoing_alerts" in details:
        parts.append(f"{details['ongoing_alerts']['count']} ongoing alert(s)")
    if "devices_first_page" in details:
        d = details["devices_first_page"]
        parts.append(f"{d['count']}{'+' if d['more'] else ''} device(s)")
    if "users" in details:
        parts.append(f"{details['users']} users, {details.get('groups', '?')} groups")
    if report.get("error") and report["status"] != "ok":
        parts.append(str(report["error"])[:160])
    if report.get("problems"):
        parts.append(f"{len(report['problems'])} read(s) failed")
    tools = report.get("tools") or {}
    if tools:
        parts.append(f"tools {tools.get('allowed', 0)}/{tools.get('total', 0)} allowed here")
    if report.get("attention"):
        parts.append("attention: " + "; ".join(report["attention"]))
    return ", ".join(parts)


# -- the tool --------------------------------------------------------------------------------------
async def service_status(ctx, args: dict[str, Any]):
    services = list(dict.fromkeys(args.get("services") or SERVICES))
    timeout = float(args.get("timeout_seconds", 30))
    checks = {s: _Check(ctx, s, int(args.get("top_alerts", 5))) for s in services}

    async def run(check: _Check) -> None:
        with anyio.move_on_after(timeout) as deadline:
            try:
                await _CHECKS.get(check.service, _probe_only)(check)
            except Exception as exc:  # one service's surprise must not cost the others their report
                check.crashed(exc)
        if deadline.cancelled_caught:
            check.timed_out(timeout)

    async with anyio.create_task_group() as group:  # concurrent: a slow service delays only itself
        for check in checks.values():
            group.start_soon(run, check)

    counts = _tool_counts(ctx)
    reports = [checks[s].report(counts.get(s, {"allowed": 0, "total": 0})) for s in services]
    by_status = Counter(r["status"] for r in reports)
    summary = f"{len(reports)} service(s): " + ", ".join(
        f"{n} {status}" + (f" ({', '.join(r['service'] for r in reports if r['status'] == status)})"
                           if status != "ok" else "") for status, n in sorted(by_status.items()))
    attention = [a for r in reports for a in r.get("attention", [])]
    limits = [_NO_HEALTH_API]
    if "zcc" in services:
        limits.append(_ZCC_LIMITS)
    data = {"tool": ctx.call.name, "summary": summary, "lines": [r["line"] for r in reports],
            "services": reports, "attention": attention,
            "server": {"name": ctx.call.server.name, "allowed_scopes": sorted(ctx.call.server.allowed_scopes),
                       "tools_mode": ctx.call.server.tools_mode},
            "api_limits": limits}
    return tool_result(data)


_OPERATIONS = ("zia_get_activation_status", "zpa_list_assistant_groups", "zpa_list_all_assistants",
               "zpa_list_all_private_brokers", "zdx_list_ongoing_alerts", "zcc_list_devices", "zid_list_users",
               "zid_list_groups", "ztw_get_status",
               *(SERVICE_TABLE[s].probe for s in SERVICES if s not in _CHECKS and SERVICE_TABLE[s].probe))

_PROBED_ONLY = ", ".join(SERVICE_TABLE[s].short for s in SERVICES if s not in _CHECKS)


TOOLS = [
    CompositeTool(
        name="discovery_service_status",
        keywords=("is Zscaler down", "service health", "health check", "what are we licensed", "entitlement check",
                  "API reachability", "outage check", "connector health", "which services entitled", "tenant status",
                  "status page", "pending activation", "API latency"),
        title="Status of every Zscaler service for this tenant",
        description=(
            "Which Zscaler services this tenant and API client can use, and how they are doing. OneAPI has no "
            "service-health API, so this composes one: per service a cheap GET (reachable, authenticated, entitled "
            "- HTTP 403 means not entitled - and its latency in ms), plus ZIA activation status, ZPA app connector "
            "and service edge health (counts by control-channel/runtime/upgrade status, groups with no connected "
            "connector), ZDX ongoing alerts (count and the top few), one page of ZCC devices (ZCC allows 100 calls "
            "per hour; the 3-per-day downloads are not called), ZIdentity user and group totals, ZTW activation "
            f"status; for every other service ({_PROBED_ONLY}) its entitlement probe; and how many generated "
            "tools of each service this server allows. Services are checked concurrently; one failing or slow "
            "service is reported, never fatal. Read-only."),
        handler=service_status, toolset="composite.discovery", scope="read", operations=_OPERATIONS,
        input_model=f"{_INPUTS}:_StatusInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
