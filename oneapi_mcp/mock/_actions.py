"""Operations whose effect the planner cannot infer from paths and schemas, one handler each.

They act on state that lives elsewhere (a POST on `/security/advanced/blacklistUrls` edits the
`/security/advanced` document), take an `action` query parameter that turns a PUT into an
incremental edit, or select the objects they change by a filter in the body. The planner gives
these operations the kind "action" and the engine hands them to `ACTIONS`, keyed by
(service, operationId).

Where a vendored spec and the real API disagree, the answer follows the spec (the contract tests
check it) and the comment at the handler says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ._errors import error_response, json_response
from ._requests import Call
from ._seed_dlp import dlp_incident_search
from ._store import Key, canonical_id

if TYPE_CHECKING:
    from ._engine import Engine

__all__ = ["ACTIONS", "LIST_ACTIONS"]

log = logging.getLogger("oneapi_mcp.mock")

ZIA = "/zia/api/v1"
ZCC = "/zcc/papi/public/v1"
ZCC_DEVICES = f"{ZCC}/getDevices"
ZID_USERS = "/ziam/admin/api/v1/users"
LIST_ACTIONS = ("ADD_TO_LIST", "REMOVE_FROM_LIST")
REMOVAL_PENDING = "Removal Pending"  # what the ZCC portal shows for a device unenrolled on next check-in


def _list_action(call: Call) -> str | Response | None:
    """ADD_TO_LIST or REMOVE_FROM_LIST; else a 400, or None when the request is to change nothing.

    The real API rejects a request without one of the two actions. The vendored specs declare
    `action` an optional free string, and the contract tests hold the mock to the spec (a
    schema-valid request must not get a 400), so the 400 comes only once the spec constrains the
    parameter (required, or an enum, e.g. from an overlay); until then a request without a known
    action is accepted and changes nothing.
    """
    action = call.query.get("action")
    if action in LIST_ACTIONS:
        return action
    param = next((p for p in call.op.params if p.name == "action" and p.location == "query"), None)
    constrained = param is not None and (param.required if action is None else
                                         (param.required or "enum" in param.schema))
    if constrained:
        got = "is missing" if action is None else f"is {action!r}"
        message = f"query parameter action {got}; use action=ADD_TO_LIST or action=REMOVE_FROM_LIST"
        return error_response(call.op.service, 400, message)
    return None


def _edit_list(current: Any, given: Any, action: str) -> list[Any]:
    """`current` with `given` added (no duplicates, order kept) or removed."""
    have = list(current) if isinstance(current, list) else []
    given = [value for value in given if value is not None] if isinstance(given, list) else []
    if action == "ADD_TO_LIST":
        return have + [value for value in dict.fromkeys(given) if value not in have]
    gone = set(given)
    return [value for value in have if value not in gone]


def _document(engine: Engine, call: Call, template: str) -> tuple[Key, dict[str, Any]]:
    """The stored document at `template` (a path without parameters), invented on first use
    exactly as its GET would answer it."""
    key: Key = (call.op.service, template, ())
    found = engine.store.document(key)
    if not isinstance(found, dict):
        getter = engine.specs[call.op.service].paths[template]["GET"]
        found = engine._invented(Call(getter, call.request, {}, {}))
        found = engine.kits[call.op.service].conform(found, getter.response_schema)
    return key, dict(found) if isinstance(found, dict) else {}


def _document_list(template: str, field: str, echo: bool = False) -> Callable[[Engine, Call], Response]:
    """ADD_TO_LIST / REMOVE_FROM_LIST on the list `field` of the document at `template`; with `echo`
    the answer holds just the entries sent, not the list (ATP maliciousUrls, as recorded in
    reference/recorded/zia/cassettes/TestATPPolicy.yaml: ADD_TO_LIST of one url answers that one url)."""

    def handle(engine: Engine, call: Call) -> Response:
        action = _list_action(call)
        if isinstance(action, Response):
            return action
        key, document = _document(engine, call, template)
        if action is None and call.query.get("action") is None and isinstance(call.body, dict):
            document.update(call.body)  # no action: a plain PUT replaces the list
            engine.store.documents[key] = document
        elif action is None:
            log.warning("%s %s without a known action: nothing changed", call.op.method, call.op.path)
        else:
            given = call.body.get(field) if isinstance(call.body, dict) else None
            document[field] = _edit_list(document.get(field), given, action)
            engine.store.documents[key] = document
        if echo and action is not None:
            return engine._answer(call.op, {field: list((call.body or {}).get(field) or [])})
        # The SDKs read the denylist back with a GET after this POST (the real answer carries no
        # list); the spec promises 201 with the whole policy, so the mock answers that.
        return engine._answer(call.op, document)

    return handle


def _url_category(engine: Engine, call: Call) -> Response:
    """With an action, add or remove the body's urls (and dbCategorizedUrls); without one (or,
    while the spec leaves action free, with an unknown one) the body updates the category as a
    plain PUT does."""
    action = _list_action(call) if call.query.get("action") is not None else None
    if isinstance(action, Response):
        return action
    if action is None:
        return engine._update_item(call)
    key, categories = engine._collection(call)
    category_id = call.raw_path[call.op.id_param]
    old = categories.get(category_id)
    if old is None:
        return engine._not_found(call.op, category_id)
    new = dict(old)
    body = call.body if isinstance(call.body, dict) else {}
    for field in ("urls", "dbCategorizedUrls"):
        if field in body or field == "urls":
            new[field] = _edit_list(old.get(field), body.get(field), action)
    if "customUrlsCount" in old or old.get("customCategory"):
        new["customUrlsCount"] = len(new["urls"])
    categories.put(new)
    engine.store.remember(key, categories)
    return engine._answer(call.op, new)


def _selected(device: dict[str, Any], body: dict[str, Any]) -> bool:
    """A device matches when it satisfies every selector given (an empty body selects nothing)."""
    udids, user, os_type, versions = (
        body.get("udids"),
        body.get("userName"),
        body.get("osType"),
        body.get("clientConnectorVersion"),
    )
    if not (udids or user or os_type is not None or versions):
        return False
    return (
        (not udids or device.get("udid") in udids)
        and (not user or str(device.get("user", "")).lower() == user.lower())
        and (os_type is None or str(device.get("type")) == str(os_type))
        and (not versions or device.get("agentVersion") in versions)
    )


def _remove_devices(force: bool) -> Callable[[Engine, Call], Response]:
    """removeDevices marks the selected devices Removal Pending (they unenroll on their next
    check-in); forceRemoveDevices takes them off the device list at once. The answer counts the
    devices changed, so a second removeDevices of the same devices says 0."""

    def handle(engine: Engine, call: Call) -> Response:
        key = (call.op.service, ZCC_DEVICES, ())
        devices = engine._collection_at(key)
        body = call.body if isinstance(call.body, dict) else {}
        changed = 0
        for item_key, device in list(devices.items.items()):
            if not _selected(device, body):
                continue
            if force:
                devices.items.pop(item_key)
            elif device.get("registrationState") == REMOVAL_PENDING:
                continue
            else:
                devices.items[item_key] = {**device, "registrationState": REMOVAL_PENDING, "state": REMOVAL_PENDING}
            changed += 1
        engine.store.remember(key, devices)
        return engine._answer(call.op, {"devicesRemoved": changed})

    return handle


def _reset_password(engine: Engine, call: Call) -> Response:
    """The user must exist. The reset is recorded beside the user, at the operation's own path,
    because the user schema has no field for it: `mock.state.documents[("zid", <path template>,
    (user id,))]` holds `{"resets": n}`."""
    user_id = call.raw_path[(call.op.resource or {}).get("id_param") or "id"]  # `{id}:resetpassword`
    users = engine._collection_at((call.op.service, ZID_USERS, ()))
    if users.get(user_id) is None:
        return error_response(call.op.service, 404, f"user {user_id} was not found")
    key: Key = (call.op.service, call.op.path, (canonical_id(user_id),))
    done = engine.store.documents.get(key) or {"resets": 0}
    engine.store.documents[key] = {"resets": done["resets"] + 1}
    return json_response(call.op.success_status, None)  # the spec's 200 has no body


def _entitlement(getter: str, enabled_field: str, enable_all: str, groups_field: str, device_groups_field: str,
                 extra: dict[str, str]) -> Callable[[Engine, Call], Response]:
    """updateZpa/ZdxGroupEntitlement replace the whole entitlement that getZpa/ZdxGroupEntitlements show:
    user groups (groupIds/groupNames), device groups (deviceGroupIds/deviceGroupNames), the enable-for-all
    flag and the per-service switches. Zscaler's SDK sends the whole object on update (zscaler-sdk-python
    zscaler/zcc/models/zpagroupentitlements.py request_format), so what the request leaves out is cleared:
    an update that forgets the device groups drops them, as it would on a tenant. Ids and names given in
    parallel are one group each; a group given by name or id alone keeps the other from the previous list."""

    def entries(document: dict[str, Any], field: str, ids: Any, names: Any) -> list[dict[str, Any]]:
        known = [e for e in document.get(field) or [] if isinstance(e, dict)]
        by_id = {str(e.get("groupId")): e.get("groupName") for e in known if e.get("groupId") is not None}
        by_name = {str(e.get("groupName")).lower(): e.get("groupId") for e in known if e.get("groupName")}
        ids, names = list(ids or []), list(names or [])
        out: list[dict[str, Any]] = []
        for n in range(max(len(ids), len(names))):
            group_id = ids[n] if n < len(ids) else by_name.get(str(names[n]).lower())
            name = names[n] if n < len(names) else by_id.get(str(group_id))
            if any((group_id is not None and e.get("groupId") == group_id) or (name and e.get("groupName") == name)
                   for e in out):
                continue
            entry = {"groupId": group_id, "groupName": name, enabled_field: 1, "active": 1}
            out.append({k: v for k, v in entry.items() if v is not None})
        return out

    def handle(engine: Engine, call: Call) -> Response:
        body = call.body if isinstance(call.body, dict) else {}
        key, document = _document(engine, call, getter)
        groups = entries(document, groups_field, body.get("groupIds"), body.get("groupNames"))
        devices = entries(document, device_groups_field, body.get("deviceGroupIds"), body.get("deviceGroupNames"))
        document.update({groups_field: groups, device_groups_field: devices, "totalCount": len(groups),
                         enable_all: body.get("enableForAll") or 0})
        for wire, field in extra.items():
            document[field] = body.get(wire) or 0
        engine.store.documents[key] = document
        return engine._answer(call.op, {"success": "true"})

    return handle


ACTIONS: dict[tuple[str, str], Callable[[Engine, Call], Response]] = {
    ("zcc", "UpdateZpaGroupEntitlement"): _entitlement(
        f"{ZCC}/getZpaGroupEntitlements", "zpaEnabled", "zpaEnableForAll", "groupList", "deviceGroupList",
        {"computeDeviceGroups": "computeDeviceGroupsForZPA", "machineTunEnabledForAll": "machineTunEnabledForAll"}),
    ("zcc", "UpdateZdxGroupEntitlement"): _entitlement(
        f"{ZCC}/getZdxGroupEntitlements", "upmEnabled", "upmEnableForAll", "upmGroupList", "upmDeviceGroupList",
        {"computeDeviceGroups": "computeDeviceGroupsForZDX", "logoutZCC": "logoutZCCForZDXService"}),
    ("zia", "CreateBlacklistURLs"): _document_list(f"{ZIA}/security/advanced", "blacklistUrls"),
    ("zia", "UpdateMaliciousUrls"): _document_list(f"{ZIA}/cyberThreatProtection/maliciousUrls", "maliciousUrls",
                                                   echo=True),
    ("zia", "UpdateUrlCategory"): _url_category,
    ("zcc", "RemoveDevices"): _remove_devices(force=False),
    ("zcc", "ForceRemoveDevices"): _remove_devices(force=True),
    ("zid", "ResetPassword"): _reset_password,
    ("zwa", "DlpIncidentSearch"): dlp_incident_search,
}
