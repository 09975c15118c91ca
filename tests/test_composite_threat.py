"""Threat response end to end: the SDK's MCP client, the server `oneapi-mcp serve` builds (in process;
over real stdio where marked) against the mock on a real socket, and the mock's state checked afterwards."""

from __future__ import annotations

import pytest
from _composites import call, call_error, serve, serve_stdio, step_statuses, store_document, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA, ZID, ZCC = "/zia/api/v1", "/ziam/admin/api/v1", "/zcc/papi/public/v1"
ZPA_RULES = "/zpa/mgmtconfig/v1/admin/customers/{customerId}/policySet/{policySetId}/rule"
POLICY_SET = "216196257331281921"
VICTIM = "yara.ito@example.test"  # seeded: ZIdentity u3e9mock, a ZIA user, two ZCC devices


def _zpa_rules(upstream) -> dict[str, dict]:
    return {r["name"]: r for r in store_items(upstream, "zpa", ZPA_RULES, POLICY_SET)}


async def test_block_domains_plans_applies_activates_and_is_idempotent(upstream):
    # wiki.example.test is the tenant's own (a ZPA segment serves it): only with force, and ZPA denies a group only
    args = {"domains": ["Evil.Example", "wiki.example.test"], "force": True, "zpa_groups": ["Contractors"]}
    async with serve_stdio(upstream, profile="read-write") as client:  # the real stdio path, plan to activation
        planned = await call(client, "threat_block_domains", args)
        assert _writes(upstream) == []
        assert planned["outcome"] == "planned"
        assert planned["found"]["own_domains_forced"]
        assert [s["operation"] for s in planned["steps"]] == [
            "zia_create_custom_url_category", "zia_create_url_filtering_rule", "zpa_add_rule_to_policy_set",
            "zpa_re_order_policy_rule"]
        assert planned["steps"][1]["body"]["urlCategories"] == ["<id of step 1>"]
        assert planned["found"]["zpa_matching_segments"][0]["name"] == "Intranet Portal"

        applied = await call(client, "threat_block_domains", {**args, "dry_run": False})
        assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
        again = await call(client, "threat_block_domains", {**args, "dry_run": False})
    category = next(c for c in store_items(upstream, "zia", f"{ZIA}/urlCategories")
                    if c.get("configuredName") == "oneapi-mcp blocked domains")
    assert category["urls"] == ["evil.example", "wiki.example.test"]
    rule = next(r for r in store_items(upstream, "zia", f"{ZIA}/urlFilteringRules")
                if r["name"] == "Block oneapi-mcp blocked domain")  # 31 characters at most
    assert rule["action"] == "BLOCK" and rule["state"] == "ENABLED" and rule["urlCategories"] == [category["id"]]
    deny = _zpa_rules(upstream)["oneapi-mcp block for Contractors"]
    assert deny["action"] == "DENY"
    assert [o["objectType"] for c in deny["conditions"] for o in c["operands"]] == ["APP", "SCIM_GROUP"]
    assert upstream.mock.state.activation["zia"] == "ACTIVE"
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 4
    assert sum(1 for w in _writes(upstream) if "activate" in w) == 1


async def test_block_domains_refuses_the_tenants_own_domains_and_never_denies_everyone_by_default(upstream):
    async with serve(upstream, profile="read-write") as client:
        own = await call_error(client, "threat_block_domains", {"domains": ["example.test"], "dry_run": False})
        forced = await call(client, "threat_block_domains", {"domains": ["wiki.example.test"], "force": True})
    assert own["error"]["kind"] == "own_domain" and "ZIdentity users" in own["error"]["message"]
    assert _writes(upstream) == []
    assert [s["operation"] for s in forced["steps"]] == ["zia_create_custom_url_category",
                                                         "zia_create_url_filtering_rule"]
    assert any("never denies everyone" in limit for limit in forced["api_limits"])


