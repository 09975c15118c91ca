"""Built-in plugin: unified user management (create, disable, show access, group membership).

ZIdentity is the source of truth for a person; ZIA keeps its own user object where ZIA provisions
users; ZPA has no user object (people and groups arrive from the IdP through SCIM or SAML), so "a
user in ZPA" is a SCIM group membership or a rule operand naming them. Creating is provisioning
(all or nothing: rolled back on failure); disabling is containment (it carries on past a failed
service and reports it).
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from pydantic import Field

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Ref,
    Refusal,
    Workflow,
    refusal_result,
    tool_error,
    tool_result,
)

from ..hookspecs import hookimpl
from ._kit.accounts import ZIA_BLOCK_USER_OPS, plan_zia_block_user, plan_zid_disable
from ._kit.containment import contain_person, lock_zid_account
from ._kit.lookups import (
    check_email,
    checked,
    find_zcc_devices,
    find_zia_department,
    find_zia_user,
    find_zid_group,
    find_zid_user,
    zid_user_body,
    zid_user_groups,
    zpa_access_rules,
)

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

_NO_ZPA_USERS = ("ZPA has no user object or user-create API: people and their SCIM groups come from the IdP; "
                 "ZPA access follows the person's IdP groups and the access rules that name them")
_ZPA_SESSIONS = ("ZPA cannot end one user's open sessions through the API: existing connections close when they "
                 "re-authenticate")


async def _maybe_zid_user(wf: Workflow, who: str) -> dict[str, Any] | None:
    try:
        return await find_zid_user(wf, who)
    except Refusal as exc:
        if exc.kind == "not_found":
            return None
        raise


def _allowed(wf: Workflow, operation: str, arguments: dict[str, Any]) -> bool:
    """Whether this server lets the tool call `operation` (an undo may need a wider scope than the
    tool: a read-write server cannot delete, so the nearest write reverses the step instead)."""
    preview = wf.ctx.preview_operation(operation, arguments)
    return not (preview.is_error and (preview.data.get("error") or {}).get("kind") == "scope_denied")


def _zid_summary(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user.get("id"), "loginName": user.get("loginName"), "displayName": user.get("displayName"),
            "active": user.get("status")}


async def _zid_users(wf: Workflow, emails: list[str]) -> list[dict[str, Any]]:
    """Every email's ZIdentity user; all the unknown ones refused together."""
    found, missing = [], []
    for email in emails:
        user = await _maybe_zid_user(wf, email)
        if user is None:
            missing.append(email)
        else:
            found.append(user)
    if missing:
        raise Refusal(f"no ZIdentity user for {', '.join(missing)}: searched loginName and primaryEmail with "
                      "zid_list_users", "not_found", searched=["zid_list_users"], users=missing)
    return found


# -- create ----------------------------------------------------------------------------------------
async def create_user(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="rollback")
    try:
        email = checked([args["email"]], check_email, "email address")[0]
        display = (args.get("display_name") or " ".join(filter(None, (args.get("first_name"),
                                                                      args.get("last_name")))) or email.split("@")[0])
        all_groups = await wf.read_all("zid_list_groups") if args.get("groups") else []
        groups: dict[str, dict[str, Any]] = {}
        for name in args.get("groups") or []:
            group = await find_zid_group(wf, name, all_groups)
            groups.setdefault(str(group["id"]), group)
        department = await find_zia_department(wf, args["zia_department"]) if args.get("zia_department") else None
        user = await _maybe_zid_user(wf, email)
        user_id: Any
        if user is None:
            create = _plan_zid_create(wf, email, display, args)
            user_id = Ref(create, "id", "<id of step 1>")  # the create is always step 1
            member_of: set[str] = set()
        else:
            user_id = str(user["id"])
            wf.found["zid_user"] = _zid_summary(user)
            wf.already(f"ZIdentity user {email} exists (id {user_id}); only what is missing is planned")
            if user.get("status") is False:
                wf.found["zid_user"]["note"] = "the user is disabled; this tool does not re-enable it"
            member_of = {str(g.get("id")) for g in await zid_user_groups(wf, user_id)}
        for gid, group in groups.items():
            if gid in member_of:
                wf.already(f"{email} is already in ZIdentity group {group.get('name')!r}")
            else:
                _plan_zid_membership(wf, email, gid, group, user_id)
        if department is not None:
            await _plan_zia_create(wf, email, display, department, [g.get("name") for g in groups.values()])
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"create user {email}")


