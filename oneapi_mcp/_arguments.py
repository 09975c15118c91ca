"""The executor's first layer: a tool call's arguments split into control arguments (shaping, paging)
and the operation's own, settings-provided parameters filled, validated once by the tool's model, and
path values checked to stay in their segment (`_paths`). Bad input is a result naming each problem,
before anything is sent."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from . import _shaping
from ._call_result import CallResult
from ._catalog import Catalog, ToolDef
from ._paths import path_value_problems
from ._redact import is_secret_name, redact, scrub

__all__ = ["CONTROL_ARGUMENTS", "describe_validation_error", "prepare"]

# Arguments the server adds to generated tools; they shape the call and never reach upstream.
CONTROL_ARGUMENTS: dict[str, dict] = {
    "max_items": {"type": "integer", "minimum": 1,
                  "description": "List calls: stop after this many items (fetching further pages as needed)."},
    "all_pages": {"type": "boolean", "description": "List calls: fetch every page (bounded by max_items)."},
    "fields": {"type": "array", "items": {"type": "string"}, "maxItems": _shaping.MAX_FIELDS,
               "description": "Keep only these top-level fields of each returned object."},
    "query": {"type": "string", "maxLength": _shaping.MAX_QUERY_CHARS,
              "description": "A JMESPath expression applied to the result, e.g. "
                             "\"[?disabled].{id: id, name: name}\"."},
}
_PAGINATION_ONLY = ("max_items", "all_pages")


def prepare(catalog: Catalog, tool: ToolDef, arguments: dict[str, Any],
            customer_id: str | None = None) -> tuple[Any, dict[str, Any]] | CallResult:
    """Split control arguments off, fill settings-provided parameters, validate the rest: the model
    and the control arguments, or a result naming each problem."""
    args = dict(arguments or {})  # a plugin's own arguments (the scopes plugin's confirm_token) are gone by now
    control = {k: args.pop(k) for k in list(args) if k in CONTROL_ARGUMENTS}
    if not tool.pagination:
        stray = [k for k in control if k in _PAGINATION_ONLY]
        if stray:
            return CallResult({"error": {"kind": "invalid_arguments", "tool": tool.name,
                                         "message": f"{tool.name} is not a paginated list; "
                                                    f"{', '.join(stray)} do not apply"}}, is_error=True)
    for fname, wire, location, _req, _ in tool.params:
        if location == "path" and wire == "customerId" and fname not in args and customer_id:
            args[fname] = customer_id
    try:
        model = catalog.input_model(tool.name).model_validate(args)
    except ValidationError as exc:
        if any(e["loc"][:1] == ("customerId",) and e["type"] == "missing" for e in exc.errors()):
            return CallResult({"error": {"kind": "missing_setting", "tool": tool.name,
                                         "message": "ZPA tools need the tenant's customer id: set ZPA_CUSTOMER_ID "
                                                    "(or ZSCALER_CUSTOMER_ID), or pass customerId."}},
                              is_error=True)
        return CallResult(describe_validation_error(tool.name, exc), is_error=True)
    problems = path_value_problems(tool, model)
    if problems:
        return CallResult(_invalid(tool.name, problems), is_error=True)
    bad = _check_control(control)
    if bad:
        return CallResult({"error": {"kind": "invalid_arguments", "tool": tool.name, "message": bad}},
                          is_error=True)
    return model, control


def describe_validation_error(tool: str, exc: ValidationError) -> dict[str, Any]:
    """The problems in a tool's arguments, each naming its field. A value is echoed back (`got`) only
    when no part of its path is a secret field, and then with any secret inside it redacted."""
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        problem = scrub(err["msg"])
        if err["type"] == "extra_forbidden":
            problems.append({"field": where, "problem": "unknown argument"})
        elif err["type"] == "missing":
            problems.append({"field": where, "problem": "required argument is missing"})
        elif any(is_secret_name(part) for part in err["loc"]):
            problems.append({"field": where, "problem": problem})  # never echo a secret back
        else:
            problems.append({"field": where, "problem": problem, "got": _short(redact(err.get("input")))})
    return {"error": {"kind": "invalid_arguments", "tool": tool, "problems": problems,
                      "message": f"{tool}: invalid arguments, nothing was sent upstream: "
                                 + "; ".join(f"{p['field']}: {p['problem']}" for p in problems)}}


def _invalid(tool: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """Problems found after validation (path values), in the shape of `describe_validation_error`."""
    return {"error": {"kind": "invalid_arguments", "tool": tool, "problems": problems,
                      "message": f"{tool}: invalid arguments, nothing was sent upstream: "
                                 + "; ".join(f"{p['field']}: {p['problem']}" for p in problems)}}


def _short(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) <= 120 else text[:117] + "..."



def _check_control(control: dict[str, Any]) -> str | None:
    if "max_items" in control and (not isinstance(control["max_items"], int) or isinstance(
            control["max_items"], bool) or control["max_items"] < 1):
        return "max_items must be a positive integer"
    if "all_pages" in control and not isinstance(control["all_pages"], bool):
        return "all_pages must be true or false"
    if "fields" in control and not (isinstance(control["fields"], list) and all(
            isinstance(f, str) for f in control["fields"])):
        return "fields must be a list of field names"
    if "fields" in control and len(control["fields"]) > _shaping.MAX_FIELDS:
        return f"fields takes at most {_shaping.MAX_FIELDS} names (got {len(control['fields']):,})"
    if "query" in control:
        if not isinstance(control["query"], str):
            return "query must be a JMESPath string"
        try:
            _shaping.compile_query(control["query"])
        except _shaping.QueryLimit as exc:
            return str(exc)
    return None

