"""The services table (generated/services.py): one row per spec, read by everything that lists services."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import load_spec_doc
from oneapi_mcp.generated.services import SERVICES, service_for_path

ROOT = Path(__file__).resolve().parent.parent


def test_there_is_one_row_per_spec_with_the_specs_own_keys():
    specs = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml"))
    assert sorted(SERVICES) == specs
    for name, row in SERVICES.items():
        doc = load_spec_doc(name)
        assert row.name == doc["x-oneapi-service"] == name
        assert row.title == doc["info"]["title"] and row.short == doc["x-oneapi-short-name"]
        assert row.base_paths == tuple(doc["x-oneapi-base-paths"])
        assert set(row.rate_classes) == set(doc["x-oneapi-rate-classes"])
        assert row.rate_limit_headers == doc["x-oneapi-rate-limit-headers"]
        paths = [p for p in doc["paths"]]
        assert all(p.startswith(row.prefix) for p in paths), name
        assert all(any(p.startswith(base) for base in row.base_paths) for p in paths), name


def test_every_probe_takes_its_arguments(catalog):
    for row in SERVICES.values():
        # the executor fills ZPA's and ZMS's customerId from the settings
        arguments = {**row.probe_arguments, **({"customerId": "7"} if row.name in ("zpa", "zms") else {})}
        catalog.input_model(row.probe).model_validate(arguments)  # raises when they do not fit


def test_a_path_finds_its_service_by_its_first_segment():
    assert service_for_path("/ziam/admin/api/v1/users") == "zid"
    assert service_for_path("/ztb/api/v3/CloudGateway/hubs") == "ztb"
    assert service_for_path("/bi/api/v1/customapps") == "zbi"
    assert service_for_path("/easm/easm-ui/v1/organizations") == "easm"
    assert service_for_path("/nowhere/v1") is None


def test_the_runtime_lists_read_the_table(catalog):
    from oneapi_mcp.plugins.composite import discovery

    from oneapi_mcp import _contract, _doctor, _scopes_report
    from oneapi_mcp.mock import _spec

    assert set(_spec.SERVICES) == set(_contract.SERVICES) == set(SERVICES) == set(catalog.services)
    probed = {name for name, row in SERVICES.items() if row.probe}
    assert probed == set(SERVICES)  # every service, the GraphQL ones too (codegen/_graphql.py _PROBES)
    assert set(_scopes_report.SERVICE_NAMES) == set(SERVICES) and set(_doctor.PROBES) == probed
    assert set(discovery.SERVICES) == set(SERVICES)
    assert {_doctor.PROBES[s][0] for s in probed} == {row.probe for row in SERVICES.values() if row.probe}


def test_the_readme_table_lists_every_service_and_its_operation_count():
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z0-9]+)` \| [^|]+ \| [^|]+ \| (\d+) \|", readme, re.M))
    assert {k: int(v) for k, v in rows.items()} == {name: row.operations for name, row in SERVICES.items()}
    total = sum(row.operations for row in SERVICES.values())
    assert f"{total:,} operations" in readme
