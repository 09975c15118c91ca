"""What an operation does once its request is known good: read or change the store, then answer.

One method per kind decided by the planner. Every JSON answer is fitted to the operation's
response schema (`SchemaKit.conform`), which is what keeps seeded, stored and invented data
schema-conforming alike.
"""

from __future__ import annotations

import random
import re
from typing import Any

from starlette.responses import Response

from ._actions import ACTIONS
from ._errors import error_response, json_response
from ._graphql import graphql_answer
from ._pages import filter_items, paginate
from ._recorded import recorded_items
from ._requests import Call
from ._schema import SchemaKit
from ._spec import TENANT_PARAMS, Operation, ServiceSpec, template_params
from ._store import Collection, Key, Store, canonical_id
from ._zdx import window_refusal

__all__ = ["Engine"]

_OWNED = re.compile(r"(.+)/\{[^}/]+\}/[^{}]+")  # /groups/{id}/users: owned by an object of /groups
_MEMBERS = re.compile(r"(?P<base>.+)/(?P<owners>[^/{}]+)/\{[^}/]+\}/(?P<members>[^/{}:]+)")  # /groups/{id}/users
_WRITES = ("write", "destructive")
_ZTW_STATUS = {
    "ACTIVE": {
        "orgEditStatus": "EDITS_CLEARED",
        "orgLastActivateStatus": "CAC_ACTV_UI",
        "adminActivateStatus": "ADM_ACTV_DONE",
    },
    "PENDING": {
        "orgEditStatus": "EDITS_PRESENT",
        "orgLastActivateStatus": "CAC_ACTV_UI",
        "adminActivateStatus": "ADM_EDITING",
    },
}


