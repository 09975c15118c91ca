"""`make check-generated` fails when generated/ is stale against specs/ (shown on a small spec)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from oneapi_mcp.codegen._generate import check_generated, generate

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def _zid_tree(tmp_path_factory) -> Path:
    """specs/zid.yaml and the tree generated from it, once per module (generating takes seconds)."""
    where = tmp_path_factory.mktemp("zid")
    (where / "specs").mkdir()
    shutil.copy(ROOT / "specs" / "zid.yaml", where / "specs" / "zid.yaml")
    first = generate(where / "specs", where / "generated", jobs=1, log=lambda *_: None)
    assert first.generated == ("zid",) and first.skipped == ()
    return where


@pytest.fixture
def zid_tree(_zid_tree, tmp_path) -> tuple[Path, Path]:
    """This test's own copy of the spec and its freshly generated tree: (specs, generated)."""
    shutil.copytree(_zid_tree, tmp_path, dirs_exist_ok=True)
    return tmp_path / "specs", tmp_path / "generated"


def test_a_hand_edit_or_a_spec_edit_is_reported_as_stale(zid_tree):
    specs, out = zid_tree
    assert check_generated(specs, out) == []

    tools = out / "zid" / "tools.py"
    tools.write_text(tools.read_text() + "# edited by hand\n")
    assert check_generated(specs, out) == [f"stale {tools}"]

    generate(specs, out, force=True, jobs=1, log=lambda *_: None)
    (specs / "zid.yaml").write_text((specs / "zid.yaml").read_text().replace("Lists API clients", "Lists the clients"))
    stale = check_generated(specs, out)
    assert f"stale {out / 'zid' / 'tools.py'}" in stale


def test_an_unchanged_spec_is_skipped_by_hash_and_the_output_is_untouched(zid_tree):
    specs, out = zid_tree  # generated once already (the module fixture checks that run generated zid)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    second = generate(specs, out, jobs=1, log=lambda *_: None)
    assert second.generated == () and second.skipped == ("zid",)
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_the_cli_check_exits_non_zero_on_a_stale_tree(zid_tree):
    specs, out = zid_tree
    (out / "zid" / "schemas.json").write_text("{}\n")
    cmd = [sys.executable, "-m", "oneapi_mcp.codegen", "check", "--specs", str(specs), "--out", str(out)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.returncode == 1
    assert "stale" in run.stderr and "schemas.json" in run.stderr
