"""Built-in plugin: user lifecycle (onboard from an access template, provision a contractor, offboard).

ZIdentity is the source of truth for the person; an access template (a TOML file the server's
`templates_file` names) says which ZIdentity groups, which ZIA department and which Client Connector
entitlements a role gets. Provisioning is all or nothing (a failed step undoes the ones before it);
offboarding keeps going past a failure (a half-offboarded leaver beats a fully active one) and lists
every step that still needs doing.

ZIdentity has no account expiry, so a contractor's end date is recorded on the user itself (custom
attributes `oneapiAccessExpires` and `oneapiSponsor`), where every replica of this server and the next
operator can see it; `lifecycle_due_offboarding` lists whose date has passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Ref,
    Refusal,
    Workflow,
    delete_created,
    refusal_result,
    tool_result,
)

from ..hookspecs import hookimpl
from ._kit.accounts import ZIA_BLOCK_USER_OPS, plan_devices_removal, plan_zia_block_user, plan_zid_lockout
from ._kit.lookups import check_email, find_zia_user, find_zid_user, zid_user_body, zid_user_groups
from ._kit.tomlfile import locate, read_toml, value_line

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["EXPIRES_ATTR", "SPONSOR_ATTR", "TOOLS", "Template", "entitlement_body", "load_templates",
           "oneapi_mcp_register_tools"]

EXPIRES_ATTR, SPONSOR_ATTR = "oneapiAccessExpires", "oneapiSponsor"
NEW_USER = "new-user-id"  # stands in for the id ZIdentity gives a user created earlier in the same plan
_KEYS = {"groups": "a list of ZIdentity group names", "department": "a ZIA department name",
         "zia_user": "true or false", "entitlements": 'a list of "zpa" and/or "zdx"', "description": "a string"}
# ZCC entitlements. The list answers the whole entitlement (ZpaGroupEntitlementList / ZdxGroupEntitlementList
# in specs/zcc.yaml: user groups, device groups, the enable-for-all flag and per-service switches; recorded in
# reference/recorded/zcc/cassettes/TestEntitlements.yaml), and the update replaces it: Zscaler's SDK PUTs the
# whole object (zscaler-sdk-python zscaler/zcc/models/zpagroupentitlements.py request_format). So an update
# carries everything that was entitled (user groups, device groups, flags) with only the intended change;
# totalCount, collectZdxLocation and each entry's active/authType are read-only (the update request,
# Zpa/ZdxGroupEntitlementUpdateRequest, has no field for them) and are left out.
# service -> (list, update, per-group flag, for-all flag, user groups, device groups, update field -> list field)
_ENTITLEMENTS = {
    "zpa": ("zcc_list_zpa_group_entitlements", "zcc_update_zpa_group_entitlement", "zpaEnabled", "zpaEnableForAll",
            "groupList", "deviceGroupList", {"computeDeviceGroups": "computeDeviceGroupsForZPA",
                                             "machineTunEnabledForAll": "machineTunEnabledForAll"}),
    "zdx": ("zcc_list_zdx_group_entitlements", "zcc_update_zdx_group_entitlement", "upmEnabled", "upmEnableForAll",
            "upmGroupList", "upmDeviceGroupList", {"computeDeviceGroups": "computeDeviceGroupsForZDX",
                                                   "logoutZCC": "logoutZCCForZDXService"}),
}


# -- access templates ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Template:
    name: str
    groups: tuple[str, ...]
    department: str | None = None
    zia_user: bool = False
    entitlements: tuple[str, ...] = ()
    description: str = ""
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # "" (the table) and each key -> line


def load_templates(path: Path) -> tuple[dict[str, Template], list[dict[str, Any]], str]:
    """The templates in `path`, the problems found in it (each with its line) and the raw text."""
    data, problems, text = read_toml(path, "templates")
    if problems:
        return {}, problems, text
    where = locate(text)

    def bad(keys: tuple[str, ...], problem: str, template: str | None = None) -> None:
        line = where.get(keys) or where.get(keys[:2]) or where.get(keys[:1])
        problems.append({"line": line, **({"template": template} if template else {}), "problem": problem})

    for key in data:
        if key != "templates":
            bad((key,), f"unknown top-level key {key!r}: the file holds [templates.<name>] tables only")
    tables = data.get("templates", {})
    if not isinstance(tables, dict):
        bad(("templates",), "templates must be a table of [templates.<name>] tables")
        return {}, problems, text
    if not tables:
        problems.append({"line": None, "problem": "no [templates.<name>] tables"})
    templates: dict[str, Template] = {}
    for name, table in tables.items():
        here = ("templates", name)
        if not isinstance(table, dict):
            bad(here, f"templates.{name} must be a table", name)
            continue
        before = len(problems)
        for key in table:
            if key not in _KEYS:
                bad((*here, key), f"unknown key {key!r} (known: {', '.join(_KEYS)})", name)
        groups = table.get("groups")
        if "groups" not in table:
            bad(here, "groups is required: a list of ZIdentity group names", name)
        elif not isinstance(groups, list) or not groups or not all(isinstance(g, str) and g.strip() for g in groups):
            bad((*here, "groups"), f"groups must be {_KEYS['groups']} (at least one, none empty)", name)
        for key, kind in (("department", str), ("description", str), ("zia_user", bool)):
            if key in table and not isinstance(table[key], kind):
                bad((*here, key), f"{key} must be {_KEYS[key]}, not {type(table[key]).__name__}", name)
        if table.get("department") is not None and table.get("zia_user") is not True:
            bad((*here, "department"), "department is the ZIA user's department: it needs zia_user = true", name)
        if table.get("zia_user") is True and not table.get("department"):
            bad((*here, "zia_user"), "a ZIA user needs a department (ZIA requires one): add department", name)
        entitlements = table.get("entitlements", [])
        if not isinstance(entitlements, list) or not all(e in _ENTITLEMENTS for e in entitlements):
            bad((*here, "entitlements"), f"entitlements must be {_KEYS['entitlements']}, not {entitlements!r}", name)
        if len(problems) == before:
            templates[name] = Template(
                name, tuple(dict.fromkeys(g.strip() for g in groups)), table.get("department"),
                bool(table.get("zia_user", False)), tuple(dict.fromkeys(entitlements)), table.get("description", ""),
                {"": where.get(here), **{k: where[(*here, k)] for k in table if (*here, k) in where}})
    return templates, problems, text


@dataclass
class _Tenant:
    """What the templates name, as found in the tenant."""

    zid_groups: dict[str, dict[str, Any]]  # lower-case name -> ZIdentity group
    zia_departments: dict[str, dict[str, Any]] = field(default_factory=dict)


@hookimpl
def oneapi_mcp_plugin_settings():
    return {"lifecycle": f"{__name__}_settings:LifecycleSettings"}  # by import path: defined when first validated


async def _checked_templates(wf: Workflow, wanted: str | None, *,
                             need_file: bool = True) -> tuple[Template | None, _Tenant]:
    """The named template, after checking the whole file (types, keys, groups and departments that
    exist); every problem is reported with its line and nothing is applied."""
    path = wf.ctx.settings.plugin_settings("lifecycle").templates_file
    if path is None and wanted is None and not need_file:
        return None, _Tenant({str(g.get("name", "")).lower(): g for g in await wf.read_all("zid_list_groups")})
    if path is None:
        raise Refusal(f"no access templates are configured: set templates_file in [servers.{wf.ctx.settings.name}"
                      ".plugins.lifecycle] of the config file, or ONEAPI_MCP_PLUGINS__LIFECYCLE__TEMPLATES_FILE",
                      "not_configured")
    templates, problems, text = load_templates(Path(path))
    tenant = _Tenant({str(g.get("name", "")).lower(): g for g in await wf.read_all("zid_list_groups")})
    if any(t.department for t in templates.values()):
        departments = await wf.read_all("zia_list_departments")
        tenant.zia_departments = {str(d.get("name", "")).lower(): d for d in departments}
    for template in templates.values():
        for group in template.groups:
            if group.lower() not in tenant.zid_groups:
                problems.append({"line": value_line(text, template.lines.get("groups") or 0, group),
                                 "template": template.name,
                                 "problem": f"no ZIdentity group {group!r} (searched {len(tenant.zid_groups)} "
                                            "groups with zid_list_groups)"})
        if template.department and template.department.lower() not in tenant.zia_departments:
            problems.append({"line": template.lines.get("department"), "template": template.name,
                             "problem": f"no ZIA department {template.department!r} (searched with "
                                        "zia_list_departments)"})
    if problems:
        problems.sort(key=lambda p: p.get("line") or 0)
        raise Refusal(f"the templates file {path} has {len(problems)} problem(s), so nothing was applied: "
                      + "; ".join(f"line {p.get('line') or '?'}: {p['problem']}" for p in problems),
                      "invalid_template", file=str(path), problems=problems)
    if wanted is None:
        return None, tenant
    if wanted not in templates:
        raise Refusal(f"no access template {wanted!r} in {path} (it has: {', '.join(sorted(templates)) or 'none'})",
                      "not_found", template=wanted, known=sorted(templates))
    return templates[wanted], tenant


# -- the person and their access -------------------------------------------------------------------
@dataclass(frozen=True)
class _Person:
    email: str
    first: str | None
    last: str | None
    display: str


def _person(args: dict[str, Any]) -> _Person:
    try:
        email = check_email(args["email"])
    except ValueError as exc:
        raise Refusal(str(exc), "invalid_arguments") from None
    first, last = (str(args.get(k) or "").strip() or None for k in ("first_name", "last_name"))
    guessed = " ".join(p.capitalize() for p in re.split(r"[._-]+", email.split("@")[0]) if p)
    display = str(args.get("display_name") or "").strip() or " ".join(p for p in (first, last) if p) or guessed
    return _Person(email, first, last, display)


async def _zid_user_or_none(wf: Workflow, email: str) -> dict[str, Any] | None:
    try:
        return await find_zid_user(wf, email)
    except Refusal as exc:
        if exc.kind == "not_found":
            return None
        raise


async def _plan_access(wf: Workflow, person: _Person, template: Template | None, tenant: _Tenant,
                       extra_groups: tuple[str, ...] = (), attrs: dict[str, str] | None = None) -> None:
    """The ZIdentity user (created, or found), its custom attributes, its group memberships, the ZIA
    user in the template's department, and the ZCC entitlements of the template's groups."""
    groups = [tenant.zid_groups[g.lower()] for g in dict.fromkeys([*(template.groups if template else ()),
                                                                   *extra_groups])]
    user = await _zid_user_or_none(wf, person.email)
    if user is not None:
        if user.get("status") is False:
            raise Refusal(f"ZIdentity user {person.email} (id {user['id']}) exists and is disabled: a former user? "
                          "Re-enable it with zid_update_user first if this is a return", "conflict", user=user["id"])
        wf.found["zid_user"] = {"id": user["id"], "loginName": user.get("loginName"), "created": False}
        wf.already(f"ZIdentity user {person.email} already exists (id {user['id']})")
        user_id: Any = user["id"]
        member_of = {str(g.get("id")) for g in await zid_user_groups(wf, user_id)}
        have = dict(user.get("customAttrsInfo") or {})
        if attrs and any(have.get(k) != v for k, v in attrs.items()):
            wf.add("zid_update_user", {"id": user_id, "body": zid_user_body(user, customAttrsInfo={**have, **attrs})},
                   f"record {', '.join(f'{k}={v}' for k, v in attrs.items())} on ZIdentity user {person.email}",
                   undo=lambda _r, u=user: ("zid_update_user", {"id": u["id"], "body": zid_user_body(u)},
                                            "restore the user's custom attributes"))
        elif attrs:
            wf.already(f"{person.email} already records {', '.join(f'{k}={v}' for k, v in attrs.items())}")
    else:
        body: dict[str, Any] = {"loginName": person.email, "primaryEmail": person.email,
                                "displayName": person.display, "status": True}
        body.update({k: v for k, v in (("firstName", person.first), ("lastName", person.last)) if v})
        if attrs:
            body["customAttrsInfo"] = dict(attrs)
        create = wf.add("zid_create_user", {"body": body}, f"create ZIdentity user {person.email}",
                        undo=delete_created("zid_remove_user", why="delete the user just created"),
                        manual=f"delete ZIdentity user {person.email}")
        wf.found["zid_user"] = {"loginName": person.email, "created": True}
        user_id, member_of = Ref(create, "id", NEW_USER), set()
    for group in groups:
        if str(group.get("id")) in member_of:
            wf.already(f"{person.email} is already in ZIdentity group {group.get('name')}")
            continue
        wf.add("zid_add_group_user", {"id": str(group["id"]), "userId": user_id},
               f"add {person.email} to ZIdentity group {group.get('name')}",
               undo=lambda _r, g=group["id"], u=user_id: ("zid_remove_group_user", {"id": str(g), "userId": _id(u)},
                                                          "take the membership back"))
    if template is not None and template.zia_user:
        await _plan_zia_user(wf, person, template, tenant)
    for service in template.entitlements if template is not None else ():
        await _plan_entitlement(wf, service, template)


def _id(value: Any) -> Any:
    """An id, or the one a create step returned (to undo what followed it)."""
    if isinstance(value, Ref):
        return value.step.result.get(value.key) if isinstance(value.step.result, dict) else None
    return value


async def _plan_zia_user(wf: Workflow, person: _Person, template: Template, tenant: _Tenant) -> None:
    existing = await find_zia_user(wf, person.email)
    department = tenant.zia_departments[str(template.department).lower()]
    if existing is not None:
        wf.found["zia_user"] = {"id": existing.get("id"), "department": (existing.get("department") or {}).get("name")}
        wf.already(f"ZIA user {person.email} already exists (id {existing.get('id')}); its department and groups "
                   "were left as they are")
        return
    zia_groups = {str(g.get("name", "")).lower(): g for g in await wf.read_all("zia_list_groups_lite")}
    matched = [zia_groups[g.lower()] for g in template.groups if g.lower() in zia_groups]
    missing = [g for g in template.groups if g.lower() not in zia_groups]
    if missing:
        wf.found["zia_groups_missing"] = missing
    body = {"name": person.display, "email": person.email,
            "department": {"id": department["id"], "name": department.get("name")},
            "groups": [{"id": g["id"], "name": g.get("name")} for g in matched],
            "comments": f"onboarded by oneapi-mcp with template {template.name}"}
    wf.add("zia_create_user", {"body": body},
           f"create ZIA user {person.email} in department {department.get('name')}"
           + (f" (not in ZIA groups {', '.join(missing)}: ZIA has no such group)" if missing else ""),
           undo=lambda r: ("zia_bulk_delete_user", {"body": {"ids": [r["id"]]}}, "delete the ZIA user just created")
           if isinstance(r, dict) and r.get("id") else None,
           manual=f"delete ZIA user {person.email} (zia_bulk_delete_user)")


def _entitled(entries: Any, flag: str) -> list[dict[str, Any]]:
    """The entries of an entitlement list that are entitled (the per-group flag, else active, is 1)."""
    return [e for e in entries or [] if isinstance(e, dict) and (e.get("groupName") or e.get("groupId") is not None)
            and e.get(flag, e.get("active")) == 1]


def _named(entries: list[dict[str, Any]], names: str, ids: str) -> dict[str, list[Any]]:
    """Entries as the update names them: by name, or by id where the entry has no name."""
    out: dict[str, list[Any]] = {names: [e["groupName"] for e in entries if e.get("groupName")],
                                 ids: [e["groupId"] for e in entries if not e.get("groupName")]}
    return {k: v for k, v in out.items() if v}


def entitlement_body(service: str, current: dict[str, Any], add_groups: tuple[str, ...] | list[str] = (),
                     ) -> dict[str, Any]:
    """The update request that puts back `current` (as listed) with `add_groups` (user group names) added."""
    _list_op, _update_op, flag, for_all, groups, device_groups, scalars = _ENTITLEMENTS[service]
    body: dict[str, Any] = {wire: current[field] for wire, field in scalars.items()
                            if isinstance(current.get(field), int)}
    if isinstance(current.get(for_all), int):
        body["enableForAll"] = current[for_all]
    users = _named(_entitled(current.get(groups), flag), "groupNames", "groupIds")
    if add_groups:
        users["groupNames"] = [*users.get("groupNames", []), *add_groups]
    return {**body, **users, **_named(_entitled(current.get(device_groups), flag), "deviceGroupNames",
                                      "deviceGroupIds")}


async def _plan_entitlement(wf: Workflow, service: str, template: Template) -> None:
    """Entitle the template's groups to ZPA or ZDX in Client Connector; the update replaces the whole
    entitlement, so it carries every group, device group and flag already set (see _ENTITLEMENTS)."""
    list_op, update_op, flag, for_all, groups, device_groups, _scalars = _ENTITLEMENTS[service]
    current = await wf.read(list_op) or {}
    label = service.upper()
    if current.get(for_all) == 1:
        wf.already(f"Client Connector entitles every user to {label} (enable for all), so the template's groups "
                   "are covered")
        return
    entitled = [str(e.get("groupName")) for e in _entitled(current.get(groups), flag)]
    have = {g.lower() for g in entitled}
    missing = [g for g in template.groups if g.lower() not in have]
    if not missing:
        wf.already(f"ZIdentity groups {', '.join(template.groups)} are already entitled to {label} in Client Connector")
        return
    kept_devices = len(_entitled(current.get(device_groups), flag))
    previous = entitlement_body(service, current)
    wf.add(update_op, {"body": entitlement_body(service, current, missing)},
           f"entitle group(s) {', '.join(missing)} to {label} in Client Connector (keeping the {len(entitled)} "
           f"group(s) and {kept_devices} device group(s) already entitled)",
           undo=lambda _r: (update_op, {"body": previous}, f"restore the previous {label} entitlement"))


# -- onboarding ------------------------------------------------------------------------------------
async def onboard_user(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="rollback")
    try:
        person = _person(args)
        template, tenant = await _checked_templates(wf, str(args["template"]))
        wf.found["template"] = {"name": template.name, "groups": list(template.groups),
                                "department": template.department, "zia_user": template.zia_user,
                                "entitlements": list(template.entitlements)}
        await _plan_access(wf, person, template, tenant)
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"onboard {person.email} with template {template.name!r}")


# -- contractors -----------------------------------------------------------------------------------
def end_date(text: str, max_days: int, now: datetime | None = None) -> tuple[str, datetime]:
    """(the value recorded, the moment access ends) for an ISO 8601 date (access ends after that day,
    UTC) or date-time; in the future and at most `max_days` ahead, else Refusal with the reason."""
    now = now or datetime.now(UTC)
    raw = str(text).strip()
    try:
        if "T" in raw or " " in raw:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            recorded = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            day = date.fromisoformat(raw)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            recorded = day.isoformat()
    except ValueError:
        raise Refusal(f"end_date {text!r} is not an ISO 8601 date (2026-06-30) or date-time "
                      "(2026-06-30T17:00:00Z)", "invalid_arguments") from None
    if moment <= now:
        raise Refusal(f"end_date {recorded} is not in the future (now is {now:%Y-%m-%dT%H:%MZ})", "invalid_arguments")
    if moment > now + timedelta(days=max_days + 1):
        raise Refusal(f"end_date {recorded} is more than {max_days} days ahead; contracts longer than that need "
                      "max_days raised on purpose", "invalid_arguments")
    return recorded, moment


def expiry_moment(value: Any) -> datetime | None:
    """When access recorded as `value` ends, or None if it is not a date."""
    raw = str(value or "").strip()
    try:
        if "T" in raw or " " in raw:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


async def provision_contractor(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="rollback")
    wf.cannot("ZIdentity has no account expiry: access does not end by itself on end_date. The date is recorded on "
              f"the user ({EXPIRES_ATTR}); lifecycle_due_offboarding lists who is due, and lifecycle_offboard_user "
              "ends the access")
    try:
        person = _person(args)
        recorded, _moment = end_date(args["end_date"], int(args.get("max_days", 365)))
        try:
            sponsor_email = check_email(args["sponsor"])
        except ValueError as exc:
            raise Refusal(f"sponsor: {exc}", "invalid_arguments") from None
        sponsor = await find_zid_user(wf, sponsor_email)
        if sponsor.get("status") is False:
            raise Refusal(f"sponsor {sponsor_email} is disabled in ZIdentity; name an active sponsor",
                          "invalid_arguments")
        if sponsor_email == person.email:
            raise Refusal("a contractor cannot sponsor themselves", "invalid_arguments")
        template, tenant = await _checked_templates(wf, args.get("template"), need_file=False)
        contractors = str(args.get("contractors_group") or "Contractors")
        if contractors.lower() not in tenant.zid_groups:
            raise Refusal(f"no ZIdentity group {contractors!r} for contractors (searched {len(tenant.zid_groups)} "
                          "groups with zid_list_groups)", "not_found", group=contractors)
        wf.found["contract"] = {"ends": recorded, "sponsor": sponsor_email, "group": contractors,
                                "template": template.name if template else None}
        await _plan_access(wf, person, template, tenant, extra_groups=(contractors,),
                           attrs={EXPIRES_ATTR: recorded, SPONSOR_ATTR: sponsor_email})
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"provision contractor {person.email} until {recorded}")


async def due_offboarding(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {})
    within = int(args.get("within_days", 0))
    now = datetime.now(UTC)
    horizon = now + timedelta(days=within)
    try:
        users = await wf.read_all("zid_list_users", {"fields": ["id", "loginName", "primaryEmail", "status",
                                                                    "customAttrsInfo"]})
    except Refusal as exc:
        return refusal_result(exc)
    due, disabled, unreadable, later = [], [], [], 0
    for user in users:
        attrs = user.get("customAttrsInfo") or {}
        if EXPIRES_ATTR not in attrs:
            continue
        entry = {"id": user.get("id"), "user": user.get("loginName") or user.get("primaryEmail"),
                 "expires": attrs[EXPIRES_ATTR], "sponsor": attrs.get(SPONSOR_ATTR),
                 "active": user.get("status") is not False}
        moment = expiry_moment(attrs[EXPIRES_ATTR])
        if moment is None:
            unreadable.append(entry)
            continue
        if moment > horizon:
            later += 1
            continue
        entry["days_left"] = (moment - now).days if moment > now else -((now - moment).days + 1)
        (due if entry["active"] else disabled).append(entry)
    due.sort(key=lambda e: e["days_left"])
    data: dict[str, Any] = {
        "tool": ctx.call.name, "checked_users": len(users), "as_of": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "within_days": within, "due": due,
        "summary": (f"{len(due)} active user(s) whose recorded access end ({EXPIRES_ATTR}) has passed"
                    + (f" or passes within {within} day(s)" if within else "") + f"; {later} end later"),
    }
    if args.get("include_disabled"):
        data["already_disabled"] = disabled
    else:
        data["already_disabled_count"] = len(disabled)
    if unreadable:
        data["unreadable"] = unreadable
        data["summary"] += f"; {len(unreadable)} user(s) record an end date that is not an ISO 8601 date"
    if due:
        data["next"] = "offboard each with lifecycle_offboard_user (user = the email)"
    return tool_result(data)


# -- offboarding -----------------------------------------------------------------------------------
async def offboard_user(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        user = await find_zid_user(wf, args["user"])
        email = str(user.get("primaryEmail") or user.get("loginName"))
        wf.found["zid_user"] = {"id": user["id"], "loginName": user.get("loginName"), "active": user.get("status"),
                                **{k: v for k, v in (user.get("customAttrsInfo") or {}).items()
                                   if k in (EXPIRES_ATTR, SPONSOR_ATTR)}}
        # ZIdentity keeps no password-reset state, so a re-run resets again: a reset that failed the first time
        # is finished by the next run instead of being skipped because the account is already disabled
        plan_zid_lockout(wf, user, reset_password=args.get("reset_password", True), reset_when_disabled=True)
        if args.get("remove_groups", True):
            await _plan_group_removal(wf, user, email)
        if args.get("remove_devices", True):
            await plan_devices_removal(wf, email)
        if args.get("delete_zia_user"):
            await wf.part("zia", "delete the ZIA user", lambda: _plan_zia_delete(wf, email))
        else:
            # ZIA end users have no disabled field (recorded/zia/cassettes/TestUsers.yaml: id, name, email, groups,
            # department, adminUser, deleted...), so the leaver's ZIA traffic is cut with a firewall rule for
            # that user only, read back after it is written (composite/_kit/accounts.plan_zia_block_user)
            await wf.part("zia", "block the ZIA user", lambda: plan_zia_block_user(
                wf, email, f"blocks all ZIA traffic of offboarded user {email}"))
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"offboard {email}")


async def _plan_group_removal(wf: Workflow, user: dict[str, Any], email: str) -> None:
    groups = await zid_user_groups(wf, user["id"])
    wf.found["zid_groups"] = [g.get("name") for g in groups]
    if not groups:
        wf.already(f"{email} is in no ZIdentity group")
    for group in groups:
        if group.get("dynamicGroup") or group.get("isDynamicGroup"):
            wf.already(f"ZIdentity group {group.get('name')} is dynamic: membership follows its rule, and a "
                       "disabled user gets no access through it")
            continue
        wf.add("zid_remove_group_user", {"id": str(group["id"]), "userId": str(user["id"])},
               f"remove {email} from ZIdentity group {group.get('name')}",
               undo=lambda _r, g=group: ("zid_add_group_user", {"id": str(g["id"]), "userId": str(user["id"])},
                                         "put the membership back"))


async def _plan_zia_delete(wf: Workflow, email: str) -> None:
    zia = await find_zia_user(wf, email)
    if zia is None:
        wf.already(f"ZIA has no user {email}; nothing to delete there")
        return
    wf.found["zia_user"] = {"id": zia.get("id"), "name": zia.get("name")}
    wf.add("zia_bulk_delete_user", {"body": {"ids": [zia["id"]]}},
           f"delete ZIA user {email} (id {zia['id']}) with bulk delete (ZIA allows few single DELETEs per hour)",
           manual=f"a deleted ZIA user cannot be restored: recreate {email} with zia_create_user if it was a mistake")


# -- read-only: the templates ------------------------------------------------------------------------
async def list_templates(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {})
    try:
        await _checked_templates(wf, None)
    except Refusal as exc:
        return refusal_result(exc)
    path = ctx.settings.plugin_settings("lifecycle").templates_file
    templates, _problems, _text = load_templates(Path(path))
    return tool_result({"tool": ctx.call.name, "file": str(path), "templates": [
        {"name": t.name, "description": t.description, "groups": list(t.groups), "department": t.department,
         "zia_user": t.zia_user, "entitlements": list(t.entitlements), "line": t.lines.get("")}
        for t in templates.values()]})


_ACCESS_OPS = ("zid_list_users", "zid_get_user", "zid_list_groups", "zid_list_user_groups", "zid_create_user",
               "zid_update_user", "zid_add_group_user", "zia_list_departments", "zia_list_groups_lite",
               "zia_list_users", "zia_create_user", "zia_activate", "zcc_list_zpa_group_entitlements",
               "zcc_update_zpa_group_entitlement", "zcc_list_zdx_group_entitlements",
               "zcc_update_zdx_group_entitlement")
_TEMPLATES = ("Templates are [templates.<name>] tables in the file named by templates_file in the server's "
              "[plugins.lifecycle] table (groups, department, "
              "zia_user, entitlements, description); lifecycle_list_templates shows them. A file with errors is "
              "reported line by line and nothing is applied.")

TOOLS = [
    CompositeTool(
        name="lifecycle_onboard_user",
        keywords=("new hire", "new starter", "joiner", "onboarding", "first day", "joiner process",
                  "role-based provisioning", "starting Monday", "set up new employee", "birthright access",
                  "HR new hire ticket", "standard access template"),
        title="Onboard an employee from an access template",
        description=(
            "Onboard a person from a standard access template: create the ZIdentity user, add it to the template's "
            "ZIdentity groups, create the ZIA user in the template's department (zia_user), and entitle the "
            "template's groups to ZPA/ZDX in Client Connector (entitlements). " + _TEMPLATES + " All or nothing: a "
            "failed step undoes the earlier ones. The ZIA user gets no password (sign-in goes through ZIdentity). "
            "Activates ZIA at the end. Dry run by default; idempotent."),
        handler=onboard_user, toolset="composite.lifecycle", scope="write", operations=_ACCESS_OPS,
        input_model=f"{_INPUTS}:_OnboardInput",
    ),
    CompositeTool(
        name="lifecycle_provision_contractor",
        keywords=("contractor access", "temporary access", "vendor account", "consultant", "time-bound access",
                  "fixed-term", "third-party access", "temp worker", "intern", "guest account", "sponsor",
                  "set end date", "extend contract"),
        title="Provision a contractor with an end date",
        description=(
            "Provision a contractor like lifecycle_onboard_user (template optional) and add them to the "
            "contractors group. ZIdentity has no account expiry, so the end date and sponsor are recorded on the "
            f"ZIdentity user as custom attributes {EXPIRES_ATTR} and {SPONSOR_ATTR} (the tenant must define these "
            "user attributes in ZIdentity), visible to every operator; lifecycle_due_offboarding lists who is due. "
            "Re-running with a later end_date extends the contract. All or nothing; dry run by default."),
        handler=provision_contractor, toolset="composite.lifecycle", scope="write", operations=_ACCESS_OPS,
        input_model=f"{_INPUTS}:_ContractorInput",
    ),
    CompositeTool(
        name="lifecycle_due_offboarding",
        keywords=("contractor expiry", "expired contractors", "contract ending", "access end date",
                  "overdue offboarding", "temp staff expiring", "who is due", "sponsor follow-up",
                  "expiring accounts", "vendor access expiry", "stale contractor access", "contract end review"),
        title="List contractors due for offboarding",
        description=(
            f"List ZIdentity users whose recorded access end ({EXPIRES_ATTR}, set by "
            "lifecycle_provision_contractor) has passed, or passes within within_days, and who are still active, "
            "with their sponsor and days left (negative: overdue). Read-only: offboard them with "
            "lifecycle_offboard_user."),
        handler=due_offboarding, toolset="composite.lifecycle", scope="read", operations=("zid_list_users",),
        input_model=f"{_INPUTS}:_DueOffboardingInput",
    ),
    CompositeTool(
        name="lifecycle_offboard_user",
        keywords=("leaver process", "employee termination", "last day", "terminated employee", "offboarding",
                  "resignation", "remove all access", "HR termination", "departure", "revoke everything",
                  "unenroll laptop", "fired", "leaver", "exit checklist"),
        title="Offboard a user",
        description=(
            "Offboard a leaver: disable the ZIdentity user and reset its password (credentials revoked), remove it "
            "from every ZIdentity group (dynamic groups follow their rules), unenroll its Client Connector devices, "
            "and cut its ZIA user off with an enabled BLOCK_DROP firewall rule for that user only, placed first "
            "and read back (ZIA end users have no disabled flag), or delete the ZIA user with delete_zia_user "
            "(ZIA bulk delete). When ZIA cannot be read, its part is skipped and reported (not_covered). Keeps "
            "going past a failed step and lists every step that still needs doing. Activates ZIA at the end. Dry "
            "run by default; applying needs confirmation. A re-run changes only what is still not done, except "
            "the password reset: ZIdentity has no state that shows a reset went through, so every run with "
            "reset_password resets it (set reset_password=false on a re-run that need not)."),
        handler=offboard_user, toolset="composite.lifecycle", scope="destructive",
        operations=("zid_list_users", "zid_get_user", "zid_update_user", "zid_reset_password", "zid_list_user_groups",
                    "zid_remove_group_user", "zcc_list_devices", "zcc_remove_devices", *ZIA_BLOCK_USER_OPS,
                    "zia_bulk_delete_user", "zia_activate", "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_OffboardInput",
    ),
    CompositeTool(
        name="lifecycle_list_templates",
        keywords=("access templates", "role templates", "onboarding templates", "standard access bundles",
                  "role-based access profiles", "job role bundles", "template validation", "department templates",
                  "new hire packages", "access profiles", "templates_file"),
        title="List the access templates",
        description=(
            "List the access templates in the server's templates_file ([plugins.lifecycle]) with their groups, ZIA "
            "department, ZIA user "
            "and Client Connector entitlements, after checking the file: unknown keys, wrong types, and groups or "
            "departments the tenant does not have are reported with their line numbers. Read-only."),
        handler=list_templates, toolset="composite.lifecycle", scope="read",
        operations=("zid_list_groups", "zia_list_departments"),
        input_model="oneapi_mcp.composite._input_models:ToolInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
