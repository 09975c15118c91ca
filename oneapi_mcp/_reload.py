"""Hot reload: named servers take new settings without a restart (SIGHUP, or the config file changing).

A reload reads the config with the code that read it at start (`load_servers` with the command
line's overrides and `--server`), then asks every running server to prepare the new settings
(plugins' tools and filters, the rate limiter): nothing changes until all of them are ready. If
anything is wrong, the reload is refused, the reason goes to stderr (and to each server's audit
log) and the previous settings keep serving. Otherwise every server switches at once, between
two awaits: a call in flight finishes with what it started with, the next call sees the new
settings, and connected clients whose tool list changed get notifications/tools/list_changed.

Some inputs are read once at start. Adding or removing a named server (an HTTP path), the other
top-level tables ([http]: client auth, allowed hosts), credentials, host, port and TLS (command
line), and every setting outside `LIVE_SETTINGS` keep their previous values until a restart; the
log says so, and the rest of the change is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import signal
import tomllib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._redact import scrub
from ._settings import CREDENTIAL_KEYS, ServerSettings

__all__ = ["LIVE_SETTINGS", "Reloader", "apply_log_level", "keep_windows"]

_log = logging.getLogger("oneapi_mcp.reload")

# Settings read per call or per tools/list (or by the executor a reload rebuilds). Any other
# setting, including one added later and not listed here, is taken as read at start: a reload
# keeps its previous value and says a restart applies it.
LIVE_SETTINGS = frozenset({
    "description", "timeout", "profile", "scopes", "toolsets", "tools_mode", "list_composites", "list_page_size",
    "max_result_bytes", "log_level", "allow_tools", "deny_tools", "audit_log", "rate_limit_storage", "max_retries",
    "client_rate_limits", "production",
})  # a plugin's own table: its model's `live_settings` fields are live, the rest read at start (_plugin_tables)
_ROTATING = frozenset({"client_secret", "private_key"})  # read again from the file at every token request
_PYDANTIC_INPUT = re.compile(r", input_value=.*?, input_type=[\w.]+\]")
_PYDANTIC_LINK = re.compile(r"\n *For further information visit \S+")


def keep_windows(previous: Any, fresh: Any) -> Any:
    """A rebuilt rate limiter takes over the windows its predecessor counted: a reload must not hand
    out a fresh budget (an in-memory storage starts empty). Only between limiters of one class that
    keep their windows in `storage` and `windows` (the ratelimit plugin's `RateLimiter`), found under
    wrappers that keep the limiter they wrap as `limiter` (the metrics plugin's)."""
    old, new = _windows_holder(previous), _windows_holder(fresh)
    if old is not None and new is not None and type(old) is type(new):
        new.storage, new.windows = old.storage, old.windows
        shared_old, shared_new = getattr(old, "shared", None), getattr(new, "shared", None)
        if shared_old is not None and shared_new is not None and shared_old.url == shared_new.url:
            new.shared = shared_old  # the same Redis: keep its connection pool instead of opening another
    return fresh


def _windows_holder(limiter: Any) -> Any:
    for _ in range(8):  # wrappers around wrappers, not a cycle
        attributes = getattr(limiter, "__dict__", {})
        if "storage" in attributes and "windows" in attributes:
            return limiter
        limiter = attributes.get("limiter")
    return None


def apply_log_level(servers: Iterable[ServerSettings]) -> None:
    """The `oneapi_mcp` logger, to stderr, at the most verbose `log_level` of the served servers
    (one process, one logger). A reload's own outcome is always reported."""
    logger = logging.getLogger("oneapi_mcp")
    if not logger.handlers:
        handler = logging.StreamHandler()  # stderr: over stdio, stdout carries the MCP stream
        handler.setFormatter(logging.Formatter("oneapi-mcp: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(min((logging.getLevelName(s.log_level) for s in servers), default=logging.WARNING))
    _log.setLevel(logging.INFO)


def _reason(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else str(exc) or type(exc).__name__
    text = _PYDANTIC_LINK.sub("", _PYDANTIC_INPUT.sub("]", text))  # pydantic echoes the value: maybe a secret
    return scrub(text)


class Reloader:
    """Applies config changes to the servers `running` was given; `reload` does one."""

    def __init__(self, path: Path, load: Callable[[], dict[str, ServerSettings]], *, watch: bool = True,
                 interval: float = 1.0):
        self.path = Path(path)
        self.load = load  # the start-up loader: same file, overrides and --server
        self.watch = watch
        self.interval = interval
        self.built: dict[str, Any] = {}  # name -> the low-level Server of each named server
        self._lock = asyncio.Lock()
        self._stat = self._file_stat()
        self._digest, self._data = self._read()  # the last content looked at; the tables in effect

    # -- triggers ------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def running(self, built: dict[str, Any]):
        """While serving `built`: SIGHUP reloads, and (with `watch`) so does the file changing."""
        self.built = built
        loop = asyncio.get_running_loop()
        tasks: set[asyncio.Task] = set()

        def on_hangup() -> None:
            task = loop.create_task(self.reload("SIGHUP"))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        hangup = False
        try:
            loop.add_signal_handler(signal.SIGHUP, on_hangup)
            hangup = True
        except (AttributeError, NotImplementedError, RuntimeError, ValueError) as exc:  # no SIGHUP here
            _log.warning("config reload on SIGHUP is unavailable here (%s); the file is still watched",
                         type(exc).__name__)
        watcher = loop.create_task(self._watch(), name="oneapi-mcp config watcher") if self.watch else None
        try:
            yield self
        finally:
            if hangup:
                loop.remove_signal_handler(signal.SIGHUP)
            pending = [t for t in (watcher, *tasks) if t is not None]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _watch(self) -> None:
        """Poll the file's size, mtime and inode; a change is reloaded once its content settles and
        differs from what was last looked at (a touch, or a rejected file left as is, is not)."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                stat = self._file_stat()
                if stat == self._stat:
                    continue
                await asyncio.sleep(min(0.2, self.interval))  # an editor may still be writing
                if self._file_stat() != stat:
                    continue
                self._stat = stat
                if self._read()[0] != self._digest:
                    await self.reload("the file changed")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let the watcher die silently
                _log.error("watching %s failed: %s", self.path, _reason(exc))

    def _file_stat(self) -> tuple[int, int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _read(self) -> tuple[str | None, dict[str, Any] | None]:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return None, None
        try:
            data = tomllib.loads(raw.decode())
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = None
        return hashlib.sha256(raw).hexdigest(), data

    # -- one reload ----------------------------------------------------------------------------
    async def reload(self, trigger: str = "request") -> bool:
        """Read the config and apply it; False when it was refused (the previous settings stay)."""
        async with self._lock:
            changed = self._apply(trigger)
            if changed is None:
                return False
            told = 0
            for surface in changed:
                told += await surface.notify_tools_changed()
            if changed:
                _log.info("told %d connected client(s) that the tool list changed", told)
            return True

    def _apply(self, trigger: str) -> list[Any] | None:
        """Everything but the notifications, with no await: checked in full, then switched at once.
        Returns the surfaces whose tool list changed, or None when the config was refused."""
        self._stat = self._file_stat()
        self._digest, data = self._read()
        try:
            servers = self.load()
        except Exception as exc:  # ConfigError names the file and the problem; anything else says what
            return self._reject(trigger, exc)
        notes = self._restart_notes(servers, data)
        plans: list[tuple[str, Any, ServerSettings, list[str], Callable[[], None]]] = []
        for name, server in self.built.items():
            if name not in servers:
                continue
            runtime = server.surface.runtime
            new, applied, held = _split(runtime.settings, servers[name])
            if held:
                notes.append((name, f"server '{name}': {', '.join(held)} changed, which is read at start: a "
                                    "restart applies it (the previous value stays in effect)"))
            if not applied:
                continue
            try:
                switch = runtime.prepare_settings(new)
            except Exception as exc:  # a plugin refused the new settings (its tools, filters, limiter)
                return self._reject(trigger, f"servers.{name}: {type(exc).__name__}: {exc}")
            plans.append((name, server, new, applied, switch))
        before = {name: server.surface.listing() for name, server, *_ in plans}
        for _name, server, new, _applied, switch in plans:
            switch()
            server.description = new.description  # what initialize tells clients that connect from now on
        apply_log_level(s.surface.runtime.settings for s in self.built.values())
        changed = [server.surface for name, server, *_ in plans if server.surface.listing() != before[name]]
        for _server, note in notes:
            _log.warning("config reload: %s", note)
        summary = "; ".join(f"server '{name}': {', '.join(applied)}" for name, _s, _n, applied, _w in plans)
        _log.info("config reloaded from %s (%s): %s", self.path, trigger, summary or "no setting changed")
        for name, server, _new, applied, _switch in plans:
            self._audit(server.surface.runtime, trigger, "applied", changed=applied,
                        restart_needed=[note for about, note in notes if about in (name, None)])
        return changed

    def _reject(self, trigger: str, exc: BaseException | str) -> list[Any] | None:
        reason = _reason(exc)
        _log.error("config reload (%s) rejected, still serving the previous settings: %s", trigger, reason)
        for server in self.built.values():
            self._audit(server.surface.runtime, trigger, "rejected", reason=reason)
        return None

    def _restart_notes(self, servers: dict[str, ServerSettings],
                       data: dict[str, Any] | None) -> list[tuple[str | None, str]]:
        """What this change asks for that only a restart can do: (the server it is about or None, note)."""
        notes: list[tuple[str | None, str]] = []
        added, removed = sorted(set(servers) - set(self.built)), sorted(set(self.built) - set(servers))
        if added:
            notes.append((None, f"named server(s) {', '.join(added)} added: a new named server (its HTTP path) "
                                "needs a restart"))
        if removed:
            notes.append((None, f"named server(s) {', '.join(removed)} removed from the file: still served until "
                                "a restart"))
        if data is None or self._data is None:
            return notes  # the file changed again while being read: the next look compares the tables
        for table in sorted((set(data) | set(self._data)) - {"servers"}):
            if data.get(table) != self._data.get(table):
                notes.append((None, f"[{table}] changed: it is read at start (HTTP client auth, allowed hosts and "
                                    "origins), as are host, port and TLS: a restart applies it"))
        for name in sorted(set(self.built) & set(servers)):
            old, new = (_table(d, name) for d in (self._data, data))
            keys = sorted(k for k in CREDENTIAL_KEYS if k not in _ROTATING and old.get(k) != new.get(k))
            if keys:
                notes.append((name, f"server '{name}': credentials ({', '.join(keys)}) changed: a restart applies "
                                    "them (a rotated client_secret or private_key is read at the next token "
                                    "request)"))
        return notes

    def _audit(self, runtime: Any, trigger: str, outcome: str, **detail: Any) -> None:
        """Hand the reload to the plugins as a server event (the audit plugin writes it to the audit log)."""
        settings = runtime.settings
        record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "server": settings.name,
                  "event": "config_reload", "trigger": trigger, "file": str(self.path), "outcome": outcome,
                  **detail}
        runtime.plugins.hook.oneapi_mcp_server_event(settings=settings, event=record)


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    table = (data.get("servers") or {}).get(name)
    return table if isinstance(table, dict) else {}


def _split(old: ServerSettings, new: ServerSettings) -> tuple[ServerSettings, list[str], list[str]]:
    """(settings to switch to, changed settings applied now, changed settings held until a restart)."""
    changed = [f for f in type(new).model_fields if f != "plugins" and getattr(old, f) != getattr(new, f)]
    held = [f for f in changed if f not in LIVE_SETTINGS]
    applied = [f for f in changed if f in LIVE_SETTINGS]
    update: dict[str, Any] = {f: getattr(old, f) for f in held}
    if old.plugins != new.plugins:
        tables, plugin_applied, plugin_held = _plugin_tables(old, new)
        applied += plugin_applied
        held += plugin_held
        if plugin_held:
            update["plugins"] = tables
    return (new.model_copy(update=update) if update else new), applied, held


def _plugin_tables(old: ServerSettings, new: ServerSettings) -> tuple[dict[str, Any], list[str], list[str]]:
    """The plugin tables to switch to (fields read at start keep their old values), and the changed
    fields applied now and held, each named `plugins.<table>.<field>`."""
    from ._plugin_settings import live_fields

    tables: dict[str, Any] = {}
    applied: list[str] = []
    held: list[str] = []
    for table in sorted(set(old.plugins) | set(new.plugins)):
        before, after = old.plugin_settings(table), new.plugin_settings(table)
        raw, old_raw = dict(new.plugins.get(table) or {}), old.plugins.get(table) or {}
        for field in type(after).model_fields:
            if getattr(before, field) == getattr(after, field):
                continue
            if field in live_fields(type(after)):
                applied.append(f"plugins.{table}.{field}")
                continue
            held.append(f"plugins.{table}.{field}")
            if field in old_raw:
                raw[field] = old_raw[field]
            else:
                raw.pop(field, None)
        if raw:
            tables[table] = raw
    return tables, applied, held