async def test_block_domains_on_the_atp_malicious_url_list_adds_only_what_is_missing_as_recorded(upstream):
    # PUT cyberThreatProtection/maliciousUrls?action=ADD_TO_LIST: recorded/zia/cassettes/TestATPPolicy.yaml
    async with serve(upstream, profile="read-write") as client:
        first = await call(client, "threat_block_domains", {"domains": ["a.example"], "method": "denylist",
                                                            "zpa": False, "dry_run": False})
        second = await call(client, "threat_block_domains", {"domains": ["a.example", "b.example"],
                                                             "method": "denylist", "zpa": False})
    assert first["outcome"] == "applied" and first["activation"]["activated"] == ["zia"]
    assert [j for j in upstream.mock.journal if j["method"] != "GET" and "zia" in j["path"]][0]["path"] == (
        f"{ZIA}/cyberThreatProtection/maliciousUrls")
    assert second["steps"][0]["call"] == f"PUT {ZIA}/cyberThreatProtection/maliciousUrls"
    assert second["steps"][0]["body"] == {"maliciousUrls": ["b.example"]}
    assert second["steps"][0]["query"] == {"action": "ADD_TO_LIST"}
    assert second["unchanged"] == ["a.example is already on the ZIA ATP malicious-URL denylist"]
    listed = store_document(upstream, "zia", f"{ZIA}/cyberThreatProtection/maliciousUrls")["maliciousUrls"]
    assert "a.example" in listed and "b.example" not in listed  # the second call was a dry run


async def test_malformed_domains_are_rejected_with_reasons_before_anything_is_read(upstream):
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "threat_block_domains", {"domains": ["ok.example", "http://x.example/a",
                                                                              "nodot"], "dry_run": False})
    assert error["error"]["kind"] == "invalid_arguments" and "2 invalid domains" in error["error"]["message"]
    assert upstream.mock.journal == []


async def test_when_zpa_fails_the_zia_block_still_lands_and_the_failure_is_reported(upstream):
    upstream.mock.fail("POST", "/zpa/*/rule", 500)
    async with serve(upstream, profile="read-write") as client:
        result = await call_error(client, "threat_block_domains", {"domains": ["wiki.example.test"], "force": True,
                                                                   "zpa_deny_everyone": True, "dry_run": False})
    assert result["outcome"] == "partial"
    assert step_statuses(result) == [("zia_create_custom_url_category", "done"),
                                     ("zia_create_url_filtering_rule", "done"),
                                     ("zpa_add_rule_to_policy_set", "failed"),
                                     ("zpa_re_order_policy_rule", "skipped")]
    assert result["steps"][2]["http_status"] == 500
    assert result["activation"]["activated"] == ["zia"]  # a partial block beats none
    assert any("zpa_add_rule_to_policy_set" in a for a in result["operator_actions"])


async def test_isolating_an_account_disables_it_everywhere_once(upstream):
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "threat_isolate_account", {"user": VICTIM})
        assert [s["operation"] for s in planned["steps"]] == [
            "zid_update_user", "zid_reset_password", "zia_create_firewall_filtering_rule",
            "zia_get_firewall_filtering_rule", "zpa_add_rule_to_policy_set",
            "zpa_re_order_policy_rule"]
        progress: list = []
        applied = await call(client, "threat_isolate_account", {"user": VICTIM, "dry_run": False}, progress)
        again = await call(client, "threat_isolate_account", {"user": VICTIM, "dry_run": False})
    assert applied["outcome"] == "applied" and progress and progress[-1][:2] == (6, 6)
    zid_user = next(u for u in store_items(upstream, "zid", f"{ZID}/users") if u["loginName"] == VICTIM)
    assert zid_user["status"] is False
    zia_user = next(u for u in store_items(upstream, "zia", f"{ZIA}/users") if u["email"] == VICTIM)
    blocking = [r for r in store_items(upstream, "zia", f"{ZIA}/firewallFilteringRules")
                if r.get("users") == [{"id": zia_user["id"], "name": zia_user["name"]}]]
    assert [(r["action"], r["state"], r["order"]) for r in blocking] == [("BLOCK_DROP", "ENABLED", 1)]
    rule = _zpa_rules(upstream)[f"oneapi-mcp isolate {VICTIM}"]
    operand = rule["conditions"][0]["operands"][0]
    assert rule["action"] == "DENY" and operand["objectType"] == "SCIM" and operand["rhs"] == VICTIM
    assert [j["path"] for j in upstream.mock.journal].count(f"{ZID}/users/{zid_user['id']}:resetpassword") == 2
    # ZIdentity has no password-reset state, so a re-run resets again rather than trust an earlier reset
    assert step_statuses(again) == [("zid_reset_password", "done")]
    assert any("no password-reset state" in limit for limit in again["api_limits"])
    assert any("sessionTerminationOnReauth" in limit for limit in again["api_limits"])


