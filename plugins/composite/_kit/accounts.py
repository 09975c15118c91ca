"""Plans shared by the tools that act on one person across services: disable, isolate, offboard.

ZIdentity is the source of truth for the person; ZIA has its own user object where ZIA provisions
users; ZPA has no user object at all, so "deny the user in ZPA" is an access rule whose condition is
the person's SCIM userName (or SAML email), placed first in the access policy; ZCC acts on the
person's enrolled devices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oneapi_mcp.plugin_api import Ref, Refusal, delete_created

from .lookups import (
    body_fields,
    find_zcc_devices,
    find_zia_user,
    zid_user_body,
    zpa_access_policy_set,
    zpa_access_rules,
)

if TYPE_CHECKING:
    from oneapi_mcp.plugin_api import Workflow

__all__ = ["RULE_PREFIX", "ZIA_BLOCK_USER_OPS", "plan_devices_removal", "plan_zia_block_user", "plan_zia_disable",
           "plan_zid_disable", "plan_zid_lockout", "plan_zid_password_reset", "plan_zpa_deny", "zpa_user_operand"]

RULE_PREFIX = "oneapi-mcp"
ZIA_BLOCK_USER_OPS = ("zia_list_users", "zia_list_firewall_filtering_rules", "zia_create_firewall_filtering_rule",
                      "zia_update_firewall_filtering_rule", "zia_get_firewall_filtering_rule")
_REMOVED_STATES = ("removal pending", "remove pending", "removed", "unregistered")


def plan_zid_disable(wf: Workflow, user: dict[str, Any]) -> bool:
    """Disable the ZIdentity user (a full PUT with status false). True when it was active."""
    if user.get("status") is False:
        wf.already(f"ZIdentity user {user.get('loginName')} is already disabled")
        return False
    wf.add("zid_update_user", {"id": user["id"], "body": zid_user_body(user, status=False)},
           f"disable ZIdentity user {user.get('loginName')} (sign-in through ZIdentity stops)",
           undo=lambda _r, u=user: ("zid_update_user", {"id": u["id"], "body": zid_user_body(u, status=True)},
                                    "re-enable the ZIdentity user"))
    return True


def plan_zid_password_reset(wf: Workflow, user: dict[str, Any]) -> None:
    wf.add("zid_reset_password", {"id": user["id"]},
           f"reset the ZIdentity password of {user.get('loginName')} (the current password stops working)",
           manual="a password reset cannot be undone; the user sets a new password through the reset flow")


def plan_zid_lockout(wf: Workflow, user: dict[str, Any], *, reset_password: bool,
                     reset_when_disabled: bool = False) -> None:
    """Disable the ZIdentity user and, with `reset_password`, reset its password.

    ZIdentity keeps no password-reset state (specs/zid.yaml UserProfile), so an account that is already
    disabled says nothing about whether an earlier reset went through: with `reset_when_disabled` the reset
    is planned anyway, so a re-run after a failed reset finishes the job; without it the reset happens only
    while the account is still enabled, and a second run says so instead of resetting."""
    was_active = plan_zid_disable(wf, user)
    if not reset_password:
        return
    if was_active or reset_when_disabled:
        plan_zid_password_reset(wf, user)
        if not was_active:
            wf.cannot("ZIdentity exposes no password-reset state, so a run on an already disabled account resets "
                      "the password again (an earlier reset may have failed; the previous reset link stops working)")
    else:
        wf.already("the account was already disabled, so the password was not reset again "
                   "(run zid_reset_password to force one)")


async def plan_zia_disable(wf: Workflow, email: str, *, enable: bool = False) -> dict[str, Any] | None:
    """Disable (or with `enable`, re-enable) the person's ZIA user, when ZIA has one."""
    user = await find_zia_user(wf, email)
    if user is None:
        wf.already(f"ZIA has no user {email} (users may come only through ZIdentity/SCIM); nothing to disable in ZIA")
        return None
    wf.found.setdefault("zia_user", {"id": user.get("id"), "name": user.get("name"),
                                     "disabled": bool(user.get("disabled"))})
    if bool(user.get("disabled")) != enable:
        wf.already(f"ZIA user {email} is already {'enabled' if enable else 'disabled'}")
        return user
    body = {k: v for k, v in user.items() if k not in ("deleted",)}
    wf.add("zia_update_user", {"id": user["id"], "body": {**body, "disabled": not enable}},
           f"{'enable' if enable else 'disable'} ZIA user {email} (id {user['id']})",
           undo=lambda _r, u=user, b=body: ("zia_update_user", {"id": u["id"], "body": {**b, "disabled": enable}},
                                            "restore the ZIA user's previous state"))
    return user


