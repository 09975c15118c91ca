"""Names: tool names, argument names and class names, and the lock that keeps tool names stable."""

from __future__ import annotations

import hashlib
import json
import keyword
import re
from pathlib import Path

__all__ = [
    "MAX_TOOL_NAME",
    "is_valid_tool_name",
    "NameLock",
    "class_name",
    "field_name",
    "operation_key",
    "snake_case",
    "tool_name",
]

MAX_TOOL_NAME = 64
_TOOL_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


def snake_case(name: str) -> str:
    """`GetIOTDeviceList` -> `get_iot_device_list`; `users:bulkdelete` -> `users_bulkdelete`."""
    s = re.sub(r"([A-Z]{2,})s(?=[A-Z_\W]|$)", lambda m: m.group(1) + "S", name)  # URLs, IPs: plural acronyms
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9]+", "_", s)
    return re.sub(r"_+", "_", s).strip("_").lower()


def tool_name(service: str, operation_id: str) -> str:
    """`<svc>_<snake_case_operation>`, cut to 64 characters with a stable hash suffix when longer."""
    name = f"{service}_{snake_case(operation_id)}"
    if len(name) > MAX_TOOL_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        name = name[: MAX_TOOL_NAME - 7].rstrip("_") + "_" + digest
    return name


def is_valid_tool_name(name: str) -> bool:
    return bool(_TOOL_NAME.match(name))


def field_name(wire_name: str) -> str:
    """A Python identifier for a wire name: `name[like]` -> `name_like`, `class` -> `class_`."""
    s = re.sub(r"[^A-Za-z0-9_]+", "_", wire_name).strip("_") or "param"
    if s[0].isdigit():
        s = "p_" + s
    if keyword.iskeyword(s) or s in {"model_config", "model_fields", "schema", "json", "copy", "dict"}:
        s += "_"
    return s


def class_name(operation_id: str) -> str:
    """The input model's class name: `ListUsers` -> `ListUsersInput`."""
    words = re.split(r"[^A-Za-z0-9]+", operation_id)
    base = "".join(w[:1].upper() + w[1:] for w in words if w)
    if base[:1].isdigit():
        base = "Op" + base
    return base + "Input"


def operation_key(method: str, path: str, variant: str | None = None) -> str:
    """What identifies an operation across spec edits: method and path with parameter names erased.

    An operation that shares its method and path with the path's own operation (an `x-oneapi-variants`
    entry) is told apart by its operationId: `GET /config/applications/{} GetPredefinedApplication`.
    """
    key = f"{method.upper()} {re.sub(r'{[^}]+}', '{}', path)}"
    return f"{key} {variant}" if variant else key


class NameLock:
    """Maps `<service> <METHOD> <path shape>` to the tool name it was first given.

    A spec edit that only changes an operationId's case or wording keeps the tool's name.
    """

    def __init__(self, entries: dict[str, str] | None = None):
        self.entries: dict[str, str] = dict(entries or {})

    @classmethod
    def read(cls, path: Path) -> NameLock:
        if not path.exists():
            return cls()
        return cls(json.loads(path.read_text()))

    def get(self, service: str, key: str) -> str | None:
        return self.entries.get(f"{service} {key}")

    def for_service(self, service: str, assigned: dict[str, str]) -> dict[str, str]:
        """The lock entries for one service after generation: exactly the operations that exist now."""
        return {f"{service} {k}": v for k, v in sorted(assigned.items())}

    @staticmethod
    def dumps(entries: dict[str, str]) -> str:
        return json.dumps(dict(sorted(entries.items())), indent=1, sort_keys=True) + "\n"
