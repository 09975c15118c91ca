"""Automated remediation end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock
on a real socket, and the mock's state and journal checked afterwards."""

from __future__ import annotations

import json

import pytest
from _composites import call, call_error, serve, step_statuses, store_document, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA, ZID = "/zia/api/v1", "/ziam/admin/api/v1"
THREAT = f"{ZIA}/cyberThreatProtection"
VICTIM = "yara.ito@example.test"  # seeded: ZIdentity u3e9mock, ZIA user 71001


def _named(items: list[dict], name: str) -> dict:
    return next(i for i in items if i.get("name") == name)


# -- block suspicious IPs --------------------------------------------------------------------------
async def test_blocking_ips_creates_the_group_and_its_block_rule_activates_once_and_is_idempotent(upstream):
    args = {"addresses": ["198.51.100.7", "192.0.2.0/24", "198.51.100.7/32"]}
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "remediation_block_ips", args)
        assert _writes(upstream) == [] and planned["outcome"] == "planned"
        assert [s["operation"] for s in planned["steps"]] == ["zia_create_destination_ip_group",
                                                              "zia_create_firewall_filtering_rule"]
        assert planned["steps"][0]["body"]["type"] == "DSTN_IP"
        assert planned["steps"][0]["body"]["addresses"] == ["198.51.100.7", "192.0.2.0/24"]  # deduplicated
        assert planned["steps"][1]["body"]["destIpGroups"] == [{"id": "<id of step 1>"}]

        applied = await call(client, "remediation_block_ips", {**args, "dry_run": False})
        mark = len(upstream.mock.journal)
        again = await call(client, "remediation_block_ips", {**args, "dry_run": False})
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    group = _named(store_items(upstream, "zia", f"{ZIA}/ipDestinationGroups"), "oneapi-mcp-blocked-ips")
    assert group["type"] == "DSTN_IP" and group["addresses"] == ["198.51.100.7", "192.0.2.0/24"]
    rule = _named(store_items(upstream, "zia", f"{ZIA}/firewallFilteringRules"), "Block oneapi-mcp-blocked-ips")
    assert len(rule["name"]) <= 31
    assert rule["action"] == "BLOCK_DROP" and rule["state"] == "ENABLED" and rule["order"] == 1
    assert [g["id"] for g in rule["destIpGroups"]] == [group["id"]]
    assert sum(1 for w in _writes(upstream) if w.endswith("/status/activate")) == 1
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 3
    assert _writes(upstream, mark) == []


async def test_an_existing_group_gets_only_the_missing_addresses_and_its_existing_block_rule_is_kept(upstream):
    async with serve(upstream, profile="read-write") as client:
        result = await call(client, "remediation_block_ips", {
            "addresses": ["198.51.100.23", "203.0.113.77/32", "198.51.100.99"], "group": "Known C2 Servers",
            "dry_run": False})
    assert step_statuses(result) == [("zia_update_destination_ip_group", "done")]
    assert any("'Block C2 Traffic' already blocks group 'Known C2 Servers'" in u for u in result["unchanged"])
    group = _named(store_items(upstream, "zia", f"{ZIA}/ipDestinationGroups"), "Known C2 Servers")
    assert group["addresses"] == ["198.51.100.23", "203.0.113.77", "198.51.100.99"]
    assert len(store_items(upstream, "zia", f"{ZIA}/firewallFilteringRules")) == 4  # no second rule


