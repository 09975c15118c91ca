"""Built-in plugin: threat response (block domains everywhere, isolate an account, "quarantine" an endpoint).

Containment tools keep going when one service fails (a partial block beats none) and report each
step; what OneAPI cannot do is said in the tool's description and in `api_limits`.
"""

from __future__ import annotations

from typing import Any

from oneapi_mcp.plugin_api import (
    CompositeTool,
    ReadFailure,
    Ref,
    Refusal,
    Workflow,
    delete_created,
    refusal_result,
)

from ..hookspecs import hookimpl
from ._kit.accounts import (
    RULE_PREFIX,
    ZIA_BLOCK_USER_OPS,
    plan_devices_removal,
    plan_zia_block_user,
    plan_zid_lockout,
    plan_zpa_deny,
)
from ._kit.containment import contain_person, lock_zid_account
from ._kit.lookups import body_fields, check_domain, checked
from ._kit.own_domains import refuse_own_domains
from ._kit.snapshots import record_run
from ._kit.zpa_rules import plan_zpa_group_deny, scim_idps, zpa_scim_group

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

_ZPA_SESSIONS = ("ZPA cannot end one user's open sessions through the API: existing connections close when they "
                 "re-authenticate (config/sessionTerminationOnReauth is a tenant-wide setting)")


