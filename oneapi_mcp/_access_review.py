"""`oneapi-mcp access-review`: what each named server grants, beside what its clients used.

The granted surface is built offline, exactly as the server builds it (profile or scopes, allow/deny
globs, plugins' filters, composite tools). The audit log (the file and its rotated copies, oldest
first) gives the calls: per tool, calls, errors, refusals, last use and clients. A write whose intent
record has no outcome record (the server stopped mid-call) is a call with outcome unknown: it counts
as a use, and the report lists it, since the tenant may or may not have been changed. Recommendations say
what to drop: scopes never used, configured toolsets never used, allow_tools globs that matched no
call, and clients that stopped calling; with no allow_tools, the toolsets that would keep every tool
used.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ._settings import PROFILES, ConfigError, ServerSettings

__all__ = ["OUTCOME_UNKNOWN", "audit_files", "granted_tools", "one_per_call", "parse_since", "read_audit", "render",
           "review", "run"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_NOT_USED = ("denied",)  # a refused call used nothing; every other outcome means the tool was allowed to run
OUTCOME_UNKNOWN = "unknown"  # an intent record that no outcome record answered
_QUIET = 7 * 86400  # a client silent this long (or half the window, if shorter) has stopped calling


# -- reading the audit log -----------------------------------------------------------------------
def parse_since(text: str, now: float) -> float:
    """'30d', '12h', '90m', '2w' before `now`, or a date ('2026-01-31') or ISO time (UTC unless given)."""
    value = str(text).strip()
    match = re.fullmatch(r"(\d+)\s*([smhdw])", value.lower())
    if match and int(match[1]) > 0:
        return now - int(match[1]) * _UNITS[match[2]]
    if not match:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    raise ConfigError(f"--since {text!r} is not a duration like 30d, 12h, 90m or 2w, nor a date like 2026-01-31")


def audit_files(path: Path) -> list[Path]:
    """The audit log and its rotated copies (audit.jsonl.1 is the newest), oldest first."""
    path = Path(path).expanduser()
    rotated = [p for p in path.parent.glob(f"{path.name}.*") if p.name[len(path.name) + 1:].isdigit()]
    rotated.sort(key=lambda p: -int(p.name[len(path.name) + 1:]))
    return [*rotated, *([path] if path.exists() else [])]


def read_audit(path: Path, since: float | None = None, stats: Counter | None = None) -> Iterator[tuple[float, dict]]:
    """(epoch, record) for every line of the log and its rotated copies, oldest first. Lines that are
    not JSON records with a time are skipped; `stats` counts "records" and "unreadable" lines."""
    for file in audit_files(path):
        try:
            if since is not None and file.stat().st_mtime < since:
                continue  # written to last before `since`: every record in it is older
            handle = file.open("rb")
        except FileNotFoundError:  # rotated away while reading
            continue
        with handle:
            for line in handle:
                try:
                    record = json.loads(line)
                    when = datetime.fromisoformat(record["time"])
                except (ValueError, KeyError, TypeError):
                    if stats is not None:
                        stats["unreadable"] += 1
                    continue
                if stats is not None:
                    stats["records"] += 1
                at = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
                if since is None or at >= since:
                    yield at, record


def one_per_call(records: Iterable[tuple[float, dict]]) -> Iterator[tuple[float, dict]]:
    """One record per tool call: an intent record waits for the outcome record with its `call_id`,
    which then stands for the call; intents never answered (the server stopped mid-call) come last,
    oldest first, as records with outcome "unknown". Other records (alerts, reloads, records of old
    logs without a phase) pass through in order. Memory holds only the unanswered intents."""
    pending: dict[str, tuple[float, dict]] = {}
    for at, rec in records:
        key = rec.get("call_id")
        if rec.get("phase") == "intent" and isinstance(key, str):
            pending[key] = (at, rec)
            continue
        if isinstance(key, str):
            pending.pop(key, None)
        yield at, rec
    for at, rec in sorted(pending.values(), key=lambda entry: entry[0]):
        yield at, {**rec, "outcome": OUTCOME_UNKNOWN}


def _records_of(path: Path, server: str, stats: Counter | None) -> Iterator[tuple[float, dict]]:
    return ((at, rec) for at, rec in read_audit(path, stats=stats) if rec.get("server") == server)


# -- granted versus used -------------------------------------------------------------------------
def granted_tools(settings: ServerSettings) -> dict[str, tuple[str | None, str]]:
    """Every tool the server lets a client call, name -> (scope, toolset), from the surface the
    server itself builds (as `oneapi-mcp tools` does): no credentials, no network."""
    from ._compose import make_runtime
    from ._server import build_server
    from ._settings import Credentials

    surface = build_server(make_runtime(settings, Credentials())).surface  # type: ignore[attr-defined]
    hidden = surface.hidden
    tools: dict[str, tuple[str | None, str]] = {n: (None, "discovery") for n, tool in surface.registered.items()
                                                if tool.kind == "discovery"}
    for name, tool in [*surface.runtime.catalog.tools.items(), *surface.composites.items()]:
        if name not in hidden:
            tools[name] = (tool.scope, tool.toolset)
    return tools


@dataclass
class _Tool:
    scope: str | None
    calls: int = 0
    errors: int = 0
    refused: int = 0
    unknown: int = 0
    last: float = 0.0
    clients: Counter = field(default_factory=Counter)


@dataclass
class _Client:
    calls: int = 0  # in the window
    first: float = float("inf")
    last: float = 0.0
    tools: set = field(default_factory=set)


def review(settings: ServerSettings, records: Iterable[tuple[float, dict]], since: float, until: float,
           grant: dict[str, tuple[str | None, str]], window: str | None = None) -> dict[str, Any]:
    """One server's review from its audit records (all of them: older ones show who stopped calling)."""
    tools: dict[str, _Tool] = {}
    clients: dict[str, _Client] = {}
    alerts: Counter = Counter()
    for at, rec in one_per_call(records):
        if at > until:
            continue
        if rec.get("event") == "alert":
            alerts[str(rec.get("kind"))] += at >= since
            continue
        name, who = rec.get("tool"), rec.get("client") or "unknown"
        if not isinstance(name, str):
            continue
        client = clients.setdefault(who, _Client())
        client.first, client.last = min(client.first, at), max(client.last, at)
        if at < since:
            continue
        client.calls += 1
        client.tools.add(name)
        entry = tools.setdefault(name, _Tool(grant.get(name, (rec.get("scope"), ""))[0] or rec.get("scope")))
        if rec.get("outcome") in _NOT_USED:
            entry.refused += 1
            continue
        entry.calls += 1
        entry.unknown += rec.get("outcome") == OUTCOME_UNKNOWN
        entry.errors += rec.get("outcome") not in ("ok", "confirmation_required", "declined", OUTCOME_UNKNOWN)
        entry.last = max(entry.last, at)
        entry.clients[who] += 1
    used = {n: t for n, t in tools.items() if t.calls}
    by_scope = Counter(scope for scope, _ in grant.values() if scope)
    window = window or _span(until - since)
    report: dict[str, Any] = {
        "server": settings.name, "profile": settings.profile if settings.scopes is None else None,
        "scopes": {"granted": _ordered(settings.allowed_scopes),
                   "used": _ordered({t.scope for t in used.values() if t.scope})},
        "toolsets": {"configured": list(settings.toolsets),
                     "used": sorted({grant[n][1] for n in used if n in grant and grant[n][0]})},
        "allow_tools": list(settings.allow_tools), "deny_tools": list(settings.deny_tools),
        "granted": {"tools": sum(by_scope.values()), "by_scope": {s: by_scope[s] for s in _ordered(by_scope)},
                    "toolsets": len({ts for s, ts in grant.values() if s})},
        "calls": sum(t.calls for t in tools.values()), "refused": sum(t.refused for t in tools.values()),
        "outcome_unknown": sum(t.unknown for t in tools.values()),
        "usage": [{"tool": n, "scope": t.scope, "toolset": grant.get(n, (None, None))[1], "granted": n in grant,
                   "calls": t.calls, "errors": t.errors, "refused": t.refused, "outcome_unknown": t.unknown,
                   "last_used": _iso(t.last) if t.calls else None, "clients": dict(t.clients.most_common())}
                  for n, t in sorted(tools.items(), key=lambda kv: (-kv[1].calls, -kv[1].refused, kv[0]))],
        "clients": [{"client": c, "calls": s.calls, "tools": len(s.tools), "first_seen": _iso(s.first),
                     "last_seen": _iso(s.last), "stopped": s.last < until - min(_QUIET, (until - since) / 2)}
                    for c, s in sorted(clients.items(), key=lambda kv: (-kv[1].calls, kv[0]))],
        "alerts": dict(sorted(alerts.items())),
    }
    report["recommendations"] = _recommend(settings, report, used, grant, window, until)
    return report


