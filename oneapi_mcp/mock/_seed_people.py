"""Seed data for ZIA (users, departments, groups and policy objects) and ZIdentity (users, groups, members)."""

from __future__ import annotations

import random

from ._seed import DEPARTMENTS, GROUPS, ZIA, ZID, SeedData

__all__ = ["seed_zia", "seed_zid", "zid_group_id", "zid_user_id"]

ZIA_USER, ZIA_DEPT, ZIA_GROUP = 71000, 81000, 82000
_CITIES = (("San Jose", "US", "America/Los_Angeles"), ("London", "GB", "Europe/London"), ("Pune", "IN", "Asia/Kolkata"))


def _ref(ident: int, name: str) -> dict:
    return {"id": ident, "name": name}


def seed_zia(data: SeedData, rng: random.Random) -> None:
    depts = [
        {"id": ZIA_DEPT + i, "name": n, "idpId": 0, "comments": "", "deleted": False} for i, n in enumerate(DEPARTMENTS)
    ]
    groups = [{"id": ZIA_GROUP + i, "name": n, "idpId": 0, "comments": ""} for i, n in enumerate(GROUPS)]
    data.collections[("zia", f"{ZIA}/departments", ())] = depts
    data.collections[("zia", f"{ZIA}/groups", ())] = groups
    data.collections[("zia", f"{ZIA}/users", ())] = [
        {
            "id": ZIA_USER + p.index,
            "name": p.name,
            "email": p.email,
            "department": _ref(depts[p.department]["id"], depts[p.department]["name"]),
            "groups": [_ref(groups[g]["id"], groups[g]["name"]) for g in p.groups],
            "adminUser": False,
            "disabled": p.disabled,
            "deleted": False,
            "type": "USER",
            "comments": "",
            "userRiskScore": {
                "riskScore": rng.randrange(0, 100),
                "riskScoreLevel": rng.choice(("LOW", "MEDIUM", "HIGH")),
            },
        }
        for p in data.people
    ]
    custom_urls = ["badsite.example", "malware-drop.example", "phish-login.example"]
    data.collections[("zia", f"{ZIA}/urlCategories", ())] = [
        {
            "id": cat,
            "configuredName": name,
            "superCategory": sup,
            "customCategory": False,
            "type": "URL_CATEGORY",
            "urls": [],
            "editable": False,
        }
        for cat, name, sup in (
            ("SOCIAL_NETWORKING", "Social Networking", "INTERNET_COMMUNICATION"),
            ("GAMBLING", "Gambling", "GAMBLING"),
            ("STREAMING_MEDIA", "Streaming Media", "ENTERTAINMENT_AND_RECREATION"),
            ("WEB_MAIL", "Web Mail", "INTERNET_COMMUNICATION"),
        )
    ] + [
        {
            "id": "CUSTOM_01",
            "configuredName": "Blocked Domains",
            "superCategory": "USER_DEFINED",
            "customCategory": True,
            "type": "URL_CATEGORY",
            "urls": custom_urls,
            "customUrlsCount": len(custom_urls),
            "editable": True,
            "description": "Domains blocked by the security team",
        },
        {
            "id": "CUSTOM_02",
            "configuredName": "Approved SaaS",
            "superCategory": "USER_DEFINED",
            "customCategory": True,
            "type": "URL_CATEGORY",
            "urls": ["salesforce.com", "zoom.us", "slack.com"],
            "customUrlsCount": 3,
            "editable": True,
        },
    ]
    contractors = _ref(groups[4]["id"], groups[4]["name"])
    data.collections[("zia", f"{ZIA}/urlFilteringRules", ())] = [
        {
            "id": 301 + i,
            "name": name,
            "order": i + 1,
            "rank": 7,
            "state": "ENABLED",
            "action": action,
            "urlCategories": cats,
            "protocols": ["ANY_RULE"],
            "requestMethods": ["GET", "POST", "CONNECT"],
            "groups": grp,
            "description": desc,
            # recorded rules carry it (reference/recorded/zia/cassettes/TestURLFilteringRule.yaml)
            "lastModifiedTime": 1_773_372_484,
        }
        for i, (name, action, cats, grp, desc) in enumerate(
            (
                ("Block Blocked Domains", "BLOCK", ["CUSTOM_01"], [], "Security team denylist"),
                ("Block Gambling", "BLOCK", ["GAMBLING"], [], "Acceptable use"),
                ("Contractors No Webmail", "BLOCK", ["WEB_MAIL"], [contractors], "Data loss prevention"),
                ("Caution Streaming", "CAUTION", ["STREAMING_MEDIA"], [], "Bandwidth"),
                ("Allow Approved SaaS", "ALLOW", ["CUSTOM_02"], [], "Business apps"),
            )
        )
    ]
    dst = [
        {
            "id": 9101,
            "name": "Known C2 Servers",
            "type": "DSTN_IP",
            "addresses": ["198.51.100.23", "203.0.113.77"],
            "description": "Threat intel feed",
        },
        {"id": 9102, "name": "Corporate DNS", "type": "DSTN_IP", "addresses": ["10.10.0.53", "10.20.0.53"]},
        {"id": 9103, "name": "Update Servers", "type": "DSTN_FQDN", "addresses": ["updates.example.test"]},
    ]
    src = [
        {"id": 9201, "name": "HQ Networks", "ipAddresses": ["10.10.0.0/16"], "description": "San Jose HQ"},
        {"id": 9202, "name": "Branch Networks", "ipAddresses": ["10.20.0.0/16", "10.30.0.0/16"]},
    ]
    data.collections[("zia", f"{ZIA}/ipDestinationGroups", ())] = dst
    data.collections[("zia", f"{ZIA}/ipSourceGroups", ())] = src
    data.collections[("zia", f"{ZIA}/firewallFilteringRules", ())] = [
        {
            "id": 401 + i,
            "name": name,
            "order": i + 1,
            "rank": 7,
            "state": "ENABLED",
            "action": action,
            "destIpGroups": dests,
            "srcIpGroups": srcs,
            "defaultRule": default,
            "enableFullLogging": True,
            "lastModifiedTime": 1_773_372_484,
        }
        for i, (name, action, dests, srcs, default) in enumerate(
            (
                ("Block C2 Traffic", "BLOCK_DROP", [_ref(9101, "Known C2 Servers")], [], False),
                ("Allow Corporate DNS", "ALLOW", [_ref(9102, "Corporate DNS")], [_ref(9201, "HQ Networks")], False),
                ("Allow Updates", "ALLOW", [_ref(9103, "Update Servers")], [], False),
                ("Default Firewall Filtering Rule", "ALLOW", [], [], True),
            )
        )
    ]
    data.collections[("zia", f"{ZIA}/dlpDictionaries", ())] = [
        {
            "id": 501,
            "name": "Credit Cards",
            "description": "Card numbers",
            "dictionaryType": "PATTERNS_AND_PHRASES",
            "customPhraseMatchType": "MATCH_ANY_CUSTOM_PHRASE_PATTERN_DICTIONARY",
            "custom": False,
            "phrases": [],
            "patterns": [{"action": "PATTERN_COUNT_TYPE_ALL", "pattern": "4[0-9]{15}"}],
        },
        {
            "id": 502,
            "name": "Project Codenames",
            "description": "Confidential projects",
            "custom": True,
            "dictionaryType": "PATTERNS_AND_PHRASES",
            "customPhraseMatchType": "MATCH_ALL_CUSTOM_PHRASE_PATTERN_DICTIONARY",
            "phrases": [
                {"action": "PHRASE_COUNT_TYPE_ALL", "phrase": "Project Nightingale"},
                {"action": "PHRASE_COUNT_TYPE_UNIQUE", "phrase": "Project Kestrel"},
            ],
            "patterns": [],
        },
        {
            "id": 503,
            "name": "Source Code",
            "description": "Private keys and tokens",
            "custom": True,
            "dictionaryType": "PATTERNS_AND_PHRASES",
            "customPhraseMatchType": "MATCH_ANY_CUSTOM_PHRASE_PATTERN_DICTIONARY",
            "phrases": [{"action": "PHRASE_COUNT_TYPE_ALL", "phrase": "BEGIN RSA PRIVATE KEY"}],
            "patterns": [],
        },
    ]
    locations = []
    for i, (city, country, tz) in enumerate(_CITIES):
        locations.append(
            {
                "id": 601 + i,
                "name": f"{city} Office",
                "country": country,
                "tz": tz,
                "childCount": 1 if i == 0 else 0,
                "ipAddresses": [f"203.0.113.{10 + i}"],
                "authRequired": True,
                "sslScanEnabled": True,
                "ofwEnabled": True,
                "profile": "CORPORATE",
                "description": f"{city} office egress",
            }
        )
    data.collections[("zia", f"{ZIA}/locations", ())] = locations
    data.collections[("zia", f"{ZIA}/locations/{{locationId}}/sublocations", ("601",))] = [
        {
            "id": 611,
            "name": "San Jose Guest WiFi",
            "parentId": 601,
            "country": "US",
            "tz": "America/Los_Angeles",
            "ipAddresses": ["10.10.200.0-10.10.200.255"],
            "profile": "GUESTWIFI",
            "authRequired": False,
        }
    ]
    data.collections[("zia", f"{ZIA}/nssFeeds", ())] = [
        {
            "id": 701,
            "name": "Splunk Web Logs",
            "feedStatus": "ENABLED",
            "nssLogType": "WEBLOG",
            "nssFeedType": "JSON",
            "siemType": "SPLUNK",
            "connectionURL": "https://splunk.example.test:8088/services/collector/raw",
            "feedOutputFormat": '{"sourcetype":"zscalernss-web","event":{"user":"%s{elogin}"}}',
            "cloudNss": True,
            "timeZone": "GMT",
            "maxBatchSize": 524288,
            "epsRateLimit": 0,
        },
        {
            "id": 702,
            "name": "Sentinel Firewall Logs",
            "feedStatus": "ENABLED",
            "nssLogType": "FWLOG",
            "nssFeedType": "JSON",
            "siemType": "AZURE_SENTINEL",
            "connectionURL": "https://sentinel.example.test/api/logs",
            "cloudNss": True,
            "timeZone": "GMT",
            "maxBatchSize": 524288,
            "epsRateLimit": 0,
        },
    ]


