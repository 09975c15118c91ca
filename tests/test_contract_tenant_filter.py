"""`make contract` against a real tenant sends only read-scoped GETs: the filter is on the document."""

from __future__ import annotations

import copy
import json
from importlib import resources

import httpx
import pytest
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp._contract import SERVICES, read_only_document


@pytest.mark.parametrize("service", SERVICES)
def test_the_tenant_contract_document_holds_only_read_scoped_gets(service):
    doc = json.loads(resources.files(f"oneapi_mcp.generated.{service}").joinpath("openapi.json").read_text())
    filtered = read_only_document(doc, customer_id="216196257331200000")
    operations = [(m, op) for item in filtered["paths"].values() for m, op in item.items()]
    if SERVICE_TABLE[service].kind == "graphql":  # every query is a POST: sent as GraphQL instead (below)
        assert operations == []
        return
    assert operations
    assert all(m == "get" and op["x-oneapi-scope"] == "read" for m, op in operations)
    writes = [op for item in doc["paths"].values() for m, op in item.items() if op["x-oneapi-scope"] != "read"]
    kept = {op["operationId"] for _, op in operations}
    assert not kept & {op["operationId"] for op in writes}  # EASM has no write at all
    assert not any("{customerId}" in p for p in filtered["paths"])


def test_read_scoped_posts_such_as_exports_are_left_out_too():
    doc = json.loads(resources.files("oneapi_mcp.generated.zia").joinpath("openapi.json").read_text())
    kept = {op["operationId"] for item in read_only_document(doc)["paths"].values() for op in item.values()}
    assert "ExportPolicies" not in kept and "LookupUrlClassification" not in kept
    assert "ListUsers" in kept


# --- the GraphQL services: their queries, never a mutation (oneapi_mcp/_contract_graphql.py) ---------------

def _graphql_doc(service: str) -> dict:
    return json.loads(resources.files(f"oneapi_mcp.generated.{service}").joinpath("openapi.json").read_text())


def _mock_client():
    from starlette.testclient import TestClient

    from oneapi_mcp.mock import create_mock_app

    mock = create_mock_app(seed=0)
    return TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})


@pytest.mark.parametrize("service", ["zins", "zms"])
def test_every_graphql_query_is_sent_and_answers_as_declared_on_the_mock(service):
    from oneapi_mcp._contract_graphql import check_graphql_service, query_operations

    doc = _graphql_doc(service)
    found = check_graphql_service(service, doc, _mock_client(), f"http://testserver/{service}/graphql",
                                  {"zms_customer_id": "72058304855015424"})
    assert found.drift == {}
    assert len(found.checked) + len(found.skipped) == len(query_operations(doc)) == SERVICE_TABLE[service].operations
    assert all(why.startswith("needs ") and "id" in why for why in found.skipped.values())
    assert "CyberSecurityIncidents" in found.checked or "ListAgents" in found.checked


def test_a_mutation_is_never_sent_whatever_the_spec_says_about_its_scope():
    from oneapi_mcp._contract_graphql import check_graphql_service

    doc = copy.deepcopy(_graphql_doc("zms"))
    post = doc["paths"]["/zms/graphql"]["post"]
    sneaky = post["x-oneapi-variants"][0]  # a read-scoped "query" whose document is a mutation
    sneaky["x-oneapi-graphql"]["document"] = "mutation DeleteEverything($customerId: ID!) { x(id: $customerId) }"
    labelled = post["x-oneapi-variants"][1]  # a true query labelled a mutation
    labelled["x-oneapi-graphql"]["operation"] = "mutation"
    sent: list[dict] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"data": None})

    client = httpx.Client(transport=httpx.MockTransport(answer))
    check_graphql_service("zms", doc, client, "http://x/zms/graphql", {"zms_customer_id": "1"})
    names = {b["operationName"] for b in sent}
    assert sent and not any(b["query"].lstrip().startswith("mutation") for b in sent)
    assert not names & {sneaky["x-oneapi-graphql"]["name"], labelled["x-oneapi-graphql"]["name"]}


def test_an_undeclared_answer_field_or_a_non_graphql_answer_is_drift_and_zms_needs_its_customer_id():
    from oneapi_mcp._contract_graphql import check_graphql_service

    def answer(request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content)["operationName"]
        if name == "ShadowITSummary":
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(200, json={"data": {"CYBER_SECURITY": {"incidents": {"entries": [], "newField": 1}}}})

    found = check_graphql_service("zins", _graphql_doc("zins"), httpx.Client(transport=httpx.MockTransport(answer)),
                                  "http://x/zins/graphql", {})
    assert "CYBER_SECURITY.incidents.newField" in found.drift["CyberSecurityIncidents"]
    assert found.drift["ShadowITSummary"].startswith("HTTP 502")
    zms = check_graphql_service("zms", _graphql_doc("zms"), httpx.Client(transport=httpx.MockTransport(answer)),
                                "http://x/zms/graphql", {})
    assert zms.checked == [] and zms.drift == {}
    assert all("ZMS_CUSTOMER_ID is not set" in why for why in zms.skipped.values())
