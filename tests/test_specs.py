"""The vendored specs: every operation of the SDK's models, valid OpenAPI, and one decision per
operation recorded as an extension."""

from __future__ import annotations

import re

import pytest
from conftest import SPECS, load_spec_doc, operations
from oneapi_mcp.codegen._recorded import best_template, read_routes
from oneapi_mcp.codegen._sources import (
    PREVIOUS,
    SERVICES,  # the services converted from the wheel's models
)
from openapi_spec_validator import validate

# Operations per model file of zscaler-oneapi-sdk-python 1.0.0 (`make specs` prints the same counts).
MODEL_OPERATIONS = {
    "zia/v1": 590, "zpa/v1": 281, "zpa/v2": 32, "ztw/v1": 163, "zcc/v1": 49, "zdx/v1": 142, "zid/v1": 34,
}


def _every_operation(doc: dict):
    """Each path's operation and the model operations that share its method and path (variants)."""
    for path, method, op in operations(doc):
        for each in (op, *op.get("x-oneapi-variants", ())):
            yield path, method, each


def _model_source(op: dict) -> str:
    """The model member an operation came from (a kept one names the previous wheel too)."""
    source = op["x-oneapi-source"]
    return source if isinstance(source, str) else source["model"]


def _sources(service: str) -> list[str]:
    return [_model_source(op) for _, _, op in _every_operation(load_spec_doc(service))]


def _kept(service: str) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, method, op in _every_operation(load_spec_doc(service))
            if isinstance(op["x-oneapi-source"], dict)]


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_of_every_model_version_appears_in_the_spec_once(service):
    sources = _sources(service)
    assert len(sources) == len(set(sources))
    for model, count in MODEL_OPERATIONS.items():
        if model.startswith(f"{service}/"):
            prefix = f"zssdk/zscore/data/{model}/service-1.json#/operations/"
            assert sum(s.startswith(prefix) for s in sources) == count, model
    assert len(sources) == sum(c for m, c in MODEL_OPERATIONS.items() if m.startswith(f"{service}/")) + len(
        _kept(service))


def test_the_six_specs_hold_all_1291_model_operations_together_and_4_kept_from_the_previous_models():
    assert sum(MODEL_OPERATIONS.values()) == 1291
    assert sum(len(_kept(svc)) for svc in SERVICES) == 4
    assert sum(len(_sources(svc)) for svc in SERVICES) == 1295
    # the other specs are converted from the SDK's hand-written source: REST (codegen/_convert_source.py) and
    # GraphQL documents (codegen/_graphql.py)
    from oneapi_mcp.codegen._convert_source import SOURCE_SERVICES
    from oneapi_mcp.codegen._graphql import GRAPHQL_SERVICES

    assert sorted(p.stem for p in SPECS.glob("*.yaml")) == sorted({*SERVICES, *SOURCE_SERVICES, *GRAPHQL_SERVICES})


def test_zdx_configured_and_predefined_applications_share_one_endpoint_as_variants():
    doc = load_spec_doc("zdx")
    get = doc["paths"]["/zdx/v1/config/applications/{aid}"]["get"]
    assert get["operationId"] == "GetConfigApplication"
    assert [v["operationId"] for v in get["x-oneapi-variants"]] == ["GetPredefinedApplication"]
    variants = [v for _, _, op in operations(doc) for v in op.get("x-oneapi-variants", ())]
    assert len(variants) == 19


def test_zpa_v2_operations_sit_beside_v1_and_keep_their_own_schemas():
    doc = load_spec_doc("zpa")
    v2 = [op for _, _, op in _every_operation(doc) if op.get("x-oneapi-model-version") == 2]
    assert len(v2) == 32
    assert all("/zpa/v2/service-1.json#" in op["x-oneapi-source"] for op in v2)
    assert {"Idp", "IdpV2", "EnrollmentCert", "EnrollmentCertV2"} <= set(doc["components"]["schemas"])


@pytest.mark.parametrize("service", SERVICES)
def test_each_spec_is_valid_openapi(service):
    validate(load_spec_doc(service))


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_records_scope_rate_class_and_source(service):
    doc = load_spec_doc(service)
    classes = doc["x-oneapi-rate-classes"]
    for path, method, op in _every_operation(doc):
        assert op["x-oneapi-scope"] in ("read", "write", "destructive"), (path, method)
        assert op["x-oneapi-rate-class"] in classes, (path, method)
        assert _model_source(op).rsplit("/", 1)[1] in (op["operationId"],
                                                           op["operationId"].removeprefix("V2"))
        assert op["description"].strip() and op["description"].strip() != path


