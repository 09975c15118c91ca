"""Built-in plugin: automated remediation (block suspicious IPs, revoke compromised credentials,
enable enhanced scanning).

Blocking IPs is provisioning of a pair, a destination IP group and the firewall rule that blocks
it, so it is all or nothing (rollback). Revoking credentials and hardening scanning are
containment: each part stands alone, so they keep going when one fails (continue) and report each
step. What OneAPI cannot do is said in the tool's description and in `api_limits`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from oneapi_mcp.plugin_api import CompositeTool, Ref, Refusal, Workflow, delete_created, refusal_result

from ..hookspecs import hookimpl
from ._kit.accounts import RULE_PREFIX, plan_zid_password_reset
from ._kit.addresses import INTERNAL_NETWORKS as _INTERNAL
from ._kit.addresses import blockable_address
from ._kit.lookups import body_fields, check_email, checked, find_zia_user, find_zid_user
from ._kit.snapshots import record_run

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "oneapi_mcp_register_tools"]

# -- block suspicious IPs --------------------------------------------------------------------------
DEFAULT_IP_GROUP = "oneapi-mcp-blocked-ips"
# Neither the spec, its overlays nor the reference notes document how many addresses a ZIA
# destination IP group holds, so the cap is a conservative guess: past it, use another group.
GROUP_ADDRESS_CAP = 1000


def _networks(entries: list[Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks a group's address entries cover (addresses, CIDRs and a-b ranges; FQDNs skipped)."""
    out: list[Any] = []
    for entry in entries:
        text = str(entry).strip()
        try:
            if "-" in text:
                first, last = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
                out.extend(ipaddress.summarize_address_range(first, last))
            else:
                out.append(ipaddress.ip_network(text, strict=False))
        except (ValueError, TypeError):
            continue
    return out


async def block_ips(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="rollback")
    try:
        addresses = checked(list(args["addresses"]), blockable_address(bool(args.get("allow_private"))),
                            "IP addresses")
        group = args.get("group") or DEFAULT_IP_GROUP
        wf.found["addresses"] = addresses
        group_id, had = await _plan_ip_group(wf, group, addresses)
        starts_blocking = await _plan_firewall_rule(wf, group, group_id, args.get("rule"))
        if starts_blocking and had and not args.get("allow_private"):
            _refuse_internal_entries(group, had)
    except Refusal as exc:
        return refusal_result(exc)
    # what it changed is stored for remediation_unblock_ips (composite/reverse.py)
    return record_run(wf, await wf.finish(f"block {len(addresses)} IP address(es)"), ",".join(sorted(set(addresses))))


def _refuse_internal_entries(group: str, entries: list[Any]) -> None:
    """A group about to be blocked must not hold internal ranges put there before (allow_private aside)."""
    internal = sorted({f"{net.network_address if net.num_addresses == 1 else net} ({label})"
                       for net in _networks(entries) for inside, label in _INTERNAL
                       if net.version == 4 and net.overlaps(inside)})
    if internal:
        raise Refusal(f"ZIA destination IP group {group!r} already holds internal addresses ({', '.join(internal)}) "
                      "and no enabled rule blocks it yet: blocking the group would block them too and can cut users "
                      "off from their own networks; use another group, or pass allow_private=true", "conflict",
                      group=group, internal=internal)


