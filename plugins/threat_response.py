"""Built-in plugin: threat response (block domains everywhere, isolate an account, "quarantine" an endpoint).

Containment tools keep going when one service fails (a partial block beats none) and report each
step; what OneAPI cannot do is said in the tool's description and in `api_limits`.
"""

from __future__ import annotations

from typing import Any

from oneapi_mcp._hooktypes import CompositeTool

from ._accounts import (
    RULE_PREFIX,
    plan_devices_removal,
    plan_zia_disable,
    plan_zid_lockout,
    plan_zpa_deny,
    zpa_user_operand,
)
from ._lookups import check_domain, checked, find_zid_user
from ._workflow import Ref, Refusal, Workflow, delete_created, plan_schema, refusal_result
from .hookspecs import hookimpl

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

_ZPA_SESSIONS = ("ZPA cannot end one user's open sessions through the API: existing connections close when they "
                 "re-authenticate (config/sessionTerminationOnReauth is a tenant-wide setting)")


# -- block domains ---------------------------------------------------------------------------------
async def block_domains(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        domains = checked(list(args["domains"]), check_domain, "domains")
        wf.found["domains"] = domains
        if args.get("method", "category") == "denylist":
            await _plan_denylist(wf, domains)
        else:
            await _plan_category(wf, domains, args.get("category") or "oneapi-mcp blocked domains")
        if args.get("zpa", True):
            await _plan_zpa_segments(wf, domains)
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"block {len(domains)} domain(s)")


async def _plan_denylist(wf: Workflow, domains: list[str]) -> None:
    policy = await wf.read("zia_get_advanced_policy") or {}
    listed = {str(u).lower() for u in policy.get("blacklistUrls") or []}
    wf.found["zia_denylist_size"] = len(listed)
    missing = [d for d in domains if d not in listed]
    for d in domains:
        if d in listed:
            wf.already(f"{d} is already on the ZIA denylist")
    if missing:
        wf.add("zia_create_blacklist_urls", {"action": "ADD_TO_LIST", "body": {"blacklistUrls": missing}},
               f"add {len(missing)} domain(s) to the ZIA advanced-security denylist",
               undo=lambda _r: ("zia_create_blacklist_urls", {"action": "REMOVE_FROM_LIST",
                                                              "body": {"blacklistUrls": missing}}, "take them off"))


async def _plan_category(wf: Workflow, domains: list[str], name: str) -> None:
    categories = await wf.read_all("zia_list_url_categories", {"customOnly": True})
    found = [c for c in categories if str(c.get("configuredName", "")).lower() == name.lower()]
    if found:
        category = found[0]
        category_id: Any = category["id"]
        have = {str(u).lower() for u in category.get("urls") or []}
        wf.found["zia_category"] = {"id": category_id, "name": category.get("configuredName"), "urls": len(have)}
        missing = [d for d in domains if d not in have]
        for d in domains:
            if d in have:
                wf.already(f"{d} is already in ZIA URL category {name!r}")
        if missing:
            body = {"configuredName": category.get("configuredName"), "superCategory":
                    category.get("superCategory", "USER_DEFINED"), "customCategory": True, "urls": missing}
            wf.add("zia_update_url_category", {"categoryId": category_id, "action": "ADD_TO_LIST", "body": body},
                   f"add {len(missing)} domain(s) to ZIA URL category {name!r}",
                   undo=lambda _r, b=body, c=category_id: ("zia_update_url_category",
                                                           {"categoryId": c, "action": "REMOVE_FROM_LIST", "body": b},
                                                           "take them out again"))
    else:
        create = wf.add("zia_create_custom_url_category",
                        {"body": {"configuredName": name, "superCategory": "USER_DEFINED", "customCategory": True,
                                  "urls": domains, "description": "Domains blocked by oneapi-mcp threat response"}},
                        f"create ZIA custom URL category {name!r} with {len(domains)} domain(s)",
                        undo=delete_created("zia_remove_custom_url_category", "categoryId", "delete the category"),
                        manual=f"delete ZIA URL category {name!r}")
        category_id = Ref(create, "id", "CUSTOM_01")
    await _plan_block_rule(wf, name, category_id)


async def _plan_block_rule(wf: Workflow, category: str, category_id: Any) -> None:
    rule_name = f"Block {category}"[:31]  # ZIA rule names are at most 31 characters
    rules = await wf.read_all("zia_list_url_filtering_rules")
    found = [r for r in rules if r.get("name") == rule_name]
    if not found:
        wf.add("zia_create_url_filtering_rule",
               {"body": {"name": rule_name, "order": 1, "rank": 7, "action": "BLOCK", "state": "ENABLED",
                         "protocols": ["ANY_RULE"], "urlCategories": [category_id],
                         "description": f"Blocks URL category {category} (oneapi-mcp threat response)"}},
               f"create ZIA URL filtering rule {rule_name!r} (BLOCK, order 1) for the category",
               undo=delete_created("zia_remove_url_filtering_rule", why="delete the rule"),
               manual=f"delete ZIA URL filtering rule {rule_name!r}")
        return
    rule = found[0]
    wf.found["zia_rule"] = {"id": rule.get("id"), "name": rule_name, "action": rule.get("action"),
                            "state": rule.get("state")}
    categories = list(rule.get("urlCategories") or [])
    if rule.get("action") == "BLOCK" and rule.get("state") == "ENABLED" and category_id in categories:
        wf.already(f"ZIA URL filtering rule {rule_name!r} already blocks the category")
        return
    body = {**rule, "action": "BLOCK", "state": "ENABLED",
            "urlCategories": categories if category_id in categories else [*categories, category_id]}
    wf.add("zia_update_url_filtering_rule", {"id": rule["id"], "body": body},
           f"make ZIA URL filtering rule {rule_name!r} an enabled BLOCK rule for the category",
           undo=lambda _r, old=rule: ("zia_update_url_filtering_rule", {"id": old["id"], "body": old},
                                      "restore the rule"))


