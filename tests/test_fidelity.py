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
        # Z-Insights' recordings are one query per cassette (six cassettes, seven interactions with the tokens)
        assert sum(1 for _ in load_interactions(RECORDED_DIR, (svc,))) >= (7 if svc == "zins" else 10), svc


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
        _rec("PATCH", "/zia/api/v1/departments"),
    ])
    report = out.report()
    assert out.share("route") == 2 / 3 and "no operation for PATCH /zia/api/v1/departments" in report
    assert out.share("query") == 0 and "nonsenseParam" in report
    assert out.share("body") == 0 and "madeUpField" in report
    assert out.share("answer") == 0 and "ghost" in report


def test_a_literal_segment_wins_over_a_path_parameter():
    doc = {"paths": {"/a/{id}": {"get": {}}, "/a/lite": {"get": {}}}}
    assert Router(doc).match("GET", "/a/lite").template == "/a/lite"
    assert Router(doc).match("GET", "/a/7").template == "/a/{id}"


def test_a_family_the_models_lack_and_a_url_the_tenant_404s_are_listed_but_not_counted_as_route_gaps():
    out = check_interactions([
        _rec("GET", "/zia/api/v1/emailRecipientProfile"),  # a whole API the SDK's models do not have
        _rec("POST", "/zia/api/v1/auditlogEntryReport%22", status=404),  # the SDK's bad URL, 404 from the tenant
    ])
    assert out.checked[("zia", "route")] == 0
    report = out.report()
    assert "'emailRecipientProfile', a family the models do not know" in report and "auditlogEntryReport%22" in report


def test_an_empty_object_body_and_a_text_body_where_text_is_declared_send_no_undeclared_field():
    out = check_interactions([
        _rec("POST", "/zia/api/v1/status/activate", body={}),
        _rec("POST", "/zia/api/v1/pacFiles/validate", body="function FindProxyForURL(url, host) { return 'DIRECT'; }"),
    ])
    assert out.share("body") == 1.0 and out.checked[("zia", "body")] == 1


def test_every_recorded_traffic_overlay_action_gives_its_reason_and_evidence():
    import yaml

    banner = "# ---- recorded traffic (issue 13)"
    count = 0
    for path in sorted((RECORDED_DIR.parent.parent / "specs" / "overlays").glob("*.yaml")):
        text = path.read_text()
        if banner not in text:
            continue
        for action in yaml.safe_load("actions:\n" + text.split(banner, 1)[1].split("\n", 1)[1])["actions"]:
            count += 1
            reason = str(action.get("reason", ""))
            assert "tests/recorded/" in reason or "SDK" in reason, (path.name, action["target"])
    assert count >= 40


def test_an_answer_of_another_shape_than_declared_is_a_gap_not_a_pass():
    # e.g. ZIdentity's paged lists: an object with `records`, where the converted spec said array
    out = check_interactions([_rec("GET", "/zia/api/v1/departments", answer={"records": [], "totalRecord": 0})])
    assert out.share("answer") == 0 and "answer is a dict, the spec declares array" in out.report()


def test_a_body_the_tenant_refused_is_listed_but_its_undeclared_fields_are_not_counted_as_gaps():
    # zia/TestCasbDlpRules#5: the SDK sent ruleType and the tenant answered 400 "Request body is invalid"
    refused = _rec("POST", "/zia/api/v1/departments", body={"name": "x", "madeUpField": 1}, status=400)
    accepted = _rec("POST", "/zia/api/v1/departments", body={"name": "x", "madeUpField": 1})
    out = check_interactions([refused])
    assert out.share("body") == 1.0 and "refused body field madeUpField not declared" in out.report()
    assert check_interactions([accepted]).share("body") == 0
