"""Rate limits, injected faults and the request counter: off by default, deterministic when on."""

from __future__ import annotations

import json
import time

import pytest
from starlette.testclient import TestClient

from oneapi_mcp.mock import ConnectionDropped, FaultConfig, create_mock_app

ZPA = "/zpa/mgmtconfig/v1/admin/customers/216196257331281920"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_767_225_600.25

    def __call__(self) -> float:
        return self.now


def _client(**options) -> TestClient:
    mock = create_mock_app(seed=0, **options)
    return TestClient(mock, headers={"Authorization": f"Bearer {mock.token()}"})


def _statuses(client: TestClient, path: str, times: int) -> list[int]:
    return [client.get(path).status_code for _ in range(times)]


def test_limits_and_faults_are_off_by_default(monkeypatch):
    for name in ("ONEAPI_MOCK_RATE_LIMITS", "ONEAPI_MOCK_FAULTS", "ONEAPI_MOCK_SEED"):
        monkeypatch.delenv(name, raising=False)
    client = _client()
    assert set(_statuses(client, "/zia/api/v1/users", 30)) == {200}
    assert client.app.limiter is None and client.app.faults is None


def test_zia_gets_are_limited_to_two_a_second_with_zia_body_and_headers_as_recorded():
    # tests/recorded/zia.jsonl TestAdminRoles: 429 with retry-after: 1 and the gateway's quota headers
    clock = FakeClock()
    client = _client(rate_limits=True, clock=clock)
    assert _statuses(client, "/zia/api/v1/users", 3) == [200, 200, 429]
    limited = client.get("/zia/api/v1/users")
    assert limited.json() == {"Retry-After": "1 seconds", "message": "Rate Limit (2/SECOND) exceeded"}
    assert limited.headers["retry-after"] == "1" and limited.headers["x-ratelimit-limit"] == "5000, 5000;w=60"
    clock.now += 1
    assert client.get("/zia/api/v1/users").status_code == 200


def test_zia_deletes_are_limited_to_one_a_minute():
    clock = FakeClock()
    client = _client(rate_limits=True, clock=clock)
    assert client.delete("/zia/api/v1/users/71001").status_code == 204
    second = client.delete("/zia/api/v1/users/71002")
    assert second.status_code == 429 and 1 <= int(second.headers["retry-after"]) <= 60
    clock.now += 60
    assert client.delete("/zia/api/v1/users/71002").status_code == 204


def test_zpa_allows_twenty_gets_per_ten_seconds_and_says_retry_after_in_seconds():
    client = _client(rate_limits=True, clock=FakeClock())
    assert _statuses(client, f"{ZPA}/segmentGroup", 21) == [200] * 20 + [429]
    limited = client.get(f"{ZPA}/segmentGroup")
    assert limited.headers["retry-after"].endswith("s") and limited.headers["retry-after"][:-1].isdigit()
    assert limited.json()["id"] == "invalid.toomanyrequests"  # as recorded (tests/recorded/zpa.jsonl)


def test_zdx_sends_ratelimit_reset_as_an_epoch():
    clock = FakeClock()
    client = _client(rate_limits=True, clock=clock)
    assert _statuses(client, "/zdx/v1/apps", 6)[-1] == 429
    limited = client.get("/zdx/v1/apps")
    assert int(limited.headers["ratelimit-reset"]) >= int(clock.now)
    assert limited.headers["ratelimit-remaining"] == "0"


def test_zcc_allows_a_hundred_calls_an_hour():
    client = _client(rate_limits=True, clock=FakeClock())
    path = "/zcc/papi/public/v1/getCompanyInfo"
    assert _statuses(client, path, 101)[-1] == 429
    assert 0 < int(client.get(path).headers["x-rate-limit-retry-after-seconds"]) <= 3600


def test_ztw_puts_the_limit_and_the_wait_in_its_429_body():
    client = _client(rate_limits=True, clock=FakeClock())
    assert _statuses(client, "/ztw/api/v1/adminRoles", 3)[-1] == 429
    body = client.get("/ztw/api/v1/adminRoles").json()
    assert body == {"message": "Rate Limit (2/SECOND) exceeded", "Retry-After": "0 seconds"}


def test_rate_limits_can_be_switched_on_from_the_environment(monkeypatch):
    monkeypatch.setenv("ONEAPI_MOCK_RATE_LIMITS", "1")
    assert create_mock_app().limiter is not None


@pytest.mark.parametrize(
    ("config", "status"),
    [(FaultConfig(error_500=1.0), 500), (FaultConfig(error_503=1.0), 503), (FaultConfig(burst_429=1.0), 429)],
)
def test_injected_errors_use_the_service_error_shape(config, status):
    client = _client(faults=config)
    zia, zpa = client.get("/zia/api/v1/users"), client.get(f"{ZPA}/application")
    assert zia.status_code == zpa.status_code == status
    if status == 429:  # as recorded (tests/recorded/zia.jsonl, zpa.jsonl)
        assert set(zia.json()) == {"Retry-After", "message"} and set(zpa.json()) == {"exception", "id", "reason"}
    else:
        assert set(zia.json()) == {"code", "message"} and set(zpa.json()) == {"id", "reason"}


