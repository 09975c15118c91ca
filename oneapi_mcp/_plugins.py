"""The plugin manager: hook specifications, built-in plugins, entry-point plugins, tracing.

Built-in behaviour (credentials, auth, scopes, rate limits, untrusted content, audit, the discovery
tools) ships as plugins listed in `DEFAULT_PLUGINS`; third-party plugins load from the entry-point
group `oneapi_mcp`. A plugin with a misspelt hook fails at start, naming it.
`ONEAPI_MCP_LOAD_PLUGINS=a,b` (or `load` in the config file's `[plugins]` table) loads only those entry
points. `ONEAPI_MCP_TRACE_PLUGINS=1` alone logs every hook call with the plugins that answered it
(logger `oneapi_mcp.plugins`, to standard error).
"""

from __future__ import annotations

import importlib
import logging
import os
import types
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import mcp_types as t
    from pluggy import HookImpl, Result

    from ._hooktypes import ToolCall

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRYPOINT_GROUP",
    "LOAD_ENV",
    "PluginError",
    "create_plugin_manager",
    "get_plugin_manager",
    "plugin_info",
    "set_plugin_manager",
]

ENTRYPOINT_GROUP = "oneapi_mcp"
DEFAULT_PLUGINS: tuple[str, ...] = (
    "oneapi_mcp.plugins.builtin.credentials",
    "oneapi_mcp.plugins.builtin.auth",
    "oneapi_mcp.plugins.builtin.scopes",
    "oneapi_mcp.plugins.builtin.ratelimit",
    "oneapi_mcp.plugins.builtin.untrusted",
    "oneapi_mcp.plugins.builtin.audit",
    "oneapi_mcp.plugins.builtin.metrics",  # after audit: its wrapper runs outside audit's and sees every outcome
    # search_operations, describe_operation, invoke_operation, enable_toolset (listed first: tryfirst)
    "oneapi_mcp.plugins.builtin.discovery_tools",
    # composite tools, one module or package per family (issue order: discovery ... remediation, then policy ...
    # SIEM), with the scheduler (ops: it runs policy changes later) where the policy tools are
    "oneapi_mcp.plugins.composite.discovery",
    "oneapi_mcp.plugins.composite.users",
    "oneapi_mcp.plugins.composite.lifecycle",
    "oneapi_mcp.plugins.composite.directory_sync",
    "oneapi_mcp.plugins.composite.threat_response",
    "oneapi_mcp.plugins.composite.remediation",
    "oneapi_mcp.plugins.composite.reverse",  # the way back from threat_response and remediation runs
    "oneapi_mcp.plugins.composite.policy_sync",
    "oneapi_mcp.plugins.composite.policy_automation",
    "oneapi_mcp.plugins.ops.scheduler",
    "oneapi_mcp.plugins.composite.incidents",
    "oneapi_mcp.plugins.composite.analytics",
    "oneapi_mcp.plugins.composite.compliance",
    "oneapi_mcp.plugins.composite.zdx_metrics",
    "oneapi_mcp.plugins.ops.siem",  # this server's own export: the SIEM outbox
    "oneapi_mcp.plugins.composite.log_feeds",  # after siem: its NSS/LSS tools list first, as before the split
    # operations: reads each call's audit record, writes alerts to the audit log and the SIEM outbox
    "oneapi_mcp.plugins.ops.anomaly",
)
_TRACE_ENV = "ONEAPI_MCP_TRACE_PLUGINS"
LOAD_ENV = "ONEAPI_MCP_LOAD_PLUGINS"
_log = logging.getLogger("oneapi_mcp.plugins")
_pm: pluggy.PluginManager | None = None
_hookimpl = pluggy.HookimplMarker(ENTRYPOINT_GROUP)


class PluginError(RuntimeError):
    """A plugin could not be loaded or implements a hook that does not exist."""


