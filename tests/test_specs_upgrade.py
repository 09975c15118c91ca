"""Replaying an SDK upgrade end to end on small fixture wheels (tests/fixtures/upgrade/).

The fixtures reproduce what went wrong moving from the zscaler-sdk-python beta to the stable
zscaler-oneapi-sdk-python: a second model version (ZPA v2), paths that differ only in a
parameter's name (ZDX `{aid}` beside `{app}`, two operations on one endpoint), renamed
operationIds, a new operation whose derived name is already locked, and a query parameter that
shares its name with a path parameter (ZIdentity `/groups/{id}/users?id=`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
import yaml
from oneapi_mcp.codegen._generate import generate
from oneapi_mcp.codegen._ir import SpecError
from oneapi_mcp.codegen._make_specs import write_specs
from oneapi_mcp.codegen._sources import ModelError, WheelPin, check_pin, read_models
from oneapi_mcp.codegen._surface import diff_surfaces, read_generated_surface

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upgrade"
SERVICES = ("zpa", "zdx", "zid")


def _wheel(tmp: Path, fixture: str, name: str, version: str, members: dict | None = None) -> tuple[Path, WheelPin]:
    members = members if members is not None else json.loads((FIXTURES / fixture).read_text())
    pin = WheelPin(name, version, "0" * 64)
    path = tmp / pin.file
    with zipfile.ZipFile(path, "w") as archive:
        for member, content in sorted(members.items()):
            archive.writestr(member, content if isinstance(content, str) else json.dumps(content))
    return path, WheelPin(name, version, hashlib.sha256(path.read_bytes()).hexdigest())


def _model_operations(fixture: str) -> set[str]:
    members = json.loads((FIXTURES / fixture).read_text())
    return {f"{member}#/operations/{op}" for member, content in members.items()
            if member.endswith("service-1.json") for op in content["operations"]}


def _spec_sources(specs: Path) -> list[str]:
    out = []
    for svc in SERVICES:
        doc = yaml.safe_load((specs / f"{svc}.yaml").read_text())
        for item in doc["paths"].values():
            for op in item.values():
                out += [o["x-oneapi-source"] for o in [op, *op.get("x-oneapi-variants", [])]]
    return out


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    """Old pin -> specs -> generate; then new pin -> specs -> generate (first without, then with
    the overlay line the error suggested)."""
    tmp = tmp_path_factory.mktemp("upgrade")
    specs, out = tmp / "specs", tmp / "generated"
    old_wheel, old_pin = _wheel(tmp, "old-wheel.json", "fixture-sdk", "1.0.0b1")
    new_wheel, new_pin = _wheel(tmp, "new-wheel.json", "fixture-sdk", "2.0.0")
    logs: list[str] = []
    old_counts = write_specs(old_wheel, specs, old_pin, None, log=logs.append, services=SERVICES)
    generate(specs, out, log=lambda *_: None, jobs=1)
    old_surface = read_generated_surface(out)
    old_lock = json.loads((specs / "names.lock.json").read_text())

    new_counts = write_specs(new_wheel, specs, new_pin, old_pin, log=logs.append, services=SERVICES)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*.py")}
    with pytest.raises(SpecError) as failed:
        generate(specs, out, log=lambda *_: None, jobs=1)
    untouched = before == {p.relative_to(out): p.read_bytes() for p in out.rglob("*.py")}

    shutil.copytree(FIXTURES / "overlays", specs / "overlays")
    generate(specs, out, log=lambda *_: None, jobs=1)
    return {
        "specs": specs, "old_counts": old_counts, "new_counts": new_counts, "logs": logs,
        "old_surface": old_surface, "new_surface": read_generated_surface(out), "old_lock": old_lock,
        "new_lock": json.loads((specs / "names.lock.json").read_text()), "error": failed.value,
        "untouched": untouched, "new_pin": new_pin,
    }


def test_every_model_operation_of_every_version_is_in_the_specs(upgrade):
    assert upgrade["new_counts"] == {"zpa": 6, "zdx": 4, "zid": 4}
    assert sorted(_spec_sources(upgrade["specs"])) == sorted(_model_operations("new-wheel.json"))
    assert "specs: wrote 14 operations in 3 specs from fixture-sdk==2.0.0" in upgrade["logs"]
    assert "specs: zpa: wrote 6 operations (of 6 in models v1, v2)" in "\n".join(upgrade["logs"])


def test_sources_md_names_the_new_pin_and_the_one_before(upgrade):
    sources = (upgrade["specs"] / "SOURCES.md").read_text()
    assert "`fixture-sdk==2.0.0`" in sources and upgrade["new_pin"].sha256 in sources
    assert "Before: `fixture-sdk==1.0.0b1`" in sources
    assert "zssdk/zscore/data/zpa/v2/service-1.json" in sources


def test_paths_that_differ_in_a_parameter_name_share_one_template_and_keep_both_operations(upgrade):
    doc = yaml.safe_load((upgrade["specs"] / "zdx.yaml").read_text())
    assert "/zdx/v1/config/applications/{app}" not in doc["paths"]
    get = doc["paths"]["/zdx/v1/config/applications/{aid}"]["get"]
    assert get["operationId"] == "GetConfigApplication"
    [variant] = get["x-oneapi-variants"]
    assert variant["operationId"] == "GetPredefinedApplication"
    assert variant["parameters"][0] == {"name": "aid", "in": "path", "required": True,
                                        "schema": {"type": "string"}, "x-oneapi-argument": "app"}


def test_a_variant_is_its_own_tool_with_its_own_argument_sent_as_the_shared_template(upgrade):
    surface = upgrade["new_surface"]
    tool = surface["zdx_get_predefined_application"]
    assert tool["inputSchema"]["required"] == ["app"]
    assert "path parameter `aid`" in tool["inputSchema"]["properties"]["app"]["description"]
    assert tool["description"].startswith("Returns one predefined application (Zoom")  # the overlay's filter
    assert surface["zdx_get_config_application"]["inputSchema"]["properties"]["aid"]["type"] == "integer"
    assert "zdx_list_predefined_app_monitors" in surface
    assert upgrade["new_lock"]["zdx GET /zdx/v1/config/applications/{} GetPredefinedApplication"] == \
        "zdx_get_predefined_application"


def test_renamed_operation_ids_keep_their_locked_tool_names(upgrade):
    lock = upgrade["new_lock"]
    assert lock["zpa POST /zpa/mgmtconfig/v1/admin/customers/{}/policySet/{}/rule"] == "zpa_add_rule_to_policy_set"
    assert lock["zpa GET /zpa/mgmtconfig/v1/admin/customers/{}/location/groups"] == "zpa_list_groups"
    for key, name in upgrade["old_lock"].items():
        assert lock[key] == name, key


def test_a_later_version_says_its_version_where_its_name_would_collide(upgrade):
    surface = upgrade["new_surface"]
    assert "zpa_v2_add_rule_to_policy_set" in surface
    assert "zpa_get_widget" in surface  # no collision: no version in the name
    widget = json.dumps(surface["zpa_get_widget"])
    doc = yaml.safe_load((upgrade["specs"] / "zpa.yaml").read_text())
    assert set(doc["components"]["schemas"]["WidgetV2"]["properties"]) == {"id", "name", "tags"}
    assert set(doc["components"]["schemas"]["Widget"]["properties"]) == {"id", "name"}
    assert "x-oneapi-model-version" not in widget  # data for the generator, not for clients


def test_a_name_collision_names_both_operations_and_the_overlay_line_and_changes_nothing(upgrade):
    [problem] = upgrade["error"].problems
    assert problem.pointer == "/paths/~1zpa~1mgmtconfig~1v1~1admin~1customers~1{customerId}~1groups/get"
    assert "tool name 'zpa_list_groups' of GET /zpa/mgmtconfig/v1/admin/customers/{customerId}/groups " \
           "(operationId 'ListGroups') collides with GET /zpa/mgmtconfig/v1/admin/customers/{customerId}/" \
           "location/groups (operationId 'ListLocationGroups'" in problem.message
    assert "target \"$.paths['/zpa/mgmtconfig/v1/admin/customers/{customerId}/groups'].get\"" in problem.message
    assert "{x-oneapi-name: zpa_list_groups_2}" in problem.message
    assert upgrade["untouched"]
    assert "zpa_list_customer_groups" in upgrade["new_surface"]  # the overlay line resolved it


def test_a_query_parameter_named_like_a_path_parameter_gets_its_own_argument(upgrade):
    schema = upgrade["new_surface"]["zid_list_group_members"]["inputSchema"]
    assert schema["required"] == ["id"]
    assert schema["properties"]["id"]["type"] == "string"
    query = schema["properties"]["id_query"]
    assert query["type"] == "array"
    assert query["description"] == "Only these member user ids. Sent as the query parameter `id`."


def test_the_surface_diff_reports_the_upgrade(upgrade):
    diff = diff_surfaces(upgrade["old_surface"], upgrade["new_surface"])
    assert diff.removed == []
    assert set(diff.added) == {
        "zdx_get_predefined_application", "zdx_list_application_monitors", "zdx_list_predefined_app_monitors",
        "zid_add_group_members", "zid_group_bulkremove", "zid_remove_group_members", "zpa_get_widget",
        "zpa_list_customer_groups", "zpa_v2_add_rule_to_policy_set"}
    assert diff.breaking == {}  # the new query filter is optional
    assert upgrade["new_surface"]["zid_group_bulkremove"]["scope"] == "destructive"


def test_make_specs_refuses_a_wheel_that_is_not_the_pinned_one(tmp_path):
    wheel, pin = _wheel(tmp_path, "new-wheel.json", "fixture-sdk", "2.0.0")
    check_pin(wheel, pin)
    with pytest.raises(SystemExit, match="does not match the pinned"):
        check_pin(wheel, WheelPin(pin.name, pin.version, "1" * 64))


def test_a_model_the_product_does_not_know_is_an_error_not_skipped(tmp_path):
    members = json.loads((FIXTURES / "new-wheel.json").read_text())
    members["zssdk/zscore/data/zxx/v1/service-1.json"] = members["zssdk/zscore/data/zdx/v1/service-1.json"]
    wheel, pin = _wheel(tmp_path, "", "fixture-sdk", "2.0.0", members)
    with pytest.raises(ModelError, match="zxx/v1/service-1.json is a service this product does not know"):
        read_models(wheel, pin, SERVICES)


def test_an_operation_the_converter_cannot_convert_is_an_error_naming_it(tmp_path):
    members = json.loads((FIXTURES / "new-wheel.json").read_text())
    model = members["zssdk/zscore/data/zpa/v2/service-1.json"]
    model["operations"]["GetWidget"]["input"]["shape"] = "NoSuchShape"
    wheel, pin = _wheel(tmp_path, "", "fixture-sdk", "2.0.0", members)
    with pytest.raises(ModelError, match=r"zpa/v2/service-1.json#/operations/GetWidget: cannot convert it"):
        write_specs(wheel, tmp_path / "specs", pin, None, log=lambda *_: None, services=SERVICES)
    assert not (tmp_path / "specs").exists()
