"""Z-Insights and ZMS (GraphQL services) as OpenAPI operations, converted from Zscaler's SDK source.

Zscaler ships no machine-readable model for these two services; its stable SDK (`zscaler-sdk-python`,
MIT) sends each named query as `POST /<svc>/graphql` with `{"query", "variables", "operationName"}`
(recorded: reference/recorded/zins/cassettes/TestCyberSecurity.yaml, zms/cassettes/TestAgents.yaml).
`make specs` (alone: `make graphql-specs [SDK=<unpacked sdk>/zscaler]`) reads every query document out of
the SDK's source
(`ast`: the string literals that start with `query`/`mutation`), parses it with graphql-core, and
writes `specs/<svc>.yaml`: one operation per document on the shared path, the first as the path's
operation and the rest as its `x-oneapi-variants`, each carrying `x-oneapi-graphql` (operation kind,
name, document, variables as JSON Schema, the result path) and the usual x-oneapi-* extensions.
Variables' GraphQL types map to JSON Schema; enums take their values from the SDK's models/enums.py;
input objects stay objects (the SDK's own models leave them open). The answer schema is the selection
set: every field the document selects is declared, nothing else.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ._naming import tool_name

__all__ = ["GRAPHQL_SERVICES", "GraphQLDocument", "build_spec", "extract_documents", "main", "variables_schema"]

# service: (title, path, rate limit, evidence of the limit)
GRAPHQL_SERVICES: dict[str, tuple[str, str, str, str]] = {
    "zins": ("Z-Insights (analytics) through Zscaler OneAPI", "/zins/graphql", "1000/second",
             "x-ratelimit-limit: 1000, 1000;w=1 (reference/recorded/zins/cassettes/TestCyberSecurity.yaml)"),
    "zms": ("Zscaler Microsegmentation (ZMS) through Zscaler OneAPI", "/zms/graphql", "1000/second",
            "x-ratelimit-limit: 1000, 1000;w=1 (reference/recorded/zms/cassettes/TestAgents.yaml)"),
}
# one toolset per service: 14 and 20 operations, within the 10-40 a toolset holds (tests/test_generated_tools.py)
_TOOLSETS = {"zins": "zins.insights", "zms": "zms.microsegmentation"}
_SCALARS = {"Int": {"type": "integer", "format": "int32"}, "Long": {"type": "integer", "format": "int64"},
            "Float": {"type": "number"}, "Boolean": {"type": "boolean"}, "String": {"type": "string"},
            "ID": {"type": "string"}}
_ACRONYMS = (("IoT", "Iot"), ("ShadowIT", "ShadowIt"), ("TOTP", "Totp"))


@dataclass(frozen=True)
class GraphQLDocument:
    module: str  # the SDK module (file stem) the document is in: the toolset family
    kind: str  # query | mutation
    name: str
    document: str
    summary: str  # the first line of the SDK method's docstring
    source: str  # sdk-relative file


def _docstring_summary(fn: ast.AST | None) -> str:
    doc = ast.get_docstring(fn) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    return " ".join((doc or "").split("\n\n", 1)[0].split())


def extract_documents(package: Path, service: str) -> list[GraphQLDocument]:
    """Every named GraphQL document in `<package>/<service>/*.py`, sorted by name."""
    from graphql import parse

    found: dict[str, GraphQLDocument] = {}
    for file in sorted((package / service).glob("*.py")):
        tree = ast.parse(file.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if not (isinstance(node, ast.Constant) and isinstance(node.value, str)
                        and re.match(r"\s*(query|mutation)\s+\w", node.value)):
                    continue
                definition = parse(node.value).definitions[0]
                name = definition.name.value
                text = "\n".join(line[12:] if line.startswith(" " * 12) else line.strip()
                                 for line in node.value.strip("\n").splitlines()).strip()
                found[name] = GraphQLDocument(file.stem, definition.operation.value, name, text,
                                              _docstring_summary(fn), f"zscaler/{service}/{file.name}")
    return [found[k] for k in sorted(found)]


def read_enums(package: Path, service: str) -> dict[str, list[str]]:
    """GraphQL enum name -> values, from the SDK's `<service>/models/enums.py` (str Enum classes)."""
    path = package / service / "models" / "enums.py"
    out: dict[str, list[str]] = {}
    if not path.exists():
        return out
    for cls in ast.parse(path.read_text()).body:
        if isinstance(cls, ast.ClassDef):
            values = [s.value.value for s in cls.body if isinstance(s, ast.Assign)
                      and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)]
            if values:
                out[cls.name] = values
    return out


