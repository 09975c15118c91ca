"""Shared fixtures. No test touches the network; HTTP goes through injected transports."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SERVICES = tuple(sorted(p.stem for p in SPECS.glob("*.yaml")))  # one spec per service


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
