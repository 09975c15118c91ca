"""Fields a request body carries that the spec does not declare, named so a result can say so.

Generated request-body models keep unknown keys (`extra="allow"`, see `codegen/_schema.py`):
the tenant accepts fields the SDK's models lack (tests/recorded/), so dropping them silently would
lose what the caller meant. Tool arguments themselves stay closed (`extra="forbid"`): an unknown
argument is refused before any request.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["passed_through", "passed_through_note"]


def _is_reference(model: BaseModel) -> bool:
    # `<Resource>Ref` models (codegen `request_schemas`) stand for another object by id and pass its
    # other fields through by design: those fields are declared on the resource itself
    return type(model).__name__.rstrip("_").endswith("Ref")


def _walk(value: Any, where: str, out: dict[str, None]) -> None:
    if isinstance(value, BaseModel):
        if not _is_reference(value):
            for key in value.__pydantic_extra__ or {}:
                out[f"{where}{key}"] = None
        for name, info in type(value).model_fields.items():
            if name in value.model_fields_set:
                _walk(getattr(value, name), f"{where}{info.alias or name}.", out)
    elif isinstance(value, list):
        for item in value:
            _walk(item, f"{where.rstrip('.')}[].", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{where}{key}.", out)


def passed_through(model: BaseModel, body_fields: tuple[str, ...] = ("body",)) -> list[str]:
    """The undeclared fields inside the request body of a validated tool input, as dotted paths
    relative to the body (`feedType`, `conditions[].negatedX`), in the order given."""
    out: dict[str, None] = {}
    for name in body_fields:
        if name in model.model_fields_set:
            _walk(getattr(model, name), "", out)
    return list(out)


def passed_through_note(fields: list[str]) -> str:
    return "not in the spec, sent as given: " + ", ".join(fields)
