"""Indicator checks: what composite tools accept as domains, IPs/CIDRs and emails, and why they refuse."""

from __future__ import annotations

import pytest
from oneapi_mcp.plugins.composite._kit.lookups import check_cidr, check_domain, check_email, checked

from oneapi_mcp.plugin_api import Refusal


@pytest.mark.parametrize(("given", "normal"), [
    ("Evil.Example", "evil.example"),
    ("evil.example.", "evil.example"),
    (".evil.example", ".evil.example"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("a-b.c-d.example", "a-b.c-d.example"),
])
def test_domains_are_normalised_the_way_zia_lists_take_them(given, normal):
    assert check_domain(given) == normal


@pytest.mark.parametrize(("given", "reason"), [
    ("https://evil.example/path", "no scheme"),
    ("evil", "at least two labels"),
    ("-bad.example", "invalid label"),
    ("bad-.example", "invalid label"),
    ("10.0.0.1", "IP address"),
    ("", "empty"),
    ("a" * 64 + ".example", "not a valid domain name"),
    ("ev il.example", "no scheme"),
])
def test_malformed_domains_are_refused_with_the_reason(given, reason):
    with pytest.raises(ValueError, match=reason):
        check_domain(given)


@pytest.mark.parametrize(("given", "normal"), [
    ("203.0.113.7", "203.0.113.7"),
    ("203.0.113.0/24", "203.0.113.0/24"),
    ("2001:DB8::1", "2001:db8::1"),
    ("2001:db8::/32", "2001:db8::/32"),
])
def test_addresses_and_networks_are_canonical(given, normal):
    assert check_cidr(given) == normal


@pytest.mark.parametrize("given", ["203.0.113.300", "203.0.113.1/24", "203.0.113.0/33", "evil.example", ""])
def test_malformed_addresses_are_refused(given):
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        check_cidr(given)


def test_emails_are_lower_cased_and_checked():
    assert check_email(" Ada.Lovelace@Example.TEST ") == "ada.lovelace@example.test"
    with pytest.raises(ValueError, match="not an email"):
        check_email("ada at example")


def test_every_bad_value_is_reported_together_and_duplicates_collapse():
    assert checked(["a.example", "A.example", "b.example"], check_domain, "domains") == ["a.example", "b.example"]
    with pytest.raises(Refusal) as err:
        checked(["ok.example", "bad", "http://x.example"], check_domain, "domains")
    assert err.value.kind == "invalid_arguments"
    assert len(err.value.extra["invalid"]) == 2 and "2 invalid domains" in err.value.message
