"""The mock's GraphQL endpoints (`POST /zins/graphql`, `POST /zms/graphql`).

No GraphQL schema (SDL) is published for either service, so a request is checked against what the
spec knows: the operation name (the document's own, matching `operationName`), the document (only
the ones the SDK sends, compared without whitespace), and the variables against the operation's
variables schema. A bad request is answered like the real services do: HTTP 200 with `errors`
(`extensions.classification`) and `data: null`; variables the document does not declare are ignored
(the SDK sends `filterBy: null` beside `$filter_by`: reference/recorded/zins/cassettes/TestFirewall.yaml).

Answers are built from the selection set (the spec's answer schema), from seeded data: Z-Insights
cyber-security incidents are a seeded table of events (threat category, user, app, country, day) that
each query aggregates by its `categorizeBy` dimensions, nested in order, within its time window, so
two queries over the same window agree; other leaves are seeded per field name.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import jsonschema

from ._errors import json_response
from ._seed import DOMAIN, NOW

__all__ = ["THREAT_CATEGORIES", "graphql_answer", "incident_events"]

THREAT_CATEGORIES = ("Phishing", "Malware", "Ransomware", "Botnet Callback", "Cryptomining", "Command & Control",
                     "Spyware", "Malicious Content")
_APPS = ("Microsoft 365", "Dropbox", "Google Drive", "WeTransfer", "Slack", "Box", "GitHub", "Zoom")
_COUNTRIES = ("United States", "Germany", "India", "Brazil", "Russia", "China", "Nigeria")
_DAY_MS = 86_400_000
_DIMENSIONS = {"THREAT_CATEGORY_ID": "category", "USER_ID": "user", "APP_ID": "app", "SRC_COUNTRY": "country",
               "TIME": "day", "LOCATION_ID": "location"}
_LOCATIONS = ("HQ San Jose", "Branch London", "Branch Pune", "Remote")


def _errors(message: str, classification: str = "ValidationError") -> Any:
    return json_response(200, {"errors": [{"message": message, "locations": [],
                                           "extensions": {"classification": classification}}], "data": None})


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def graphql_answer(operations: dict[str, dict], body: dict, people: list, seed: int) -> Any:
    """Answer one GraphQL request; `operations` maps each operation name to its spec operation."""
    query = body.get("query") or ""
    declared = re.match(r"\s*(query|mutation)\s+(\w+)", query)
    if not declared:
        return _errors("Invalid Syntax: the document must be one named query or mutation", "InvalidSyntax")
    name = body.get("operationName") or declared.group(2)
    if name != declared.group(2):
        return _errors(f"Unknown operation named '{name}'.")
    op = operations.get(name)
    if op is None:
        return _errors(f"Validation error: this service has no operation {name!r} "
                       f"(known: {', '.join(sorted(operations))})")
    spec = op["x-oneapi-graphql"]
    if _squash(query) != _squash(spec["document"]):
        return _errors(f"Validation error: {name}'s document differs from the one this service serves")
    problem = _variables_problem(spec["variables"], body.get("variables") or {})
    if problem:
        return _errors(problem)
    variables = {k: v for k, v in (body.get("variables") or {}).items() if v is not None}
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["data"]
    rng = random.Random(f"{seed}:{name}:{json.dumps(variables, sort_keys=True)}")
    data = _fill(schema, rng, variables, people, seed, path=())
    return json_response(200, {"data": data})


def _variables_problem(schema: dict, variables: Any) -> str | None:
    if not isinstance(variables, dict):
        return "Variables must be an object"
    declared = schema.get("properties") or {}
    given = {k: v for k, v in variables.items() if k in declared}
    for name in schema.get("required") or ():
        if given.get(name) is None:
            return f"Variable '{name}' has coerced Null value for NonNull type"
    nullable = {k: v for k, v in given.items() if v is not None}
    try:
        jsonschema.validate(nullable, {**schema, "required": [], "additionalProperties": False})
    except jsonschema.ValidationError as exc:
        where = ".".join(str(p) for p in exc.absolute_path) or "variables"
        return f"Variable '{where}' has an invalid value: {exc.message}"
    return None


def incident_events(people: list, seed: int, start_ms: int, end_ms: int) -> list[dict]:
    """The seeded cyber-security events within [start_ms, end_ms]: a few a day, most about a few people."""
    events = []
    first_day = max(start_ms // _DAY_MS, end_ms // _DAY_MS - 90)
    active = [p for p in people if not p.disabled][:12]
    for day in range(first_day, end_ms // _DAY_MS + 1):
        rng = random.Random(f"{seed}:zins-day:{day}")
        for _ in range(rng.randint(2, 9)):
            at = day * _DAY_MS + rng.randrange(_DAY_MS)
            if not start_ms <= at <= end_ms:
                continue
            person = active[min(int(rng.expovariate(0.5)), len(active) - 1)]
            events.append({"category": rng.choice(THREAT_CATEGORIES[: 3 + day % 5]), "user": person.email,
                           "app": rng.choice(_APPS), "country": rng.choice(_COUNTRIES), "day": day * _DAY_MS,
                           "location": rng.choice(_LOCATIONS)})
    return events


def _aggregate(events: list[dict], dims: list[str], limit: int | None) -> list[dict]:
    if not dims:
        return []
    groups: dict[Any, list[dict]] = {}
    for e in events:
        groups.setdefault(e[dims[0]], []).append(e)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0],) if dims[0] == "day" else (-len(kv[1]), str(kv[0])))
    out = [{"name": str(key), "total": len(items), "entries": _aggregate(items, dims[1:], limit)}
           for key, items in ordered]
    return out[:limit] if limit else out


def _window(variables: dict) -> tuple[int, int]:
    end = int(variables.get("endTime") or NOW * 1000)
    return int(variables.get("startTime") or end - 7 * _DAY_MS), end


def _fill(schema: dict, rng: random.Random, variables: dict, people: list, seed: int, path: tuple) -> Any:
    kind = schema.get("type")
    if kind == "array":
        count = min(int(variables.get("limit") or variables.get("pageSize") or 5), 5)
        return [_fill(schema["items"], rng, variables, people, seed, path) for _ in range(rng.randint(1, count))]
    if kind != "object":
        return _leaf(path[-1] if path else "", rng, variables, people)
    props = schema.get("properties") or {}
    if path[-1:] in (("incidents",), ("cyber_security_location",)) and "entries" in props:
        return _incidents(props, variables, people, seed, path[-1] == "cyber_security_location")
    if "nodes" in props and "pageInfo" in props:
        return _connection(props, rng, variables, people, seed, path)
    return {key: _fill(sub, rng, variables, people, seed, (*path, key)) for key, sub in props.items()}


def _connection(props: dict, rng: random.Random, variables: dict, people: list, seed: int, path: tuple) -> dict:
    """One page of a ZMS connection: a seeded number of objects per list, `pageInfo` saying where this page
    is among them (recorded zms/cassettes/TestTags.yaml: `{pageNumber: 1, pageSize: 20, totalCount: 2,
    totalPages: 1}`), so page after page reads each object once."""
    total = random.Random(f"{seed}:connection:{'.'.join(path)}").randint(3, 60)
    size = max(1, int(variables.get("pageSize") or 20))  # the SDK's default page_size
    page = max(1, int(variables.get("page") or variables.get("pageNum") or 1))
    count = max(0, min(size, total - (page - 1) * size))
    info = {"pageNumber": page, "pageSize": size, "totalCount": total, "totalPages": -(-total // size)}
    out: dict[str, Any] = {}
    for key, sub in props.items():
        if key == "nodes":
            out[key] = [_fill(sub["items"], rng, variables, people, seed, (*path, key)) for _ in range(count)]
        elif key == "pageInfo":
            out[key] = {k: info.get(k) for k in sub.get("properties") or {}}
        else:
            out[key] = _fill(sub, rng, variables, people, seed, (*path, key))
    return out


def _incidents(props: dict, variables: dict, people: list, seed: int, by_location: bool) -> dict:
    """CYBER_SECURITY incidents: the seeded events grouped by the query's dimensions, as selected."""
    raw = variables.get("categorizeBy") or ["THREAT_CATEGORY_ID"]
    dims = [_DIMENSIONS.get(d, "category") for d in ([raw] if isinstance(raw, str) else raw)]
    if by_location:
        dims = ["location"]
    entries = _aggregate(incident_events(people, seed, *_window(variables)), dims, variables.get("limit"))

    def select(items: list[dict], schema: dict) -> list[dict]:
        fields = (schema.get("items") or {}).get("properties") or {}
        return [{k: (select(e["entries"], fields[k]) if k == "entries" else
                     e.get(k, f"{e['name']}".lower().replace(" ", "-") if k == "id" else None)) for k in fields}
                for e in items]

    out: dict[str, Any] = {"obfuscated": False} if "obfuscated" in props else {}
    out["entries"] = select(entries, props["entries"])
    return out


