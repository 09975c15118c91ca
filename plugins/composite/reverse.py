"""Built-in plugin: the way back (release an account, unblock domains, unblock IPs, restore settings and
rules, and, for revoked credentials, the operator actions that replace them: no API restores those).

Each reverse tool takes the `run_id` a forward tool returned (or finds the latest run of that tool
for the same target in the snapshot store, see `_snapshots`) and plans from the tenant's current
state, with the same workflow as every composite tool (dry run by default, one ZIA activation):

- an object the run created is deleted only while it is still there, still under the name the run
  gave it and, for a URL category or IP group, holding nothing the run did not put there (otherwise
  only the run's entries come out and the object, with the rule that uses it, stays);
- entries the run added to a list come out only while they are still listed;
- a field the run updated goes back to its previous value only while it still holds what the run
  set; a field someone changed since is left as it is and reported.

So a second run finds nothing to do, and nothing the run did not create is removed.
"""

from __future__ import annotations

from typing import Any

from oneapi_mcp.plugin_api import CompositeTool, Refusal, Workflow, refusal_result, tool_result

from ..hookspecs import hookimpl
from ._kit.addresses import blockable_address
from ._kit.lookups import body_fields, check_domain, checked, zid_user_body
from ._kit.snapshots import snapshot_store

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

# Evidence for what the plan relies on:
# - a GET by id of an object that is gone answers 404, which means "already reversed" (missing_ok): the way
#   zscaler/terraform-provider-zia zia/resource_zia_url_categories.go (resourceURLCategoriesRead) drops a
#   category from state on IsObjectNotFound; ZPA answers 404 id=resource.not.found (reference/zscaler-api.md);
# - entries come out of a URL category with PUT urlCategories/{id}?action=REMOVE_FROM_LIST and a body holding
#   just those urls, and the answer lists what remains: recorded/zia/cassettes/TestURLCategories.yaml;
# - GET/PUT/DELETE ipDestinationGroups/{id}: recorded/zia/cassettes/TestCloudFirewallIPDestinationGroup.yaml.
# delete operation -> (getter, its arguments from the delete's, the created object's name field)
_DELETES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "zia_remove_custom_url_category": ("zia_get_url_category_by_id", ("categoryId",), "configuredName"),
    "zia_remove_url_filtering_rule": ("zia_get_url_filtering_rule", ("id",), "name"),
    "zia_remove_firewall_filtering_rule": ("zia_get_firewall_filtering_rule", ("id",), "name"),
    "zia_remove_destination_ip_group": ("zia_get_destination_ip_group_by_id", ("ipGroupId",), "name"),
    "zpa_delete_rule_in_policy_set": ("zpa_get_rule_in_policy_set", ("policySetId", "ruleId"), "name"),
    "zia_remove_sandbox_rule": ("zia_get_sandbox_rule", ("id",), "name"),
    "zia_remove_ssl_inspection_rule": ("zia_get_ssl_inspection_rule", ("id",), "name"),
}
# container delete -> (its entries field, how a rule names it): kept when it holds entries of others
_CONTAINERS = {"zia_remove_custom_url_category": ("urls", "urlCategories"),
               "zia_remove_destination_ip_group": ("addresses", "destIpGroups")}
