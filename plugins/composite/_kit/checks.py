"""One definition per security check, shared by the reports that score them
(`compliance_generate_report`, `analytics_score_security_posture`): the control ids each check maps
to, the rule that decides it, and how a set of results is scored.

A check's status is `pass`, `fail`, `unknown` (a read it needs failed: the report names the call and
its HTTP status, and never turns the gap into a finding) or `not_applicable` (the caller says the
service is not licensed). Scores count only known items; the unknown count is always given beside.

    verdict = zpa_default_deny(rules)          # the same answer in both reports
    score = score_of(items)                    # {"percent": 80, "known": 5, "unknown": 2, ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["CONTROLS", "STATUSES", "Verdict", "controls_of", "read_at", "score_of", "unknown_evidence",
           "zpa_default_deny"]

STATUSES = ("pass", "fail", "unknown", "not_applicable")

# Control ids: CIS Controls v8 safeguards, NIST SP 800-53 rev 5 controls, ISO/IEC 27001:2022 Annex A.
# Keyed by check id; the analytics ids that name the same check map to the same entry.
CONTROLS: dict[str, dict[str, tuple[str, ...]]] = {
    "ssl_inspection": {"CIS": ("13.10",), "NIST": ("SC-7", "SI-4"), "ISO": ("A.8.20", "A.8.23")},
    "advanced_threat_protection": {"CIS": ("9.2", "10.1"), "NIST": ("SI-3", "SI-4"), "ISO": ("A.8.7", "A.8.23")},
    "malware_protection": {"CIS": ("10.1",), "NIST": ("SI-3",), "ISO": ("A.8.7",)},
    "sandbox_rules": {"CIS": ("10.1",), "NIST": ("SI-3",), "ISO": ("A.8.7",)},
    "dlp_by_department": {"CIS": ("3.13",), "NIST": ("SC-7", "AC-4"), "ISO": ("A.8.12",)},
    "admin_audit_trail": {"CIS": ("8.2",), "NIST": ("AU-2", "AU-6"), "ISO": ("A.8.15",)},
    "log_export": {"CIS": ("8.2", "13.1"), "NIST": ("AU-6", "SI-4"), "ISO": ("A.8.15", "A.8.16")},
    "zpa_default_deny": {"CIS": ("13.4",), "NIST": ("AC-3", "AC-6", "SC-7"), "ISO": ("A.5.15", "A.8.20")},
    "idp_scim": {"CIS": ("5.1", "6.7"), "NIST": ("AC-2",), "ISO": ("A.5.16", "A.5.18")},
    "external_attack_surface": {"CIS": ("1.1", "7.1"), "NIST": ("RA-5", "CM-8"), "ISO": ("A.8.8", "A.5.9")},
    "zia_changes_activated": {"CIS": ("4.1",), "NIST": ("CM-3",), "ISO": ("A.8.32",)},
    "disabled_rules": {"CIS": ("4.2",), "NIST": ("CM-6", "SC-7"), "ISO": ("A.8.20",)},
    "stale_rules": {"CIS": ("4.2",), "NIST": ("CM-6", "AC-6"), "ISO": ("A.8.20",)},
    "zpa_connectors": {},  # availability, not a control of these frameworks we can name with certainty
    "zdx_poor_apps": {},
    "zcc_unseen_devices": {"CIS": ("1.1",), "NIST": ("CM-8",), "ISO": ("A.5.9",)},
}
_SAME_CHECK = {"zia_advanced_threats": "advanced_threat_protection", "zia_malware": "malware_protection",
               "zia_sandbox": "sandbox_rules", "zia_ssl_inspection": "ssl_inspection",
               "zia_disabled_rules": "disabled_rules", "zia_stale_rules": "stale_rules",
               "zia_activation": "zia_changes_activated"}


def controls_of(check: str) -> list[str]:
    """`["CIS 13.4", "NIST AC-3", ...]` for a check id of either report."""
    mapped = CONTROLS.get(_SAME_CHECK.get(check, check), {})
    return [f"{framework} {cid}" for framework, ids in mapped.items() for cid in ids]


def read_at(ts: float | None = None) -> str:
    """When a read was made, as evidence: ISO 8601 UTC to the second."""
    moment = datetime.now(UTC) if ts is None else datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def unknown_evidence(call: str, status: int | None, error: str | None) -> str:
    """The evidence line of an unknown item: which call failed, with which HTTP status."""
    why = f"HTTP {status}" if status else "no answer"
    hint = " (the API client lacks this scope or role)" if status == 403 else ""
    return f"unknown: {call} failed with {why}{hint}: {error or 'no detail'}"


@dataclass(frozen=True)
class Verdict:
    status: str
    evidence: str


def _is_on(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def zpa_default_deny(rules: Iterable[Mapping[str, Any]]) -> Verdict:
    """ZPA access policy denies by default: it fails only when an enabled rule allows everything.

    ZPA evaluates access rules in order and denies what no rule allows; each policy set ends with its
    own `Default_Rule` (`"defaultRule": true`), as the recorded policy-set reads show
    (reference/recorded/zpa/cassettes/TestAccessPolicyForwardingRuleV1.yaml, ...IsolationRuleV1.yaml).
    So the failure to look for is an enabled ALLOW without any operand (allow-all), including a
    default rule switched to ALLOW; a missing explicit DENY at the end is not one."""
    rules = list(rules)
    active = [r for r in rules if not _is_on(r.get("disabled", "0"))]
    allow_all = [r for r in active if str(r.get("action", "")).upper() == "ALLOW"
                 and not any(c.get("operands") for c in r.get("conditions") or [] if isinstance(c, Mapping))]
    names = ", ".join(str(r.get("name")) for r in allow_all[:8]) or "none"
    evidence = (f"{len(rules)} access rule(s), {len(active)} enabled; ZPA denies what no rule allows; "
                f"allow-all rules: {names}")
    return Verdict("fail" if allow_all else "pass", evidence)


def score_of(items: Iterable[Mapping[str, Any]], weight: str | None = None) -> dict[str, Any]:
    """Percent passing over the known items only (by `weight` when given), with the counts beside:
    an unknown or not-applicable item neither raises nor lowers the score."""
    items = list(items)
    counts = {s: sum(i["status"] == s for i in items) for s in STATUSES}

    def size(i: Mapping[str, Any]) -> int | float:
        return i[weight] if weight else 1

    known = [i for i in items if i["status"] in ("pass", "fail")]
    total = sum(size(i) for i in known)
    passed = sum(size(i) for i in known if i["status"] == "pass")
    return {"percent": round(100 * passed / total) if total else None, "known": len(known),
            "unknown": counts["unknown"], "not_applicable": counts["not_applicable"], "counts": counts,
            "unknown_weight": sum(size(i) for i in items if i["status"] == "unknown") if weight else None}