def _leaf(name: str, rng: random.Random, variables: dict, people: list) -> Any:
    lower = name.lower()
    if lower == "obfuscated":
        return False
    if lower in ("total", "count") or lower.endswith(("count", "bytes", "_apps", "port")):
        return rng.randint(0, 5000)
    if "percentage" in lower:
        return round(rng.uniform(0, 100), 1)
    if lower in ("pagenumber",):
        return int(variables.get("page") or variables.get("pageNum") or 1)
    if lower == "pagesize":
        return int(variables.get("pageSize") or 20)
    if lower == "totalpages":
        return 1
    if lower == "trend_start_time":
        return _window(variables)[0]
    if lower in ("trend_interval", "trendinterval"):
        return variables.get("trendInterval") or "DAY"
    if lower == "trend_values":
        return [rng.randint(0, 500) for _ in range(7)]
    if lower == "processes" or lower.endswith(("ids", "names", "labels")):
        return []  # lists of scalars (recorded: `"processes":[]`, zms/cassettes/TestAppCatalog.yaml)
    if "protocol" in lower:
        return rng.choice(("TCP", "UDP"))
    if lower.endswith("time"):
        return "2025-12-04T19:06:19.587Z"  # as ZMS answers (reference/recorded/zms/cassettes/TestAppCatalog.yaml)
    if lower.endswith("id"):
        return f"72057594037927936-{rng.randrange(10**20):032d}"
    if lower in ("user", "email", "username"):
        return rng.choice(people).email if people else f"user@{DOMAIN}"
    if lower == "name":
        return rng.choice(_APPS)
    if lower.startswith(("is", "has")) or lower.endswith(("enabled", "deleted")):
        return rng.random() < 0.5
    return rng.choice(("ACTIVE", "TCP", "UDP", "CLOUD", "ENABLED", "NONE"))