def _type_schema(node, enums: dict[str, list[str]]) -> tuple[dict, bool]:
    """(JSON schema, non-null?) of a GraphQL type node."""
    from graphql.language import ListTypeNode, NonNullTypeNode

    if isinstance(node, NonNullTypeNode):
        return _type_schema(node.type, enums)[0], True
    if isinstance(node, ListTypeNode):
        return {"type": "array", "items": _type_schema(node.type, enums)[0]}, False
    name = node.name.value
    if name in _SCALARS:
        return dict(_SCALARS[name]), False
    if name in enums:
        return {"type": "string", "enum": list(enums[name]), "description": f"GraphQL enum {name}."}, False
    return {"type": "object", "description": f"GraphQL input {name}."}, False


def variables_schema(definition, enums: dict[str, list[str]]) -> dict:
    """The operation's variables as one JSON Schema object (non-null variables are required)."""
    props: dict[str, dict] = {}
    required: list[str] = []
    for var in definition.variable_definitions:
        schema, non_null = _type_schema(var.type, enums)
        name = var.variable.name.value
        if "Time" in name and schema.get("format") == "int64":
            schema["description"] = "Epoch milliseconds."
        props[name] = schema
        if non_null:
            required.append(name)
    out: dict = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    return out


def _selection_schema(selection_set) -> dict:
    """The answer shape a selection set asks for; a leaf may be any JSON value (lists included)."""
    props = {}
    for field in selection_set.selections:
        if not hasattr(field, "alias"):  # an inline fragment (`... on AwsTag {...}`): its fields may come
            props.update(_selection_schema(field.selection_set)["properties"])
            continue
        key = field.alias.value if field.alias else field.name.value
        props[key] = (_selection_schema(field.selection_set) if field.selection_set else {})
    return {"type": "object", "nullable": True, "additionalProperties": False, "properties": props}


_CONNECTION_FIELDS = {"entries", "nodes", "pageInfo", "obfuscated"}


def _list_of_objects(schema: dict, result: tuple[str, ...] = ()) -> dict:
    """A plural object field (`entries`, `nodes`, `portRanges`, `agentStatuses`) answers a list of those
    objects, unless it is on the result path or itself a connection (`incidents { obfuscated entries }`,
    `device_stats { entries }`), as the recordings show (zms/cassettes/TestAppCatalog.yaml: nodes, details
    and portRanges are arrays)."""
    props = {}
    for key, sub in schema.get("properties", {}).items():
        if sub.get("type") == "object":
            on_path = result[:1] == (key,)
            sub = _list_of_objects(sub, result[1:] if on_path else ())
            if key in ("entries", "nodes") or (
                    key.endswith("s") and not on_path and not _CONNECTION_FIELDS & set(sub["properties"])):
                sub = {"type": "array", "nullable": True, "items": sub}
        props[key] = sub
    return {**schema, "properties": props}


def result_path(definition) -> list[str]:
    """Where the operation's answer is, under `data`: down single fields to the first with arguments."""
    path, selection = [], definition.selection_set
    while selection is not None and len(selection.selections) == 1:
        field = selection.selections[0]
        path.append(field.alias.value if field.alias else field.name.value)
        if field.arguments:
            break
        selection = field.selection_set
    return path


