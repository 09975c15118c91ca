"""Seed data for incident and compliance reports: ZDX device events and the devices each alert
touched, ZIA sandbox verdicts, a finished admin audit-log export, ZIA datacenters with the tenant's
sub-clouds and datacenter exclusions, and the ZIA rules a compliance checklist reads (SSL
inspection, sandbox, web DLP).

The people involved are picked from the seeded tenant (the first enabled people who own devices),
so tests find them from the store, not from constants. Timestamps are around `NOW`.
"""

from __future__ import annotations

import random

from ._seed import NOW, ZDX, ZIA, SeedData

__all__ = ["AUDIT_ADMIN", "SANDBOX_BENIGN_MD5", "SANDBOX_MALICIOUS_MD5", "incident_subjects", "seed_incidents"]

SANDBOX_MALICIOUS_MD5 = "5d41402abc4b2a76b9719d911017c592"
SANDBOX_BENIGN_MD5 = "7d793037a0760186574b0282f2f435e7"
AUDIT_ADMIN = "secops-admin@example.test"
_DAY = 86400
_FOREVER = NOW + 5 * 365 * _DAY  # an exclusion that is still in force (int32 seconds, fine until 2038)


def incident_subjects(data: SeedData, count: int = 3) -> list:
    """The people the seeded incident data is about: the first enabled people who own devices."""
    return [p for p in data.people if p.devices and not p.disabled][:count]


def seed_incidents(data: SeedData, rng: random.Random) -> None:
    rng = random.Random(rng.getrandbits(64))  # this file's draws do not move when others add theirs
    _zdx_events(data)
    _alert_devices(data, rng)
    _sandbox_reports(data)
    _audit_log(data)
    _residency(data)
    _zia_rules(data)


# -- ZDX -------------------------------------------------------------------------------------------
def _zdx_events(data: SeedData) -> None:
    """Device events (the spec's shape: one timestamp, a list of changes) for the subjects' devices."""
    users = {u["email"]: u for u in data.collections[("zdx", f"{ZDX}/users", ())]}
    changes = (
        ("Zscaler", "zia_tunnel_state", "ZIA tunnel state", "TUNNEL_UP", "TUNNEL_DOWN"),
        ("Software", "software_installed", "Software installed", "", "AnyDesk 8.1.0"),
        ("Network", "network_change", "Network changed", "Corp-WiFi", "Airport-Free-WiFi"),
        ("Zscaler", "zpa_state", "ZPA state", "CONNECTED", "DISCONNECTED"),
    )
    for n, person in enumerate(incident_subjects(data)):
        for k, device in enumerate(users[person.email]["devices"]):
            picked = [changes[(n + k + j) % len(changes)] for j in range(3 if n == 0 else 2)]
            data.documents[("zdx", f"{ZDX}/devices/{{id}}/events", (str(device["id"]),))] = {
                "timestamp": NOW - 3600 * (2 + n + k),
                "events": [
                    {"category": c, "name": name, "display_name": shown, "prev": prev, "curr": curr}
                    for c, name, shown, prev, curr in picked
                ],
            }


def _alert_devices(data: SeedData, rng: random.Random) -> None:
    """The devices each seeded alert (ongoing and historical) affects; the first subject's devices are
    in the first ongoing and the second historical alert."""
    users = data.collections[("zdx", f"{ZDX}/users", ())]
    devices = [
        {"id": d["id"], "name": d["name"], "userid": u["id"], "userEmail": u["email"], "userName": u["name"]}
        for u in users
        for d in u["devices"]
    ]
    subject = incident_subjects(data, 1)[0].email
    mine = [d for d in devices if d["userEmail"] == subject]
    others = [d for d in devices if d["userEmail"] != subject]
    alerts = data.collections[("zdx", f"{ZDX}/alerts/ongoing", ())] + data.collections[
        ("zdx", f"{ZDX}/alerts/historical", ())
    ]
    for n, alert in enumerate(alerts):
        count = min(max(1, int(alert.get("num_devices") or 3)), 8)
        chosen = rng.sample(others, count)
        if n in (0, 4):
            chosen = mine + chosen[len(mine) :]
        data.collections[("zdx", f"{ZDX}/alerts/{{id}}/affected_devices", (str(alert["id"]),))] = chosen