@pytest.mark.parametrize(
    ("service", "operation_id", "scope"),
    [
        ("zia", "ListUsers", "read"),
        ("zia", "CreateUser", "write"),
        ("zia", "RemoveUser", "destructive"),
        ("zia", "BulkDeleteUser", "destructive"),  # POST that deletes
        ("zia", "LookupUrlClassification", "read"),  # POST that only reads
        ("zia", "ValidateFeedFormat", "read"),
        ("zia", "ExportPolicies", "read"),
        ("zia", "StatusActivate", "write"),
        ("zcc", "ForceRemoveDevices", "destructive"),
        ("zpa", "DeactivateEmergencyAccessUser", "destructive"),
        ("zpa", "GetAllMicrotenants", "read"),  # POST .../microtenants/search
        ("zid", "UserBulkdelete", "destructive"),  # bulk removals named after the resource
        ("zid", "GroupBulkremove", "destructive"),
        ("zia", "DeleteCertChain", "destructive"),  # a PUT that deletes
    ],
)
def test_scope_follows_the_method_with_overrides_for_reads_and_removals(service, operation_id, scope):
    found = [op for _, _, op in _every_operation(load_spec_doc(service)) if op["operationId"] == operation_id]
    assert len(found) == 1
    assert found[0]["x-oneapi-scope"] == scope


def test_zia_delete_is_the_heavy_rate_class_and_zcc_downloads_are_limited_to_three_a_day():
    zia = load_spec_doc("zia")
    assert zia["x-oneapi-rate-classes"]["zia.heavy"]["limits"] == ["1/minute", "4/hour"]
    assert all(op["x-oneapi-rate-class"] == "zia.heavy" for _, m, op in operations(zia) if m == "delete")
    zcc = load_spec_doc("zcc")
    downloads = {op["operationId"]: op["x-oneapi-rate-class"] for p, _, op in operations(zcc) if "/download" in p}
    assert downloads and all(c == "zcc.download" for c in downloads.values())


@pytest.mark.parametrize(
    ("service", "style", "keys"),
    [
        ("zia", "page", {"page_param": "page", "size_param": "pageSize", "stop": "short_page"}),
        ("zpa", "page", {"page_param": "page", "total_pages_key": "totalPages", "stop": "total_pages"}),
        ("zdx", "offset", {"offset_param": "offset", "limit_param": "limit", "next_key": "next_offset"}),
        ("zdx", "page", {"page_param": "page", "size_param": "pageSize", "stop": "short_page"}),  # /config lists
        ("zid", "next_link", {"offset_param": "offset", "limit_param": "limit", "next_key": "next_link",
                              "result_key": "records"}),
        ("zcc", "page", {"page_param": "page", "size_param": "pageSize"}),
    ],
)
def test_pagination_styles_follow_each_services_paginators(service, style, keys):
    paged = [op["x-oneapi-pagination"] for _, _, op in _every_operation(load_spec_doc(service))
             if "x-oneapi-pagination" in op]
    assert paged
    styles = {"offset", "page"} if service == "zdx" else {style}
    assert {p["style"] for p in paged} == styles
    for p in paged:
        if p["style"] == style:
            assert keys.items() <= p.items()


def test_create_operations_link_to_get_update_and_delete_of_the_same_resource():
    doc = load_spec_doc("zia")
    create = next(op for _, _, op in operations(doc) if op["operationId"] == "CreateUser")
    assert create["x-oneapi-resource"] == {"type": "User", "action": "create", "id_field": "id"}
    links = next(r["links"] for code, r in create["responses"].items() if code != "default")
    assert {link["operationId"] for link in links.values()} == {"GetUser", "UpdateUser", "RemoveUser"}
    for link in links.values():
        assert link["parameters"] == {"id": "$response.body#/id"}
    ops = {op["operationId"]: path for path, _, op in operations(doc)}
    assert ops["GetUser"] == "/zia/api/v1/users/{id}"


def test_zpa_links_carry_the_customer_id_from_the_create_request():
    doc = load_spec_doc("zpa")
    linked = [r["links"] for _, _, op in operations(doc) for r in op["responses"].values() if "links" in r]
    assert linked
    for links in linked:
        for link in links.values():
            assert link["parameters"].get("customerId", "$request.path.customerId") == "$request.path.customerId"


def test_paths_that_differ_only_in_parameter_names_are_unified():
    for service in SERVICES:
        shapes = [re.sub(r"{[^}]+}", "{}", p) for p in load_spec_doc(service)["paths"]]
        assert len(shapes) == len(set(shapes)), service


def test_provenance_names_the_stable_wheel_the_beta_before_it_and_every_source_file_hash():
    sources = (SPECS / "SOURCES.md").read_text()
    assert "`zscaler-oneapi-sdk-python==1.0.0`" in sources
    assert "Before: `zscaler-sdk-python==2.0.0b2`" in sources
    for model in MODEL_OPERATIONS:
        assert f"zssdk/zscore/data/{model}/service-1.json" in sources
        assert f"zssdk/zsresource/data/{model}/resources-1.json" in sources
    assert re.search(r"sha256: `[0-9a-f]{64}`", sources)
    assert "MIT" in (SPECS / "LICENSE-zscaler-sdk-python.md").read_text()


# --- operations the stable models dropped but real tenants serve (issue 13) ------------------------------

