"""OpenAPI documents for the services Zscaler implements only by hand in its SDK source.

`codegen/_sdk_source.py` reads the SDK (`zscaler-sdk-python` 1.x sdist, MIT); this module turns its
operations and model classes into one OpenAPI 3.0 document per service with the same `x-oneapi-*`
decisions as the model-derived specs (scope, toolset, rate class, pagination, resource), and then
holds the document to the recorded real traffic (`tests/recorded/<svc>.jsonl`): a query parameter,
body field or answer field that a recording shows and the SDK source does not declare is added
(`x-oneapi-evidence` names the recording), and a recorded answer envelope wins over the SDK's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ._convert import _describe, scope_for
from ._sdk_source import SourceModel, SourceOperation, read_service_source

__all__ = ["SOURCE_SERVICES", "SourceService", "convert_source_service", "operation_id"]


@dataclass(frozen=True)
class SourceService:
    name: str  # our service name (tool prefix, spec file)
    package: str  # zscaler/<package>/ in the SDK
    short: str
    full: str
    base_paths: tuple[str, ...]
    list_envelope: str | None  # the key a list answer's items sit under (None: a flat array)
    probe: str  # the operationId of one cheap read that proves the tenant is entitled
    # toolset family -> (description, the SDK source files whose operations it holds; () = all the rest)
    toolsets: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    rate_headers: str = "Retry-After (the SDK's generic order: Retry-After, x-ratelimit-reset, RateLimit-Reset)"
    recorded: str | None = None  # the recordings' directory name, when it differs
    probe_arguments: tuple[tuple[str, object], ...] = ()

    def toolset(self, file: str) -> str:
        stem = Path(file).stem
        family = next((f for f, _, files in self.toolsets if stem in files), None)
        return f"{self.name}.{family or next(f for f, _, files in self.toolsets if not files)}"


# List envelopes: zscaler/oneapi_response.py `_parse_list` per service type (zscaler-sdk-python 1.11.3).
# Toolsets: 10-40 tools each, as an administrator navigates the product (a service smaller than 10 is one).
SOURCE_SERVICES: dict[str, SourceService] = {s.name: s for s in (
    SourceService("aiguard", "aiguard", "AI Guard", "Zscaler AI Guard", ("/aiguard/v1",), "items",
                  "ListProviders", toolsets=(
                      ("llm_apps", "AI Guard LLM applications and providers, and the credentials that connect them",
                       ()),
                      ("policies", "AI Guard detection policies and their match rules",
                       ("policies", "policy_match_rules")))),
    SourceService("easm", "zeasm", "EASM", "Zscaler External Attack Surface Management", ("/easm/easm-ui/v1",),
                  "results", "ListOrganizations", recorded="zeasm", toolsets=(
                      ("attack_surface", "EASM organizations, their findings (details, evidence, scan output) and "
                                         "look-alike domains", ()),)),
    SourceService("zbi", "zbi", "ZBI", "Zscaler Business Insights", ("/bi/api/v1",), None, "ListCustomApps",
                  rate_headers="Retry-After; a 429 body is {errorCode: RATE_LIMIT_EXCEEDED, errorDetails, timestamp}",
                  toolsets=(("insights", "Business Insights custom applications, report configurations and reports",
                             ()),)),
    SourceService("zcell", "zcell", "ZCell", "Zscaler Cellular", ("/zcell/config/api/v1",), "content",
                  "ListAuditMetadata", toolsets=(
                      ("sims", "ZCell SIMs: details, search, lock, state, tags, location groups and usage analytics",
                       ("sim_handling", "sim_location_groups", "sim_analytics", "tag_handling")),
                      ("admin", "ZCell anomaly policies and violations, network events, regions, customer data and "
                                "audit", ()))),
    SourceService("ztb", "ztb", "ZTB", "Zscaler Zero Trust Branch", ("/ztb/api/v2", "/ztb/api/v3", "/ztb/api"),
                  "rows", "ListSiteNames", toolsets=(
                      ("sites", "ZTB sites, site templates, site-to-site VPN hubs, app connector configuration and "
                                "ransomware kill switch", ("site", "site2site_vpn", "template_router",
                                                           "app_connector_config", "ransomware_kill")),
                      ("devices", "ZTB devices, alarms, groups, visibility logs, policy comments and API keys", ()))),
    SourceService("zwa", "zwa", "ZWA", "Zscaler Workflow Automation", ("/zwa/dlp/v1",), None, "DlpIncidentSearch",
                  # the body the SDK sends by default (dlp_incident_search), one incident
                  probe_arguments=(("body", {"fields": [], "timeRange": {}}), ("page_size", 1)),
                  toolsets=(("dlp_incidents", "ZWA DLP incidents: search, details, evidence, triggers, notes, "
                                              "labels, tickets, close; and the audit log", ()),)),
)}

# Documented limits (reference section 3: BI); the others document none.
_RATE_CLASSES = {
    "zbi.crud": {"limits": ["1/second", "400/hour"], "applies_to": "ZBI custom apps and report configurations"},
    "zbi.reports": {"limits": ["2/second", "1000/hour"], "applies_to": "ZBI reports"},
}
# POSTs that search, download or test and change nothing (the SDK names them create_/update_ at times)
_READ_POST = re.compile(r"/(search|download|audit)(/|$)")
_PAGE_PARAMS = {"page", "limit", "size"}


def operation_id(op: SourceOperation, qualify: bool = False) -> str:
    """`list_applications` -> ListApplications; qualified by the resource file when two files share a
    method name (AI Guard's application and provider credentials: AddApplicationCredential)."""
    words = op.function.split("_")
    if qualify:
        said = {w.rstrip("s") for w in words}
        extra = [w for w in Path(op.file).stem.split("_") if w.rstrip("s") not in said and w != "llm"]
        words = words[:1] + extra + words[1:]
    return "".join(w[:1].upper() + w[1:] for w in words)


def _scope(op: SourceOperation, op_id: str) -> str:
    if op.method == "POST" and _READ_POST.search(op.path):
        return "read"
    return scope_for(op_id, op.method)


def _rate_class(svc: SourceService, op: SourceOperation) -> str:
    if svc.name == "zbi":
        return "zbi.reports" if "/report" in op.path and "report-config" not in op.path else "zbi.crud"
    return f"{svc.name}.default"


def _name_type(name: str) -> dict:
    """A field the SDK model reads without a type (its models take whatever `config[...]` holds): boolean
    or integer where the name says so, else a string. A recorded value of another type wins (_fit)."""
    if re.search(r"(^(is|has)[A-Z_])|[Ee]nabled$|^(public|active|deleted)$", name):
        return {"type": "boolean"}
    if re.search(r"(Millis|_millis|[Cc]ount|_ms|[Ss]ize|[Pp]ort|^total\w*)$", name):
        return {"type": "integer", "format": "int64"}
    return {"type": "string"}


def _model_schema(model: SourceModel) -> dict:
    props: dict[str, dict] = {}
    for f in model.fields:
        if f.ref:
            item = {"$ref": f"#/components/schemas/{f.ref}"}
            props[f.name] = {"type": "array", "items": item} if f.array else item
        elif f.array:
            props[f.name] = {"type": "array", "items": {"type": f.item_type} if f.item_type else {}}
        else:
            props[f.name] = _name_type(f.name)
    return {"type": "object", "description": f"{model.name} (zscaler/{model.file}).", "properties": props}


def _envelope(svc: SourceService, item: dict) -> dict:
    if svc.list_envelope is None:
        return {"type": "array", "items": item}
    if svc.name == "ztb":  # {"result": {"count": N, "rows": [...]}} (oneapi_response.py, ztb branch)
        inner = {"type": "object",
                 "properties": {"count": {"type": "integer"}, "rows": {"type": "array", "items": item}}}
        return {"type": "object", "properties": {"result": inner}}
    extra = {"easm": {"total_results": {"type": "integer"}, "next_page": {}, "prev_page": {}},
             "zcell": {"totalElements": {"type": "integer"}, "totalPages": {"type": "integer"},
                       "size": {"type": "integer"}}}.get(svc.name, {})
    return {"type": "object", "properties": {svc.list_envelope: {"type": "array", "items": item}, **extra}}


def _pagination(svc: SourceService, op: SourceOperation, models: dict[str, SourceModel]) -> dict | None:
    """How a list answer pages (zscaler/oneapi_response.py per service type): ZCell `page`/`size` with
    {content, totalPages}; AI Guard {items} and EASM {results, total_results} in one answer ("single";
    EASM's models read the envelope themselves: Findings, LookALikeDomains, Organizations). ZTB's and the
    EASM lists that link a next page are declared once the recordings have widened the answers
    (`_recorded_paging`)."""
    envelope = models.get(op.model) if op.model else None
    if (svc.name == "easm" and op.method == "GET" and envelope is not None
            and any(f.name == "results" and f.array for f in envelope.fields)):
        return {"style": "single", "result_key": "results", "stop": "none"}
    if not op.answer_list or op.method != "GET":
        return None
    names = {q.name for q in op.query}
    if svc.name == "zcell" and {"page", "size"} <= names:  # "Page number (0-based)": zcell/anomaly_policy.py
        return {"style": "page", "page_param": "page", "first_page": 0, "size_param": "size",
                "result_key": "content", "total_pages_key": "totalPages", "stop": "total_pages"}
    if svc.name in ("aiguard", "easm"):
        return {"style": "single", "result_key": svc.list_envelope, "stop": "none"}
    return None


def _resource(op: SourceOperation, op_id: str, path_ids: list[str]) -> dict | None:
    if not op.model:
        return None
    action = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}.get(op.method)
    if op.method == "GET" and not op.answer_list and path_ids and op.path.endswith("}"):
        action = "load"
    if action is None or (action == "create" and not op_id.startswith(("Create", "Add"))):
        return None
    out: dict = {"type": op.model, "action": action}
    if action == "create":
        out["id_field"] = "id"
    elif path_ids and op.path.endswith("}"):
        out["id_param"] = path_ids[-1]
    else:
        return None
    return out


