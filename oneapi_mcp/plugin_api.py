"""The public plugin API: every type and helper a oneapi-mcp plugin uses (docs/plugin_api.md).

Import from here (or from `oneapi_mcp.plugins`, which re-exports it), never from `oneapi_mcp._*`: the
private modules may change; these names are kept. This module imports nothing from plugins, and only
the light hook types at import time; everything else loads on first use, so a plugin's import costs
the server's start-up nothing it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

from ._hooktypes import (
    DISCOVERY_TOOLS,
    SCOPE_ORDER,
    CompositeContext,
    CompositeTool,
    RateLimited,
    RateLimiter,
    ToolCall,
    annotations_for_scope,
    current_call,
    tool_error,
    tool_result,
)

if TYPE_CHECKING:
    from ._access_review import one_per_call, read_audit
    from ._auth import OneAPIAuth
    from ._catalog import Catalog, ToolDef
    from ._executor import CallResult, Executor, retry_after_seconds
    from ._metrics import error_kind_label, metrics
    from ._plugins import PluginError, create_plugin_manager, get_plugin_manager, set_plugin_manager
    from ._redact import redact, register_secret, register_secrets, scrub
    from ._redis import SharedWindows, settle_held_slot
    from ._runtime import Runtime
    from ._server import build_server
    from ._settings import (
        CREDENTIAL_KEYS,
        PROFILES,
        ConfigError,
        Credentials,
        ServerSettings,
        oneapi_urls,
        read_file_credentials,
    )
    from .composite._inputs import (
        DryRunInput,
        OnFailure,
        PlanInput,
        ToolInput,
        check_arguments,
        distinct_list,
        input_schema_of,
        on_failure_field,
        service_list,
    )
    from .composite._outcome import ACTIVATE, ACTIVATION_STATUS, Activation, is_active, read_activation
    from .composite._report import (
        CHARTS_HINT,
        Chart,
        Table,
        bar_chart,
        charts_available,
        line_chart,
        markdown_table,
        report_result,
    )
    from .composite._workflow import (
        DRY_RUN_ARGUMENTS,
        ReadFailure,
        Ref,
        Refusal,
        Step,
        Workflow,
        delete_created,
        plan_schema,
        refusal_result,
    )

#: Decorates a plugin's hook implementations (the same marker as `oneapi_mcp.plugins.hookimpl`).
hookimpl = pluggy.HookimplMarker("oneapi_mcp")

# name -> the private module that defines it, imported on first use
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Runtime",), "._runtime"),
    **dict.fromkeys(("CallResult", "Executor", "retry_after_seconds"), "._executor"),
    **dict.fromkeys(("Catalog", "ToolDef"), "._catalog"),
    **dict.fromkeys(("CREDENTIAL_KEYS", "PROFILES", "ConfigError", "Credentials", "ServerSettings", "oneapi_urls",
                     "read_file_credentials"), "._settings"),
    **dict.fromkeys(("redact", "register_secret", "register_secrets", "scrub"), "._redact"),
    **dict.fromkeys(("OneAPIAuth",), "._auth"),
    **dict.fromkeys(("SharedWindows", "settle_held_slot"), "._redis"),
    **dict.fromkeys(("error_kind_label", "metrics"), "._metrics"),
    **dict.fromkeys(("one_per_call", "read_audit"), "._access_review"),
    **dict.fromkeys(("PluginError", "create_plugin_manager", "get_plugin_manager", "set_plugin_manager"),
                    "._plugins"),
    **dict.fromkeys(("build_server",), "._server"),
    **dict.fromkeys(("DRY_RUN_ARGUMENTS", "ReadFailure", "Ref", "Refusal", "Step", "Workflow", "delete_created",
                     "plan_schema", "refusal_result"), ".composite._workflow"),
    **dict.fromkeys(("DryRunInput", "OnFailure", "PlanInput", "ToolInput", "check_arguments", "distinct_list",
                     "input_schema_of", "on_failure_field", "service_list"), ".composite._inputs"),
    **dict.fromkeys(("ACTIVATE", "ACTIVATION_STATUS", "Activation", "is_active", "read_activation"),
                    ".composite._outcome"),
    **dict.fromkeys(("CHARTS_HINT", "Chart", "Table", "bar_chart", "charts_available", "line_chart",
                     "markdown_table", "report_result"), ".composite._report"),
}

__all__ = [
    "ACTIVATE", "ACTIVATION_STATUS", "Activation", "CHARTS_HINT", "CREDENTIAL_KEYS", "CallResult", "Catalog",
    "Chart", "CompositeContext", "CompositeTool", "ConfigError", "Credentials", "DISCOVERY_TOOLS",
    "DRY_RUN_ARGUMENTS", "DryRunInput", "Executor", "OnFailure", "OneAPIAuth", "PROFILES", "PlanInput",
    "PluginError", "RateLimited", "RateLimiter", "ReadFailure", "Ref", "Refusal", "Runtime", "SCOPE_ORDER",
    "ServerSettings", "SharedWindows", "Step", "Table", "ToolCall", "ToolDef", "ToolInput", "Workflow",
    "annotations_for_scope", "bar_chart", "build_server", "charts_available", "check_arguments",
    "create_plugin_manager", "current_call", "delete_created", "distinct_list", "error_kind_label",
    "get_plugin_manager", "hookimpl", "input_schema_of", "is_active", "line_chart", "markdown_table", "metrics",
    "on_failure_field", "one_per_call", "oneapi_urls", "plan_schema", "read_activation", "read_audit",
    "read_file_credentials", "redact", "refusal_result", "register_secret", "register_secrets", "report_result",
    "retry_after_seconds", "scrub", "service_list", "set_plugin_manager", "settle_held_slot", "tool_error",
    "tool_result",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}; the plugin API is listed in "
                             "docs/plugin_api.md")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value  # the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return __all__
