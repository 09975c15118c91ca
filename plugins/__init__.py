"""oneapi-mcp plugins: the hook specifications and the built-in plugins.

Write a plugin against `oneapi_mcp.plugin_api` (docs/plugin_api.md); this package re-exports it, so
`from oneapi_mcp.plugins import hookimpl, CompositeTool` works too (see docs/plugin_hooks.md).
"""

from typing import Any

from oneapi_mcp import plugin_api as _api

from .hookspecs import hookimpl as hookimpl

__all__ = list(_api.__all__)


def __getattr__(name: str) -> Any:
    if name in _api.__all__:  # the API's names, loaded on first use as there
        return getattr(_api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}; the plugin API is in docs/plugin_api.md")