def _operation(svc: SourceService, op: SourceOperation, op_id: str, release: str,
               models: dict[str, SourceModel]) -> dict:
    path_ids = [p for p, _ in op.path_types]
    scope = _scope(op, op_id)
    pagination = _pagination(svc, op, models)
    summary, description = _describe(svc.name, op_id, op.method, op.path, scope, pagination,
                                     titles=(svc.short, svc.full))
    if op.summary:
        description = f"{op.summary.rstrip('.')}. {description}"
    argument = dict(op.arguments)
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": t},
               **({"x-oneapi-argument": argument[p]} if p in argument else {})} for p, t in op.path_types]
    params += [{"name": q.name, "in": "query", "required": False,
                "schema": {"type": q.type, **({"items": {"type": "string"}} if q.type == "array" else {})},
                **({"description": q.description} if q.description else {})} for q in op.query]
    out: dict = {"operationId": op_id, "summary": summary, "description": description}
    if params:
        out["parameters"] = params
    if op.body == "model" and op.model:
        body_schema: dict = {"$ref": f"#/components/schemas/{op.model}"}
    elif op.body:
        body_schema = {"type": "object", "properties": {k: {} for k in op.body_fields}}
    else:
        body_schema = {}
    if op.body:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema}}}
    ok: dict = {"description": "Success."}
    if op.binary:  # a file (the SDK accepts text/csv or application/octet-stream: zcell/sim_handling.py)
        ok["content"] = {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    elif op.model:
        item = {"$ref": f"#/components/schemas/{op.model}"}
        ok["content"] = {"application/json": {"schema": _envelope(svc, item) if op.answer_list else item}}
    elif op.method != "DELETE":
        ok["content"] = {"application/json": {"schema": {}}}
    out["responses"] = {"201" if op.method == "POST" and scope == "write" and op_id.startswith(("Create", "Add"))
                        and op.model else "200": ok,
                        "default": {"description": "Error.", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/OneApiError"}}}}}
    if op.method == "DELETE" and not op.model:
        out["responses"] = {"204": {"description": "Deleted."}, "default": out["responses"]["default"]}
    out["x-oneapi-scope"] = scope
    out["x-oneapi-toolset"] = svc.toolset(op.file)
    out["x-oneapi-rate-class"] = _rate_class(svc, op)
    if pagination:
        out["x-oneapi-pagination"] = pagination
    if resource := _resource(op, op_id, path_ids):
        out["x-oneapi-resource"] = resource
    out["x-oneapi-source"] = f"{release} zscaler/{op.file}#L{op.line} {op.function}"
    return out


# -- recorded evidence -----------------------------------------------------------------------------
_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"), (list, "array"),
               (dict, "object"))


def _infer(value: Any) -> dict:
    if value is None:
        return {}
    kind = next(t for py, t in _JSON_TYPES if isinstance(value, py))
    if kind == "object":
        return {"type": "object", "properties": {k: _infer(v) for k, v in sorted(value.items())}}
    if kind == "array":
        items: dict = {}
        for v in value:
            items = _fit(items, v, {})
        return {"type": "array", "items": items}
    return {"type": kind}


def _fit(schema: dict, value: Any, schemas: dict) -> dict:
    """`schema` widened so that `value` (a recorded body or answer) is declared by it: missing fields
    are added (into the component a `$ref` names), a scalar without a type gets the recorded one, and a
    recorded shape that differs from the SDK's (an envelope around a list) replaces it, keeping the
    SDK's item schema for the recorded list."""
    if value is None:
        return schema
    target = schema
    if "$ref" in schema:
        target = schemas[schema["$ref"].rsplit("/", 1)[1]]
    want = _infer(value)["type"]
    have = target.get("type")
    if have is None and not target.get("properties"):
        if want in ("object", "array"):
            return _infer(value) if "$ref" not in schema else (_replace(target, _infer(value)) or schema)
        return {**schema, "type": want} if "$ref" not in schema else schema
    if have == want == "object":
        props = target.setdefault("properties", {})
        for key, v in value.items():
            props[key] = _fit(props.get(key, {}), v, schemas)
        return schema
    if have == want == "array":
        target["items"] = _fit_items(target.get("items") or {}, value, schemas)
        return schema
    if want == "array" and (have == "object" or target.get("properties")):
        return {"type": "array", "items": _fit_items(schema, value, schemas)}
    if want == "object" and have == "array":
        return _wrap(schema, target, value, schemas)
    if have != want and not ({have, want} == {"integer", "number"}):
        return _infer(value)
    return schema


def _fit_items(items: dict, values: list, schemas: dict) -> dict:
    for v in values:
        items = _fit(items, v, schemas)
    return items


def _wrap(schema: dict, target: dict, value: dict, schemas: dict) -> dict:
    """The SDK reads a list out of an envelope (`{"result": {"rows": [...]}}`): the envelope is declared
    as recorded, the SDK's item schema goes to the recorded list."""
    out = {"type": "object", "properties": {}}
    for key, v in sorted(value.items()):
        if isinstance(v, list):
            out["properties"][key] = {"type": "array", "items": _fit_items(target.get("items") or {}, v, schemas)}
        elif isinstance(v, dict) and any(isinstance(x, list) for x in v.values()):
            out["properties"][key] = _wrap(schema, target, v, schemas)
        else:
            out["properties"][key] = _infer(v)
    return out


def _replace(target: dict, new: dict) -> None:
    target.clear()
    target.update(new)


def _template_regex(template: str) -> re.Pattern:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "/?")


def apply_recordings(doc: dict, recorded: list[dict], cassette_dir: str) -> int:
    """Widen `doc` by every recorded 2xx interaction (see _fit); returns how many were applied."""
    routes = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            routes.append((method.upper(), _template_regex(path), path.count("{"), -len(path), op))
    routes.sort(key=lambda r: (r[2], r[3]))
    schemas = doc["components"]["schemas"]
    applied = 0
    for rec in recorded:
        path, _, query = rec["uri"].partition("?")
        route = next((r for r in routes if r[0] == rec["method"] and r[1].fullmatch(path)), None)
        if route is None or not 200 <= rec["status"] < 300:
            continue
        op = route[4]
        where = f"{cassette_dir}/{rec['cassette']}.yaml"
        declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "query"}
        for name in sorted({kv.split("=", 1)[0] for kv in query.split("&") if kv} - declared):
            op.setdefault("parameters", []).append({"name": name, "in": "query", "required": False,
                                                    "schema": {"type": "string"}, "x-oneapi-evidence": where})
            declared.add(name)
        if isinstance(rec.get("body"), (dict, list)):
            media = op.setdefault("requestBody", {"required": True, "content": {"application/json": {"schema": {}}}})
            content = media["content"].setdefault("application/json", {"schema": {}})
            content["schema"] = _fit(content["schema"], rec["body"], schemas)
        code = str(rec["status"])
        responses = op["responses"]
        if code not in responses:
            ok = next((c for c in responses if c != "default"), None)
            responses[code] = responses.pop(ok) if ok else {"description": "Success."}
            op["responses"] = dict(sorted(responses.items(), key=lambda kv: kv[0] == "default"))
            responses = op["responses"]
        if isinstance(rec.get("answer"), (dict, list)):
            content = responses[code].setdefault("content", {}).setdefault("application/json", {"schema": {}})
            content["schema"] = _fit(content.get("schema") or {}, rec["answer"], schemas)
        op["x-oneapi-evidence"] = sorted({*op.get("x-oneapi-evidence", ()), where})
        applied += 1
    return applied