class Engine:
    def __init__(self, specs: dict[str, ServiceSpec], kits: dict[str, SchemaKit], store: Store, seed: int) -> None:
        self.specs = specs
        self.kits = kits
        self.store = store
        self.seed = seed

    async def handle(self, call: Call) -> Response:
        op = call.op
        response = window_refusal(call) or getattr(self, f"_{op.kind}")(call)
        if op.service in self.store.activation and op.scope in _WRITES and op.kind != "activate":
            if response.status_code < 300:
                self.store.activation[op.service] = "PENDING"
        return response

    def _graphql(self, call: Call) -> Response:
        return graphql_answer(call.op.graphql or {}, call.body or {}, self.store.seed.people, self.seed)

    # ------------------------------------------------------------------ helpers

    def _render(self, op: Operation, value: Any, schema: dict | None) -> Any:
        out = self.kits[op.service].conform(value, schema)
        if isinstance(out, dict):
            out.pop("__key", None)
        return out

    def _answer(self, op: Operation, value: Any, schema: dict | None = None, status: int | None = None) -> Response:
        schema = schema if schema is not None else op.response_schema
        status = status or op.success_status
        if schema is None and not isinstance(value, dict):
            return json_response(status, None)
        return json_response(status, self._render(op, value, schema) if schema is not None else value)

    def _key(self, op: Operation, template: str, call: Call) -> Key:
        values = tuple(canonical_id(call.raw_path[p]) for p in template_params(template) if p not in TENANT_PARAMS)
        return (op.service, template, values)

    def _collection(self, call: Call) -> tuple[Key, Collection]:
        key = self._key(call.op, call.op.collection, call)
        return key, self._collection_at(key)

    def _collection_at(self, key: Key) -> Collection:
        service, template, values = key
        info = self.specs[service].collections[template]
        owner = _OWNED.fullmatch(template)

        def invent(first_id: int) -> list[dict]:
            if owner and values and ((service, owner.group(1), values[:-1]), values[-1]) in self.store.created:
                return []  # what hangs off an object created here starts empty (a new group has no members)
            recorded = recorded_items(service, template) if not values else []
            for obj in recorded:
                obj.pop(info.id_field, None)
            if recorded:
                return recorded  # as a real tenant answered (tests/recorded/), not invented
            rng = random.Random(f"{self.seed}:{key}")
            kit = self.kits[service]
            objects = []
            for _ in range(3):
                obj = kit.example(info.item_schema, rng)
                obj = obj if isinstance(obj, dict) else {}
                obj.pop(info.id_field, None)
                objects.append(obj)
            return objects

        return self.store.collection(key, info.id_field, info.id_style, invent)

    def _not_found(self, op: Operation, item_id: Any) -> Response:
        what = (op.resource or {}).get("type") or "object"
        return error_response(op.service, 404, f"{what} {item_id} was not found")

    def _invented(self, call: Call) -> Any:
        op = call.op
        rng = random.Random(f"{self.seed}:{op.operation_id}:{sorted(call.raw_path.items())}")
        value = self.kits[op.service].example(op.response_schema, rng)
        if isinstance(value, dict):
            if isinstance(call.body, dict):
                value.update(call.body)
            if op.id_param and "id" in value:
                value["id"] = call.raw_path[op.id_param]
        return value

    # ------------------------------------------------------------------ collections

    def _list(self, call: Call) -> Response:
        op = call.op
        items = list(self._collection(call)[1].items.values())
        items = filter_items(items, call.query, op.pagination)
        kit = self.kits[op.service]
        flat = kit.resolve(op.response_schema).get("type") == "array"
        page = paginate(op.service, op.pagination, items, call.query, call.request.url, flat=flat)
        body = self._render(op, page.body, op.response_schema)
        nested = [v for v in body.values() if isinstance(v, dict)] if isinstance(body, dict) else []  # ZTB result.rows
        for listed in [body] if isinstance(body, list) else [v for o in (body, *nested) for v in o.values()
                                                             if isinstance(v, list)]:
            for item in listed:
                if isinstance(item, dict):
                    item.pop("__key", None)
        if isinstance(body, dict):
            body.update(page.overrides)
        return json_response(op.success_status, body)

    def _create(self, call: Call) -> Response:
        op = call.op
        key, coll = self._collection(call)
        obj = dict(call.body) if isinstance(call.body, dict) else {}
        obj[coll.id_field] = coll.new_id()
        coll.put(obj)
        self.store.remember(key, coll)
        self.store.created.add((key, canonical_id(obj[coll.id_field])))
        return self._answer(op, obj, op.response_schema or op.body_schema)

    def _get_item(self, call: Call) -> Response:
        item_id = call.raw_path[call.op.id_param]
        obj = self._collection(call)[1].get(item_id)
        return self._not_found(call.op, item_id) if obj is None else self._answer(call.op, obj)

    def _update_item(self, call: Call) -> Response:
        return self._update(call, call.raw_path[call.op.id_param])

    def _update_by_body(self, call: Call) -> Response:
        info = self.specs[call.op.service].collections[call.op.collection]
        return self._update(call, call.body.get(info.id_field) if isinstance(call.body, dict) else None)

    def _update(self, call: Call, item_id: Any) -> Response:
        key, coll = self._collection(call)
        old = coll.get(item_id) if item_id is not None else None
        if old is None:
            return self._not_found(call.op, item_id)
        body = call.body if isinstance(call.body, dict) else {}
        stamped = call.op.service == "zia" and "Rules/{" in call.op.path
        if stamped and body.get("lastModifiedTime") and body["lastModifiedTime"] != old.get("lastModifiedTime"):
            # ZIA refuses a rule PUT that carries an outdated lastModifiedTime; Terraform zeroes it to avoid this
            # (terraform-provider-zia zia/resource_zia_dlp_web_rules.go, resource_zia_cloud_app_control_rules.go)
            return error_response(call.op.service, 409, "the rule was modified since it was read",
                                  code="STALE_CONFIGURATION_ERROR")
        # A ZIA rule PUT replaces the whole rule: a field left out is cleared (Terraform sends the full rule,
        # terraform-provider-zia zia/resource_zia_url_filtering_rules.go update), other objects merge
        new = {**({} if stamped else old), **body, coll.id_field: old[coll.id_field]}
        if stamped:  # recorded rules carry it (reference/recorded/zia/cassettes/TestURLFilteringRule.yaml)
            new["lastModifiedTime"] = int(old.get("lastModifiedTime") or 1_700_000_000) + 1
        coll.put(new)
        self.store.remember(key, coll)
        return self._answer(call.op, new, call.op.response_schema or call.op.body_schema)

    def _delete_item(self, call: Call) -> Response:
        key, coll = self._collection(call)
        item_id = call.raw_path[call.op.id_param]
        old = coll.get(item_id)
        if old is None or not coll.remove(item_id):
            return self._not_found(call.op, item_id)
        self.store.remember(key, coll)
        self._mirror(key, removed=[item_id])
        return self._answer(call.op, old) if call.op.response_schema else json_response(call.op.success_status, None)

    # ------------------------------------------------------------------ membership and bulk changes

    def _ids(self, call: Call) -> list[Any]:
        body = call.body
        if isinstance(body, dict):
            body = body.get("ids") or []
        return [ref.get("id") if isinstance(ref, dict) else ref for ref in body or () if ref is not None]

    def _source(self, call: Call) -> Collection | None:
        """Where referenced members live: the top-level collection of the same kind of object
        (ZIdentity group members are users from /users)."""
        spec = self.specs[call.op.service]
        wanted = spec.collections[call.op.collection].item_schema
        for template, info in spec.collections.items():
            if template != call.op.collection and "{" not in template and info.item_schema == wanted:
                return self._collection_at((call.op.service, template, ()))
        return None

    def _add_refs(self, call: Call, ids: list[Any] | None = None, replace: bool = False) -> Response:
        key, coll = self._collection(call)
        source = self._source(call)
        members = []
        for ref in self._ids(call) if ids is None else ids:
            found = source.get(ref) if source is not None else {coll.id_field: ref}
            if found is None:  # 409, not 404: the group exists, the reference does not
                return error_response(call.op.service, 409, f"{ref} does not exist", code="INVALID_REFERENCE")
            members.append(found)
        before = set(coll.items)
        if replace:
            coll.items.clear()
        for member in members:
            coll.put(dict(member))
        self.store.remember(key, coll)
        self._mirror(key, added=[m[coll.id_field] for m in members], removed=[i for i in before if i not in coll.items])
        return self._generic(call)

    def _replace_refs(self, call: Call) -> Response:
        return self._add_refs(call, replace=True)

    def _add_ref(self, call: Call) -> Response:
        return self._add_refs(call, ids=[call.raw_path[call.op.id_param]])

    def _bulk_remove(self, call: Call) -> Response:
        key, coll = self._collection(call)
        removed = [ref for ref in self._ids(call) if coll.remove(ref)]
        self.store.remember(key, coll)
        self._mirror(key, removed=removed)
        return self._generic(call)

    def _mirror(self, key: Key, added: list[Any] = (), removed: list[Any] = ()) -> None:
        """Keep the other side of a membership in step: adding user U to /groups/G/users also puts G
        in /users/U/groups (both are separate collections here, one relation in the real service)."""
        service, template, values = key
        shape = _MEMBERS.fullmatch(template)
        if not shape or not values:
            return
        base, owners, members = shape.group("base"), shape.group("owners"), shape.group("members")
        spec = self.specs[service]
        inverse = next((t for t in spec.collections if (m := _MEMBERS.fullmatch(t)) and m.group("base") == base
                        and m.group("owners") == members and m.group("members") == owners), None)
        if inverse is None or f"{base}/{owners}" not in spec.collections:
            return
        owner = self._collection_at((service, f"{base}/{owners}", ())).get(values[-1])
        for member_id in added:
            if owner is None:
                break
            mirror_key = (service, inverse, (canonical_id(member_id),))
            mirror = self._collection_at(mirror_key)
            mirror.put(dict(owner))
            self.store.remember(mirror_key, mirror)
        for member_id in removed:
            mirror_key = (service, inverse, (canonical_id(member_id),))
            mirror = self._collection_at(mirror_key)
            if mirror.remove(values[-1]):
                self.store.remember(mirror_key, mirror)

    # ------------------------------------------------------------------ documents and the rest

    def _document_get(self, call: Call) -> Response:
        found = self.store.document(self._key(call.op, call.op.path, call))
        return self._answer(call.op, found if found is not None else self._invented(call))

    def _document_put(self, call: Call) -> Response:
        op = call.op
        key = self._key(op, op.path, call)
        getter = self.specs[op.service].paths[op.path].get("GET")
        current = self.store.document(key)
        if current is None and getter is not None:
            current = self._invented(Call(getter, call.request, call.path, call.raw_path))
        merged = {
            **(current if isinstance(current, dict) else {}),
            **(call.body if isinstance(call.body, dict) else {}),
        }
        self.store.documents[key] = merged
        return self._answer(op, merged)

    def _document_delete(self, call: Call) -> Response:
        self.store.documents.pop(self._key(call.op, call.op.path, call), None)
        return self._generic(call)

    def _generic(self, call: Call) -> Response:
        if call.op.response_schema is None:
            return json_response(call.op.success_status, None)
        return self._answer(call.op, self._invented(call))

    def _action(self, call: Call) -> Response:
        return ACTIONS[(call.op.service, call.op.operation_id)](self, call)

    def _activation_status(self, call: Call) -> Response:
        return self._answer(call.op, self._status_body(call.op.service))

    def _activate(self, call: Call) -> Response:
        self.store.activation[call.op.service] = "ACTIVE"
        return self._answer(call.op, self._status_body(call.op.service))

    def _status_body(self, service: str) -> dict[str, Any]:
        state = self.store.activation[service]
        return {"status": state} if service == "zia" else dict(_ZTW_STATUS[state])
