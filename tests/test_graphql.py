"""Z-Insights and ZMS GraphQL operations: generated tools, the request they send, how answers and
GraphQL errors come back, and the mock's GraphQL endpoints held to the recorded traffic."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import httpx
import pytest

from oneapi_mcp import load_catalog
from oneapi_mcp._executor import Executor
from oneapi_mcp._recorded import load_interactions
from oneapi_mcp.mock import create_mock_app
from oneapi_mcp.mock._graphql import incident_events
from oneapi_mcp.mock._seed import NOW, build_seed

pytestmark = pytest.mark.anyio
RECORDED = Path(__file__).parent / "recorded"
CATALOG = load_catalog()
WEEK_MS = (NOW * 1000 - 7 * 86_400_000, NOW * 1000)


@cache
def _mock():
    """One mock for the module: GraphQL operations only read, so no test changes what another sees."""
    return create_mock_app()


def _recorded(service: str) -> list:
    return [r for r in load_interactions(RECORDED, (service,)) if r.path.endswith("/graphql")]


def _tool_for(name: str):
    return next(t for t in CATALOG.tools.values() if t.graphql and t.graphql["name"] == name)


def _executor(handler) -> tuple[Executor, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    return Executor(CATALOG, httpx.AsyncClient(transport=httpx.MockTransport(record)), base_url="http://x"), sent


def _mock_executor(mock) -> Executor:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(mock), headers={"Authorization": f"Bearer {mock.token()}"})
    return Executor(CATALOG, http, base_url="http://mock")


def test_every_sdk_document_is_a_generated_read_tool_with_its_own_input_model():
    tools = [t for t in CATALOG.tools.values() if t.service in ("zins", "zms")]
    assert len([t for t in tools if t.service == "zins"]) == 14 and len([t for t in tools if t.service == "zms"]) == 20
    for tool in tools:
        assert tool.graphql and tool.method == "POST" and tool.path == f"/{tool.service}/graphql"
        assert tool.scope == "read" and tool.graphql["operation"] == "query"  # the SDK sends no mutation
        assert tool.toolset.startswith(f"{tool.service}.")
        assert all(location == "variable" for _f, _w, location, _r, _e in tool.params)
        assert CATALOG.input_model(tool.name).__name__ == tool.input_model.split(":")[1]
    incidents = CATALOG.input_schema("zins_cyber_security_incidents")
    assert incidents["required"] == ["categorizeBy", "endTime", "startTime"]
    assert "THREAT_CATEGORY_ID" in incidents["properties"]["categorizeBy"]["items"]["enum"]


@pytest.mark.parametrize("rec", _recorded("zins") + _recorded("zms"), ids=lambda r: r.where)
async def test_the_request_is_the_one_the_sdk_sent_in_the_recording(rec):
    """Same document, operation name and (non-null) variables as recorded; the answer unwrapped to the result."""
    tool = _tool_for(rec.body["operationName"])
    executor, sent = _executor(lambda request: httpx.Response(200, json=rec.answer))
    declared = {wire: field for field, wire, *_ in tool.params}
    arguments = {declared[k]: v for k, v in rec.body["variables"].items() if v is not None and k in declared}
    result = await executor.call(tool, arguments)
    body = json.loads(sent[0].content)
    assert (sent[0].method, sent[0].url.path) == ("POST", rec.path)
    assert body["query"].split() == rec.body["query"].split()
    assert body["operationName"] == rec.body["operationName"]
    assert body["variables"] == {k: v for k, v in rec.body["variables"].items() if v is not None and k in declared}
    if "errors" in rec.answer:  # FORBIDDEN (TestIoT) reads as a 403; "Something went wrong" has no status
        forbidden = any((e.get("extensions") or {}).get("code") == "FORBIDDEN" for e in rec.answer["errors"])
        # the entitlement probe, answered the same FORBIDDEN here, finds the service not entitled
        assert result.is_error and result.data["error"]["kind"] == ("not_entitled" if forbidden else "upstream_error")
    else:
        data = rec.answer["data"]
        for key in tool.graphql["result"]:
            data = data[key]
        assert not result.is_error and result.data == data


async def test_a_graphql_error_is_an_error_result_that_keeps_the_messages_and_the_partial_data():
    rec = next(r for r in _recorded("zins") if r.cassette == "TestIoT")  # 200 with errors: FORBIDDEN
    executor, _ = _executor(lambda request: httpx.Response(200, json=rec.answer))
    executor.entitlements.record("zins", True, "the probe answered")  # as on the recorded tenant
    result = await executor.call(CATALOG.tools["zins_iot_device_stats"], {"limit": 10})
    error = result.data["error"]
    assert result.is_error and error["codes"] == ["FORBIDDEN"]
    assert "Data fetching Failed: Forbidden to use API (at IOT.device_stats)" in error["message"]
    assert error["errors"] == rec.answer["errors"] and "partial_data" not in error  # device_stats is null
    partial = {"errors": [{"message": "Something went wrong", "path": ["SHADOW_IT", "apps", "entries"]}],
               "data": {"SHADOW_IT": {"apps": {"obfuscated": False, "entries": None}}}}
    executor, _ = _executor(lambda request: httpx.Response(200, json=partial))
    result = await executor.call(CATALOG.tools["zins_shadow_it_apps"], {"startTime": 1, "endTime": 2})
    assert result.data["error"]["partial_data"] == partial["data"]


async def test_a_graphql_forbidden_answered_200_is_the_error_a_rest_403_gives():
    """zins/cassettes/TestIoT.yaml: HTTP 200, `extensions: {code: FORBIDDEN, http_status: 403}`; the same tool
    refused by the gateway with HTTP 403 must read the same (kind, status, code, what to do)."""
    rec = next(r for r in _recorded("zins") if r.cassette == "TestIoT")
    tool = CATALOG.tools["zins_iot_device_stats"]

    async def answer(response: httpx.Response, arguments: dict | None = None) -> dict:
        """What the sending layer makes of one answer (before the entitlement probe explains a 403)."""
        executor, _ = _executor(lambda request: response)
        model, _control = executor.prepare(tool, arguments or {})
        return (await executor._send(tool, executor.build_request(tool, model))).data["error"]

    graphql = await answer(httpx.Response(200, json=rec.answer), {"limit": 10})
    rest = await answer(httpx.Response(403, json={"code": "FORBIDDEN", "message": "Forbidden"}), {"limit": 10})
    keys = ("kind", "status", "code", "next_step")
    assert [graphql.get(k) for k in keys] == [rest.get(k) for k in keys] == [
        "upstream", 403, "FORBIDDEN", rest["next_step"]] and "entitled to ZINS" in rest["next_step"]
    # a code alone (no http_status) says it too; an error with no status stays a GraphQL error
    coded = {"errors": [{"message": "no", "extensions": {"code": "FORBIDDEN"}}], "data": None}
    assert (await answer(httpx.Response(200, json=coded)))["status"] == 403
    mixed = {"errors": [*rec.answer["errors"], {"message": "Something went wrong"}], "data": None}
    assert (await answer(httpx.Response(200, json=mixed)))["status"] == 403  # the one status said
    unknown = {"errors": [{"message": "Something went wrong", "extensions": {"classification": "INTERNAL_ERROR"}}]}
    error = await answer(httpx.Response(200, json=unknown))
    assert error["kind"] == "upstream_error" and "status" not in error


@pytest.mark.parametrize("arguments, field", [
    ({"startTime": "yesterday", "endTime": 2, "categorizeBy": ["TIME"]}, "startTime"),
    ({"startTime": 1, "endTime": 2, "categorizeBy": ["NOT_A_DIMENSION"]}, "categorizeBy.0"),
    ({"startTime": 1, "categorizeBy": ["TIME"]}, "endTime"),
    ({"startTime": 1, "endTime": 2, "categorizeBy": ["TIME"], "filter_by": {}}, "filter_by"),
])
async def test_invalid_variables_never_reach_upstream(arguments, field):
    executor, sent = _executor(lambda request: httpx.Response(200, json={"data": {}}))
    result = await executor.call(CATALOG.tools["zins_cyber_security_incidents"], arguments)
    assert result.is_error and result.data["error"]["kind"] == "invalid_arguments" and sent == []
    assert field in [p["field"] for p in result.data["error"]["problems"]]


@pytest.mark.parametrize("rec", _recorded("zins") + _recorded("zms"), ids=lambda r: r.where)
async def test_the_mock_answers_every_recorded_request_in_the_recorded_shape(rec):
    mock = _mock()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock",
                                 headers={"Authorization": f"Bearer {mock.token()}"}) as http:
        answer = (await http.post(rec.path, json=rec.body)).json()
    assert answer.keys() == {"data"}, answer
    if "data" in rec.answer and rec.answer["data"]:
        assert answer["data"].keys() == rec.answer["data"].keys()
        recorded, mocked = rec.answer["data"], answer["data"]
        while isinstance(recorded, dict) and len(recorded) == 1:
            key = next(iter(recorded))
            recorded, mocked = recorded[key], mocked[key]
        if isinstance(recorded, dict) and isinstance(mocked, dict):
            assert set(recorded) <= set(mocked)


@pytest.mark.parametrize("body, says", [
    ({"query": "query Nope { x }", "operationName": "Nope"}, "no operation 'Nope'"),
    ({"query": "query ListAgents($customerId: ID!) { agents(customerId: $customerId) { nodes { id } } }",
      "operationName": "ListAgents", "variables": {"customerId": "1"}}, "document differs"),
    ({"query": "{ agents { nodes { id } } }"}, "Invalid Syntax"),
    ({"query": "query ListAgents { x }", "operationName": "ListAgentGroups"}, "Unknown operation named"),
])
async def test_the_mock_answers_a_bad_request_with_graphql_errors(body, says):
    mock = _mock()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock",
                                 headers={"Authorization": f"Bearer {mock.token()}"}) as http:
        response = await http.post("/zms/graphql", json=body)
    assert response.status_code == 200 and response.json()["data"] is None
    assert says in response.json()["errors"][0]["message"]


async def test_the_mock_checks_variables_against_the_operation_as_graphql_would():
    mock = _mock()
    tool = CATALOG.tools["zins_cyber_security_incidents"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock",
                                 headers={"Authorization": f"Bearer {mock.token()}"}) as http:
        async def ask(variables):
            body = {"query": tool.graphql["document"], "operationName": "CyberSecurityIncidents",
                    "variables": variables}
            return (await http.post("/zins/graphql", json=body)).json()

        missing = await ask({"startTime": 1, "categorizeBy": ["TIME"]})
        wrong = await ask({"startTime": 1, "endTime": "soon", "categorizeBy": ["TIME"]})
        fine = await ask({"startTime": 1, "endTime": 2, "categorizeBy": ["TIME"], "undeclared": None})
    assert "Variable 'endTime'" in missing["errors"][0]["message"]
    assert "Variable 'endTime' has an invalid value" in wrong["errors"][0]["message"]
    assert wrong["errors"][0]["extensions"]["classification"] == "ValidationError"
    assert fine == {"data": {"CYBER_SECURITY": {"incidents": {"obfuscated": False, "entries": []}}}}


async def test_mock_incidents_agree_across_groupings_and_follow_the_seeded_events():
    executor = _mock_executor(_mock())
    tool = CATALOG.tools["zins_cyber_security_incidents"]
    window = {"startTime": WEEK_MS[0], "endTime": WEEK_MS[1], "limit": 500}
    by_category = await executor.call(tool, {**window, "categorizeBy": ["THREAT_CATEGORY_ID"]})
    by_day_user = await executor.call(tool, {**window, "categorizeBy": ["TIME", "USER_ID"]})
    events = incident_events(build_seed(0).people, 0, *WEEK_MS)
    totals = [e["total"] for e in by_category.data["entries"]]
    assert sum(totals) == len(events) == sum(e["total"] for e in by_day_user.data["entries"]) > 0
    assert totals == sorted(totals, reverse=True)
    for day in by_day_user.data["entries"]:
        assert day["total"] == sum(u["total"] for u in day["entries"])
        assert WEEK_MS[0] - 86_400_000 < int(day["name"]) <= WEEK_MS[1]


def _minimal_variables(schema: dict) -> dict:
    """A value for every required variable: times in the seeded week, the first enum value, an id."""
    out = {}
    for name in schema.get("required") or ():
        prop = schema["properties"][name]
        if prop.get("type") == "integer":
            out[name] = WEEK_MS[0] if name == "startTime" else WEEK_MS[1]
        elif prop.get("type") == "array":
            out[name] = [prop["items"]["enum"][0]]
        else:
            out[name] = prop["enum"][0] if "enum" in prop else "72058304855015424"
    return out


@pytest.mark.parametrize("name", sorted(t.name for t in CATALOG.tools.values() if t.graphql))
async def test_every_operation_answers_on_the_mock_with_exactly_the_fields_it_selects(name):
    """Contract per named operation: the tool's call through the executor and the mock, the raw answer held
    to the operation's selection set at every depth (as `make fidelity` holds the recordings)."""
    from oneapi_mcp._fidelity import Router, _graphql_extra
    from oneapi_mcp.mock._spec import load_document

    tool = CATALOG.tools[name]
    doc = load_document(tool.service)
    post = doc["paths"][tool.path]["post"]
    spec = next(o for o in (post, *post["x-oneapi-variants"]) if o["operationId"] == tool.operation_id)
    variables = _minimal_variables(spec["x-oneapi-graphql"]["variables"])
    mock = _mock()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://mock",
                                 headers={"Authorization": f"Bearer {mock.token()}"}) as http:
        body = {"query": tool.graphql["document"], "variables": variables, "operationName": tool.graphql["name"]}
        answer = (await http.post(tool.path, json=body)).json()
    assert answer.keys() == {"data"}, answer
    schema = spec["responses"]["200"]["content"]["application/json"]["schema"]
    assert _graphql_extra(Router(doc), schema, answer) == set()
    result = await _mock_executor(_mock()).call(tool, {f: variables[w] for f, w, *_ in tool.params
                                                                 if w in variables})
    assert not result.is_error and result.data is not None


