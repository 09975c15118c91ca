"""`make contract` against a real tenant sends only read-scoped GETs: the filter is on the document."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp._contract import SERVICES, read_only_document


@pytest.mark.parametrize("service", SERVICES)
def test_the_tenant_contract_document_holds_only_read_scoped_gets(service):
    doc = json.loads(resources.files(f"oneapi_mcp.generated.{service}").joinpath("openapi.json").read_text())
    filtered = read_only_document(doc, customer_id="216196257331200000")
    operations = [(m, op) for item in filtered["paths"].values() for m, op in item.items()]
    if SERVICE_TABLE[service].kind == "graphql":  # every query is a POST: the tenant contract sends GETs only
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