def _pagination(variables: dict, data: dict, result: list[str]) -> dict | None:
    """Page-numbered like ZPA when the query takes a page number and size and answers a connection
    `{nodes, pageInfo {totalPages}}` (zscaler/zms/agents.py list_agents `page`/`page_size`, app_zones.py
    `pageNum`; recorded zms/cassettes/TestAgents.yaml: `pageInfo: {pageNumber, pageSize, totalCount,
    totalPages}`); the pager sends the page as a variable."""
    names = set(variables.get("properties") or {})
    page = next((n for n in ("page", "pageNum") if n in names), None)
    for key in result:
        data = (data.get("properties") or {}).get(key) or {}
    props = data.get("properties") or {}
    if page is None or "pageSize" not in names or "nodes" not in props:
        return None
    if "totalPages" not in ((props.get("pageInfo") or {}).get("properties") or {}):
        return None
    return {"style": "page", "page_param": page, "size_param": "pageSize", "result_key": "nodes",
            "total_pages_key": "pageInfo.totalPages", "stop": "total_pages"}


def _tool_name(service: str, name: str) -> str:
    for acronym, word in _ACRONYMS:
        name = name.replace(acronym, word)
    return tool_name(service, name)


def _operation(service: str, doc: GraphQLDocument, enums: dict[str, list[str]]) -> dict:
    from graphql import parse

    definition = parse(doc.document).definitions[0]
    scope = "read" if doc.kind == "query" else "destructive" if doc.name.startswith("Delete") else "write"
    data = _list_of_objects(_selection_schema(definition.selection_set), tuple(result_path(definition)))
    summary = doc.summary or f"{doc.name} ({doc.kind})"
    variables = variables_schema(definition, enums)
    pagination = _pagination(variables, data, result_path(definition))
    return {
        "operationId": doc.name,
        "summary": summary.rstrip("."),
        "description": f"{summary} GraphQL {doc.kind} `{doc.name}`, sent as POST {GRAPHQL_SERVICES[service][1]}.",
        "x-oneapi-name": _tool_name(service, doc.name),
        "x-oneapi-scope": scope,
        "x-oneapi-toolset": _TOOLSETS[service],
        "x-oneapi-rate-class": f"{service}.default",
        "x-oneapi-resource": {"type": result_path(definition)[-1], "action": doc.kind},
        "x-oneapi-source": doc.source,
        **({"x-oneapi-pagination": pagination} if pagination else {}),
        "x-oneapi-graphql": {"operation": doc.kind, "name": doc.name, "document": doc.document,
                             "variables": variables, "result": result_path(definition)},
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/GraphQLRequest"}}}},
        "responses": {"200": {"description": "The GraphQL answer: `data` as selected, `errors` when any field "
                                             "failed (then `data` holds what did not).",
                              "content": {"application/json": {"schema": {
                                  "type": "object", "additionalProperties": False,
                                  "properties": {"data": data,
                                                 "errors": {"$ref": "#/components/schemas/GraphQLErrors"}}}}}},
                      # the gateway's own answers (401, 403, 429) and a body that is not a GraphQL request
                      "default": {"description": "Error (from the OneAPI gateway, or a request that is not GraphQL).",
                                  "content": {"application/json": {"schema": {
                                      "$ref": "#/components/schemas/GatewayError"}}}}},
    }


_COMPONENTS = {
    "GraphQLRequest": {"type": "object", "required": ["query"], "additionalProperties": False, "properties": {
        "query": {"type": "string"}, "variables": {"type": "object", "nullable": True},
        "operationName": {"type": "string", "nullable": True}}},
    "GraphQLErrors": {"type": "array", "items": {"type": "object", "properties": {
        "message": {"type": "string"}, "locations": {"type": "array", "items": {"type": "object"}},
        "path": {"type": "array", "items": {}}, "extensions": {"type": "object"}}}},
    "GatewayError": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "detail": {"type": "string"}}},
}
_BEARER = {"type": "http", "scheme": "bearer", "description": "Bearer token from ZIdentity: POST "
           "https://<vanity>.zslogin.net/oauth2/v1/token (client credentials, audience https://api.zscaler.com)."}


# The entitlement probe (services table): a query whose success or refusal speaks for the whole service.
# Z-Insights: CyberSecurityIncidents answers on a tenant with Z-Insights (recorded:
# zins/cassettes/TestCyberSecurity.yaml), over a window computed when the probe runs (the last 24 hours);
# not IoTDeviceStats, which answers FORBIDDEN on that same tenant (zins/cassettes/TestIoT.yaml).
# ZMS: ListAgents (zms/cassettes/TestAgents.yaml); its customerId is the ZMS_CUSTOMER_ID setting, which
# the executor fills into every ZMS query (oneapi_mcp/_graphql.py `SETTING_VARIABLES`).
_PROBES: dict[str, dict] = {
    "zins": {"operationId": "CyberSecurityIncidents", "arguments": {"categorizeBy": ["THREAT_CATEGORY_ID"], "limit": 1},
             "relative-time": {"startTime": {"seconds": -86_400, "as": "epoch_ms"},
                               "endTime": {"seconds": 0, "as": "epoch_ms"}}},
    "zms": {"operationId": "ListAgents", "arguments": {"page": 1, "pageSize": 1}},
}


def build_spec(service: str, docs: list[GraphQLDocument], enums: dict[str, list[str]], sdk: str) -> dict:
    title, path, limit, evidence = GRAPHQL_SERVICES[service]
    ops = [_operation(service, d, enums) for d in docs]
    families = sorted({d.module for d in docs})
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": sdk,
                 "description": f"Converted by `make graphql-specs` from {sdk} (MIT): every GraphQL document "
                                f"the SDK sends to {path}; see specs/SOURCES.md."},
        "x-oneapi-service": service,
        "x-oneapi-short-name": service.upper(),  # as the SDK names the package
        "x-oneapi-kind": "graphql",
        "x-oneapi-base-paths": [path],
        **({"x-oneapi-probe": _PROBES[service]} if service in _PROBES else {}),
        "x-oneapi-rate-classes": {f"{service}.default": {"limits": [limit], "applies_to": evidence}},
        "x-oneapi-rate-limit-headers": "x-ratelimit-limit / x-ratelimit-remaining / x-ratelimit-reset (the OneAPI "
                                       f"gateway's, recorded in tests/recorded/{service}.jsonl), Retry-After",
        "x-oneapi-toolsets": {_TOOLSETS[service]: f"{title.split(' through')[0]} (GraphQL queries): "
                              f"{', '.join(f.replace('_', ' ') for f in families)}."},
        "servers": [{"url": "https://api.zsapi.net"}],
        "security": [{"oneapi": []}],
        "paths": {path: {"post": {**ops[0], "x-oneapi-variants": ops[1:]}}},
        "components": {"schemas": _COMPONENTS, "securitySchemes": {"oneapi": _BEARER}},
    }


_NAMES = {"zins": "Z-Insights", "zms": "ZMS"}
SECTION = "## Z-Insights (`zins.yaml`) and Microsegmentation (`zms.yaml`): GraphQL, from the SDK's source"


