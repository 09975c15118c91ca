"""The built-in tools' listed input schemas, stored: listing reads them instead of building each input model
and deriving its JSON schema at start (about 6 ms of CPU a model, issue 16).

`input_schemas.json` maps a tool's name to its input model (`module:qualname`) and the schema
`input_schema_of` derives from it. `make input-schemas` writes it (so does `make toolsnaps`);
tests/test_composite_inputs.py fails, naming the tool, when a model's schema and the stored one differ;
nothing rewrites it in CI. A tool the file does not know, or whose model is not the stored one (a
third-party plugin's, or one just changed), gets its schema derived from the model on first use.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["STORE", "InputSchema", "check_model_path", "current_schemas", "load_model", "model_path",
           "stored_schema"]

STORE = Path(__file__).with_name("input_schemas.json")

#: "package.module:ClassName" (a qualname may be dotted: "module:Outer.Inner")
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def model_path(model: type[BaseModel] | str) -> str:
    """`module:qualname` of an input model, or the import path a tool names it by (not imported)."""
    return model if isinstance(model, str) else f"{model.__module__}:{model.__qualname__}"


def check_model_path(tool: str, path: str) -> None:
    """Refuse a path that cannot name a class, without importing anything (the import waits for first use)."""
    if not _PATH.match(path):
        raise ValueError(f"composite tool {tool}: input_model {path!r} is not an import path "
                         "'package.module:ClassName'")


@cache
def _import(path: str) -> Any:
    module, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def load_model(tool: str, model: type[BaseModel] | str) -> type[BaseModel]:
    """The input model itself: a path is imported on first use (a call, or a schema nobody stored)."""
    if not isinstance(model, str):
        return model
    from pydantic import BaseModel

    try:
        found = _import(model)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"composite tool {tool}: input_model {model!r} cannot be imported: {exc}") from exc
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise ValueError(f"composite tool {tool}: input_model {model!r} is not a pydantic model")
    return found


@cache
def _stored() -> dict[str, Any]:
    return json.loads(STORE.read_text(encoding="utf-8")) if STORE.exists() else {}


def stored_schema(tool: str, model: type[BaseModel] | str) -> dict[str, Any] | None:
    """The stored listed schema of `tool`, if it was stored for this very model (a path is not imported)."""
    entry = _stored().get(tool)
    return entry["schema"] if entry is not None and entry["model"] == model_path(model) else None


class InputSchema(Mapping[str, Any]):
    """A composite tool's listed input schema, resolved on first read: the stored one, else the model's."""

    __slots__ = ("_model", "_schema", "_tool")

    def __init__(self, tool: str, model: type[BaseModel] | str):
        self._tool, self._model = tool, model
        self._schema: dict[str, Any] | None = None

    @property
    def schema(self) -> dict[str, Any]:
        if self._schema is None:
            from ._inputs import input_schema_of

            self._schema = (stored_schema(self._tool, self._model)
                            or input_schema_of(load_model(self._tool, self._model)))
        return self._schema

    def __getitem__(self, key: str) -> Any:
        return self.schema[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.schema)

    def __len__(self) -> int:
        return len(self.schema)

    def __repr__(self) -> str:
        return f"InputSchema({self._tool!r}, {model_path(self._model)!r})"


def current_schemas() -> dict[str, dict[str, Any]]:
    """What the file should hold: every built-in plugin's tool with an input model, its schema derived now."""
    from .._plugins import create_plugin_manager
    from .._settings import ServerSettings
    from ._inputs import input_schema_of

    pm = create_plugin_manager(entrypoints=False)
    tools = [tool for answer in pm.hook.oneapi_mcp_register_tools(settings=ServerSettings(profile="admin"))
             for tool in answer]
    return {tool.name: {"model": model_path(tool.input_model),
                        "schema": input_schema_of(load_model(tool.name, tool.input_model))}
            for tool in sorted(tools, key=lambda tool: tool.name) if tool.input_model is not None}


def main() -> int:
    if os.environ.get("CI"):
        print("input-schemas: refusing to rewrite the stored schemas in CI (CI is set)", file=sys.stderr)
        return 2
    schemas = current_schemas()
    text = json.dumps(schemas, indent=1, ensure_ascii=False) + "\n"  # sorted by tool; a schema keeps its order
    if STORE.exists() and STORE.read_text(encoding="utf-8") == text:
        print(f"{STORE.name}: up to date")
        return 0
    tmp = STORE.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(STORE)
    print(f"{STORE.name}: written ({len(schemas)} tools)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
