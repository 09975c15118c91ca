"""Plugins own their settings: each declares a pydantic model for its `[servers.<name>.plugins.<table>]`
table through the `oneapi_mcp_plugin_settings` hook; `ServerSettings.plugin_settings(table)` is the
validated value. Tables are validated when the settings are built (at load and at every reload),
so a bad value stops start-up or is refused by a reload before anything changes.

A plugin may name its model by import path ("package.module:ClassName") instead of the class: it is
imported when a server first validates that table (a table given at load or reload, a legacy key to
move, or the plugin reading its settings), so listing tools defines no settings model (issue 16).

A model may name the keys its fields had in the server table before plugins owned them: the class
variable `legacy_prefix` (e.g. "anomaly_": `anomaly_window` is `window`) and/or `legacy_keys` (old key
-> field, e.g. {"confirm_ttl": "confirm_ttl"}). Such keys directly in the server table (or their
ONEAPI_MCP_<KEY> variables) are moved into its table with a deprecation warning naming the new place.
A model's class variable `live_settings` names the fields read per call, which a hot reload applies at
once; a change to any other field of a table waits for a restart, like a server setting outside
`LIVE_SETTINGS` (oneapi_mcp._reload).
"""

from __future__ import annotations

import logging
import os
import pkgutil
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["declared", "legacy_field", "live_fields", "model_of", "move_legacy_keys", "validate_table"]

_log = logging.getLogger("oneapi_mcp.settings")
_ENV_PREFIX = "ONEAPI_MCP_"


def declared(pm: Any = None) -> dict[str, type[BaseModel] | str]:
    """Table name -> settings model or its import path (not imported: see `model_of`), from every
    plugin's `oneapi_mcp_plugin_settings`."""
    from ._plugins import PluginError, get_plugin_manager

    out: dict[str, type[BaseModel] | str] = {}
    for answer in (pm or get_plugin_manager()).hook.oneapi_mcp_plugin_settings():
        for table, model in (answer or {}).items():
            if table in out and out[table] != model:
                raise PluginError(f"two plugins declare the settings table plugins.{table}")
            out[table] = model
    return out


def model_of(table: str, model: type[BaseModel] | str) -> type[BaseModel]:
    """The settings model itself: an import path is imported now (once); one that does not name a pydantic
    model is a PluginError naming the table and the path."""
    return _import_model(table, model) if isinstance(model, str) else model


@cache
def _import_model(table: str, path: str) -> type[BaseModel]:
    from pydantic import BaseModel

    from ._plugins import PluginError

    try:
        found = pkgutil.resolve_name(path)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PluginError(f"the settings model of plugins.{table}, {path!r}, cannot be imported: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not (isinstance(found, type) and issubclass(found, BaseModel)):
        raise PluginError(f"the settings model of plugins.{table}, {path!r}, is not a pydantic model")
    return found


def legacy_field(model: type[BaseModel], key: str) -> str | None:
    """The field of `model` an old server-table key now is, or None."""
    mapped = (getattr(model, "legacy_keys", None) or {}).get(key)
    if mapped in model.model_fields:
        return mapped
    prefix = getattr(model, "legacy_prefix", None)
    if prefix and key.startswith(prefix) and key[len(prefix):] in model.model_fields:
        return key[len(prefix):]
    return None


def _old_key(model: type[BaseModel], field: str) -> str | None:
    for old, new in (getattr(model, "legacy_keys", None) or {}).items():
        if new == field:
            return old
    prefix = getattr(model, "legacy_prefix", None)
    return f"{prefix}{field}" if prefix else None


def live_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` a hot reload applies at once (read per call)."""
    return frozenset(getattr(model, "live_settings", None) or ())


def move_legacy_keys(values: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """`values` with old-style plugin keys (and ONEAPI_MCP_ variables) moved into `plugins.<table>`;
    keys that are neither fields nor a plugin's are left for the model to reject."""
    unknown = [k for k in values if k not in known]
    env = {key: v for k, v in os.environ.items()
           if k.startswith(_ENV_PREFIX) and (key := k[len(_ENV_PREFIX):].lower()) not in known
           and key.split("__", 1)[0] not in known}  # ONEAPI_MCP_PLUGINS__<TABLE>__<FIELD> is the plugins field's
    if not unknown and not env:
        return values
    from ._plugins import PluginError

    models = {}
    for table, model in declared().items():
        try:
            models[table] = model_of(table, model)
        except PluginError:  # fails, naming table and path, when its table is validated; not for another's key
            continue
    server = values.get("name") or "<name>"
    out = {k: v for k, v in values.items() if k != "plugins"}
    tables = {name: dict(table) for name, table in (values.get("plugins") or {}).items()}
    for source, items in (("setting", {k: values[k] for k in unknown}), ("variable", env)):
        for key, value in items.items():
            for table, model in models.items():
                field = legacy_field(model, key)
                if field is not None:
                    if source == "setting":
                        out.pop(key, None)
                    tables.setdefault(table, {}).setdefault(field, value)
                    old = f"{_ENV_PREFIX}{key.upper()}" if source == "variable" else key
                    message = f"{old} is deprecated: set {field} in [servers.{server}.plugins.{table}]"
                    if source == "variable":
                        message += f" (or {_ENV_PREFIX}PLUGINS__{table.upper()}__{field.upper()})"
                    warnings.warn(message, DeprecationWarning, stacklevel=2)
                    _log.warning("%s", message)
                    break
    if tables:
        out["plugins"] = tables
    return out


def validate_table(table: str, values: dict[str, Any], models: dict[str, type[BaseModel] | str] | None = None,
                   server: str = "<name>") -> Any:
    """The table validated by its plugin's model (imported now if named by path); a problem is a ValueError
    naming `[servers.<server>.plugins.<table>].<field>` (and the old key it came from), never the value."""
    from pydantic import ValidationError

    models = declared() if models is None else models
    if table not in models:
        raise ValueError(f"[servers.{server}.plugins.{table}]: no loaded plugin owns this table (plugins with "
                         f"settings: {', '.join(sorted(models)) or 'none'})")
    model = model_of(table, models[table])
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in error["loc"])
            old = _old_key(model, str(error["loc"][0])) if error["loc"] else None
            legacy = f" (formerly {old})" if old else ""
            problems.append(f"[servers.{server}.plugins.{table}]{'.' + where if where else ''}{legacy}: {error['msg']}")
        raise ValueError("; ".join(problems)) from None
