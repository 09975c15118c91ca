"""Shared fixtures. No test touches the network; HTTP goes through injected transports."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SERVICES = ("zia", "zpa", "zdx", "zcc", "zid", "ztw")


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