# -- ZIA sandbox and admin audit log ---------------------------------------------------------------
def _sandbox_reports(data: SeedData) -> None:
    """Verdicts by MD5. The vendored spec models the report as a flat map of strings (the real API
    nests Summary/Classification/FileProperties objects), so the mock keeps the flat form."""
    reports = {
        SANDBOX_MALICIOUS_MD5: {
            "Status": "COMPLETED",
            "Type": "MALICIOUS",
            "Category": "RANSOMWARE",
            "Score": "100",
            "DetectedMalware": "Win32.Ransom.LockBit",
            "FileType": "EXE",
            "FileName": "invoice_2025_12.exe",
            "StartTime": str(NOW - 5 * 3600),
        },
        SANDBOX_BENIGN_MD5: {
            "Status": "COMPLETED",
            "Type": "BENIGN",
            "Category": "BENIGN",
            "Score": "0",
            "FileType": "PDF",
            "FileName": "q4-report.pdf",
            "StartTime": str(NOW - 30 * 3600),
        },
    }
    for md5, report in reports.items():
        data.documents[("zia", f"{ZIA}/sandbox/report/{{md5Hash}}", (md5,))] = report


def _audit_log(data: SeedData) -> None:
    """A finished export and its CSV: admin changes, some of them about the subjects."""
    subjects = incident_subjects(data)
    first, second = subjects[0], subjects[1]
    rows = [
        (NOW - 20 * 3600, AUDIT_ADMIN, "UPDATE", "ACCESS_CONTROL", "URL_FILTERING_RULE", "Block Gambling", "UI"),
        (NOW - 6 * 3600, AUDIT_ADMIN, "UPDATE", "USER_MANAGEMENT", "USER", f"{first.name} ({first.email})", "API"),
        (NOW - 5 * 3600, first.email, "SIGN_IN", "LOGIN", "ADMIN_LOGIN", first.email, "UI"),
        (NOW - 4 * 3600, first.email, "UPDATE", "ACCESS_CONTROL", "SSL_INSPECTION_RULE", "Inspect All", "UI"),
        (NOW - 3 * 3600, AUDIT_ADMIN, "ACTIVATE", "ACTIVATION", "ACTIVATION", "Activation", "API"),
        (NOW - 2 * 3600, AUDIT_ADMIN, "UPDATE", "USER_MANAGEMENT", "USER", f"{second.name} ({second.email})", "API"),
    ]
    lines = ["Timestamp,Admin ID,Action,Category,Sub-Category,Resource,Interface,Client IP,Result,Trace ID"]
    for n, (ts, admin, action, cat, sub, resource, iface) in enumerate(rows):
        when = _utc(ts)
        lines.append(f'{when},{admin},{action},{cat},{sub},"{resource}",{iface},198.51.100.{60 + n},Success,'
                     f"tr-{ts:x}")
    data.documents[("zia", f"{ZIA}/auditlogEntryReport", ())] = {
        "status": "COMPLETE",
        "percentage": 100,
        "progressItemsComplete": len(rows),
        "progressEndTime": NOW * 1000,
    }
    data.documents[("zia", f"{ZIA}/auditlogEntryReport/download", ())] = {"body": "\n".join(lines) + "\n"}


