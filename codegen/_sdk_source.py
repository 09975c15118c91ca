"""Read Zscaler's hand-written SDK source (zscaler-sdk-python 1.x, `zscaler/<svc>/*.py`) with `ast`.

Services that the machine-readable models do not cover (EASM, ZCell, ZTB, ZBI, ZWA, AI Guard) are
implemented by hand in the SDK. Each API method follows one pattern, which this module reads without
importing the SDK: `http_method = "get".upper()`, `api_url = format_url(f"{self._base}/path/{arg}")`,
query parameters documented as ``[query_params.name]`` {type} in the docstring or set as
`query_params["name"] = ...`, a body from `body = kwargs` / `body = {...}`, and the answer built with
a model class (`Model(response.get_body())`, a list when read through `response.get_results()`).
Model classes (`models/*.py`) give the wire field names they read from `config["name"]`.

Pure reading: no I/O besides the source files, deterministic order.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SdkAccessor", "SdkCall", "SourceField", "SourceModel", "SourceOperation", "SourceParam", "read_api_calls",
           "read_service_source"]

# files that are clients, wiring or a legacy (non-OneAPI) host, not API resources
_SKIPPED_FILES = ("__init__.py", "legacy.py")
_DOC_QUERY = re.compile(r"``\[query_params\.(\w+)\]``\s*[\{(]([^})]*)[})]\s*:?\s*(.*)")
# the other docstring style, inside the query_params entry: "- ``page_size`` (int, optional): ..."
_DOC_QUERY_ITEM = re.compile(r"^\s*-\s+``(\w+)``\s+\((\w+)[^)]*\):?\s*(.*)", re.M)
_DOC_NEXT_ARG = re.compile(r"\n\s{0,12}\w+ \((?:dict|list|str|int|bool)[^)]*\)")
_TYPES = {"int": "integer", "integer": "integer", "bool": "boolean", "boolean": "boolean", "float": "number",
          "list": "array", "dict": "object", "str": "string", "string": "string"}


@dataclass(frozen=True)
class SourceField:
    name: str  # wire name
    ref: str | None = None  # a model class
    array: bool = False
    item_type: str | None = None  # a primitive item type of an array (e.g. str)


@dataclass(frozen=True)
class SourceModel:
    name: str
    file: str
    fields: tuple[SourceField, ...]


@dataclass(frozen=True)
class SourceParam:
    name: str
    type: str  # JSON schema type
    description: str = ""


@dataclass(frozen=True)
class SourceOperation:
    service: str
    file: str  # relative to zscaler/, e.g. aiguard/llm_applications.py
    line: int
    function: str  # the SDK method, e.g. list_applications
    method: str
    path: str
    path_types: tuple[tuple[str, str], ...]
    query: tuple[SourceParam, ...]
    body: str | None  # "model" | "object" | None
    body_fields: tuple[str, ...]
    model: str | None  # the model class the answer is read into (and a kwargs body is shaped like)
    answer_list: bool
    summary: str
    binary: bool = False  # the answer is a file (Accept: application/octet-stream)
    arguments: tuple[tuple[str, str], ...] = ()  # path parameter -> the SDK's argument name, where they differ


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _class_strings(cls: ast.ClassDef) -> dict[str, str]:
    """String attributes of a client class: class-level, or `self.x = "..."` in a method."""
    out: dict[str, str] = {}
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and (value := _const_str(node.value)):
            target = node.targets[0]
            if isinstance(target, ast.Name):
                out[target.id] = value
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                out[target.attr] = value
    return out


def _url(node: ast.AST, strings: dict[str, str], *, open_attributes: bool = False) -> str | None:
    """The path a URL expression formats. `open_attributes`: an attribute that is no known string is a path
    parameter too (`{self.customer_id}` in a base path set in `__init__`)."""
    if isinstance(node, ast.Call) and node.args:  # format_url(...)
        return _url(node.args[0], strings, open_attributes=open_attributes)
    if (text := _const_str(node)) is not None:
        return text
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if (text := _const_str(value)) is not None:
            parts.append(text)
        elif isinstance(value, ast.FormattedValue):
            inner = value.value
            if isinstance(inner, ast.Attribute) and inner.attr in strings:
                parts.append(strings[inner.attr])
            elif isinstance(inner, ast.Name):
                parts.append("{" + inner.id + "}")
            elif open_attributes and isinstance(inner, ast.Attribute):
                parts.append("{" + inner.attr + "}")
            else:
                return None
    # format_url strips the indentation and line breaks of the triple-quoted f-string (zscaler/utils.py)
    return re.sub(r"\s+", "", "".join(parts))


def _assigned(fn: ast.FunctionDef, name: str) -> ast.AST | None:
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return node.value
    return None


def _http_method(node: ast.AST | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        node = node.func.value  # "get".upper()
    text = _const_str(node)
    return text.upper() if text else None


def _annotation_type(node: ast.AST | None) -> str:
    text = ast.unparse(node) if node is not None else "str"
    for key, kind in (("int", "integer"), ("bool", "boolean"), ("float", "number")):
        if re.search(rf"\b{key}\b", text):
            return kind
    return "string"


def _query(fn: ast.FunctionDef, doc: str) -> tuple[SourceParam, ...]:
    found: dict[str, SourceParam] = {}
    entry = doc.split("query_params", 1)[1] if "query_params" in doc else ""
    entry = entry[: m.start()] if (m := _DOC_NEXT_ARG.search(entry)) else entry
    for m in (*_DOC_QUERY.finditer(doc), *_DOC_QUERY_ITEM.finditer(entry)):
        kind = _TYPES.get(m.group(2).strip().split("[")[0].lower(), "string")
        found.setdefault(m.group(1), SourceParam(m.group(1), kind, " ".join(m.group(3).split())))
    args = {a.arg: a for a in fn.args.args + fn.args.kwonlyargs}
    for node in ast.walk(fn):  # create_request(..., params={"id": app_id})
        if isinstance(node, ast.keyword) and node.arg == "params" and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                arg = args.get(value.id) if isinstance(value, ast.Name) else None
                if (name := _const_str(key)) and name not in found:
                    found[name] = SourceParam(name, _annotation_type(arg.annotation) if arg else "string")
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(t := node.targets[0], ast.Subscript):
            if isinstance(t.value, ast.Name) and t.value.id in ("query_params", "params"):
                key = _const_str(t.slice)
                if key and key not in found:
                    arg = args.get(node.value.id) if isinstance(node.value, ast.Name) else None
                    found[key] = SourceParam(key, _annotation_type(arg.annotation) if arg else "string")
    return tuple(sorted(found.values(), key=lambda p: p.name))


def _body(fn: ast.FunctionDef) -> tuple[str | None, tuple[str, ...]]:
    value = _assigned(fn, "body") or _assigned(fn, "payload")
    keys: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(t := node.targets[0], ast.Subscript):
            if isinstance(t.value, ast.Name) and t.value.id in ("body", "payload") and (key := _const_str(t.slice)):
                keys.add(key)
    if isinstance(value, ast.Dict):
        keys |= {k for k in (_const_str(key) for key in value.keys if key is not None) if k}
        return ("object", tuple(sorted(keys))) if keys else (None, ())
    if value is None:
        return (None, ())
    return ("model", tuple(sorted(keys)))  # kwargs, or a model's request_format()


def _answer(fn: ast.FunctionDef, models: set[str]) -> tuple[str | None, bool]:
    source = ast.unparse(fn)
    built = [node.func.id for node in ast.walk(fn)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in models]
    execute_model = None
    for node in ast.walk(fn):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "execute"
                and len(node.args) > 1 and isinstance(node.args[1], ast.Name) and node.args[1].id in models):
            execute_model = node.args[1].id
    model = built[-1] if built else execute_model
    return model, "get_results()" in source


def _summary(doc: str) -> str:
    first = doc.strip().split("\n\n", 1)[0]
    return " ".join(first.split())


def _operations(service: str, file: Path, rel: str, models: set[str]) -> list[SourceOperation]:
    tree = ast.parse(file.read_text())
    out: list[SourceOperation] = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        strings = _class_strings(cls)
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")):
            method = _http_method(_assigned(fn, "http_method"))
            url_node = _assigned(fn, "api_url")
            path = _url(url_node, strings) if url_node is not None else None
            if not method or not path:
                continue
            doc = ast.get_docstring(fn) or ""
            args = {a.arg: a for a in fn.args.args}
            params = re.findall(r"\{(\w+)\}", path)
            body, fields = _body(fn) if method in ("POST", "PUT", "PATCH") else (None, ())
            model, many = _answer(fn, models)
            out.append(SourceOperation(
                service=service, file=rel, line=fn.lineno, function=fn.name, method=method, path=path,
                path_types=tuple((p, _annotation_type(args[p].annotation if p in args else None)) for p in params),
                query=_query(fn, doc), body=body, body_fields=fields, model=model, answer_list=many,
                summary=_summary(doc), binary="octet-stream" in ast.unparse(fn)))
    return out


def _field(target: ast.AST, models: set[str], key: str) -> SourceField:
    """What `self.x = <value>` makes of config[key]: a model, a list of models or of primitives."""
    for node in ast.walk(target):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in models:
                return SourceField(key, ref=func.id)
            if isinstance(func, ast.Attribute) and func.attr in models:  # common.Common(config["cursor"])
                return SourceField(key, ref=func.attr)
            if isinstance(func, ast.Attribute) and func.attr == "form_list" and len(node.args) > 1:
                kind = node.args[1]
                name = kind.id if isinstance(kind, ast.Name) else kind.attr if isinstance(kind, ast.Attribute) else None
                if name in models:  # form_list(config["results"], common.CommonIDName)
                    return SourceField(key, ref=name, array=True)
                return SourceField(key, array=True,
                                   item_type=_TYPES.get(kind.id, "string") if isinstance(kind, ast.Name) else None)
    return SourceField(key)


def _models(service_dir: Path, root: Path) -> dict[str, SourceModel]:
    files = sorted((service_dir / "models").glob("*.py"))
    trees = [(f, ast.parse(f.read_text())) for f in files]
    names = {c.name for _, t in trees for c in t.body if isinstance(c, ast.ClassDef)}
    out: dict[str, SourceModel] = {}
    for file, tree in trees:
        for cls in (c for c in tree.body if isinstance(c, ast.ClassDef)):
            init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
            if init is None:
                continue
            fields: dict[str, SourceField] = {}
            for stmt in ast.walk(init):
                if not isinstance(stmt, (ast.Assign, ast.If)):
                    continue
                for node in ast.walk(stmt):
                    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
                            and node.value.id == "config" and (key := _const_str(node.slice))):
                        found = _field(stmt, names, key) if isinstance(stmt, ast.Assign) else SourceField(key)
                        if key not in fields or (found.ref and not fields[key].ref):
                            fields[key] = found
            out[cls.name] = SourceModel(cls.name, file.relative_to(root).as_posix(),
                                        tuple(sorted(fields.values(), key=lambda f: f.name)))
    return out


def read_service_source(root: Path, package: str, service: str) -> tuple[list[SourceOperation], dict[str, SourceModel]]:
    """Every API method and model class of `root/<package>/` (root is the SDK's `zscaler/` directory)."""
    service_dir = root / package
    models = _models(service_dir, root)
    ops: list[SourceOperation] = []
    for file in sorted(service_dir.glob("*.py")):
        if file.name in _SKIPPED_FILES or file.name.endswith("_service.py"):
            continue
        ops.extend(_operations(service, file, file.relative_to(root).as_posix(), set(models)))
    return ops, models


# ---- every API call, as the SDK's users name it (codegen/_sdk_names.py) ----

@dataclass(frozen=True)
class SdkCall:
    """One public method of a resource client and the request it sends."""

    package: str  # zpa
    file: str  # relative to zscaler/, e.g. zpa/app_connector_groups.py
    cls: str  # AppConnectorGroupAPI
    function: str  # list_connector_groups
    method: str
    path: str  # as the SDK formats it (path parameters named as in the SDK), without a query string
    summary: str  # the docstring's first paragraph
    graphql: str | None = None  # the GraphQL operation it sends (Z-Insights, ZMS: every call is POST /graphql)


@dataclass(frozen=True)
class SdkAccessor:
    """How a user reaches a resource client: `client.zpa.app_connector_groups`, the "App Connector Groups
    interface" of the SDK's documentation."""

    name: str  # app_connector_groups
    cls: str  # AppConnectorGroupAPI
    title: str  # App Connector Groups


# ":ref:`ZPA App Connector Groups interface <zpa-app_connector_groups>`", ":ref:`Z-Ins Web Traffic API <...>`"
_ACCESSOR_TITLE = re.compile(r":ref:`(?:AI Guard |Z-Ins |Z[A-Za-z]{1,4} )?(.+?)(?: interface| API)? <")
_GRAPHQL_NAME = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


def _class_templates(cls: ast.ClassDef) -> dict[str, str]:
    """`_class_strings` and the base paths formatted from them or from the tenant's id, set in `__init__`:
    `f"/zpa/mgmtconfig/v1/admin/customers/{customer_id}"`, `f"{self._zpa_base_endpoint}/tagGroup"`."""
    strings = _class_strings(cls)
    formatted = [(t.attr if isinstance(t, ast.Attribute) else t.id, node.value) for node in ast.walk(cls)
                 if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.JoinedStr)
                 and isinstance(t := node.targets[0], (ast.Name, ast.Attribute))]
    for name, value in formatted:  # in source order: a base is set before the paths formatted from it
        if name not in strings and (text := _url(value, strings, open_attributes=True)) is not None:
            strings[name] = text
    return strings