def _unify_equivalent_paths(ops: list[SourceOperation]) -> dict[SourceOperation, SourceOperation]:
    """Paths that differ only in a parameter's name are one path in OpenAPI (ZTB's policy comments:
    `/comment/{policy_id}` for GET/POST, `/comment/{comment_id}` for PUT/DELETE): the most used
    spelling wins (ties: the first alphabetically); a renamed parameter keeps its argument name
    through `x-oneapi-argument` (as codegen/_convert.py does for the model-derived specs)."""
    shape = lambda path: re.sub(r"\{[^}]+\}", "{}", path)  # noqa: E731
    spellings: dict[str, dict[str, int]] = {}
    for op in ops:
        counts = spellings.setdefault(shape(op.path), {})
        counts[op.path] = counts.get(op.path, 0) + 1
    out: dict[SourceOperation, SourceOperation] = {}
    for op in ops:
        counts = spellings[shape(op.path)]
        target = sorted(counts, key=lambda p: (-counts[p], p))[0]
        if target != op.path:
            names = dict(zip(re.findall(r"\{(\w+)\}", op.path), re.findall(r"\{(\w+)\}", target), strict=True))
            out[op] = replace(op, path=target, path_types=tuple((names[p], t) for p, t in op.path_types),
                              arguments=tuple((new, old) for old, new in names.items() if old != new))
    return out


