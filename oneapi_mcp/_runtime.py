"""The runtime every hook receives: one named server's settings, its catalog, search index, plugin
manager and executor, each created on first use.

It imports only downward (settings, catalog, search, the plugin manager): the MCP wiring (`_server`)
and the call path (`_calls`) reach it, never the other way round; `call_tool` goes through the
surface `build_server` attached.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._settings import ServerSettings

__all__ = ["Runtime"]


@dataclass
class Runtime:
    """What calls need, created on first use: the catalog, then the executor (credentials, HTTP)."""

    settings: ServerSettings
    executor_factory: Callable[[Any], Any]  # catalog -> Executor (raises a message when not configured)
    customer_id_known: bool = False
    zms_customer_id_known: bool = False  # ZMS queries' customerId is its own setting (ZMS_CUSTOMER_ID)
    pm: Any = None  # the pluggy PluginManager; None: the process-wide one
    _catalog: Any = None
    _executor: Any = None
    _index: Any = None
    surface: Any = None  # the ToolSurface build_server made for this runtime
    # (catalog, previous executor, new settings) -> an executor for the new settings that keeps the previous
    # one's HTTP client (its token, its connections); None: a settings change drops the executor instead
    executor_reconfigure: Callable[[Any, Any, ServerSettings], Any] | None = None
    _retired: list[Any] = field(default_factory=list)  # executors dropped by a settings change: closed at shutdown

    @property
    def catalog(self):
        if self._catalog is None:
            from ._catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    @property
    def index(self):
        if self._index is None:
            from ._search import SearchIndex

            self._index = SearchIndex.for_catalog(self.catalog)
        return self._index

    @property
    def plugins(self):
        if self.pm is None:
            from ._plugins import get_plugin_manager

            self.pm = get_plugin_manager()
        return self.pm

    def executor(self):
        if self._executor is None:
            executor = self.executor_factory(self.catalog)
            # the request hooks fire for every executor the server uses
            if executor is not None and getattr(executor, "hooks", None) is None:
                executor.hooks = self.plugins.hook
            self._executor = executor
        return self._executor

    def prepare_settings(self, settings: ServerSettings) -> Callable[[], None]:
        """Check new settings against what this runtime built (plugins' tools and filters, the
        executor and its rate limiter) without changing anything; raises what is wrong. Returns the
        switch, which only assigns (atomic between two awaits): a call in flight keeps the settings,
        refusal and executor it started with; calls that start after the switch see the new ones."""
        switch_surface = self.surface.prepare_settings(settings) if self.surface is not None else None
        previous = self._executor
        executor = previous
        if previous is not None and settings != self.settings:
            reconfigure = self.executor_reconfigure
            executor = reconfigure(self.catalog, previous, settings) if reconfigure is not None else None

        def switch() -> None:
            old_timeout = self.settings.timeout
            self.settings = settings
            if switch_surface is not None:
                switch_surface()
            if executor is previous:
                return
            client = getattr(previous, "client", None)
            if executor is not None and getattr(executor, "client", None) is client:
                # shared client: requests built from now on get the new timeout
                if settings.timeout != old_timeout and client is not None:
                    client.timeout = settings.timeout
            else:
                self._retired.append(previous)
            self._executor = executor

        return switch

    async def call_tool(self, name: str, arguments: dict[str, Any] | None = None, *, client: str = "oneapi-mcp") -> Any:
        """Run a tool as a client's tools/call would, outside any MCP request (schedulers, alerts):
        the same filters, confirmation, audit and hooks apply; `client` names the caller in the audit
        log. Returns the `CallToolResult`."""
        if self.surface is None:
            raise RuntimeError("call_tool needs the server built (build_server) for this runtime")
        return await self.surface.call(None, name, arguments, client=client)

    async def startup(self) -> None:
        """Run the `oneapi_mcp_startup` hooks (awaiting what they return) before serving."""
        for outcome in self.plugins.hook.oneapi_mcp_startup(settings=self.settings, runtime=self):
            if inspect.isawaitable(outcome):
                await outcome

    async def shutdown(self) -> None:
        """Run the `oneapi_mcp_shutdown` hooks, then close the upstream HTTP client."""
        try:
            outcomes = self.plugins.hook.oneapi_mcp_shutdown(settings=self.settings, runtime=self)
        except Exception as exc:
            logging.getLogger("oneapi_mcp").warning("a shutdown hook failed: %s", type(exc).__name__)
            outcomes = []
        for outcome in outcomes:
            if inspect.isawaitable(outcome):
                try:
                    await outcome
                except Exception as exc:
                    logging.getLogger("oneapi_mcp").warning("a shutdown hook failed: %s", type(exc).__name__)
        for executor in (*self._retired, self._executor):
            client = getattr(executor, "client", None)
            if client is not None:
                await client.aclose()