def _plan_zid_create(wf: Workflow, email: str, display: str, args: dict[str, Any]):
    body = {"loginName": email, "primaryEmail": email, "displayName": display, "status": True}
    if args.get("first_name"):
        body["firstName"] = args["first_name"]
    if args.get("last_name"):
        body["lastName"] = args["last_name"]
    if _allowed(wf, "zid_remove_user", {"id": "x"}):
        def undo(r):
            return ("zid_remove_user", {"id": r["id"]}, "delete the new user") if isinstance(r, dict) and r.get(
                "id") else None
    else:  # a read-write server cannot delete: disabling is the nearest reverse it can make
        def undo(r):
            return ("zid_update_user", {"id": r["id"], "body": zid_user_body({**body, **r}, status=False)},
                    "disable the new user") if isinstance(r, dict) and r.get("id") else None
    return wf.add("zid_create_user", {"body": body}, f"create ZIdentity user {email} ({display})", undo=undo,
                  manual=f"delete ZIdentity user {email} (created by this run)")


def _plan_zid_membership(wf: Workflow, email: str, gid: str, group: dict[str, Any], user_id: Any) -> None:
    def member(step_id=user_id):
        if isinstance(step_id, Ref):
            result = step_id.step.result
            return str(result["id"]) if isinstance(result, dict) and result.get("id") else None
        return step_id

    undo = None
    if _allowed(wf, "zid_remove_group_user", {"id": gid, "userId": "x"}):
        def undo(_r):
            uid = member()
            return ("zid_remove_group_user", {"id": gid, "userId": uid}, "take the user out again") if uid else None
    wf.add("zid_add_group_user", {"id": gid, "userId": user_id},
           f"add {email} to ZIdentity group {group.get('name')!r}", undo=undo,
           manual=f"remove {email} from ZIdentity group {group.get('name')!r}")


async def _plan_zia_create(wf: Workflow, email: str, display: str, department: dict[str, Any],
                           group_names: list[Any]) -> None:
    existing = await find_zia_user(wf, email)
    if existing is not None:
        current = (existing.get("department") or {}).get("name")
        wf.found["zia_user"] = {"id": existing.get("id"), "department": current}
        if str(current).lower() != str(department.get("name")).lower():
            wf.found["zia_user"]["note"] = (f"in department {current!r}, not {department.get('name')!r}; this tool "
                                            "does not move existing users")
        wf.already(f"ZIA user {email} exists (id {existing.get('id')})")
        return
    zia_groups = await wf.read_all("zia_list_groups_lite") if group_names else []
    wanted = {str(n).lower() for n in group_names}
    matched = [{"id": g["id"], "name": g.get("name")} for g in zia_groups if str(g.get("name", "")).lower() in wanted]
    wf.found["zia_groups"] = {"matched": [g["name"] for g in matched],
                              "not_in_zia": sorted(wanted - {str(g["name"]).lower() for g in matched})}
    body = {"name": display, "email": email, "department": {"id": department["id"], "name": department.get("name")},
            "groups": matched}
    undo = None
    if _allowed(wf, "zia_bulk_delete_user", {"body": {"ids": [1]}}):
        def undo(r):
            return ("zia_bulk_delete_user", {"body": {"ids": [r["id"]]}}, "delete the new ZIA user") if isinstance(
                r, dict) and r.get("id") else None
    wf.add("zia_create_user", {"body": body},
           f"create ZIA user {email} in department {department.get('name')!r} with {len(matched)} ZIA group(s)",
           undo=undo, manual=f"delete ZIA user {email} (created by this run), then activate ZIA")