def _utc(ts: int) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- ZIA datacenters, sub-clouds, exclusions -------------------------------------------------------
_DCS = (
    # name, city, country code, country, continent, region, flags
    ("FRA4", "Frankfurt", "DE", "Germany", "EU", "Europe", ""),
    ("AMS2", "Amsterdam", "NL", "Netherlands", "EU", "Europe", ""),
    ("CDG2", "Paris", "FR", "France", "EU", "Europe", ""),
    ("LON3", "London", "GB", "United Kingdom", "EU", "Europe", ""),
    ("SJC4", "San Jose", "US", "United States", "NA", "Americas", ""),
    ("WAS1", "Washington DC", "US", "United States", "NA", "Americas", ""),
    ("BOM6", "Mumbai", "IN", "India", "AS", "Asia Pacific", ""),
    ("SIN4", "Singapore", "SG", "Singapore", "AS", "Asia Pacific", ""),
    ("USGOV1", "Ashburn", "US", "United States", "NA", "Americas", "gov"),
    ("ZRH2", "Zurich", "CH", "Switzerland", "EU", "Europe", "future"),
)
_DC_ID = 6100


def _residency(data: SeedData) -> None:
    dcs = []
    for n, (name, city, code, country, continent, region, flags) in enumerate(_DCS):
        dcs.append(
            {
                "id": _DC_ID + n,
                "name": name,
                "city": city,
                "country": code,
                "timezone": "UTC",
                "provider": "Zscaler",
                "region": {"id": 6000 + ("Europe", "Americas", "Asia Pacific").index(region), "name": region},
                "geoInfo": {"cityName": city, "countryCode": code, "countryName": country, "continentCode": continent},
                "govOnly": flags == "gov",
                "forFutureUse": flags == "future",
                "notReadyForUse": flags == "future",
                "dontProvision": False,
                "dontPublish": False,
                "virtual": False,
                "thirdPartyCloud": False,
                "ownedByCustomer": False,
                "managedBcp": False,
                "regionalSurcharge": code in ("IN", "SG"),
                "createTime": NOW - 900 * _DAY,
                "lastModifiedTime": NOW - 60 * _DAY,
            }
        )
    by_name = {d["name"]: d for d in dcs}

    def ref(name: str) -> dict:
        return {"id": by_name[name]["id"], "name": name, "country": by_name[name]["country"]}

    data.collections[("zia", f"{ZIA}/datacenters", ())] = dcs
    data.collections[("zia", f"{ZIA}/subclouds", ())] = [
        {
            "id": 6201,
            "name": "EU Data Boundary",
            "dcs": [ref(n) for n in ("FRA4", "AMS2", "CDG2", "LON3")],
            "exclusions": [
                {
                    "datacenter": {"id": by_name["LON3"]["id"], "name": "LON3"},
                    "country": "GB",
                    "startTime": NOW - 40 * _DAY,
                    "endTime": _FOREVER,
                    "expired": False,
                    "disabledByOps": False,
                    "createTime": NOW - 40 * _DAY,
                }
            ],
        },
        {"id": 6202, "name": "Americas", "dcs": [ref(n) for n in ("SJC4", "WAS1")], "exclusions": []},
    ]
    data.collections[("zia", f"{ZIA}/dcExclusions", ())] = [
        {
            "dcid": by_name["WAS1"]["id"],
            "dcName": {"id": by_name["WAS1"]["id"], "name": "WAS1"},
            "startTime": NOW - 10 * _DAY,
            "endTime": _FOREVER,
            "expired": False,
            "description": "Kept out while the US data-processing agreement is reviewed",
        },
        {
            "dcid": by_name["AMS2"]["id"],
            "dcName": {"id": by_name["AMS2"]["id"], "name": "AMS2"},
            "startTime": NOW - 90 * _DAY,
            "endTime": NOW - 60 * _DAY,
            "expired": True,
            "description": "Maintenance window (over)",
        },
    ]


