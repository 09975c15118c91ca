"""Stage 1, load: read a spec, apply its overlay, check it, and say exactly what is wrong."""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ._ir import Problem

__all__ = ["LoadedSpec", "apply_overlay", "iter_operations", "load_spec", "overlay_files", "resolve_pointer"]

_HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_TOOL_METHODS = ("get", "put", "post", "delete", "patch")


def iter_operations(doc: dict, methods: tuple[str, ...] = _TOOL_METHODS):
    """(path, method, path-level parameters, operation, pointer, is_variant) for every operation in
    path order, each followed by its `x-oneapi-variants`: operations of the model that share the
    method and path with it (see codegen/_convert.py)."""
    for path in sorted(doc.get("paths") or {}):
        item = doc["paths"][path]
        if not isinstance(item, dict):
            continue
        shared_params = item.get("parameters") or []
        for method in methods:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            pointer = f"/paths/{_escape(path)}/{method}"
            yield path, method, shared_params, op, pointer, False
            for i, variant in enumerate(op.get("x-oneapi-variants") or []):
                if isinstance(variant, dict):
                    yield path, method, shared_params, variant, f"{pointer}/x-oneapi-variants/{i}", True


@dataclass
class LoadedSpec:
    path: Path
    doc: dict
    sha256: str
    overlay_path: Path | None
    overlay_sha256: str
    described: set[str] = field(default_factory=set)  # operation pointers given a hand-written description
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve_pointer(doc: object, pointer: str) -> object:
    """Resolve a JSON pointer (`/components/schemas/User`); raises KeyError when it leads nowhere."""
    node = doc
    if pointer in ("", "/"):
        return node
    for raw in pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                raise KeyError(pointer)
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(pointer)
    return node


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[object, bytes]:
    raw = path.read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader), raw
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problems.append(Problem("error", str(path), "", f"invalid YAML{where}: {exc.problem}"))
    except yaml.YAMLError as exc:
        problems.append(Problem("error", str(path), "", f"invalid YAML: {exc}"))
    return None, raw


def _merge(target: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key].extend(copy.deepcopy(value))
        else:
            target[key] = copy.deepcopy(value)


def apply_overlay(doc: dict, overlay: dict, overlay_file: str, problems: list[Problem]) -> set[str]:
    """Apply an OpenAPI Overlay 1.0 document in place. Returns the pointers of updated objects."""
    # The extended parser reads RFC 9535 filter selectors (`parameters[?@.name=='id']`), which
    # Overlay 1.0 targets use; the parser is slow to import, and only overlays need it.
    from jsonpath_ng.ext import parse as jsonpath_parse

    touched: set[str] = set()
    if not isinstance(overlay, dict) or not str(overlay.get("overlay", "")).startswith("1."):
        problems.append(Problem("error", overlay_file, "/overlay", "not an OpenAPI Overlay 1.x document"))
        return touched
    for i, action in enumerate(overlay.get("actions") or []):
        pointer = f"/actions/{i}"
        target = action.get("target") if isinstance(action, dict) else None
        if not isinstance(target, str):
            problems.append(Problem("error", overlay_file, pointer, "action has no target"))
            continue
        try:
            matches = jsonpath_parse(target).find(doc)
        except Exception as exc:  # jsonpath-ng raises plain Exceptions for syntax errors
            problems.append(Problem("error", overlay_file, pointer + "/target", f"bad JSONPath {target!r}: {exc}"))
            continue
        if not matches:
            problems.append(Problem("warning", overlay_file, pointer + "/target", f"{target!r} matches nothing"))
            continue
        removed_from_lists: list[tuple[list, int]] = []
        for match in matches:
            where = "/" + "/".join(_escape(str(p)) for p in _match_path(match))
            if action.get("remove"):
                parent = match.context.value if match.context else None
                if isinstance(parent, dict):
                    parent.pop(str(match.path.fields[0]), None)
                elif isinstance(parent, list):
                    removed_from_lists.append((parent, int(_match_path(match)[-1])))
                continue
            update = action.get("update")
            if isinstance(update, dict) and isinstance(match.value, dict):
                _merge(match.value, update)
                touched.add(where)
            else:
                problems.append(Problem("error", overlay_file, pointer + "/update", "update must be an object"))
        for parent, index in sorted(removed_from_lists, key=lambda t: -t[1]):  # last first: indexes stay valid
            del parent[index]
    return touched


def _match_path(match) -> list[str]:
    parts: list[str] = []
    node = match
    while node is not None and node.context is not None:
        fields = getattr(node.path, "fields", None)
        indices = getattr(node.path, "indices", None) or (getattr(node.path, "index", None),)
        parts.append(str(fields[0]) if fields else str(indices[0]))
        node = node.context
    return list(reversed(parts))