def _request(fn: ast.FunctionDef, strings: dict[str, str]) -> tuple[str | None, str | None]:
    """The HTTP method and path a method sends: `http_method`/`api_url`, or what it hands `create_request`
    (`create_request("GET", api_url)`, `create_request("POST", self._tag_group_endpoint, ...)`)."""
    method_node, url_node = _assigned(fn, "http_method"), _assigned(fn, "api_url")
    call = next((n for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                 and n.func.attr == "create_request" and len(n.args) > 1), None)
    if call is not None:
        first, second = call.args[0], call.args[1]
        method_node = _assigned(fn, first.id) if isinstance(first, ast.Name) else first
        url_node = _assigned(fn, second.id) if isinstance(second, ast.Name) else second
    while isinstance(url_node, ast.Call) and url_node.args:  # format_url(...)
        url_node = url_node.args[0]
    if isinstance(url_node, ast.Attribute):  # the path is a base path itself
        return _http_method(method_node), strings.get(url_node.attr)
    path = _url(url_node, strings) if url_node is not None else None
    return _http_method(method_node), path.split("?", 1)[0] if path else None


def _graphql_name(fn: ast.FunctionDef) -> str | None:
    for node in ast.walk(fn):
        if (text := _const_str(node)) and (m := _GRAPHQL_NAME.match(text)):
            return m.group(1)
    return None


