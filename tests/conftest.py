"""Shared fixtures. No test touches the network; HTTP goes through injected transports."""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SERVICES = tuple(sorted(p.stem for p in SPECS.glob("*.yaml")))  # one spec per service
# Variables that make tests rewrite their expected files instead of checking them: such a run passes by
# construction, so it is refused when CI is set (see pytest_configure). A new one must be listed here.
UPDATE_VARIABLES = ("UPDATE_GOLDEN", "UPDATE_TOOLSNAPS")


def updating(variable: str) -> bool:
    """Whether this run rewrites the expected files `variable` governs (e.g. UPDATE_TOOLSNAPS=1)."""
    if variable not in UPDATE_VARIABLES:
        raise ValueError(f"{variable} is not an update variable; list it in conftest.UPDATE_VARIABLES")
    return os.environ.get(variable, "").strip() not in ("", "0", "false")


def refuse_updates_in_ci() -> None:
    """Raise a usage error naming the variables when CI is set and any update variable is too."""
    asked = [v for v in UPDATE_VARIABLES if updating(v)]
    if asked and os.environ.get("CI", "").strip() not in ("", "0", "false"):
        raise pytest.UsageError(
            f"{', '.join(asked)} set with CI={os.environ['CI']}: CI checks expected files, it never rewrites them "
            "(a rewriting run passes by construction). Unset it, or regenerate locally and commit the result.")


def pytest_configure(config):
    refuse_updates_in_ci()
    # Servers keep their state (schedules, outbox, snapshots, audit) under XDG_DATA_HOME/oneapi-mcp/<server>
    # unless a test names a data directory: one directory per test process (each xdist worker has its own),
    # never the developer's ~/.local/share; subprocesses inherit it. Set before collection: harness modules
    # read the environment when the servers start.
    config._oneapi_mcp_data_home = tempfile.TemporaryDirectory(prefix="oneapi-mcp-tests-")
    config._oneapi_mcp_saved_data_home = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = config._oneapi_mcp_data_home.name


# `make test` hands whole files to xdist's workers (--dist loadfile) in collection order (--no-loadscope-reorder):
# the files that take longest (wall: servers, subprocesses, sleeps; bench/suite_times.sh) start first, so the run
# does not end on one of them while the other workers idle; the rest follow, most tests first (xdist's own
# order). Tests within a file keep their order. Only the order changes: a stale list costs time, not coverage.
LONGEST_FIRST = ("tests/test_sockets_policy.py", "tests/test_e2e.py", "tests/test_image.py", "tests/test_reload.py",
                 "tests/test_install.py", "tests/test_fault_matrix.py", "tests/test_composite_scheduler.py",
                 "tests/test_conformance.py", "tests/test_replicas.py", "tests/test_composite_analytics.py",
                 "tests/test_search_benchmark.py", "tests/test_composite_reverse.py", "tests/test_properties_tools.py",
                 "tests/test_mock_recorded.py", "tests/test_metrics.py")


def pytest_collection_modifyitems(config, items):
    files = [item.nodeid.split("::", 1)[0] for item in items]
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    count = {name: files.count(name) for name in set(files)}
    order = {id(item): (rank.get(name, len(rank)), -count[name], name) for item, name in zip(items, files, strict=True)}
    items.sort(key=lambda item: order[id(item)])  # stable: a file's tests keep their order


def pytest_unconfigure(config):
    data_home = getattr(config, "_oneapi_mcp_data_home", None)
    if data_home is None:
        return
    saved = config._oneapi_mcp_saved_data_home
    if saved is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = saved
    data_home.cleanup()


@cache
def load_spec_doc(service: str) -> dict:
    return yaml.load((SPECS / f"{service}.yaml").read_bytes(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield path, method, op


@pytest.fixture(scope="session")
def catalog():
    from oneapi_mcp import load_catalog

    return load_catalog()


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(autouse=True)
def plugin_manager():
    """Each test gets a fresh plugin manager with the built-in plugins and no entry-point plugins
    (the test of the example package loads those itself); throwaway plugins go with it."""
    from oneapi_mcp import _plugins

    pm = _plugins.create_plugin_manager(entrypoints=False)
    _plugins.set_plugin_manager(pm)
    yield pm
    _plugins.set_plugin_manager(None)


@pytest.fixture(scope="module")
def _mock_server():
    from oneapi_mcp.mock import MockServer

    with MockServer() as server:
        yield server


@pytest.fixture
def upstream(_mock_server):
    """The mock OneAPI on a real socket (one per test module), back at its seed for each test."""
    _mock_server.mock.reset()
    return _mock_server
