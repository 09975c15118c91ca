"""Issue 13: recorded real traffic (tests/recorded/) against the overlaid specs we ship."""

from __future__ import annotations

import pytest

from oneapi_mcp._fidelity import CHECKS, RECORDED_DIR, TARGETS, Router, check_interactions
from oneapi_mcp._recorded import RECORDED_SERVICES, Interaction, load_interactions


@pytest.fixture(scope="module")
def fidelity():
    return check_interactions(list(load_interactions(RECORDED_DIR)))


def test_every_recorded_service_is_vendored_with_its_licence():
    assert (RECORDED_DIR / "LICENSE-zscaler-sdk-python.md").read_text().startswith(("MIT", "The MIT", "#"))
    for svc in RECORDED_SERVICES:
        assert sum(1 for _ in load_interactions(RECORDED_DIR, (svc,))) >= 10, svc


@pytest.mark.parametrize("check", CHECKS)
def test_recorded_traffic_meets_the_target_for(fidelity, check):
    assert fidelity.share(check) >= TARGETS[check], fidelity.report()


def test_the_report_names_every_service_and_check(fidelity):
    report = fidelity.report()
    for name in (*RECORDED_SERVICES, *CHECKS):
        assert name in report


def _rec(method, uri, body=None, status=200, answer=None):
    return Interaction("zia", "TestMade", 0, method, uri, body, status, {}, answer)


def test_an_undeclared_query_parameter_body_field_and_answer_field_are_each_reported():
    out = check_interactions([
        _rec("GET", "/zia/api/v1/departments?nonsenseParam=1"),
        _rec("POST", "/zia/api/v1/departments", body={"name": "x", "madeUpField": 1}, answer={"id": 1, "ghost": 2}),
        _rec("GET", "/zia/api/v1/noSuchCollection"),
    ])
    report = out.report()
    assert out.share("route") == 2 / 3 and "no operation for GET /zia/api/v1/noSuchCollection" in report
    assert out.share("query") == 0 and "nonsenseParam" in report
    assert out.share("body") == 0 and "madeUpField" in report
    assert out.share("answer") == 0 and "ghost" in report


def test_a_literal_segment_wins_over_a_path_parameter():
    doc = {"paths": {"/a/{id}": {"get": {}}, "/a/lite": {"get": {}}}}
    assert Router(doc).match("GET", "/a/lite").template == "/a/lite"
    assert Router(doc).match("GET", "/a/7").template == "/a/{id}"