async def _plan_ip_group(wf: Workflow, name: str, addresses: list[str]) -> tuple[Any, list[Any]]:
    """Ensure destination IP group `name` (type DSTN_IP) holds `addresses`: its id (or a Ref to the
    group the plan creates) and the entries it held before."""
    groups = await wf.read_all("zia_list_destination_ip_groups")
    found = [g for g in groups if str(g.get("name", "")).lower() == name.lower()]
    if not found:
        if len(addresses) > GROUP_ADDRESS_CAP:
            raise Refusal(f"{len(addresses)} addresses is more than the {GROUP_ADDRESS_CAP} this tool puts in one ZIA "
                          "destination IP group; split them over several groups", "invalid_arguments")
        create = wf.add("zia_create_destination_ip_group",
                        {"body": {"name": name, "type": "DSTN_IP", "addresses": addresses,
                                  "description": "Suspicious IPs blocked by oneapi-mcp remediation"}},
                        f"create ZIA destination IP group {name!r} (DSTN_IP) with {len(addresses)} address(es)",
                        undo=delete_created("zia_remove_destination_ip_group", "ipGroupId", "delete the group"),
                        manual=f"delete ZIA destination IP group {name!r}")
        return Ref(create, "id", 1), []
    group = found[0]
    have = list(group.get("addresses") or [])
    wf.found["zia_ip_group"] = {"id": group.get("id"), "name": group.get("name"), "type": group.get("type"),
                                "addresses": len(have)}
    if group.get("type") not in (None, "DSTN_IP"):
        raise Refusal(f"ZIA destination IP group {group.get('name')!r} has type {group.get('type')}, not DSTN_IP, so "
                      "it cannot hold IP addresses; give another group name", "conflict", group=name)
    covered = _networks(have)
    missing = []
    for address in addresses:
        network = ipaddress.ip_network(address)
        holder = next((c for c in covered if c.version == network.version and network.subnet_of(c)), None)
        if holder is None:
            missing.append(address)
        else:
            wf.already(f"{address} is already in ZIA destination IP group {group.get('name')!r}"
                       + ("" if str(holder) in (address, f"{address}/32") else f" (within {holder})"))
    if len(have) + len(missing) > GROUP_ADDRESS_CAP:
        raise Refusal(f"ZIA destination IP group {group.get('name')!r} has {len(have)} entries; adding {len(missing)} "
                      f"would pass the {GROUP_ADDRESS_CAP} this tool allows per group; give another group name",
                      "invalid_arguments", group=name)
    if missing:
        body = {**group, "addresses": [*have, *missing]}
        wf.add("zia_update_destination_ip_group", {"ipGroupId": group["id"], "body": body},
               f"add {len(missing)} address(es) to ZIA destination IP group {group.get('name')!r}",
               undo=lambda _r, old=group: ("zia_update_destination_ip_group", {"ipGroupId": old["id"], "body": old},
                                           "restore the group's previous addresses"))
    return group["id"], have


def _blocks(rule: dict[str, Any], group_id: Any) -> bool:
    return (rule.get("state") == "ENABLED" and str(rule.get("action", "")).startswith("BLOCK")
            and any(g.get("id") == group_id for g in rule.get("destIpGroups") or []))


async def _plan_firewall_rule(wf: Workflow, group: str, group_id: Any, rule_name: str | None) -> bool:
    """Ensure an enabled BLOCK firewall rule includes the group; True when the plan starts blocking it."""
    name = rule_name or f"Block {group}"[:31]  # ZIA rule names are at most 31 characters
    rules = await wf.read_all("zia_list_firewall_filtering_rules")
    named = [r for r in rules if r.get("name") == name]
    if not named and rule_name is None and not isinstance(group_id, Ref):
        blocking = [r for r in rules if _blocks(r, group_id)]
        if blocking:
            wf.already(f"ZIA firewall rule {blocking[0].get('name')!r} already blocks group {group!r} "
                       f"({blocking[0].get('action')}, enabled)")
            return False
    if not named:
        wf.add("zia_create_firewall_filtering_rule",
               {"body": {"name": name, "order": 1, "rank": 7, "action": "BLOCK_DROP", "state": "ENABLED",
                         "destIpGroups": [{"id": group_id}], "enableFullLogging": True,
                         "description": f"Blocks destination IP group {group} (oneapi-mcp remediation)"}},
               f"create ZIA firewall rule {name!r} (BLOCK_DROP, order 1) for the group",
               undo=delete_created("zia_remove_firewall_filtering_rule", why="delete the rule"),
               manual=f"delete ZIA firewall rule {name!r}")
        return True
    rule = named[0]
    wf.found["zia_firewall_rule"] = {"id": rule.get("id"), "name": name, "action": rule.get("action"),
                                     "state": rule.get("state")}
    if _blocks(rule, group_id):
        wf.already(f"ZIA firewall rule {name!r} already blocks group {group!r}")
        return False
    targets = list(rule.get("destIpGroups") or [])
    others = [g.get("name") or g.get("id") for g in targets if g.get("id") != group_id] + list(
        rule.get("destAddresses") or [])
    if not str(rule.get("action", "")).startswith("BLOCK") and others:
        raise Refusal(f"ZIA firewall rule {name!r} is a {rule.get('action')} rule for other destinations too "
                      f"({', '.join(str(o) for o in others)}): making it BLOCK would block them as well; give another "
                      "rule name", "conflict", rule=name)
    if not any(g.get("id") == group_id for g in targets):
        targets.append({"id": group_id})
    action = rule.get("action") if str(rule.get("action", "")).startswith("BLOCK") else "BLOCK_DROP"
    update = "zia_update_firewall_filtering_rule"
    wf.add(update,
           {"id": rule["id"], "body": body_fields(wf, update, rule, state="ENABLED", action=action,
                                                  destIpGroups=targets)},
           f"make ZIA firewall rule {name!r} an enabled {action} rule that includes the group",
           undo=lambda _r, old=rule: (update, {"id": old["id"], "body": body_fields(wf, update, old)},
                                      "restore the rule"))
    return True