def _section(release: str, written: dict[str, tuple[list[GraphQLDocument], str]]) -> str:
    """specs/SOURCES.md's section on these specs (rewritten by every run, so `make specs` keeps it)."""
    counts = {svc: len(docs) for svc, (docs, _) in written.items()}
    lines = [
        SECTION, "",
        "Zscaler ships no model for these two GraphQL services. `make graphql-specs` (`codegen/_graphql.py`)",
        f"reads every named query document out of the stable SDK's source, `{release.replace(' ', '==')}`",
        f"(sdist, MIT, copyright Zscaler; licence beside this file): `zscaler/zins/*.py` ({counts['zins']} queries) "
        "and", f"`zscaler/zms/*.py` ({counts['zms']} queries), with enum values from "
        "`zscaler/<svc>/models/enums.py`. Each document",
        "is one operation on `POST /zins/graphql` or `POST /zms/graphql` (the path's first operation, the rest",
        "its `x-oneapi-variants`), carrying `x-oneapi-graphql: {operation, name, document, variables, result}`;",
        "each operation's `x-oneapi-source` names the SDK file it came from. The answer schema is the",
        "document's selection set. The SDK has no mutation for either service, so every tool is a read.", "",
        "Checked against the recorded traffic (`tests/recorded/zins.jsonl`, `zms.jsonl`, trimmed from the SDK's",
        "integration cassettes, SDK 1.9.10): every recorded document is the SDK 1.11.3 document of the same",
        "name, byte for byte once whitespace is ignored, and every recorded answer field is declared",
        "(`make fidelity`). The rate class (1000/second) is the `x-ratelimit-limit` the gateway answered with.", "",
        "| service | spec | operations | source files | sha256 of the spec |", "|---|---|---|---|---|",
    ]
    for svc, (docs, text) in written.items():
        families = ", ".join(sorted({d.module for d in docs}))
        lines.append(f"| {_NAMES[svc]} | `{svc}.yaml` | "
                     f"{len(docs)} | {families} | `{hashlib.sha256(text.encode()).hexdigest()}` |")
    return "\n".join(lines) + "\n"


def _write_section(sources: Path, section: str) -> None:
    """Replace this module's section of SOURCES.md, or put it before the SDK-source section (or at the end)."""
    from ._source_specs import SECTION as SOURCE_SECTION

    text = sources.read_text() if sources.exists() else "# Where the specs come from\n"
    if SECTION in text:
        before, rest = text.split(SECTION, 1)
        after = rest[rest.index("\n## "):].lstrip("\n") if "\n## " in rest else ""
    elif SOURCE_SECTION in text:
        before, after = text.split(SOURCE_SECTION, 1)
        after = SOURCE_SECTION + after
    else:
        before, after = text, ""
    sources.write_text(before.rstrip("\n") + "\n\n" + section + ("\n" + after if after else ""))


def write_graphql_specs(sdk: Path, specs_dir: Path, release: str = "zscaler-sdk-python 1.11.3",
                        log=print) -> dict[str, int]:
    """specs/zins.yaml and specs/zms.yaml from the unpacked SDK's `zscaler/` directory, and their section of
    specs/SOURCES.md; operations per service."""
    written: dict[str, tuple[list[GraphQLDocument], str]] = {}
    for service in GRAPHQL_SERVICES:
        docs = extract_documents(sdk, service)
        if not docs:
            raise ValueError(f"no GraphQL documents under {sdk / service}")
        spec = build_spec(service, docs, read_enums(sdk, service), release)
        text = yaml.safe_dump(spec, sort_keys=False, width=120, allow_unicode=True)
        target = specs_dir / f"{service}.yaml"
        target.write_text(text)
        log(f"graphql-specs: {service}: {len(docs)} operations -> {target} "
            f"sha256 {hashlib.sha256(text.encode()).hexdigest()}")
        written[service] = (docs, text)
    _write_section(specs_dir / "SOURCES.md", _section(release, written))
    return {svc: len(docs) for svc, (docs, _) in written.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make graphql-specs", description=__doc__)
    parser.add_argument("--sdk", type=Path,
                        help="the unpacked SDK's `zscaler` package directory (default: the pinned sdist, fetched "
                             "like `make specs` does)")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache"))
    parser.add_argument("--specs-dir", type=Path, default=Path("specs"))
    args = parser.parse_args(argv)
    from ._source_specs import RELEASE, fetch_sdk_source

    try:
        write_graphql_specs(args.sdk or fetch_sdk_source(args.cache_dir), args.specs_dir, RELEASE.replace("==", " "))
    except ValueError as exc:
        parser.error(str(exc))
    return 0
