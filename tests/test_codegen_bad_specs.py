"""Bad specs stop generation with errors that name the file and the JSON pointer, and change nothing.

Every case starts from a good spec generated into `out/`, then breaks the spec and generates
again, through the API and through the CLI: both must fail, name the place, and leave `out/` and
the name lock byte for byte as they were. Warnings, by contrast, never stop generation.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from oneapi_mcp.codegen._generate import generate
from oneapi_mcp.codegen._ir import SpecError

ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
openapi: 3.0.3
info: {title: Pets, version: '1'}
x-oneapi-service: pets
paths:
  /pets:
    get:
      operationId: ListPets
      description: Lists the pets.
      responses:
        '200':
          description: The pets.
          content:
            application/json:
              schema:
                type: array
                items: {$ref: '#/components/schemas/Pet'}
  /pets/{petId}:
    get:
      operationId: GetPet
      description: Returns one pet.
      parameters:
      - {name: petId, in: path, required: true, schema: {type: integer}}
      responses:
        '200':
          description: The pet.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
components:
  schemas:
    Pet:
      type: object
      properties:
        name: {type: string}
"""

_TOY_PATH = """\
  /pets/{petId}/toys:
    get:
      operationId: ListToys
      description: Lists a pet's toys.
%s      responses:
        '200': {description: The toys.}
"""


def _with_path(extra: str) -> str:
    return GOOD.replace("components:\n", extra + "components:\n")


@dataclass(frozen=True)
class BadSpec:
    text: str
    pointer: str
    message: str  # a part of the problem's message


BAD_SPECS = {
    "invalid YAML": BadSpec(
        GOOD.replace("info: {title: Pets, version: '1'}", "info: {title: Pets, version: '1'"),
        "",  # the whole document: the problem is a place in the text, given as line and column
        "invalid YAML at line 3",
    ),
    "a probe's relative time on an argument it does not take": BadSpec(
        GOOD.replace("x-oneapi-service: pets\n", "x-oneapi-service: pets\nx-oneapi-probe:\n  operationId: GetPet\n"
                     "  relative-time: {since: {seconds: -86400, as: epoch_ms}}\n"),
        "/x-oneapi-probe/relative-time",
        "'since' is not an argument of the probe pets_get_pet",
    ),
    "a probe's relative time without its form": BadSpec(
        GOOD.replace("x-oneapi-service: pets\n", "x-oneapi-service: pets\nx-oneapi-probe:\n  operationId: GetPet\n"
                     "  relative-time: {petId: {seconds: -86400}}\n"),
        "/x-oneapi-probe/relative-time",
        "petId: needs `seconds` (an integer offset from now) and `as`",
    ),
    "dangling $ref": BadSpec(
        GOOD.replace("schema: {$ref: '#/components/schemas/Pet'}", "schema: {$ref: '#/components/schemas/Dog'}"),
        "/paths/~1pets~1{petId}/get/responses/200/content/application~1json/schema/$ref",
        "dangling $ref '#/components/schemas/Dog'",
    ),
    "duplicate operationId": BadSpec(
        GOOD.replace("operationId: GetPet", "operationId: ListPets"),
        "/paths/~1pets~1{petId}/get/operationId",
        "duplicate operationId 'ListPets' (first at /paths/~1pets/get/operationId)",
    ),
    "colliding tool names": BadSpec(
        _with_path("""\
  /v1/pets:
    get:
      operationId: listPets
      description: Lists the pets through the old path.
      responses:
        '200': {description: The pets.}
"""),
        "/paths/~1v1~1pets/get",
        "tool name 'pets_list_pets' of GET /v1/pets (operationId 'listPets') collides with GET /pets "
        "(operationId 'ListPets', at /paths/~1pets/get); name GET /v1/pets in specs/overlays/pets.yaml: an action "
        "with target \"$.paths['/v1/pets'].get\" and update {x-oneapi-name: pets_list_pets_2}",
    ),
    "undeclared path variable": BadSpec(
        _with_path(_TOY_PATH % ""),
        "/paths/~1pets~1{petId}~1toys/get",
        "path parameter 'petId' is not declared",
    ),
    "path parameter missing from the path": BadSpec(
        _with_path(_TOY_PATH.replace("/pets/{petId}/toys", "/pets/toys") % (
            "      parameters:\n      - {name: petId, in: path, required: true, schema: {type: integer}}\n")),
        "/paths/~1pets~1toys/get",
        "path parameter 'petId' is not in the path '/pets/toys'",
    ),
    "service name that is not the file name": BadSpec(
        GOOD.replace("x-oneapi-service: pets", "x-oneapi-service: animals"),
        "/x-oneapi-service",
        "service name 'animals' must match the file name 'pets.yaml'",
    ),
}


def _quiet(*_args) -> None:
    pass


