"""Issue 13: no silent loss. A body field the spec does not know is sent as given and named in the
result; an unknown tool argument is refused, naming it, before any request."""

from __future__ import annotations

import pytest
from _composites import MockServer, call, call_error, serve, serve_stdio, store_items, writes

from oneapi_mcp._passthrough import passed_through

pytestmark = pytest.mark.anyio
NSS_FEEDS = "/zia/api/v1/nssFeeds"


def test_undeclared_fields_are_named_relative_to_the_body_at_any_depth(catalog):
    model = catalog.input_model("zpa_v2_add_rule_to_policy_set").model_validate({
        "customerId": "1", "policySetId": "2",
        "body": {"name": "r", "action": "ALLOW", "shinyNewFlag": True,
                 "conditions": [{"operator": "OR", "operands": [{"objectType": "APP", "values": ["1"],
                                                                  "futureKnob": 1}]}]}})
    assert passed_through(model) == ["shinyNewFlag", "conditions[].operands[].futureKnob"]


def test_a_body_with_only_declared_fields_passes_nothing_through(catalog):
    model = catalog.input_model("zia_create_department").model_validate({"body": {"name": "Finance"}})
    assert passed_through(model) == []


def test_a_reference_carries_the_referenced_objects_fields_without_a_note(catalog):
    # {id, name} references pass the other fields of the referenced object through by design
    model = catalog.input_model("zia_create_user").model_validate({
        "body": {"name": "A", "email": "a@example.com", "department": {"id": 1, "comments": "declared on Department"}}})
    body = model.model_dump(by_alias=True, exclude_unset=True)["body"]
    assert body["department"] == {"id": 1, "comments": "declared on Department"}
    assert passed_through(model) == []


@pytest.fixture(scope="module")
def upstream():
    with MockServer() as server:
        yield server


async def test_an_nss_feed_created_with_undeclared_fields_reaches_the_mock_with_them_and_says_so(upstream):
    # SDK integration tests create NSS feeds with feedType and enabled, which the SDK's model lacks
    upstream.mock.reset()
    async with serve_stdio(upstream) as client:  # the real stdio path: undeclared fields survive the wire
        out = await call(client, "invoke_operation", {"name": "zia_create_nss_feed", "arguments": {
            "body": {"name": "x", "feedType": "WEB", "enabled": True}}})
    assert "not in the spec, sent as given: feedType, enabled" in out["notes"]
    assert writes(upstream) == [f"POST {NSS_FEEDS}"]
    created = [f for f in store_items(upstream, "zia", NSS_FEEDS) if f.get("name") == "x"]
    assert len(created) == 1 and created[0]["feedType"] == "WEB" and created[0]["enabled"] is True


async def test_an_unknown_tool_argument_is_refused_by_name_and_nothing_is_sent(upstream):
    upstream.mock.reset()
    async with serve(upstream) as client:
        out = await call_error(client, "invoke_operation", {"name": "zia_create_nss_feed", "arguments": {
            "body": {"name": "x"}, "feedType": "WEB"}})
    assert "feedType" in out["error"]["message"] and "unknown argument" in out["error"]["message"]
    assert writes(upstream) == []
