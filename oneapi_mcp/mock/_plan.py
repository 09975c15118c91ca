"""Decide, once at start, what each operation does to the mock's state.

The decision uses the resource extension (`x-oneapi-resource`), the pagination extension and
the path shapes only: a collection path `/x` (POST create, GET list) and its item path
`/x/{id}` (GET, PUT/PATCH, DELETE). Nothing is written per endpoint.

Kinds:
  list, create, get_item, update_item, delete_item, update_by_body  -> a stored collection
  document_get, document_put, document_delete                        -> a stored document
  activation_status, activate                                        -> ZIA/ZTW activation
  action                                                             -> a handler of its own (_actions.py)
  generic                                                            -> an invented answer

An operation with a handler in `ACTIONS` is planned like any other first (so a PUT with an
optional action still knows its collection), then gets the kind "action"; it never creates a
collection of its own.
"""

from __future__ import annotations

import re
from typing import Any

from ._actions import ACTIONS
from ._schema import SchemaKit
from ._spec import CollectionInfo, Operation, ServiceSpec

__all__ = ["ITEM_PATH", "list_item_schema", "plan_service"]

ITEM_PATH = re.compile(r"(.+)/\{([^}/]+)\}")
BULK_PATH = re.compile(r"(.+?)(/bulkDelete|:bulkdelete|:bulkremove)")

_ACTIVATION_STATUS = {("zia", "getActivationStatus"), ("ztw", "getStatus")}
_ACTIVATE = {("zia", "activate"), ("ztw", "activate"), ("ztw", "forceActivate")}


def _item_children(spec: ServiceSpec) -> dict[str, list[str]]:
    children: dict[str, list[str]] = {}
    for path in spec.paths:
        match = ITEM_PATH.fullmatch(path)
        if match:
            children.setdefault(match.group(1), []).append(path)
    return children


def list_item_schema(op: Operation, kit: SchemaKit) -> dict[str, Any] | None:
    """The schema of one listed object, or None when the answer is not a list of objects."""
    schema = kit.resolve(op.response_schema)
    if schema.get("type") != "array":
        props = schema.get("properties", {})
        key = (op.pagination or {}).get("result_key") or ""
        if "." in key and op.pagination:  # a list inside an object: ZTB's `result.rows`
            outer, _, key = key.partition(".")
            props = kit.resolve(props.get(outer) or {}).get("properties", {})
        key = key if key in props else "records" if "records" in props else "list" if "list" in props else None
        if key is None or not op.pagination:
            return None
        schema = kit.resolve(props[key])
    item = schema.get("items")
    return item if kit.resolve(item).get("type") == "object" else None


def _body_is_refs(op: Operation, kit: SchemaKit) -> bool:
    """An array of {id} references (membership changes such as ZIdentity group users)."""
    body = kit.resolve(op.body_schema) if op.body_media_type == "application/json" else {}
    return body.get("type") == "array" and "id" in kit.resolve(body.get("items")).get("properties", {})


def _body_has_id(op: Operation, kit: SchemaKit) -> bool:
    body = kit.resolve(op.body_schema) if op.body_media_type == "application/json" else {}
    return "id" in body.get("properties", {})


def _is_list(op: Operation, kit: SchemaKit) -> bool:
    return op.method == "GET" and list_item_schema(op, kit) is not None


def _info(spec: ServiceSpec, kit: SchemaKit, item: dict[str, Any], id_field: str | None) -> CollectionInfo:
    props = kit.resolve(item).get("properties", {})
    field = id_field or ("id" if "id" in props else "__key")
    kind = kit.resolve(props.get(field, {})).get("type", "integer")
    if spec.name == "zpa":
        style = "digits"
    elif kind == "string":
        style = "zid" if spec.name == "zid" else "digits"
    else:
        style = "int"
    return CollectionInfo(item, field, style)


def _creates_into(op: Operation, spec: ServiceSpec, children: dict[str, list[str]]) -> str | None:
    """The collection a POST adds to, or None when it is not a create."""
    if op.method != "POST" or op.body_media_type != "application/json" or (op.service, op.operation_id) in ACTIONS:
        return None
    action = (op.action or "").lower()
    if action == "create":
        if op.path in children:
            return op.path
        rtype = op.resource.get("type")
        for other in spec.operations:
            res = other.resource or {}
            match = ITEM_PATH.fullmatch(other.path)
            if (
                res.get("type") == rtype
                and res.get("id_param")
                and match
                and other.path.endswith("{{{}}}".format(res["id_param"]))
            ):
                return match.group(1)
        return op.path
    if action.startswith(("create", "add")) and any("GET" in spec.paths[c] for c in children.get(op.path, ())):
        return op.path
    return None


