"""Stage 2, parse: a loaded spec becomes a frozen `Service`. Every naming, scope, toolset and
pagination decision is made here, and only here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._convert import SERVICE_TITLES, rate_class_for, scope_for
from ._ir import Annotations, Operation, Param, Problem, Service, Toolset
from ._listing import ConsoleNames, listed_description, operation_kind, product_label
from ._load import LoadedSpec, iter_operations, resolve_pointer
from ._naming import NameLock, class_name, field_name, is_valid_tool_name, operation_key, snake_case, tool_name
from ._schema import request_schemas
from ._secrets import secret_fields
from ._toolsets import TOOLSET_DESCRIPTIONS, toolset_for

__all__ = ["annotations_for", "parse_service"]

_PATH_NOISE = {"api", "v1", "v2", "v3", "admin", "customers", "mgmtconfig", "papi", "public", "ziam"}
_BODY_FIELD = "body"


def annotations_for(scope: str, method: str) -> Annotations:
    """All four MCP annotations from the one scope (idempotence also follows the HTTP method)."""
    return Annotations(
        read_only_hint=scope == "read",
        destructive_hint=scope == "destructive",
        idempotent_hint=scope == "read" or method in ("PUT", "DELETE"),
        open_world_hint=True,
    )


def _deref(doc: dict, node: dict) -> dict:
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = resolve_pointer(doc, node["$ref"][1:])  # type: ignore[assignment]
        seen += 1
    return node


def _fallback_toolset(service: str, path: str) -> str:
    segments = [s for s in path.split("/") if s and not s.startswith("{")]
    for seg in segments:
        if seg.lower() not in {service, "api", "v1", "v2", "v3", "admin", "customers", "public", "papi"}:
            family = re.sub(r"[^a-z0-9]+", "_", re.sub(r"([a-z])([A-Z])", r"\1_\2", seg).lower()).strip("_")
            return f"{service}.{family or 'general'}"
    return f"{service}.general"


def _synth_operation_id(method: str, path: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", path) if w]
    return method.lower() + "".join(w[:1].upper() + w[1:] for w in words)


@dataclass(frozen=True)
class _Named:
    """An operation that has taken a tool name, and whether the name was derived (not locked or set)."""

    method: str
    path: str
    operation_id: str
    pointer: str
    derived: bool


def _tool_names(service: str, file: str, doc: dict, lock: NameLock
                ) -> tuple[dict[str, tuple[str, str, bool]], list[Problem]]:
    """pointer -> (tool name, lock key, version-qualified?) for every operation that gets a name.

    Names set in the overlay (`x-oneapi-name`) or kept by the lock are taken first, so a new
    operation never takes a name users already call. An operation of a later model version
    (`x-oneapi-model-version` > 1) whose derived name is taken says its version (`zpa_v2_...`);
    any other collision is an error that names both operations and the overlay line to add.
    """
    problems: list[Problem] = []
    entries = []
    for path, method, _shared, op, pointer, variant in iter_operations(doc):
        op_id = op.get("operationId") or _synth_operation_id(method, path)
        key = operation_key(method, path, op_id if variant else None)
        chosen = op.get("x-oneapi-name") or lock.get(service, key)
        entries.append((_Named(method.upper(), path, op_id, pointer, derived=not chosen), key, chosen,
                        int(op.get("x-oneapi-model-version") or 1)))
    names: dict[str, _Named] = {}
    out: dict[str, tuple[str, str, bool]] = {}
    for this, key, chosen, version in sorted(entries, key=lambda e: e[2] is None):  # stable: chosen first
        name, qualified = chosen or tool_name(service, this.operation_id), False
        if not chosen and name in names and version > 1:
            name, qualified = tool_name(service, f"V{version}{this.operation_id}"), True
        if not is_valid_tool_name(name):
            problems.append(Problem("error", file, this.pointer, f"tool name {name!r} is not 1-64 chars of [a-z0-9_]"))
        elif name in names:
            problems.append(Problem("error", file, this.pointer,
                                    _collision_message(service, name, names[name], this, set(names))))
        else:
            names[name] = this
            out[this.pointer] = (name, key, qualified)
    return out, problems


def _collision_message(service: str, name: str, first: _Named, second: _Named, taken: set[str]) -> str:
    """Name both operations and the overlay action that resolves the collision (on the one whose
    name was derived: a locked or hand-set name is the one users already call)."""
    rename = second if second.derived or not first.derived else first
    words = [s for s in rename.path.split("/")
             if s and not s.startswith("{") and s.lower() not in _PATH_NOISE | {service}]
    stem = [snake_case(rename.operation_id).split("_", 1)[0], *words[-2:]] if words else [
        snake_case(rename.operation_id)]
    suggestion, n = tool_name(service, "_".join(stem)), 2
    while suggestion in taken or suggestion == name:
        suggestion, n = tool_name(service, "_".join([*stem, str(n)])), n + 1
    target = f"$.paths['{rename.path}'].{rename.method.lower()}"
    if "/x-oneapi-variants/" in rename.pointer:
        target += f"['x-oneapi-variants'][?@.operationId=='{rename.operation_id}']"
    return (f"tool name {name!r} of {second.method} {second.path} (operationId {second.operation_id!r}) collides "
            f"with {first.method} {first.path} (operationId {first.operation_id!r}, at {first.pointer}); name "
            f"{rename.method} {rename.path} in specs/overlays/{service}.yaml: an action with target {target!r} and "
            f"update {{x-oneapi-name: {suggestion}}}")


def parse_service(loaded: LoadedSpec, lock: NameLock, vocabulary: dict | None = None, sdk: dict | None = None
                  ) -> tuple[Service | None, list[Problem], dict[str, str]]:
    """Build the IR for one service. Returns (service or None on errors, problems, name lock entries).
    `vocabulary`: specs/overlays/vocabulary.yaml, whose console names the listed descriptions carry; `sdk`: the
    names the SDK gives each operation (specs/sdk_names.json, as codegen/_sdk_names.listing_names reads it)."""
    doc = loaded.doc
    console = ConsoleNames.from_vocabulary(vocabulary)
    file = str(loaded.path)
    problems: list[Problem] = []
    service = str(doc.get("x-oneapi-service") or loaded.path.stem)
    if not re.fullmatch(r"[a-z][a-z0-9]*", service):
        problems.append(Problem("error", file, "/x-oneapi-service", f"service name {service!r} must be [a-z][a-z0-9]*"))
        return None, problems, {}
    if service != loaded.path.stem:
        # the output directory, overlay, skip fingerprint and SERVICES are all keyed by the file name
        problems.append(Problem("error", file, "/x-oneapi-service",
                                f"service name {service!r} must match the file name {loaded.path.name!r}"))
        return None, problems, {}
    schemas = dict((doc.get("components") or {}).get("schemas") or {})
    operations: list[Operation] = []
    named, name_problems = _tool_names(service, file, doc, lock)
    product = product_label(str(doc.get("x-oneapi-short-name") or service.upper()),
                            str((doc.get("info") or {}).get("title") or service))
    problems.extend(name_problems)
    classes: dict[str, str] = {}  # input class name -> pointer
    assigned: dict[str, str] = {}  # lock key -> tool name

    for path, method, shared_params, op, pointer, _variant in iter_operations(doc):
        http = method.upper()
        op_id = op.get("operationId")
        if not op_id:
            op_id = _synth_operation_id(method, path)
            problems.append(Problem("warning", file, pointer, f"no operationId; using {op_id!r}"))

        if pointer not in named:
            continue  # its name is invalid or collides: reported by _tool_names
        name, key, qualified = named[pointer]
        assigned[key] = name

        # an overlay's x-oneapi-name also names the input model, so it resolves a case-only
        # collision (`getPet` / `GetPet`) of the class names as well as of the tool names
        override = op.get("x-oneapi-name") or (name if qualified else None)
        model = class_name(override.removeprefix(f"{service}_") if override else op_id)
        if model in classes or model in schemas:
            where = classes.get(model, f"/components/schemas/{model}")
            problems.append(Problem("error", file, pointer,
                                    f"input model name {model!r} collides with {where}"))
            continue
        classes[model] = pointer

        graphql = op.get("x-oneapi-graphql")
        params, param_problems = _graphql_params(file, pointer, graphql) if graphql else _params(
            doc, file, pointer, path, shared_params, op, op.get("x-oneapi-pagination"))
        problems.extend(param_problems)
        if any(p.level == "error" for p in param_problems):
            continue

        scope = op.get("x-oneapi-scope") or scope_for(op_id, http)
        if scope not in ("read", "write", "destructive"):
            problems.append(Problem("error", file, pointer + "/x-oneapi-scope", f"unknown scope {scope!r}"))
            continue
        toolset = op.get("x-oneapi-toolset") or toolset_for(service, path)
        if toolset is None:
            toolset = _fallback_toolset(service, path)
            if service in SERVICE_TITLES:
                problems.append(Problem("warning", file, pointer, f"no toolset rule matches; using {toolset!r}"))
        description = (op.get("description") or op.get("summary") or "").strip()
        if not description:
            description = f"Calls {http} {path}."
            problems.append(Problem("warning", file, pointer, "operation has no description"))
        title = (op.get("summary") or name).strip()
        description = listed_description(
            description, title=title, name=name, service=service, console=console, product=product,
            kind=None if graphql else operation_kind(doc, op, http, path, name, scope, _deref),
            generated=pointer not in loaded.described, path=path,
            sdk=(sdk or {}).get(service, {}).get(f"{http} {path} {graphql['name']}" if graphql else f"{http} {path}",
                                                 ((), ())))
        operations.append(Operation(
            service=service,
            operation_id=op_id,
            tool_name=name,
            input_model=model,
            method=http,
            path=path,
            title=title,
            description=description,
            scope=scope,
            annotations=annotations_for(scope, http),
            toolset=toolset,
            rate_class=op.get("x-oneapi-rate-class") or rate_class_for(service, http, path),
            params=tuple(params),
            pagination=op.get("x-oneapi-pagination"),
            resource=op.get("x-oneapi-resource"),
            hand_written_description=pointer in loaded.described,
            pointer=pointer,
            graphql={k: v for k, v in graphql.items() if k != "variables"} if graphql else None,
        ))

    if any(p.level == "error" for p in problems):
        return None, problems, assigned
    operations.sort(key=lambda o: o.tool_name)
    by_toolset: dict[str, list[str]] = {}
    for o in operations:
        by_toolset.setdefault(o.toolset, []).append(o.tool_name)
    described = dict(doc.get("x-oneapi-toolsets") or {})  # a spec may describe its own toolsets
    toolsets = tuple(
        Toolset(name=t, description=described.get(t) or TOOLSET_DESCRIPTIONS.get(
            t, f"{t.split('.', 1)[1].replace('_', ' ')} tools"),
                tools=tuple(sorted(tools)))
        for t, tools in sorted(by_toolset.items())
    )
    title = (doc.get("info") or {}).get("title", service)
    info, info_problems = _service_info(service, file, doc, title, operations)
    problems.extend(info_problems)
    if info_problems:
        return None, problems, assigned
    secrets, not_secrets = secret_fields(doc)
    return Service(
        name=service,
        title=title,
        spec_file=loaded.path.name,
        spec_sha256=loaded.sha256,
        overlay_sha256=loaded.overlay_sha256,
        operations=tuple(operations),
        toolsets=toolsets,
        schemas=schemas,
        request_schemas=request_schemas(
            schemas, {o.resource["type"] for o in operations if o.resource and o.resource.get("action") == "load"}),
        rate_classes=dict(doc.get("x-oneapi-rate-classes") or {}),
        openapi=doc,
        secret_fields=secrets,
        not_secret_fields=not_secrets,
        info=info,
    ), problems, assigned


def _common_prefix(paths: list[str]) -> str:
    split = [p.strip("/").split("/") for p in paths] or [[]]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1 or "{" in parts[0]:
            break
        common.append(parts[0])
    return "/" + "/".join(common)


def _service_info(service: str, file: str, doc: dict, title: str, operations: list[Operation]
                  ) -> tuple[dict, list[Problem]]:
    """The service's row of the services table, from the spec's top-level x-oneapi-* keys."""
    problems: list[Problem] = []
    probe = doc.get("x-oneapi-probe") or {}
    tool = next((o.tool_name for o in operations if o.operation_id == probe.get("operationId")), None)
    if probe and tool is None:
        problems.append(Problem("error", file, "/x-oneapi-probe",
                                f"the entitlement probe {probe.get('operationId')!r} is not an operation of {service}"))
    elif tool and next(o for o in operations if o.tool_name == tool).scope != "read":
        problems.append(Problem("error", file, "/x-oneapi-probe", f"the entitlement probe {tool} must be a read"))
    relative, problem = _probe_relative(probe, next((o for o in operations if o.tool_name == tool), None))
    if problem:
        problems.append(Problem("error", file, "/x-oneapi-probe/relative-time", problem))
    # without x-oneapi-base-paths: the path segments every operation shares
    bases = tuple(doc.get("x-oneapi-base-paths") or ()) or (_common_prefix([o.path for o in operations]),)
    return {
        "name": service,
        "short": str(doc.get("x-oneapi-short-name") or service.upper()),
        "title": title,
        "kind": str(doc.get("x-oneapi-kind") or "rest"),
        "base_paths": bases,
        "rate_classes": {k: tuple(v.get("limits", ()))
                         for k, v in sorted((doc.get("x-oneapi-rate-classes") or {}).items())},
        "rate_limit_headers": str(doc.get("x-oneapi-rate-limit-headers") or ""),
        "probe": tool,
        "probe_fixed": dict(probe.get("arguments") or {}),
        "probe_relative": relative,
        "operations": len(operations),
    }, problems


_TIME_FORMS = ("epoch_ms", "epoch_s", "iso8601")


def _probe_relative(probe: dict, operation: Operation | None) -> tuple[dict, str | None]:
    """The probe's arguments computed when it runs (`relative-time`: argument -> {seconds: offset from now,
    as: epoch_ms | epoch_s | iso8601}), e.g. a report's window "the last 24 hours"; or the problem."""
    given = probe.get("relative-time") or {}
    names = {p.wire_name for p in operation.params} if operation else set()
    out: dict[str, tuple[int, str]] = {}
    for name, spec in sorted(given.items()):
        seconds, form = (spec or {}).get("seconds"), (spec or {}).get("as")
        if name not in names:
            return {}, f"{name!r} is not an argument of the probe {operation.tool_name if operation else None}"
        if not isinstance(seconds, int) or isinstance(seconds, bool) or form not in _TIME_FORMS:
            return {}, (f"{name}: needs `seconds` (an integer offset from now) and `as` "
                        f"(one of {', '.join(_TIME_FORMS)})")
        out[name] = (seconds, form)
    return out, None


