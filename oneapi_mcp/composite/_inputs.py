"""Composite tools' inputs as pydantic models, like the generated tools' input models.

A composite tool declares `input_model=` (a subclass of `ToolInput`); its listed input schema is the
model's JSON schema in the compact form clients take (no titles, no null branches, nested models
inlined), and its arguments are validated by the model before the handler runs, with the problems
in the shape and wording of a generated tool's (`invalid_arguments`, one entry per field). The
mixins carry the arguments every planning tool shares: `DryRunInput` (dry_run), `PlanInput`
(dry_run, activate), and the fields and types `on_failure_field`, `service_list`, `distinct_list`.

Start-up pays nothing for them: the mixins live in `_input_models`, imported (through this module's
`__getattr__`) only by the modules that define tools' models, which tools name by import path so they
are imported on a tool's first call (issue 16); a `ToolInput` also defers its build (`defer_build`: pydantic makes the
validator and serializer on first use, i.e. on the tool's first call), and the built-in tools' listed
schemas are read from `input_schemas.json` (written by `make input-schemas`, see `_stored`), so
neither the models nor pydantic's JSON-schema generator are built to list tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Field

if TYPE_CHECKING:
    import mcp_types as t
    from pydantic import BaseModel

    from ._input_models import DryRunInput, PlanInput, ToolInput

__all__ = ["DryRunInput", "OnFailure", "PlanInput", "ToolInput", "check_arguments", "distinct_list",
           "input_schema_of", "on_failure_field", "service_list", "validate_input"]

_REF = re.compile(r"^#/\$defs/(.+)$")


#: what a step failure does, for tools that let the caller choose
OnFailure = Literal["continue", "rollback"]


def on_failure_field(default: str) -> Any:
    """The `on_failure` argument with this tool's default (continue for containment, rollback for all-or-nothing)."""
    return Field(default, description=(
        "When a step fails: continue (keep what was done, run what does not depend on the failed step: a partial "
        "containment beats none) or rollback (all-or-nothing: undo what was done)."))


_MODELS = frozenset({"DryRunInput", "PlanInput", "ToolInput"})


def __getattr__(name: str) -> Any:
    """The input-model mixins, defined (as pydantic classes) only when first asked for."""
    if name in _MODELS:
        from . import _input_models

        return getattr(_input_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _distinct(values: list[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is given twice (each at most once)")
        seen.append(value)
    return values


def distinct_list(item: Any) -> Any:
    """The type of a list argument whose items must all differ (JSON schema `uniqueItems`)."""
    return Annotated[list[item], AfterValidator(_distinct), Field(json_schema_extra={"uniqueItems": True})]


def service_list(services: Iterable[str]) -> Any:
    """The type of a `services` argument (default None: all of them): which of `services` to act in."""
    names = tuple(services)
    chosen = Annotated[distinct_list(Literal[names]), Field(min_length=1)]  # type: ignore[valid-type]
    return Annotated[chosen | None, Field(
        description=f"Services to act in (default all: {', '.join(names)}). A service whose state cannot be read "
                    "is skipped and reported as not covered; the others proceed.")]


@cache
def _compact() -> Any:
    """The schema generator for the form clients take (pydantic.json_schema is imported only to make one)."""
    from pydantic.json_schema import GenerateJsonSchema

    class Compact(GenerateJsonSchema):
        """No titles, an optional field as its own type (not `anyOf` with null)."""

        def field_title_should_be_set(self, schema: Any) -> bool:
            return False

        def nullable_schema(self, schema: Any) -> dict[str, Any]:
            return self.generate_inner(schema["schema"])

        def default_schema(self, schema: Any) -> dict[str, Any]:
            if schema.get("default", ...) is None:  # absent and null mean the same: no default to show
                return self.generate_inner(schema["schema"])
            return super().default_schema(schema)

    return Compact


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and (m := _REF.match(ref)) and m.group(1) in defs:
        return {**_inline(defs[m.group(1)], defs), **{k: _inline(v, defs) for k, v in node.items() if k != "$ref"}}
    return {k: _inline(v, defs) for k, v in node.items()}


def input_schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The listed input schema of a composite tool with this input model."""
    schema = model.model_json_schema(schema_generator=_compact())
    defs = schema.pop("$defs", {})
    out = _inline(schema, {name: {k: v for k, v in d.items() if k != "title"} for name, d in defs.items()})
    out.pop("title", None)
    out.pop("description", None)  # the model's docstring is for developers; the tool has its own description
    return out


def validate_input(model: type[BaseModel], arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the model validates them (defaults filled, absent values left out); raises
    pydantic's `ValidationError`."""
    return model.model_validate(arguments).model_dump(by_alias=True, exclude_none=True)


def check_arguments(tool: Any, arguments: dict[str, Any]) -> dict[str, Any] | t.CallToolResult:
    """What a registered tool's handler gets for these arguments: the values its input model validates
    (problems named per field, as for a generated tool), else the arguments once its JSON schema accepts
    them; an `invalid_arguments` error result when they are bad."""
    from .._hooktypes import tool_error, tool_result

    if tool.input_model is not None:
        from pydantic import ValidationError

        from .._arguments import describe_validation_error
        from ._stored import load_model

        model = load_model(tool.name, tool.input_model)
        try:
            return validate_input(model, arguments)
        except ValidationError as exc:
            return tool_result(describe_validation_error(tool.name, exc), is_error=True)
    import jsonschema

    validator = jsonschema.Draft202012Validator(dict(tool.input_schema))
    problems = [{"field": ".".join(str(p) for p in e.absolute_path) or "(arguments)", "problem": e.message}
                for e in sorted(validator.iter_errors(arguments), key=lambda e: list(e.absolute_path))]
    if problems:
        return tool_error(f"{tool.name}: invalid arguments, nothing was run: "
                          + "; ".join(f"{p['field']}: {p['problem']}" for p in problems),
                          "invalid_arguments", tool=tool.name, problems=problems)
    return dict(arguments)
