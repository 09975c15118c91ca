"""The container image (Dockerfile, `make image`) and the Helm chart (deploy/helm/oneapi-mcp).

- The HTTP smoke test (initialize, tools/list, one mock call, /healthz, /readyz) runs against the image when
  one is here: `oneapi-mcp:<version>` already built, or built by this test when ONEAPI_MCP_TEST_BUILD_IMAGE=1
  (minutes: kept out of CI's default run). It runs the image with `podman run`, or where this machine cannot
  run OCI containers (cgroups, rlimits) with `buildah run --isolation chroot` on the image's own file system.
  Otherwise it is skipped with the reason.
- The same install steps always run: a fresh directory, a non-root user, the installed tree read-only, and
  everything written under one data directory, as in the image; then the same HTTP smoke test.
- helm is not installable here (not in Debian, PyPI or npm), so the chart is validated by parsing every
  template's YAML with the template actions replaced by placeholders, and checking kinds, probes and secrets.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from _install import CLEAN_ENV, DEBIAN_PYTHON, ROOT, install, wheel, wheelhouse
from mcp import Client

from oneapi_mcp import __version__
from oneapi_mcp._ports import free_port, wait_for_port

IMAGE = f"oneapi-mcp:{__version__}"
CHART = ROOT / "deploy" / "helm" / "oneapi-mcp"
NOBODY = 65534


# -- the HTTP smoke test, shared ------------------------------------------------------------------
async def _smoke(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"{base}/healthz")).json() == {"status": "ok"}
        assert (await http.get(f"{base}/readyz")).status_code == 200
    async with Client(f"{base}/mcp", cache=None, mode="legacy") as client:  # legacy: the initialize handshake
        names = [t.name for t in (await client.list_tools()).tools]
        assert names[:3] == ["search_operations", "describe_operation", "invoke_operation"]
        users = await client.call_tool("invoke_operation", {"name": "zia_list_users", "arguments": {"max_items": 3}})
        assert not users.is_error, users.content[0].text
        assert users.structured_content["result"]["count"] == 3


@contextmanager
def _serving(cmd: list[str], port: int, **kwargs) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    try:
        wait_for_port(port, process, timeout=90, what=" ".join(cmd[:3]))
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _serve_args(port: int) -> list[str]:
    return ["serve", "--transport", "http", "--mock", "--host", "127.0.0.1", "--port", str(port)]


# -- the same install steps as the image, as a non-root user --------------------------------------
@pytest.fixture
def fresh() -> Iterator[Path]:
    """A fresh directory outside pytest's (root-only) temp tree, so a non-root user can reach it."""
    path = Path(tempfile.mkdtemp(prefix="oneapi-mcp-fresh-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.anyio
async def test_the_image_install_steps_work_for_a_non_root_user_with_a_read_only_tree(fresh):
    # Debian's python3 where there is one: the image's interpreter, reachable by any user
    python = DEBIAN_PYTHON if Path(DEBIAN_PYTHON).exists() else sys.executable
    wheels = fresh / "wheels"
    shutil.copytree(wheelhouse(python), wheels)
    shutil.copy2(wheel(), wheels)
    root = os.geteuid() == 0
    user = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if root else []
    if root:
        for path in [fresh, *fresh.rglob("*")]:
            shutil.chown(path, NOBODY, NOBODY)
    script = install(fresh / "opt", user=user, wheels=wheels, python=python)
    if root:  # as in the image: the installed tree belongs to root, the server's user only reads it
        for path in [fresh / "opt", *(fresh / "opt").rglob("*")]:
            os.lchown(path, 0, 0)
    data = fresh / "data"
    data.mkdir()
    if root:
        shutil.chown(data, NOBODY, NOBODY)
    before = sorted(p.relative_to(fresh / "opt") for p in (fresh / "opt").rglob("*"))
    env = {**CLEAN_ENV, "HOME": str(data), "XDG_DATA_HOME": str(data), "PYTHONDONTWRITEBYTECODE": "1",
           "ONEAPI_MCP_AUDIT_LOG": str(data / "audit.jsonl")}
    port = free_port()
    with _serving([*user, str(script), *_serve_args(port)], port, env=env, cwd=data):
        await _smoke(port)
    assert (data / "audit.jsonl").read_text().count('"tool"') >= 1  # written under the data directory
    assert sorted(p.relative_to(fresh / "opt") for p in (fresh / "opt").rglob("*")) == before


# -- the image itself -----------------------------------------------------------------------------
def _have_image() -> str | None:
    """None when the image is here (building it if asked), else why not."""
    if not shutil.which("podman"):
        return "podman is not installed (Debian: apt-get install podman buildah debootstrap)"
    if subprocess.run(["podman", "image", "exists", IMAGE], timeout=30).returncode == 0:
        return None
    if os.environ.get("ONEAPI_MCP_TEST_BUILD_IMAGE") != "1":
        return f"no image {IMAGE}: run `make image`, or set ONEAPI_MCP_TEST_BUILD_IMAGE=1 to build it here"
    build = subprocess.run(["make", "image"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    if build.returncode != 0:
        pytest.fail(f"make image failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}")
    return None


def _podman_run_works() -> str | None:
    probe = subprocess.run(["podman", "run", "--rm", "--no-healthcheck", "--network", "host", IMAGE, "--version"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode == 0 and probe.stdout.strip() == f"oneapi-mcp {__version__}":
        return None
    return probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit {probe.returncode}"


@pytest.mark.anyio
async def test_the_image_serves_http_initialize_tools_list_and_a_mock_call():
    missing = _have_image()
    if missing:
        pytest.skip(missing)
    port = free_port()
    why_not = _podman_run_works()
    if why_not is None:
        name = f"oneapi-mcp-test-{port}"
        cmd = ["podman", "run", "--rm", "--name", name, "--read-only", "--network", "host",
               "--tmpfs", "/data:uid=10001,gid=10001", IMAGE, *_serve_args(port)]
        with _serving(cmd, port):
            await _smoke(port)
        return
    if not (shutil.which("buildah") and os.geteuid() == 0):
        pytest.skip(f"this machine cannot run containers ({why_not}) and has no buildah as root")
    print(f"podman run is unavailable here ({why_not}); running the image's file system with buildah chroot")
    container = subprocess.run(["buildah", "from", IMAGE], capture_output=True, text=True, timeout=120,
                               check=True).stdout.strip().splitlines()[-1]
    try:
        cmd = ["buildah", "run", "--isolation", "chroot", "--network", "host", "--user", "10001:10001",
               container, "--", "oneapi-mcp", *_serve_args(port)]
        with _serving(cmd, port):
            await _smoke(port)
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, timeout=60)


def test_the_dockerfile_is_multi_stage_non_root_with_data_under_one_volume_and_a_health_check():
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM .*$", text, re.M)
    assert len(stages) == 2 and " AS build" in stages[0]
    final = text[text.rindex("\nFROM "):]
    assert re.search(r"^USER 10001", final, re.M)
    assert 'VOLUME ["/data"]' in final and "XDG_DATA_HOME=/data" in final and "ONEAPI_MCP_AUDIT_LOG=/data/" in final
    assert "PYTHONDONTWRITEBYTECODE=1" in final  # a read-only root: no .pyc written at run time
    assert "/healthz" in final and "HEALTHCHECK" in final
    assert re.search(r'CMD \["serve", "--transport", "http"', final)
    assert not re.search(r"\b(gcc|build-essential|apt-get install)\b", final)


# -- the Helm chart -------------------------------------------------------------------------------
ACTION = re.compile(r"\{\{-?(.*?)-?\}\}")
CONTROL = re.compile(r"^\s*\{\{-?\s*(if|else|end|with|range|define)\b.*\}\}\s*$")
WHOLE_LINE = re.compile(r"^(\s*)\{\{-?.*\}\}\s*$")  # e.g. `{{- include "labels" . | nindent 4 }}`: a block


def _template_documents(path: Path) -> list[dict]:
    """The template's YAML with control lines dropped (every branch kept), a whole-line action (an
    included or toYaml'd block) as a placeholder key, and inline actions as placeholder scalars."""
    lines = []
    for number, line in enumerate(path.read_text().splitlines()):
        if CONTROL.match(line):
            continue
        block = WHOLE_LINE.match(line)
        lines.append(f"{block.group(1)}placeholder-{number}: PLACEHOLDER" if block else ACTION.sub("PLACEHOLDER", line))
    return [doc for doc in yaml.safe_load_all("\n".join(lines)) if doc]


def _values_used(text: str) -> set[str]:
    return set(re.findall(r"\.Values\.([A-Za-z0-9_.]+)", text))


def test_the_helm_chart_has_the_kinds_probes_and_secret_references_of_docs_deploy():
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["appVersion"] == __version__ == chart["version"]
    docs = [doc for tpl in sorted((CHART / "templates").glob("*.yaml")) for doc in _template_documents(tpl)]
    kinds = sorted(doc["kind"] for doc in docs)
    assert kinds == ["ConfigMap", "Deployment", "Deployment", "PodDisruptionBudget", "Service", "Service"]
    app = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "PLACEHOLDER")
    pod = app["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/etc/oneapi-mcp", "/data"}
    env = {e["name"]: e for e in container["env"]}
    for secret in ("ZSCALER_CLIENT_ID", "ZSCALER_CLIENT_SECRET", "ZPA_CUSTOMER_ID", "ONEAPI_MCP_API_KEY_HASHES"):
        assert "secretKeyRef" in env[secret]["valueFrom"], secret  # references, never values
    configmap = next(d for d in docs if d["kind"] == "ConfigMap")
    assert "servers.toml" in configmap["data"]


def test_every_value_the_templates_use_is_defined_and_the_defaults_match_docs_deploy():
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for tpl in sorted((CHART / "templates").glob("*")):
        for dotted in _values_used(tpl.read_text()):
            node = values
            for part in dotted.split("."):
                assert isinstance(node, dict) and part in node, f"{tpl.name}: .Values.{dotted} is not in values.yaml"
                node = node[part]
    assert values["args"][:3] == ["serve", "--transport", "http"] and "/etc/oneapi-mcp/servers.toml" in values["args"]
    assert values["image"]["repository"] == "registry.example.com/oneapi-mcp"
    import tomllib

    assert "servers" in tomllib.loads(values["serversToml"])


def test_the_helper_template_defines_every_include_the_templates_use():
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    defined = set(re.findall(r'define "([^"]+)"', helpers))
    templates = [tpl.read_text() for tpl in (CHART / "templates").glob("*")]
    used = {name for text in templates for name in re.findall(r'include "([^"]+)"', text)}
    assert used <= defined, used - defined

