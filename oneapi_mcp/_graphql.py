"""GraphQL operations (Z-Insights, ZMS) on the executor: the request body and the reading of the answer.

A generated GraphQL tool's arguments are its document's variables (validated by its input model
before anything is sent); the request is `POST /<svc>/graphql` with `{"query", "variables",
"operationName"}`, as Zscaler's SDK sends it (reference/recorded/zins/cassettes/TestCyberSecurity.yaml).
GraphQL answers HTTP 200 even when it failed: an answer with `errors` is an error result that keeps
every message and, when some fields did answer, the partial `data`
(reference/recorded/zins/cassettes/TestIoT.yaml: 200, `errors` FORBIDDEN, `data.IOT.device_stats: null`).
An error whose `extensions` carry an HTTP status (`http_status: 403`, or a code that means one:
`FORBIDDEN`) is the error a REST answer with that status gives (kind `upstream`, `status`, `code`), so
entitlement checks and operators read a refused GraphQL query like a refused REST call.
A good answer is unwrapped to the operation's result (`data.CYBER_SECURITY.incidents`), which the
executor then shapes and caps like any REST answer.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SETTING_VARIABLES", "graphql_body", "graphql_result", "graphql_settings"]

# Variables a setting fills when the caller gives none: (service, variable) -> (setting, its env var).
# Every ZMS query takes the tenant's customerId (zscaler/zms/*.py: each method's `customer_id`, which
# the SDK leaves to the caller; recorded: zms/cassettes/TestAgents.yaml `"customerId": "72058304855015424"`).
SETTING_VARIABLES = {("zms", "customerId"): ("zms_customer_id", "ZMS_CUSTOMER_ID")}


def graphql_settings(tool: Any, arguments: dict[str, Any], settings: dict[str, str | None]) -> Any:
    """`arguments` with the variables settings fill (`SETTING_VARIABLES`), or an error result naming the
    setting when a required one is neither given nor set; nothing is sent then."""
    from ._call_result import CallResult

    out = dict(arguments or {})
    for field, wire, location, required, _explode in tool.params:
        known = SETTING_VARIABLES.get((tool.service, wire))
        if location != "variable" or known is None or out.get(field) is not None:
            continue
        setting, env = known
        if settings.get(setting):
            out[field] = settings[setting]
        elif required:
            return CallResult({"error": {
                "kind": "missing_setting", "tool": tool.name, "service": tool.service, "setting": env,
                "message": f"{tool.service.upper()} queries need the tenant's {tool.service.upper()} {wire}: "
                           f"set {env}, or pass {wire}."}}, is_error=True)
    return out


def graphql_body(tool: Any, values: dict[str, Any], page: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request body for a GraphQL tool from its validated arguments (by wire name); `page`: the
    pager's page number and size, which a GraphQL query takes as variables (not in the query string)."""
    variables = {wire: values[field] for field, wire, location, _req, _explode in tool.params
                 if location == "variable" and field in values and values[field] is not None}
    variables.update(page or {})
    return {"query": tool.graphql["document"], "variables": variables, "operationName": tool.graphql["name"]}


def graphql_result(tool: Any, answer: Any) -> tuple[Any, dict[str, Any] | None]:
    """(result, error) from a GraphQL answer: the data at the operation's result path, or an
    `upstream_error` naming every message (and keeping the partial data) when `errors` is present."""
    if not isinstance(answer, dict) or not ("data" in answer or "errors" in answer):
        return None, _error(tool, "invalid_upstream_response",
                            f"{tool.service.upper()} answered {tool.graphql['name']} without `data` or `errors`")
    data = answer.get("data")
    errors = answer.get("errors") or []
    if errors:
        messages = [_message(e) for e in errors]
        extra: dict[str, Any] = {"errors": errors}
        if data is not None and _has_value(data):
            extra["partial_data"] = data
        codes = sorted({str((e.get("extensions") or {}).get("code")) for e in errors
                        if isinstance(e, dict) and (e.get("extensions") or {}).get("code")})
        if codes:
            extra["codes"] = codes
        statuses = {s for s in map(_status, errors) if s is not None}
        kind = "upstream_error"
        if len(statuses) == 1:  # every error that says which HTTP status it means says the same one
            kind, extra["status"] = "upstream", statuses.pop()
            if len(codes) == 1:
                extra["code"] = codes[0]
        return None, _error(tool, kind, f"{tool.service.upper()} {tool.graphql['name']} failed: "
                            + "; ".join(messages), **extra)
    for key in tool.graphql.get("result") or ():
        data = data.get(key) if isinstance(data, dict) else None
    return data, None


# GraphQL error codes (Apollo's and the gateway's) that stand for an HTTP status, where no http_status is given
_CODE_STATUS = {"FORBIDDEN": 403, "UNAUTHENTICATED": 401, "UNAUTHORIZED": 401}


def _status(error: Any) -> int | None:
    """The HTTP status a GraphQL error stands for, if it says (zins/cassettes/TestIoT.yaml:
    `extensions: {code: FORBIDDEN, http_status: 403}`)."""
    extensions = (error.get("extensions") if isinstance(error, dict) else None) or {}
    status = extensions.get("http_status")
    if isinstance(status, int) and 400 <= status <= 599:
        return status
    return _CODE_STATUS.get(str(extensions.get("code", "")).upper())


def _message(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    where = ".".join(str(p) for p in error.get("path") or ())
    return f"{error.get('message', 'error')}" + (f" (at {where})" if where else "")


def _has_value(data: Any) -> bool:
    if isinstance(data, dict):
        return any(_has_value(v) for v in data.values())
    return data is not None


def _error(tool: Any, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"kind": kind, "tool": tool.name, "service": tool.service, "message": message, **extra}}
