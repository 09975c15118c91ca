"""`oneapi-mcp scopes`: what a named server's enabled tools need on the Zscaler side.

A least-privilege checklist for creating the server's API client in ZIdentity: per service, whether
read-only or read-write access is needed (read-write when any allowed tool of the service has scope
`write` or `destructive`) and the resource families (toolsets) involved. "Allowed" is decided exactly
as for the server's tool list: by the `oneapi_mcp_filter_tools` hooks (profile, allow/deny globs,
plugins' filters).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .generated.services import SERVICES as SERVICE_TABLE

if TYPE_CHECKING:
    from ._catalog import Catalog
    from ._settings import ServerSettings

__all__ = ["SERVICE_NAMES", "ScopesReport", "ServiceNeed", "render_report", "scopes_report"]

SERVICE_NAMES = {name: row.short for name, row in SERVICE_TABLE.items()}


@dataclass(frozen=True)
class ServiceNeed:
    """One service's row of the checklist; `access` is "read-only", "read-write" or "not needed"."""

    service: str
    label: str
    access: str
    tools: int
    toolsets: tuple[tuple[str, int, bool], ...]  # (toolset, allowed tools, any of them writes)


@dataclass(frozen=True)
class ScopesReport:
    server: str
    profile: str
    scopes: tuple[str, ...]
    allowed: int
    total: int
    services: tuple[ServiceNeed, ...]


def scopes_report(settings: ServerSettings, *, catalog: Catalog | None = None, pm: Any = None) -> ScopesReport:
    """The checklist for one named server; needs no credentials."""
    from ._server import Runtime, ToolSurface

    def no_executor(_catalog: Any) -> Any:
        raise RuntimeError("the scopes report never calls upstream")

    runtime = Runtime(settings=settings, executor_factory=no_executor, pm=pm, _catalog=catalog)
    surface = ToolSurface(runtime)
    tools = [tool for tool in runtime.catalog.tools.values() if surface.allowed(tool)]
    services = []
    for service in sorted({*SERVICE_NAMES, *runtime.catalog.services}, key=_service_order):
        mine = [tool for tool in tools if tool.service == service]
        counts = Counter(tool.toolset for tool in mine)
        writes = {tool.toolset for tool in mine if tool.scope in ("write", "destructive")}
        access = "not needed" if not mine else "read-write" if writes else "read-only"
        services.append(ServiceNeed(service, SERVICE_NAMES.get(service, service.upper()), access, len(mine),
                                    tuple((ts, counts[ts], ts in writes) for ts in sorted(counts))))
    return ScopesReport(settings.name, settings.profile, tuple(sorted(settings.allowed_scopes)), len(tools),
                        len(runtime.catalog.tools), tuple(services))


def _service_order(service: str) -> tuple[int, str]:
    order = list(SERVICE_NAMES)
    return (order.index(service) if service in order else len(order), service)


def render_report(report: ScopesReport) -> str:
    """The checklist as text, one line per service and one per resource family."""
    lines = [f"server {report.server}: profile {report.profile} (scopes {', '.join(report.scopes)}), "
             f"{report.allowed} of {report.total} operations enabled",
             "least-privilege checklist for its API client (ZIdentity > API clients):"]
    width = max(len(s.label) for s in report.services)
    for need in report.services:
        if need.access == "not needed":
            lines.append(f"  [ ] {need.label:<{width}}  not needed")
            continue
        lines.append(f"  [ ] {need.label:<{width}}  {need.access}  ({need.tools} tools)")
        for toolset, count, writes in need.toolsets:
            lines.append(f"        {toolset}: {count} tools, {'read-write' if writes else 'read'}")
    return "\n".join(lines)
