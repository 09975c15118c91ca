"""A call's result, as every layer of the executor returns it (and as composite tools receive it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog import ToolDef

__all__ = ["CallResult", "error_result"]


@dataclass
class CallResult:
    data: Any
    is_error: bool = False
    notes: list[str] = field(default_factory=list)
    # bytes of the upstream answers `data` is the parsed JSON of (None: not only that): its text is
    # then known to be short without encoding it (`_shaping.cap`)
    received: int | None = field(default=None, repr=False, compare=False)

    def structured(self) -> dict[str, Any]:
        out = dict(self.data) if isinstance(self.data, dict) and self.is_error else {"result": self.data}
        if self.notes:
            out["notes"] = self.notes
        return out


def error_result(tool: ToolDef, status: int | None, kind: str, message: str, **extra: Any) -> CallResult:
    body = {"kind": kind, "tool": tool.name, "service": tool.service, "message": message, **extra}
    if status is not None:
        body["status"] = status
    return CallResult({"error": body}, is_error=True)