def _merge_into(existing: dict, op: SourceOperation, release: str) -> None:
    names = {p["name"] for p in existing.get("parameters", ())}
    for q in op.query:
        if q.name not in names:
            existing.setdefault("parameters", []).append(
                {"name": q.name, "in": "query", "required": False, "schema": {"type": q.type},
                 "description": f"The SDK's {op.function} sends it."})
    existing["x-oneapi-source"] += f"; zscaler/{op.file}#L{op.line} {op.function}"


def convert_source_service(root: Path, name: str, release: str, recorded_dir: Path | None = None) -> dict:
    """The OpenAPI document (plain dict, deterministic order) for one SDK-source service."""
    svc = SOURCE_SERVICES[name]
    ops, models = read_service_source(root, svc.package, name)
    taken: dict[tuple[str, str], str] = {}
    paths: dict[str, dict] = {}
    # a path outside the service's OneAPI base paths goes to another host (AI Guard's policy_detection.py
    # calls /v1/detection/... on the AI Guard host with its own key: zscaler/request_executor.py
    # "aiguard_legacy"); it is listed as not converted, never guessed onto api.zsapi.net
    outside = [op for op in ops if not op.path.startswith(svc.base_paths)]
    ops = [op for op in ops if op.path.startswith(svc.base_paths)]
    renames = _unify_equivalent_paths(ops)
    files_of: dict[str, set[str]] = {}
    for op in ops:
        files_of.setdefault(op.function, set()).add(op.file)
    for op in ops:
        op_id = operation_id(op, qualify=len(files_of[op.function]) > 1)
        op = renames.get(op, op)
        key = (op.path, op.method.lower())
        if key in taken:
            # one endpoint, two SDK methods (ZBI get_custom_app is list_custom_apps with ?id=): one
            # operation with the query parameters of both
            _merge_into(paths[op.path][op.method.lower()], op, release)
            continue
        taken[key] = op.function
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(svc, op, op_id, release, models)
    used = {m for op in ops for m in (op.model,) if m}
    schemas: dict[str, dict] = {}
    while pending := sorted(used - set(schemas)):
        for m in pending:
            schemas[m] = _model_schema(models[m])
            used |= {f.ref for f in models[m].fields if f.ref}
    schemas["OneApiError"] = {"type": "object", "description": "OneAPI error body.",
                              "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                             "error": {"type": "string"}, "errorCode": {"type": "string"},
                                             "errorDetails": {}, "timestamp": {}}}
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": f"{svc.full} ({svc.short}) through Zscaler OneAPI",
            "version": release,
            "description": (f"Converted by oneapi-mcp (`make specs`, codegen/_convert_source.py) from the hand-written "
                            f"zscaler/{svc.package}/ source of Zscaler's MIT-licensed SDK ({release}) and held to the "
                            f"recorded real traffic; see SOURCES.md."),
            "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
        },
        "servers": [{"url": "https://api.zsapi.net", "description": "Production OneAPI"}],
        "security": [{"oneapi": []}],
        "x-oneapi-service": svc.name,
        "x-oneapi-short-name": svc.short,
        "x-oneapi-base-paths": list(svc.base_paths),
        "x-oneapi-probe": {"operationId": svc.probe, "arguments": dict(svc.probe_arguments)},
        "x-oneapi-toolsets": {f"{svc.name}.{family}": text for family, text, _ in svc.toolsets},
        "x-oneapi-rate-classes": {k: v for k, v in _RATE_CLASSES.items() if k.startswith(svc.name + ".")}
        or {f"{svc.name}.default": {"limits": [], "applies_to": f"{svc.short} (no documented limit)"}},
        "x-oneapi-rate-limit-headers": svc.rate_headers,
        **({"x-oneapi-not-converted": [
            {"method": op.method, "path": op.path, "source": f"zscaler/{op.file}#L{op.line} {op.function}",
             "why": "not under the service's OneAPI base paths: the SDK sends it to another host"}
            for op in outside]} if outside else {}),
        "paths": {p: dict(sorted(paths[p].items())) for p in sorted(paths)},
        "components": {
            "securitySchemes": {"oneapi": {"type": "http", "scheme": "bearer",
                                           "description": "Bearer token from ZIdentity (client credentials)."}},
            "schemas": dict(sorted(schemas.items())),
        },
    }
    if recorded_dir is not None and (recorded_dir / f"{svc.name}.jsonl").exists():
        rows = [json.loads(line) for line in (recorded_dir / f"{svc.name}.jsonl").read_text().splitlines() if line]
        apply_recordings(doc, rows, f"{svc.recorded or svc.name}/cassettes")
    _recorded_paging(doc, svc)
    return doc