async def plan_zia_block_user(wf: Workflow, email: str, why: str) -> dict[str, Any] | None:
    """Cut the person's ZIA user off the internet with a firewall rule that names only that user:
    BLOCK_DROP, enabled, first. ZIA end users have no writable disabled flag in Zscaler's SDK or Terraform
    (zscaler-sdk-python zscaler/zia/models/user_management.py UserManagement), but firewall rules take a
    list of users (terraform-provider-zia zia/resource_zia_firewall_filtering_rules.go "users"). The rule
    is read back after it is written, so a write ZIA accepted but did not keep is a failed step."""
    user = await find_zia_user(wf, email)
    if user is None:
        wf.already(f"ZIA has no user {email} (users may come only through ZIdentity/SCIM); nothing to block in ZIA")
        return None
    wf.found.setdefault("zia_user", {"id": user.get("id"), "name": user.get("name")})
    name = f"{RULE_PREFIX} block {user['id']}"[:31]  # ZIA rule names are at most 31 characters
    only_user = [{"id": user["id"], "name": user.get("name")}]
    rules = await wf.read_all("zia_list_firewall_filtering_rules")
    found = [r for r in rules if r.get("name") == name]
    if found:
        rule = found[0]
        if (str(rule.get("action", "")).startswith("BLOCK") and rule.get("state") == "ENABLED"
                and [str(u.get("id")) for u in rule.get("users") or []] == [str(user["id"])]):
            wf.already(f"ZIA firewall rule {name!r} already blocks {email}")
            return user
        update = "zia_update_firewall_filtering_rule"
        step = wf.add(update, {"id": rule["id"], "body": body_fields(wf, update, rule, action="BLOCK_DROP",
                                                                   state="ENABLED", users=only_user)},
                      f"make ZIA firewall rule {name!r} an enabled BLOCK_DROP rule for {email} only",
                      undo=lambda _r, old=rule: (update, {"id": old["id"], "body": body_fields(wf, update, old)},
                                                 "restore the rule"))
        rule_id: Any = rule["id"]
    else:
        step = wf.add("zia_create_firewall_filtering_rule",
                      {"body": {"name": name, "order": 1, "rank": 7, "action": "BLOCK_DROP", "state": "ENABLED",
                                "users": only_user, "description": f"{why} (created by oneapi-mcp)"}},
                      f"add ZIA firewall rule {name!r} (BLOCK_DROP, first) for {email} only: all their traffic "
                      "through ZIA is dropped",
                      undo=delete_created("zia_remove_firewall_filtering_rule", why="delete the rule"),
                      manual=f"delete ZIA firewall rule {name!r}")
        rule_id = Ref(step, "id", 0)
    wf.add("zia_get_firewall_filtering_rule", {"id": rule_id},
           f"read ZIA firewall rule {name!r} back to confirm ZIA kept it", after=step)
    return user


async def plan_devices_removal(wf: Workflow, email: str, *, force: bool = False,
                               only: str | None = None) -> list[dict[str, Any]]:
    """Unenroll the person's Client Connector devices, or just the one with udid `only`
    (removeDevices; forceRemoveDevices with force)."""
    devices = await find_zcc_devices(wf, email)
    if only is not None:
        devices = [d for d in devices if str(d.get("udid")) == only]
    wf.found["zcc_devices"] = [{"udid": d.get("udid"), "hostname": d.get("machineHostname"),
                                "state": d.get("state") or d.get("registrationState")} for d in devices]
    active = [d for d in devices if str(d.get("state") or d.get("registrationState") or "").lower()
              not in _REMOVED_STATES]
    if not devices:
        wf.already(f"ZCC has no enrolled device for {email}")
        return []
    if not active and not force:
        wf.already(f"all {len(devices)} ZCC device(s) of {email} are already marked for removal")
        return []
    targets = devices if force else active
    operation = "zcc_force_remove_devices" if force else "zcc_remove_devices"
    wf.add(operation, {"body": {"udids": [d["udid"] for d in targets], "userName": email}},
           f"{'force-remove' if force else 'unenroll'} {len(targets)} Client Connector device(s) of {email} "
           f"({', '.join(str(d.get('machineHostname')) for d in targets)})",
           manual="an unenrolled device cannot be re-enrolled through the API: the user must sign in to Client "
                  "Connector again")
    return targets


