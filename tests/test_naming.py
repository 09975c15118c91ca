"""Tool names: `<svc>_<snake_case_operation>`, at most 64 characters, and kept stable by the lock."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from oneapi_mcp.codegen._naming import NameLock, class_name, field_name, operation_key, snake_case, tool_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("operation_id", "expected"),
    [
        ("ListUsers", "list_users"),
        ("GetIOTDeviceList", "get_iot_device_list"),
        ("ListAllPRAConsoles", "list_all_pra_consoles"),
        ("ValidateStaticIPAddress", "validate_static_ip_address"),
        ("users:bulkdelete", "users_bulkdelete"),
        ("getV2Rules", "get_v2_rules"),
        ("CreateBlacklistURLs", "create_blacklist_urls"),
        ("ListStaticIPs", "list_static_ips"),
    ],
)
def test_snake_case_splits_acronyms_and_punctuation(operation_id, expected):
    assert snake_case(operation_id) == expected


def test_a_long_name_is_cut_to_64_characters_with_a_stable_hash_suffix():
    op = "ListTheVeryLongAndDescriptiveNameOfAnOperationThatNobodyShouldEverHaveWrittenButDid"
    name = tool_name("zia", op)
    assert len(name) == 64 and re.fullmatch(r"[a-z0-9_]+", name)
    assert name == tool_name("zia", op)
    assert name != tool_name("zia", op + "Again")


def test_argument_and_class_names_are_python_identifiers():
    assert field_name("name[like]") == "name_like"
    assert field_name("class") == "class_"
    assert field_name("2fa") == "p_2fa"
    assert class_name("users:bulkdelete") == "UsersBulkdeleteInput"


def test_the_lock_keys_operations_by_method_and_path_shape():
    assert operation_key("get", "/users/{userId}") == operation_key("GET", "/users/{id}") == "GET /users/{}"


def test_the_checked_in_lock_names_every_generated_tool(catalog):
    lock = json.loads((ROOT / "specs" / "names.lock.json").read_text())
    assert sorted(lock.values()) == sorted(catalog.tools)
    for tool in catalog.tools.values():
        # an operation sharing its method and path with another (x-oneapi-variants) adds its operationId
        key = f"{tool.service} {operation_key(tool.method, tool.path)}"
        variant = f"{tool.service} {operation_key(tool.method, tool.path, tool.operation_id)}"
        assert lock.get(variant, lock[key]) == tool.name


def test_operations_sharing_an_endpoint_are_locked_by_their_operation_id_too():
    assert operation_key("GET", "/config/applications/{aid}", "GetPredefinedApplication") == \
        "GET /config/applications/{} GetPredefinedApplication"
    lock = json.loads((ROOT / "specs" / "names.lock.json").read_text())
    assert lock["zdx GET /zdx/v1/config/applications/{}"] == "zdx_get_config_application"
    assert lock["zdx GET /zdx/v1/config/applications/{} GetPredefinedApplication"] == \
        "zdx_get_predefined_application"


def test_a_renamed_operation_id_keeps_its_locked_tool_name(tmp_path):
    from oneapi_mcp.codegen._generate import generate

    spec = tmp_path / "specs" / "pets.yaml"
    spec.parent.mkdir()
    body = """openapi: 3.0.3
info: {title: Pets, version: '1'}
paths:
  /pets/{petId}:
    get:
      operationId: %s
      description: Returns one pet.
      parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
      responses:
        '200': {description: OK}
"""
    spec.write_text(body % "GetPet")
    generate(spec.parent, tmp_path / "out", jobs=1, log=lambda *_: None)
    assert NameLock.read(spec.parent / "names.lock.json").entries == {"pets GET /pets/{}": "pets_get_pet"}
    spec.write_text(body % "FetchOnePetById")  # only the wording changed
    generate(spec.parent, tmp_path / "out", jobs=1, log=lambda *_: None)
    tools = (tmp_path / "out" / "pets" / "tools.py").read_text()
    assert "'pets_get_pet'" in tools or '"pets_get_pet"' in tools
    assert "FetchOnePetById" in tools