def plan_service(spec: ServiceSpec, kit: SchemaKit) -> None:
    """Fill in kind, collection and id_param on every operation of one service."""
    for op in spec.operations:
        if op.graphql:
            op.kind = "graphql"  # answered by _graphql.py, never planned onto a collection
    children = _item_children(spec)
    known: set[str] = set()
    for op in spec.operations:
        if op.kind == "graphql":
            continue
        target = _creates_into(op, spec, children)
        if target:
            op.kind, op.collection = "create", target
            op.id_field = (op.resource or {}).get("id_field") or "id"
            known.add(target)
    for op in spec.operations:
        if op.kind in ("create", "graphql"):
            continue
        if (op.service, op.action) in _ACTIVATION_STATUS:
            op.kind = "activation_status"
        elif (op.service, op.action) in _ACTIVATE:
            op.kind = "activate"
        elif _is_list(op, kit):
            op.kind, op.collection = "list", op.path
            if op.path.endswith("/lite") and op.path[: -len("/lite")] in spec.paths:
                op.collection = op.path[: -len("/lite")]
            if op.collection in children:
                known.add(op.collection)
    for op in spec.operations:
        if op.kind != "generic":
            continue
        match = ITEM_PATH.fullmatch(op.path)
        parent = match.group(1) if match else None
        if parent and parent.endswith("/lite") and parent[: -len("/lite")] in known:
            parent = parent[: -len("/lite")]
        bulk = BULK_PATH.fullmatch(op.path)
        refs = _body_is_refs(op, kit)
        if op.method == "POST" and bulk and bulk.group(1) in known:
            op.kind, op.collection = "bulk_remove", bulk.group(1)
        elif op.path in known and op.method in ("POST", "PUT") and refs:
            op.kind, op.collection = ("add_refs" if op.method == "POST" else "replace_refs"), op.path
        elif parent in known and op.method == "POST" and op.body_media_type is None:
            op.kind, op.collection, op.id_param = "add_ref", parent, match.group(2)
        elif parent in known and op.method != "POST":
            op.collection, op.id_param = parent, match.group(2)
            op.kind = {"GET": "get_item", "DELETE": "delete_item"}.get(op.method, "update_item")
        elif op.path in known and op.method in ("PUT", "PATCH") and _body_has_id(op, kit):
            op.kind, op.collection = "update_by_body", op.path
        elif op.method == "GET":
            op.kind = "document_get"
            if match:
                op.id_param = match.group(2)
        elif op.method in ("PUT", "PATCH") and "GET" in spec.paths[op.path]:
            op.kind = "document_put"
        elif op.method == "DELETE" and not match:
            op.kind = "document_delete"
    _describe_collections(spec, kit)
    for op in spec.operations:
        if (op.service, op.operation_id) in ACTIONS:
            op.kind = "action"


def _describe_collections(spec: ServiceSpec, kit: SchemaKit) -> None:
    """What the objects of each collection look like: from its list, else its create or item GET."""
    sources: dict[str, list[tuple[int, dict[str, Any], str | None]]] = {}
    for op in spec.operations:
        if not op.collection:
            continue
        if op.kind == "list":
            item = list_item_schema(op, kit)
            rank = 0 if op.path == op.collection else 1
        elif op.kind == "create":
            item, rank = op.response_schema or op.body_schema, 2
        elif op.kind == "get_item":
            item, rank = op.response_schema, 3
        else:
            continue
        if item and kit.resolve(item).get("type", "object") == "object":
            id_field = op.id_field if op.kind == "create" and (op.resource or {}).get("id_field") else None
            sources.setdefault(op.collection, []).append((rank, item, id_field))
    for collection, found in sources.items():
        found.sort(key=lambda entry: entry[0])
        id_field = next((f for _, _, f in found if f), None)
        spec.collections[collection] = _info(spec, kit, found[0][1], id_field)
    for op in spec.operations:
        if op.collection and op.collection not in spec.collections:
            op.kind, op.collection = "generic", None