# -- ZIA rules a compliance checklist reads --------------------------------------------------------
def _zia_rules(data: SeedData) -> None:
    depts = {d["name"]: d for d in data.collections[("zia", f"{ZIA}/departments", ())]}

    def dept(name: str) -> dict:
        return {"id": depts[name]["id"], "name": name}

    data.collections[("zia", f"{ZIA}/sslInspectionRules", ())] = [
        {
            "id": 1101,
            "name": "Do Not Decrypt Health and Finance Sites",
            "order": 1,
            "rank": 7,
            "state": "ENABLED",
            "urlCategories": ["HEALTH", "FINANCE"],
            "action": {"type": "DO_NOT_DECRYPT", "showEUN": False, "showEUNATP": False},
            "description": "Privacy exemption",
            "lastModifiedTime": NOW - 30 * _DAY,
        },
        {
            "id": 1102,
            "name": "Inspect All",
            "order": 2,
            "rank": 7,
            "state": "ENABLED",
            "action": {"type": "DECRYPT", "showEUN": True, "showEUNATP": True,
                       "decryptSubActions": {"serverCertificates": "BLOCK", "ocspCheck": True}},
            "description": "Decrypt everything else",
            "lastModifiedTime": NOW - 4 * 3600,
        },
        {
            "id": 1103,
            "name": "Legacy Bypass Build Servers",
            "order": 3,
            "rank": 7,
            "state": "DISABLED",
            "action": {"type": "DO_NOT_DECRYPT"},
            "description": "Old exemption, switched off",
            "lastModifiedTime": NOW - 700 * _DAY,
        },
        {
            "id": 1104,
            "name": "Default SSL Inspection Rule",
            "order": 4,
            "rank": 7,
            "state": "ENABLED",
            "defaultRule": True,
            "predefined": True,
            "action": {"type": "DO_NOT_DECRYPT"},
        },
    ]
    data.collections[("zia", f"{ZIA}/sandboxRules", ())] = [
        {
            "id": 1201,
            "name": "Quarantine Unknown Executables",
            "order": 1,
            "rank": 7,
            "state": "ENABLED",
            "baRuleAction": "BLOCK",
            "firstTimeEnable": True,
            "firstTimeOperation": "QUARANTINE",
            "mlActionEnabled": True,
            "fileTypes": ["FTCATEGORY_WINDOWS_EXECUTABLES", "FTCATEGORY_MS_OFFICE", "FTCATEGORY_PDF_DOCUMENT"],
            "protocols": ["HTTPS_RULE", "HTTP_RULE", "FTP_RULE"],
            "baPolicyCategories": ["ADWARE_BLOCK", "BOTMAL_BLOCK", "ANONYP2P_BLOCK", "RANSOMWARE_BLOCK"],
            "lastModifiedTime": NOW - 45 * _DAY,
        },
        {
            "id": 1202,
            "name": "Default BA Rule",
            "order": 2,
            "rank": 7,
            "state": "ENABLED",
            "defaultRule": True,
            "baRuleAction": "ALLOW",
            "firstTimeEnable": False,
        },
    ]
    data.collections[("zia", f"{ZIA}/webDlpRules", ())] = [
        {
            "id": 1301,
            "name": "Block Card Numbers - Finance",
            "order": 1,
            "rank": 7,
            "state": "ENABLED",
            "action": "BLOCK",
            "severity": "RULE_SEVERITY_HIGH",
            "protocols": ["HTTPS_RULE", "HTTP_RULE"],
            "departments": [dept("Finance")],
            "dlpEngines": [{"id": 61, "name": "PCI"}],
            "lastModifiedTime": NOW - 20 * _DAY,
        },
        {
            "id": 1302,
            "name": "Source Code Exfiltration - Engineering",
            "order": 2,
            "rank": 7,
            "state": "ENABLED",
            "action": "BLOCK",
            "severity": "RULE_SEVERITY_HIGH",
            "protocols": ["HTTPS_RULE", "HTTP_RULE"],
            "departments": [dept("Engineering"), dept("IT Operations")],
            "dlpEngines": [{"id": 62, "name": "Source Code"}],
            "lastModifiedTime": NOW - 200 * _DAY,
        },
        {
            "id": 1303,
            "name": "Monitor Customer Lists - Sales",
            "order": 3,
            "rank": 7,
            "state": "DISABLED",
            "action": "ALLOW",
            "severity": "RULE_SEVERITY_MEDIUM",
            "protocols": ["HTTPS_RULE"],
            "departments": [dept("Sales")],
            "dlpEngines": [{"id": 63, "name": "Customer Data"}],
            "lastModifiedTime": NOW - 500 * _DAY,
        },
    ]
