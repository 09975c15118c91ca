"""Golden tests: tiny fixture specs, one per tricky case, regenerated and compared file by file.

Each case is a directory under `tests/golden/<case>/`: `spec/` is a spec directory (`<svc>.yaml`
and optionally `overlays/<svc>.yaml`) and `expected/` is the tree the generator must produce from
it. A test regenerates every case into a temporary directory and compares every file byte for byte.

After an intended change to the generator, rewrite the expected trees, then read the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_codegen_golden.py

One line is stored as a placeholder instead of verbatim: `FINGERPRINT = "..."` in each
`<svc>/__init__.py`. It hashes the generator's own source, so any edit to codegen/ (a comment
included) changes it; compared verbatim, it would turn every golden tree stale without a change
in what is generated. The test still checks that the line is there and holds a sha256. For the
same reason the manifest's (`<svc>/files.sha256`) line for `__init__.py` is stored with a placeholder.

The other tests import and call the generated code: the TOOLS table, `schemas.json` and the input
models, loaded from the generated files under private module names.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from conftest import updating
from oneapi_mcp.codegen._generate import generate
from oneapi_mcp.codegen._ir import Problem
from oneapi_mcp.codegen._naming import tool_name
from oneapi_mcp.codegen._schema import compact_input_schema
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = ("array_responses", "collision", "long_names", "no_operation_id", "overlay", "recursive", "secrets")
UPDATE = updating("UPDATE_GOLDEN")

_FINGERPRINT = re.compile(r'^FINGERPRINT = "([0-9a-f]*)"$', re.M)
_FINGERPRINT_PLACEHOLDER = 'FINGERPRINT = "<generator fingerprint, not compared: see tests/test_codegen_golden.py>"'
_INIT_DIGEST = re.compile(r"^[0-9a-f]{64}(  __init__\.py)$", re.M)
_INIT_DIGEST_PLACEHOLDER = r"<sha256 of __init__.py, not compared>\1"
_TOOL_NAME = re.compile(r"^[a-z0-9_]{1,64}$")


@dataclass(frozen=True)
class Generated:
    spec: Path  # a copy of the case's spec directory (generation writes names.lock.json there)
    out: Path
    warnings: tuple[Problem, ...]


def _generate_case(case: str, where: Path) -> Generated:
    spec = where / "spec"
    shutil.copytree(GOLDEN / case / "spec", spec)  # never generate inside the checked-in tree
    out = where / "out"
    result = generate(spec, out, force=True, jobs=1, log=lambda *_: None)
    return Generated(spec, out, result.warnings)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """`generated(case)`: the case generated once per module, shared by the tests that read it."""
    cache: dict[str, Generated] = {}

    def get(case: str) -> Generated:
        if case not in cache:
            cache[case] = _generate_case(case, tmp_path_factory.mktemp(case))
        return cache[case]

    return get


def _files(tree: Path) -> dict[str, bytes]:
    if not tree.exists():
        return {}
    return {
        p.relative_to(tree).as_posix(): p.read_bytes()
        for p in sorted(tree.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _comparable(rel: str, data: bytes) -> bytes:
    """The file as stored in `expected/`: the generator fingerprint, and the manifest's hash of the file that
    holds it, replaced by placeholders."""
    if re.fullmatch(r"[a-z][a-z0-9]*/files\.sha256", rel):
        text, count = _INIT_DIGEST.subn(_INIT_DIGEST_PLACEHOLDER, data.decode())
        assert count == 1, f"{rel}: expected exactly one line for __init__.py"
        return text.encode()
    if not re.fullmatch(r"[a-z][a-z0-9]*/__init__\.py", rel):
        return data
    text, count = _FINGERPRINT.subn(_FINGERPRINT_PLACEHOLDER, data.decode())
    assert count == 1, f"{rel}: expected exactly one FINGERPRINT line"
    return text.encode()


def _tree_differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    lines: list[str] = []
    for rel in sorted(expected.keys() - actual.keys()):
        lines.append(f"missing (expected but not generated): {rel}")
    for rel in sorted(actual.keys() - expected.keys()):
        lines.append(f"extra (generated but not expected): {rel}")
    for rel in sorted(expected.keys() & actual.keys()):
        if expected[rel] != actual[rel]:
            lines.append(f"different: {rel}")
            diff = difflib.unified_diff(
                expected[rel].decode(errors="replace").splitlines(),
                actual[rel].decode(errors="replace").splitlines(),
                f"expected/{rel}", f"generated/{rel}", lineterm="", n=1,
            )
            lines.extend("    " + line for line in list(diff)[:30])
    return lines


def _import_file(path: Path, module_name: str) -> ModuleType:
    """Import one generated module by its file. Generated modules are self-contained (only pydantic)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pydantic resolves postponed annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Surface:
    """A generated service as the server sees it: the definition table, the schemas and the models."""

    root: Path
    tools: dict[str, dict]
    toolsets: dict[str, dict]
    schemas: dict[str, dict]

    def input_model(self, tool: str) -> type:
        module, cls = self.tools[tool]["input_model"].split(":")
        return getattr(self.module(f"inputs/{module}.py"), cls)

    def module(self, rel: str) -> ModuleType:
        name = "_golden_" + re.sub(r"\W", "_", f"{self.root.parent.parent.name}_{self.root.name}_{rel[:-3]}")
        return sys.modules.get(name) or _import_file(self.root / rel, name)


