"""oneapi-mcp: the Zscaler OneAPI as MCP tools, generated from vendored specs."""

from ._catalog import Catalog, ToolDef, ToolsetDef, load_catalog

__version__ = "0.1.0"

__all__ = ["Catalog", "ToolDef", "ToolsetDef", "__version__", "load_catalog"]
