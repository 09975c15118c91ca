"""The names Zscaler's SDK gives each operation, as words search matches in their own fields.

The SDK (zscaler-sdk-python, MIT) names its calls the way the console does: ZPA's `/appConnectorGroup` is
`client.zpa.app_connector_groups.list_connector_groups()`, the "App Connector Groups interface", ZIA's
`/firewallFilteringRules` the "Firewall Policies interface". `make sdk-names` (codegen/_sdk_names.py) matched
each SDK method to our operation by method and path into `specs/sdk_names.json`, which `make generate` ships
in `oneapi_mcp.generated`; it is read when the search index is first built, never at start-up.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["operation_key", "operation_sdk_names"]

# a resource client's class says what it is, then "API" or "ControllerAPI"
_CLASS_TAIL = ("ControllerAPI", "API")


def operation_sdk_names(tools: Any) -> dict[str, tuple[str, str]]:
    """Tool name -> (the SDK's names for it: its methods, the accessor, documented title and class of their resource
    client; the first sentence of the method's docstring). Matched by operation key ("METHOD path", a GraphQL
    operation adds its name); tools the SDK does not call get none."""
    data = _read()
    out: dict[str, tuple[str, str]] = {}
    if data is None:
        return out
    files = data.get("resources", {})
    for tool in tools:
        entry = data.get("services", {}).get(tool.service, {}).get(operation_key(tool))
        if entry is None:
            continue
        names = list(entry["functions"])
        for file in entry["files"]:
            resource = files.get(file, {})
            cls = resource.get("class", "")
            names += [resource.get("accessor", ""), resource.get("title", ""),
                      next((cls[: -len(t)] for t in _CLASS_TAIL if cls.endswith(t)), cls)]
        out[tool.name] = (" ".join(n for n in names if n), entry.get("summary", ""))
    return out


def operation_key(tool: Any) -> str:
    """"METHOD path"; a GraphQL operation (every one is POST /<svc>/graphql) adds its query name. The key the SDK's
    names, the search examples and the benchmark's right answers are filed under (it survives an operationId rename)."""
    graphql = getattr(tool, "graphql", None)
    return f"{tool.method} {tool.path} {graphql['name']}" if graphql else f"{tool.method} {tool.path}"


def _read() -> dict[str, Any] | None:
    try:
        text = resources.files("oneapi_mcp.generated").joinpath("sdk_names.json").read_text()
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    return json.loads(text)