# -- disable ---------------------------------------------------------------------------------------
async def disable_user(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        email = await lock_zid_account(wf, args["user"], lambda user: plan_zid_disable(wf, user))
        zpa = bool(args.get("zpa", False) or "zpa" in (args.get("services") or ()))
        if args.get("zia", True):
            await wf.part("zia", "block the ZIA user", lambda: plan_zia_block_user(
                wf, email, f"blocks all ZIA traffic of disabled user {email}"))
        await contain_person(wf, email, zia=False, zpa=zpa, zpa_rule="disabled",
                             zpa_why=f"deny all ZPA private-app access to disabled user {email}")
        wf.cannot(_ZPA_SESSIONS if zpa else _NO_ZPA_USERS + " (pass zpa=true to add a deny rule for the person)")
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"disable user {args['user']}")


# -- show access -----------------------------------------------------------------------------------
async def show_access(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {"dry_run": True})
    try:
        user = await find_zid_user(wf, args["user"])
        groups = await zid_user_groups(wf, str(user["id"]))
    except Refusal as exc:
        return tool_error(exc.message, exc.kind, **exc.extra)
    email = str(user.get("primaryEmail") or user.get("loginName"))
    out: dict[str, Any] = {"tool": ctx.call.name, "user": email,
                           "zidentity": {**_zid_summary(user), "department": (user.get("department") or {}).get("name"),
                                         "groups": [g.get("name") for g in groups]}}
    names = [str(g.get("name")) for g in groups]
    sections = {"zia": _zia_access(wf, email), "zcc": _zcc_access(wf, email), "zdx": _zdx_access(wf, email),
                "zpa": _zpa_access(wf, email, names)}

    async def run(key: str, job) -> None:
        try:
            out[key] = await job
        except Refusal as exc:
            out[key] = {"error": exc.message}
        except Exception as exc:  # one service's failure leaves the others' answers
            out[key] = {"error": f"{type(exc).__name__}: {exc}"}

    async with anyio.create_task_group() as tg:
        for key in ("zia", "zcc", "zdx", "zpa"):
            tg.start_soon(run, key, sections[key])
    out["summary"] = _access_summary(out)
    out["notes"] = [_NO_ZPA_USERS, "ZPA SCIM groups are matched to the person's ZIdentity groups by name"]
    return tool_result(out)


async def _zia_access(wf: Workflow, email: str) -> dict[str, Any]:
    user = await find_zia_user(wf, email)
    if user is None:
        return {"user": None, "note": f"ZIA has no user {email} (on ZIdentity tenants users may exist only there)"}
    dept = user.get("department") or {}
    groups = user.get("groups") or []
    who = {"users": {user.get("id")}, "groups": {g.get("id") for g in groups}, "departments": {dept.get("id")}}
    rules = {}
    for kind, operation in (("url_filtering", "zia_list_url_filtering_rules"),
                            ("firewall", "zia_list_firewall_filtering_rules")):
        matched, everyone = [], []
        for rule in await wf.read_all(operation):
            why = [f"{field[:-1]} {ref.get('name') or ref.get('id')}" for field in ("users", "groups", "departments")
                   for ref in rule.get(field) or [] if ref.get("id") in who[field]]
            if why:
                matched.append({"id": rule.get("id"), "name": rule.get("name"), "order": rule.get("order"),
                                "action": rule.get("action"), "state": rule.get("state"), "matched_by": why})
            elif not any(rule.get(field) for field in ("users", "groups", "departments")):
                everyone.append(rule.get("name"))
        rules[kind] = {"naming_the_user": matched, "for_everyone": everyone}
    return {"user": {"id": user.get("id"), "name": user.get("name"), "disabled": bool(user.get("disabled"))},
            "department": dept.get("name"), "groups": [g.get("name") for g in groups], "rules": rules}


async def _zcc_access(wf: Workflow, email: str) -> dict[str, Any]:
    devices = await find_zcc_devices(wf, email)
    return {"devices": [{"udid": d.get("udid"), "hostname": d.get("machineHostname"), "os": d.get("osVersion"),
                         "state": d.get("registrationState") or d.get("state"), "agent": d.get("agentVersion"),
                         "last_seen": d.get("last_seen_time")} for d in devices]}