async def zpa_user_operand(wf: Workflow, email: str) -> dict[str, Any]:
    """The ZPA policy operand that matches one person: SCIM userName/email where the IdP pushes SCIM,
    else the SAML email attribute."""
    idps = await wf.read_all("zpa_get_all_idps")
    enabled = [i for i in idps if i.get("enabled", True)]
    if not enabled:
        raise Refusal("ZPA has no enabled IdP, so no rule can name a user (searched zpa_get_all_idps)", "not_found")
    for idp in sorted(enabled, key=lambda i: not i.get("scimEnabled")):
        if idp.get("scimEnabled"):
            attrs = await wf.read_all("zpa_get_all_scim_attributes", {"idpId": idp["id"]})
            for wanted in ("userName", "emails.value"):
                for attr in attrs:
                    if attr.get("name") == wanted:
                        return {"objectType": "SCIM", "lhs": str(attr["id"]), "rhs": email, "idpId": idp["id"]}
        attrs = await wf.read_all("zpa_get_all_attributes_by_idp_id_and_page", {"idpId": idp["id"]})
        for attr in attrs:
            if "email" in str(attr.get("name", "")).lower() or "email" in str(attr.get("samlName", "")).lower():
                return {"objectType": "SAML", "lhs": str(attr["id"]), "rhs": email}
    raise Refusal(f"no ZPA SCIM userName or SAML email attribute to name {email} in a rule (searched "
                  f"{len(enabled)} IdP(s) with zpa_get_all_scim_attributes and "
                  "zpa_get_all_attributes_by_idp_id_and_page)", "not_found")


async def plan_zpa_deny(wf: Workflow, name: str, operands: list[dict[str, Any]], why: str,
                        *, first: bool = True) -> None:
    """Ensure a ZPA access rule `name` that denies `operands` (OR), enabled, first in the policy."""
    policy_set = await zpa_access_policy_set(wf)
    rules = await zpa_access_rules(wf)
    existing = [r for r in rules if r.get("name") == name]
    if existing:
        rule = existing[0]
        if str(rule.get("action", "")).upper() == "DENY" and str(rule.get("disabled", "0")) in ("0", "False", "false"):
            wf.already(f"ZPA access rule {name!r} already denies it")
            return
        wf.add("zpa_update_rule_to_policy_set",
               {"policySetId": policy_set, "ruleId": rule["id"],
                "body": {**_rule_body(name, why, operands), "id": rule["id"]}},
               f"re-enable ZPA access rule {name!r} as DENY")
        return
    create = wf.add("zpa_add_rule_to_policy_set", {"policySetId": policy_set, "body": _rule_body(name, why, operands)},
                    f"add ZPA access rule {name!r} (DENY)",
                    undo=delete_created("zpa_delete_rule_in_policy_set", "ruleId", "delete the rule",
                                        policySetId=policy_set),
                    manual=f"delete ZPA access rule {name!r}")
    if first:
        wf.add("zpa_re_order_policy_rule", {"policySetId": policy_set, "ruleId": Ref(create, "id", 0), "newOrder": 1},
               f"move {name!r} to the top of the access policy so it is evaluated before any ALLOW rule")


def _rule_body(name: str, why: str, operands: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "description": f"{why} (created by oneapi-mcp)", "action": "DENY", "operator": "AND",
            "policyType": 1, "disabled": 0,
            "conditions": [{"operator": "OR", "negated": False, "operands": operands}]}
