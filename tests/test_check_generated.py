"""`make check-generated` fails when generated/ is stale against specs/ (shown on two small services).

It regenerates only the services whose inputs' fingerprint or files changed (issue 16), so each test shows both
that a change is caught, naming the file, and which services were regenerated to find it."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from oneapi_mcp.codegen import _generate, _render
from oneapi_mcp.codegen._check import check_generated
from oneapi_mcp.codegen._generate import generate

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("zbi", "zid")  # two small services, each with its overlays


@pytest.fixture(scope="module")
def _tree(tmp_path_factory) -> Path:
    """The two services' specs and overlays and the tree generated from them, once per module (seconds)."""
    where = tmp_path_factory.mktemp("two")
    (where / "specs" / "overlays").mkdir(parents=True)
    for svc in SERVICES:
        shutil.copy(ROOT / "specs" / f"{svc}.yaml", where / "specs")
        for overlay in (ROOT / "specs" / "overlays").glob(f"{svc}.*yaml"):
            shutil.copy(overlay, where / "specs" / "overlays")
    shutil.copy(ROOT / "specs" / "overlays" / "vocabulary.yaml", where / "specs" / "overlays")
    first = generate(where / "specs", where / "generated", jobs=1, log=lambda *_: None)
    assert first.generated == SERVICES and first.skipped == ()
    return where


@pytest.fixture
def tree(_tree, tmp_path) -> tuple[Path, Path]:
    """This test's own copy of the specs and their freshly generated tree: (specs, generated)."""
    shutil.copytree(_tree, tmp_path, dirs_exist_ok=True)
    return tmp_path / "specs", tmp_path / "generated"


def check(specs: Path, out: Path, **kwargs) -> tuple[list[str], list[str]]:
    """(what check_generated reports, the services it regenerated to compare)."""
    said: list[str] = []
    problems = check_generated(specs, out, log=said.append, **kwargs)
    regenerated = [line.split(":")[1].strip() for line in said if "regenerating to compare" in line]
    return problems, regenerated


def test_an_untouched_tree_passes_without_regenerating_any_service(tree):
    assert check(*tree) == ([], [])


def test_a_hand_edit_is_caught_naming_the_file_and_only_that_service_is_regenerated(tree):
    specs, out = tree
    tools = out / "zid" / "tools.py"
    tools.write_text(tools.read_text() + "# edited by hand\n")
    assert check(specs, out) == ([f"stale {tools}"], ["zid"])


def test_a_hand_edit_that_also_rewrites_the_manifest_is_still_caught(tree):
    specs, out = tree
    models = out / "zbi" / "models.py"
    models.write_text(models.read_text().replace("class ", "class Edited", 1))
    from oneapi_mcp.codegen._manifest import write_manifest

    write_manifest(out / "zbi")
    problems, regenerated = check(specs, out)
    assert regenerated == []  # the manifest vouches for the edit: only the full check sees it
    problems, regenerated = check(specs, out, full=True)
    assert sorted(problems) == [f"stale {out / 'zbi' / 'files.sha256'}", f"stale {models}"]
    assert regenerated == []  # --full logs one line, not one per service


def test_a_spec_edit_is_caught_before_anyone_regenerates(tree):
    specs, out = tree
    (specs / "zid.yaml").write_text((specs / "zid.yaml").read_text().replace("Lists API clients", "Lists the clients"))
    problems, regenerated = check(specs, out)
    assert regenerated == ["zid"]
    assert f"stale {out / 'zid' / 'tools.py'}" in problems and f"stale {out / 'zid' / '__init__.py'}" in problems


def test_an_overlay_edit_is_caught(tree):
    specs, out = tree
    overlay = specs / "overlays" / "zid.yaml"
    overlay.write_text(overlay.read_text().replace("Lists ZIdentity API clients", "Lists the API clients", 1))
    problems, regenerated = check(specs, out)
    assert regenerated == ["zid"]
    assert f"stale {out / 'zid' / 'tools.py'}" in problems


