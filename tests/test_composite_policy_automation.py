"""Policy automation end to end: threat levels from a TOML file, and testing a change in the local sandbox,
through the SDK's MCP client over stdio against the mock on a real socket."""

from __future__ import annotations

import pytest
from _composites import ROOT, call, call_error, serve, step_statuses, store_document, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA = "/zia/api/v1"
THREAT = f"{ZIA}/cyberThreatProtection/advancedThreatSettings"
ZPA_RULES = "/zpa/mgmtconfig/v1/admin/customers/{customerId}/policySet/{policySetId}/rule"
POLICY_SET = "216196257331281921"
LEVELS = str(ROOT / "examples" / "threat_levels.toml")
_LEVELS_VAR = "ONEAPI_MCP_PLUGINS__POLICY_AUTOMATION__THREAT_LEVELS_FILE"
_LEVELS = {_LEVELS_VAR: LEVELS}
WEBMAIL_RULE, C2_RULE = 303, 401


def _rule(upstream, template: str, name: str, *values: str) -> dict:
    return next(r for r in store_items(upstream, *template.split(" ", 1), *values) if r["name"] == name)


async def _settings(client) -> dict:
    return (await call(client, "invoke_operation", {"name": "zia_get_advanced_threat_settings",
                                                    "arguments": {}}))["result"]


# -- threat levels ---------------------------------------------------------------------------------
async def test_setting_a_threat_level_changes_only_what_differs_activates_once_and_is_idempotent(upstream):
    async with serve(upstream, profile="read-write", **_LEVELS) as client:
        before = await _settings(client)
        listed = await call(client, "policy_list_threat_levels", {})
        planned = await call(client, "policy_set_threat_level", {"level": "Elevated"})
        assert _writes(upstream) == []
        operations = [s["operation"] for s in planned["steps"]]
        assert "zia_update_url_filtering_rule" in operations and "zpa_update_rule_to_policy_set" not in operations
        assert any("'Allow Everyone Intranet' is already enabled" in u for u in planned["unchanged"])
        applied = await call(client, "policy_set_threat_level", {"level": "elevated", "dry_run": False})
        mark = len(upstream.mock.journal)
        again = await call(client, "policy_set_threat_level", {"level": "elevated", "dry_run": False})
        after = await _settings(client)
        now = await call(client, "policy_list_threat_levels", {})
    assert [r["level"] for r in listed["levels"]] == ["normal", "elevated", "severe"] and listed["current"] == []
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    assert {k: after[k] for k in ("riskTolerance", "anonymizerBlocked", "torBlocked", "cryptoMiningBlocked")} == {
        "riskTolerance": 25, "anonymizerBlocked": True, "torBlocked": True, "cryptoMiningBlocked": False}
    assert {k: v for k, v in after.items() if k not in ("riskTolerance", "anonymizerBlocked", "torBlocked")} == {
        k: v for k, v in before.items() if k not in ("riskTolerance", "anonymizerBlocked", "torBlocked")}
    webmail = _rule(upstream, f"zia {ZIA}/urlFilteringRules", "Contractors No Webmail")
    assert webmail["userRiskScoreLevels"] == ["MEDIUM", "HIGH", "CRITICAL"] and webmail["state"] == "ENABLED"
    assert sum(1 for w in _writes(upstream) if w.endswith("/status/activate")) == 1
    assert again["outcome"] == "nothing_to_do" and _writes(upstream, mark) == []
    assert now["current"] == ["elevated"]
    row = "elevated,2,A phishing or malware campaign is targeting the company,4,6,0,True"
    assert row in now["csv"]["threat-levels"].splitlines()


async def test_all_or_nothing_rolls_the_threat_settings_back_after_a_failed_rule_update_and_activates_nothing(
        upstream):
    upstream.mock.fail("PUT", f"{ZIA}/urlFilteringRules/*", 500, times=0)  # PUT 5xx is retried: fail them all
    async with serve(upstream, profile="read-write", **_LEVELS) as client:
        before = await _settings(client)
        result = await call_error(client, "policy_set_threat_level", {"level": "severe", "dry_run": False,
                                                                      "on_failure": "rollback"})
        after = await _settings(client)
    assert result["outcome"] == "rolled_back"
    assert step_statuses(result) == [("zia_update_advanced_threat_settings", "undone"),
                                     ("zia_update_url_filtering_rule", "failed"),
                                     ("zpa_update_rule_to_policy_set", "not_run")]
    assert after == before
    assert _rule(upstream, f"zpa {ZPA_RULES}", "Allow Everyone Intranet", POLICY_SET)["disabled"] in (0, "0")
    assert not any(w.endswith("/status/activate") for w in _writes(upstream))
    assert result["activation"]["activated"] == []