# Recorded 2xx routes that no model, old or new, describes: ZIA email recipient profiles
# (zia/cassettes/TestEmailProfiles.yaml). They need an operation written from the recording itself.
UNMODELLED_RECORDED = {
    ("DELETE", "/zia/api/v1/emailRecipientProfile/21172"), ("GET", "/zia/api/v1/emailRecipientProfile"),
    ("GET", "/zia/api/v1/emailRecipientProfile/21172"), ("POST", "/zia/api/v1/emailRecipientProfile"),
    ("PUT", "/zia/api/v1/emailRecipientProfile/21172"),
}


def _templates(service: str) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, method, _ in operations(load_spec_doc(service))}


def test_zia_admin_roles_and_password_expiry_are_kept_from_the_beta_on_the_evidence_of_the_recordings():
    kept = {(method.upper(), path): op for path, method, op in _kept("zia")}
    evidence = {("GET", "/zia/api/v1/adminRoles/lite"): "zia/cassettes/TestAdminRoles.yaml",
                ("GET", "/zia/api/v1/adminRoles/{id}"): "zia/cassettes/TestAdminRoles.yaml",
                # refused with ZIA's own 403 body ("Only super admins..."): the route exists
                ("POST", "/zia/api/v1/adminRoles"): "zia/cassettes/TestAdminRoles.yaml",
                # 403 "Not allowed for one identity enabled tenants": served, refused for that tenant
                ("GET", "/zia/api/v1/passwordExpiry/settings"): "zia/cassettes/TestAdminRoles.yaml"}
    assert set(kept) == set(evidence)
    for key, op in kept.items():
        assert op["x-oneapi-source"]["model"].startswith(f"{PREVIOUS.file}:zssdk/zscore/data/zia/v1/service-1.json#")
        assert op["x-oneapi-source"]["evidence"] == evidence[key]
    assert {p["name"] for p in kept[("GET", "/zia/api/v1/adminRoles/lite")]["parameters"]} >= {"includeAuditorRole"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_kept_operation_names_a_recorded_2xx_call_that_hits_its_template(service):
    routes = read_routes(SPECS)[service]
    templates = _templates(service)
    for path, method, op in _kept(service):
        evidence = [r for r in routes if r["evidence"] == op["x-oneapi-source"]["evidence"]
                    and best_template(r["method"], r["path"], templates) == path and r["method"] == method.upper()]
        assert evidence, (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_every_recorded_2xx_route_of_the_service_has_an_operation(service):
    templates = _templates(service)
    unmatched = {(r["method"], r["path"]) for r in read_routes(SPECS)[service]
                 if best_template(r["method"], r["path"], templates) is None}
    assert unmatched == {r for r in UNMODELLED_RECORDED if r[1].startswith(f"/{service}/")}


def test_the_recorded_routes_index_covers_all_six_services_and_the_admin_roles_calls():
    routes = read_routes(SPECS)
    assert sorted(routes) == sorted({*SERVICES, "zins", "zms"})  # and the two GraphQL endpoints
    assert {"method": "GET", "path": "/zia/api/v1/adminRoles/lite",
            "evidence": "zia/cassettes/TestAdminRoles.yaml"} in routes["zia"]
    assert all(r["path"].startswith(("/zia/", "/zpa/", "/zdx/", "/zcc/", "/ziam/", "/ztw/", "/zins/", "/zms/"))
               for rs in routes.values() for r in rs)


@pytest.mark.parametrize(("name", "title"), [
    ("ListStaticIPs", "Lists static IPs"),
    ("GetIPv6Configuration", "Returns IPv6 configuration"),
    ("ListNssFeeds", "Lists NSS feeds"),
    ("ListFirewallIpsRules", "Lists firewall IPS rules"),
    ("GetSystemIps", "Returns system IPs"),
    ("CreateBlacklistURLs", "Creates blacklist URLs"),
    ("GetC2CIncidentReceiverCount", "Returns C2C incident receiver count"),
    ("GetVerdictReportByMd5Hash", "Returns verdict report by MD5 hash"),
    ("GetAwsAccountLite", "Returns AWS account lite"),
    ("ListDns64Prefixes", "Lists DNS64 prefixes"),
    ("GetIOTDeviceList", "Returns IOT device list"),
])
def test_titles_keep_acronyms_whole_and_spelled_as_the_consoles_spell_them(name, title):
    from oneapi_mcp.codegen._convert import _describe

    assert _describe("zia", name, "GET", "/x", "read", None)[0] == title


def test_no_title_in_any_spec_splits_an_acronym_into_letters_and_digits():
    mangled = re.compile(r"\b(NSs|DNs|AWs|LSs|UR ls|i pv|ipv \d|md \d|c \d c|nat \d)\b")
    for service in SERVICES:
        bad = [op["summary"] for _, _, op in operations(load_spec_doc(service)) if mangled.search(op["summary"])]
        assert bad == [], (service, bad[:5])