def test_malformed_json_is_a_success_status_with_a_body_that_does_not_parse():
    response = _client(faults=FaultConfig(malformed_json=1.0)).get("/zia/api/v1/users")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_a_dropped_connection_breaks_off_mid_response():
    client = _client(faults=FaultConfig(drop_connection=1.0))
    with pytest.raises(ConnectionDropped):
        client.get("/zia/api/v1/users")


def test_latency_delays_the_answer():
    client = _client(faults=FaultConfig(latency=1.0, latency_seconds=0.05))
    started = time.perf_counter()
    assert client.get("/zia/api/v1/status").status_code == 200
    assert time.perf_counter() - started >= 0.05


def test_429_bursts_come_in_runs_of_the_configured_length():
    client = _client(faults=FaultConfig(burst_429=0.1, burst_length=3, seed=11))
    statuses = _statuses(client, "/zia/api/v1/status", 200)
    runs = "".join("x" if s == 429 else "." for s in statuses).split(".")
    assert any(runs) and all(len(run) % 3 == 0 for run in runs)


def test_faults_are_the_same_for_the_same_seed_and_differ_for_another():
    config = FaultConfig(error_500=0.2, error_503=0.1, burst_429=0.05, malformed_json=0.1)
    first = _statuses(_client(faults=config), "/zia/api/v1/status", 60)
    again = _statuses(_client(faults=config), "/zia/api/v1/status", 60)
    other = _statuses(
        _client(faults=FaultConfig(error_500=0.2, error_503=0.1, burst_429=0.05, malformed_json=0.1, seed=99)),
        "/zia/api/v1/status",
        60,
    )
    assert first == again and first != other
    assert {200, 500, 503} <= set(first)


def test_reset_restarts_the_fault_sequence():
    client = _client(faults=FaultConfig(error_500=0.3))
    first = _statuses(client, "/zia/api/v1/status", 20)
    client.app.reset()
    assert _statuses(client, "/zia/api/v1/status", 20) == first


def test_fault_specs_parse_from_text_and_the_environment(monkeypatch):
    config = FaultConfig.parse("500=0.1,503=0.05,429=0.2:4,latency=0.5:0.1,malformed=0.01,drop=0.02,seed=7")
    assert config == FaultConfig(
        error_500=0.1,
        error_503=0.05,
        burst_429=0.2,
        burst_length=4,
        latency=0.5,
        latency_seconds=0.1,
        malformed_json=0.01,
        drop_connection=0.02,
        seed=7,
    )
    with pytest.raises(ValueError):
        FaultConfig.parse("teapot=0.5")
    with pytest.raises(ValueError):
        FaultConfig.parse("500=2")
    monkeypatch.setenv("ONEAPI_MOCK_FAULTS", "503=1")
    assert _client().get("/zia/api/v1/status").status_code == 503


def test_the_counter_counts_every_api_request_per_service():
    client = _client()
    mock = client.app
    client.get("/zia/api/v1/users")
    client.get("/zia/api/v1/users/not-a-number")  # 400s are requests too
    client.get(f"{ZPA}/application")
    client.get("/zdx/v1/apps", headers={"Authorization": "Bearer expired"})
    assert (mock.requests["zia"], mock.requests["zpa"], mock.requests["zdx"]) == (2, 1, 1)
    assert mock.requests.total == 4 and mock.requests.token == 0


@pytest.mark.parametrize(("path", "policy"), [
    ("/zia/api/v1/users", "5000, 5000;w=60"),
    (f"{ZPA}/application", "5000, 5000;w=60"),
    ("/zcc/papi/public/v1/getCompanyInfo", "100, 100;w=3600, 100;w=3600"),
    ("/ziam/admin/api/v1/users", "500, 500;w=1, 20000;w=60, 1000, 1000;w=1"),
])
def test_every_answer_carries_the_gateways_quota_headers_as_recorded(path, policy):
    # tests/recorded/<svc>.jsonl: x-ratelimit-limit/-remaining/-reset on every answer, errors included
    clock = FakeClock()
    client = _client(clock=clock)
    first, second = client.get(path), client.get(path + "/no-such-thing-999")
    for answer in (first, second):
        assert answer.headers["x-ratelimit-limit"] == policy
        assert 1 <= int(answer.headers["x-ratelimit-reset"]) <= int(policy.split("w=")[1].split(",")[0])
    quota = int(policy.split(",")[0])
    assert int(first.headers["x-ratelimit-remaining"]) == quota - 1
    assert int(second.headers["x-ratelimit-remaining"]) == quota - 2
