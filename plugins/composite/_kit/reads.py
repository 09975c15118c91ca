"""Reads for a report that report instead of raising: a failed read is recorded under `problems` and
the rest of the report still comes back."""

from __future__ import annotations

import json
from typing import Any

from oneapi_mcp.plugin_api import Refusal, tool_error

__all__ = ["Reads", "failed", "problem_lines"]


class Reads:
    """Reads for a report: each generated operation through `ctx.call_operation` (auth, rate limits,
    audit and scopes apply), cached per arguments; a failure is recorded under `problems` and gives
    None, so one service's outage costs only its part of the report."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.problems: list[dict[str, Any]] = []
        self.count = 0
        self._cache: dict[str, Any] = {}

    async def progress(self, done: float, total: float, message: str) -> None:
        """An MCP progress notification (nothing when the client asked for none)."""
        await self.ctx.progress(done, total, message)

    def call_of(self, operation: str) -> str:
        """How people read the call: `zia_get_activation_status (GET /zia/api/v1/status)`."""
        runtime = self.ctx.call.runtime
        tool = runtime.catalog.tools.get(operation) if runtime is not None else None
        return f"{operation} ({tool.method} {tool.path})" if tool is not None else operation

    async def get(self, operation: str, arguments: dict[str, Any] | None = None, *, all_pages: bool = False,
                  max_items: int = 10_000, missing_ok: bool = False, fields: list[str] | None = None) -> Any:
        args = dict(arguments or {})
        if fields:
            args["fields"] = list(fields)
        runtime = self.ctx.call.runtime
        tool = runtime.catalog.tools.get(operation) if runtime is not None else None
        if all_pages and tool is not None and tool.pagination:
            args.update(all_pages=True, max_items=max_items)
        key = operation + json.dumps(args, sort_keys=True, default=str)
        if key in self._cache:
            return self._cache[key]
        self.count += 1
        result = await self.ctx.call_operation(operation, args)
        data: Any = None
        if result.is_error:
            error = result.data.get("error", {}) if isinstance(result.data, dict) else {}
            if not (missing_ok and error.get("status") == 404):
                self.problems.append({"operation": operation, "call": self.call_of(operation),
                                      "http_status": error.get("status"), "kind": error.get("kind"),
                                      "error": error.get("message", str(result.data))})
        else:
            data = result.data
            if isinstance(data, dict) and data.get("truncated"):
                self.problems.append({"operation": operation, "call": self.call_of(operation),
                                      "error": "the answer was cut at the server's result-size cap: what it "
                                               "lists is incomplete"})
            if all_pages:
                if isinstance(data, dict):
                    if data.get("more"):
                        self.problems.append({"operation": operation, "call": self.call_of(operation),
                                              "error": f"more than {max_items} items: only the first are counted"})
                    data = list(data.get("items") or data.get("list") or data.get("records") or [])
                else:
                    data = list(data or [])
        self._cache[key] = data
        return data


def failed(error: Refusal) -> Any:
    """A refusal as a tool error (read-only tools change nothing, so nothing to undo)."""
    return tool_error(error.message, error.kind, **error.extra)


def problem_lines(reads: Reads) -> list[str]:
    if not reads.problems:
        return []
    return ["**Reads that failed** (their part of the report is missing or marked):\n" + "\n".join(
        f"- {p['call']}: {p.get('http_status') or ''} {p['error']}".replace("  ", " ") for p in reads.problems)]