def _snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` except the spec itself, which the test rewrites on purpose."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.suffix != ".yaml" and "__pycache__" not in p.parts
    }


def _cli_generate(specs: Path, out: Path, toolsnaps: Path) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "oneapi_mcp.codegen", "generate",
           "--specs", str(specs), "--out", str(out), "--toolsnaps", str(toolsnaps)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture
def generated_good(tmp_path):
    """A spec directory holding the good spec, already generated into `tmp_path/out`."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "pets.yaml").write_text(GOOD)
    generate(specs, tmp_path / "out", jobs=1, log=_quiet)
    assert (tmp_path / "out" / "pets" / "tools.py").exists() and (specs / "names.lock.json").exists()
    return specs


@pytest.mark.parametrize("case", BAD_SPECS)
def test_a_bad_spec_is_an_error_naming_the_file_and_pointer_and_changes_nothing(case, generated_good, tmp_path):
    bad = BAD_SPECS[case]
    spec = generated_good / "pets.yaml"
    out = tmp_path / "out"
    before = _snapshot(tmp_path)
    spec.write_text(bad.text)

    with pytest.raises(SpecError) as caught:
        generate(generated_good, out, jobs=1, log=_quiet)
    found = [(p.level, p.file, p.pointer) for p in caught.value.problems if bad.message in p.message]
    assert found == [("error", str(spec), bad.pointer)], "\n".join(map(str, caught.value.problems))
    assert _snapshot(tmp_path) == before

    run = _cli_generate(generated_good, out, tmp_path / "toolsnaps")
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"error: {spec}#{bad.pointer}: " in run.stderr and bad.message in run.stderr
    assert "left untouched" in run.stderr
    assert _snapshot(tmp_path) == before


def test_every_error_in_a_run_is_reported_together_not_only_the_first(generated_good, tmp_path):
    spec = generated_good / "pets.yaml"
    spec.write_text(BAD_SPECS["dangling $ref"].text.replace("operationId: GetPet", "operationId: ListPets"))
    with pytest.raises(SpecError) as caught:
        generate(generated_good, tmp_path / "out", jobs=1, log=_quiet)
    assert sorted(p.pointer for p in caught.value.problems) == [
        "/paths/~1pets~1{petId}/get/operationId",
        "/paths/~1pets~1{petId}/get/responses/200/content/application~1json/schema/$ref",
    ]


def test_one_bad_spec_keeps_every_other_service_from_being_rewritten_too(generated_good, tmp_path):
    other = generated_good / "geo.yaml"
    other.write_text(GOOD.replace("x-oneapi-service: pets", "x-oneapi-service: geo"))
    generate(generated_good, tmp_path / "out", jobs=1, log=_quiet)
    before = _snapshot(tmp_path)
    other.write_text(GOOD.replace("x-oneapi-service: pets", "x-oneapi-service: geo")
                     .replace("Lists the pets.", "Lists the pets, changed."))  # geo alone would regenerate
    (generated_good / "pets.yaml").write_text(BAD_SPECS["dangling $ref"].text)
    with pytest.raises(SpecError) as caught:
        generate(generated_good, tmp_path / "out", jobs=1, log=_quiet)
    assert {p.file for p in caught.value.problems} == {str(generated_good / "pets.yaml")}
    assert _snapshot(tmp_path) == before


def test_an_error_in_an_overlay_names_the_overlay_file_and_the_action(generated_good, tmp_path):
    overlay = generated_good / "overlays" / "pets.yaml"
    overlay.parent.mkdir()
    overlay.write_text("overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - update: {description: x}\n")
    before = _snapshot(tmp_path)
    with pytest.raises(SpecError) as caught:
        generate(generated_good, tmp_path / "out", jobs=1, log=_quiet)
    assert [(p.file, p.pointer, p.message) for p in caught.value.problems] == [
        (str(overlay), "/actions/0", "action has no target")]
    assert _snapshot(tmp_path) == before


_WARNINGS_ONLY = GOOD.replace(
    "      operationId: GetPet\n      description: Returns one pet.\n", ""  # no operationId, no description
).replace(
    "      - {name: petId, in: path, required: true, schema: {type: integer}}\n",
    "      - {name: petId, in: path, required: true, schema: {type: integer}}\n"
    "      - {name: X-Trace, in: header, schema: {type: string}}\n",
)


def test_warnings_are_reported_and_do_not_stop_generation(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    spec = specs / "pets.yaml"
    spec.write_text(_WARNINGS_ONLY)
    result = generate(specs, tmp_path / "out", jobs=1, log=_quiet)
    assert result.generated == ("pets",)
    assert sorted((w.level, w.file, w.pointer, w.message) for w in result.warnings) == [
        ("warning", str(spec), "/paths/~1pets~1{petId}/get", "header parameter 'X-Trace' is not exposed"),
        ("warning", str(spec), "/paths/~1pets~1{petId}/get", "no operationId; using 'getPetsPetId'"),
        ("warning", str(spec), "/paths/~1pets~1{petId}/get", "operation has no description"),
    ]
    tools = (tmp_path / "out" / "pets" / "tools.py").read_text()
    assert '"name": "pets_get_pets_pet_id"' in tools and '"description": "Calls GET /pets/{petId}."' in tools


def test_the_cli_prints_warnings_and_exits_zero(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "pets.yaml").write_text(_WARNINGS_ONLY)
    run = _cli_generate(specs, tmp_path / "out", tmp_path / "toolsnaps")
    assert run.returncode == 0, run.stderr
    assert "3 warning(s)" in run.stdout and "no operationId; using 'getPetsPetId'" in run.stdout
    assert (tmp_path / "out" / "pets" / "tools.py").exists()
