"""Policy synchronization end to end: the SDK's MCP client over stdio, `oneapi-mcp serve` against the mock on
a real socket, and the mock's state checked afterwards."""

from __future__ import annotations

import pytest
from _composites import call, call_error, serve, step_statuses, store_items
from _composites import writes as _writes

pytestmark = pytest.mark.anyio
ZIA = "/zia/api/v1"
ZPA_RULES = "/zpa/mgmtconfig/v1/admin/customers/{customerId}/policySet/{policySetId}/rule"
POLICY_SET = "216196257331281921"
CONTRACTORS_ZIA, CONTRACTORS_SCIM = 82004, "216196257331282524"
INTRANET_APP = "216196257331282423"  # serves intranet.example.test and wiki.example.test
FINANCE, HR = 81001, 81004  # ZIA departments
INTENT = "mcp-sync eng wiki"


def _named(items: list[dict], name: str, key: str = "name") -> dict | None:
    return next((i for i in items if i.get(key) == name), None)


async def _invoke(client, name: str, arguments: dict) -> dict:
    return await call(client, "invoke_operation", {"name": name, "arguments": arguments})


# -- one intent across ZIA and ZPA -----------------------------------------------------------------
async def test_blocking_a_destination_for_a_group_plans_applies_both_products_and_is_idempotent(upstream):
    args = {"name": "eng wiki", "group": "Contractors", "destinations": ["Wiki.Example.Test", "203.0.113.9"]}
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "policy_sync_block_destination", args)
        assert _writes(upstream) == []
        assert planned["outcome"] == "planned"
        assert [s["operation"] for s in planned["steps"]] == [
            "zia_create_custom_url_category", "zia_create_url_filtering_rule", "zia_create_destination_ip_group",
            "zia_create_firewall_filtering_rule", "zpa_add_rule_to_policy_set", "zpa_re_order_policy_rule"]
        assert planned["steps"][1]["body"]["urlCategories"] == ["<id of step 1>"]
        assert planned["found"]["zpa_segments"] == [{"id": INTRANET_APP, "name": "Intranet Portal"}]
        progress: list = []
        applied = await call(client, "policy_sync_block_destination", {**args, "dry_run": False}, progress)
        mark = len(upstream.mock.journal)
        again = await call(client, "policy_sync_block_destination", {**args, "dry_run": False})
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    assert progress and progress[-1][:2] == (6, 6)
    category = _named(store_items(upstream, "zia", f"{ZIA}/urlCategories"), INTENT, "configuredName")
    assert category["urls"] == ["wiki.example.test"]
    url_rule = _named(store_items(upstream, "zia", f"{ZIA}/urlFilteringRules"), INTENT)
    assert url_rule["action"] == "BLOCK" and url_rule["state"] == "ENABLED"
    assert url_rule["urlCategories"] == [category["id"]] and [g["id"] for g in url_rule["groups"]] == [CONTRACTORS_ZIA]
    ip_group = _named(store_items(upstream, "zia", f"{ZIA}/ipDestinationGroups"), INTENT)
    assert ip_group["addresses"] == ["203.0.113.9"]
    fw_rule = _named(store_items(upstream, "zia", f"{ZIA}/firewallFilteringRules"), INTENT)
    assert fw_rule["action"] == "BLOCK_DROP" and [g["id"] for g in fw_rule["destIpGroups"]] == [ip_group["id"]]
    zpa_rule = _named(store_items(upstream, "zpa", ZPA_RULES, POLICY_SET), INTENT)
    operands = {(o["objectType"], o["rhs"]) for c in zpa_rule["conditions"] for o in c["operands"]}
    assert zpa_rule["action"] == "DENY" and operands == {("APP", INTRANET_APP), ("SCIM_GROUP", CONTRACTORS_SCIM)}
    assert upstream.mock.state.activation["zia"] == "ACTIVE"
    assert sum(1 for w in _writes(upstream) if w.endswith("/status/activate")) == 1
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 5
    assert _writes(upstream, mark) == []