def _pagination_docs(pagination: dict | None) -> dict[str, str]:
    """Descriptions for the paging arguments, per pagination style."""
    if not pagination:
        return {}
    style = pagination.get("style")
    if style == "page":
        return {pagination.get("page_param", "page"): f"Page number, starting at {pagination.get('first_page', 1)}.",
                pagination.get("size_param", "pageSize"): "Items per page."}
    if style == "next_link":
        return {pagination.get("offset_param", "offset"): "Offset of the first record to return.",
                pagination.get("limit_param", "limit"): "Maximum records per page."}
    return {pagination.get("offset_param", "offset"): f"Opaque offset: the previous response's "
            f"{pagination.get('next_key', 'next_offset')}; omit for the first page.",
            pagination.get("limit_param", "limit"): "Maximum items per page."}


def _param_description(p: dict, loc: str, wire: str, fname: str, paging: dict[str, str]) -> str:
    parts = [p.get("description", "").strip() or paging.get(wire, "")]
    if fname != wire:
        parts.append(f"Sent as the {loc} parameter `{wire}`.")
    return " ".join(x for x in parts if x)


def _free_name(base: str, taken: dict[str, str]) -> str:
    name, n = base, 2
    while name in taken or name == _BODY_FIELD:
        name, n = f"{base}{n}", n + 1
    return name