def _list_key(schema: dict, schemas: dict, prefix: str = "") -> str | None:
    """The dotted key of the first array in an answer schema, one object level deep at most: `result.rows`
    (ZTB {result: {count, rows}}), `result` ({count, result: [...]}), `result.values`."""
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    for key, sub in (schema.get("properties") or {}).items():
        if sub.get("type") == "array":
            return prefix + key
    if not prefix:
        for key, sub in (schema.get("properties") or {}).items():
            if sub.get("type") == "object" and (found := _list_key(sub, schemas, key + ".")):
                return found
    return None


def _recorded_paging(doc: dict, svc: SourceService) -> None:
    """Paging that the SDK's source and the recordings show together.

    ZTB: lists taking `page` (1-based) and `limit` ("Page number", "Page size": zscaler/ztb/site.py
    list_sites and the others) page by number, as the SDK's generic pager does (zscaler/oneapi_response.py:
    page + 1 until a page is shorter than the limit); the rows sit under `result.rows` (or `result`,
    `result.values`), recorded with `page` and `limit` echoed (ztb/cassettes/TestDevices.yaml
    `{"result": {"count": 0, "limit": 10, "page": 1, "rows": []}}`).
    EASM: findings and look-alike domains answer 100 results with `total_results` and a `next_link` whose
    `offset` asks for the next page (zeasm/cassettes/TestFindings.yaml, TestLookALikeDomains.yaml); the SDK
    reads `next_page`, which the API does not send, so its lists stop at the first page."""
    schemas = doc["components"]["schemas"]
    for item in doc["paths"].values():
        op = item.get("get")
        if op is None:
            continue
        answer = op["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
        declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "query"}
        key = _list_key(answer, schemas)
        if svc.name == "ztb" and {"page", "limit"} <= declared and key:
            op["x-oneapi-pagination"] = {"style": "page", "page_param": "page", "size_param": "limit",
                                         "result_key": key, "stop": "short_page"}
        resolved = schemas.get(answer.get("$ref", "").rsplit("/", 1)[-1], answer)
        if svc.name == "easm" and key == "results" and "next_link" in (resolved.get("properties") or {}):
            op["x-oneapi-pagination"] = {"style": "next_link", "offset_param": "offset", "result_key": "results",
                                         "next_key": "next_link", "stop": "no_next"}
            if "offset" not in declared:
                op.setdefault("parameters", []).append({
                    "name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
                    "description": "Where the page starts: the `offset` of the previous answer's `next_link`.",
                    "x-oneapi-evidence": op.get("x-oneapi-evidence", [None])[0]})
