"""The mock is built from the vendored specs, and says where it serves something else than they do."""

from __future__ import annotations

import copy
import json
from collections import Counter

from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE

from oneapi_mcp.mock import contract_document, create_mock_app
from oneapi_mcp.mock._contract import _zpa_numbers
from oneapi_mcp.mock._spec import SERVICES, load_document


def test_there_is_one_route_per_spec_path_plus_the_token_endpoint_and_a_fallback():
    mock = create_mock_app(seed=0)
    paths = [path for service in SERVICES for path in load_document(service)["paths"]]
    routes = [route.path for route in mock.app.routes]
    assert len(routes) == len(paths) + 2
    assert set(routes) == {*paths, "/oauth2/v1/token", "/{rest:path}"}
    # one mock operation per endpoint: every REST operation of the services table (the wheel's 1,295: 1,291 of
    # the models, 4 kept on recorded evidence; and 173 converted from the SDK's source, specs/SOURCES.md)
    # less the 19 ZDX ones that share an endpoint with another (x-oneapi-variants; the wire request is the
    # same), plus one GraphQL endpoint each for Z-Insights and ZMS (their 34 operations are told apart by
    # operationName)
    assert len(mock.operations) == sum(row.operations for row in SERVICE_TABLE.values()) - 19 - 34 + 2 == (
        1295 + 173 - 19 + 2)


def test_literal_paths_are_tried_before_parameters_that_would_swallow_them():
    routes = [route.path for route in create_mock_app(seed=0).app.routes]
    assert routes.index("/zia/api/v1/users/bulkDelete") < routes.index("/zia/api/v1/users/{id}")
    assert routes.index("/ziam/admin/api/v1/users/{id}:resetpassword") < routes.index("/ziam/admin/api/v1/users/{id}")


def test_every_operation_is_planned_and_crud_resources_are_stateful():
    kinds = Counter(op.kind for op in create_mock_app(seed=0).operations)
    assert kinds["create"] >= 100 and kinds["get_item"] >= 100 and kinds["delete_item"] >= 100
    assert kinds["list"] >= 300 and kinds["activate"] == 3 and kinds["activation_status"] == 2


def test_zidentity_lists_are_pages_of_the_listed_type_and_the_correction_leaves_them_alone():
    # the overlay makes the spec say what the tenant answers (tests/recorded/zid.jsonl TestUsers#4), so the
    # mock's own correction (idempotent by design) is a no-op
    for path, item in (("/ziam/admin/api/v1/users", "UserProfile"), ("/ziam/admin/api/v1/api-clients", "ApiClient")):
        raw = load_document("zid")["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        fixed = contract_document("zid")["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert raw["properties"]["records"]["items"]["$ref"].endswith(f"/{item}")
        assert fixed["schema"] == raw


def test_contract_corrections_leave_the_vendored_documents_untouched_and_apply_once():
    before = json.dumps(load_document("zpa"), sort_keys=True)
    widened = contract_document("zpa")
    assert json.dumps(load_document("zpa"), sort_keys=True) == before
    schemas = widened["components"]["schemas"]
    assert "anyOf" in schemas["ApplicationBase"]["properties"]["id"]
    assert "anyOf" in schemas["PageListApplicationResource"]["properties"]["totalPages"]
    assert _zpa_numbers(copy.deepcopy(schemas)) == schemas
    assert contract_document("zdx")["components"]["schemas"]["AlertsResponse"]["properties"]["next_offset"]["nullable"]


def test_an_endpoint_two_operations_share_accepts_what_either_sends():
    from starlette.testclient import TestClient

    mock = create_mock_app(seed=0)
    http = TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})
    by_name = http.get("/zdx/v1/config/applications/zoom")  # GetPredefinedApplication: a name
    assert by_name.status_code == 404 and "zoom was not found" in by_name.json()["message"]
    by_id = http.get("/zdx/v1/config/applications/12")  # GetConfigApplication: an id
    assert by_id.status_code == 404 and "12 was not found" in by_id.json()["message"]
    bad = http.get("/zia/api/v1/users/zoom")  # not shared: still an integer only
    assert bad.status_code == 400 and "must be an integer" in bad.json()["message"]