def _accessors(tree: ast.Module) -> list[SdkAccessor]:
    """The `@property` of a service client that returns a resource client (zpa_service.py and the like)."""
    out = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            returns = fn.returns
            returned = returns.id if isinstance(returns, ast.Name) else _const_str(returns) if returns else None
            if returned and any(isinstance(d, ast.Name) and d.id == "property" for d in fn.decorator_list):
                m = _ACCESSOR_TITLE.search(" ".join((ast.get_docstring(fn) or "").split()))
                out.append(SdkAccessor(fn.name, returned, m.group(1) if m else ""))
    return out


def read_api_calls(root: Path, package: str) -> tuple[list[SdkCall], dict[str, SdkAccessor]]:
    """Every public method of `root/<package>/` that sends a request, and the accessor of each resource client
    class (class name -> accessor). Unlike `read_service_source`, this reads every package, including ZPA's base
    paths formatted with the tenant's id and GraphQL calls."""
    calls: list[SdkCall] = []
    accessors: dict[str, SdkAccessor] = {}
    for file in sorted((root / package).glob("*.py")):
        if file.name in _SKIPPED_FILES:
            continue
        tree = ast.parse(file.read_text())
        for accessor in _accessors(tree):
            accessors.setdefault(accessor.cls, accessor)
        rel = file.relative_to(root).as_posix()
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            strings = _class_templates(cls)
            for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")):
                method, path = _request(fn, strings)
                if method and path:
                    path = re.sub(r"\s+|\"", "", path)  # a stray quote: zia/audit_logs.py's f\"\"\"...\"\"\"\"
                    calls.append(SdkCall(package, rel, cls.name, fn.name, method, path,
                                         _summary(ast.get_docstring(fn) or ""), _graphql_name(fn)))
    return calls, accessors