# -- block domains ---------------------------------------------------------------------------------
async def block_domains(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        domains = checked(list(args["domains"]), check_domain, "domains")
        wf.found["domains"] = domains
        zpa = args.get("zpa", True)
        apps = await (wf.part("zpa", "deny the application segments that serve the domains", _segments(wf)) if zpa
                      else _segments(wf, quiet=True)())
        await refuse_own_domains(wf, domains, apps, force=bool(args.get("force")))
        if args.get("method", "category") == "denylist":
            await wf.part("zia", "add the domains to the denylist", lambda: _plan_denylist(wf, domains))
        else:
            name = args.get("category") or "oneapi-mcp blocked domains"
            await wf.part("zia", "block the domains with a URL category and rule",
                          lambda: _plan_category(wf, domains, name))
        if zpa and apps is not None and wf.wants("zpa"):
            await wf.part("zpa", "deny the application segments", lambda: _plan_zpa_segments(wf, domains, apps, args))
    except Refusal as exc:
        return refusal_result(exc)
    # what it changed is stored for threat_unblock_domains (composite/reverse.py)
    return record_run(wf, await wf.finish(f"block {len(domains)} domain(s)"), ",".join(sorted(set(domains))))


async def _plan_denylist(wf: Workflow, domains: list[str]) -> None:
    """Add the domains to ZIA's Advanced Threat Protection malicious-URL denylist: read the list, then PUT
    cyberThreatProtection/maliciousUrls?action=ADD_TO_LIST with only the missing ones (the answer echoes the
    urls sent, not the list), as recorded in reference/recorded/zia/cassettes/TestATPPolicy.yaml and done by
    zscaler-sdk-python zia/atp_policy.py add_atp_malicious_urls; REMOVE_FROM_LIST takes them off again."""
    listed = {str(u).lower() for u in (await wf.read("zia_get_malicious_urls") or {}).get("maliciousUrls") or []}
    wf.found["zia_denylist_size"] = len(listed)
    missing = [d for d in domains if d not in listed]
    for d in domains:
        if d in listed:
            wf.already(f"{d} is already on the ZIA ATP malicious-URL denylist")
    if missing:
        wf.add("zia_update_malicious_urls", {"action": "ADD_TO_LIST", "body": {"maliciousUrls": missing}},
               f"add {len(missing)} domain(s) to the ZIA Advanced Threat Protection malicious-URL denylist",
               undo=lambda _r: ("zia_update_malicious_urls", {"action": "REMOVE_FROM_LIST",
                                                              "body": {"maliciousUrls": missing}}, "take them off"))


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
    update = "zia_update_url_filtering_rule"
    body = body_fields(wf, update, rule, action="BLOCK", state="ENABLED",
                       urlCategories=categories if category_id in categories else [*categories, category_id])
    wf.add(update, {"id": rule["id"], "body": body},
           f"make ZIA URL filtering rule {rule_name!r} an enabled BLOCK rule for the category",
           undo=lambda _r, old=rule: (update, {"id": old["id"], "body": body_fields(wf, update, old)},
                                      "restore the rule"))


def _serves(segment_domain: str, blocked: str) -> bool:
    seg = segment_domain.lower().lstrip("*").lstrip(".")
    bare = blocked.lstrip(".")
    return seg == bare or seg.endswith("." + bare)


def _segments(wf: Workflow, quiet: bool = False):
    """The ZPA application segments (for the own-domain check too); `quiet`: None when unreadable."""
    async def read() -> list[dict[str, Any]] | None:
        try:
            return await wf.read_all("zpa_list_all_applications")
        except ReadFailure as exc:
            if not quiet:
                raise
            wf.cannot(f"the domains were not checked against ZPA application segments ({exc.message})")
            return None
    return read


async def _plan_zpa_segments(wf: Workflow, domains: list[str], apps: list[dict[str, Any]],
                             args: dict[str, Any]) -> None:
    """Deny the segments that serve the domains, only to the groups named (zpa_groups) or, when asked
    explicitly (zpa_deny_everyone), to everyone: never a deny-all by default."""
    matched = [a for a in apps if any(_serves(str(s), d) for s in a.get("domainNames") or [] for d in domains)]
    wf.found["zpa_matching_segments"] = [{"id": a.get("id"), "name": a.get("name"),
                                          "domains": a.get("domainNames")} for a in matched]
    if not matched:
        wf.already(f"no ZPA application segment serves these domains (searched {len(apps)}); ZPA only "
                   "governs private apps, so there is nothing to block there")
        return
    groups = [str(g) for g in args.get("zpa_groups") or []]
    if groups:
        idps = await scim_idps(wf)
        for name in groups:
            group = await zpa_scim_group(wf, name, idps)
            if group is None:
                raise Refusal(f"no ZPA SCIM group {name!r}: searched the SCIM groups of {len(idps)} SCIM-enabled "
                              "IdP(s) with zpa_get_all_scim_groups", "not_found", group=name)
            await plan_zpa_group_deny(wf, f"{RULE_PREFIX} block for {group.get('name')}"[:128], matched, group)
    elif args.get("zpa_deny_everyone"):
        for app in matched:
            await plan_zpa_deny(wf, f"{RULE_PREFIX} block {app.get('name')}",
                                [{"objectType": "APP", "lhs": "id", "rhs": str(app["id"])}],
                                f"deny everyone ZPA access to application segment {app.get('name')}")
    else:
        wf.cannot(f"{len(matched)} ZPA application segment(s) serve these domains "
                  f"({', '.join(str(a.get('name')) for a in matched)}); no ZPA rule was added, because by default this "
                  "tool never denies everyone: pass zpa_groups (SCIM groups to deny) or zpa_deny_everyone=true")


# -- isolate an account ----------------------------------------------------------------------------
async def isolate_account(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        email = await lock_zid_account(
            wf, args["user"], lambda user: plan_zid_lockout(wf, user, reset_password=args.get("reset_password", True),
                                            reset_when_disabled=True))
        if args.get("zia", True):
            await wf.part("zia", "block the ZIA user", lambda: plan_zia_block_user(
                wf, email, f"blocks all ZIA traffic of compromised account {email}"))
        await contain_person(wf, email, zia=False, zpa=args.get("zpa", True), zpa_rule="isolate",
                             zpa_why=f"deny all ZPA private-app access to {email}")
        if args.get("zpa", True) and wf.wants("zpa"):
            wf.cannot(_ZPA_SESSIONS)
    except Refusal as exc:
        return refusal_result(exc)
    # what it changed is stored for threat_release_account (composite/reverse.py)
    return record_run(wf, await wf.finish(f"isolate account {args['user']}"), str(args["user"]).strip().lower())


# -- quarantine an endpoint ------------------------------------------------------------------------
async def quarantine_endpoint(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    wf.cannot("OneAPI has no endpoint isolation or network-quarantine API; this unenrolls Client Connector "
              "(the device loses its ZIA/ZPA tunnels) and denies the owner in ZPA")
    try:
        email, device = await _endpoint_owner(wf, args)
        await wf.part("zcc", "unenroll the device(s)",
                      lambda: plan_devices_removal(wf, email, force=bool(args.get("force")), only=device))
        await contain_person(wf, email, zia=False, zpa=args.get("deny_owner_in_zpa", True), zpa_rule="isolate",
                             zpa_why=f"deny all ZPA private-app access to {email}")
        if args.get("posture_profile"):
            await wf.part("zpa", "deny devices failing the posture profile",
                          lambda: _plan_posture_deny(wf, str(args["posture_profile"])))
    except Refusal as exc:
        return refusal_result(exc)
    # its ZPA deny rule is stored for threat_release_account (composite/reverse.py)
    return record_run(wf, await wf.finish(f"quarantine endpoint {args.get('device') or args.get('user')}"),
                      email.strip().lower())


async def _endpoint_owner(wf: Workflow, args: dict[str, Any]) -> tuple[str, str | None]:
    if args.get("user"):
        return await lock_zid_account(wf, args["user"], lambda _user: None, "find the device owner"), None
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
        keywords=("block phishing domain", "malicious domain", "block for everyone", "C2 domain",
                  "tenant-wide block", "add to denylist", "malicious URL", "block site company-wide", "IOC domains",
                  "ransomware domain", "blacklist domain", "bad domains"),
        title="Block domains across ZIA and ZPA",
        description=(
            "Block domains everywhere OneAPI can: in ZIA, add them to a custom URL category with an enabled BLOCK "
            "URL-filtering rule (method=category, default) or to the Advanced Threat Protection malicious-URL "
            "denylist (method=denylist); in ZPA (private apps only), deny the application segments that serve them "
            "to the SCIM groups in zpa_groups, or to everyone only with zpa_deny_everyone=true (never by default). The "
            "tenant's own domains (ZIdentity users' email domains, ZPA segment domains) are refused unless "
            "force=true. A service that cannot be read is skipped and reported (not_covered); the rest proceeds. "
            "Activates ZIA once at the end and verifies it; outcome is applied only when everything is live. "
            "Dry run by default; idempotent."),
        handler=block_domains, toolset="composite.threat", scope="write",
        operations=("zia_list_url_categories", "zia_create_custom_url_category", "zia_update_url_category",
                    "zia_list_url_filtering_rules", "zia_create_url_filtering_rule", "zia_update_url_filtering_rule",
                    "zia_get_malicious_urls", "zia_update_malicious_urls", "zia_activate",
                    "zia_get_activation_status", "zid_list_users", "zpa_list_all_applications", "zpa_get_all_idps",
                    "zpa_get_all_scim_groups", *_ZPA_RULE_OPS),
        input_model=f"{_INPUTS}:_BlockDomainsInput",
    ),
    CompositeTool(
        name="threat_isolate_account",
        keywords=("compromised account", "phished credentials", "lock out", "account takeover", "impossible travel",
                  "cut off everywhere", "contain user", "kill access", "hacked account", "stolen credentials",
                  "credential compromise", "account popped", "containment"),
        title="Isolate a compromised account",
        description=(
            "Cut a compromised account off everywhere: disable the ZIdentity user and reset its password, drop "
            "all ZIA traffic of the person's ZIA user (when ZIA has one) with a firewall rule for that user only, "
            "placed first and read back, and add a ZPA access rule that denies the person, placed first. "
            "Open ZPA sessions end only at re-authentication (no per-user kill API). A service that cannot be read "
            "(not licensed, no role) is skipped and reported as not_covered while the others still act; a step "
            "that fails does not undo the others unless on_failure=rollback. Activates ZIA at the end and verifies "
            "it. Dry run by default; a re-run changes only what is still not done, except the password reset: "
            "ZIdentity has no state that shows a reset went through, so every run with reset_password resets it "
            "(set reset_password=false on a re-run that need not)."),
        handler=isolate_account, toolset="composite.threat", scope="write",
        operations=("zid_list_users", "zid_get_user", "zid_update_user", "zid_reset_password", *ZIA_BLOCK_USER_OPS,
                    "zia_activate", "zia_get_activation_status", *_ZPA_USER_OPS, *_ZPA_RULE_OPS),
        input_model=f"{_INPUTS}:_IsolateInput",
    ),
    CompositeTool(
        name="threat_quarantine_endpoint",
        keywords=("isolate device", "infected laptop", "quarantine machine", "ransomware laptop",
                  "malware on device", "EDR alert", "CrowdStrike detection", "unenroll device", "cut device off",
                  "compromised host", "failed posture", "contain endpoint", "pull laptop off network"),
        title="Quarantine an endpoint (nearest real controls)",
        description=(
            "OneAPI has no endpoint-isolation API. This does the nearest real things: unenrolls the device's "
            "Client Connector (ZCC removeDevices, or forceRemoveDevices with force), so it loses its ZIA and ZPA "
            "tunnels; denies its owner in ZPA with an access rule placed first; and, with posture_profile, adds a "
            "tenant-wide ZPA rule denying every device that fails that posture profile. Give a device (udid or "
            "hostname) or a user (all their devices). A service that cannot be read is skipped and reported as "
            "not_covered while the others still act. Dry run by default."),
        handler=quarantine_endpoint, toolset="composite.threat", scope="destructive",
        operations=("zid_list_users", "zid_get_user", "zcc_list_devices", "zcc_remove_devices",
                    "zcc_force_remove_devices", "zpa_get_all_attributes", *_ZPA_USER_OPS, *_ZPA_RULE_OPS),
        input_model=f"{_INPUTS}:_QuarantineInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