async def test_when_the_rule_cannot_be_created_the_new_group_is_deleted_again_and_nothing_is_activated(upstream):
    upstream.mock.fail("POST", f"{ZIA}/firewallFilteringRules", 500)
    async with serve(upstream, profile="admin") as client:
        result = await call_error(client, "remediation_block_ips", {"addresses": ["198.51.100.7"], "dry_run": False})
    assert result["outcome"] == "rolled_back"
    assert step_statuses(result) == [("zia_create_destination_ip_group", "undone"),
                                     ("zia_create_firewall_filtering_rule", "failed")]
    assert result["steps"][1]["http_status"] == 500
    groups = store_items(upstream, "zia", f"{ZIA}/ipDestinationGroups")
    assert not any(g["name"] == "oneapi-mcp-blocked-ips" for g in groups)
    assert any(w.startswith(f"DELETE {ZIA}/ipDestinationGroups/") for w in _writes(upstream))
    assert not any(w.endswith("/status/activate") for w in _writes(upstream))
    assert any("firewall rule" in a for a in result["operator_actions"])


async def test_malformed_ipv6_wide_and_private_addresses_are_refused_with_reasons_before_anything_is_read(upstream):
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "remediation_block_ips", {
            "addresses": ["198.51.100.7", "10.0.0.0/8", "999.1.1.1", "2001:db8::1", "0.0.0.0/0", "192.0.2.1/24"],
            "dry_run": False})
        allowed = await call(client, "remediation_block_ips", {"addresses": ["10.9.8.7"], "allow_private": True})
    assert error["error"]["kind"] == "invalid_arguments" and "5 invalid IP addresses" in error["error"]["message"]
    reasons = " ".join(error["error"]["invalid"])
    assert "cut the tenant's users off" in reasons and "allow_private=true" in reasons
    assert "IPv6" in reasons and "host bits set" in reasons and "wider than /8" in reasons
    assert all(j["method"] == "GET" for j in upstream.mock.journal)  # the allowed call was a dry run
    assert allowed["outcome"] == "planned" and allowed["found"]["addresses"] == ["10.9.8.7"]


async def test_a_group_that_already_holds_private_addresses_is_not_turned_into_a_block(upstream):
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "remediation_block_ips", {"addresses": ["198.51.100.99"],
                                                                   "group": "Corporate DNS", "dry_run": False})
        fqdn = await call_error(client, "remediation_block_ips", {"addresses": ["198.51.100.99"],
                                                                  "group": "Update Servers", "dry_run": False})
    assert error["error"]["kind"] == "conflict" and "10.10.0.53" in error["error"]["message"]
    assert fqdn["error"]["kind"] == "conflict" and "DSTN_FQDN" in fqdn["error"]["message"]
    assert _writes(upstream) == []


# -- revoke compromised credentials ----------------------------------------------------------------
async def _listed(client, operation: str, **arguments) -> list[dict]:
    """What a generated list operation answers now (the mock invents some collections at each read and
    stores them only once something changes them, so reading is the way to see them)."""
    result = (await call(client, "invoke_operation", {"name": operation, "arguments": arguments}))["result"]
    return result.get("records") or result.get("list") or [] if isinstance(result, dict) else result


async def _credentials(client) -> tuple[dict, list[dict], list[dict]]:
    api_client = (await _listed(client, "zid_list_api_clients"))[0]
    return api_client, await _listed(client, "zpa_list_client_credentials"), await _listed(
        client, "zia_list_vpn_credentials")


