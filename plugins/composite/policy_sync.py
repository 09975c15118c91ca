"""Built-in plugin: policy synchronization (one intent across ZIA and ZPA, drift between them, DLP by
department).

OneAPI has no cross-product policy API: "block X for group Y everywhere" is a ZIA rule (URL filtering for
domains, firewall filtering for IPs) scoped to the ZIA group, plus a ZPA access rule denying the SCIM
group of the same name on the private application segments that serve X, and one ZIA activation. The
objects an intent creates are all named `mcp-sync <intent>`, which is how the drift check finds them.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from oneapi_mcp.plugin_api import (
    CompositeTool,
    ReadFailure,
    Ref,
    Refusal,
    Table,
    Workflow,
    delete_created,
    refusal_result,
    report_result,
)

from ..hookspecs import hookimpl
from ._kit.lookups import body_fields, check_cidr, check_domain, find_zia_department
from ._kit.zpa_rules import plan_zpa_group_deny, scim_idps, zpa_scim_group
from ._kit.zpa_rules import zpa_rule_apps as _zpa_apps
from ._kit.zpa_rules import zpa_rule_enabled as _zpa_enabled
from ._kit.zpa_rules import zpa_rule_groups as _zpa_groups

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["PREFIX", "TOOLS", "oneapi_mcp_register_tools", "serves"]

PREFIX = "mcp-sync "  # ZIA rule names are at most 31 characters: the intent name gets 22
_BLOCK = {"BLOCK", "BLOCK_DROP", "BLOCK_RESET", "BLOCK_ICMP", "DENY"}
_ZPA_ONLY_PRIVATE = ("ZPA governs private applications only: a destination no application segment serves has no "
                     "ZPA side, and is blocked by the ZIA rule alone")


# -- shared helpers --------------------------------------------------------------------------------
def _split_destinations(values: list[str]) -> tuple[list[str], list[str]]:
    """Domains and IPs/CIDRs, each checked; every bad value reported together."""
    domains: list[str] = []
    networks: list[str] = []
    bad = []
    for value in values:
        try:
            networks.append(check_cidr(value))
            continue
        except ValueError:
            pass
        try:  # not an address: a domain, or the domain checker says why not (e.g. "looks like an IP")
            domains.append(check_domain(value))
        except ValueError as exc:
            bad.append(str(exc))
    if bad:
        raise Refusal(f"{len(bad)} invalid destination(s): " + "; ".join(bad), "invalid_arguments", invalid=bad)
    return list(dict.fromkeys(domains)), list(dict.fromkeys(networks))


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None


def _covers(entry: str, host: str) -> bool:
    """A domain entry (`example.com` exactly; `.example.com` or `*.example.com` with its subdomains)
    covers `host`."""
    entry, host = entry.lower().strip(), host.lower().strip().lstrip("*.")
    if entry.startswith("*."):
        entry = entry[1:]
    if entry.startswith("."):
        return host == entry[1:] or host.endswith(entry)
    return host == entry


def serves(segment: dict[str, Any], domains: list[str], networks: list[str]) -> bool:
    """Whether a ZPA application segment serves any of these domains or IP networks."""
    for name in segment.get("domainNames") or []:
        net = _network(name)
        if net is not None:
            if any((n := _network(w)) is not None and n.version == net.version and n.overlaps(net) for w in networks):
                return True
            continue
        if any(_covers(str(name), domain) or _covers(domain, str(name)) for domain in domains):
            return True
    return False


async def _zia_group(wf: Workflow, name: str) -> dict[str, Any] | None:
    found = await wf.read("zia_list_groups_lite", {"search": name}) or []
    match = [g for g in found if str(g.get("name", "")).lower() == name.lower()]
    return match[0] if match else None


def _ref(obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": obj["id"], "name": obj.get("name")}


# -- apply one intent ------------------------------------------------------------------------------
async def block_destination(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    name = PREFIX + str(args["name"]).strip()
    group = str(args["group"]).strip()
    try:
        if not args.get("destinations") and not args.get("applications"):
            raise Refusal("give destinations (domains, IPs, CIDRs) and/or applications (ZPA segment names)",
                          "invalid_arguments")
        domains, networks = _split_destinations(list(args.get("destinations") or []))
        apps = await wf.read_all("zpa_list_all_applications")
        named = _named_apps(apps, list(args.get("applications") or []))
        for app in named:  # a private app is blocked on the internet path too, by its host names
            for entry in app.get("domainNames") or []:
                net = _network(entry)
                try:
                    (networks if net is not None else domains).append(
                        str(net) if net is not None else check_domain(str(entry).replace("*.", ".", 1)))
                except ValueError:
                    wf.cannot(f"segment {app.get('name')} lists {entry!r}, which is neither a domain nor an IP; "
                              "it is left out of the ZIA side")
        domains, networks = list(dict.fromkeys(domains)), list(dict.fromkeys(networks))
        segments = {str(a["id"]): a for a in [*named, *(a for a in apps if serves(a, domains, networks))]}
        wf.found.update({"intent": name, "group": group, "domains": domains, "networks": networks,
                         "zpa_segments": [{"id": a["id"], "name": a.get("name")} for a in segments.values()]})
        zia_group, zpa_group = await _groups(wf, group, need_zpa=bool(segments))
        wf.found["zia_group"] = _ref(zia_group)
        if domains:
            category = await _plan_category(wf, name, domains)
            await _plan_zia_rule(wf, "url", name, zia_group, category)
        if networks:
            ip_group = await _plan_ip_group(wf, name, networks)
            await _plan_zia_rule(wf, "firewall", name, zia_group, ip_group)
        if segments:
            wf.found["zpa_group"] = {"id": zpa_group["id"], "name": zpa_group.get("name")}
            await plan_zpa_group_deny(wf, name, list(segments.values()), zpa_group)
        else:
            wf.already(f"no ZPA application segment serves these destinations (searched {len(apps)})")
            wf.cannot(_ZPA_ONLY_PRIVATE)
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"block {len(domains) + len(networks)} destination(s) for group {group!r} ({name})")


def _named_apps(apps: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    found, missing = [], []
    for wanted in names:
        match = [a for a in apps if str(a.get("name", "")).lower() == str(wanted).strip().lower()
                 or str(a.get("id")) == str(wanted).strip()]
        (found.extend(match) if match else missing.append(wanted))
    if missing:
        raise Refusal(f"no ZPA application segment {', '.join(map(repr, missing))}: searched {len(apps)} segments by "
                      "name and id with zpa_list_all_applications", "not_found", applications=missing,
                      searched=["zpa_list_all_applications"])
    return found


async def _groups(wf: Workflow, group: str, *, need_zpa: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    zia_group = await _zia_group(wf, group)
    idps = await scim_idps(wf)
    zpa_group = await zpa_scim_group(wf, group, idps)
    searched = (f"searched ZIA groups by name with zia_list_groups_lite and the SCIM groups of {len(idps)} "
                "SCIM-enabled ZPA IdP(s) with zpa_get_all_scim_groups")
    if zia_group is None and zpa_group is None:
        raise Refusal(f"no group {group!r} in ZIA or in ZPA: {searched}", "not_found", group=group,
                      searched=["zia_list_groups_lite", "zpa_get_all_scim_groups"])
    if zia_group is None:
        raise Refusal(f"ZIA has no group {group!r} (ZPA's SCIM does): without it the ZIA rule would apply to "
                      f"everyone; {searched}", "not_found", group=group, searched=["zia_list_groups_lite"])
    if need_zpa and zpa_group is None:
        raise Refusal(f"ZPA has no SCIM group {group!r} (ZIA does): without it the ZPA rule would deny everyone; "
                      f"{searched}", "not_found", group=group, searched=["zpa_get_all_scim_groups"])
    return zia_group, zpa_group


async def _plan_category(wf: Workflow, name: str, domains: list[str]) -> Any:
    categories = await wf.read_all("zia_list_url_categories", {"customOnly": True})
    found = [c for c in categories if c.get("configuredName") == name]
    if not found:
        create = wf.add("zia_create_custom_url_category",
                        {"body": {"configuredName": name, "superCategory": "USER_DEFINED", "customCategory": True,
                                  "urls": domains, "description": "Destinations of a policy-sync intent (oneapi-mcp)"}},
                        f"create ZIA custom URL category {name!r} with {len(domains)} domain(s)",
                        undo=delete_created("zia_remove_custom_url_category", "categoryId", "delete it"),
                        manual=f"delete ZIA URL category {name!r}")
        return Ref(create, "id", "CUSTOM_01")
    category = found[0]
    have = [str(u).lower() for u in category.get("urls") or []]
    body = {"configuredName": name, "superCategory": category.get("superCategory", "USER_DEFINED"),
            "customCategory": True}
    extra, missing = [u for u in have if u not in domains], [d for d in domains if d not in have]
    for action, urls, verb in (("ADD_TO_LIST", missing, "add"), ("REMOVE_FROM_LIST", extra, "remove")):
        if urls:
            back = "REMOVE_FROM_LIST" if action == "ADD_TO_LIST" else "ADD_TO_LIST"
            wf.add("zia_update_url_category", {"categoryId": category["id"], "action": action,
                                               "body": {**body, "urls": urls}},
                   f"{verb} {len(urls)} domain(s) {'to' if verb == 'add' else 'from'} ZIA URL category {name!r}",
                   undo=lambda _r, u=urls, b=back: ("zia_update_url_category", {
                       "categoryId": category["id"], "action": b, "body": {**body, "urls": u}}, "put them back"))
    if not extra and not missing:
        wf.already(f"ZIA URL category {name!r} already holds exactly these {len(domains)} domain(s)")
    return category["id"]


async def _plan_ip_group(wf: Workflow, name: str, networks: list[str]) -> Any:
    groups = await wf.read("zia_list_destination_ip_groups") or []
    found = [g for g in groups if g.get("name") == name]
    if not found:
        create = wf.add("zia_create_destination_ip_group",
                        {"body": {"name": name, "type": "DSTN_IP", "addresses": networks,
                                  "description": "Destinations of a policy-sync intent (oneapi-mcp)"}},
                        f"create ZIA IP destination group {name!r} with {len(networks)} address(es)",
                        undo=delete_created("zia_remove_destination_ip_group", "ipGroupId", "delete it"),
                        manual=f"delete ZIA IP destination group {name!r}")
        return Ref(create, "id", 1)
    group = found[0]
    if sorted(map(str, group.get("addresses") or [])) == sorted(networks):
        wf.already(f"ZIA IP destination group {name!r} already holds exactly these {len(networks)} address(es)")
    else:
        wf.add("zia_update_destination_ip_group",
               {"ipGroupId": group["id"], "body": body_fields(wf, "zia_update_destination_ip_group", group,
                                                              addresses=networks)},
               f"set the addresses of ZIA IP destination group {name!r} to these {len(networks)}",
               undo=lambda _r, old=group: ("zia_update_destination_ip_group", {
                   "ipGroupId": old["id"], "body": body_fields(wf, "zia_update_destination_ip_group", old)},
                   "restore the addresses"))
    return group["id"]


_RULE_KINDS = {  # kind: (list, create, update, remove, destination field, block action)
    "url": ("zia_list_url_filtering_rules", "zia_create_url_filtering_rule", "zia_update_url_filtering_rule",
            "zia_remove_url_filtering_rule", "urlCategories", "BLOCK"),
    "firewall": ("zia_list_firewall_filtering_rules", "zia_create_firewall_filtering_rule",
                 "zia_update_firewall_filtering_rule", "zia_remove_firewall_filtering_rule", "destIpGroups",
                 "BLOCK_DROP"),
}


async def _plan_zia_rule(wf: Workflow, kind: str, name: str, group: dict[str, Any], destination: Any) -> None:
    list_op, create_op, update_op, remove_op, field, action = _RULE_KINDS[kind]
    label = "URL filtering" if kind == "url" else "firewall filtering"
    target = [destination] if kind == "url" else [{"id": destination}]
    rules = await wf.read_all(list_op)
    found = [r for r in rules if r.get("name") == name]
    if not found:
        body = {"name": name, "order": 1, "rank": 7, "action": action, "state": "ENABLED", "groups": [_ref(group)],
                field: target, "description": f"Blocks the intent's destinations for {group.get('name')} "
                                              "(oneapi-mcp policy sync)"}
        body.update({"protocols": ["ANY_RULE"]} if kind == "url" else {"enableFullLogging": True})
        wf.add(create_op, {"body": body}, f"create ZIA {label} rule {name!r} ({action}, order 1) for group "
                                          f"{group.get('name')}",
               undo=delete_created(remove_op, why="delete the rule"), manual=f"delete ZIA {label} rule {name!r}")
        return
    rule = found[0]
    have = [str(d if kind == "url" else (d or {}).get("id")) for d in rule.get(field) or []]
    right = (rule.get("action") == action and rule.get("state") == "ENABLED" and have == [str(destination)]
             and [g.get("id") for g in rule.get("groups") or []] == [group["id"]])
    if right:
        wf.already(f"ZIA {label} rule {name!r} already blocks the destinations for {group.get('name')}")
        return
    wf.add(update_op, {"id": rule["id"], "body": body_fields(wf, update_op, rule, action=action, state="ENABLED",
                                                             groups=[_ref(group)], **{field: target})},
           f"make ZIA {label} rule {name!r} an enabled {action} rule for group {group.get('name')} and these "
           "destinations",
           undo=lambda _r, old=rule: (update_op, {"id": old["id"], "body": body_fields(wf, update_op, old)},
                                      "restore the rule"))


# -- drift -----------------------------------------------------------------------------------------
@dataclass
class _Side:
    """One ZIA rule as the drift check sees it: its groups, its private destinations, block or not."""

    kind: str
    rule: dict[str, Any]
    domains: list[str]
    networks: list[str]

    @property
    def label(self) -> str:
        return f"{'URL' if self.kind == 'url' else 'firewall'} rule {self.rule.get('name')!r}"

    @property
    def enabled(self) -> bool:
        return self.rule.get("state", "ENABLED") == "ENABLED"

    @property
    def groups(self) -> set[str]:
        return {str(g.get("name")) for g in self.rule.get("groups") or []}


def _verdict(action: Any) -> str:
    text = str(action or "").upper()
    return "block" if text in _BLOCK else "allow" if text in ("ALLOW", "CAUTION") else text.lower() or "none"


async def check_drift(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, {"dry_run": True})
    try:
        state = await _drift_state(wf)
    except Refusal as exc:
        return refusal_result(exc)
    rows: list[dict[str, Any]] = []
    intents = _intent_rows(state, rows)
    pairs = _group_rows(state, rows)
    drift = [r for r in rows if r["status"] == "drift"]
    data = {"tool": ctx.call.name, "intents_checked": intents, "group_pairs_checked": pairs,
            "drift_count": len(drift), "rows": rows,
            "notes": [_ZPA_ONLY_PRIVATE,
                      "ZIA and ZPA are compared as configured (ZIA's pending, not yet activated, edits included)",
                      "A ZPA rule with no ZIA counterpart is listed as 'unpaired', not as drift: private applications "
                      "are normally governed by ZPA alone"]}
    summary = (f"{len(drift)} disagreement(s) between ZIA and ZPA across {intents} policy-sync intent(s) and "
               f"{pairs} rule pair(s) that name the same group" if drift else
               f"ZIA and ZPA agree: {intents} policy-sync intent(s) and {pairs} same-group rule pair(s) checked")
    table = Table("Drift", ["status", "scope", "zia_rule", "zpa_rule", "issue", "detail"], rows)
    return report_result("ZIA / ZPA policy drift", data, sections=[summary, "\n".join("- " + n for n in data["notes"])],
                         tables=[table])


async def _drift_state(wf: Workflow) -> dict[str, Any]:
    from ._kit.lookups import zpa_access_rules

    categories = {str(c["id"]): c for c in await wf.read_all("zia_list_url_categories")}
    ip_groups = {str(g["id"]): g for g in await wf.read("zia_list_destination_ip_groups") or []}
    sides = []
    for kind in ("url", "firewall"):
        for rule in await wf.read_all(_RULE_KINDS[kind][0]):
            domains: list[str] = []
            networks: list[str] = []
            if kind == "url":
                for cat in rule.get("urlCategories") or []:
                    domains += [str(u) for u in (categories.get(str(cat)) or {}).get("urls") or []]
            else:
                for ref in rule.get("destIpGroups") or []:
                    for addr in (ip_groups.get(str((ref or {}).get("id"))) or {}).get("addresses") or []:
                        (networks if _network(addr) is not None else domains).append(str(addr))
                networks += [str(a) for a in rule.get("destAddresses") or [] if _network(a) is not None]
            sides.append(_Side(kind, rule, domains, networks))
    scim: dict[str, str] = {}
    for idp in await scim_idps(wf):
        for group in await wf.read_all("zpa_get_all_scim_groups", {"idpId": idp["id"]}):
            scim[str(group["id"])] = str(group.get("name"))
    return {"zia": sides, "zpa": await zpa_access_rules(wf), "apps": await wf.read_all("zpa_list_all_applications"),
            "scim": scim}


def _app_names(ids: set[str], apps: list[dict[str, Any]]) -> list[str]:
    names = {str(a["id"]): str(a.get("name")) for a in apps}
    return sorted(names.get(i, i) for i in ids)


def _private(side: _Side, apps: list[dict[str, Any]]) -> set[str]:
    return {str(a["id"]) for a in apps if serves(a, side.domains, side.networks)}


def _row(status: str, scope: str, zia: str, zpa: str, issue: str, detail: str = "") -> dict[str, Any]:
    return {"status": status, "scope": scope, "zia_rule": zia, "zpa_rule": zpa, "issue": issue, "detail": detail}


def _compare(scope: str, sides: list[_Side], zpa: dict[str, Any], state: dict[str, Any], rows: list, *,
             groups: bool) -> None:
    """Every way a pair disagrees, one row each; one 'in sync' row when it does not."""
    apps = state["apps"]
    zia_label = "; ".join(s.label for s in sides)
    zpa_label = f"{zpa.get('name')!r}"
    before = len(rows)
    for side in sides:
        if not side.enabled:
            rows.append(_row("drift", scope, side.label, zpa_label, "disabled in ZIA",
                             f"state {side.rule.get('state')}"))
    if not _zpa_enabled(zpa):
        rows.append(_row("drift", scope, zia_label, zpa_label, "disabled in ZPA", f"disabled={zpa.get('disabled')}"))
    zpa_verdict = _verdict(zpa.get("action"))
    for side in sides:
        if _verdict(side.rule.get("action")) != zpa_verdict:
            rows.append(_row("drift", scope, side.label, zpa_label, "different action",
                             f"ZIA {side.rule.get('action')} vs ZPA {zpa.get('action')}"))
    want = set().union(*(_private(s, apps) for s in sides)) if sides else set()
    have = _zpa_apps(zpa, apps)
    if want != have:
        detail = []
        if want - have:
            detail.append("only in ZIA: " + ", ".join(_app_names(want - have, apps)))
        if have - want:
            detail.append("only in ZPA: " + ", ".join(_app_names(have - want, apps)))
        rows.append(_row("drift", scope, zia_label, zpa_label, "different destinations", "; ".join(detail)))
    if groups:
        zia_groups = set().union(*(s.groups for s in sides)) if sides else set()
        zpa_groups = {state["scim"].get(g, g) for g in _zpa_groups(zpa)}
        if {g.lower() for g in zia_groups} != {g.lower() for g in zpa_groups}:
            rows.append(_row("drift", scope, zia_label, zpa_label, "different groups",
                             f"ZIA {sorted(zia_groups)} vs ZPA {sorted(zpa_groups)}"))
    if len(rows) == before:
        rows.append(_row("in_sync", scope, zia_label, zpa_label, "agree", ", ".join(_app_names(have, apps))))


def _intent_rows(state: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    names = sorted({s.rule.get("name") for s in state["zia"] if str(s.rule.get("name", "")).startswith(PREFIX)}
                   | {r.get("name") for r in state["zpa"] if str(r.get("name", "")).startswith(PREFIX)})
    for name in names:
        scope = f"intent {name[len(PREFIX):]!r}"
        sides = [s for s in state["zia"] if s.rule.get("name") == name]
        zpa = next((r for r in state["zpa"] if r.get("name") == name), None)
        private = set().union(*(_private(s, state["apps"]) for s in sides)) if sides else set()
        if not sides:
            rows.append(_row("drift", scope, "", repr(name), "missing in ZIA",
                             "the ZPA rule exists but no ZIA URL or firewall rule of this intent does"))
        elif zpa is None and private:
            rows.append(_row("drift", scope, "; ".join(s.label for s in sides), "", "missing in ZPA",
                             "private destinations with no ZPA deny rule: " + ", ".join(_app_names(private,
                                                                                                  state["apps"]))))
        elif zpa is None:
            rows.append(_row("in_sync", scope, "; ".join(s.label for s in sides), "", "agree",
                             "no private destination, so no ZPA side"))
        else:
            _compare(scope, sides, zpa, state, rows, groups=True)
    return len(names)


def _group_rows(state: dict[str, Any], rows: list[dict[str, Any]]) -> int:
    """ZIA and ZPA rules (not policy-sync's) that name the same group, paired by the private applications
    they both cover."""
    zpa_by_group: dict[str, list[dict[str, Any]]] = {}
    shown: dict[str, str] = {}
    for rule in state["zpa"]:
        if str(rule.get("name", "")).startswith(PREFIX):
            continue
        for gid in _zpa_groups(rule):
            group = state["scim"].get(gid, gid)
            shown[group.lower()] = group
            zpa_by_group.setdefault(group.lower(), []).append(rule)
    pairs, paired = 0, set()
    for side in state["zia"]:
        if str(side.rule.get("name", "")).startswith(PREFIX):
            continue
        private = _private(side, state["apps"])
        for group in sorted(side.groups):
            candidates = zpa_by_group.get(group.lower())
            if not candidates or not private:
                continue
            scope = f"group {group!r}"
            matched = [r for r in candidates if _zpa_apps(r, state["apps"]) & private]
            if not matched:
                rows.append(_row("drift", scope, side.label, "", "missing in ZPA",
                                 f"ZIA governs {group}'s access to " + ", ".join(_app_names(private, state["apps"]))
                                 + " but no ZPA rule for the group covers it"))
                pairs += 1
            for zpa in matched:
                pairs += 1
                paired.add(str(zpa.get("id")))
                _compare(scope, [side], zpa, state, rows, groups=False)
    zia_groups = {g.lower() for s in state["zia"] for g in s.groups}
    for group, rules in sorted(zpa_by_group.items()):
        for rule in rules:
            if group in zia_groups and str(rule.get("id")) not in paired:
                rows.append(_row("unpaired", f"group {shown[group]!r}", "", repr(rule.get("name")), "only in ZPA",
                                 "applications: " + ", ".join(_app_names(_zpa_apps(rule, state["apps"]),
                                                                         state["apps"]))))
    return pairs


# -- DLP by department -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Formatted(Ref):
    """A Ref whose value is written into a string (`template` with `{}`), e.g. a dictionary id into a DLP
    engine expression. `key` is only what plans show; `field` is the key read from the step's result."""

    field: str = "id"
    template: str = "{}"


class _FormattingWorkflow(Workflow):
    """A Workflow that also fills `_Formatted` refs (the shared Ref puts whole values only)."""

    async def _run(self, step) -> None:
        def fill(value: Any) -> Any:
            if isinstance(value, _Formatted):
                got = value.step.result.get(value.field) if isinstance(value.step.result, dict) else None
                return value if got is None else value.template.format(got)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        step.arguments = fill(step.arguments)
        await super()._run(step)


def _expression(dictionary_id: Any, min_matches: int) -> str:
    return f"((D{dictionary_id}.S > {min_matches - 1}))"  # ZIA: dictionary D<id>, score above a threshold


async def enforce_dlp(ctx, args: dict[str, Any]):
    wf = _FormattingWorkflow(ctx, args, on_failure="rollback")
    name = str(args["name"]).strip()
    try:
        departments = await _departments(wf, list(args["departments"]))
        dictionary = await _plan_dictionary(wf, args)
        engine = await _plan_engine(wf, name, dictionary, int(args.get("min_matches", 1)))
        await _plan_dlp_rule(wf, name, departments, engine, str(args.get("action", "BLOCK")))
    except Refusal as exc:
        return refusal_result(exc)
    return await wf.finish(f"enforce DLP rule {name!r} for {len(departments)} department(s)")


async def _departments(wf: Workflow, names: list[str]) -> list[dict[str, Any]]:
    found, missing = [], []
    for wanted in dict.fromkeys(str(n).strip() for n in names):
        try:
            found.append(await find_zia_department(wf, wanted))
        except ReadFailure:
            raise  # a failed read (403, outage) is not "no such department"
        except Refusal:
            missing.append(wanted)
    if missing:
        raise Refusal(f"no ZIA department {', '.join(map(repr, missing))}: searched by name with "
                      "zia_list_departments", "not_found", departments=missing, searched=["zia_list_departments"])
    wf.found["departments"] = [_ref(d) for d in found]
    return found


async def _plan_dictionary(wf: Workflow, args: dict[str, Any]) -> Any:
    name = str(args.get("dictionary") or args["name"]).strip()
    phrases = list(dict.fromkeys(str(p) for p in args.get("phrases") or []))
    patterns = list(dict.fromkeys(str(p) for p in args.get("patterns") or []))
    found = [d for d in await wf.read("zia_list_dlp_dictionaries") or [] if d.get("name") == name]
    if not found:
        if not phrases and not patterns:
            raise Refusal(f"no ZIA DLP dictionary {name!r} (searched zia_list_dlp_dictionaries), and no phrases or "
                          "patterns to create it with", "not_found", dictionary=name)
        create = wf.add("zia_create_dlp_dictionary", {"body": {
            "name": name, "description": "Created by oneapi-mcp policy sync", "dictionaryType": "PATTERNS_AND_PHRASES",
            "customPhraseMatchType": "MATCH_ANY_CUSTOM_PHRASE_PATTERN_DICTIONARY", "custom": True,
            "phrases": [{"action": "PHRASE_COUNT_TYPE_ALL", "phrase": p} for p in phrases],
            "patterns": [{"action": "PATTERN_COUNT_TYPE_ALL", "pattern": p} for p in patterns]}},
            f"create ZIA DLP dictionary {name!r} ({len(phrases)} phrase(s), {len(patterns)} pattern(s))",
            undo=delete_created("zia_remove_dlp_dictionary", why="delete it"),
            manual=f"delete ZIA DLP dictionary {name!r}")
        wf.found["dictionary"] = {"name": name, "created": True}
        return Ref(create, "id", 1)
    dictionary = found[0]
    wf.found["dictionary"] = {"id": dictionary["id"], "name": name}
    have_p = {str(p.get("phrase")) for p in dictionary.get("phrases") or []}
    have_r = {str(p.get("pattern")) for p in dictionary.get("patterns") or []}
    add_p, add_r = [p for p in phrases if p not in have_p], [p for p in patterns if p not in have_r]
    if not add_p and not add_r:
        wf.already(f"ZIA DLP dictionary {name!r} exists" + (" with every phrase and pattern given"
                                                              if phrases or patterns else ""))
        return dictionary["id"]
    if dictionary.get("custom") is False:
        raise Refusal(f"ZIA DLP dictionary {name!r} is predefined: its phrases and patterns cannot be changed; "
                      "name a custom dictionary, or leave out phrases and patterns", "invalid_arguments")
    body = body_fields(wf, "zia_update_dlp_dictionary", dictionary,
                       phrases=[*(dictionary.get("phrases") or []),
                                *({"action": "PHRASE_COUNT_TYPE_ALL", "phrase": p} for p in add_p)],
                       patterns=[*(dictionary.get("patterns") or []),
                                 *({"action": "PATTERN_COUNT_TYPE_ALL", "pattern": p} for p in add_r)])
    body.setdefault("description", dictionary.get("description") or "")
    body.setdefault("customPhraseMatchType", "MATCH_ANY_CUSTOM_PHRASE_PATTERN_DICTIONARY")
    wf.add("zia_update_dlp_dictionary", {"id": dictionary["id"], "body": body},
           f"add {len(add_p)} phrase(s) and {len(add_r)} pattern(s) to ZIA DLP dictionary {name!r}",
           undo=lambda _r, old=dictionary: ("zia_update_dlp_dictionary", {
               "id": old["id"], "body": body_fields(wf, "zia_update_dlp_dictionary", old)}, "restore it"))
    return dictionary["id"]


async def _plan_engine(wf: Workflow, name: str, dictionary: Any, min_matches: int) -> Any:
    expression: Any = _expression(dictionary, min_matches)
    if isinstance(dictionary, Ref):  # created earlier in this plan: its id is known only then
        expression = _Formatted(dictionary.step, f"dictionary id in {_expression('<id>', min_matches)}",
                                _expression(dictionary.sample, min_matches), field=dictionary.key,
                                template=_expression("{}", min_matches))
    engines = await wf.read("zia_list_dlp_engines") or []
    found = [e for e in engines if e.get("name") == name]
    if not found:
        create = wf.add("zia_create_dlp_engine", {"body": {
            "name": name, "customDlpEngine": True, "engineExpression": expression,
            "description": "Created by oneapi-mcp policy sync"}},
            f"create ZIA DLP engine {name!r} matching the dictionary with {_expression('<id>', min_matches)}",
            undo=delete_created("zia_remove_dlp_engine", why="delete it"), manual=f"delete ZIA DLP engine {name!r}")
        return Ref(create, "id", 1)
    engine = found[0]
    if engine.get("engineExpression") == expression:
        wf.already(f"ZIA DLP engine {name!r} already matches the dictionary with {expression}")
    else:
        wf.add("zia_update_dlp_engine", {"id": engine["id"], "body": body_fields(
            wf, "zia_update_dlp_engine", engine, engineExpression=expression, customDlpEngine=True)},
            f"set the expression of ZIA DLP engine {name!r} to match the dictionary",
            undo=lambda _r, old=engine: ("zia_update_dlp_engine", {
                "id": old["id"], "body": body_fields(wf, "zia_update_dlp_engine", old)}, "restore it"))
    return engine["id"]


async def _plan_dlp_rule(wf: Workflow, name: str, departments: list[dict[str, Any]], engine: Any, action: str) -> None:
    rules = await wf.read("zia_list_web_dlp_rules") or []
    found = [r for r in rules if r.get("name") == name]
    refs = [_ref(d) for d in departments]
    if not found:
        wf.add("zia_create_web_dlp_rule", {"body": {
            "name": name, "order": 1, "rank": 7, "state": "ENABLED", "action": action,
            "protocols": ["FTP_RULE", "HTTPS_RULE", "HTTP_RULE"], "departments": refs, "dlpEngines": [{"id": engine}],
            "withoutContentInspection": False, "severity": "RULE_SEVERITY_HIGH",
            "description": "Department DLP rule (oneapi-mcp policy sync)"}},
            f"create ZIA web DLP rule {name!r} ({action}) for {', '.join(d['name'] for d in departments)}",
            undo=delete_created("zia_remove_web_dlp_rule", why="delete the rule"),
            manual=f"delete ZIA web DLP rule {name!r}")
        return
    rule = found[0]
    have_departments = sorted(str((d or {}).get("id")) for d in rule.get("departments") or [])
    have_engines = [str((e or {}).get("id")) for e in rule.get("dlpEngines") or []]
    right = (rule.get("state") == "ENABLED" and rule.get("action") == action and str(engine) in have_engines
             and have_departments == sorted(str(d["id"]) for d in departments))
    if right:
        wf.already(f"ZIA web DLP rule {name!r} already applies {action} to exactly these department(s) with the "
                   "engine")
        return
    engines = [e for e in rule.get("dlpEngines") or []] + ([] if str(engine) in have_engines else [{"id": engine}])
    wf.add("zia_update_web_dlp_rule", {"id": rule["id"], "body": body_fields(
        wf, "zia_update_web_dlp_rule", rule, state="ENABLED", action=action, departments=refs, dlpEngines=engines)},
        f"make ZIA web DLP rule {name!r} an enabled {action} rule for these department(s) with the engine",
        undo=lambda _r, old=rule: ("zia_update_web_dlp_rule", {
            "id": old["id"], "body": body_fields(wf, "zia_update_web_dlp_rule", old)}, "restore the rule"))


_Entry = Annotated[str, Field(min_length=1)]


_ZPA_RULE_OPS = ("zpa_get_policy_set_by_policy_type", "zpa_get_policy_rules_by_page")

TOOLS = [
    CompositeTool(
        name="policy_sync_block_destination",
        keywords=("block for a group", "group-specific block", "restrict team from", "block for contractors",
                  "deny private app", "ZIA and ZPA consistent", "same policy both products", "block IP for group",
                  "cross-product block", "one group only", "interns can't reach", "block for marketing group"),
        title="Block a destination for a group in ZIA and ZPA",
        description=(
            "Apply one intent, 'block these destinations (or ZPA applications) for this group', in both products: "
            "domains go into a ZIA custom URL category with a BLOCK URL filtering rule, IPs/CIDRs into a ZIA IP "
            "destination group with a BLOCK_DROP firewall rule, both scoped to the ZIA group; and, where a ZPA "
            "application segment serves a destination (or is named), a ZPA access rule denies the SCIM group of the "
            "same name on those segments, placed first. OneAPI has no cross-product policy API: these are separate "
            "rules, all named 'mcp-sync <name>', and ZIA is activated once at the end and verified. Re-applying the "
            "same name makes the objects match the new destinations. A failed step keeps the blocks already made "
            "(on_failure=rollback: all or nothing); outcome is applied only when everything is live. Dry run by "
            "default."),
        handler=block_destination, toolset="composite.policy_sync", scope="write",
        operations=("zia_list_groups_lite", "zpa_get_all_idps", "zpa_get_all_scim_groups", "zpa_list_all_applications",
                    "zia_list_url_categories", "zia_create_custom_url_category", "zia_update_url_category",
                    "zia_list_url_filtering_rules", "zia_create_url_filtering_rule", "zia_update_url_filtering_rule",
                    "zia_list_destination_ip_groups", "zia_create_destination_ip_group",
                    "zia_update_destination_ip_group", "zia_list_firewall_filtering_rules",
                    "zia_create_firewall_filtering_rule", "zia_update_firewall_filtering_rule", "zia_activate",
                    "zia_get_activation_status", *_ZPA_RULE_OPS, "zpa_add_rule_to_policy_set",
                    "zpa_update_rule_to_policy_set", "zpa_re_order_policy_rule"),
        input_model=f"{_INPUTS}:_BlockDestinationInput",
    ),
    CompositeTool(
        name="policy_sync_check_drift",
        keywords=("policy drift", "ZIA ZPA mismatch", "inconsistent policy", "config drift", "out of sync rules",
                  "consistency check", "products disagree", "did sync hold", "conflicting rules",
                  "internet vs private access", "drift report", "mcp-sync"),
        title="Check drift between ZIA and ZPA policy",
        description=(
            "Read-only report of where ZIA and ZPA disagree: every policy-sync intent (objects named 'mcp-sync ...') "
            "is checked on both sides (missing, disabled, different action, destinations or groups), and ZIA URL or "
            "firewall rules are paired with ZPA access rules that name the same group and cover the same private "
            "application segments. Markdown, structured rows and CSV."),
        handler=check_drift, toolset="composite.policy_sync", scope="read",
        operations=("zia_list_url_categories", "zia_list_destination_ip_groups", "zia_list_url_filtering_rules",
                    "zia_list_firewall_filtering_rules", "zpa_get_all_idps", "zpa_get_all_scim_groups",
                    "zpa_list_all_applications", "zpa_get_policy_rules_by_page"),
        input_model="oneapi_mcp.composite._input_models:ToolInput",
    ),
    CompositeTool(
        name="policy_sync_enforce_dlp",
        keywords=("data loss prevention", "stop data exfiltration", "block credit card uploads", "PII leak",
                  "DLP dictionary", "sensitive data upload", "confidential keyword", "finance department DLP",
                  "prevent leakage", "regex pattern", "monitor only DLP", "DLP engine"),
        title="Enforce a DLP rule for departments",
        description=(
            "Make sure a ZIA web DLP rule blocks (or, with action ALLOW, only logs) content matching a DLP "
            "dictionary for the named ZIA departments: the dictionary is reused or created from phrases/patterns, "
            "a custom DLP engine named like the rule matches it (expression ((D<id>.S > min_matches-1))), and the "
            "web DLP rule is scoped to exactly these departments. ZIA is activated once at the end. Dry run by "
            "default; idempotent; all or nothing."),
        handler=enforce_dlp, toolset="composite.policy_sync", scope="write",
        operations=("zia_list_departments", "zia_list_dlp_dictionaries", "zia_create_dlp_dictionary",
                    "zia_update_dlp_dictionary", "zia_list_dlp_engines", "zia_create_dlp_engine",
                    "zia_update_dlp_engine", "zia_list_web_dlp_rules", "zia_create_web_dlp_rule",
                    "zia_update_web_dlp_rule", "zia_activate"),
        input_model=f"{_INPUTS}:_EnforceDlpInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS

