"""Seed data for ZPA: app segments, segment/server/connector groups, connectors, access policy,
the IdP with its SCIM groups (the same groups as ZIdentity) and LSS log streaming."""

from __future__ import annotations

import random

from ._seed import GROUPS, NOW, ZPA, ZPA2, ZPA_USERS, SeedData

__all__ = ["ACCESS_POLICY_SET_ID", "IDP_ID", "seed_zpa"]

_BASE = 216196257331281920
ACCESS_POLICY_SET_ID = str(_BASE + 1)
IDP_ID = str(_BASE + 2)
_POLICY_TYPES = ("ACCESS_POLICY", "TIMEOUT_POLICY", "CLIENT_FORWARDING_POLICY", "INSPECTION_POLICY", "SIEM_POLICY")


def _id(n: int) -> str:
    return str(_BASE + n)


def _ref(ident: str, name: str, **extra) -> dict:
    return {"id": ident, "name": name, **extra}


def seed_zpa(data: SeedData, rng: random.Random) -> None:
    acg = [
        {
            "id": _id(100),
            "name": "SJC Connectors",
            "location": "San Jose, CA, USA",
            "cityCountry": "San Jose, US",
            "countryCode": "US",
            "latitude": "37.3382",
            "longitude": "-121.8863",
            "enabled": True,
            "upgradeDay": "SUNDAY",
        },
        {
            "id": _id(101),
            "name": "LON Connectors",
            "location": "London, England, GB",
            "cityCountry": "London, GB",
            "countryCode": "GB",
            "latitude": "51.5072",
            "longitude": "-0.1276",
            "enabled": True,
            "upgradeDay": "SUNDAY",
        },
    ]
    connectors = []
    for n, (group, healthy) in enumerate(((0, True), (0, True), (1, True), (1, False))):
        version = "24.302.1" if healthy else "24.185.3"
        connectors.append(
            {
                "id": _id(200 + n),
                "name": f"{acg[group]['name'].split()[0].lower()}-connector-{n + 1}",
                "appConnectorGroupId": acg[group]["id"],
                "appConnectorGroupName": acg[group]["name"],
                "enabled": True,
                "controlChannelStatus": "ZPN_STATUS_AUTHENTICATED" if healthy else "ZPN_STATUS_DISCONNECTED",
                "currentVersion": version,
                "expectedVersion": "24.302.1",
                "upgradeStatus": "COMPLETE" if healthy else "FAILED",
                "runtimeOS": "Red Hat Enterprise Linux 9.4",
                "platform": "el9",
                "privateIp": f"10.{10 + group * 10}.1.{11 + n}",
                "publicIp": f"198.51.100.{40 + n}",
                "lastBrokerConnectTime": (NOW - rng.randrange(60, 600)) * 1000 if healthy else (NOW - 86400 * 2) * 1000,
                "lastBrokerDisconnectTime": (NOW - 86400 * 2) * 1000 if not healthy else 0,
                "ctrlBrokerName": "broker2.sjc4.prod.zpath.net" if group == 0 else "broker1.lon3.prod.zpath.net",
            }
        )
    for group in acg:
        group["connectors"] = [
            _ref(c["id"], c["name"], enabled=True) for c in connectors if c["appConnectorGroupId"] == group["id"]
        ]
    servers = [
        {
            "id": _id(300),
            "name": "SJC Servers",
            "configSpace": "DEFAULT",
            "enabled": True,
            "dynamicDiscovery": True,
            "appConnectorGroups": [_ref(acg[0]["id"], acg[0]["name"], enabled=True)],
        },
        {
            "id": _id(301),
            "name": "LON Servers",
            "configSpace": "DEFAULT",
            "enabled": True,
            "dynamicDiscovery": True,
            "appConnectorGroups": [_ref(acg[1]["id"], acg[1]["name"], enabled=True)],
        },
        {
            "id": _id(302),
            "name": "All Connectors",
            "configSpace": "DEFAULT",
            "enabled": True,
            "dynamicDiscovery": True,
            "appConnectorGroups": [_ref(g["id"], g["name"], enabled=True) for g in acg],
        },
    ]
    for group in acg:
        group["serverGroups"] = [
            _ref(s["id"], s["name"], configSpace="DEFAULT", enabled=True)
            for s in servers
            if any(a["id"] == group["id"] for a in s["appConnectorGroups"])
        ]
    segment_groups = [
        {"id": _id(400 + i), "name": name, "enabled": True, "description": f"{name} segment group"}
        for i, name in enumerate(("Engineering Apps", "Finance Apps", "Corporate Apps"))
    ]
    apps = []
    for n, (name, domains, ports, seg, srv) in enumerate(
        (
            ("GitLab", ["gitlab.corp.example.test"], (443, 22), 0, 0),
            ("Jenkins", ["jenkins.corp.example.test"], (8443,), 0, 0),
            ("SAP Finance", ["sap.fin.example.test"], (443, 3200), 1, 1),
            ("Intranet Portal", ["intranet.example.test", "wiki.example.test"], (443,), 2, 2),
            ("SSH Bastion", ["bastion.corp.example.test"], (22,), 0, 2),
        )
    ):
        apps.append(
            {
                "id": _id(500 + n),
                "name": name,
                "description": f"{name} application segment",
                "enabled": True,
                "domainNames": domains,
                "tcpPortRanges": [p for port in ports for p in (port, port)],
                "tcpPortRange": [{"from": port, "to": port} for port in ports],
                "segmentGroupId": segment_groups[seg]["id"],
                "segmentGroupName": segment_groups[seg]["name"],
                "serverGroups": [_ref(servers[srv]["id"], servers[srv]["name"], configSpace="DEFAULT", enabled=True)],
                "bypassType": "NEVER",
                "healthReporting": "ON_ACCESS",
                "healthCheckType": "DEFAULT",
                "icmpAccessType": "NONE",
                "isCnameEnabled": True,
                "doubleEncrypt": False,
                "ipAnchored": False,
            }
        )
    for group in segment_groups:
        group["applications"] = [_ref(a["id"], a["name"]) for a in apps if a["segmentGroupId"] == group["id"]]
    for server in servers:
        server["applications"] = [_ref(a["id"], a["name"]) for a in apps if a["serverGroups"][0]["id"] == server["id"]]

    scim = [
        {
            "id": str(_BASE + 600 + i),
            "name": name,
            "idpId": IDP_ID,
            "idpGroupId": f"okta-{i:03d}",
            "creationTime": NOW - 86400 * 90,
            "modifiedTime": NOW - 86400 * 3,
        }
        for i, name in enumerate(GROUPS)
    ]
    idp = {
        "id": IDP_ID,
        "name": "Okta (mock)",
        "enabled": True,
        "scimEnabled": True,
        "enableScimBasedPolicy": True,
        "ssoType": ["USER"],
        "domainList": ["example.test"],
        "loginNameAttribute": "NameID",
    }
    rules = [
        _rule(
            700,
            "Allow Engineering to Engineering Apps",
            "ALLOW",
            1,
            [("APP_GROUP", segment_groups[0]["id"], None), ("SCIM_GROUP", scim[0]["id"], IDP_ID)],
        ),
        _rule(
            701,
            "Allow Finance to SAP",
            "ALLOW",
            2,
            [("APP", apps[2]["id"], None), ("SCIM_GROUP", scim[1]["id"], IDP_ID)],
        ),
        _rule(
            702,
            "Deny Contractors SSH",
            "DENY",
            3,
            [("APP", apps[4]["id"], None), ("SCIM_GROUP", scim[4]["id"], IDP_ID)],
        ),
        _rule(703, "Allow Everyone Intranet", "ALLOW", 4, [("APP_GROUP", segment_groups[2]["id"], None)]),
    ]
    lss = [
        {
            "id": _id(800 + n),
            "config": {
                "name": name,
                "lssHost": host,
                "lssPort": port,
                "sourceLogType": log,
                "format": fmt,
                "useTls": True,
                "enabled": True,
                "filter": [],
            },
            "connectorGroups": [_ref(acg[0]["id"], acg[0]["name"], enabled=True)],
        }
        for n, (name, host, port, log, fmt) in enumerate(
            (
                ("User Activity to Splunk", "10.10.5.20", 5514, "zpn_trans_log", "json"),
                ("Connector Status to SIEM", "10.10.5.21", 5515, "zpn_ast_comprehensive_stats", "json"),
            )
        )
    ]

    data.collections[("zpa", f"{ZPA}/appConnectorGroup", ())] = acg
    data.collections[("zpa", f"{ZPA}/connector", ())] = connectors
    data.collections[("zpa", f"{ZPA}/serverGroup", ())] = servers
    data.collections[("zpa", f"{ZPA}/segmentGroup", ())] = segment_groups
    data.collections[("zpa", f"{ZPA}/application", ())] = apps
    scim_attributes = [
        {
            "id": str(_BASE + 650 + n),
            "name": name,
            "idpId": IDP_ID,
            "dataType": "String",
            "mutability": "readWrite",
            "returned": "default",
            "multivalued": multi,
            "caseSensitive": False,
            "uniqueness": name == "userName",
            "required": name == "userName",
            "schemaURI": "urn:ietf:params:scim:schemas:core:2.0:User",
        }
        for n, (name, multi) in enumerate(
            (("userName", False), ("emails.value", True), ("name.givenName", False), ("name.familyName", False),
             ("department", False))
        )
    ]
    data.collections[("zpa", f"{ZPA}/idp/{{idpId}}/scimattribute", (IDP_ID,))] = scim_attributes
    data.collections[("zpa", f"{ZPA2}/idp", ())] = [idp]
    data.documents[("zpa", f"{ZPA}/idp/{{idpId}}", (IDP_ID,))] = idp
    data.collections[("zpa", f"{ZPA_USERS}/scimgroup/idpId/{{idpId}}", (IDP_ID,))] = scim
    for group in scim:
        data.documents[("zpa", f"{ZPA_USERS}/scimgroup/{{scimGroupId}}", (group["id"],))] = group
    rule_key = ("zpa", f"{ZPA}/policySet/{{policySetId}}/rule", (ACCESS_POLICY_SET_ID,))
    data.collections[rule_key] = rules
    data.aliases[("zpa", f"{ZPA}/policySet/rules/policyType/{{policyType}}", ("ACCESS_POLICY",))] = rule_key
    for n, policy_type in enumerate(_POLICY_TYPES):
        set_id = ACCESS_POLICY_SET_ID if n == 0 else _id(10 + n)
        name = policy_type.replace("_", " ").title().replace("Policy", "Policies")
        data.documents[("zpa", f"{ZPA}/policySet/policyType/{{policyType}}", (policy_type,))] = {
            "id": set_id,
            "name": name,
            "enabled": True,
            "policyType": n + 1,
            "sorted": True,
            "rules": rules if n == 0 else [],
        }
    data.collections[("zpa", f"{ZPA2}/lssConfig", ())] = lss


def _rule(n: int, name: str, action: str, order: int, operands: list[tuple[str, str, str | None]]) -> dict:
    return {
        "id": _id(n),
        "name": name,
        "action": action,
        "operator": "AND",
        "policyType": 1,
        "ruleOrder": order,
        "priority": order,
        "policySetId": ACCESS_POLICY_SET_ID,
        "disabled": 0,
        "description": name,
        "conditions": [
            {
                "negated": False,
                "operator": "OR",
                "operands": [
                    {"objectType": kind, "lhs": "id" if idp is None else idp, "rhs": rhs, "idpId": idp}
                    if idp
                    else {"objectType": kind, "lhs": "id", "rhs": rhs}
                ],
            }
            for kind, rhs, idp in operands
        ],
    }
