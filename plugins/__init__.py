"""oneapi-mcp plugins: the hook specifications and the built-in plugins.

Write a plugin with `from oneapi_mcp.plugins import hookimpl` (see docs/plugin_hooks.md).
"""

from oneapi_mcp._hooktypes import (
    CompositeContext,
    CompositeTool,
    RateLimited,
    ToolCall,
    tool_error,
    tool_result,
)

from .hookspecs import hookimpl

__all__ = ["CompositeContext", "CompositeTool", "RateLimited", "ToolCall", "hookimpl", "tool_error", "tool_result"]