def _params(
    doc: dict, file: str, pointer: str, path: str, shared: list, op: dict, pagination: dict | None = None
) -> tuple[list[Param], list[Problem]]:
    problems: list[Problem] = []
    merged: dict[tuple[str, str], dict] = {}
    for raw in list(shared) + list(op.get("parameters") or []):
        p = _deref(doc, raw)
        if p.get("in") in ("path", "query"):
            merged[(p["in"], p["name"])] = p
        elif p.get("in") in ("header", "cookie"):
            problems.append(Problem("warning", file, pointer, f"{p['in']} parameter {p.get('name')!r} is not exposed"))
    params: list[Param] = []
    fields: dict[str, str] = {}
    paging = _pagination_docs(pagination)
    for (loc, wire), p in sorted(merged.items(), key=lambda kv: (kv[0][0] != "path", kv[0][1])):
        fname = field_name(p.get("x-oneapi-argument") or wire)
        if loc == "query" and fields.get(fname, "").startswith("path "):
            # `DELETE /groups/{id}?id=...` (ZIdentity): the query parameter gets its own argument,
            # the wire name stays
            fname = _free_name(f"{fname}_query", fields)
        if fname == _BODY_FIELD or fname in fields:
            problems.append(Problem("error", file, pointer,
                                    f"argument {fname!r} (from {loc} parameter {wire!r}) collides with "
                                    f"{fields.get(fname, 'the request body')}"))
            continue
        fields[fname] = f"{loc} parameter {wire!r}"
        params.append(Param(
            field_name=fname,
            wire_name=wire,
            location=loc,
            required=bool(p.get("required")) or loc == "path",
            schema=p.get("schema") or {"type": "string"},
            description=_param_description(p, loc, wire, fname, paging),
            explode=bool(p.get("explode", p.get("style", "form") == "form")) and loc == "query",
        ))
    template_vars = set(re.findall(r"\{([^}]+)\}", path))
    declared = {p.wire_name for p in params if p.location == "path"}
    for missing in sorted(template_vars - declared):
        problems.append(Problem("error", file, pointer, f"path parameter {missing!r} is not declared"))
    body = op.get("requestBody")
    if body:
        body = _deref(doc, body)
        content = body.get("content") or {}
        content_type = next(iter(sorted(content, key=lambda c: c != "application/json")), "application/json")
        params.append(Param(
            field_name=_BODY_FIELD,
            wire_name=_BODY_FIELD,
            location="body",
            required=bool(body.get("required")),
            schema=(content.get(content_type) or {}).get("schema") or {},
            description=body.get("description", ""),
            content_type=content_type,
        ))
    return params, problems


def _graphql_params(file: str, pointer: str, graphql: dict) -> tuple[list[Param], list[Problem]]:
    """A GraphQL operation's arguments are its document's variables (`x-oneapi-graphql.variables`)."""
    schema = graphql.get("variables") or {}
    missing = [k for k in ("operation", "name", "document") if not graphql.get(k)]
    if missing or schema.get("type") != "object" or graphql.get("operation") not in ("query", "mutation"):
        return [], [Problem("error", file, pointer + "/x-oneapi-graphql",
                            f"needs operation (query|mutation), name, document and an object variables schema"
                            f"{'; missing ' + ', '.join(missing) if missing else ''}")]
    required = set(schema.get("required") or ())
    params = [Param(field_name=field_name(wire), wire_name=wire, location="variable", required=wire in required,
                    schema=sub, description=(sub.get("description", "") + (
                        f" Sent as the GraphQL variable `{wire}`." if field_name(wire) != wire else "")).strip())
              for wire, sub in sorted((schema.get("properties") or {}).items())]
    return params, []