async def test_a_rolled_back_zia_rule_is_put_back_without_its_stale_last_modified_time(upstream):
    # ZIA refuses a rule PUT carrying an outdated lastModifiedTime (STALE_CONFIGURATION_ERROR); Terraform zeroes it
    # (terraform-provider-zia zia/resource_zia_dlp_web_rules.go), and so does the undo of a rule update here
    upstream.mock.fail("PUT", "/zpa/*/rule/*", 400, times=0)
    webmail = _rule(upstream, f"zia {ZIA}/urlFilteringRules", "Contractors No Webmail")
    async with serve(upstream, profile="read-write", **_LEVELS) as client:
        result = await call_error(client, "policy_set_threat_level", {"level": "severe", "dry_run": False,
                                                                      "on_failure": "rollback"})
    assert result["outcome"] == "rolled_back"
    statuses = step_statuses(result)
    assert ("zpa_update_rule_to_policy_set", "failed") in statuses
    assert [s for o, s in statuses if o == "zia_update_url_filtering_rule"] and all(
        s == "undone" for o, s in statuses if o.startswith("zia_"))
    restored = _rule(upstream, f"zia {ZIA}/urlFilteringRules", "Contractors No Webmail")
    assert {k: v for k, v in restored.items() if k != "lastModifiedTime"} == {
        k: v for k, v in webmail.items() if k != "lastModifiedTime"}


async def test_an_unknown_level_lists_the_known_ones_and_a_bad_file_is_reported_line_by_line(upstream, tmp_path):
    bad = tmp_path / "levels.toml"
    bad.write_text('[levels.calm]\ndescription = "ok"\n[levels.calm.advanced_threat_settings]\n'
                   'riskTolerance = "low"\nnoSuchSetting = true\n\n[levels.calm.url_filtering_rules]\n'
                   'enable = ["Block Gambling",\n          "No Such Rule"]\ndisable = ["Block Gambling"]\n'
                   '\n[levels.calm.zpa_access_rules]\nenable = ["Ghost"]\n')
    async with serve(upstream, profile="read-write", **_LEVELS) as client:
        unknown = await call_error(client, "policy_set_threat_level", {"level": "purple", "dry_run": False})
    async with serve(upstream, profile="read-write", **{_LEVELS_VAR: str(bad)}) as client:
        broken = await call_error(client, "policy_set_threat_level", {"level": "calm", "dry_run": False})
    async with serve(upstream, profile="read-write") as client:
        unset = await call_error(client, "policy_set_threat_level", {"level": "calm"})
    assert unknown["error"]["kind"] == "not_found" and "'purple'" in unknown["error"]["message"]
    assert "known levels: normal, elevated, severe" in unknown["error"]["message"]
    assert broken["error"]["kind"] == "invalid_config"
    assert [(p["line"], p["problem"].split(" (")[0]) for p in broken["error"]["problems"]] == [
        (4, "riskTolerance must be an integer"),
        (5, "'noSuchSetting' is not a ZIA advanced threat setting"),
        (9, "no ZIA URL filtering rule 'No Such Rule'"),
        (10, "'Block Gambling' is both enabled and disabled in url_filtering_rules"),
        (13, "no ZPA access rule 'Ghost'")]
    assert unset["error"]["kind"] == "not_configured" and "plugins.policy_automation]" in unset["error"]["message"]
    assert _writes(upstream) == []


# -- the sandbox -----------------------------------------------------------------------------------
def _tenant_only_read(upstream) -> bool:
    return all(j["method"] == "GET" or (j["method"], j["path"]) == ("POST", f"{ZIA}/urlLookup")
               for j in upstream.mock.journal)


CHANGE = [
    {"operation": "zia_update_url_category", "arguments": {
        "categoryId": "CUSTOM_01", "action": "ADD_TO_LIST",
        "body": {"configuredName": "Blocked Domains", "superCategory": "USER_DEFINED", "customCategory": True,
                 "urls": ["newbad.example"]}}},
    {"operation": "zia_create_url_filtering_rule", "arguments": {"body": {
        "name": "Executives may", "order": 1, "rank": 7, "action": "ALLOW", "state": "ENABLED",
        "urlCategories": ["CUSTOM_01"], "groups": [{"id": 82005, "name": "Executives"}]}}},
    {"operation": "zia_update_firewall_filtering_rule", "arguments": {"id": C2_RULE, "body": {
        "name": "Block C2 Traffic", "action": "BLOCK_DROP", "rank": 7, "state": "DISABLED"}}},
]


