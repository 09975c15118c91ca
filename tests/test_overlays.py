"""Hand-written descriptions: OpenAPI Overlay 1.0 documents, every target real, 400+ operations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import SERVICES
from oneapi_mcp.codegen._load import load_spec
from oneapi_mcp.codegen._naming import NameLock
from oneapi_mcp.codegen._parse import parse_service

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def parsed():
    lock = NameLock.read(ROOT / "specs" / "names.lock.json")
    out = {}
    for svc in SERVICES:
        loaded = load_spec(ROOT / "specs" / f"{svc}.yaml", ROOT / "specs" / "overlays" / f"{svc}.yaml", validate=False)
        service, problems, _ = parse_service(loaded, lock)
        out[svc] = (loaded, service, problems)
    return out


def test_every_overlay_target_matches_an_operation_and_nothing_warns(parsed):
    for svc, (loaded, _service, problems) in parsed.items():
        assert loaded.problems == [] and problems == [], svc


def test_at_least_400_operations_have_descriptions_written_for_administrators(parsed):
    # issue 15: descriptions for the operations administrators use most, the overlays at least 400 in all
    described = sum(op.hand_written_description for _, s, _ in parsed.values() for op in s.operations)
    assert described >= 400


@pytest.mark.parametrize(
    "tool",
    [
        "zia_list_users", "zia_create_user", "zia_list_departments", "zia_activate", "zia_get_activation_status",
        "zia_list_url_categories", "zia_list_url_filtering_rules", "zia_list_firewall_filtering_rules",
        "zia_list_dlp_dictionaries", "zia_list_locations", "zia_list_nss_feeds",
        # ZPA calls application segments "applications" and segment groups "application groups"
        "zpa_list_all_applications", "zpa_list_all_application_groups", "zpa_list_all_server_groups",
        "zpa_list_assistant_groups", "zdx_list_applications", "zdx_list_ongoing_alerts",
        "zcc_list_devices", "zid_list_users", "zid_list_groups",
    ],
)
def test_the_tools_administrators_use_most_are_hand_described(parsed, tool, catalog):
    if tool not in catalog.tools:
        pytest.fail(f"{tool} is not a generated tool; known similar: "
                    f"{[n for n in catalog.tools if n.startswith(tool.rsplit('_', 1)[0])][:8]}")
    svc = tool.split("_", 1)[0]
    op = next(o for o in parsed[svc][1].operations if o.tool_name == tool)
    assert op.hand_written_description, tool


def test_overlay_targets_accept_rfc_9535_filter_selectors_for_update_and_remove():
    from oneapi_mcp.codegen._load import apply_overlay

    params = [{"name": "id", "in": "path"}, {"name": "id", "in": "query"}, {"name": "a", "in": "query"},
              {"name": "b", "in": "query"}]
    doc = {"paths": {"/groups/{id}/users": {"get": {"parameters": params}}}}
    base = "$.paths['/groups/{id}/users'].get.parameters"
    problems: list = []
    touched = apply_overlay(doc, {"overlay": "1.0.0", "actions": [
        {"target": base + "[?@.name=='id' && @.in=='query']", "update": {"description": "member ids"}},
        {"target": base + "[?@.name=='a' || @.name=='b']", "remove": True},
    ]}, "overlay.yaml", problems)
    assert problems == []
    assert touched == {"/paths/~1groups~1{id}~1users/get/parameters/1"}
    assert doc["paths"]["/groups/{id}/users"]["get"]["parameters"] == [
        {"name": "id", "in": "path"}, {"name": "id", "in": "query", "description": "member ids"}]


def test_every_graphql_operation_of_zinsights_and_zms_has_a_hand_written_description(parsed):
    # specs/overlays/zins.descriptions.yaml and zms.descriptions.yaml, with no services overlay beside them
    for svc in ("zins", "zms"):
        _loaded, service, _problems = parsed[svc]
        bare = [o.tool_name for o in service.operations if not o.hand_written_description]
        assert bare == [], svc
        assert all(f"sent as POST /{svc}/graphql." in o.description for o in service.operations)


def _graphql_spec_dir(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of specs/zms.yaml in a spec directory of its own, with an empty overlays/ folder."""
    import shutil

    (tmp_path / "overlays").mkdir()
    shutil.copy(ROOT / "specs" / "zms.yaml", tmp_path / "zms.yaml")
    return tmp_path / "zms.yaml", tmp_path / "overlays" / "zms.yaml"