def _recommend(settings: ServerSettings, report: dict[str, Any], used: dict[str, _Tool],
               grant: dict[str, tuple[str | None, str]], window: str, until: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    used_scopes = set(report["scopes"]["used"])
    if not used:
        out.append({"kind": "unused_server", "message": f"no call was allowed to run in {window}: if nothing uses "
                    f"server '{settings.name}' any more, retire it and revoke its API client"})
    unused = [s for s in ("destructive", "write") if s in settings.allowed_scopes and s not in used_scopes]
    if unused:
        keep = used_scopes | {"read"}
        if settings.scopes is None:
            profile = next(p for p, scopes in PROFILES.items() if keep <= set(scopes))
            setting = f'profile = "{profile}"'
            how = f"use profile {profile}"
        else:
            setting = "scopes = [" + ", ".join(f'"{s}"' for s in _ordered(keep)) + "]"
            how = f"set {setting}"
        out.append({"kind": "drop_scope", "scopes": unused, "setting": setting,
                    "message": f"{' and '.join(unused)} granted but unused for {window}: {how}"})
    used_toolsets = set(report["toolsets"]["used"])
    for toolset in settings.toolsets:
        if toolset not in used_toolsets:
            out.append({"kind": "drop_toolset", "toolset": toolset,
                        "message": f"toolset {toolset} is configured but none of its tools was used in {window}: "
                                   "drop it from toolsets"})
    names = [(n, grant.get(n, (None, ""))[1]) for n in used]
    for glob in settings.allow_tools:
        if not any(fnmatchcase(n, glob) or fnmatchcase(ts, glob) for n, ts in names):
            out.append({"kind": "drop_allow_glob", "glob": glob,
                        "message": f"allow_tools {glob!r} matched no call in {window}: drop it"})
    granted_count = report["granted"]["tools"]
    if used_toolsets and not settings.allow_tools and len(used_toolsets) < report["granted"]["toolsets"]:
        keep_tools = sum(1 for s, ts in grant.values() if s and ts in used_toolsets)
        setting = "allow_tools = [" + ", ".join(f'"{ts}"' for ts in sorted(used_toolsets)) + "]"
        out.append({"kind": "narrow_tools", "setting": setting, "toolsets": sorted(used_toolsets),
                    "message": f"{len(used)} of {granted_count} granted tools were used in {window}, in "
                               f"{len(used_toolsets)} toolsets: {setting} keeps them ({keep_tools} tools)"})
    for client in report["clients"]:
        if client["stopped"]:
            days = int((until - datetime.fromisoformat(client["last_seen"]).timestamp()) // 86400)
            out.append({"kind": "stopped_client", "client": client["client"], "last_seen": client["last_seen"],
                        "message": f"client {client['client']} last called {client['last_seen'][:10]} ({days} days "
                                   "ago): if it is retired, revoke its API key or token"})
    return out


def _ordered(scopes: Iterable[str]) -> list[str]:
    return [s for s in ("read", "write", "destructive") if s in set(scopes)]


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def _span(seconds: float) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size < 1:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds / 86400:.1f} days"


# -- output --------------------------------------------------------------------------------------
def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=1, sort_keys=True)
    md = fmt == "markdown"
    lines = [f"{'# ' if md else ''}Access review {report['since'][:10]} .. {report['until'][:10]} ({report['window']})",
             ""]
    for log in report["audit_logs"]:
        lines.append(f"audit log {log['path']}: {log['files']} file(s), {log['records']} records"
                     + (f", {log['unreadable']} unreadable lines skipped" if log["unreadable"] else ""))
    for note in report["skipped"]:
        lines.append(f"server {note['server']}: not reviewed: {note['reason']}")
    for s in report["servers"]:
        granted = ", ".join(f"{k} {v}" for k, v in s["granted"]["by_scope"].items())
        lines += ["", f"{'## ' if md else ''}server {s['server']}", "",
                  f"- granted: {', '.join(s['scopes']['granted'])}"
                  + (f" (profile {s['profile']})" if s["profile"] else " (scopes)")
                  + f"; {s['granted']['tools']} tools ({granted}) in {s['granted']['toolsets']} toolsets",
                  f"- used: {', '.join(s['scopes']['used']) or 'nothing'}; {sum(1 for u in s['usage'] if u['calls'])} "
                  f"tools, {s['calls']} calls, {s['refused']} refused, by {sum(1 for c in s['clients'] if c['calls'])} "
                  "client(s)"]
        if s["outcome_unknown"]:
            which = ", ".join(f"{u['tool']} x{u['outcome_unknown']}" for u in s["usage"] if u["outcome_unknown"])
            lines.append(f"- outcome unknown: {s['outcome_unknown']} write call(s) have an intent record but no "
                         f"outcome (the server stopped mid-call; {which}): check the tenant for those changes")
        if s["alerts"]:
            lines.append("- anomaly alerts: " + ", ".join(f"{k} {v}" for k, v in s["alerts"].items() if v))
        rows = [[u["tool"], u["scope"] or "-", str(u["calls"]), str(u["errors"]), str(u["refused"]),
                 (u["last_used"] or "-").replace("T", " ")[:16],
                 ", ".join(f"{c} ({n})" for c, n in u["clients"].items()) or "-"] for u in s["usage"]]
        lines += ["", f"{'### ' if md else ''}tools called" + ("" if md else ":"), "",
                  *_table(["tool", "scope", "calls", "errors", "refused", "last used (UTC)", "clients"], rows, md)]
        rows = [[c["client"], str(c["calls"]), str(c["tools"]), c["last_seen"].replace("T", " ")[:16],
                 "stopped" if c["stopped"] else "active"] for c in s["clients"]]
        lines += ["", f"{'### ' if md else ''}clients" + ("" if md else ":"), "",
                  *_table(["client", "calls", "tools", "last seen (UTC)", "status"], rows, md)]
        lines += ["", f"{'### ' if md else ''}recommendations" + ("" if md else ":"), ""]
        lines += [f"- {r['message']}" for r in s["recommendations"]] or ["- none: everything granted was used"]
    return "\n".join(lines) + "\n"