async def _zdx_access(wf: Workflow, email: str) -> dict[str, Any]:
    users = await wf.read_all("zdx_list_users", {"q": email})
    match = [u for u in users if str(u.get("email", "")).lower() == email.lower()]
    if not match:
        return {"user": None, "note": f"ZDX has no data for {email} in the default window (last 2 hours)"}
    user = match[0]
    return {"user": {"id": user.get("id"), "name": user.get("name"), "score": user.get("score"),
                     "devices": [d.get("name") for d in user.get("devices") or []]}}


async def _zpa_access(wf: Workflow, email: str, group_names: list[str]) -> dict[str, Any]:
    idps = [i for i in await wf.read_all("zpa_get_all_idps") if i.get("enabled", True)]
    wanted = {n.lower() for n in group_names}
    scim_groups: list[dict[str, Any]] = []
    for idp in idps:
        if idp.get("scimEnabled"):
            for g in await wf.read_all("zpa_get_all_scim_groups", {"idpId": idp["id"]}):
                if str(g.get("name", "")).lower() in wanted:
                    scim_groups.append({"id": str(g.get("id")), "name": g.get("name"), "idp": idp.get("name")})
    by_id = {g["id"]: g["name"] for g in scim_groups}
    matched, everyone = [], []
    for rule in await zpa_access_rules(wf):
        why, names_people = [], False
        for condition in rule.get("conditions") or []:
            for op in condition.get("operands") or []:
                kind = op.get("objectType")
                if kind in ("SCIM_GROUP", "SCIM", "SAML"):
                    names_people = True
                if kind == "SCIM_GROUP" and str(op.get("rhs")) in by_id:
                    why.append(("not " if condition.get("negated") else "") + f"SCIM group {by_id[str(op['rhs'])]}")
                elif kind in ("SCIM", "SAML") and str(op.get("rhs", "")).lower() == email.lower():
                    why.append(("not " if condition.get("negated") else "") + f"{kind} attribute = {email}")
        if why:
            matched.append({"id": rule.get("id"), "name": rule.get("name"), "action": rule.get("action"),
                            "order": rule.get("ruleOrder"), "disabled": str(rule.get("disabled", "0")) not in (
                                "0", "False", "false"), "matched_by": why})
        elif not names_people:
            everyone.append(rule.get("name"))
    return {"scim_groups": scim_groups,
            "missing_scim_groups": sorted(wanted - {str(g["name"]).lower() for g in scim_groups}),
            "access_rules": {"naming_the_user": matched, "without_user_criteria": everyone}}


def _access_summary(out: dict[str, Any]) -> str:
    zid = out["zidentity"]
    parts = [f"{out['user']}: ZIdentity {'active' if zid.get('active') else 'disabled'}, "
             f"{len(zid['groups'])} group(s)"]
    zia = out.get("zia") or {}
    if zia.get("error"):
        parts.append(f"ZIA unreadable ({zia['error'][:80]})")
    elif zia.get("user"):
        named = sum(len(r["naming_the_user"]) for r in zia["rules"].values())
        parts.append(f"ZIA user in {zia.get('department')}, {named} rule(s) name the user, a group or department")
    else:
        parts.append("no ZIA user")
    zcc = out.get("zcc") or {}
    parts.append("ZCC unreadable" if zcc.get("error") else f"{len(zcc.get('devices', []))} ZCC device(s)")
    zdx = out.get("zdx") or {}
    parts.append("ZDX unreadable" if zdx.get("error") else
                 f"ZDX score {zdx['user']['score']}" if zdx.get("user") else "no ZDX data")
    zpa = out.get("zpa") or {}
    parts.append("ZPA unreadable" if zpa.get("error") else
                 f"{len(zpa['scim_groups'])} ZPA SCIM group(s), "
                 f"{len(zpa['access_rules']['naming_the_user'])} ZPA access rule(s) name them")
    return "; ".join(parts)


