"""`make demo`: the HTTP server on the embedded mock, a scripted agent session, then keep serving."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import anyio

from ._ports import wait_for_port

__all__ = ["main"]


def _say(title: str, detail: Any = None) -> None:
    print(f"\n== {title}")
    if detail is not None:
        text = detail if isinstance(detail, str) else json.dumps(detail, indent=2, default=str)
        print("\n".join("   " + line for line in text.splitlines()))


async def session(url: str) -> None:
    from mcp import Client

    async with Client(url, cache=None) as client:
        listed = await client.list_tools()
        size = len(json.dumps(listed.model_dump(by_alias=True, exclude_none=True, mode="json")))
        _say(f"tools/list: {len(listed.tools)} tools, {size:,} bytes; 1,295 operations reachable through them",
             [t.name for t in listed.tools])

        found = await client.call_tool("search_operations", {"query": "list users", "service": "zia", "limit": 3})
        _say("search_operations('list users', service=zia)",
             [{k: r[k] for k in ("name", "scope", "summary")} for r in found.structured_content["results"]])

        users = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {
            "max_items": 5, "fields": ["id", "name", "email", "department"]}})
        _say("read: zia_list_users (max_items=5, fields=id,name,email,department)", users.structured_content)

        plan = await client.call_tool("describe_operation", {"name": "zia_create_department"})
        info = plan.structured_content
        _say("write, planned: describe_operation('zia_create_department')",
             {k: info[k] for k in ("scope", "method", "path", "rate_limits")}
             | {"arguments": sorted(info["input_schema"]["properties"])})

        created = await client.call_tool("invoke_operation", {"name": "zia_create_department", "arguments": {
            "body": {"name": "Demo Incident Response", "comments": "created by make demo"}}})
        _say("write, applied: zia_create_department", created.structured_content)

        status = await client.call_tool("invoke_operation", {"name": "zia_get_activation_status", "arguments": {}})
        _say("activation status after the write", status.structured_content)
        activated = await client.call_tool("invoke_operation", {"name": "zia_activate", "arguments": {}})
        _say("zia_activate", activated.structured_content)

        await _composite(client)

        bad = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {"pageSize": "all"}})
        _say("bad input never reaches the API", getattr(bad.content[0], "text", ""))


async def _composite(client) -> None:
    """A cross-service composite tool: planned, applied, then run again (what is done stays unchanged)."""
    victim = {"user": "yara.ito@example.test"}

    def line(step: dict) -> str:
        status = f"{step['status']} {step.get('http_status', '')}".strip()
        return f"{step['step']}. {step['call']} [{status}] {step['why']}"

    def brief(data: dict) -> dict:
        out = {"outcome": data["outcome"], "summary": data["summary"], "steps": [line(s) for s in data["steps"]]}
        out.update({k: data[k] for k in ("unchanged", "activation") if data.get(k)})
        return out

    planned = await client.call_tool("threat_isolate_account", victim)
    _say("composite, planned: threat_isolate_account (dry run: ZIdentity, ZIA and ZPA read, nothing changed)",
         brief(planned.structured_content))
    applied = await client.call_tool("threat_isolate_account", {**victim, "dry_run": False})
    _say("composite, applied: one call, writes in ZIdentity, ZIA and ZPA, ZIA activated once",
         brief(applied.structured_content))
    again = await client.call_tool("threat_isolate_account", {**victim, "dry_run": False})
    _say("composite, run again: what is done is unchanged; only the password reset runs again (ZIdentity keeps "
         "no reset state, so a reset that failed before is retried)", brief(again.structured_content))


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="oneapi-mcp demo")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--once", action="store_true", help="exit after the scripted session")
    args = parser.parse_args(argv)
    url = f"http://127.0.0.1:{args.port}/mcp"
    print(f"demo: starting oneapi-mcp on the embedded mock OneAPI at {url} (profile read-write)")
    server = subprocess.Popen([sys.executable, "-m", "oneapi_mcp.cli", "serve", "--mock", "--transport", "http",
                               "--port", str(args.port), "--profile", "read-write"])
    try:
        try:
            wait_for_port(args.port, server, what="oneapi-mcp serve")
        except RuntimeError as exc:
            raise SystemExit(f"demo: {exc}") from exc
        anyio.run(session, url)
        if args.once:
            return 0
        _say("keep using it: the server stays up until Ctrl-C", {
            "url": url,
            "claude_desktop / cursor (mcpServers)": {"oneapi-mock": {"url": url}},
            "claude code": f"claude mcp add --transport http oneapi-mock {url}",
            "stdio instead": "oneapi-mcp serve --mock"})
        server.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