async def test_revoking_needs_confirmation_then_deletes_each_credential_and_a_rerun_finds_them_gone(upstream):
    async with serve(upstream, profile="admin") as client:
        api_client, keys, vpn = await _credentials(client)
        args = {"user": VICTIM, "api_client": api_client["name"], "zpa_api_key_names": [keys[0]["name"]],
                # as recorded (tests/recorded/zia.jsonl): an IP credential has an ipAddress, a UFQDN one an fqdn
                "zia_vpn_ids": [vpn[0]["ipAddress"], vpn[1]["fqdn"]]}
        planned = await call(client, "remediation_revoke_credentials", args)
        assert _writes(upstream) == [] and planned["outcome"] == "planned"
        secrets = [s["id"] for s in planned["found"]["zid_api_client"]["secrets"]]
        assert len(secrets) == 3
        values = [s["value"] for s in await _listed(client, "zid_get_secrets", id=api_client["id"])]
        assert [s["operation"] for s in planned["steps"]] == [
            "zid_reset_password", "zid_delete_secret", "zid_delete_secret", "zid_delete_secret",
            "zpa_remove_client_credentials", "zia_bulk_delete_vpn_credential"]  # several VPN credentials: bulk
        assert planned["steps"][-1]["body"] == {"ids": [vpn[0]["id"], vpn[1]["id"]]}

        ask = await call_error(client, "remediation_revoke_credentials", {**args, "dry_run": False})
        assert ask["error"]["kind"] == "confirmation_required" and _writes(upstream) == []
        assert ask["error"]["plan"]["destructive_steps"] == [2, 3, 4, 5, 6]
        progress: list = []
        done = await call(client, "remediation_revoke_credentials",
                          {**args, "dry_run": False, "confirm_token": ask["error"]["confirm_token"]}, progress)
        ids = {"api_client": api_client["id"], "api_client_secret_ids": secrets, "zpa_api_key_names": [keys[0]["id"]],
               "zia_vpn_ids": [str(vpn[0]["id"]), str(vpn[1]["id"])]}
        mark = len(upstream.mock.journal)
        again = await call(client, "remediation_revoke_credentials", {**ids, "dry_run": False})
        by_names = await call(client, "remediation_revoke_credentials",
                              {k: v for k, v in args.items() if k != "user"} | {"dry_run": False})
        assert _writes(upstream, mark) == []
        by_name = await call(client, "remediation_revoke_credentials", {"user": VICTIM})
        left = {"secrets": await _listed(client, "zid_get_secrets", id=api_client["id"]),
                "keys": await _listed(client, "zpa_list_client_credentials"),
                "vpn": await _listed(client, "zia_list_vpn_credentials")}
    assert done["outcome"] == "applied" and done["activation"]["activated"] == ["zia"]
    assert progress and progress[-1][:2] == (6, 6)
    assert [j["path"] for j in upstream.mock.journal].count(f"{ZID}/users/u3e9mock:resetpassword") == 1
    assert left["secrets"] == []
    assert [k["id"] for k in left["keys"]] == [k["id"] for k in keys[1:]]
    assert [c["id"] for c in left["vpn"]] == [vpn[2]["id"]]
    text = json.dumps([planned, ask, done])
    # ZIA never answers a VPN credential's preSharedKey (tests/recorded/zia.jsonl); keys' secrets are checked
    for secret in (*values, *(v["preSharedKey"] for v in vpn if v.get("preSharedKey")), keys[0]["clientSecret"]):
        assert secret not in text  # found lists ids, names and times, never secret values
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 6
    assert all("already gone" in u for u in again["unchanged"])
    # the same names again (the keys they named are gone now): unchanged, not refused
    assert by_names["outcome"] == "nothing_to_do" and by_names["steps"] == []
    assert sum("already gone" in u for u in by_names["unchanged"]) == 3
    # a password reset has no state to read: a run that names the user resets again, and says so
    assert [s["operation"] for s in by_name["steps"]] == ["zid_reset_password"]
    assert any("no password-reset state" in limit for limit in by_name["api_limits"])


