"""Contract: every operation of every vendored spec against the mock, in process, with schemathesis.

Each operation gets a few generated requests (valid and invalid) with a bearer token from the mock,
and schemathesis' default checks judge the answers: no server errors, documented status codes and
content types, response bodies that match their schemas, invalid input rejected and valid input
accepted. Answers are checked against `contract_document(svc)`: the vendored spec plus the few
documented wire-format corrections listed in `oneapi_mcp.mock._contract` (ZPA numbers as strings,
null end-of-list links, ZIdentity list pages). Then stateful tests follow the specs' `links`
(create, then get, update and delete what was created).

Speed: the fuzzing phase with MAX_EXAMPLES per operation. `ONEAPI_CONTRACT_EXAMPLES=N` changes
that. `ONEAPI_CONTRACT_COVERAGE=zid,zdx,zcc,ztw` (or `all`) adds schemathesis' coverage phase
(boundary, type-mutation and missing-value cases) for those services: many times the cases, and for
ZIA and ZPA schemathesis spends many minutes and gigabytes building them, so it is not the default.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from oneapi_mcp.generated.services import SERVICES as SERVICE_TABLE
from schemathesis.config import SchemathesisConfig

from oneapi_mcp.mock import FaultConfig, contract_document, create_mock_app
from oneapi_mcp.mock._zdx import MAX_WINDOW_DAYS as ZDX_WINDOW_LIMITS

SERVICES = tuple(SERVICE_TABLE)
MAX_EXAMPLES = int(os.environ.get("ONEAPI_CONTRACT_EXAMPLES", "3"))
_COVERAGE = os.environ.get("ONEAPI_CONTRACT_COVERAGE", "")
COVERAGE = set(SERVICES) if _COVERAGE in ("1", "all") else set(filter(None, _COVERAGE.split(",")))

# Operations left out of the contract run, by "METHOD /path", with the reason. Only an operation
# whose spec cannot be satisfied belongs here; a mock bug found by schemathesis gets fixed instead.
EXCLUDED: dict[str, str] = {}

_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' default for valid requests

# Explicit arguments, so ONEAPI_MOCK_* variables in the environment cannot change the run.
MOCK = create_mock_app(seed=0, token_lifetime=86_400, rate_limits=False, faults=FaultConfig())
TOKEN = MOCK.token()
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def plugin_manager():
    """Instead of conftest's fresh plugin manager per test: these cases reach the mock alone, which runs no
    plugin, and 1,456 managers cost ~9 s of CPU. Checked after each case: nothing asked for one."""
    from oneapi_mcp import _plugins

    _plugins.set_plugin_manager(None)
    yield None
    assert _plugins._pm is None, "a contract case made a plugin manager: drop this override"


class Tally:
    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.operations: dict[str, set[str]] = {service: set() for service in SERVICES}
        self.steps = 0
        self.started: float | None = None
        self.finished = 0.0

    def count(self, service: str, label: str) -> None:
        now = time.perf_counter()
        self.started = self.started or now
        self.finished = now
        self.cases[service] += 1
        self.operations[service].add(label)


TALLY = Tally()


def _schema(service: str) -> schemathesis.BaseSchema:
    config = SchemathesisConfig.from_dict(
        {
            "auth": {"openapi": {"oneapi": {"bearer": TOKEN}}},
            "phases": {
                "examples": {"enabled": False},
                "coverage": {"enabled": service in COVERAGE},
                # Follow the specs' own links only: inferred ones pair ids that do not belong
                # together (an API client's id used as one of its secret ids, for instance).
                "stateful": {"inference": {"algorithms": []}},
            },
            # ZDX alert lists document a 14-day maximum window that no JSON schema can state (it relates from
            # to to): a longer one is answered 400, as the API does (oneapi_mcp/mock/_zdx.py)
            "operations": [{"include-operation-id": sorted(ZDX_WINDOW_LIMITS), "checks": {
                "positive_data_acceptance": {"expected-statuses": [*_ACCEPTED, "400"]}}}],
        }
    )
    schema = schemathesis.openapi.from_dict(contract_document(service), config=config)
    schema.app = MOCK
    if EXCLUDED:
        schema = schema.exclude(func=lambda ctx: f"{ctx.operation.method.upper()} {ctx.operation.path}" in EXCLUDED)
    return schema


def _contract_test(service: str):
    @_schema(service).parametrize()
    @SETTINGS
    def test(case):
        TALLY.count(service, case.operation.label)
        case.call_and_validate()

    return test


test_every_zia_operation_keeps_its_contract = _contract_test("zia")
test_every_zpa_operation_keeps_its_contract = _contract_test("zpa")
test_every_zdx_operation_keeps_its_contract = _contract_test("zdx")
test_every_zcc_operation_keeps_its_contract = _contract_test("zcc")
test_every_zidentity_operation_keeps_its_contract = _contract_test("zid")
test_every_ztw_operation_keeps_its_contract = _contract_test("ztw")
# every other service of the services table (EASM, ZCell, ZTB, ZBI, ZWA, AI Guard, and the GraphQL ones:
# one endpoint each, schemathesis sends it any body and the mock must answer in the declared shape, GraphQL
# errors for what it cannot run; every named GraphQL operation: tests/test_graphql.py) the same way
for _service in SERVICES:
    if _service not in ("zia", "zpa", "zdx", "zcc", "zid", "ztw"):
        globals()[f"test_every_{_service}_operation_keeps_its_contract"] = _contract_test(_service)


def _workflows(service: str) -> type:
    class Workflow(_schema(service).as_state_machine()):
        def before_call(self, case) -> None:
            TALLY.steps += 1

    Workflow.TestCase.settings = settings(
        SETTINGS, max_examples=int(os.environ.get("ONEAPI_CONTRACT_WORKFLOWS", "15")), stateful_step_count=6
    )
    return Workflow.TestCase


TestZiaWorkflowsFollowTheirLinks = _workflows("zia")
TestZpaWorkflowsFollowTheirLinks = _workflows("zpa")
TestZidentityWorkflowsFollowTheirLinks = _workflows("zid")
TestZtwWorkflowsFollowTheirLinks = _workflows("ztw")


def test_the_contract_run_reached_every_operation(request, capsys):
    ran = [service for service in SERVICES if TALLY.cases[service]]
    if not ran:
        pytest.skip("no contract test ran in this session")
    selected = Counter(item.originalname for item in request.session.items if item.module is request.module)
    for service in ran:
        expected = {result.ok().label for result in _schema(service).get_all_operations()}
        test_name = f"test_every_{'zidentity' if service == 'zid' else service}_operation_keeps_its_contract"
        if selected[test_name] == len(expected):  # not when -k picked some of them
            assert TALLY.operations[service] == expected, service
    operations = sum(len(TALLY.operations[s]) for s in ran)
    seconds = TALLY.finished - (TALLY.started or TALLY.finished)
    with capsys.disabled():
        print(
            f"\ncontract: {sum(TALLY.cases.values())} cases over {operations} operations "
            f"({', '.join(f'{s} {TALLY.cases[s]}' for s in ran)}) and {TALLY.steps} stateful steps "
            f"in {seconds:.1f} s; {MAX_EXAMPLES} examples per operation, coverage phase for "
            f"{', '.join(sorted(COVERAGE)) or 'none'}; excluded: {len(EXCLUDED)}"
        )
