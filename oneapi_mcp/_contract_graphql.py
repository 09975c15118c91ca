"""`make contract` against a tenant, for the GraphQL services (Z-Insights, ZMS): their queries, never a mutation.

Every operation of a GraphQL service is a POST to one path, so the REST filter (read-scoped GETs) keeps none
of them, and schemathesis would send that one path any body at all. Here each named operation is sent
as its own document instead, and only when it is a query three ways over: the spec's scope is `read`,
`x-oneapi-graphql.operation` is `query`, and the document itself parses (graphql-core) to one query
operation. Its required variables get values that cannot change anything: a time window of the last 24
hours (`startTime`/`endTime`, epoch milliseconds, as the SDK sends them: zins/cassettes/TestCyberSecurity.yaml),
the first value of an enum, the tenant's customerId from ZMS_CUSTOMER_ID (`_graphql.SETTING_VARIABLES`);
an operation that needs an object's id is skipped and says which. The answer must be HTTP 200 JSON with
`data` or `errors`, and every field in it declared by the operation's selection set (what `make fidelity`
holds the recordings to); anything else is drift.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._graphql import SETTING_VARIABLES

__all__ = ["GraphQLContract", "check_graphql_service", "query_operations"]

_WINDOW_MS = 86_400_000


@dataclass
class GraphQLContract:
    """What one service's run found: operations answered as declared, skipped (with why), and drift."""

    checked: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    drift: dict[str, str] = field(default_factory=dict)


def query_operations(doc: dict) -> list[dict]:
    """The operations of a GraphQL spec that are queries by the spec's scope, its GraphQL kind and the document."""
    from graphql import OperationDefinitionNode, OperationType, parse

    out = []
    for item in doc.get("paths", {}).values():
        post = item.get("post") or {}
        for op in (post, *post.get("x-oneapi-variants", ())):
            spec = op.get("x-oneapi-graphql") or {}
            if op.get("x-oneapi-scope") != "read" or spec.get("operation") != "query":
                continue
            definitions = parse(spec["document"]).definitions
            if all(isinstance(d, OperationDefinitionNode) and d.operation == OperationType.QUERY for d in definitions):
                out.append(op)
    return out


def _variables(service: str, op: dict, settings: dict[str, str | None], now_ms: int) -> dict | str:
    """Values for the operation's required variables, or why it cannot be sent without an object's id."""
    schema = op["x-oneapi-graphql"]["variables"]
    out: dict[str, Any] = {}
    for name in schema.get("required") or ():
        prop = schema["properties"][name]
        setting = SETTING_VARIABLES.get((service, name))
        enum = prop.get("enum") or (prop.get("items") or {}).get("enum")
        if setting and not settings.get(setting[0]):
            return f"needs {name}: {setting[1]} is not set"
        if setting:
            out[name] = settings[setting[0]]
        elif name in ("startTime", "endTime") and prop.get("type") == "integer":
            out[name] = now_ms - _WINDOW_MS if name == "startTime" else now_ms
        elif enum:
            out[name] = [enum[0]] if prop.get("type") == "array" else enum[0]
        else:
            return f"needs {name} (an object's id: nothing to send without one)"
    return out


def check_graphql_service(service: str, doc: dict, client: httpx.Client, url: str,
                          settings: dict[str, str | None], now: float | None = None) -> GraphQLContract:
    """Send each query of `doc` once through `client` (which carries the token) and hold its answer to the spec."""
    from ._fidelity import Router

    now_ms = int((time.time() if now is None else now) * 1000)
    router = Router(doc, service)
    out = GraphQLContract()
    for op in query_operations(doc):
        name = op["x-oneapi-graphql"]["name"]
        variables = _variables(service, op, settings, now_ms)
        if isinstance(variables, str):
            out.skipped[name] = variables
            continue
        body = {"query": op["x-oneapi-graphql"]["document"], "variables": variables, "operationName": name}
        response = client.post(url, json=body)
        problem = _problem(response, router, op)
        if problem:
            out.drift[name] = problem
        else:
            out.checked.append(name)
    return out


def _problem(response: httpx.Response, router: Any, op: dict) -> str | None:
    from ._fidelity import _graphql_extra

    if response.status_code != 200:
        return f"HTTP {response.status_code} (a GraphQL answer is 200, errors included)"
    if "json" not in response.headers.get("content-type", ""):
        return f"content type {response.headers.get('content-type')!r}, not JSON"
    try:
        answer = response.json()
    except ValueError:
        return "a body that is not JSON"
    if not isinstance(answer, dict) or not ({"data", "errors"} & set(answer)):
        return "an answer with neither `data` nor `errors`"
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    extra = _graphql_extra(router, schema, answer)
    return f"undeclared answer field(s) {', '.join(sorted(extra))}" if extra else None