async def test_when_zpa_refuses_a_key_deletion_the_other_credentials_are_still_revoked(upstream):
    async with serve(upstream, profile="admin") as client:
        api_client, keys, vpn = await _credentials(client)
        upstream.mock.fail("DELETE", "/zpa/*/apiKeys/*", 403, message="the API client lacks the ZPA admin role")
        args = {"api_client": api_client["id"], "zpa_api_key_names": [keys[1]["id"]],
                "zia_vpn_ids": [vpn[2]["fqdn"]], "dry_run": False}
        ask = await call_error(client, "remediation_revoke_credentials", args)
        result = await call_error(client, "remediation_revoke_credentials",
                                  {**args, "confirm_token": ask["error"]["confirm_token"]})
        left = {"keys": await _listed(client, "zpa_list_client_credentials"),
                "vpn": await _listed(client, "zia_list_vpn_credentials")}
    assert result["outcome"] == "partial"
    assert step_statuses(result) == [("zid_delete_secret", "done")] * 3 + [
        ("zpa_remove_client_credentials", "failed"), ("zia_remove_vpn_credential", "done")]
    assert result["steps"][3]["http_status"] == 403
    assert result["activation"]["activated"] == ["zia"]
    assert any("zpa_remove_client_credentials" in a and "ZPA admin role" in a for a in result["operator_actions"])
    assert keys[1]["id"] in {k["id"] for k in left["keys"]}
    assert [c["id"] for c in left["vpn"]] == [vpn[0]["id"], vpn[1]["id"]]


async def test_unknown_clients_are_refused_and_unlisted_keys_are_named_with_where_they_were_searched(upstream):
    async with serve(upstream, profile="admin") as client:
        _api_client, keys, _vpn = await _credentials(client)
        no_client = await call_error(client, "remediation_revoke_credentials", {"api_client": "ghost",
                                                                                "dry_run": False})
        no_key = await call(client, "remediation_revoke_credentials", {
            "zpa_api_key_names": ["stolen-key", keys[0]["name"]], "zia_vpn_ids": ["vpn.nowhere.example"]})
        nothing = await call_error(client, "remediation_revoke_credentials", {})
    assert no_client["error"]["kind"] == "not_found"
    assert "'ghost'" in no_client["error"]["message"] and "zid_list_api_clients" in no_client["error"]["message"]
    # an unlisted key may be one an earlier run deleted: reported unchanged, and the rest still planned
    assert [s["operation"] for s in no_key["steps"]] == ["zpa_remove_client_credentials"]
    unlisted = " ".join(no_key["unchanged"])
    assert "'stolen-key' is not listed" in unlisted and "zpa_list_client_credentials" in unlisted
    assert "'vpn.nowhere.example' is not listed" in unlisted and "zia_list_vpn_credentials" in unlisted
    assert nothing["error"]["kind"] == "invalid_arguments"
    assert _writes(upstream) == []


# -- enhanced scanning -----------------------------------------------------------------------------
SCAN = {"users": [VICTIM], "groups": ["Sales Team"], "locations": ["London Office"]}


async def test_enhanced_scanning_turns_on_what_differs_adds_scoped_rules_and_is_idempotent(upstream):
    scan = {**SCAN, "tenant_settings": True}  # tenant-wide settings only on request
    async with serve(upstream, profile="read-write") as client:
        before = (await call(client, "invoke_operation", {"name": "zia_get_advanced_threat_settings",
                                                          "arguments": {}}))["result"]
        default = await call(client, "remediation_enable_enhanced_scanning", SCAN)
        assert [s["operation"] for s in default["steps"]] == ["zia_create_sandbox_rule",
                                                              "zia_create_ssl_inspection_rule"]
        planned = await call(client, "remediation_enable_enhanced_scanning", scan)
        assert _writes(upstream) == []
        assert [s["operation"] for s in planned["steps"]] == [
            "zia_update_advanced_threat_settings", "zia_update_malware_settings", "zia_update_atp_malware_inspection",
            "zia_create_sandbox_rule", "zia_create_ssl_inspection_rule"]
        assert any("tenant-wide" in limit for limit in planned["api_limits"])
        progress: list = []
        applied = await call(client, "remediation_enable_enhanced_scanning", {**scan, "dry_run": False}, progress)
        mark = len(upstream.mock.journal)
        again = await call(client, "remediation_enable_enhanced_scanning", {**scan, "dry_run": False})
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    assert progress and progress[-1][:2] == (5, 5)
    threat = store_document(upstream, "zia", f"{THREAT}/advancedThreatSettings")
    assert threat["cmdCtlServerBlocked"] is True and threat["knownPhishingSitesBlocked"] is True
    changed = {k for k in threat if threat[k] != before[k]}
    assert changed and all(k.endswith("Blocked") for k in changed)  # the rest is kept as it was
    assert threat["torBlocked"] is before["torBlocked"] is False  # not a threat setting this tool owns
    assert store_document(upstream, "zia", f"{THREAT}/malwareSettings")["virusBlocked"] is True
    assert store_document(upstream, "zia", f"{THREAT}/atpMalwareInspection") == {"inspectInbound": True,
                                                                                 "inspectOutbound": True}
    sandbox = _named(store_items(upstream, "zia", f"{ZIA}/sandboxRules"), "oneapi-mcp enhanced scan")
    ssl = _named(store_items(upstream, "zia", f"{ZIA}/sslInspectionRules"), "oneapi-mcp enhanced scan")
    for rule in (sandbox, ssl):
        assert rule["state"] == "ENABLED" and rule["order"] == 1
        assert [u["id"] for u in rule["users"]] == [71001]
        assert [g["id"] for g in rule["groups"]] == [82002] and [loc["id"] for loc in rule["locations"]] == [602]
    assert sandbox["baRuleAction"] == "BLOCK" and sandbox["firstTimeOperation"] == "QUARANTINE"
    assert ssl["action"]["type"] == "DECRYPT"
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 5
    assert _writes(upstream, mark) == []


