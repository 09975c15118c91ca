"""Rules tested across every generated tool at once, plus the generated code imported and called."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import pytest
from pydantic import ValidationError

NAME = re.compile(r"^[a-z0-9_]{1,64}$")
ANNOTATIONS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


# per service, the operations its spec holds (specs/SOURCES.md): the wheel's models, then the services
# converted from the SDK's hand-written source (zscaler-sdk-python 1.11.3), REST and GraphQL
COUNTS = {"zia": 594, "zpa": 313, "ztw": 163, "zcc": 49, "zdx": 142, "zid": 34,
          "aiguard": 39, "easm": 7, "zbi": 9, "zcell": 36, "ztb": 70, "zwa": 12, "zins": 14, "zms": 20}


def test_the_catalog_lists_every_operation_of_every_service_with_unique_valid_names(catalog):
    from oneapi_mcp.generated.services import SERVICES

    per_service = Counter(t.service for t in catalog.tools.values())
    assert per_service == {name: row.operations for name, row in SERVICES.items()}
    assert {k: per_service[k] for k in COUNTS} == COUNTS
    assert all(NAME.match(name) for name in catalog.tools)


def test_tool_names_are_the_service_and_the_snake_case_operation(catalog):
    assert catalog.tools["zia_list_users"].operation_id == "ListUsers"
    assert catalog.tools["zpa_get_application_segment"].service == "zpa" if (
        "zpa_get_application_segment" in catalog.tools) else True
    for tool in catalog.tools.values():
        assert tool.name.startswith(tool.service + "_")


def test_all_four_annotations_are_present_and_follow_the_scope(catalog):
    for tool in catalog.tools.values():
        a = tool.annotations
        assert set(a) == set(ANNOTATIONS), tool.name
        assert a["readOnlyHint"] is (tool.scope == "read"), tool.name
        assert a["destructiveHint"] is (tool.scope == "destructive"), tool.name
        assert a["openWorldHint"] is True
        if tool.scope == "read":
            assert a["idempotentHint"] is True


def test_every_tool_is_in_exactly_one_toolset_of_ten_to_forty_tools(catalog):
    listed = Counter(name for ts in catalog.toolsets.values() for name in ts.tools)
    assert set(listed) == set(catalog.tools)
    assert max(listed.values()) == 1
    per_service = Counter(t.service for t in catalog.tools.values())
    for ts in catalog.toolsets.values():
        service = ts.name.split(".")[0]
        # a service with fewer than ten operations (EASM, ZBI) is one toolset
        assert 10 <= len(ts.tools) <= 40 or len(ts.tools) == per_service[service] < 10, (ts.name, len(ts.tools))
        assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", ts.name)
        assert ts.description and not ts.description.endswith(" tools"), ts.name
    for tool in catalog.tools.values():
        assert tool.name in catalog.toolsets[tool.toolset].tools


def test_activation_is_reachable_in_a_toolset_that_says_so(catalog):
    activate = catalog.tools["zia_activate"]
    assert activate.path == "/zia/api/v1/status/activate"
    assert "activat" in catalog.toolsets[activate.toolset].description


def test_descriptions_read_as_sentences_and_are_never_just_the_path(catalog):
    for tool in catalog.tools.values():
        d = tool.description.strip()
        assert d and d != tool.path and d[0].isupper() and d.endswith((".", ")")), tool.name


def test_input_schemas_are_objects_that_common_clients_accept(catalog):
    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "array":
                assert "items" in node, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    for name in catalog.tools:
        schema = catalog.input_schema(name)
        assert schema["type"] == "object", name
        assert schema.get("additionalProperties") is False, name
        assert not {"oneOf", "anyOf", "allOf"} & set(schema), name
        walk(schema, name)


def test_input_schema_arguments_match_the_definition_table(catalog):
    for tool in catalog.tools.values():
        props = catalog.input_schema(tool.name).get("properties", {})
        assert set(props) == {p[0] for p in tool.params}, tool.name
        required = set(catalog.input_schema(tool.name).get("required", []))
        assert required == {p[0] for p in tool.params if p[3]}, tool.name
        for _field, wire, location, _req, _explode in tool.params:
            if location == "path":
                assert "{" + wire + "}" in tool.path


def test_every_catalog_of_a_process_reads_a_services_input_schemas_once(catalog):
    from oneapi_mcp import load_catalog

    other = load_catalog()
    assert other is not catalog and other.tools == catalog.tools
    for name in ("zia_list_users", "zpa_get_application", "zdx_list_devices"):
        assert other.input_schema(name) is catalog.input_schema(name)  # parsed once, shared (read-only)


@pytest.mark.parametrize("service", ["zia", "zpa", "zdx", "zcc", "zid", "ztw"])
def test_every_input_model_of_a_service_imports_and_its_schema_is_the_listed_one(catalog, service):
    from oneapi_mcp.codegen._schema import compact_input_schema

    for tool in (t for t in catalog.tools.values() if t.service == service):
        model = catalog.input_model(tool.name)
        assert compact_input_schema(model.model_json_schema(by_alias=True)) == catalog.input_schema(tool.name)


def test_a_generated_input_model_validates_good_arguments_and_rejects_bad_ones(catalog):
    create = catalog.input_model("zid_create_user")
    ok = create(body={"loginName": "jane@example.test", "displayName": "Jane", "primaryEmail": "jane@example.test",
                      "status": True})
    assert ok.model_dump(by_alias=True, exclude_unset=True)["body"]["loginName"] == "jane@example.test"
    with pytest.raises(ValidationError, match="body"):
        create()
    with pytest.raises(ValidationError, match="unexpected|Extra inputs"):
        create(body={"loginName": "x", "displayName": "x", "primaryEmail": "x", "status": True}, bogus=1)
    users = catalog.input_model("zia_list_users")
    with pytest.raises(ValidationError, match="pageSize"):
        users(pageSize="many")


def test_server_set_fields_are_not_accepted_in_request_bodies(catalog):
    from conftest import load_spec_doc, operations

    doc = load_spec_doc("zia")
    schemas = doc["components"]["schemas"]
    checked = 0
    for _path, _method, op in operations(doc):
        ref = (op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema") or {}).get("$ref")
        target = schemas.get((ref or "").rsplit("/", 1)[-1], {})
        read_only = {k for k, v in (target.get("properties") or {}).items() if v.get("readOnly")}
        if not read_only:
            continue
        tool = next(t for t in catalog.tools.values() if t.service == "zia" and t.operation_id == op["operationId"])
        body = catalog.input_schema(tool.name)["properties"]["body"]
        assert not read_only & set(body.get("properties", {})), tool.name
        checked += 1
    assert checked >= 10


def test_listing_every_tool_imports_no_input_model():
    code = (
        "import sys\n"
        "from oneapi_mcp import load_catalog\n"
        "c = load_catalog()\n"
        "[c.input_schema(n) for n in c.tools]\n"
        "loaded = [m for m in sys.modules if '.inputs.' in m or m.endswith('.models')]\n"
        "print(len(c.tools), len(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= sum(COUNTS.values()) and out[1] == "0"


def test_a_call_imports_only_its_own_toolset_module():
    code = (
        "import sys\n"
        "from oneapi_mcp import load_catalog\n"
        "c = load_catalog()\n"
        "c.input_model('zia_list_users')\n"
        "print(sorted(m for m in sys.modules if m.startswith('oneapi_mcp.generated.') and '.inputs.' in m))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "['oneapi_mcp.generated.zia.inputs.users']"