# -- group membership ------------------------------------------------------------------------------
async def _membership(ctx, args: dict[str, Any], adding: bool):
    wf = Workflow(ctx, args, on_failure="rollback")
    try:
        emails = checked(list(args["users"]), check_email, "email addresses")
        group = await find_zid_group(wf, args["group"])
        gid, gname = str(group["id"]), group.get("name")
        users = await _zid_users(wf, emails)
        members = {str(m.get("id")) for m in await wf.read_all("zid_list_group_members", {"id": gid})}
        wf.found["group"] = {"id": gid, "name": gname, "members": len(members)}
        todo = []
        for user in users:
            inside = str(user["id"]) in members
            if inside == adding:
                wf.already(f"{user.get('loginName')} is {'already' if adding else 'not'} in ZIdentity group {gname!r}")
            else:
                todo.append(user)
        if todo:
            body = [{"id": str(u["id"])} for u in todo]
            who = ", ".join(str(u.get("loginName")) for u in todo)
            reverse = "zid_bulkremove" if adding else "zid_add_group_users"
            undo = None
            if _allowed(wf, reverse, {"id": gid, "body": body}):
                def undo(_r):
                    return (reverse, {"id": gid, "body": body}, "restore the previous membership")
            if adding:
                wf.add("zid_add_group_users", {"id": gid, "body": body},
                       f"add {len(todo)} user(s) to ZIdentity group {gname!r}: {who}", undo=undo,
                       manual=f"remove {who} from ZIdentity group {gname!r}")
            else:
                wf.add("zid_bulkremove", {"id": gid, "body": body},
                       f"remove {len(todo)} user(s) from ZIdentity group {gname!r}: {who} (the accounts are kept)",
                       undo=undo, manual=f"add {who} back to ZIdentity group {gname!r}")
    except Refusal as exc:
        return refusal_result(exc)
    verb = "add to" if adding else "remove from"
    return await wf.finish(f"{verb} ZIdentity group {args['group']}: {len(emails)} user(s)")


async def add_to_group(ctx, args: dict[str, Any]):
    return await _membership(ctx, args, adding=True)


async def remove_from_group(ctx, args: dict[str, Any]):
    return await _membership(ctx, args, adding=False)


# -- definitions -----------------------------------------------------------------------------------
_FIND_ZID = ("zid_list_users", "zid_get_user")
_ZPA_USER_OPS = ("zpa_get_all_idps", "zpa_get_all_scim_attributes", "zpa_get_all_attributes_by_idp_id_and_page")
_ZPA_RULE_OPS = ("zpa_get_policy_set_by_policy_type", "zpa_get_policy_rules_by_page", "zpa_add_rule_to_policy_set",
                 "zpa_update_rule_to_policy_set", "zpa_re_order_policy_rule")
_User = Annotated[str, Field(min_length=1, description="Email / login name, or ZIdentity user id.")]