def zid_user_id(index: int) -> str:
    return f"u{index + 1000:x}mock"


def zid_group_id(index: int) -> str:
    return f"g{index + 100:x}mock"


def seed_zid(data: SeedData, rng: random.Random) -> None:
    users = [
        {
            "id": zid_user_id(p.index),
            "loginName": p.email,
            "displayName": p.name,
            "firstName": p.first,
            "lastName": p.last,
            "primaryEmail": p.email,
            "status": not p.disabled,
            "source": "SCIM",
            "department": {
                "id": f"d{p.department}",
                "name": DEPARTMENTS[p.department],
                "displayName": DEPARTMENTS[p.department],
            },
        }
        for p in data.people
    ]
    groups = [
        {
            "id": zid_group_id(i),
            "name": n,
            "description": f"{n} (synced from the IdP)",
            "source": "SCIM",
            "dynamicGroup": False,
            "adminEntitlementEnabled": n == "IT Admins",
            "serviceEntitlementEnabled": True,
        }
        for i, n in enumerate(GROUPS)
    ]
    data.collections[("zid", f"{ZID}/users", ())] = users
    data.collections[("zid", f"{ZID}/groups", ())] = groups
    for i, group in enumerate(groups):
        members = [users[p.index] for p in data.people if i in p.groups]
        data.collections[("zid", f"{ZID}/groups/{{id}}/users", (group["id"],))] = members
    for p in data.people:
        mine = [groups[g] for g in p.groups]
        data.collections[("zid", f"{ZID}/users/{{id}}/groups", (zid_user_id(p.index),))] = mine