class _Core:
    """The innermost tool-call implementation: run what the server dispatches. Always registered."""

    @_hookimpl(trylast=True)
    def oneapi_mcp_tool_call(self, call: ToolCall) -> Callable[[], Awaitable[t.CallToolResult]] | None:
        return call.dispatch


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, with a quick answer for a module's names that cannot be hooks. pluggy looks up every
    name of a plugin with `inspect.getattr_static`, ~0.7 ms per module plugin (18 ms per manager, paid at
    every start and by every test's fresh manager): a module's names live in its `__dict__` (`types.ModuleType`
    defines no function), and one that is not a function there, or a function without our marker, is no hook."""

    def parse_hookimpl_opts(self, plugin: object, name: str) -> Any:
        if isinstance(plugin, types.ModuleType):
            value = vars(plugin).get(name)
            if not isinstance(value, (types.FunctionType, staticmethod, classmethod, types.MethodType)):
                return None
            if isinstance(value, types.FunctionType) and not hasattr(value, f"{self.project_name}_impl"):
                return None
        return super().parse_hookimpl_opts(plugin, name)


def create_plugin_manager(*, defaults: bool = True, entrypoints: bool = True, trace: bool | None = None,
                          load: Sequence[str] | None = None) -> pluggy.PluginManager:
    """A new plugin manager: the hook specs, the built-ins (unless `defaults=False`), entry-point
    plugins (unless `entrypoints=False`; only the entry points named in `load`, else in
    ONEAPI_MCP_LOAD_PLUGINS, when either is given), then `check_pending()`."""
    from oneapi_mcp.plugins import hookspecs

    pm = _PluginManager(ENTRYPOINT_GROUP)
    pm.add_hookspecs(hookspecs)
    pm.register(_Core(), name="oneapi_mcp.core")
    if defaults:
        for module in DEFAULT_PLUGINS:
            pm.register(importlib.import_module(module), name=module)
    if entrypoints:
        _load_entrypoints(pm, load if load is not None else _names(os.environ.get(LOAD_ENV)))
    check(pm)
    if trace if trace is not None else os.environ.get(_TRACE_ENV, "").strip() not in ("", "0", "false"):
        enable_tracing(pm)
    return pm


def _names(text: str | None) -> list[str] | None:
    return None if text is None or not text.strip() else [n.strip() for n in text.split(",") if n.strip()]


def _load_entrypoints(pm: pluggy.PluginManager, names: Sequence[str] | None) -> None:
    """Every entry point of the group, or only `names` (an unknown one is an error naming those installed)."""
    if names is not None:
        from importlib.metadata import entry_points

        installed = sorted({ep.name for ep in entry_points(group=ENTRYPOINT_GROUP)})
        unknown = sorted(set(names) - set(installed))
        if unknown:
            raise PluginError(f"{LOAD_ENV} (or [plugins] load) names {', '.join(unknown)}, which no installed "
                              f"package provides; installed plugins: {', '.join(installed) or 'none'}")
    for name in names if names is not None else (None,):
        try:
            pm.load_setuptools_entrypoints(ENTRYPOINT_GROUP, name=name)
        except Exception as exc:  # an import error in someone's plugin: say whose
            raise PluginError(f"could not load a plugin from entry-point group {ENTRYPOINT_GROUP!r}: "
                              f"{type(exc).__name__}: {exc}") from exc


def check(pm: pluggy.PluginManager) -> None:
    """Turn a hook implementation without a spec (a misspelt hook name) into an error naming it."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or repr(exc.plugin)
        hook = str(exc).split("'")[1] if str(exc).count("'") >= 2 else "?"
        raise PluginError(f"plugin {name!r} implements unknown hook {hook!r}; the hooks are listed in "
                          "docs/plugin_hooks.md (all start with oneapi_mcp_)") from exc


def enable_tracing(pm: pluggy.PluginManager) -> Callable[[], None]:
    """Log each hook call and the plugins it reached; returns a function that stops it. The trace is
    shown whatever the log level (the variable alone asks for it): INFO on its logger, and a handler
    to standard error when logging has none."""
    _log.setLevel(logging.INFO)
    if not any(isinstance(h, _TraceToStderr) for h in _log.handlers):
        _log.addHandler(_TraceToStderr())

    def before(hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        _log.info("hook %s -> %s", hook_name, ", ".join(i.plugin_name for i in impls) or "(no plugin)")

    def after(outcome: Result[Any], hook_name: str, impls: Sequence[HookImpl], kwargs: Mapping[str, Any]) -> None:
        if outcome.exception is not None:
            _log.info("hook %s raised %s", hook_name, type(outcome.exception).__name__)

    return pm.add_hookcall_monitoring(before, after)


class _TraceToStderr(logging.StreamHandler):
    """Standard error for the trace while logging has no handler of its own (once the server configures
    logging, the record reaches that handler instead: each line is written once)."""

    def emit(self, record: logging.LogRecord) -> None:
        logger: logging.Logger | None = _log.parent if _log.propagate else None
        while logger is not None:
            if logger.handlers:
                return
            logger = logger.parent if logger.propagate else None
        super().emit(record)


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, created on first use."""
    global _pm
    if _pm is None:
        _pm = create_plugin_manager()
    return _pm


def set_plugin_manager(pm: pluggy.PluginManager | None) -> None:
    """Replace the process-wide manager (tests give each test a fresh one); None resets it."""
    global _pm
    _pm = pm


def plugin_info(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """Name, distribution version (for entry-point plugins) and hooks of every registered plugin."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin)
        dist = dists.get(id(plugin))
        if dist is not None:
            version, source = dist.version, f"entry point of {dist.project_name}"
        elif name in DEFAULT_PLUGINS or name == "oneapi_mcp.core":
            from . import __version__ as version

            source = "built-in"
        else:
            version, source = None, "registered in process"
        out.append({"name": name, "version": version, "source": source,
                    "hooks": sorted(h.name for h in pm.get_hookcallers(plugin) or ())})
    return sorted(out, key=lambda p: p["name"] or "")