def test_a_codegen_source_edit_is_caught(tree, tmp_path, monkeypatch):
    """A copy of codegen/ with one template edited stands in for the checkout's (tests never edit the tree)."""
    specs, out = tree
    codegen = tmp_path / "codegen"
    shutil.copytree(ROOT / "codegen", codegen, ignore=shutil.ignore_patterns("__pycache__"))
    template = codegen / "templates" / "tools.py.j2"
    template.write_text(template.read_text() + "# one more line\n")
    monkeypatch.setattr(_generate, "_CODEGEN_DIR", codegen)
    monkeypatch.setattr(_render, "_TEMPLATES", codegen / "templates")
    problems, regenerated = check(specs, out)
    assert regenerated == list(SERVICES)
    assert f"stale {out / 'zid' / 'tools.py'}" in problems and f"stale {out / 'zbi' / '__init__.py'}" in problems


def test_unknown_files_are_caught_in_a_service_and_beside_the_services(tree):
    specs, out = tree
    (out / "zbi" / "inputs" / "extra.py").write_text("X = 1\n")
    (out / "notes.txt").write_text("left here\n")
    (out / "gone").mkdir()
    (out / "gone" / "tools.py").write_text("TOOLS = ()\n")
    problems, regenerated = check(specs, out)
    assert regenerated == ["zbi"]
    assert problems == [f"unexpected {out / 'gone' / 'tools.py'}", f"unexpected {out / 'notes.txt'}",
                        f"unexpected {out / 'zbi' / 'inputs' / 'extra.py'}"]


def test_a_removed_file_and_a_stale_package_table_are_caught(tree):
    specs, out = tree
    (out / "zid" / "schemas.json").unlink()
    services = out / "services.py"
    services.write_text(services.read_text().replace("zbi", "zbx"))
    problems, regenerated = check(specs, out)
    assert regenerated == ["zid"]
    assert problems == [f"missing {out / 'zid' / 'schemas.json'}", f"stale {services}"]


def test_an_unchanged_spec_is_skipped_by_hash_and_the_output_is_untouched(tree):
    specs, out = tree
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = generate(specs, out, jobs=1, log=lambda *_: None)
    assert second.generated == () and second.skipped == SERVICES
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_generate_repairs_a_hand_edit_it_would_otherwise_skip(tree):
    specs, out = tree
    tools = out / "zid" / "tools.py"
    original = tools.read_bytes()
    tools.write_text("# edited by hand\n")
    assert generate(specs, out, jobs=1, log=lambda *_: None).generated == ("zid",)
    assert tools.read_bytes() == original and check(specs, out) == ([], [])


def test_the_cli_check_exits_non_zero_on_a_stale_tree(tree):
    specs, out = tree
    (out / "zid" / "schemas.json").write_text("{}\n")
    cmd = [sys.executable, "-m", "oneapi_mcp.codegen", "check", "--specs", str(specs), "--out", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 1
    assert f"stale {out / 'zid' / 'schemas.json'}" in run.stderr


def test_every_runtime_module_the_generator_imports_is_in_its_fingerprint():
    imported = set()
    for path in (ROOT / "codegen").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2:  # from .._x import ...: oneapi_mcp._x
                imported.add(f"oneapi_mcp.{node.module}")
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                imported.update(n for n in names if n.startswith("oneapi_mcp.") and not n.startswith(
                    "oneapi_mcp.codegen"))
    assert imported == set(_generate._RUNTIME_MODULES)


def test_the_models_do_not_depend_on_the_directory_generate_runs_in(tmp_path, monkeypatch):
    """datamodel-code-generator reads the line length from the nearest pyproject.toml unless it is given one."""
    field = {"type": "string", "description": "A description long enough to be wrapped at forty characters or so."}
    doc = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {},
           "components": {"schemas": {"Thing": {"type": "object", "properties": {"some_field": field}}}}}
    here = _render._datamodel(doc)
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 40\n")
    monkeypatch.chdir(tmp_path)
    assert _render._datamodel(doc) == here
