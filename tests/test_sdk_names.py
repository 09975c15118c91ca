"""`make sdk-names` (codegen/_sdk_names.py): the names Zscaler's SDK gives each operation, and search's use of them.

The SDK is not in the repository: the reader runs on a small imitation of its patterns (tests/fixtures/sdk_names/),
whose expected output is checked in beside it; the shipped specs/sdk_names.json is held to today's operations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oneapi_mcp.codegen._sdk_names import dumps, main, match_calls, sdk_names
from oneapi_mcp.codegen._sdk_source import SdkCall, read_api_calls

from oneapi_mcp._catalog import load_catalog
from oneapi_mcp._search_eval import operation_key

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "sdk_names"
ZPA = "/zpa/mgmtconfig/v1/admin/customers/{customerId}"


def test_the_reader_is_in_step_with_the_checked_in_names_of_the_fixture_sdk():
    doc, _ = sdk_names(FIXTURE / "zscaler", FIXTURE / "specs")
    assert dumps(doc) == (FIXTURE / "sdk_names.json").read_text(), (
        "codegen/_sdk_names.py no longer writes tests/fixtures/sdk_names/sdk_names.json: if the change is meant, "
        "rewrite it with sdk_names() and dumps(), and run `make sdk-names` for specs/sdk_names.json")


def test_each_sdk_method_is_matched_to_the_operation_with_its_method_and_path_template():
    doc, matches = sdk_names(FIXTURE / "zscaler", FIXTURE / "specs")
    zpa = doc["services"]["zpa"]
    # {customer_id} of a base path formatted in __init__ is {customerId}; a query string and a trailing slash go
    assert zpa[f"GET {ZPA}/appConnectorGroup"]["functions"] == ["list_connector_groups"]
    assert zpa[f"GET {ZPA}/appConnectorGroup/{{id}}"]["functions"] == ["get_connector_group"]
    assert zpa[f"POST {ZPA}/appConnectorGroup"]["functions"] == ["add_connector_group"]
    # create_request("POST", self._tag_group_endpoint): the method and path handed to it
    assert zpa[f"POST {ZPA}/tagGroup"]["functions"] == ["create_tag_group"]
    assert zpa[f"DELETE {ZPA}/tagGroup/{{tagGroupId}}"]["summary"] == "Deletes a tag group."
    # a GraphQL call is matched by the operation it sends, not by its one path
    assert list(doc["services"]["zins"]) == ["POST /zins/graphql WebTrafficByLocation"]
    # an operation the SDK does not call gets no names; a call no operation answers is counted, not guessed
    assert f"GET {ZPA}/server" not in zpa
    assert [c.function for c in matches["zpa"].unmatched] == ["list_connector_group_stats"]
    assert doc["unmatched_sdk_calls"] == {"zins": 0, "zpa": 1}


def test_a_resource_client_is_named_by_its_accessor_and_the_title_its_documentation_gives():
    doc, _ = sdk_names(FIXTURE / "zscaler", FIXTURE / "specs")
    assert doc["resources"]["zpa/app_connector_groups.py"] == {
        "accessor": "app_connector_groups", "class": "AppConnectorGroupAPI", "title": "App Connector Groups"}
    assert doc["resources"]["zpa/tag_group.py"]["title"] == "Tag Group"  # a docstring over two lines


def test_legacy_clients_and_private_helpers_are_not_api_calls():
    calls, _ = read_api_calls(FIXTURE / "zscaler", "zpa")
    assert {c.file for c in calls} == {"zpa/app_connector_groups.py", "zpa/tag_group.py"}
    assert "_private_helper" not in {c.function for c in calls}


def _call(method: str, path: str) -> SdkCall:
    return SdkCall("aiguard", "aiguard/x.py", "XAPI", "execute_policy", method, path, "")


def test_a_path_the_sdk_writes_without_the_gateway_prefix_matches_the_one_operation_it_ends():
    # zscaler/aiguard/policy_detection.py formats "/v1/detection/..." where the others write "/aiguard/v1/..."
    operations = [("POST /aiguard/v1/detection/execute-policy", "POST", "/aiguard/v1/detection/execute-policy", None),
                  ("GET /aiguard/v1/detection/execute-policy", "GET", "/aiguard/v1/detection/execute-policy", None)]
    found = match_calls(operations, [_call("POST", "/v1/detection/execute-policy")])
    assert list(found.matched) == ["POST /aiguard/v1/detection/execute-policy"]
    # a one-segment tail says too little to match anything
    assert match_calls(operations, [_call("POST", "/execute-policy")]).unmatched


def test_make_sdk_names_refuses_a_directory_that_is_not_the_sdk(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--sdk", str(tmp_path), "--specs-dir", str(FIXTURE / "specs")])
    assert "is not the SDK's zscaler/ directory" in capsys.readouterr().err


def test_the_shipped_names_are_keyed_by_todays_operations_and_ship_in_the_package():
    source = ROOT / "specs" / "sdk_names.json"
    assert (ROOT / "generated" / "sdk_names.json").read_bytes() == source.read_bytes(), "run `make generate`"
    doc = json.loads(source.read_text())
    keys = {operation_key(t) for t in load_catalog().tools.values()}
    for service, names in doc["services"].items():
        assert not set(names) - keys, f"specs/sdk_names.json is stale for {service}: run `make sdk-names`"
        assert all(f in doc["resources"] for entry in names.values() for f in entry["files"])
    # every service the SDK covers is read (the GraphQL ones and the hand-implemented ones too)
    assert set(doc["services"]) == {p.stem for p in (ROOT / "specs").glob("*.yaml")}


def test_a_request_in_the_sdks_words_finds_the_operation_whose_path_and_name_use_others():
    from oneapi_mcp._search import SearchIndex
    from oneapi_mcp._search_eval import _Listed

    def tool(name, title, path):
        return _Listed(name, title, title, "read", "zia", toolset="zia.things", path=path, method="GET")

    tools = [tool("zia_list_frob_entries", "Lists frob entries", "/zia/api/v1/frobEntries"),
             tool("zia_list_quux_entries", "Lists quux entries", "/zia/api/v1/quuxEntries")]
    sdk = {"zia_list_quux_entries": ("list_widget_pools widget_pools Widget Pools WidgetPools",
                                     "Lists the widget pools of the organization.")}
    assert not SearchIndex(tools).search("show the widget pools")
    assert [t.name for _, t in SearchIndex(tools, sdk=sdk).search("show the widget pools")] == [
        "zia_list_quux_entries"]


def test_the_shipped_names_reach_search_by_operation_key():
    from oneapi_mcp._search_sdk import operation_sdk_names

    names = operation_sdk_names(load_catalog().tools.values())
    # ZPA's /appConnectorGroup is client.zpa.app_connector_groups.list_connector_groups() in the SDK
    assert "list_connector_groups" in names["zpa_list_assistant_groups"][0].split()
    assert "App Connector Groups" in names["zpa_list_assistant_groups"][0]
    assert names["zins_cyber_security_by_location"][0].startswith("get_incidents_by_location")


def test_a_title_copied_onto_another_resource_clients_docstring_stays_with_the_one_it_names():
    from oneapi_mcp.codegen._sdk_names import clear_copied_titles

    resources = {  # zscaler/zia/zia_service.py documents sub_clouds as the "ZIA Workload Groups interface"
        "zia/sub_clouds.py": {"accessor": "sub_clouds", "class": "SubCloudsAPI", "title": "Workload Groups"},
        "zia/workload_groups.py": {"accessor": "workload_groups", "class": "WorkloadGroupsAPI",
                                   "title": "Workload Groups"},
        "zia/cloudappcontrol.py": {"accessor": "cloudappcontrol", "class": "X", "title": "Cloud App Control"},
        "zpa/lss.py": {"accessor": "lss", "class": "LSSConfigControllerAPI", "title": "Log Streaming Service Config"},
    }
    cleared = clear_copied_titles(resources)
    assert cleared["zia/sub_clouds.py"]["title"] == ""
    assert cleared["zia/workload_groups.py"]["title"] == "Workload Groups"
    # a title claimed once stays, even when it shares no word with the accessor (an acronym, a compound)
    assert cleared["zia/cloudappcontrol.py"]["title"] == "Cloud App Control"
    assert cleared["zpa/lss.py"]["title"] == "Log Streaming Service Config"