def test_a_descriptions_overlay_alone_reaches_a_graphql_operation_wherever_it_sits(tmp_path):
    from oneapi_mcp.codegen._generate import _service_fingerprint

    spec, overlay = _graphql_spec_dir(tmp_path)
    before = _service_fingerprint(spec, overlay, {}, "gen")
    post = yaml.safe_load(spec.read_text())["paths"]["/zms/graphql"]["post"]
    first, variant = post["operationId"], post["x-oneapi-variants"][-1]["operationId"]  # the path's own, the last
    actions = "".join(
        f"  - target: \"$.paths['/zms/graphql']..[?@.operationId=='{name}']\"\n"
        f"    update: {{summary: Title {n}, description: Words {n}.}}\n" for n, name in enumerate((first, variant)))
    (tmp_path / "overlays" / "zms.descriptions.yaml").write_text(
        f"overlay: 1.0.0\ninfo: {{title: words, version: 1.0.0}}\nactions:\n{actions}")
    assert not overlay.exists()
    loaded = load_spec(spec, overlay, validate=False)
    assert loaded.problems == []
    service, problems, _ = parse_service(loaded, NameLock())
    assert problems == []
    by_id = {o.operation_id: o for o in service.operations}
    listed = " Product: ZMS (Microsegmentation)."  # codegen/_listing.py: the product, where the words lack it
    assert (by_id[first].title, by_id[first].description) == ("Title 0", "Words 0." + listed)
    assert (by_id[variant].title, by_id[variant].description) == ("Title 1", "Words 1." + listed)
    assert by_id[first].hand_written_description and by_id[variant].hand_written_description
    assert sum(o.hand_written_description for o in service.operations) == 2
    assert _service_fingerprint(spec, overlay, {}, "gen") != before  # a descriptions edit regenerates the service


def test_a_graphql_descriptions_target_naming_no_query_is_reported(tmp_path):
    spec, overlay = _graphql_spec_dir(tmp_path)
    (tmp_path / "overlays" / "zms.descriptions.yaml").write_text(
        "overlay: 1.0.0\ninfo: {title: words, version: 1.0.0}\nactions:\n"
        "  - target: \"$.paths['/zms/graphql']..[?@.operationId=='ListAgentz']\"\n"
        "    update: {description: Words.}\n")
    problems = load_spec(spec, overlay, validate=False).problems
    assert [(p.level, p.file.endswith("zms.descriptions.yaml")) for p in problems] == [("warning", True)]
    assert "matches nothing" in problems[0].message


class _Strict(yaml.SafeLoader):
    """YAML that names a key given twice in one mapping (plain YAML keeps the last one silently)."""


def _no_repeats(loader: _Strict, node: yaml.MappingNode, deep: bool = False):
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} given twice (first on line {seen[key]})", key_node.start_mark)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep)


_Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_repeats)


@pytest.mark.parametrize("path", sorted((ROOT / "specs" / "overlays").glob("*.yaml")), ids=lambda p: p.name)
def test_no_overlay_or_the_vocabulary_gives_a_key_twice_where_only_the_last_would_count(path):
    yaml.load(path.read_text(), Loader=_Strict)  # noqa: S506 - a SafeLoader subclass


def test_a_key_given_twice_is_named_with_both_lines():
    with pytest.raises(yaml.constructor.ConstructorError, match=r"'ack' given twice \(first on line 2\)"):
        yaml.load("terms:\n  ack: [acknowledge]\n  clone: [duplicate]\n  ack: [ack]\n", Loader=_Strict)  # noqa: S506