def _serves(segment_domain: str, blocked: str) -> bool:
    seg = segment_domain.lower().lstrip("*").lstrip(".")
    bare = blocked.lstrip(".")
    return seg == bare or seg.endswith("." + bare)


async def _plan_zpa_segments(wf: Workflow, domains: list[str]) -> None:
    apps = await wf.read_all("zpa_list_all_applications")
    matched = [a for a in apps if any(_serves(str(s), d) for s in a.get("domainNames") or [] for d in domains)]
    wf.found["zpa_matching_segments"] = [{"id": a.get("id"), "name": a.get("name"),
                                          "domains": a.get("domainNames")} for a in matched]
    if not matched:
        wf.already(f"no ZPA application segment serves these domains (searched {len(apps)}); ZPA only "
                   "governs private apps, so there is nothing to block there")
        return
    for app in matched:
        await plan_zpa_deny(wf, f"{RULE_PREFIX} block {app.get('name')}",
                            [{"objectType": "APP", "lhs": "id", "rhs": str(app["id"])}],
                            f"deny ZPA access to application segment {app.get('name')}")


# -- isolate an account ----------------------------------------------------------------------------
async def isolate_account(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        user = await find_zid_user(wf, args["user"])
        email = str(user.get("primaryEmail") or user.get("loginName"))
        wf.found["zid_user"] = {"id": user["id"], "loginName": user.get("loginName"), "active": user.get("status")}
        plan_zid_lockout(wf, user, reset_password=args.get("reset_password", True))
        if args.get("zia", True):
            await plan_zia_disable(wf, email)
        if args.get("zpa", True):
            operand = await zpa_user_operand(wf, email)
            await plan_zpa_deny(wf, f"{RULE_PREFIX} isolate {email}", [operand],
                                f"deny all ZPA private-app access to {email}")
            wf.cannot(_ZPA_SESSIONS)
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"isolate account {args['user']}")


# -- quarantine an endpoint ------------------------------------------------------------------------
async def quarantine_endpoint(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    wf.cannot("OneAPI has no endpoint isolation or network-quarantine API; this unenrolls Client Connector "
              "(the device loses its ZIA/ZPA tunnels) and denies the owner in ZPA")
    try:
        email, device = await _endpoint_owner(wf, args)
        await plan_devices_removal(wf, email, force=bool(args.get("force")), only=device)
        if args.get("deny_owner_in_zpa", True):
            operand = await zpa_user_operand(wf, email)
            await plan_zpa_deny(wf, f"{RULE_PREFIX} isolate {email}", [operand],
                                f"deny all ZPA private-app access to {email}")
        if args.get("posture_profile"):
            await _plan_posture_deny(wf, str(args["posture_profile"]))
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"quarantine endpoint {args.get('device') or args.get('user')}")


async def _endpoint_owner(wf: Workflow, args: dict[str, Any]) -> tuple[str, str | None]:
    if args.get("user"):
        user = await find_zid_user(wf, args["user"])
        return str(user.get("primaryEmail") or user.get("loginName")), None
    wanted = str(args.get("device") or "").strip()
    if not wanted:
        raise Refusal("give user (an email) or device (a udid or hostname)", "invalid_arguments")
    devices = await wf.read_all("zcc_list_devices")
    match = [d for d in devices if wanted.lower() in (str(d.get("udid", "")).lower(),
                                                      str(d.get("machineHostname", "")).lower())]
    if not match:
        raise Refusal(f"no Client Connector device {wanted!r}: searched udid and hostname of {len(devices)} "
                      "devices with zcc_list_devices", "not_found", device=wanted, searched=["zcc_list_devices"])
    return str(match[0].get("user")), str(match[0].get("udid"))


async def _plan_posture_deny(wf: Workflow, profile: str) -> None:
    postures = await wf.read_all("zpa_get_all_attributes")
    match = [p for p in postures if str(p.get("name", "")).lower() == profile.lower()]
    if not match:
        raise Refusal(f"no ZPA posture profile {profile!r}: searched {len(postures)} with zpa_get_all_attributes",
                      "not_found", posture_profile=profile)
    udid = match[0].get("postureUdid") or match[0].get("id")
    await plan_zpa_deny(wf, f"{RULE_PREFIX} deny failing {profile}"[:128],
                        [{"objectType": "POSTURE", "lhs": str(udid), "rhs": "false"}],
                        f"deny ZPA access to every device that fails posture profile {profile} (tenant-wide)")