async def test_a_second_person_is_added_to_the_rules_and_a_failed_rule_update_is_reported(upstream):
    async with serve(upstream, profile="read-write") as client:
        await call(client, "remediation_enable_enhanced_scanning", {"users": [VICTIM], "tenant_settings": False,
                                                                    "dry_run": False})
        upstream.mock.fail("PUT", f"{ZIA}/sslInspectionRules/*", 400, message="invalid rule order")
        result = await call_error(client, "remediation_enable_enhanced_scanning", {
            "users": ["isla.fischer@example.test"], "tenant_settings": False, "dry_run": False})
    assert result["outcome"] == "partial"
    assert step_statuses(result) == [("zia_update_sandbox_rule", "done"), ("zia_update_ssl_inspection_rule", "failed")]
    assert "add user Isla Fischer" in result["steps"][0]["why"]
    assert result["activation"]["activated"] == ["zia"]
    assert any("zia_update_ssl_inspection_rule" in a for a in result["operator_actions"])
    sandbox = _named(store_items(upstream, "zia", f"{ZIA}/sandboxRules"), "oneapi-mcp enhanced scan")
    ssl = _named(store_items(upstream, "zia", f"{ZIA}/sslInspectionRules"), "oneapi-mcp enhanced scan")
    assert [u["id"] for u in sandbox["users"]] == [71001, 71002]
    assert [u["id"] for u in ssl["users"]] == [71001]


async def test_unknown_users_groups_and_locations_are_all_named_and_nothing_is_written(upstream):
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "remediation_enable_enhanced_scanning", {
            "users": ["mallory@example.test"], "groups": ["Red Team"], "locations": ["Atlantis"], "dry_run": False})
        bad_email = await call_error(client, "remediation_enable_enhanced_scanning", {"users": ["not-an-email"]})
        no_target = await call_error(client, "remediation_enable_enhanced_scanning", {"dry_run": False})
    assert error["error"]["kind"] == "not_found"
    message = error["error"]["message"]
    assert "'mallory@example.test'" in message and "zia_list_users" in message
    assert "'Red Team'" in message and "zia_list_groups_lite" in message
    assert "'Atlantis'" in message and "zia_get_locations_lite" in message
    assert bad_email["error"]["kind"] == "invalid_arguments" and "not an email" in bad_email["error"]["message"]
    assert no_target["error"]["kind"] == "invalid_arguments"
    assert _writes(upstream) == []