async def test_a_password_reset_that_failed_is_retried_by_the_next_run_although_the_account_is_disabled(upstream):
    upstream.mock.fail("POST", f"{ZID}/users/*:resetpassword", 400, times=1)
    args = {"user": VICTIM, "zia": False, "zpa": False, "dry_run": False}
    async with serve(upstream, profile="read-write") as client:
        first = await call_error(client, "threat_isolate_account", args)
        again = await call(client, "threat_isolate_account", args)
    assert step_statuses(first) == [("zid_update_user", "done"), ("zid_reset_password", "failed")]
    assert step_statuses(again) == [("zid_reset_password", "done")] and again["outcome"] == "applied"
    assert any("already disabled" in u for u in again["unchanged"])


async def test_an_unknown_account_is_named_and_nothing_is_written(upstream):
    async with serve(upstream, profile="read-write") as client:
        error = await call_error(client, "threat_isolate_account", {"user": "mallory@example.test",
                                                                    "dry_run": False})
    assert error["error"]["kind"] == "not_found"
    assert "mallory@example.test" in error["error"]["message"] and "zid_list_users" in error["error"]["message"]
    assert _writes(upstream) == []


async def test_quarantine_unenrolls_the_device_after_confirmation_and_says_what_it_cannot_do(upstream):
    devices = [d for d in store_items(upstream, "zcc", f"{ZCC}/getDevices") if d["user"] == VICTIM]
    target = devices[0]
    async with serve_stdio(upstream, profile="admin") as client:  # the real stdio path: a confirmed destructive call
        planned = await call(client, "threat_quarantine_endpoint", {"device": target["machineHostname"]})
        assert any("no endpoint isolation" in limit for limit in planned["api_limits"])
        assert planned["steps"][0]["operation"] == "zcc_remove_devices"
        assert planned["steps"][0]["body"]["udids"] == [target["udid"]]
        ask = await call_error(client, "threat_quarantine_endpoint", {"device": target["machineHostname"],
                                                                      "dry_run": False})
        assert ask["error"]["kind"] == "confirmation_required" and _writes(upstream) == []
        token = ask["error"]["confirm_token"]
        done = await call(client, "threat_quarantine_endpoint", {"device": target["machineHostname"],
                                                                 "dry_run": False, "confirm_token": token})
        again = await call(client, "threat_quarantine_endpoint", {"device": target["machineHostname"],
                                                                  "dry_run": False})
    assert done["outcome"] == "applied"
    after = {d["udid"]: d for d in store_items(upstream, "zcc", f"{ZCC}/getDevices")}
    assert after[target["udid"]]["state"] != "Registered"
    assert after[devices[1]["udid"]]["state"] == "Registered"  # only the named device
    assert again["outcome"] == "nothing_to_do"


async def test_quarantine_is_not_listed_on_a_read_write_server(upstream):
    async with serve(upstream, profile="read-write") as client:
        names = [t.name for t in (await client.list_tools()).tools]
        refused = await call_error(client, "threat_quarantine_endpoint", {"device": "x"})
    assert "threat_isolate_account" in names and "threat_quarantine_endpoint" not in names
    assert refused["error"]["kind"] == "scope_denied"


async def test_an_unknown_device_is_named_with_what_was_searched(upstream):
    async with serve(upstream, profile="admin") as client:
        error = await call_error(client, "threat_quarantine_endpoint", {"device": "NO-SUCH-HOST"})
    assert "NO-SUCH-HOST" in error["error"]["message"] and "zcc_list_devices" in error["error"]["message"]