# --- paging: ZMS connections {nodes, pageInfo} --------------------------------------------------------------

def test_every_query_taking_a_page_number_and_size_and_answering_a_connection_pages():
    paged = {t.graphql["name"]: t.pagination for t in CATALOG.tools.values() if t.graphql and t.pagination}
    assert {t.service for t in CATALOG.tools.values() if t.graphql and t.pagination} == {"zms"}
    assert len(paged) == 15  # the five others answer no connection (stats, secrets, one nonce, metadata)
    assert paged["ListAgents"]["page_param"] == "page" and paged["ListAppZones"]["page_param"] == "pageNum"
    assert {p["result_key"] for p in paged.values()} == {"nodes"}
    assert {p["total_pages_key"] for p in paged.values()} == {"pageInfo.totalPages"}


async def test_all_pages_sends_each_page_as_variables_and_reads_every_node_once():
    mock = _mock()
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    http = httpx.AsyncClient(transport=httpx.ASGITransport(mock), event_hooks={"request": [record]},
                             headers={"Authorization": f"Bearer {mock.token()}"})
    executor = Executor(CATALOG, http, base_url="http://mock", zms_customer_id="72058304855015424")
    total = (await executor.call(CATALOG.tools["zms_list_app_zones"], {})).data["pageInfo"]["totalCount"]
    size = -(-total // 3)  # two or three pages (seeded: 3 objects or more)
    sent.clear()
    result = await executor.call(CATALOG.tools["zms_list_app_zones"], {"pageSize": size, "all_pages": True})
    assert not result.is_error and result.data["count"] == total and result.data["more"] is False
    assert len({n["id"] for n in result.data["items"]}) == total
    bodies = [json.loads(r.content) for r in sent]
    assert [b["variables"]["pageNum"] for b in bodies] == list(range(1, -(-total // size) + 1)) and len(bodies) > 1
    assert all(b["variables"]["pageSize"] == size and b["variables"]["customerId"] == "72058304855015424"
               for b in bodies)
    assert all(not r.url.query for r in sent)  # the page is a variable, never a query string
    capped = await executor.call(CATALOG.tools["zms_list_app_zones"], {"pageSize": size, "max_items": size + 1})
    assert capped.data["count"] == size + 1 and capped.data["more"] is True


@pytest.mark.parametrize("rec", [r for r in _recorded("zms") if r.cassette in ("TestTags", "TestAgents")],
                         ids=lambda r: r.where)
async def test_all_pages_stops_where_the_recorded_page_info_says(rec):
    """zms/cassettes/TestTags.yaml: totalPages 1; TestAgents.yaml: no nodes, totalPages 0."""
    executor, sent = _executor(lambda request: httpx.Response(200, json=rec.answer))
    tool = _tool_for(rec.body["operationName"])
    result = await executor.call(tool, {"customerId": rec.body["variables"]["customerId"], "all_pages": True})
    nodes = next(iter(rec.answer["data"].values()))["nodes"]
    assert result.data["items"] == nodes and len(sent) == 1
