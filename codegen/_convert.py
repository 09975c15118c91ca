"""Convert one service's botocore-style models (from the SDK wheel) into an OpenAPI 3.0 document.

The conversion is mechanical: every operation in the model becomes one path item operation.
Per operation it decides, once, the extensions the rest of the product reads:
`x-oneapi-scope`, `x-oneapi-pagination`, `x-oneapi-rate-class` and `x-oneapi-resource`
(plus OpenAPI `links` from create operations to load/update/delete).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from ._sources import ModelError, ServiceModels
from ._toolsets import BASE_PATHS
from ._versions import ModelOperation, merge_versions

__all__ = [
    "PROBES",
    "RATE_CLASSES",
    "SERVICE_TITLES",
    "convert_service",
    "count_operations",
    "rate_class_for",
    "scope_for",
    "split_words",
]

SERVICE_TITLES: dict[str, tuple[str, str]] = {
    # service: (short name, full name)
    "zia": ("ZIA", "Zscaler Internet Access"),
    "zpa": ("ZPA", "Zscaler Private Access"),
    "zdx": ("ZDX", "Zscaler Digital Experience"),
    "zcc": ("ZCC", "Zscaler Client Connector"),
    "zid": ("ZIdentity", "Zscaler Identity"),
    "ztw": ("ZTW", "Zscaler Cloud & Branch Connector"),
}

# Documented limits (reference section 3). Strings use the `limits` library notation.
RATE_CLASSES: dict[str, dict[str, object]] = {
    "zia.heavy": {"limits": ["1/minute", "4/hour"], "applies_to": "ZIA DELETE"},
    "zia.medium": {"limits": ["1/second", "400/hour"], "applies_to": "ZIA POST, PUT and PATCH"},
    "zia.light": {"limits": ["2/second", "1000/hour"], "applies_to": "ZIA GET"},
    "ztw.heavy": {"limits": ["1/minute", "4/hour"], "applies_to": "ZTW DELETE"},
    "ztw.medium": {"limits": ["1/second", "400/hour"], "applies_to": "ZTW POST, PUT and PATCH"},
    "ztw.light": {"limits": ["2/second", "1000/hour"], "applies_to": "ZTW GET"},
    "zpa.read": {"limits": ["20/10 seconds"], "applies_to": "ZPA GET, per source IP"},
    "zpa.write": {"limits": ["10/10 seconds"], "applies_to": "ZPA POST, PUT, PATCH and DELETE, per source IP"},
    "zdx.default": {
        "limits": ["5/second", "30/minute", "1000/hour", "10000/day"],
        "applies_to": "ZDX, smallest licence tier (up to 5k licences); larger tiers are configurable",
    },
    "zcc.default": {"limits": ["100/hour"], "applies_to": "ZCC, every endpoint, per tenant"},
    "zcc.download": {
        "limits": ["3/day", "100/hour"],
        "applies_to": "ZCC downloadDevices, downloadServiceStatus and downloadDisableReasons",
    },
    "zid.default": {"limits": [], "applies_to": "ZIdentity (no documented limit)"},
}

# One cheap read per service that answers 2xx only when the tenant and API client are entitled to the
# service (`oneapi-mcp doctor`, discovery_service_status and the entitlement check use it).
PROBES: dict[str, tuple[str, dict]] = {
    "zia": ("GetActivationStatus", {}),
    "zpa": ("ListAllApplications", {"pagesize": 1}),
    "zdx": ("ListDepartments", {}),
    "zcc": ("GetCompanyInfo", {}),
    "zid": ("ListUsers", {"limit": 1}),
    "ztw": ("GetStatus", {}),
}

_RATE_HEADERS = {
    "zia": "x-ratelimit-reset (seconds left in the window), Retry-After",
    "ztw": "Retry-After (in the JSON body too), x-ratelimit-reset",
    "zpa": "retry-after with an 's' suffix, e.g. '13s'",
    "zdx": "RateLimit-Reset (UTC epoch seconds)",
    "zcc": "X-Rate-Limit-Retry-After-Seconds",
    "zid": "Retry-After",
}

# POSTs and PUTs that only read; matched against the operation name.
_READ_ONLY_WRITE = re.compile(r"^(Validate|Lookup|Export|List|Get|Search|Check|Test|Count)(?=[A-Z]|$)")
# Calls that remove, revoke or deactivate without using DELETE.
_DESTRUCTIVE_WRITE = re.compile(
    r"^(BulkDelete|Bulkdelete|BulkRemove|Bulkremove|Delete|Remove|ForceRemove|Deactivate|Revoke|Wipe|Purge|ForceReset)(?=[A-Z]|$)"
)
# ZIdentity names its bulk removals after the resource: UserBulkdelete, GroupBulkremove.
_DESTRUCTIVE_BULK = re.compile(r"^[A-Z][a-z]+Bulk(?:[Dd]elete|[Rr]emove)(?=[A-Z]|$)")
_ZCC_DOWNLOADS = re.compile(r"/(downloadDevices|downloadServiceStatus|downloadDisableReasons)$")

_PRIMITIVES: dict[str, dict] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "format": "int32"},
    "long": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "double": {"type": "number", "format": "double"},
    "float": {"type": "number", "format": "float"},
    "timestamp": {"type": "string", "format": "date-time"},
}

_ERROR_SCHEMAS: dict[str, dict] = {
    "zia": {
        "type": "object",
        "description": "ZIA error body: a code such as EDIT_LOCK_NOT_AVAILABLE or LIMIT_EXCEEDED, and a message.",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    },
    "ztw": {
        "type": "object",
        "description": "ZTW error body: a code and a message (a 429 also carries Retry-After in the body).",
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    },
    "zpa": {
        "type": "object",
        "description": "ZPA error body: an error id such as resource.not.found, and a reason.",
        "properties": {"id": {"type": "string"}, "reason": {"type": "string"}},
    },
}
_GENERIC_ERROR = {
    "type": "object",
    "description": "OneAPI error body.",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "error": {"type": "string"},
        "error_description": {"type": "string"},
    },
}

_VERBS = {
    "List": "Lists", "Get": "Returns", "Create": "Creates", "Update": "Updates", "Delete": "Deletes",
    "Remove": "Removes", "Add": "Adds", "Validate": "Validates", "Export": "Exports", "Lookup": "Looks up",
    "Bulk": "Bulk", "Search": "Searches", "Activate": "Activates", "Deactivate": "Deactivates",
    "Download": "Downloads", "Upload": "Uploads", "Set": "Sets", "Reset": "Resets", "Enable": "Enables",
    "Disable": "Disables", "Move": "Moves", "Generate": "Generates", "Regenerate": "Regenerates",
    "Replace": "Replaces", "Put": "Updates", "Patch": "Updates", "Force": "Forces", "Sync": "Synchronises",
    "Save": "Saves", "Share": "Shares", "Restart": "Restarts", "Provision": "Provisions", "Sign": "Signs",
    "Toggle": "Toggles", "Change": "Changes", "Verify": "Verifies", "Finalize": "Finalizes", "Make": "Makes",
    "Duplicate": "Duplicates", "Enroll": "Enrolls", "Associate": "Associates", "Compute": "Computes",
    "Handle": "Handles", "Login": "Logs in", "Logout": "Logs out", "Acquire": "Acquires", "Manage": "Manages",
    "Cancel": "Cancels", "Start": "Starts", "Stop": "Stops", "Check": "Checks", "Test": "Tests",
    "Assign": "Assigns", "Unassign": "Unassigns", "Approve": "Approves", "Reorder": "Reorders",
    "Re": "Re-", "Dis": "Dis-", "De": "De-", "Import": "Imports", "Clone": "Clones", "Copy": "Copies",
}


# an acronym with digits (IPv6, Md5, Dns64, C2C), a plural acronym (IPs, URLs), an acronym, a word, a number
_WORD = re.compile(r"[Ii][Pp]v\d|[A-Z]\d[A-Z](?![a-z])|[A-Z][A-Za-z]?[a-z]*\d+(?![a-z])|[A-Z]{2,}s(?![a-z])"
                   r"|[A-Z]+(?=[A-Z][a-z]|\d|\b|_)|[A-Z]?[a-z]+|[A-Z]+|\d+")


def split_words(name: str) -> list[str]:
    """Split an operation name into words: `GetIOTDeviceList` -> ['Get', 'IOT', 'Device', 'List'],
    `ListStaticIPs` -> ['List', 'Static', 'IPs'], `GetIPv6Configuration` -> ['Get', 'IPv6', 'Configuration']."""
    return _WORD.findall(name)


def scope_for(operation_name: str, method: str) -> str:
    """`read`, `write` or `destructive` for one operation (method first, then name-based overrides)."""
    if method == "GET":
        return "read"
    if method == "DELETE":
        return "destructive"
    if _DESTRUCTIVE_WRITE.match(operation_name) or _DESTRUCTIVE_BULK.match(operation_name):
        return "destructive"
    if _READ_ONLY_WRITE.match(operation_name):
        return "read"
    return "write"


def rate_class_for(service: str, method: str, path: str) -> str:
    """Which documented limit applies to a call (see RATE_CLASSES)."""
    if service in ("zia", "ztw"):
        weight = {"DELETE": "heavy", "GET": "light"}.get(method, "medium")
        return f"{service}.{weight}"
    if service == "zpa":
        return "zpa.read" if method == "GET" else "zpa.write"
    if service == "zcc" and _ZCC_DOWNLOADS.search(path):
        return "zcc.download"
    return f"{service}.default"


def _pagination(service: str, paginator: dict | None) -> dict | None:
    if paginator is None:
        return None
    result_key = paginator.get("result_key", "@")
    if service in ("zia", "ztw", "zcc"):
        return {
            "style": "page",
            "page_param": paginator["input_token"],
            "size_param": paginator["limit_key"],
            "result_key": result_key,
            "stop": "short_page",
        }
    if service == "zpa":
        return {
            "style": "page",
            "page_param": paginator["input_token"],
            "size_param": paginator["limit_key"],
            "result_key": result_key,
            "total_pages_key": "totalPages",
            "stop": "total_pages",
        }
    if service == "zid":
        return {
            "style": "next_link",
            "offset_param": paginator["input_token"],
            "limit_param": paginator["limit_key"],
            "result_key": result_key,
            "next_key": "next_link",
            "stop": "no_next",
        }
    if paginator.get("style") == "page":
        # ZDX's configuration lists (zscaler-oneapi-sdk-python 1.0.0) page like ZIA: flat arrays of pageSize
        flat = result_key == "@"
        return {
            "style": "page",
            "page_param": paginator["input_token"],
            "size_param": paginator["limit_key"],
            "result_key": result_key,
            **({} if flat else {"total_pages_key": paginator.get("output_token", "totalPages")}),
            "stop": "short_page" if flat else "total_pages",
        }
    return {
        "style": "offset",
        "offset_param": paginator["input_token"],
        "limit_param": paginator["limit_key"],
        "result_key": result_key,
        "next_key": paginator.get("output_token", "next_offset"),
        "stop": "no_next",
    }


def _pagination_hint(p: dict) -> str:
    if p["style"] == "page" and p["stop"] == "short_page":
        return (f"Paginated with {p['page_param']} (from 1) and {p['size_param']}; "
                f"the last page is the first one shorter than {p['size_param']}.")
    if p["style"] == "page":
        return (f"Paginated with {p['page_param']} and {p['size_param']}; the response gives "
                f"{p['total_pages_key']} and the items in `{p['result_key']}`.")
    if p["style"] == "single":
        return f"The whole list comes in one answer, under `{p['result_key']}`."
    if p["style"] == "next_link":
        return (f"Paginated with {p['offset_param']} and {p['limit_param']}; follow `next_link` "
                f"until it is empty; items are in `{p['result_key']}`.")
    return (f"Paginated with {p['offset_param']} and {p['limit_param']}; pass `{p['next_key']}` from "
            f"the response as the next {p['offset_param']} until it is null.")


_ACRONYMS = {"api", "ip", "ips", "url", "urls", "dlp", "ssl", "zpa", "zia", "zdx", "zcc", "ztw", "nss", "lss", "idp",
             "saml", "scim", "vpn", "gre", "pac", "dns", "csr", "otp", "mfa", "iot", "cbi", "pra", "vm", "vms",
             "icap", "cas", "casb", "ipv6", "jwt", "aws", "csv", "ssh", "rdp", "sso", "atp", "fqdn", "ec", "cc"}


# acronyms spelled with a final s (`Nss` is NSS, not NSs); `IPs`, `URLs`, `Vms` are plurals
_S_ACRONYMS = {"nss", "lss", "dns", "aws", "cas", "ips"}
_DIGIT_ACRONYM = re.compile(r"(ipv|md|dns|nat|sha|c)(\d+)(c?)$")


# words that make a following `ips` IP addresses, not IPS (ZTB's static_ips_mapping: "static IP mapping")
_ADDRESS_WORDS = {"static", "public", "private", "source", "destination", "egress", "ingress", "trusted", "allowed",
                  "blocked", "gateway", "server", "client", "virtual", "dedicated", "reserved", "external", "internal"}


def _acronym(w: str, last: bool, previous: str = "") -> str:
    low = w.lower()
    if m := _DIGIT_ACRONYM.match(low):
        return ("IPv" if m[1] == "ipv" else m[1].upper()) + m[2] + m[3].upper()
    # `Ips` is IPS before a noun (firewall IPS rules) but IP addresses at the end (system IPs) or after a word
    # that qualifies addresses (static IPs)
    plural = (w[:-1].isupper() or (last and low[:-1] in _ACRONYMS) or low not in _S_ACRONYMS
              or (low == "ips" and previous.lower() in _ADDRESS_WORDS))
    return w[:-1].upper() + "s" if low.endswith("s") and plural else w.upper()


def _resource_phrase(words: list[str]) -> str:
    out = []
    for i, w in enumerate(words):
        if (w.isupper() and len(w) > 1) or w.isdigit():
            out.append(w)
        elif w.lower() in _ACRONYMS or _DIGIT_ACRONYM.match(w.lower()):
            out.append(_acronym(w, i == len(words) - 1, words[i - 1] if i else ""))
        else:
            out.append(w.lower())
    return " ".join(out) or "resource"


def _model_doc(doc: str) -> str:
    """The model's own documentation string, tidied into a sentence ('' when it has none)."""
    text = " ".join(doc.split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _describe(
    service: str, name: str, method: str, path: str, scope: str, pagination: dict | None, doc: str = "",
    titles: tuple[str, str] | None = None,
) -> tuple[str, str]:
    short, full = titles or SERVICE_TITLES[service]
    words = split_words(name)
    verb = words[0] if words else ""
    rest = words[1:]
    if verb in _VERBS and rest:
        action = _VERBS[verb]
    else:
        action = {"GET": "Returns", "POST": "Submits", "PUT": "Updates", "PATCH": "Updates",
                  "DELETE": "Deletes"}[method]
        rest = words
    if action.endswith("-"):
        action = action + rest[0].lower() + "s"
        rest = rest[1:]
    resource = _resource_phrase(rest)
    summary = f"{action} {resource}".strip()
    summary = summary[0].upper() + summary[1:]
    if doc:
        parts = [f"{_model_doc(doc)} {short} ({full}): {method} {path}."]
    else:
        parts = [f"{summary} in {short} ({full}), calling {method} {path}."]
    if pagination:
        parts.append(_pagination_hint(pagination))
    if service in ("zia", "ztw") and scope != "read":
        parts.append("The change is staged until the tenant's pending changes are activated.")
    if scope == "destructive":
        parts.append("This removes or revokes something and cannot be undone by this call.")
    return summary, " ".join(parts)


class _Shapes:
    """Turns model shapes into OpenAPI schemas; collects which shapes are referenced."""

    def __init__(self, shapes: dict[str, dict]):
        self.shapes = shapes
        self.used: set[str] = set()

    def ref(self, shape_name: str) -> dict:
        if shape_name in _PRIMITIVES:
            return dict(_PRIMITIVES[shape_name])
        shape = self.shapes[shape_name]
        if shape["type"] == "blob":
            return {"type": "string", "format": "binary"}
        self.used.add(shape_name)
        return {"$ref": f"#/components/schemas/{shape_name}"}

    def schema(self, shape_name: str) -> dict:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "list":
            return {"type": "array", "items": self.ref(shape["member"]["shape"])}
        if kind == "map":
            return {"type": "object", "additionalProperties": self.ref(shape["value"]["shape"])}
        if kind == "blob":
            return {"type": "string", "format": "binary"}
        excluded_sets = [set(v) for v in shape.get("exclude", {}).values()]
        read_only = set.intersection(*excluded_sets) if excluded_sets else set()
        props: dict[str, dict] = {}
        for member_name in sorted(shape.get("members", {})):
            member = shape["members"][member_name]
            prop = self.ref(member["shape"])
            if member_name in read_only:
                prop = {"allOf": [prop], "readOnly": True} if "$ref" in prop else {**prop, "readOnly": True}
            props[member_name] = prop
        out: dict = {"type": "object", "properties": props}
        required = [r for r in shape.get("required", []) if r in props and r not in read_only]
        if required:
            out["required"] = sorted(required)
        return out

    def closure(self) -> dict[str, dict]:
        done: dict[str, dict] = {}
        while pending := sorted(self.used - set(done)):
            for name in pending:
                done[name] = self.schema(name)
        return dict(sorted(done.items()))


def _unify_equivalent_paths(ops: list[ModelOperation]) -> dict[str, dict[str, str]]:
    """Paths that differ only in parameter names are one path in OpenAPI: pick one set of names.

    The most used spelling wins (ties: the alphabetically first). Returns, per operation whose
    path was respelt, a renaming {model param name: template name}.
    """
    by_shape: dict[str, Counter] = defaultdict(Counter)
    for mop in ops:
        by_shape[re.sub(r"\{[^}]+\}", "{}", mop.uri)][mop.uri] += 1
    canonical = {shape: sorted(v, key=lambda u: (-v[u], u))[0] for shape, v in by_shape.items()}
    renames: dict[str, dict[str, str]] = {}
    for mop in ops:
        target = canonical[re.sub(r"\{[^}]+\}", "{}", mop.uri)]
        if target != mop.uri:
            names = re.findall(r"\{([^}]+)\}", mop.uri)
            canon_names = re.findall(r"\{([^}]+)\}", target)
            renames[mop.name] = {a: b for a, b in zip(names, canon_names, strict=True) if a != b}
    return renames


def _parameters(input_shape: dict, rename: dict[str, str], shapes: _Shapes, path: str,
                keep_argument_names: bool) -> list:
    members = input_shape.get("members", {})
    required = set(input_shape.get("required", []))
    params: list[dict] = []
    for member_name in sorted(members):
        member = members[member_name]
        loc = member.get("location")
        if loc not in ("uri", "querystring"):
            continue
        schema = shapes.ref(member["shape"])
        if member.get("is_repeated_key_array") and schema.get("type") != "array" and "$ref" not in schema:
            schema = {"type": "array", "items": schema}
        in_path = loc == "uri"
        param: dict = {
            "name": rename.get(member_name, member_name) if in_path else member_name,
            "in": "path" if in_path else "query",
            "required": in_path or member_name in required,
            "schema": schema,
        }
        if in_path and member_name in rename and keep_argument_names:
            # it shares the endpoint with another operation, and its argument means something else
            # there (ZDX: a predefined application's name, not a configured application's id)
            param["x-oneapi-argument"] = member_name
        if member.get("is_repeated_key_array"):
            param["style"] = "form"
            param["explode"] = True
        params.append(param)
    declared = {p["name"] for p in params if p["in"] == "path"}
    for var in re.findall(r"\{([^}+]+)\+?\}", path):
        if var not in declared:
            params.append({"name": var, "in": "path", "required": True, "schema": {"type": "string"}})
    params.sort(key=lambda p: (p["in"] != "path", p["name"]))
    return params


def _request_body(op: dict, input_shape: dict, shapes: _Shapes) -> dict | None:
    payload = input_shape.get("payload")
    if not payload:
        return None
    body_shape = input_shape["members"][payload]["shape"]
    body_schema = shapes.ref(body_shape)
    if op.get("protocol") == "rest-multipart":
        content_type = "multipart/form-data"
        body_schema = {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
    elif body_shape in _PRIMITIVES:
        content_type = "text/plain"
    else:
        content_type = "application/json"
    return {"required": payload in set(input_shape.get("required", [])),
            "content": {content_type: {"schema": body_schema}}}


def _operation(svc: str, mop: ModelOperation, path: str, rename: dict[str, str], shapes: _Shapes,
               model_shapes: dict, error_schema_name: str, shares_endpoint: bool) -> dict:
    """One model operation as an OpenAPI operation (with the x-oneapi-* decisions)."""
    op = mop.op
    method = mop.method
    input_shape = model_shapes[op["input"]["shape"]] if "input" in op else {}
    params = _parameters(input_shape, rename, shapes, path, shares_endpoint)
    scope = scope_for(mop.model_name, method)
    pagination = _pagination(svc, mop.paginator)
    summary, description = _describe(svc, mop.model_name, method, path, scope, pagination,
                                     op.get("documentation", ""))
    operation: dict = {"operationId": mop.name, "summary": summary, "description": description}
    if params:
        operation["parameters"] = params
    body = _request_body(op, input_shape, shapes)
    if body:
        operation["requestBody"] = body
    code = str(op["http"].get("responseCode", 200))
    response: dict = {"description": "Success."}
    output = op.get("output", {}).get("shape")
    if output and code != "204":
        out_schema = shapes.ref(output)
        media = "application/octet-stream" if out_schema.get("format") == "binary" else "application/json"
        response["content"] = {media: {"schema": out_schema}}
    operation["responses"] = {
        code: response,
        "default": {
            "description": "Error.",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{error_schema_name}"}}},
        },
    }
    operation["x-oneapi-scope"] = scope
    operation["x-oneapi-rate-class"] = rate_class_for(svc, method, path)
    if pagination:
        operation["x-oneapi-pagination"] = pagination
    if mop.resource:
        operation["x-oneapi-resource"] = mop.resource
    operation["x-oneapi-source"] = f"{mop.source}#/operations/{mop.model_name}"
    return operation


def count_operations(doc: dict) -> int:
    """Operations in a converted document, counting those that share a method and path (variants)."""
    return sum(1 + len(op.get("x-oneapi-variants", ()))
               for item in doc["paths"].values() for op in item.values() if isinstance(op, dict))


def convert_service(versions: tuple[ServiceModels, ...] | ServiceModels) -> dict:
    """Build the OpenAPI document (a plain dict, deterministic order) for every version of one service.

    Every model operation ends up in the document: when two share a method and a path (ZDX serves
    configured and predefined applications at `/config/applications/{id-or-name}`), the one whose
    path kept its spelling is the path's operation and the others are its `x-oneapi-variants`. An
    operation that cannot be converted raises ModelError naming it.
    """
    if isinstance(versions, ServiceModels):
        versions = (versions,)
    svc = versions[0].service
    short, full = SERVICE_TITLES[svc]
    ops, model_shapes = merge_versions(svc, versions)
    shapes = _Shapes(model_shapes)
    renames = _unify_equivalent_paths(ops)
    error_schema_name = f"{short.replace('ZIdentity', 'Zid')}Error"

    op_paths: dict[str, tuple[str, str]] = {}
    for mop in ops:
        rename = renames.get(mop.name, {})
        path = re.sub(r"\{([^}]+)\}", lambda m, r=rename: "{" + r.get(m.group(1), m.group(1)) + "}", mop.uri)
        op_paths[mop.name] = (path, mop.method)
    endpoints = Counter(op_paths.values())

    grouped: dict[tuple[str, str], list[tuple[ModelOperation, dict]]] = defaultdict(list)
    for mop in ops:
        path = op_paths[mop.name][0]
        try:
            operation = _operation(svc, mop, path, renames.get(mop.name, {}), shapes, model_shapes,
                                   error_schema_name, endpoints[op_paths[mop.name]] > 1)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"{mop.source}#/operations/{mop.model_name}: cannot convert it: {exc!r}") from exc
        if len(versions) > 1:
            operation["x-oneapi-model-version"] = mop.version  # a later version's tool may say so in its name
        grouped[(path, mop.method)].append((mop, operation))

    paths: dict[str, dict] = defaultdict(dict)
    for (path, method), entries in grouped.items():
        # the operation whose path kept the model's spelling leads; the rest ride along as variants
        entries.sort(key=lambda e: (e[0].name in renames, e[0].version, e[0].name))
        primary = entries[0][1]
        if len(entries) > 1:
            primary["x-oneapi-variants"] = [operation for _, operation in entries[1:]]
        paths[path][method.lower()] = primary

    _add_links(ops, op_paths, paths)

    schemas = shapes.closure()
    schemas[error_schema_name] = _ERROR_SCHEMAS.get(svc, _GENERIC_ERROR)
    model_files = ", ".join(f"v{m.version}" for m in versions)
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": f"{full} ({short}) through Zscaler OneAPI",
            "version": versions[-1].model["metadata"].get("apiVersion", "unknown"),
            "description": (
                f"Converted mechanically by oneapi-mcp (`make specs`) from the {svc} service models "
                f"({model_files}) in Zscaler's MIT-licensed SDK wheel; see SOURCES.md. Hand-written "
                f"descriptions come from overlays/{svc}.yaml."
            ),
            "license": {"name": "MIT", "url": "https://opensource.org/licenses/MIT"},
        },
        "servers": [
            {"url": "https://api.zsapi.net", "description": "Production OneAPI"},
            {
                "url": "https://api.{cloud}.zsapi.net",
                "description": "A named OneAPI cloud such as beta",
                "variables": {"cloud": {"default": "beta"}},
            },
        ],
        "security": [{"oneapi": []}],
        "x-oneapi-service": svc,
        "x-oneapi-short-name": short,
        "x-oneapi-base-paths": list(BASE_PATHS[svc]),
        "x-oneapi-rate-classes": {k: v for k, v in RATE_CLASSES.items() if k.startswith(svc + ".")},
        "x-oneapi-rate-limit-headers": _RATE_HEADERS[svc],
        "paths": {p: dict(sorted(paths[p].items())) for p in sorted(paths)},
        "components": {
            "securitySchemes": {
                "oneapi": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": (
                        "Bearer token from ZIdentity: POST https://<vanity>.zslogin.net/oauth2/v1/token with "
                        "grant_type=client_credentials, client_id, client_secret (or a private-key JWT "
                        "client_assertion) and audience=https://api.zscaler.com."
                    ),
                }
            },
            "schemas": schemas,
        },
    }
    if PROBES[svc][0] in {mop.name for mop in ops}:  # (a fixture model may not have it)
        doc = _with_probe(doc, {"operationId": PROBES[svc][0], "arguments": PROBES[svc][1]})
    written = count_operations(doc)
    if written != len(ops):
        raise ModelError(f"{svc}: {len(ops)} model operations but {written} in the document")
    return doc