def _check_refs(doc: object, file: str, problems: list[Problem]) -> None:
    stack: list[tuple[object, str]] = [(doc, "")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if not ref.startswith("#"):
                    problems.append(Problem("error", file, where + "/$ref", f"external $ref {ref!r} is not supported"))
                else:
                    try:
                        resolve_pointer(doc, ref[1:])
                    except KeyError:
                        problems.append(Problem("error", file, where + "/$ref", f"dangling $ref {ref!r}"))
            for key, value in node.items():
                stack.append((value, f"{where}/{_escape(str(key))}"))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                stack.append((value, f"{where}/{i}"))


def _check_operation_ids(doc: dict, file: str, problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for _path, _method, _shared, op, where, _variant in iter_operations(doc, _HTTP_METHODS):
        op_id = op.get("operationId")
        pointer = f"{where}/operationId"
        if op_id is None:
            continue
        if op_id in seen:
            problems.append(Problem(
                "error", file, pointer, f"duplicate operationId {op_id!r} (first at {seen[op_id]})"))
        else:
            seen[op_id] = pointer


def _check_path_params(doc: dict, file: str, problems: list[Problem]) -> None:
    # openapi-spec-validator reports these too, but without a location; this says which operation
    for path, _method, shared, op, pointer, _variant in iter_operations(doc, _HTTP_METHODS):
        template = set(re.findall(r"\{([^}]+)\}", path))
        declared: set[str] = set()
        for raw in list(shared) + list(op.get("parameters") or []):
            try:
                param = resolve_pointer(doc, raw["$ref"][1:]) if "$ref" in raw else raw
            except (KeyError, TypeError):
                continue  # a dangling or malformed $ref is reported on its own
            if isinstance(param, dict) and param.get("in") == "path":
                declared.add(str(param.get("name")))
        for name in sorted(template - declared):
            problems.append(Problem("error", file, pointer, f"path parameter {name!r} is not declared"))
        for name in sorted(declared - template):
            problems.append(Problem("error", file, pointer, f"path parameter {name!r} is not in the path {path!r}"))


def _validate(doc: dict, file: str, problems: list[Problem]) -> None:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    cls = OpenAPIV31SpecValidator if str(doc.get("openapi", "")).startswith("3.1") else OpenAPIV30SpecValidator
    try:
        for err in cls(doc).iter_errors():
            where = "/" + "/".join(_escape(str(p)) for p in getattr(err, "path", []))
            problems.append(Problem("error", file, where if where != "/" else "", f"invalid OpenAPI: {err.message}"))
    except Exception as exc:  # the validator raises instead of reporting on some broken documents
        problems.append(Problem("error", file, "", f"invalid OpenAPI: {exc}"))


def overlay_files(overlay_path: Path) -> list[Path]:
    """Those of `overlays/<svc>.yaml` and `overlays/<svc>.descriptions.yaml` (descriptions in administrators'
    words) that exist, applied in that order, so the second wins. Either may be alone: the GraphQL services
    (Z-Insights, ZMS) need no overlay of their own but take descriptions. A GraphQL operation is one of the
    shared path's operations, the path's own or one of its `x-oneapi-variants`, depending on where its name
    sorts; a target that finds it wherever it sits: `$.paths['/zins/graphql']..[?@.operationId=='<name>']`."""
    extra = overlay_path.with_name(f"{overlay_path.stem}.descriptions{overlay_path.suffix}")
    return [p for p in (overlay_path, extra) if p.exists()]


def load_spec(path: Path, overlay_path: Path | None = None, *, validate: bool = True) -> LoadedSpec:
    """Read, overlay and check one spec. Problems are gathered, never raised."""
    problems: list[Problem] = []
    doc, raw = _read_yaml(path, problems)
    spec_sha = hashlib.sha256(raw).hexdigest()
    overlay_sha = ""
    described: set[str] = set()
    if doc is not None and not isinstance(doc, dict):
        problems.append(Problem("error", str(path), "", "a spec must be a mapping at the top level"))
        doc = None
    if doc is not None and overlay_path is not None and overlay_files(overlay_path):
        before = _descriptions(doc)
        digest = hashlib.sha256()
        for file in overlay_files(overlay_path):
            overlay, overlay_raw = _read_yaml(file, problems)
            digest.update(overlay_raw)
            if overlay is not None:
                apply_overlay(doc, overlay, str(file), problems)
        overlay_sha = digest.hexdigest()
        after = _descriptions(doc)
        described = {p for p, d in after.items() if d != before.get(p)}
    loaded = LoadedSpec(path, doc or {}, spec_sha, overlay_path, overlay_sha, described, problems)
    if doc is None:
        return loaded
    _check_refs(doc, str(path), problems)
    _check_operation_ids(doc, str(path), problems)
    _check_path_params(doc, str(path), problems)
    if validate and not loaded.errors:
        _validate(doc, str(path), problems)
    return loaded


def _descriptions(doc: dict) -> dict[str, str]:
    return {pointer: op.get("description", "") for *_, op, pointer, _variant in iter_operations(doc, _HTTP_METHODS)}