TOOLS = [
    CompositeTool(
        name="users_create_user",
        keywords=("create account", "new account", "provision user", "add person", "set up account",
                  "ad-hoc account", "without template", "local ZIA user", "create identity", "single account setup"),
        title="Create a user with access across services",
        description=(
            "Provision a person: create the ZIdentity user (the source of truth), add it to ZIdentity groups by name, "
            "and with zia_department also create a local ZIA user in that existing department (with the ZIA groups "
            "of the same names, where ZIA has them), then activate ZIA. ZPA has no user-create API: ZPA access "
            "follows the IdP's SCIM groups. All or nothing: a failed step rolls back the ones before it. "
            "Idempotent: for an existing user only the missing memberships and ZIA user are planned. Dry run by "
            "default."),
        handler=create_user, toolset="composite.users", scope="write",
        operations=(*_FIND_ZID, "zid_list_groups", "zid_list_user_groups", "zid_create_user", "zid_add_group_user",
                    "zia_list_departments", "zia_list_users", "zia_list_groups_lite", "zia_create_user",
                    "zia_activate"),
        input_model=f"{_INPUTS}:_CreateUserInput",
    ),
    CompositeTool(
        name="users_disable",
        keywords=("suspend user", "deactivate account", "HR hold", "leave of absence", "temporarily disable access",
                  "investigation hold", "pause access", "suspend pending review", "block user traffic",
                  "administrative suspension", "garden leave", "disciplinary suspension"),
        title="Disable a user across services",
        description=(
            "Disable a person everywhere it is a write: the ZIdentity user (status false), in ZIA a firewall rule "
            "that drops all traffic of that user only, placed first and read back (ZIA end users have no "
            "disable flag; ZIA is then activated), and with zpa=true a ZPA access rule denying the person, placed "
            "first (ZPA has no user object to disable). Devices are not removed here because that is destructive: use "
            "threat_quarantine_endpoint (or an offboarding tool) on an admin server for that. A service that cannot "
            "be read (not licensed, no role) is skipped and reported as not_covered while the others still act; a "
            "failed step does not undo the others unless on_failure=rollback. Idempotent. Dry run by default."),
        handler=disable_user, toolset="composite.users", scope="write",
        operations=(*_FIND_ZID, "zid_update_user", *ZIA_BLOCK_USER_OPS, "zia_activate", "zia_get_activation_status",
                    *_ZPA_USER_OPS, *_ZPA_RULE_OPS),
        input_model=f"{_INPUTS}:_DisableUserInput",
    ),
    CompositeTool(
        name="users_show_access",
        keywords=("what can user access", "user access review", "effective permissions", "entitlements of user",
                  "why blocked", "troubleshoot access", "which rules apply", "user 360", "access summary",
                  "can't reach app", "user profile overview", "rules naming user"),
        title="Show one user's access across services",
        description=(
            "Read-only view of one person across services: the ZIdentity user and groups; the ZIA user, department "
            "and groups and the ZIA URL-filtering and firewall rules that name that user, group or department (and "
            "the rules with no user criteria); the person's Client Connector devices; their ZDX score (last 2 "
            "hours); the ZPA SCIM groups with the same names as their ZIdentity groups and the ZPA access rules "
            "that name those groups or the person. A service that cannot be read is reported, the rest still shown."),
        handler=show_access, toolset="composite.users", scope="read",
        operations=(*_FIND_ZID, "zid_list_user_groups", "zia_list_users", "zia_list_url_filtering_rules",
                    "zia_list_firewall_filtering_rules", "zcc_list_devices", "zdx_list_users", "zpa_get_all_idps",
                    "zpa_get_all_scim_groups", "zpa_get_policy_rules_by_page"),
        input_model=f"{_INPUTS}:_ShowAccessInput",
    ),
    CompositeTool(
        name="users_add_to_group",
        keywords=("grant group membership", "give access via group", "put in team group", "join group",
                  "bulk add members", "add people to group", "membership change", "grant app access",
                  "enroll in group", "add to ZIdentity group"),
        title="Add users to a ZIdentity group",
        description=(
            "Add users (by email) to a ZIdentity group (by name) in one call; members already in it are left alone. "
            "ZIA and ZPA rules that use the group apply once ZIdentity syncs the membership to them; this tool "
            "changes ZIdentity only. Idempotent. Dry run by default."),
        handler=add_to_group, toolset="composite.users", scope="write",
        operations=(*_FIND_ZID, "zid_list_groups", "zid_list_group_members", "zid_add_group_users"),
        input_model=f"{_INPUTS}:_GroupMembersInput",
    ),
    CompositeTool(
        name="users_remove_from_group",
        keywords=("revoke group membership", "take out of team", "drop membership", "remove group access",
                  "role change", "moved teams", "least privilege cleanup", "bulk remove members",
                  "strip group access", "remove from ZIdentity group"),
        title="Remove users from a ZIdentity group",
        description=(
            "Remove users (by email) from a ZIdentity group (by name) with one bulk remove; the accounts are kept "
            "and users not in the group are left alone. Destructive: applying asks for confirmation. ZIdentity "
            "only, as for users_add_to_group. Idempotent. Dry run by default."),
        handler=remove_from_group, toolset="composite.users", scope="destructive",
        operations=(*_FIND_ZID, "zid_list_groups", "zid_list_group_members", "zid_bulkremove"),
        input_model=f"{_INPUTS}:_GroupMembersInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