async def test_a_change_is_tested_in_the_sandbox_and_the_tenant_is_only_read(upstream):
    async with serve(upstream, profile="read-only") as client:  # it writes nothing upstream: read-only offers it
        result = await client.call_tool("policy_test_change", {
            "operations": CHANGE, "urls": ["https://newbad.example/login", "badsite.example", "zoom.us"],
            "ips": ["198.51.100.23", "10.99.0.1"]})
    assert not result.is_error, result.content[0].text
    report = result.structured_content
    assert report["sandbox"] is True and report["tenant_writes"] == 0
    assert [s["status"] for s in report["sandbox_steps"]] == ["done", "done", "done"]
    urls = {u["url"]: u for u in report["urls"]}
    assert urls["newbad.example/login"]["before"] == "no URL filtering rule matches (allowed)"
    assert urls["newbad.example/login"]["after"] == \
        "Executives may: ALLOW (groups Executives); Block Blocked Domains: BLOCK"
    assert urls["badsite.example"]["before"] == "Block Blocked Domains: BLOCK" and urls["badsite.example"]["changed"]
    assert urls["zoom.us"]["before"] == urls["zoom.us"]["after"] == "Allow Approved SaaS: ALLOW"
    ips = {i["ip"]: i for i in report["ips"]}
    assert ips["198.51.100.23"]["before"] == "Block C2 Traffic: BLOCK_DROP"
    assert ips["198.51.100.23"]["after"] == "Default Firewall Filtering Rule: ALLOW"
    assert not ips["10.99.0.1"]["changed"]
    assert report["effect"]["urls_changed"] == 2 and report["effect"]["ips_changed"] == 1
    assert {(c["name"], c["change"], c["field"]) for c in report["config_changes"]} >= {
        ("Blocked Domains", "changed", "urls"), ("Executives may", "added", ""),
        ("Block C2 Traffic", "changed", "state")}
    text = result.content[0].text
    assert "OneAPI has no dry-run or sandbox API" in text and "| newbad.example/login |" in text
    assert _tenant_only_read(upstream) and any(j["path"] == f"{ZIA}/urlLookup" for j in upstream.mock.journal)
    assert "newbad.example" not in next(c for c in store_items(upstream, "zia", f"{ZIA}/urlCategories")
                                         if c["id"] == "CUSTOM_01")["urls"]
    assert _rule(upstream, f"zia {ZIA}/firewallFilteringRules", "Block C2 Traffic")["state"] == "ENABLED"
    assert upstream.mock.state.activation["zia"] == "ACTIVE"


async def test_a_threat_level_is_tested_in_the_sandbox_and_a_failing_change_is_reported(upstream):
    async with serve(upstream, profile="read-only", **_LEVELS) as client:
        level = await call(client, "policy_test_change", {"threat_level": "severe"})
        failing = await client.call_tool("policy_test_change", {"operations": [
            {"operation": "zia_update_url_filtering_rule", "arguments": {"id": 99999, "body": {"name": "x"}}}]})
    changes = {(c["object"], c["name"], c["field"]): c for c in level["config_changes"]}
    assert changes[("zpa_access_rules", "Allow Everyone Intranet", "disabled")]["after"] == "1"
    assert changes[("url_filtering_rules", "Contractors No Webmail", "userRiskScoreLevels")]["after"] == \
        '["LOW", "MEDIUM", "HIGH", "CRITICAL"]'
    assert changes[("advanced_threat_settings", "", "riskTolerance")]["after"] == "10"
    assert failing.is_error and failing.structured_content["sandbox_outcome"] == "failed"  # nothing took effect
    assert failing.structured_content["sandbox_steps"][0]["status"] == "failed"
    assert _tenant_only_read(upstream)
    assert store_document(upstream, "zia", THREAT) is None  # never written
    assert _rule(upstream, f"zpa {ZPA_RULES}", "Allow Everyone Intranet", POLICY_SET)["disabled"] in (0, "0")
    assert _rule(upstream, f"zia {ZIA}/urlFilteringRules", "Contractors No Webmail").get("userRiskScoreLevels") is None


async def test_bad_sandbox_input_and_a_failed_lookup_are_reported_before_anything_runs(upstream):
    async with serve(upstream, profile="read-only", **_LEVELS) as client:
        both = await call_error(client, "policy_test_change", {"operations": CHANGE, "threat_level": "severe"})
        unmodelled = await call_error(client, "policy_test_change", {"operations": [
            {"operation": "zia_update_user", "arguments": {"id": 1, "body": {}}},
            {"operation": "zia_list_users", "arguments": {}}]})
        bad_url = await call_error(client, "policy_test_change", {"operations": CHANGE, "urls": ["http://x y/"]})
        no_level = await call_error(client, "policy_test_change", {"threat_level": "purple"})
        upstream.mock.fail("POST", f"{ZIA}/urlLookup", 500, times=0)
        lookup = await call_error(client, "policy_test_change", {"operations": CHANGE, "urls": ["a.example"]})
    assert both["error"]["kind"] == "invalid_arguments"
    assert unmodelled["error"]["kind"] == "invalid_arguments" and len(unmodelled["error"]["invalid"]) == 2
    assert "does not model" in unmodelled["error"]["invalid"][0] and "only reads" in unmodelled["error"]["invalid"][1]
    assert bad_url["error"]["kind"] == "invalid_arguments" and "invalid URL" in bad_url["error"]["message"]
    assert no_level["error"]["kind"] == "not_found" and "normal, elevated, severe" in no_level["error"]["message"]
    assert "zia_lookup_url_classification" in lookup["error"]["message"]
    assert _tenant_only_read(upstream)