# update operation -> (getter, its arguments from the update's)
_RESTORES: dict[str, tuple[str, tuple[str, ...]]] = {
    "zid_update_user": ("zid_get_user", ("id",)),
    "zia_update_user": ("zia_get_user", ("id",)),
    "zia_update_url_filtering_rule": ("zia_get_url_filtering_rule", ("id",)),
    "zia_update_firewall_filtering_rule": ("zia_get_firewall_filtering_rule", ("id",)),
    "zia_update_destination_ip_group": ("zia_get_destination_ip_group_by_id", ("ipGroupId",)),
    "zpa_update_rule_to_policy_set": ("zpa_get_rule_in_policy_set", ("policySetId", "ruleId")),
    "zia_update_advanced_threat_settings": ("zia_get_advanced_threat_settings", ()),
    "zia_update_malware_settings": ("zia_get_malware_settings", ()),
    "zia_update_atp_malware_inspection": ("zia_get_atp_malware_inspection", ()),
    "zia_update_sandbox_rule": ("zia_get_sandbox_rule", ("id",)),
    "zia_update_ssl_inspection_rule": ("zia_get_ssl_inspection_rule", ("id",)),
}
# entries taken off a list again (action REMOVE_FROM_LIST) -> (getter, its arguments, the list field)
_LIST_REMOVALS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "zia_update_url_category": ("zia_get_url_category_by_id", ("categoryId",), "urls"),
    "zia_update_malicious_urls": ("zia_get_malicious_urls", (), "maliciousUrls"),  # recorded: TestATPPolicy.yaml
    "zia_create_blacklist_urls": ("zia_get_advanced_policy", (), "blacklistUrls"),  # runs stored before the switch
}


