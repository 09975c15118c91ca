"""`make specs` keeps an operation the previous models had and the new ones dropped only when recorded
2xx traffic hits its template (codegen/_restore.py), replayed on the fixture wheels of tests/fixtures/upgrade/
with one invented ZPA resource (gadgets) that the new fixture models drop."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from oneapi_mcp.codegen._generate import generate
from oneapi_mcp.codegen._make_specs import write_specs
from oneapi_mcp.codegen._recorded import ROUTES_FILE, best_template, index_recordings
from oneapi_mcp.codegen._surface import read_generated_surface
from openapi_spec_validator import validate
from test_specs_upgrade import FIXTURES, SERVICES, _wheel

ZPA = "/zpa/mgmtconfig/v1/admin/customers/{customerId}"
MODEL = "zssdk/zscore/data/zpa/v1/service-1.json"
GADGET_OPS = {
    "ListGadgets": ("GET", f"{ZPA}/gadget"),
    "ListGadgetsLite": ("GET", f"{ZPA}/gadget/lite"),
    "GetGadget": ("GET", f"{ZPA}/gadget/{{gadgetId}}"),
    "DeleteGadget": ("DELETE", f"{ZPA}/gadget/{{gadgetId}}"),
}


def _old_members() -> dict:
    members = json.loads((FIXTURES / "old-wheel.json").read_text())
    model = members[MODEL]
    for name, (method, uri) in GADGET_OPS.items():
        model["operations"][name] = {"http": {"method": method, "requestUri": uri},
                                     "input": {"shape": f"{name}Request"}, "output": {"shape": "Widget"}}
        members_of = {"customerId": {"shape": "String", "location": "uri", "locationName": "customerId"}}
        if "{gadgetId}" in uri:
            members_of["gadgetId"] = {"shape": "String", "location": "uri", "locationName": "gadgetId"}
        model["shapes"][f"{name}Request"] = {"type": "structure", "required": sorted(members_of),
                                             "members": members_of}
    model["shapes"].setdefault("String", {"type": "string"})
    return members


def _cassette(method: str, uri: str, code: int) -> dict:
    return {"request": {"method": method, "uri": uri, "body": None},
            "response": {"status": {"code": code}, "body": {"string": "[]"}}}


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kept")
    recorded, specs, out = tmp / "recorded", tmp / "specs", tmp / "generated"
    (recorded / "zpa" / "cassettes").mkdir(parents=True)
    host = "https://api.zsapi.net/zpa/mgmtconfig/v1/admin/customers/7"
    (recorded / "zpa" / "cassettes" / "TestGadgets.yaml").write_text(yaml.safe_dump({"interactions": [
        _cassette("POST", "https://vanity.zslogin.net/oauth2/v1/token", 200),  # belongs to no service
        _cassette("GET", f"{host}/gadget?page=1", 200),
        _cassette("GET", f"{host}/gadget/lite", 200),  # the literal template, not {gadgetId}
        _cassette("DELETE", f"{host}/gadget/12", 403),  # refused: no evidence
    ]}))
    routes = index_recordings(recorded, SERVICES)
    specs.mkdir()
    (specs / ROUTES_FILE).write_text(json.dumps({"services": routes}))
    old_wheel, old_pin = _wheel(tmp, "", "fixture-sdk", "1.0.0b1", _old_members())
    new_wheel, new_pin = _wheel(tmp, "new-wheel.json", "fixture-sdk", "2.0.0")
    logs: list[str] = []
    write_specs(new_wheel, specs, new_pin, old_pin, log=logs.append, services=SERVICES, previous_wheel=old_wheel)
    shutil.copytree(FIXTURES / "overlays", specs / "overlays")
    generate(specs, out, log=lambda *_: None, jobs=1)
    return {"routes": routes, "specs": specs, "logs": logs, "old_pin": old_pin,
            "surface": read_generated_surface(out), "doc": yaml.safe_load((specs / "zpa.yaml").read_text())}


def test_the_index_holds_each_services_2xx_routes_without_query_or_token_calls(kept):
    assert kept["routes"]["zpa"] == [
        {"method": "GET", "path": "/zpa/mgmtconfig/v1/admin/customers/7/gadget",
         "evidence": "zpa/cassettes/TestGadgets.yaml"},
        {"method": "GET", "path": "/zpa/mgmtconfig/v1/admin/customers/7/gadget/lite",
         "evidence": "zpa/cassettes/TestGadgets.yaml"},
    ]
    assert kept["routes"]["zdx"] == [] and kept["routes"]["zid"] == []


def test_a_recorded_call_counts_for_the_most_specific_template_it_matches():
    templates = {("GET", "/a/{id}"), ("GET", "/a/lite"), ("GET", "/a/{id}/b")}
    assert best_template("GET", "/a/lite", templates) == "/a/lite"
    assert best_template("GET", "/a/12", templates) == "/a/{id}"
    assert best_template("GET", "/a/12/b", templates) == "/a/{id}/b"
    assert best_template("PUT", "/a/12", templates) is None


def test_dropped_operations_with_recorded_2xx_traffic_are_kept_with_their_provenance(kept):
    paths = kept["doc"]["paths"]
    for name in ("ListGadgets", "ListGadgetsLite"):
        method, path = GADGET_OPS[name]
        op = paths[path][method.lower()]
        assert op["operationId"] == name
        assert op["x-oneapi-source"] == {"model": f"{kept['old_pin'].file}:{MODEL}#/operations/{name}",
                                         "evidence": "zpa/cassettes/TestGadgets.yaml"}
    assert "Widget" in kept["doc"]["components"]["schemas"]
    validate(kept["doc"])


def test_dropped_operations_without_evidence_stay_dropped_and_are_listed(kept):
    assert f"{ZPA}/gadget/{{gadgetId}}" not in kept["doc"]["paths"]  # only a 403 and a /lite call hit it
    sources = (kept["specs"] / "SOURCES.md").read_text()
    assert "Kept: 2," in sources and "Dropped for lack of evidence: 2." in sources
    assert f"| zpa | DELETE | `{ZPA}/gadget/{{gadgetId}}` | DeleteGadget |" in sources
    log = "\n".join(kept["logs"])
    assert "specs: zpa: wrote 8 operations (of 6 in models v1, v2, plus 2 kept from fixture_sdk-1.0.0b1" in log
    assert "2 kept on recorded evidence (zpa/cassettes/TestGadgets.yaml), 0 moved to another path, 2 dropped" in log


def test_kept_operations_become_tools(kept):
    assert {"zpa_list_gadgets", "zpa_list_gadgets_lite"} <= set(kept["surface"])
    assert "zpa_get_gadget" not in kept["surface"]