# -- definitions -----------------------------------------------------------------------------------
_ZPA_RULE_OPS = ("zpa_get_policy_set_by_policy_type", "zpa_get_policy_rules_by_page", "zpa_add_rule_to_policy_set",
                 "zpa_update_rule_to_policy_set", "zpa_re_order_policy_rule")
_ZPA_USER_OPS = ("zpa_get_all_idps", "zpa_get_all_scim_attributes", "zpa_get_all_attributes_by_idp_id_and_page")

TOOLS = [
    CompositeTool(
        name="threat_block_domains",
        title="Block domains across ZIA and ZPA",
        description=(
            "Block domains everywhere OneAPI can: in ZIA, add them to a custom URL category with an enabled BLOCK "
            "URL-filtering rule (method=category, default) or to the advanced-security denylist "
            "(method=denylist); in ZPA, deny access to any private application segment that serves them (ZPA "
            "governs private apps only). Activates ZIA once at the end. Dry run by default; idempotent."),
        handler=block_domains, toolset="composite.threat", scope="write",
        operations=("zia_list_url_categories", "zia_create_custom_url_category", "zia_update_url_category",
                    "zia_list_url_filtering_rules", "zia_create_url_filtering_rule", "zia_update_url_filtering_rule",
                    "zia_get_advanced_policy", "zia_create_blacklist_urls", "zia_activate",
                    "zpa_list_all_applications", *_ZPA_RULE_OPS),
        input_schema=plan_schema({
            "domains": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 500,
                        "description": "Domains to block, e.g. evil.example; a leading dot (.evil.example) also "
                                       "covers subdomains."},
            "method": {"type": "string", "enum": ["category", "denylist"], "default": "category",
                       "description": "ZIA mechanism: a custom URL category plus BLOCK rule, or the denylist."},
            "category": {"type": "string", "minLength": 1, "maxLength": 64,
                         "description": "Custom URL category to use or create (default 'oneapi-mcp blocked "
                                        "domains')."},
            "zpa": {"type": "boolean", "default": True,
                    "description": "Also deny ZPA application segments that serve these domains."},
        }, ["domains"]),
    ),
    CompositeTool(
        name="threat_isolate_account",
        title="Isolate a compromised account",
        description=(
            "Cut a compromised account off everywhere: disable the ZIdentity user and reset its password, disable "
            "the ZIA user (when ZIA has one), and add a ZPA access rule that denies the person, placed first. "
            "Open ZPA sessions end only at re-authentication (no per-user kill API). Activates ZIA at the end. "
            "Dry run by default; idempotent (the password is reset only while the account is still enabled)."),
        handler=isolate_account, toolset="composite.threat", scope="write",
        operations=("zid_list_users", "zid_get_user", "zid_update_user", "zid_reset_password", "zia_list_users",
                    "zia_update_user", "zia_activate", *_ZPA_USER_OPS, *_ZPA_RULE_OPS),
        input_schema=plan_schema({
            "user": {"type": "string", "minLength": 1, "description": "Email / login name, or ZIdentity user id."},
            "reset_password": {"type": "boolean", "default": True},
            "zia": {"type": "boolean", "default": True, "description": "Also disable the ZIA user."},
            "zpa": {"type": "boolean", "default": True, "description": "Also deny the person in ZPA."},
        }, ["user"]),
    ),
    CompositeTool(
        name="threat_quarantine_endpoint",
        title="Quarantine an endpoint (nearest real controls)",
        description=(
            "OneAPI has no endpoint-isolation API. This does the nearest real things: unenrolls the device's "
            "Client Connector (ZCC removeDevices, or forceRemoveDevices with force), so it loses its ZIA and ZPA "
            "tunnels; denies its owner in ZPA with an access rule placed first; and, with posture_profile, adds a "
            "tenant-wide ZPA rule denying every device that fails that posture profile. Give a device (udid or "
            "hostname) or a user (all their devices). Dry run by default."),
        handler=quarantine_endpoint, toolset="composite.threat", scope="destructive",
        operations=("zid_list_users", "zid_get_user", "zcc_list_devices", "zcc_remove_devices",
                    "zcc_force_remove_devices", "zpa_get_all_attributes", *_ZPA_USER_OPS, *_ZPA_RULE_OPS),
        input_schema=plan_schema({
            "device": {"type": "string", "minLength": 1, "description": "Client Connector udid or hostname."},
            "user": {"type": "string", "minLength": 1, "description": "Instead of device: every device of this "
                                                                      "user (email or ZIdentity id)."},
            "force": {"type": "boolean", "default": False,
                      "description": "forceRemoveDevices (immediate) instead of removeDevices."},
            "deny_owner_in_zpa": {"type": "boolean", "default": True},
            "posture_profile": {"type": "string", "minLength": 1,
                                "description": "Also deny, tenant-wide, devices failing this ZPA posture profile."},
        }, activation=False),
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