def _same(a: Any, b: Any) -> bool:
    """Equal as the API echoes values back (ZPA sends numbers and booleans as strings)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_same(a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) is not None or b.get(k) is not None)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        return a == b
    return a == b or str(a).lower() == str(b).lower()


def _ids(refs: Any) -> set[str]:
    return {str(r.get("id") if isinstance(r, dict) else r) for r in refs or []}


class _Reversal:
    """Plans the reverse of one stored run, entry by entry, newest first."""

    def __init__(self, wf: Workflow, run: dict[str, Any]):
        self.wf, self.run = wf, run
        self.kept: set[str] = set()  # ids of containers the run created that now hold others' entries

    async def plan(self, handles: tuple[str, ...]) -> None:
        entries = [c for c in self.run["changes"] if c["operation"] in handles]
        for other in (c for c in self.run["changes"] if c["operation"] not in handles):
            if other.get("manual") or other.get("undo"):  # said plainly, never silently left
                self.wf.cannot(f"run {self.run['id']} also did this, which this tool does not reverse: {other['why']}"
                               + (f" ({other['manual']})" if other.get("manual") and not other.get("undo") else ""))
        if not entries:
            raise Refusal(f"run {self.run['id']} ({self.run['tool']}) made no change this tool reverses", "not_found",
                          run_id=self.run["id"])
        for entry in entries:  # containers first: a rule stays when the container it blocks stays
            undo = entry.get("undo") or {}
            if undo.get("operation") in _CONTAINERS:
                await self._check_container(entry, undo)
        for entry in reversed(entries):
            undo = entry.get("undo")
            if undo is None:
                self.wf.cannot(f"{entry['why']}: {entry.get('manual') or 'cannot be reversed through the API'}")
            elif undo["operation"] in _DELETES:
                await self._delete(entry, undo)
            elif undo["operation"] in _RESTORES:
                await self._restore(entry, undo)
            elif entry["operation"] in _LIST_REMOVALS:
                await self._take_off(entry, undo)

    async def _check_container(self, entry: dict[str, Any], undo: dict[str, Any]) -> None:
        getter, keys, _name = _DELETES[undo["operation"]]
        field, _ = _CONTAINERS[undo["operation"]]
        current = await self.wf.read(getter, {k: undo["arguments"][k] for k in keys}, missing_ok=True)
        ours = {str(v).lower() for v in entry["arguments"]["body"].get(field) or []}
        theirs = [v for v in (current or {}).get(field) or [] if str(v).lower() not in ours]
        if current is not None and theirs:
            self.kept.add(str(entry.get("created_id")))

    async def _delete(self, entry: dict[str, Any], undo: dict[str, Any]) -> None:
        getter, keys, name_field = _DELETES[undo["operation"]]
        name = entry["arguments"].get("body", {}).get(name_field)
        current = await self.wf.read(getter, {k: undo["arguments"][k] for k in keys}, missing_ok=True)
        if current is None:
            self.wf.already(f"{name!r} (id {entry.get('created_id')}), created by run {self.run['id']}, "
                            "is already gone")
            return
        if name is not None and current.get(name_field) != name:
            self.wf.cannot(f"id {entry.get('created_id')} is now {current.get(name_field)!r}, not {name!r} that run "
                           f"{self.run['id']} created: left as it is")
            return
        if str(entry.get("created_id")) in self.kept:
            await self._empty_container(entry, undo, current)
            return
        refs = _CONTAINERS.get(undo["operation"], (None, None))[1]
        blocks = [r for _, r in _CONTAINERS.values() if _ids(entry["arguments"]["body"].get(r)) & self.kept]
        if refs is None and blocks:
            self.wf.already(f"rule {name!r} stays: it blocks a URL category or IP group that now holds entries this "
                            "run did not add")
            return
        self.wf.add(undo["operation"], undo["arguments"], f"delete {name!r}, which run {self.run['id']} created")

    async def _empty_container(self, entry: dict[str, Any], undo: dict[str, Any], current: dict[str, Any]) -> None:
        field, _ = _CONTAINERS[undo["operation"]]
        ours = {str(v).lower() for v in entry["arguments"]["body"].get(field) or []}
        present = [v for v in current.get(field) or [] if str(v).lower() in ours]
        name = current.get("configuredName") or current.get("name")
        self.wf.already(f"{name!r} stays: it now holds entries run {self.run['id']} did not add")
        if not present:
            return
        if field == "urls":
            body = {k: current.get(k) for k in ("configuredName", "superCategory", "customCategory")}
            self.wf.add("zia_update_url_category", {"categoryId": current["id"], "action": "REMOVE_FROM_LIST",
                                                    "body": {**body, "urls": present}},
                        f"take the {len(present)} entries run {self.run['id']} added out of {name!r}")
        else:
            keep = [v for v in current.get(field) or [] if str(v).lower() not in ours]
            self.wf.add("zia_update_destination_ip_group", {"ipGroupId": current["id"], "body": {
                **body_fields(self.wf, "zia_update_destination_ip_group", current), field: keep}},
                f"take the {len(present)} addresses run {self.run['id']} added out of {name!r}")

    async def _restore(self, entry: dict[str, Any], undo: dict[str, Any]) -> None:
        setter = undo["operation"]
        getter, keys = _RESTORES[setter]
        args = {k: undo["arguments"][k] for k in keys}
        old, forward = undo["arguments"].get("body") or {}, entry["arguments"].get("body") or {}
        label = forward.get("name") or forward.get("loginName") or forward.get("email") or setter.split("_", 2)[-1]
        current = await self.wf.read(getter, args, missing_ok=True)
        if current is None:
            self.wf.already(f"{label!r} no longer exists; nothing to restore")
            return
        changed = sorted(k for k in set(old) | set(forward) if not _same(old.get(k), forward.get(k)))
        restore, foreign = {}, []
        for key in changed:
            if _same(current.get(key), old.get(key)):
                continue
            if _same(current.get(key), forward.get(key)):
                restore[key] = old.get(key)
            else:
                foreign.append(key)
        if foreign:
            self.wf.cannot(f"{label!r}: {', '.join(foreign)} changed since run {self.run['id']} (not to what it set): "
                           "left as it is")
        if not restore:
            if not foreign:
                self.wf.already(f"{label!r} already has its previous {', '.join(changed) or 'values'}")
            return
        if setter == "zid_update_user":
            body = zid_user_body(current, **restore)
        else:
            body = {**body_fields(self.wf, setter, current), **restore}
        cleared = [k for k, v in restore.items() if v is None]  # absent before the run: left out of the full PUT
        for key in cleared:
            body.pop(key, None)
        what = [f"{k}={v!r}" for k, v in restore.items() if v is not None] + (
            [f"clear {', '.join(cleared)}"] if cleared else [])
        self.wf.add(setter, {**args, "body": body},
                    f"restore {', '.join(what)} of {label!r} (as before run {self.run['id']})")

    async def _take_off(self, entry: dict[str, Any], undo: dict[str, Any]) -> None:
        getter, keys, field = _LIST_REMOVALS[entry["operation"]]
        current = await self.wf.read(getter, {k: undo["arguments"][k] for k in keys}, missing_ok=True) or {}
        listed = {str(v).lower() for v in current.get(field) or []}
        ours = [v for v in undo["arguments"]["body"].get(field) or [] if str(v).lower() in listed]
        if not ours:
            self.wf.already(f"the {len(undo['arguments']['body'].get(field) or [])} entries run {self.run['id']} "
                            "added are no longer listed")
            return
        self.wf.add(undo["operation"], {**undo["arguments"], "body": {**undo["arguments"]["body"], field: ours}},
                    f"take {', '.join(map(str, ours))} off again (added by run {self.run['id']})")


async def _find_run(wf: Workflow, args: dict[str, Any], forward: tuple[str, ...], target: str | None,
                    what: str) -> dict[str, Any]:
    store = snapshot_store(wf.ctx.settings)
    names = " or ".join(forward)
    if args.get("run_id"):
        run = store.get(str(args["run_id"]))
        if run is None:
            raise Refusal(f"no stored run {args['run_id']!r} in this server's data directory", "not_found")
        if run["tool"] not in forward:
            raise Refusal(f"run {run['id']} is a {run['tool']} run; this tool reverses {names} runs",
                          "invalid_arguments")
    elif target is None:
        raise Refusal(f"give run_id (from the {names} result) or {what}", "invalid_arguments")
    else:
        run = store.latest(forward, target)
        if run is None:
            raise Refusal(f"no stored {names} run for {target}: give the run_id its result returned",
                          "not_found", target=target)
    wf.found["run"] = {"run_id": run["id"], "tool": run["tool"], "target": run["target"],
                       "changes": len(run["changes"]), "reversed_by": run.get("reversed_by")}
    return run


def _reverse_tool(forward: tuple[str, ...], handles: tuple[str, ...], target_of, what: str):
    async def handler(ctx, args: dict[str, Any]):
        wf = Workflow(ctx, args, on_failure="continue")
        try:
            run = await _find_run(wf, args, forward, target_of(args), what)
            await _Reversal(wf, run).plan(handles)
        except Refusal as exc:
            return refusal_result(exc)
        result = await wf.finish(f"reverse {run['tool']} run {run['id']}")
        if not wf.dry_run and (result.structured_content or {}).get("outcome") in ("applied", "nothing_to_do"):
            snapshot_store(ctx.settings).mark_reversed(run["id"], wf.tool)
        return result
    return handler


async def _credentials_way_back(ctx, args: dict[str, Any]):
    """What remediation_revoke_credentials revoked cannot be put back through any API (a deleted secret, key
    or VPN pre-shared key is gone; a password reset cannot be undone): from the stored run, say so for each
    change and name the operator action that replaces it. Changes nothing and sends no request."""
    wf = Workflow(ctx, {})
    try:
        run = await _find_run(wf, args, ("remediation_revoke_credentials",), "credentials", "run_id")
    except Refusal as exc:
        return refusal_result(exc)
    actions = [f"{c['why']}: {c.get('manual') or 'cannot be reversed through the API'}" for c in run["changes"]]
    summary = (f"nothing was reversed: the {len(actions)} revocation(s) of run {run['id']} cannot be undone through "
               "the API; replace each credential as operator_actions says")
    return tool_result({"error": {"kind": "not_reversible", "message": summary}, "tool": wf.tool,
                        "outcome": "not_reversible", "summary": summary, "run": wf.found["run"], "changed": [],
                        "operator_actions": actions}, is_error=True)


def _joined(key: str, check) -> Any:
    def target(args: dict[str, Any]) -> str | None:
        return ",".join(sorted(set(checked(list(args[key]), check, key)))) if args.get(key) else None
    return target


def _user(args: dict[str, Any]) -> str | None:
    return str(args["user"]).strip().lower() if args.get("user") else None


# isolate blocks the person in ZIA with a user-scoped firewall rule (composite/_kit/accounts.plan_zia_block_user)
_ACCOUNT_OPS = ("zid_update_user", "zia_update_user", "zia_create_firewall_filtering_rule",
                "zia_update_firewall_filtering_rule", "zpa_add_rule_to_policy_set", "zpa_update_rule_to_policy_set")
TOOLS = [
    CompositeTool(
        name="threat_release_account",
        keywords=("release user", "unlock account", "restore access", "false positive lockout", "undo isolation",
                  "reinstate user", "incident resolved", "lift isolation", "un-isolate", "give access back",
                  "end containment", "re-enable after incident"),
        title="Release an isolated account",
        description=(
            "The reverse of threat_isolate_account (and of threat_quarantine_endpoint's ZPA deny rule): from the "
            "snapshot that run stored (run_id, or the latest run for user), re-enable the ZIdentity user it "
            "disabled and delete the ZIA firewall block rule and the ZPA deny rule it created, each only while it is "
            "still as that run left it. A password reset or an unenrolled device cannot be reversed. Dry run by "
            "default; idempotent."),
        handler=_reverse_tool(("threat_isolate_account", "threat_quarantine_endpoint"), _ACCOUNT_OPS, _user, "user"),
        toolset="composite.threat", scope="destructive",
        operations=("zid_get_user", "zid_update_user", "zia_get_user", "zia_update_user",
                    "zia_get_firewall_filtering_rule", "zia_update_firewall_filtering_rule",
                    "zia_remove_firewall_filtering_rule", "zpa_get_rule_in_policy_set",
                    "zpa_delete_rule_in_policy_set", "zpa_update_rule_to_policy_set", "zia_activate",
                    "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_ReleaseInput",
    ),
    CompositeTool(
        name="threat_unblock_domains",
        keywords=("unblock domain", "false positive domain", "undo domain block", "remove from denylist",
                  "site wrongly blocked", "allow domain again", "release domain", "lift domain block",
                  "revert domain block", "business needs site"),
        title="Unblock domains blocked by threat_block_domains",
        description=(
            "The reverse of threat_block_domains: from the snapshot that run stored (run_id, or the latest run for "
            "exactly these domains), take the domains it added off the URL category or the ATP malicious-URL "
            "denylist (REMOVE_FROM_LIST, only those still listed), delete the category "
            "and BLOCK rule it created (kept, minus its domains, when the category now holds others), restore a rule "
            "it changed, and delete the ZPA deny rules it created. Never removes what that run did not add. "
            "Activates ZIA once. Dry run by default; idempotent."),
        handler=_reverse_tool(("threat_block_domains",), (
            "zia_create_custom_url_category", "zia_update_url_category", "zia_create_url_filtering_rule",
            "zia_update_url_filtering_rule", "zia_update_malicious_urls", "zia_create_blacklist_urls",
            "zpa_add_rule_to_policy_set",
            "zpa_update_rule_to_policy_set"), _joined("domains", check_domain), "domains"),
        toolset="composite.threat", scope="destructive",
        operations=("zia_get_url_category_by_id", "zia_update_url_category", "zia_remove_custom_url_category",
                    "zia_get_url_filtering_rule", "zia_update_url_filtering_rule", "zia_remove_url_filtering_rule",
                    "zia_get_malicious_urls", "zia_update_malicious_urls", "zia_get_advanced_policy",
                    "zia_create_blacklist_urls", "zpa_get_rule_in_policy_set",
                    "zpa_update_rule_to_policy_set", "zpa_delete_rule_in_policy_set", "zia_activate",
                    "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_UnblockDomainsInput",
    ),
    CompositeTool(
        name="remediation_unblock_ips",
        keywords=("unblock IP", "false positive IP", "remove IP block", "allow IP again", "undo IP block",
                  "whitelist IP", "partner IP blocked", "roll back firewall block", "lift IP block", "release IP",
                  "revert IP block"),
        title="Unblock IPs blocked by remediation_block_ips",
        description=(
            "The reverse of remediation_block_ips: from the snapshot that run stored (run_id, or the latest run for "
            "exactly these addresses), delete the firewall rule and destination IP group it created (a group that "
            "now holds other addresses keeps them, and keeps its rule), or take out the addresses it added to an "
            "existing group and restore a rule it changed. Activates ZIA once. Dry run by default; idempotent."),
        handler=_reverse_tool(("remediation_block_ips",), (
            "zia_create_destination_ip_group", "zia_update_destination_ip_group",
            "zia_create_firewall_filtering_rule", "zia_update_firewall_filtering_rule"),
            _joined("addresses", blockable_address(True)), "addresses"),
        toolset="composite.remediation", scope="destructive",
        operations=("zia_get_destination_ip_group_by_id", "zia_update_destination_ip_group",
                    "zia_remove_destination_ip_group", "zia_get_firewall_filtering_rule",
                    "zia_update_firewall_filtering_rule", "zia_remove_firewall_filtering_rule", "zia_activate",
                    "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_UnblockIpsInput",
    ),
    CompositeTool(
        name="remediation_restore_settings",
        keywords=("undo enhanced scanning", "roll back scanning", "revert SSL inspection", "remove sandbox rule",
                  "normal scanning again", "incident closed", "restore previous settings", "revert hardening",
                  "stop decrypting", "undo tightening"),
        title="Restore what enhanced scanning changed",
        description=(
            "The reverse of remediation_enable_enhanced_scanning: from the snapshot that run stored (run_id, or its "
            "latest run), delete the sandbox and SSL inspection rules it created and put back a rule it extended "
            "(its previous users, groups, locations and policy), and, where it ran with tenant_settings, put the "
            "ZIA advanced threat protection, malware protection and ATP malware inspection settings back to the "
            "stored previous values; each object or field only while it still holds what the run set (a rule "
            "renamed or changed since is left as it is and reported). Activates ZIA once. Dry run by default; "
            "idempotent."),
        handler=_reverse_tool(("remediation_enable_enhanced_scanning",), (
            "zia_update_advanced_threat_settings", "zia_update_malware_settings", "zia_update_atp_malware_inspection",
            "zia_create_sandbox_rule", "zia_update_sandbox_rule", "zia_create_ssl_inspection_rule",
            "zia_update_ssl_inspection_rule"), lambda _args: "tenant", "run_id"),
        toolset="composite.remediation", scope="destructive",
        operations=("zia_get_advanced_threat_settings", "zia_update_advanced_threat_settings",
                    "zia_get_malware_settings", "zia_update_malware_settings", "zia_get_atp_malware_inspection",
                    "zia_update_atp_malware_inspection", "zia_get_sandbox_rule", "zia_update_sandbox_rule",
                    "zia_remove_sandbox_rule", "zia_get_ssl_inspection_rule", "zia_update_ssl_inspection_rule",
                    "zia_remove_ssl_inspection_rule", "zia_activate", "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_ReverseInput",
    ),
    CompositeTool(
        name="remediation_recover_credentials",
        keywords=("restore deleted secret", "undo revocation", "recover API key", "replace revoked key",
                  "new API secret", "re-issue credentials", "reissue VPN credential", "get key back",
                  "after credential revoke", "not reversible"),
        title="The way back from revoked credentials (what to replace)",
        description=(
            "The reverse of remediation_revoke_credentials, as far as one exists: none through the API. A deleted "
            "ZIdentity API client secret, ZPA API key or ZIA VPN credential cannot be restored and a password "
            "reset cannot be undone, so this tool changes nothing: from the snapshot that run stored (run_id, or "
            "the latest run) it lists each revocation with the operator action that replaces it (zid_add_secret, "
            "zpa_create_client_credentials, zia_create_vpn_credential and attaching it to its location again, the "
            "user's password-reset flow). Returns outcome not_reversible as an error result; sends no request."),
        handler=_credentials_way_back, toolset="composite.remediation", scope="read", operations=(),
        input_model=f"{_INPUTS}:_RunIdInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
