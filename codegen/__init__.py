"""The oneapi-mcp generator: vendored OneAPI specs -> pydantic models and tool definitions.

Three stages with typed data between them: load (`_load`: YAML, overlays, checks), parse
(`_parse`: the frozen IR of `_ir`, where every decision is made) and render (`_render`: files).
`_generate` runs them for `make generate`, `_check` for `make check-generated`; `_make_specs` converts the
SDK wheel's models into the vendored specs for `make specs`.
"""

from ._ir import Operation, Param, Problem, Service, SpecError, Toolset
from ._naming import NameLock, snake_case, tool_name

__all__ = [
    "NameLock",
    "Operation",
    "Param",
    "Problem",
    "Service",
    "SpecError",
    "Toolset",
    "snake_case",
    "tool_name",
]