# -- revoke compromised credentials ----------------------------------------------------------------
_BULK_DELETE_MAX = 100  # ids per ZIA bulkDelete call


async def revoke_credentials(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    parts = ("user", "api_client", "zpa_api_key_names", "zia_vpn_ids")
    try:
        if not any(args.get(p) for p in parts):
            raise Refusal("nothing to revoke: give at least one of " + ", ".join(parts), "invalid_arguments")
        if args.get("api_client_secret_ids") and not args.get("api_client"):
            raise Refusal("api_client_secret_ids needs api_client (the ZIdentity API client they belong to)",
                          "invalid_arguments")
        if args.get("user"):
            user = await find_zid_user(wf, args["user"])
            wf.found["zid_user"] = {"id": user["id"], "loginName": user.get("loginName")}
            plan_zid_password_reset(wf, user)
            wf.cannot("ZIdentity exposes no password-reset state, so every run with user triggers a new reset "
                      "(the previous reset link stops working)")
        if args.get("api_client"):
            await _plan_secrets(wf, str(args["api_client"]), args.get("api_client_secret_ids"))
        if args.get("zpa_api_key_names"):
            await _plan_zpa_keys(wf, [str(k) for k in args["zpa_api_key_names"]])
        if args.get("zia_vpn_ids"):
            await _plan_vpn_credentials(wf, [str(c) for c in args["zia_vpn_ids"]])
    except Refusal as exc:
        return refusal_result(exc)
    # stored (ids only, never a secret) so remediation_recover_credentials can say what replaces each one
    return record_run(wf, await wf.finish("revoke credentials"), "credentials")


def _match(wf: Workflow, items: list[dict[str, Any]], wanted: list[str], keys: tuple[str, ...], what: str,
           searched: str) -> list[dict[str, Any]]:
    """The items the wanted values name (by any of `keys`, case-insensitive). A value that names nothing
    listed is reported unchanged, not refused: after a run that deleted it, a re-run by the same names must
    finish the rest (the list cannot tell a deleted key from a misspelt one, so the report says both)."""
    found: dict[str, dict[str, Any]] = {}
    for value in wanted:
        match = [i for i in items if any(str(i.get(k, "")).lower() == value.lower() for k in keys)]
        if match:
            found.setdefault(str(match[0]["id"]), match[0])
        else:
            wf.already(f"{what} {value!r} is not listed (searched {len(items)} by {' and '.join(keys)} with "
                       f"{searched}): already gone, or not its {' or '.join(keys)}")
    return list(found.values())


async def _plan_secrets(wf: Workflow, wanted: str, secret_ids: list[str] | None) -> None:
    clients = await wf.read_all("zid_list_api_clients")
    match = [c for c in clients if str(c.get("id")) == wanted or str(c.get("name", "")).lower() == wanted.lower()]
    if not match:
        raise Refusal(f"no ZIdentity API client {wanted!r}: searched {len(clients)} clients by id and name with "
                      "zid_list_api_clients", "not_found", searched=["zid_list_api_clients"], api_client=wanted)
    client = match[0]
    secrets = list(await wf.read("zid_get_secrets", {"id": client["id"]}) or [])
    if _is_own_client(wf, client):
        raise Refusal(f"ZIdentity API client {client.get('name')!r} is the one this server signs in with: deleting "
                      "its secrets would cut this server (and its scheduled changes) off mid-response. Revoke it "
                      "from the ZIdentity console, or from a server that uses another API client", "own_client",
                      api_client=client.get("name"))
    wf.found["zid_api_client"] = {"id": client["id"], "name": client.get("name"),  # never the secret values
                                  "secrets": [{"id": s.get("id"), "createdAt": s.get("createdAt"),
                                               "expiresAt": s.get("expiresAt")} for s in secrets]}
    listed = {str(s.get("id")) for s in secrets}
    if secret_ids:
        targets = [str(s) for s in dict.fromkeys(secret_ids) if str(s) in listed]
        for gone in (str(s) for s in dict.fromkeys(secret_ids) if str(s) not in listed):
            wf.already(f"secret {gone} of ZIdentity API client {client.get('name')!r} is already gone")
    else:
        targets = sorted(listed)
        if not targets:
            wf.already(f"ZIdentity API client {client.get('name')!r} has no secrets left")
    for secret_id in targets:
        wf.add("zid_delete_secret", {"id": client["id"], "secretId": secret_id},
               f"delete secret {secret_id} of ZIdentity API client {client.get('name')!r} (no new tokens with it)",
               manual="a deleted secret cannot be restored: issue a new one with zid_add_secret and hand it to the "
                      "integration's owner")
    if targets:
        wf.cannot("deleting an API client secret stops new token requests only: access tokens already issued "
                  "stay valid until they expire")


def _own_client_id(wf: Workflow) -> str | None:
    """The OAuth client id this server authenticates with (its executor's auth, else its credentials)."""
    runtime = wf.ctx.call.runtime
    try:
        auth = getattr(getattr(runtime.executor(), "client", None), "auth", None)
    except Exception:  # not configured: no executor, so no client of ours to protect through it
        auth = None
    client_id = getattr(auth, "client_id", None)
    if client_id is None:
        creds = runtime.plugins.hook.oneapi_mcp_credentials(settings=wf.ctx.settings)
        client_id = getattr(creds, "client_id", None)
    return str(client_id) if client_id else None


def _is_own_client(wf: Workflow, client: dict[str, Any]) -> bool:
    """Whether `client` is this server's own API client: its id is our OAuth client id (ZIdentity's
    ApiClient has no separate clientId field, see specs/zid.yaml components.schemas.ApiClient)."""
    own = _own_client_id(wf)
    return bool(own) and own in (str(client.get("id")), str(client.get("clientId") or ""))


async def _plan_zpa_keys(wf: Workflow, wanted: list[str]) -> None:
    keys = await wf.read_all("zpa_list_client_credentials")
    found = _match(wf, keys, wanted, ("id", "name"), "ZPA API key", "zpa_list_client_credentials")
    wf.found["zpa_api_key_names"] = [{"id": k.get("id"), "name": k.get("name"), "enabled": k.get("enabled")}
                                for k in found]  # never clientSecret
    for key in found:
        wf.add("zpa_remove_client_credentials", {"id": int(key["id"])},
               f"delete ZPA API key {key.get('name')!r} (id {key['id']})",
               manual="a deleted ZPA API key cannot be restored: create a new one with zpa_create_client_credentials")
    if found:
        wf.cannot("deleting a ZPA API key stops new token requests only: tokens already issued stay valid until they "
                  "expire")


async def _plan_vpn_credentials(wf: Workflow, wanted: list[str]) -> None:
    credentials = await wf.read_all("zia_list_vpn_credentials")
    found = _match(wf, credentials, wanted, ("id", "fqdn", "ipAddress"), "ZIA VPN credential",
                   "zia_list_vpn_credentials")
    wf.found["zia_vpn_ids"] = [  # never the pre-shared key
        {"id": c.get("id"), "type": c.get("type"), "fqdn": c.get("fqdn"), "ipAddress": c.get("ipAddress"),
         "location": (c.get("location") or {}).get("name")} for c in found]
    manual = ("a deleted VPN credential cannot be restored: create a new one with zia_create_vpn_credential (a new "
              "pre-shared key) and attach it to its location again")
    if len(found) == 1:
        c = found[0]
        wf.add("zia_remove_vpn_credential", {"id": int(c["id"])},
               f"delete ZIA VPN credential {c.get('fqdn') or c.get('ipAddress') or c['id']} (id {c['id']})",
               manual=manual)
        return
    for start in range(0, len(found), _BULK_DELETE_MAX):  # ZIA allows 4 single DELETEs per hour: bulk instead
        chunk = found[start:start + _BULK_DELETE_MAX]
        wf.add("zia_bulk_delete_vpn_credential", {"body": {"ids": [int(c["id"]) for c in chunk]}},
               f"delete {len(chunk)} ZIA VPN credentials in one bulk call "
               f"({', '.join(str(c.get('fqdn') or c.get('ipAddress') or c['id']) for c in chunk)})", manual=manual)


# -- enhanced scanning -----------------------------------------------------------------------------
DEFAULT_SCAN_RULE = f"{RULE_PREFIX} enhanced scan"
_THREAT_SETTINGS = {k: True for k in (
    "cmdCtlServerBlocked", "cmdCtlTrafficBlocked", "malwareSitesBlocked", "browserExploitsBlocked",
    "fileFormatVunerabilitesBlocked", "knownPhishingSitesBlocked", "suspectedPhishingSitesBlocked",
    "suspectAdwareSpywareSitesBlocked", "cryptoMiningBlocked", "potentialMaliciousRequestsBlocked",
    "dgaDomainsBlocked", "alertForUnknownOrSuspiciousC2Traffic")}
_MALWARE_SETTINGS = {k: True for k in ("virusBlocked", "trojanBlocked", "wormBlocked", "ransomwareBlocked",
                                       "spywareBlocked", "adwareBlocked")}
_ATP_INSPECTION = {"inspectInbound": True, "inspectOutbound": True}
_SANDBOX_POLICY: dict[str, Any] = {
    "state": "ENABLED", "baRuleAction": "BLOCK", "firstTimeEnable": True, "firstTimeOperation": "QUARANTINE",
    "mlActionEnabled": True,
    "baPolicyCategories": ["ADWARE_BLOCK", "BOTMAL_BLOCK", "ANONYP2P_BLOCK", "RANSOMWARE_BLOCK",
                           "OFFSEC_TOOLS_BLOCK", "SUSPICIOUS_BLOCK"],
    "fileTypes": ["FTCATEGORY_WINDOWS_EXECUTABLES", "FTCATEGORY_MS_WORD", "FTCATEGORY_MS_EXCEL",
                  "FTCATEGORY_PDF_DOCUMENT", "FTCATEGORY_HTA", "FTCATEGORY_VISUAL_BASIC_SCRIPT", "FTCATEGORY_RAR",
                  "FTCATEGORY_P7Z", "FTCATEGORY_TAR", "FTCATEGORY_SCZIP"],
    "protocols": ["FOHTTP_RULE", "FTP_RULE", "HTTPS_RULE", "HTTP_RULE"]}
_SSL_POLICY: dict[str, Any] = {
    "state": "ENABLED",
    "action": {"type": "DECRYPT", "showEUN": False, "showEUNATP": True, "overrideDefaultCertificate": False,
               "decryptSubActions": {"serverCertificates": "BLOCK", "ocspCheck": True,
                                     "blockSslTrafficWithNoSniEnabled": True, "blockUndecrypt": True,
                                     "minClientTLSVersion": "CLIENT_TLS_1_0", "minServerTLSVersion": "SERVER_TLS_1_0",
                                     "http2Enabled": False}}}
_SCOPES = ("users", "groups", "locations")


async def enhanced_scanning(ctx, args: dict[str, Any]):
    wf = Workflow(ctx, args, on_failure="continue")
    try:
        scope = await _scan_targets(wf, args)
        if args.get("tenant_settings", False):
            wf.cannot("ZIA advanced threat protection, malware protection and ATP malware inspection settings are "
                      "tenant-wide: they cannot be scoped to a user, group or location, so they change for everyone; "
                      "only the sandbox and SSL inspection rules are scoped")
            await _plan_setting(wf, "advanced threat protection", "zia_get_advanced_threat_settings",
                                "zia_update_advanced_threat_settings", _THREAT_SETTINGS)
            await _plan_setting(wf, "malware protection", "zia_get_malware_settings", "zia_update_malware_settings",
                                _MALWARE_SETTINGS)
            await _plan_setting(wf, "ATP malware inspection", "zia_get_atp_malware_inspection",
                                "zia_update_atp_malware_inspection", _ATP_INSPECTION)
        name = args.get("rule_name") or DEFAULT_SCAN_RULE
        if args.get("sandbox_rule", True):
            await _plan_scoped_rule(wf, "sandbox", name, scope, _SANDBOX_POLICY, _sandbox_current)
        if args.get("ssl_inspection_rule", True):
            await _plan_scoped_rule(wf, "ssl_inspection", name, scope, _SSL_POLICY, _ssl_current)
    except Refusal as exc:
        return refusal_result(exc)
    # the previous settings are stored for remediation_restore_settings (composite/reverse.py)
    return record_run(wf, await wf.finish("enable enhanced scanning"), "tenant")


async def _scan_targets(wf: Workflow, args: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The ZIA users (by email), groups and locations (by name or id) the rules cover."""
    if not any(args.get(k) for k in _SCOPES):
        raise Refusal("give at least one of users (emails), groups or locations (ZIA names) to scan",
                      "invalid_arguments")
    scope: dict[str, list[dict[str, Any]]] = {k: [] for k in _SCOPES}
    unknown: list[str] = []
    for email in checked(list(args["users"]), check_email, "emails") if args.get("users") else []:
        user = await find_zia_user(wf, email)
        if user is None:
            unknown.append(f"ZIA user {email!r} (searched by email with zia_list_users)")
        else:
            scope["users"].append({"id": user["id"], "name": user.get("name")})
    for key, operation, what in (("groups", "zia_list_groups_lite", "group"),
                                 ("locations", "zia_get_locations_lite", "location")):
        if not args.get(key):
            continue
        known = await wf.read_all(operation)
        for wanted in dict.fromkeys(str(v) for v in args[key]):
            match = [k for k in known if str(k.get("id")) == wanted
                     or str(k.get("name", "")).lower() == wanted.lower()]
            if match:
                scope[key].append({"id": match[0]["id"], "name": match[0].get("name")})
            else:
                unknown.append(f"ZIA {what} {wanted!r} (searched {len(known)} by name and id with {operation})")
    if unknown:
        raise Refusal("not found: " + "; ".join(unknown), "not_found", unknown=unknown)
    wf.found["scope"] = scope
    return scope


async def _plan_setting(wf: Workflow, label: str, getter: str, setter: str, wanted: dict[str, Any]) -> None:
    """PUT the settings document with `wanted` applied, only when something differs; undo puts it back."""
    current = await wf.read(getter) or {}
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    if not changes:
        wf.already(f"ZIA {label} already has the {len(wanted)} setting(s) this tool turns on")
        return
    wf.add(setter, {"body": {**current, **changes}},
           f"turn on ZIA {label} (tenant-wide): {', '.join(changes)}",
           undo=lambda _r, old=current: (setter, {"body": old}, f"restore the previous {label} settings"))


def _sandbox_current(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: rule.get(k) for k in _SANDBOX_POLICY}


def _ssl_current(rule: dict[str, Any]) -> dict[str, Any]:
    action = rule.get("action") or {}
    # a rule that already decrypts keeps its own sub-actions (an admin may have tuned them)
    return {"state": rule.get("state"),
            "action": action if action.get("type") == "DECRYPT" else None}


def _merged(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """`wanted` over `current`: lists are unions (what an admin added stays), anything else is replaced."""
    out = {}
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, list) and isinstance(have, list):
            out[key] = [*have, *(v for v in value if v not in have)]
        elif have is not None and key == "action":
            out[key] = have
        else:
            out[key] = value
    return out


async def _plan_scoped_rule(wf: Workflow, kind: str, name: str, scope: dict[str, list[dict[str, Any]]],
                            policy: dict[str, Any], current_of) -> None:
    """Ensure ZIA rule `name` (sandbox or SSL inspection) applies `policy` to every target in `scope`."""
    label = {"sandbox": "sandbox", "ssl_inspection": "SSL inspection"}[kind]
    rules = await wf.read_all(f"zia_list_{kind}_rules")
    named = [r for r in rules if r.get("name") == name]
    if not named:
        body = {"name": name, "order": 1, "rank": 7, **policy,
                **{k: [{"id": t["id"]} for t in scope[k]] for k in _SCOPES if scope[k]},
                "description": f"Enhanced scanning for suspected compromise ({RULE_PREFIX} remediation)"}
        wf.add(f"zia_create_{kind}_rule", {"body": body},
               f"create ZIA {label} rule {name!r} (order 1) for " + _describe(scope),
               undo=delete_created(f"zia_remove_{kind}_rule", why="delete the rule"),
               manual=f"delete ZIA {label} rule {name!r}")
        return
    rule = named[0]
    current = current_of(rule)
    settings = _merged(current, policy)
    targets = {}
    for key in _SCOPES:
        have = list(rule.get(key) or [])
        ids = {h.get("id") for h in have}
        targets[key] = [*have, *({"id": t["id"]} for t in scope[key] if t["id"] not in ids)]
    wf.found[f"zia_{kind}_rule"] = {"id": rule.get("id"), "name": name, "state": rule.get("state"),
                                    **{k: len(rule.get(k) or []) for k in _SCOPES}}
    added = {k: [t for t in scope[k] if t["id"] not in {h.get("id") for h in rule.get(k) or []}] for k in _SCOPES}
    if settings == current and not any(added.values()):
        wf.already(f"ZIA {label} rule {name!r} already applies to " + _describe(scope))
        return
    changes = ([] if settings == current else ["re-apply its scanning policy (enabled)"]) + (
        ["add " + _describe(added)] if any(added.values()) else [])
    update = f"zia_update_{kind}_rule"
    wf.add(update, {"id": rule["id"], "body": body_fields(wf, update, rule, **settings, **targets)},
           f"update ZIA {label} rule {name!r}: " + " and ".join(changes),
           undo=lambda _r, old=rule: (update, {"id": old["id"], "body": body_fields(wf, update, old)},
                                      "restore the rule"))


def _describe(scope: dict[str, list[dict[str, Any]]]) -> str:
    parts = [f"{k[:-1]} {t.get('name') or t['id']}" for k in _SCOPES for t in scope[k]]
    return ", ".join(parts) or "nobody"


TOOLS = [
    CompositeTool(
        name="remediation_block_ips",
        keywords=("block IP", "malicious IP", "C2 server IP", "attacker IP", "firewall block", "block CIDR",
                  "bad IP addresses", "botnet IPs", "blacklist IP", "scanner IPs", "block subnet", "IP IOCs",
                  "destination IP group"),
        title="Block suspicious IP addresses in the ZIA firewall",
        description=(
            "Block IPv4 addresses and networks in the ZIA cloud firewall: puts them in a destination IP group "
            f"(type DSTN_IP; created, or the missing ones added to an existing group; default {DEFAULT_IP_GROUP!r}) "
            "and makes sure an enabled BLOCK firewall rule includes that group (created first in order as "
            "'Block <group>', or an existing rule of that name updated; a group already blocked by another enabled "
            "rule is left as is). Activates ZIA once at the end. All or nothing: a group without its rule blocks "
            "nothing and a rule without its group is useless, so a failure undoes the steps already done. Refuses "
            "malformed addresses, IPv6 (ZIA destination groups are IPv4 only), networks wider than /8, private, "
            "loopback and link-local ranges (unless allow_private), and more than "
            f"{GROUP_ADDRESS_CAP} addresses per group (a conservative cap: the API documents none). Dry run by "
            "default; idempotent."),
        handler=block_ips, toolset="composite.remediation", scope="write",
        operations=("zia_list_destination_ip_groups", "zia_create_destination_ip_group",
                    "zia_update_destination_ip_group", "zia_list_firewall_filtering_rules",
                    "zia_create_firewall_filtering_rule", "zia_update_firewall_filtering_rule", "zia_activate"),
        input_model=f"{_INPUTS}:_BlockIpsInput",
    ),
    CompositeTool(
        name="remediation_revoke_credentials",
        keywords=("leaked API key", "secret exposed", "key in GitHub", "rotate credentials", "revoke API key",
                  "force password reset", "VPN credential compromised", "credential leak", "kill API secret",
                  "exposed client secret", "credentials leaked", "invalidate keys"),
        title="Revoke compromised credentials",
        description=(
            "Revoke credentials that may have leaked, each part optional: reset a ZIdentity user's password; delete "
            "the secrets of a ZIdentity API client (all, or the given secret ids); delete ZPA API keys (by name or "
            "id); delete ZIA VPN credentials (by id, FQDN or IP address; several go in one bulk call, since ZIA "
            "allows only 4 single DELETEs per hour). Deleted secrets and keys cannot be restored: issue new ones "
            "(zid_add_secret, zpa_create_client_credentials). Tokens already issued stay valid until they expire. "
            "A key or credential no longer listed (by id or name) is reported unchanged (already gone, or misspelt), "
            "so a re-run after a partial failure finishes the job; an unknown API client is refused. A password reset "
            "has no state to check, so each run "
            "with user resets again. The API client this server signs in with is refused (its id is compared with "
            "the configured client id). Keeps going when one part fails. No revocation can be reversed: the "
            "result's run_id gives remediation_recover_credentials, which lists what replaces each. Dry run by "
            "default; applying needs confirmation."),
        handler=revoke_credentials, toolset="composite.remediation", scope="destructive",
        operations=("zid_list_users", "zid_get_user", "zid_reset_password", "zid_list_api_clients", "zid_get_secrets",
                    "zid_delete_secret", "zpa_list_client_credentials", "zpa_remove_client_credentials",
                    "zia_list_vpn_credentials", "zia_remove_vpn_credential", "zia_bulk_delete_vpn_credential",
                    "zia_activate", "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_RevokeInput",
    ),
    CompositeTool(
        name="remediation_enable_enhanced_scanning",
        keywords=("tighten inspection", "turn on sandbox", "SSL decryption", "inspect HTTPS", "quarantine downloads",
                  "increased scrutiny", "suspicious user monitoring", "harden scanning", "malware scanning",
                  "watch closely", "heightened monitoring", "zero-day protection", "decrypt traffic"),
        title="Enable enhanced scanning for users, groups or locations",
        description=(
            "Harden ZIA scanning for suspected-compromised users, groups or locations: a sandbox rule (unknown files "
            "quarantined until the verdict, malicious ones blocked) and an SSL inspection rule (DECRYPT, so the "
            "scanners see HTTPS), both placed first and scoped to the given targets (an existing rule of that name "
            "gets them added); and, only when asked with tenant_settings=true, the advanced threat protection, "
            "malware protection and ATP malware inspection settings turned on. Those settings are tenant-wide in "
            "ZIA: they cannot be scoped and change for everyone. Only what differs is changed. The previous values "
            "are stored with the run: remediation_restore_settings (run_id) deletes the rules it created, puts "
            "back a rule it extended and the settings it changed. Activates ZIA once at the end and verifies it. "
            "Keeps going when one part fails. Dry run by default; idempotent."),
        handler=enhanced_scanning, toolset="composite.remediation", scope="write",
        operations=("zia_list_users", "zia_list_groups_lite", "zia_get_locations_lite",
                    "zia_get_advanced_threat_settings", "zia_update_advanced_threat_settings",
                    "zia_get_malware_settings", "zia_update_malware_settings", "zia_get_atp_malware_inspection",
                    "zia_update_atp_malware_inspection", "zia_list_sandbox_rules", "zia_create_sandbox_rule",
                    "zia_update_sandbox_rule", "zia_list_ssl_inspection_rules", "zia_create_ssl_inspection_rule",
                    "zia_update_ssl_inspection_rule", "zia_activate", "zia_get_activation_status"),
        input_model=f"{_INPUTS}:_ScanningInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