def _table(header: list[str], rows: list[list[str]], md: bool) -> list[str]:
    if not rows:
        return ["(none)"]
    if md:
        cells = [[c.replace("|", "\\|") for c in row] for row in rows]
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |"
                                                                              for r in cells)]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [header, *rows]]


# -- the command ---------------------------------------------------------------------------------
def run(args: Any) -> int:
    """`oneapi-mcp access-review`: print the report; exit 0 (ConfigError for bad input)."""
    from ._settings import load_servers

    until = time.time()
    since = parse_since(args.since, until)
    if since >= until:
        raise ConfigError(f"--since {args.since!r} is not in the past")
    servers = load_servers(args.config)
    if args.server:
        if args.server not in servers:
            raise ConfigError(f"no server named {args.server!r}; the config defines {', '.join(servers)}")
        servers = {args.server: servers[args.server]}
    logs: dict[Path, list[ServerSettings]] = {}
    skipped = []
    for settings in servers.values():
        path = args.audit_log or settings.audit_log
        if path is None:
            skipped.append({"server": settings.name, "reason": "it keeps no audit log"})
            continue
        logs.setdefault(Path(path).expanduser().resolve(), []).append(settings)
    missing = [p for p in logs if not audit_files(p)]
    if not logs or len(missing) == len(logs):
        where = f"audit log {missing[0]} does not exist" if missing else (
            f"server{'s' if len(skipped) > 1 else ''} {', '.join(s['server'] for s in skipped)} keep"
            f"{'' if len(skipped) > 1 else 's'} no audit log")
        raise ConfigError(f"{where}: turn it on with audit_log = \"/var/log/oneapi-mcp/audit.jsonl\" in the "
                          "server's [servers.<name>] table (or ONEAPI_MCP_AUDIT_LOG), let clients call for a while, "
                          "then review; or point --audit-log at an existing log")
    given = str(args.since).strip().lower().replace(" ", "")
    window = given if re.fullmatch(r"\d+[smhdw]", given) else _span(until - since)
    report: dict[str, Any] = {"since": _iso(since), "until": _iso(until), "window": window,
                              "audit_logs": [], "servers": [], "skipped": skipped}
    for path, group in logs.items():
        if path in missing:
            skipped += [{"server": s.name, "reason": f"its audit log {path} does not exist"} for s in group]
            continue
        stats: Counter = Counter()
        for n, settings in enumerate(group):  # streamed once per server: memory stays flat however long the log
            records = _records_of(path, settings.name, stats if n == 0 else None)
            report["servers"].append(review(settings, records, since, until, granted_tools(settings), window))
        report["audit_logs"].append({"path": str(path), "files": len(audit_files(path)), "records": stats["records"],
                                     "unreadable": stats["unreadable"]})
    print(render(report, args.format), end="")
    return 0