def _with_probe(doc: dict, probe: dict) -> dict:
    """`doc` with x-oneapi-probe after x-oneapi-base-paths (the keys keep their order in the YAML)."""
    out: dict = {}
    for key, value in doc.items():
        out[key] = value
        if key == "x-oneapi-base-paths":
            out["x-oneapi-probe"] = probe
    return out


def _operation_at(paths: dict, path: str, method: str, name: str) -> dict:
    primary = paths[path][method.lower()]
    if primary["operationId"] == name:
        return primary
    return next(v for v in primary["x-oneapi-variants"] if v["operationId"] == name)


def _add_links(ops: list[ModelOperation], op_paths: dict, paths: dict) -> None:
    """OpenAPI links from each create operation to the load/update/delete of the same resource
    (of the same model version: a v2 create does not link to a v1 load)."""
    by_type: dict[tuple[int, str], dict[str, ModelOperation]] = defaultdict(dict)
    for mop in ops:
        if mop.resource:
            by_type[(mop.version, mop.resource["type"])].setdefault(mop.resource["action"], mop)
    for version, rtype in sorted(by_type):
        actions = by_type[(version, rtype)]
        create = actions.get("create")
        if not create or "id_field" not in create.resource:
            continue
        id_field = create.resource["id_field"]
        c_path, c_method = op_paths[create.name]
        c_path_params = set(re.findall(r"\{([^}]+)\}", c_path))
        links: dict[str, dict] = {}
        for action in ("load", "update", "delete"):
            target = actions.get(action)
            if not target or "id_param" not in target.resource:
                continue
            t_path, _ = op_paths[target.name]
            id_param = target.resource["id_param"]
            t_params = re.findall(r"\{([^}]+)\}", t_path)
            if id_param not in t_params:
                # the identifier was renamed with its path; fall back to the last path parameter
                id_param = t_params[-1] if t_params else id_param
            parameters = {id_param: f"$response.body#/{id_field}"}
            for p in t_params:
                if p != id_param and p in c_path_params:
                    parameters[p] = f"$request.path.{p}"
            if len(parameters) != len(t_params):
                continue  # cannot fill every path parameter from the create call
            links[f"{action}{rtype}"[0].upper() + f"{action}{rtype}"[1:]] = {
                "operationId": target.name,
                "parameters": parameters,
            }
        if links:
            responses = _operation_at(paths, c_path, c_method, create.name)["responses"]
            ok = next(code for code in responses if code != "default")
            responses[ok]["links"] = links
