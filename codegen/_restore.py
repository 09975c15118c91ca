"""Keep operations the previous models had and the new ones dropped, when real traffic shows them served.

Zscaler's stable models left out endpoints that real tenants answer (ZIA `GET /adminRoles`,
`/passwordExpiry/settings`: zia/cassettes/TestAdminRoles.yaml, TestExemptedUrls.yaml). An operation
of the previous pin's models whose method and path the new models no longer have is kept when a
recorded interaction the service served (a 2xx, or its own 401/403 error body; specs/recorded_routes.json)
hits its template, and not a more specific one;
it carries `x-oneapi-source: {model: <previous wheel>:<member>#/operations/<name>, evidence: <cassette>}`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from ._recorded import best_template, template_key

__all__ = ["Dropped", "restore_dropped"]

_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Dropped:
    """One previous method and path missing from the new models: kept (`evidence`, the cassette), moved
    (`moved_to`, where the new models serve the same operationId) or dropped (neither)."""

    method: str
    path: str
    operation_id: str
    evidence: str | None
    moved_to: str | None = None


def _operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict):
                yield method.upper(), path, op


def _evidence(new_doc: dict, old_doc: dict, routes: list[dict]) -> dict[tuple[str, str], str]:
    """(method, template key) -> the first cassette whose served call hits that template, new or old."""
    templates = {(m, p) for doc in (new_doc, old_doc) for m, p, _ in _operations(doc)}
    out: dict[tuple[str, str], str] = {}
    for route in routes:
        template = best_template(route["method"], route["path"], templates)
        if template:
            out.setdefault((route["method"], template_key(template)), route["evidence"])
    return out


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(_REF)} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def _rename_refs(node: object, renames: dict[str, str]) -> object:
    if isinstance(node, dict):
        return {k: (_REF + renames.get(v.removeprefix(_REF), v.removeprefix(_REF))
                    if k == "$ref" and isinstance(v, str) else _rename_refs(v, renames)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rename_refs(v, renames) for v in node]
    return node


def _bring_schemas(op: dict, old_schemas: dict, new_schemas: dict, suffix: str) -> dict:
    """Copy the schemas `op` needs into new_schemas; a name the new models use differently gets `suffix`."""
    needed, pending = set(), _refs(op)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending |= _refs(old_schemas[name])
    renames = {n: n + suffix for n in sorted(needed) if n in new_schemas and new_schemas[n] != old_schemas[n]}
    for name in sorted(needed):
        new_schemas.setdefault(renames.get(name, name), _rename_refs(copy.deepcopy(old_schemas[name]), renames))
    return _rename_refs(op, renames)


def _respell(op: dict, old_path: str, path: str) -> dict:
    """Path parameters named as the new document spells the same path."""
    names = dict(zip(re.findall(r"\{([^}]+)\}", old_path), re.findall(r"\{([^}]+)\}", path), strict=True))
    for each in (op, *op.get("x-oneapi-variants", ())):
        for param in each.get("parameters", ()):
            if param.get("in") == "path":
                param["name"] = names.get(param["name"], param["name"])
    return op


def _with_provenance(op: dict, model_file: str, evidence: str, operation_ids: set[str]) -> dict:
    for each in (op, *op.get("x-oneapi-variants", ())):
        each["x-oneapi-source"] = {"model": f"{model_file}:{each['x-oneapi-source']}", "evidence": evidence}
        for response in each["responses"].values():
            links = {k: v for k, v in response.get("links", {}).items() if v["operationId"] in operation_ids}
            response.pop("links", None)
            if links:
                response["links"] = links
    return op


def restore_dropped(new_doc: dict, old_doc: dict, routes: list[dict], model_file: str
                    ) -> list[Dropped]:
    """Add to new_doc (in place) every dropped operation of old_doc with recorded evidence; list all that are
    missing (kept, moved or dropped)."""
    new_paths = {template_key(p): p for p in new_doc["paths"]}
    present = {(m, template_key(p)) for m, p, _ in _operations(new_doc)}
    evidence = _evidence(new_doc, old_doc, routes)
    new_ids = {each["operationId"]: f"{method} {path}" for method, path, op in _operations(new_doc)
               for each in (op, *op.get("x-oneapi-variants", ()))}
    taken_ids = set(new_ids)
    dropped: list[Dropped] = []
    kept: list[tuple[str, str, dict]] = []
    for method, old_path, op in _operations(old_doc):
        key = (method, template_key(old_path))
        if key in present:
            continue
        dropped.append(Dropped(method, old_path, op["operationId"], evidence.get(key), new_ids.get(op["operationId"])))
        if key in evidence:
            ids = [each["operationId"] for each in (op, *op.get("x-oneapi-variants", ()))]
            if set(ids) & taken_ids:
                raise ValueError(f"{method} {old_path}: operationId {sorted(set(ids) & taken_ids)} of the previous "
                                 "models is used by another operation of the new ones")
            kept.append((method, old_path, op))
            taken_ids.update(ids)
    schemas = new_doc["components"]["schemas"]
    for method, old_path, op in kept:
        path = new_paths.setdefault(template_key(old_path), old_path)
        restored = _bring_schemas(copy.deepcopy(op), old_doc["components"]["schemas"], schemas, "Previous")
        restored = _with_provenance(_respell(restored, old_path, path), model_file,
                                    evidence[(method, template_key(old_path))], taken_ids)
        new_doc["paths"].setdefault(path, {})[method.lower()] = restored
    new_doc["paths"] = {p: dict(sorted(new_doc["paths"][p].items())) for p in sorted(new_doc["paths"])}
    return sorted(dropped, key=lambda d: (d.path, d.method))