async def test_applying_the_same_intent_with_other_destinations_changes_only_the_difference(upstream):
    first = {"name": "eng wiki", "group": "Contractors", "destinations": ["a.example", "b.example"], "dry_run": False}
    async with serve(upstream, profile="read-write") as client:
        await call(client, "policy_sync_block_destination", first)
        second = await call(client, "policy_sync_block_destination", {**first, "destinations": ["b.example",
                                                                                                 "c.example"],
                                                                      "dry_run": True})
    edits = [(s["operation"], s["query"]["action"], s["body"]["urls"]) for s in second["steps"]]
    assert edits == [("zia_update_url_category", "ADD_TO_LIST", ["c.example"]),
                     ("zia_update_url_category", "REMOVE_FROM_LIST", ["a.example"])]
    assert any("no ZPA application segment serves" in u for u in second["unchanged"])
    assert any("private applications only" in limit for limit in second["api_limits"])


async def test_a_failed_zpa_rule_rolls_the_zia_side_back_when_all_or_nothing_is_asked(upstream):
    upstream.mock.fail("POST", "/zpa/*/rule", 500)
    args = {"name": "gitlab", "group": "Contractors", "applications": ["GitLab"], "dry_run": False,
            "on_failure": "rollback"}
    async with serve(upstream, profile="admin") as client:
        result = await call_error(client, "policy_sync_block_destination", args)
    assert result["outcome"] == "rolled_back"
    assert step_statuses(result) == [("zia_create_custom_url_category", "undone"),
                                     ("zia_create_url_filtering_rule", "undone"),
                                     ("zpa_add_rule_to_policy_set", "failed"),
                                     ("zpa_re_order_policy_rule", "skipped")]
    assert result["steps"][2]["http_status"] == 500
    assert _named(store_items(upstream, "zia", f"{ZIA}/urlCategories"), "mcp-sync gitlab", "configuredName") is None
    assert _named(store_items(upstream, "zia", f"{ZIA}/urlFilteringRules"), "mcp-sync gitlab") is None
    assert not any(w.endswith("/status/activate") for w in _writes(upstream))
    assert any("zpa_add_rule_to_policy_set" in a for a in result["operator_actions"])


async def test_unknown_groups_apps_and_malformed_destinations_are_named_and_nothing_is_written(upstream):
    async with serve(upstream, profile="read-write") as client:
        nobody = await call_error(client, "policy_sync_block_destination", {
            "name": "x", "group": "Nobody", "destinations": ["a.example"], "dry_run": False})
        no_app = await call_error(client, "policy_sync_block_destination", {
            "name": "x", "group": "Contractors", "applications": ["Payroll"], "dry_run": False})
        malformed = await call_error(client, "policy_sync_block_destination", {
            "name": "x", "group": "Contractors", "destinations": ["http://a.example/x", "10.0.0.0/33"],
            "dry_run": False})
        too_long = await call_error(client, "policy_sync_block_destination", {
            "name": "a name far too long for ZIA", "group": "Contractors", "destinations": ["a.example"]})
    assert nobody["error"]["kind"] == "not_found" and "'Nobody'" in nobody["error"]["message"]
    assert "zia_list_groups_lite" in nobody["error"]["message"]
    assert "zpa_get_all_scim_groups" in nobody["error"]["message"]
    assert no_app["error"]["kind"] == "not_found" and "'Payroll'" in no_app["error"]["message"]
    assert malformed["error"]["kind"] == "invalid_arguments"
    assert "2 invalid destination" in malformed["error"]["message"]
    assert too_long["error"]["kind"] == "invalid_arguments"
    assert _writes(upstream) == []


