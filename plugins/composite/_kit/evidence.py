"""Evidence for a report: reads recorded per source (ok, partial, failed or pending, with the calls made
and why they failed), and the sources the API cannot query with where the tenant sends them."""

from __future__ import annotations

import json
from typing import Any

from oneapi_mcp.plugin_api import Refusal, Workflow

from .checks import read_at, unknown_evidence

__all__ = ["SOURCES_COLUMNS", "Evidence", "unavailable_section", "unavailable_sources"]


class Evidence:
    """Reads for a report. A failed read is recorded against its source (with the call) and the
    report goes on; tenant-wide lists are read once per call."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.wf = Workflow(ctx, {"dry_run": True})
        runtime = ctx.call.runtime
        self.catalog = runtime.catalog if runtime is not None else None
        self.sources: dict[str, dict[str, Any]] = {}
        self.read_at: dict[str, str] = {}  # call -> when it was last answered or failed (dated evidence)
        self._failures: list[dict[str, Any]] = []  # every failed read, in order
        self._cache: dict[str, Any] = {}

    def call_of(self, operation: str) -> str:
        tool = self.catalog.tools.get(operation) if self.catalog is not None else None
        return f"{tool.method} {tool.path}" if tool is not None else operation

    def source(self, name: str) -> dict[str, Any]:
        return self.sources.setdefault(name, {"source": name, "ok": 0, "failed": 0, "calls": [], "errors": [],
                                              "failures": [], "notes": [], "pending": False})

    def note(self, source: str, text: str) -> None:
        if text not in self.source(source)["notes"]:
            self.source(source)["notes"].append(text)

    async def fetch(self, source: str, operation: str, arguments: dict[str, Any] | None = None, *,
                    many: bool = False, cached: bool = False, missing_ok: bool = False) -> tuple[bool, Any]:
        """(True, data) or (False, None) after recording why."""
        entry = self.source(source)
        key = json.dumps([operation, arguments, many], sort_keys=True, default=str)
        if cached and key in self._cache:
            return True, self._cache[key]
        call = f"{operation} ({self.call_of(operation)})"
        if call not in entry["calls"]:
            entry["calls"].append(call)
        try:
            data = await (self.wf.read_all(operation, arguments) if many
                          else self.wf.read(operation, arguments, missing_ok=missing_ok))
        except Refusal as exc:
            self.read_at[call] = read_at()
            entry["failed"] += 1
            entry["errors"].append(exc.message.removeprefix("could not read the current state: "))
            entry["failures"].append({"call": call, "http_status": exc.extra.get("status"),
                                      "error": entry["errors"][-1], "at": self.read_at[call]})
            self._failures.append(entry["failures"][-1])
            return False, None
        self.read_at[call] = read_at()
        entry["ok"] += 1
        if cached:
            self._cache[key] = data
        return True, data

    async def read(self, source: str, operation: str, arguments: dict[str, Any] | None = None, *,
                   many: bool = False, cached: bool = False, default: Any = None) -> Any:
        ok, data = await self.fetch(source, operation, arguments, many=many, cached=cached)
        return data if ok and data is not None else default

    def failures(self, since: int = 0) -> list[dict[str, Any]]:
        """Every failed read so far (from the `since`-th on): call, http_status, error, at."""
        return self._failures[since:]

    def unknown_why(self, since: int = 0) -> str:
        """The failed reads as a sentence, for a report that must say unknown instead of none."""
        return "; ".join(dict.fromkeys(unknown_evidence(f["call"], f["http_status"], f["error"])
                                       for f in self.failures(since)))

    def table(self) -> list[dict[str, Any]]:
        rows = []
        for entry in self.sources.values():
            if entry["pending"]:
                status = "pending"
            elif entry["failed"] and not entry["ok"]:
                status = "failed"
            else:
                status = "partial" if entry["failed"] else "ok"
            rows.append({"source": entry["source"], "status": status, "calls": entry["calls"],
                         "errors": entry["errors"], "notes": entry["notes"]})
        return rows


SOURCES_COLUMNS = ("source", "status", "calls", "errors", "notes")


async def unavailable_sources(ev: Evidence, *, logs: bool = True) -> list[dict[str, Any]]:
    """What the API cannot be asked, with the reason; for logs, where the tenant sends them."""
    out: list[dict[str, Any]] = []
    if not logs:
        return out
    feeds = await ev.read("where logs go", "zia_list_nss_feeds", cached=True, default=[])
    lss = await ev.read("where logs go", "zpa_list_all_lss_configs", many=True, cached=True, default=[])
    web = [f"NSS feed {f.get('name')!r} ({f.get('nssLogType')}, {f.get('siemType') or 'SIEM'}, "
           f"{str(f.get('feedStatus', '')).lower() or 'status unknown'})" for f in feeds if isinstance(f, dict)]
    zpa = [f"LSS config {c.get('name')!r} ({c.get('sourceLogType')} to {c.get('lssHost')}:{c.get('lssPort')})"
           for c in (x.get("config") or x for x in lss if isinstance(x, dict))]
    out.append({"source": "ZIA web, firewall and DNS transaction logs", "reason": "not queryable over REST: ZIA "
                "exports them through NSS feeds to a SIEM; search them there", "where": web or
                ["no NSS feed is configured (zia_list_nss_feeds)"]})
    out.append({"source": "ZPA user activity logs", "reason": "not queryable over REST: ZPA streams them through "
                "LSS to a log receiver; search them there", "where": zpa or
                ["no LSS config is set up (zpa_list_all_lss_configs)"]})
    return out


def unavailable_section(items: list[dict[str, Any]]) -> str:
    lines = ["## Sources the API cannot query"]
    for item in items:
        where = f" Where they go: {'; '.join(item['where'])}." if item.get("where") else ""
        lines.append(f"- **{item['source']}**: {item['reason']}.{where}")
    return "\n".join(lines)
