"""ZPA access rules for a SCIM group: the identity providers with SCIM, a group by name, what a rule
names (application segments, SCIM groups) and the deny rule policy_sync and threat_response plan."""

from __future__ import annotations

from typing import Any

from oneapi_mcp.plugin_api import Ref, Workflow, delete_created

from .lookups import body_fields, zpa_access_policy_set, zpa_access_rules

__all__ = ["plan_zpa_group_deny", "scim_idps", "zpa_rule_apps", "zpa_rule_enabled", "zpa_rule_groups",
           "zpa_scim_group"]


async def scim_idps(wf: Workflow) -> list[dict[str, Any]]:
    idps = await wf.read_all("zpa_get_all_idps")
    return [i for i in idps if i.get("enabled", True) and i.get("scimEnabled")]


async def zpa_scim_group(wf: Workflow, name: str, idps: list[dict[str, Any]]) -> dict[str, Any] | None:
    for idp in idps:
        groups = await wf.read_all("zpa_get_all_scim_groups", {"idpId": idp["id"], "search": name})
        match = [g for g in groups if str(g.get("name", "")).lower() == name.lower()]
        if match:
            return {**match[0], "idpId": match[0].get("idpId") or idp["id"]}
    return None


def zpa_rule_apps(rule: dict[str, Any], apps: list[dict[str, Any]]) -> set[str]:
    """The application segments a ZPA rule names (APP operands, and APP_GROUP ones expanded)."""
    out: set[str] = set()
    for condition in rule.get("conditions") or []:
        for operand in condition.get("operands") or []:
            kind, rhs = operand.get("objectType"), str(operand.get("rhs"))
            if kind == "APP":
                out.add(rhs)
            elif kind == "APP_GROUP":
                out |= {str(a["id"]) for a in apps if str(a.get("segmentGroupId")) == rhs}
    return out


def zpa_rule_groups(rule: dict[str, Any]) -> set[str]:
    return {str(o.get("rhs")) for c in rule.get("conditions") or [] for o in c.get("operands") or []
            if o.get("objectType") == "SCIM_GROUP"}


def zpa_rule_enabled(rule: dict[str, Any]) -> bool:
    return str(rule.get("disabled", 0)).lower() in ("0", "false", "none", "")


async def plan_zpa_group_deny(wf: Workflow, name: str, segments: list[dict[str, Any]], group: dict[str, Any]) -> None:
    policy_set = await zpa_access_policy_set(wf)
    rules = await zpa_access_rules(wf)
    apps = sorted(str(a["id"]) for a in segments)
    body = {"name": name, "description": f"Denies {group.get('name')} the intent's private applications "
                                         "(oneapi-mcp policy sync)",
            "action": "DENY", "operator": "AND", "policyType": 1, "disabled": 0, "conditions": [
                {"operator": "OR", "negated": False,
                 "operands": [{"objectType": "APP", "lhs": "id", "rhs": a} for a in apps]},
                {"operator": "OR", "negated": False,
                 "operands": [{"objectType": "SCIM_GROUP", "lhs": str(group["idpId"]), "rhs": str(group["id"]),
                               "idpId": group["idpId"]}]}]}
    found = [r for r in rules if r.get("name") == name]
    if not found:
        create = wf.add("zpa_add_rule_to_policy_set", {"policySetId": policy_set, "body": body},
                        f"add ZPA access rule {name!r} denying {group.get('name')} {len(apps)} application segment(s)",
                        undo=delete_created("zpa_delete_rule_in_policy_set", "ruleId", "delete the rule",
                                            policySetId=policy_set),
                        manual=f"delete ZPA access rule {name!r}")
        wf.add("zpa_re_order_policy_rule", {"policySetId": policy_set, "ruleId": Ref(create, "id", 0), "newOrder": 1},
               f"move {name!r} to the top of the access policy, before any ALLOW rule")
        return
    rule = found[0]
    right = (str(rule.get("action", "")).upper() == "DENY" and zpa_rule_enabled(rule)
             and sorted(zpa_rule_apps(rule, segments)) == apps and zpa_rule_groups(rule) == {str(group["id"])})
    if right:
        wf.already(f"ZPA access rule {name!r} already denies {group.get('name')} these application segment(s)")
        return
    wf.add("zpa_update_rule_to_policy_set",
           {"policySetId": policy_set, "ruleId": rule["id"], "body": {**body, "id": rule["id"]}},
           f"make ZPA access rule {name!r} an enabled DENY for {group.get('name')} on these application segment(s)",
           undo=lambda _r, old=rule: ("zpa_update_rule_to_policy_set", {
               "policySetId": policy_set, "ruleId": old["id"],
               "body": body_fields(wf, "zpa_update_rule_to_policy_set", old)}, "restore the rule"))