@pytest.fixture(scope="module")
def surface(generated):
    """`surface(case, service)`: the generated tools.py, schemas.json and input models of a case."""

    cache: dict[str, Surface] = {}

    def get(case: str, service: str) -> Surface:
        if case not in cache:
            root = generated(case).out / service
            table = _import_file(root / "tools.py", f"_golden_{case}_{service}_tools")
            schemas = json.loads((root / "schemas.json").read_text())["schemas"]
            cache[case] = Surface(root, {t["name"]: t for t in table.TOOLS}, table.TOOLSETS, schemas)
        return cache[case]

    return get


SERVICES = {
    "array_responses": "arrays",
    "collision": "pets",
    "long_names": "longnames",
    "no_operation_id": "noids",
    "overlay": "pets",
    "recursive": "geo",
    "secrets": "vault",
}


# --- the golden trees -------------------------------------------------------------------------


def test_every_golden_directory_is_a_listed_case():
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted(CASES) == sorted(SERVICES)


@pytest.mark.parametrize("case", CASES)
def test_the_generated_tree_matches_the_checked_in_golden_tree(case, generated):
    actual = {rel: _comparable(rel, data) for rel, data in _files(generated(case).out).items()}
    expected_dir = GOLDEN / case / "expected"
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel, data in actual.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(data)
    differences = _tree_differences(_files(expected_dir), actual)
    assert not differences, (
        f"{case}: the generated tree differs from {expected_dir.relative_to(ROOT)} "
        "(rewrite with UPDATE_GOLDEN=1 if the change is intended):\n" + "\n".join(differences)
    )