# -- drift -----------------------------------------------------------------------------------------
async def test_drift_names_a_disabled_zpa_side_and_a_same_group_pair_with_different_actions(upstream):
    async with serve(upstream, profile="read-write") as client:
        baseline = await call(client, "policy_sync_check_drift", {})
        await call(client, "policy_sync_block_destination", {
            "name": "eng wiki", "group": "Contractors", "destinations": ["wiki.example.test"], "dry_run": False})
        rule = _named(store_items(upstream, "zpa", ZPA_RULES, POLICY_SET), INTENT)
        await _invoke(client, "zpa_update_rule_to_policy_set", {
            "policySetId": POLICY_SET, "ruleId": rule["id"], "body": {**rule, "disabled": 1}})
        category = await _invoke(client, "zia_create_custom_url_category", {"body": {
            "configuredName": "Finance Web", "superCategory": "USER_DEFINED", "customCategory": True,
            "urls": ["sap.fin.example.test"]}})
        await _invoke(client, "zia_create_url_filtering_rule", {"body": {
            "name": "Block SAP web", "order": 6, "rank": 7, "action": "BLOCK", "state": "ENABLED",
            "urlCategories": [category["result"]["id"]], "groups": [{"id": 82001, "name": "Finance Approvers"}]}})
        mark = len(upstream.mock.journal)
        result = await client.call_tool("policy_sync_check_drift", {})
    assert not result.is_error
    assert baseline["drift_count"] == 0 and baseline["intents_checked"] == 0
    report = result.structured_content
    issues = {(r["scope"], r["issue"]) for r in report["rows"] if r["status"] == "drift"}
    assert issues == {("intent 'eng wiki'", "disabled in ZPA"), ("group 'Finance Approvers'", "different action")}
    pair = next(r for r in report["rows"] if r["issue"] == "different action")
    assert pair["zpa_rule"] == "'Allow Finance to SAP'" and "ZIA BLOCK vs ZPA ALLOW" in pair["detail"]
    assert report["drift_count"] == 2
    assert report["csv"]["drift"].splitlines()[0] == "status,scope,zia_rule,zpa_rule,issue,detail"
    assert "# ZIA / ZPA policy drift" in result.content[0].text and "| drift |" in result.content[0].text
    assert any(getattr(c, "resource", None) is not None and c.resource.mime_type == "text/csv" for c in result.content)
    assert _writes(upstream, mark) == []


async def test_drift_reports_a_zpa_rule_that_a_zia_intent_lost_and_a_failed_read(upstream):
    async with serve(upstream, profile="read-write") as client:
        await call(client, "policy_sync_block_destination", {
            "name": "eng wiki", "group": "Contractors", "destinations": ["wiki.example.test"], "dry_run": False})
        rule = _named(store_items(upstream, "zpa", ZPA_RULES, POLICY_SET), INTENT)  # deleted in the portal:
        upstream.mock.state.collections[("zpa", ZPA_RULES, (POLICY_SET,))].remove(rule["id"])
    async with serve(upstream, profile="read-only") as client:  # a report: a read-only server offers it
        missing = await call(client, "policy_sync_check_drift", {})
        upstream.mock.fail("GET", "/zpa/*/policySet/rules/policyType/*", 503, times=0)
        failed = await call_error(client, "policy_sync_check_drift", {})
    row = next(r for r in missing["rows"] if r["status"] == "drift")
    assert row["issue"] == "missing in ZPA" and "Intranet Portal" in row["detail"]
    assert "zpa_get_policy_rules_by_page" in failed["error"]["message"]


# -- DLP by department -----------------------------------------------------------------------------
DLP = {"name": "Finance PII", "departments": ["Finance", "Human Resources"], "phrases": ["salary", "IBAN"],
       "min_matches": 2}


