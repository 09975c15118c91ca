"""Entitlement honesty: a tenant (or API client) without a service gets one clear answer, not 403 noise.

A 403 from an operation means either "this API client may not use the service at all" or "it may, but
not this operation". One cheap read per service (the spec's `x-oneapi-probe`, in the services table)
tells the two apart; its answer is kept for `TTL` seconds. While a service is known not to be
entitled, its tools answer `not_entitled` at once, without an upstream request. Nothing is probed
while calls succeed: the probe runs only after a 403.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .generated.services import SERVICES as SERVICE_TABLE

if TYPE_CHECKING:
    from ._call_result import CallResult
    from ._catalog import ToolDef
    from ._executor import Executor

__all__ = ["TTL", "Entitlements"]

TTL = 900.0  # entitlements change when an admin edits the API client's roles: rarely


class Entitlements:
    """Per runtime: which services this API client is entitled to, as far as the probes have shown."""

    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._known: dict[str, tuple[bool, float, str]] = {}  # service -> (entitled, when, evidence)

    def known(self, service: str) -> bool | None:
        entry = self._known.get(service)
        if entry is None or self.clock() - entry[1] > self.ttl:
            return None
        return entry[0]

    def record(self, service: str, entitled: bool, evidence: str) -> None:
        self._known[service] = (entitled, self.clock(), evidence)

    def refusal(self, tool: ToolDef) -> CallResult | None:
        """The answer for a tool of a service known not to be entitled (None: go ahead)."""
        if self.known(tool.service) is False:
            return self._not_entitled(tool, None)
        return None

    async def after(self, executor: Executor, tool: ToolDef, result: CallResult) -> CallResult:
        """Look at one call's result: a success proves the service; a 403 is explained by the probe."""
        row = SERVICE_TABLE.get(tool.service)
        if row is None or row.probe is None:
            return result
        if not result.is_error:
            if self.known(tool.service) is not True:
                self.record(tool.service, True, f"{tool.name} answered")
            return result
        if _status(result) != 403 or _code(result) == "LIMIT_EXCEEDED":  # a capacity answer, not a missing role
            return result
        entitled = self.known(tool.service)
        if entitled is None and tool.name == row.probe:
            self.record(tool.service, False, f"{row.probe} answered 403")
            entitled = False
        elif entitled is None:
            probe_tool = executor.catalog.tools.get(row.probe)
            if probe_tool is None:
                return result
            probed = await executor.call(probe_tool, dict(row.probe_arguments), cap=False)
            if probed.is_error and _status(probed) != 403:
                return result  # the probe could not tell (timeout, 429, ...): say only what was seen
            entitled = not probed.is_error
            self.record(tool.service, entitled, f"{row.probe} answered {403 if probed.is_error else 'ok'}")
        if entitled is False:
            return self._not_entitled(tool, result)
        error = result.data.setdefault("error", {}) if isinstance(result.data, dict) else {}
        error["entitled_to_service"] = True
        error["message"] = (f"{error.get('message', 'forbidden')} (the API client is entitled to {row.short}: "
                            f"{row.probe} answers; this operation needs a role or permission it lacks)")
        return result

    def _not_entitled(self, tool: ToolDef, upstream: CallResult | None) -> CallResult:
        from ._call_result import CallResult

        row = SERVICE_TABLE[tool.service]
        _, _, evidence = self._known[tool.service]
        name = row.title.split(" through ")[0]
        error: dict[str, Any] = {
            "kind": "not_entitled", "tool": tool.name, "service": tool.service, "status": 403,
            "message": (f"this tenant or API client is not entitled to {name}: {evidence}. Ask a Zscaler admin to "
                        f"add a {row.short} role to the API client (ZIdentity); until then every {tool.service}_* "
                        f"tool answers this without calling the API (re-checked after {self.ttl / 60:g} min)."),
            "probe": row.probe,
            "next_step": f"not entitled to {row.short}: do not retry; ask a Zscaler admin for the role or licence",
        }
        if upstream is not None and isinstance(upstream.data, dict):
            upstream_error = upstream.data.get("error") or {}
            error["upstream"] = upstream_error.get("message")
            if upstream_error.get("code"):
                error["code"] = upstream_error["code"]
        return CallResult({"error": error}, is_error=True)


def _code(result: CallResult) -> Any:
    data = result.data if isinstance(result.data, dict) else {}
    return (data.get("error") or {}).get("code")


def _status(result: CallResult) -> int | None:
    data = result.data if isinstance(result.data, dict) else {}
    return (data.get("error") or {}).get("status")