@pytest.mark.parametrize("case", CASES)
def test_every_generated_file_names_its_source_spec_and_its_sha256(case, generated):
    g = generated(case)
    service = SERVICES[case]
    spec = g.spec / f"{service}.yaml"
    overlay = g.spec / "overlays" / f"{service}.yaml"
    head = (
        "# Generated by oneapi-mcp codegen (`make generate`). Do not edit.\n"
        f"# Source: specs/{service}.yaml sha256 {hashlib.sha256(spec.read_bytes()).hexdigest()}\n"
        f"# Overlay: specs/overlays/{service}.yaml sha256 "
        f"{hashlib.sha256(overlay.read_bytes()).hexdigest() if overlay.exists() else 'none'}\n"
    )
    for path in sorted((g.out / service).rglob("*.py")):
        assert path.read_text().startswith(head), path
    schemas = json.loads((g.out / service / "schemas.json").read_text())
    assert schemas["spec_sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert re.search(r'^FINGERPRINT = "[0-9a-f]{64}"$', (g.out / service / "__init__.py").read_text(), re.M)


def test_the_same_spec_generates_byte_identical_trees_in_another_process(generated, tmp_path):
    first = generated("recursive").out
    spec = tmp_path / "spec"
    shutil.copytree(GOLDEN / "recursive" / "spec", spec)
    second = tmp_path / "out"
    cmd = [sys.executable, "-m", "oneapi_mcp.codegen", "generate", "--force",
           "--specs", str(spec), "--out", str(second), "--toolsnaps", str(tmp_path / "toolsnaps")]
    # another process with another hash seed: set and dict order must not leak into the output
    run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert run.returncode == 0, run.stderr
    assert _tree_differences(_files(first), _files(second)) == []


# --- the generated code, imported and called --------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_each_tool_has_a_toolset_an_input_model_and_the_schema_of_that_model(case, surface):
    s = surface(case, SERVICES[case])
    assert s.tools and set(s.schemas) == set(s.tools)
    listed = sorted(name for ts in s.toolsets.values() for name in ts["tools"])
    assert listed == sorted(s.tools)
    for name, tool in s.tools.items():
        assert _TOOL_NAME.match(name) and name.startswith(tool["service"] + "_"), name
        assert name in s.toolsets[tool["toolset"]]["tools"]
        model = s.input_model(name)
        assert compact_input_schema(model.model_json_schema(by_alias=True)) == s.schemas[name]
        assert s.schemas[name]["type"] == "object" and s.schemas[name]["additionalProperties"] is False


def test_good_arguments_validate_and_reach_the_model_fields(surface):
    s = surface("recursive", "geo")
    assert s.input_model("geo_get_location").model_validate({"locationId": 7}).locationId == 7
    assert s.input_model("geo_list_locations").model_validate({}).model_dump() == {}


@pytest.mark.parametrize(
    ("arguments", "error_type"),
    [
        ({"locationId": "seven"}, "int_parsing"),  # wrong type
        ({"locationId": 7, "colour": "red"}, "extra_forbidden"),  # unknown argument
        ({}, "missing"),  # missing required argument
    ],
    ids=["wrong type", "unknown argument", "missing required argument"],
)
def test_bad_arguments_raise_a_validation_error(surface, arguments, error_type):
    model = surface("recursive", "geo").input_model("geo_get_location")
    with pytest.raises(ValidationError) as caught:
        model.model_validate(arguments)
    assert [e["type"] for e in caught.value.errors()] == [error_type]


def _tree(levels: int, name: str = "root") -> dict:
    node: dict = {"name": name}
    if levels > 1:
        node["subLocations"] = [_tree(levels - 1, f"{name}.{i}") for i in range(2)]
    return node


def test_the_recursive_body_validates_a_three_level_nested_location(surface):
    create = surface("recursive", "geo").input_model("geo_create_location")
    call = create.model_validate({"body": _tree(3)})
    assert call.body.subLocations[1].subLocations[0].name == "root.1.0"
    assert call.model_dump(exclude_none=True) == {"body": _tree(3)}


def test_a_bad_value_deep_in_the_recursive_body_is_reported_where_it_is(surface):
    create = surface("recursive", "geo").input_model("geo_create_location")
    body = _tree(3)
    del body["subLocations"][0]["subLocations"][1]["name"]
    with pytest.raises(ValidationError) as caught:
        create.model_validate({"body": body})
    assert [e["loc"] for e in caught.value.errors()] == [("body", "subLocations", 0, "subLocations", 1, "name")]


def test_the_recursive_input_schema_keeps_its_self_reference_in_defs(surface):
    schema = surface("recursive", "geo").schemas["geo_create_location"]
    assert schema["properties"]["body"] == {"$ref": "#/$defs/Location"}
    location = schema["$defs"]["Location"]
    assert location["properties"]["subLocations"]["items"] == {"$ref": "#/$defs/Location"}
    assert "id" not in location["properties"]  # readOnly: the server sets it, a request never sends it


def test_the_recursive_response_model_validates_a_three_level_nested_payload(surface):
    models = surface("recursive", "geo").module("models.py")
    payload = _tree(3)
    payload["id"] = 1
    payload["subLocations"][0]["subLocations"][0]["id"] = 3
    location = models.Location.model_validate(payload)
    assert location.subLocations[0].subLocations[0].id == 3
    assert location.subLocations[0].subLocations[0].subLocations is None


def test_an_overlay_name_resolves_a_case_only_collision_of_tool_and_class_names(surface):
    s = surface("collision", "pets")
    assert {name: tool["operation_id"] for name, tool in s.tools.items()} == {
        "pets_get_pet": "getPet",
        "pets_get_pet_v1": "GetPet",
        "pets_list_pets": "listPets",
        "pets_list_pets_v1": "ListPETS",
    }
    assert s.tools["pets_get_pet"]["input_model"] != s.tools["pets_get_pet_v1"]["input_model"]
    assert s.input_model("pets_get_pet_v1").model_validate({"petId": 1}).petId == 1


def test_a_long_operation_id_gives_a_64_character_name_with_a_stable_hash(generated, surface):
    s = surface("long_names", "longnames")
    long_ids = {
        "ListTheScheduledDeliveriesOfAReportTogetherWithTheirRecipientsAndFormats",
        "CreateAScheduledDeliveryOfAReportTogetherWithItsRecipientsAndFormats",
    }
    by_id = {tool["operation_id"]: name for name, tool in s.tools.items()}
    for op_id in long_ids:
        name = by_id[op_id]
        assert len(f"longnames_{op_id}") > 64 and len(name) <= 64 and _TOOL_NAME.match(name)
        assert name == tool_name("longnames", op_id)  # a sha256 of the full name: the same on every run
    assert by_id["ListReports"] == "longnames_list_reports"
    assert by_id["ListTheScheduledDeliveriesOfAReportTogetherWithTheirRecipientsAndFormats"] == (
        "longnames_list_the_scheduled_deliveries_of_a_report_toget_4384d5")
    lock = json.loads((generated("long_names").spec / "names.lock.json").read_text())
    assert lock["longnames GET /reports/{}/schedules"] == by_id[
        "ListTheScheduledDeliveriesOfAReportTogetherWithTheirRecipientsAndFormats"]


def test_a_tool_with_a_long_name_validates_its_arguments(surface):
    s = surface("long_names", "longnames")
    model = s.input_model("longnames_create_a_scheduled_delivery_of_a_report_togethe_8ca6e2")
    call = model.model_validate({"reportId": "r1", "body": {"recipients": ["a@example.com"], "format": "pdf"}})
    assert call.body.recipients == ["a@example.com"]
    with pytest.raises(ValidationError):
        model.model_validate({"reportId": "r1", "body": {"recipients": [], "format": "docx"}})


def test_array_query_parameters_keep_their_items_and_explode_flag(surface):
    s = surface("array_responses", "arrays")
    tool = s.tools["arrays_list_tags"]
    assert {p[0]: (p[2], p[4]) for p in tool["params"]} == {
        "colour": ("query", False),  # explode: false, sent as colour=red,blue
        "limit": ("query", True),
        "name": ("query", True),  # style: form, explode: true, sent as name=a&name=b
    }
    props = s.schemas["arrays_list_tags"]["properties"]
    assert props["name"] == {"type": "array", "items": {"type": "string"},
                             "description": "Only tags with one of these names."}
    assert props["colour"]["items"] == {"type": "string", "enum": ["red", "green", "blue"]}


def test_array_arguments_validate_lists_and_reject_scalars_and_unknown_items(surface):
    model = surface("array_responses", "arrays").input_model("arrays_list_tags")
    assert model.model_validate({"name": ["a", "b"], "colour": ["red"]}).name == ["a", "b"]
    for bad in ({"name": "a"}, {"colour": ["purple"]}, {"limit": 0}):
        with pytest.raises(ValidationError):
            model.model_validate(bad)


def test_a_top_level_array_response_schema_becomes_a_root_model(surface):
    models = surface("array_responses", "arrays").module("models.py")
    assert models.TagNames.model_validate(["a", "b"]).root == ["a", "b"]
    with pytest.raises(ValidationError):
        models.TagNames.model_validate({"names": ["a"]})


def test_operations_without_an_operation_id_get_a_synthesized_name_and_a_warning(generated, surface):
    g = generated("no_operation_id")
    spec = str(g.spec / "noids.yaml")
    assert [(w.level, w.file, w.pointer, w.message) for w in g.warnings] == [
        ("warning", spec, "/paths/~1widgets/get", "no operationId; using 'getWidgets'"),
        ("warning", spec, "/paths/~1widgets/post", "no operationId; using 'postWidgets'"),
        ("warning", spec, "/paths/~1widgets~1{widgetId}/delete", "no operationId; using 'deleteWidgetsWidgetId'"),
    ]
    s = surface("no_operation_id", "noids")
    assert sorted(s.tools) == ["noids_delete_widgets_widget_id", "noids_get_widgets", "noids_post_widgets"]
    assert s.input_model("noids_delete_widgets_widget_id").model_validate({"widgetId": 3}).widgetId == 3


def test_an_overlay_description_reaches_the_tool_definition(surface):
    s = surface("overlay", "pets")
    assert s.tools["pets_get_pet"]["description"] == (
        "Returns one pet by its numeric id, with its name and tags; written by hand in the overlay.")
    assert s.tools["pets_list_pets"]["description"] == "Lists pets."  # not targeted: as in the spec
    assert "written by hand in the overlay" in (s.root / "tools.py").read_text()


def test_secret_fields_follow_the_spec_the_names_and_the_overlay_review(generated):
    table = _import_file(generated("secrets").out / "vault" / "__init__.py", "_golden_secrets_vault")
    # format: password, writeOnly and x-oneapi-secret mark fields no name rule finds; strings named like
    # secrets are marked; booleans, numbers and enums named like secrets, and overlay-cleared ones, are
    # not; bypass, pskEnabled, enforceIotPolicy and secretId are not named like secrets at all
    assert table.SECRET_FIELDS == ("kerberosPwd", "oldPasswords", "otp", "passphrase", "pin", "psk", "recoveryCode",
                                   "shared", "uninstallPass")
    # an array of objects named like secrets is judged field by field (credentials[].kerberosPwd); a free-form
    # object (tokenBag) is in neither list: the runtime's name rule hides it whole
    assert table.NOT_SECRET_FIELDS == ("credentials", "passwordExpiryDays", "passwordStrength", "publicKey",
                                       "tunnelKey")


def test_a_string_with_format_email_generates_without_the_optional_email_validator(tmp_path):
    spec = tmp_path / "spec" / "mail.yaml"
    spec.parent.mkdir()
    spec.write_text("""openapi: 3.0.3
info: {title: Mail, version: '1'}
paths:
  /invites:
    post:
      operationId: SendInvite
      description: Sends an invitation.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [to]
              properties:
                to: {type: string, format: email}
      responses:
        '204': {description: Sent}
""")
    generate(spec.parent, tmp_path / "out", jobs=1, log=lambda *_: None)
    assert "EmailStr" not in (tmp_path / "out" / "mail" / "inputs" / "invites.py").read_text()
