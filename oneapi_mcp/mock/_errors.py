"""Error bodies in each service's own shape, and the JSON response helper every handler uses."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

__all__ = ["error_body", "error_response", "json_response", "no_route"]

# ZIA and ZTW answer {code, message}; ZPA answers {id, reason}; ZDX, ZCC and ZIdentity use
# {code, message} too (their schemas also allow error/error_description).
_CODES = {
    400: ("INVALID_INPUT_ARGUMENT", "bad.request"),
    401: ("SESSION_NOT_VALID", "authentication.failed"),
    403: ("FORBIDDEN", "permission.denied"),
    404: ("RESOURCE_NOT_FOUND", "resource.not.found"),
    405: ("METHOD_NOT_ALLOWED", "method.not.allowed"),
    409: ("DUPLICATE_ITEM", "duplicate.item"),
    429: ("RATE_LIMIT_EXCEEDED", "too.many.requests"),
    500: ("UNEXPECTED_ERROR", "internal.error"),
    503: ("SERVICE_UNAVAILABLE", "service.unavailable"),
}


def error_body(service: str | None, status: int, message: str, code: str | None = None) -> dict[str, str]:
    default_code, zpa_id = _CODES.get(status, ("ERROR", "error"))
    code = code or default_code
    if service == "zpa":
        return {"id": zpa_id if code == default_code else code.lower().replace("_", "."), "reason": message}
    return {"code": code, "message": message}


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if status == 204 or body is None:
        return Response(status_code=status, headers=headers)
    # ASCII escapes: a lone surrogate in echoed client text must not turn into a 500.
    content = json.dumps(body, separators=(",", ":")).encode()
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def error_response(
    service: str | None, status: int, message: str, headers: dict[str, str] | None = None, code: str | None = None
) -> Response:
    return json_response(status, error_body(service, status, message, code), headers)


def no_route(service: str | None, path: str) -> Response:
    """A path no operation serves: ZIA answers a bare 404 (tests/recorded/zia.jsonl TestAppTotal#0); others
    in their error shape. (ZCC's recorded 400s have no body either; the mock keeps its JSON ZCCError,
    which the specs' contract declares, until an overlay says otherwise.)"""
    if service == "zia":
        return Response(status_code=404)
    return error_response(service, 404, f"no operation at {path}")