async def test_enforcing_dlp_creates_dictionary_engine_and_rule_once_for_exactly_those_departments(upstream):
    async with serve(upstream, profile="read-write") as client:
        planned = await call(client, "policy_sync_enforce_dlp", DLP)
        assert _writes(upstream) == []
        assert [s["operation"] for s in planned["steps"]] == [
            "zia_create_dlp_dictionary", "zia_create_dlp_engine", "zia_create_web_dlp_rule"]
        assert planned["steps"][1]["body"]["engineExpression"] == "<dictionary id in ((D<id>.S > 1)) of step 1>"
        applied = await call(client, "policy_sync_enforce_dlp", {**DLP, "dry_run": False})
        mark = len(upstream.mock.journal)
        again = await call(client, "policy_sync_enforce_dlp", {**DLP, "dry_run": False})
        wider = await call(client, "policy_sync_enforce_dlp", {**DLP, "departments": [*DLP["departments"], "Sales"]})
    assert applied["outcome"] == "applied" and applied["activation"]["activated"] == ["zia"]
    dictionary = _named(store_items(upstream, "zia", f"{ZIA}/dlpDictionaries"), "Finance PII")
    assert [p["phrase"] for p in dictionary["phrases"]] == ["salary", "IBAN"]
    engine = _named(store_items(upstream, "zia", f"{ZIA}/dlpEngines"), "Finance PII")
    assert engine["engineExpression"] == f"((D{dictionary['id']}.S > 1))"
    rule = _named(store_items(upstream, "zia", f"{ZIA}/webDlpRules"), "Finance PII")
    assert rule["action"] == "BLOCK" and rule["state"] == "ENABLED"
    assert sorted(d["id"] for d in rule["departments"]) == [FINANCE, HR]
    assert [e["id"] for e in rule["dlpEngines"]] == [engine["id"]]
    assert again["outcome"] == "nothing_to_do" and len(again["unchanged"]) == 3
    assert _writes(upstream, mark) == []
    assert [s["operation"] for s in wider["steps"]] == ["zia_update_web_dlp_rule"]
    assert len(wider["steps"][0]["body"]["departments"]) == 3


async def test_a_failed_dlp_rule_undoes_the_dictionary_and_engine(upstream):
    upstream.mock.fail("POST", f"{ZIA}/webDlpRules", 500)
    async with serve(upstream, profile="admin") as client:
        result = await call_error(client, "policy_sync_enforce_dlp", {**DLP, "dry_run": False})
    assert result["outcome"] == "rolled_back"
    assert step_statuses(result) == [("zia_create_dlp_dictionary", "undone"), ("zia_create_dlp_engine", "undone"),
                                     ("zia_create_web_dlp_rule", "failed")]
    assert _named(store_items(upstream, "zia", f"{ZIA}/dlpDictionaries"), "Finance PII") is None
    assert _named(store_items(upstream, "zia", f"{ZIA}/dlpEngines"), "Finance PII") is None
    assert "not activated" in result["activation"]["note"] or result["activation"]["activated"] == []


async def test_an_unknown_department_or_dictionary_is_named_and_nothing_is_written(upstream):
    async with serve(upstream, profile="read-write") as client:
        legal = await call_error(client, "policy_sync_enforce_dlp", {**DLP, "departments": ["Finance", "Legal"],
                                                                     "dry_run": False})
        no_dictionary = await call_error(client, "policy_sync_enforce_dlp", {
            "name": "x", "departments": ["Finance"], "dictionary": "Nope", "dry_run": False})
        predefined = await call_error(client, "policy_sync_enforce_dlp", {
            "name": "x", "departments": ["Finance"], "dictionary": "Credit Cards", "phrases": ["visa"]})
    assert legal["error"]["kind"] == "not_found" and "'Legal'" in legal["error"]["message"]
    assert "zia_list_departments" in legal["error"]["message"] and legal["error"]["departments"] == ["Legal"]
    assert no_dictionary["error"]["kind"] == "not_found" and "'Nope'" in no_dictionary["error"]["message"]
    assert "predefined" in predefined["error"]["message"]
    assert _writes(upstream) == []
