"""Read one API request against its operation: path and query parameters, and the body.

Anything the spec rules out (a wrong type in a parameter, a missing required one, a body that
is not JSON or breaks the schema's types) becomes a sentence for a 400 in the service's error
shape; a valid request becomes a `Call` the handlers can trust.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ._schema import SchemaKit
from ._spec import Operation

__all__ = ["Call", "BadRequest", "read_call"]

_INT = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


class BadRequest(Exception):
    pass


@dataclass
class Call:
    op: Operation
    request: Request
    path: dict[str, Any]
    raw_path: dict[str, str]
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None


def _scalar(text: str, schema: dict[str, Any], where: str) -> Any:
    if "anyOf" in schema:  # an endpoint several operations share (a ZDX application id or a predefined name)
        for option in schema["anyOf"]:
            try:
                return _scalar(text, option, where)
            except BadRequest:
                continue
        raise BadRequest(f"{where} matches none of its types, got {text!r}")
    kind = schema.get("type")
    if kind == "integer":
        if not _INT.fullmatch(text):
            raise BadRequest(f"{where} must be an integer, got {text!r}")
        value = int(text)
        low, high = _RANGES.get(schema.get("format", ""), (None, None))
        if low is not None and not low <= value <= high:
            raise BadRequest(f"{where} is out of range for {schema['format']}")
        return value
    if kind == "number":
        if not _NUMBER.fullmatch(text):
            raise BadRequest(f"{where} must be a number, got {text!r}")
        return float(text)
    if kind == "boolean":
        if text.lower() not in ("true", "false"):
            raise BadRequest(f"{where} must be true or false, got {text!r}")
        return text.lower() == "true"
    return text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_call(op: Operation, request: Request, kit: SchemaKit) -> Call:
    raw_path = dict(request.path_params)
    call = Call(op, request, {}, raw_path)
    params = request.query_params
    known = {p.name for p in op.params if p.location == "query"}
    for name in params:
        if name not in known:
            raise BadRequest(f"unknown query parameter {name!r}")
    for param in op.params:
        where = f"{param.location} parameter {param.name}"
        if param.location == "path":
            call.path[param.name] = _scalar(raw_path.get(param.name, ""), kit.resolve(param.schema), where)
        elif param.location == "query":
            values = params.getlist(param.name)
            if not values:
                if param.required:
                    raise BadRequest(f"{where} is required")
                continue
            schema = kit.resolve(param.schema)
            if schema.get("type") == "array":
                item = kit.resolve(schema.get("items"))
                call.query[param.name] = [_scalar(v, item, where) for v in values]
            else:
                call.query[param.name] = _scalar(values[-1], schema, where)
    if op.body_media_type is None:
        return call
    raw = await request.body()
    if op.body_media_type != "application/json":
        # An empty text body is still a body; no body at all has no content type either.
        if op.body_required and not raw and "content-type" not in request.headers:
            raise BadRequest(f"a {op.body_media_type} request body is required")
        call.body = raw.decode("utf-8", "replace")
        return call
    if not raw.strip():
        if op.body_required:
            raise BadRequest("a JSON request body is required")
        return call
    try:
        call.body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the request body is not valid JSON ({exc})") from None
    problem = kit.validate(call.body, op.body_schema, "body")
    if problem:
        raise BadRequest(problem)
    return call
