"""Seed data for the device-centred services: ZCC (enrolled devices) and ZDX (users, devices, app scores, alerts)."""

from __future__ import annotations

import random

from ._seed import NOW, ZCC, ZDX, ZDX_APPS, SeedData

__all__ = ["seed_zcc", "seed_zdx"]

ZDX_USER, ZDX_DEVICE = 5100000, 7700000


def seed_zcc(data: SeedData, rng: random.Random) -> None:
    devices = []
    for p in data.people:
        for n in range(p.devices):
            windows = n == 0 and rng.random() < 0.7
            devices.append(
                {
                    "udid": f"{rng.getrandbits(64):016X}:{p.index:04d}{n}",
                    "user": p.email,
                    "owner": p.email,
                    "machineHostname": f"{p.first[0]}{p.last}-{'WIN' if windows else 'MAC'}{n + 1}".upper(),
                    "type": "3" if windows else "4",
                    "osVersion": "Microsoft Windows 11 Enterprise" if windows else "macOS 15.2",
                    "manufacturer": "Dell Inc." if windows else "Apple Inc.",
                    "agentVersion": rng.choice(("4.5.0.325", "4.5.1.12", "4.4.0.389")),
                    "registrationState": "Registered",
                    "state": "Registered" if not p.disabled else "Removal Pending",
                    "companyName": "Example Corp",
                    "policyName": "Default Windows Policy" if windows else "Default macOS Policy",
                    "macAddress": f"00:1a:2b:{p.index:02x}:{n:02x}:{rng.randrange(256):02x}",
                    "last_seen_time": str(NOW - rng.randrange(60, 86400 * 3)),
                    "registration_time": str(NOW - rng.randrange(86400 * 30, 86400 * 400)),
                    "vpnState": "TUNNEL_UP",
                    "zappArch": "x64" if windows else "arm64",
                }
            )
    data.collections[("zcc", f"{ZCC}/getDevices", ())] = devices
    # ZPA and ZDX entitlements: Engineering's and IT's groups (ids as in ZIA: 82000 + group index), and one
    # device group, so an update that forgets device groups shows (lifecycle_onboard_user keeps them)
    entitled = [{"groupId": 82000 + i, "groupName": name, "active": 1} for i, name in ((0, "Developers"),
                                                                                      (7, "IT Admins"))]
    laptops = {"groupId": 93001, "groupName": "Corporate Laptops", "active": 1}
    data.documents[("zcc", f"{ZCC}/getZpaGroupEntitlements", ())] = {
        "zpaEnableForAll": 0, "machineTunEnabledForAll": 0, "computeDeviceGroupsForZPA": 1,
        "groupList": [{**e, "zpaEnabled": 1} for e in entitled], "deviceGroupList": [{**laptops, "zpaEnabled": 1}],
        "totalCount": 2}
    data.documents[("zcc", f"{ZCC}/getZdxGroupEntitlements", ())] = {
        "upmEnableForAll": 0, "collectZdxLocation": 1, "computeDeviceGroupsForZDX": 1, "logoutZCCForZDXService": 0,
        "upmGroupList": [{**e, "upmEnabled": 1} for e in entitled],
        "upmDeviceGroupList": [{**laptops, "upmEnabled": 1}], "totalCount": 2}


def seed_zdx(data: SeedData, rng: random.Random) -> None:
    users, devices = [], []
    for p in data.people:
        mine = [
            {"id": ZDX_DEVICE + p.index * 10 + n, "name": f"{p.first[0]}{p.last}-{n + 1}".upper()}
            for n in range(p.devices)
        ]
        score = rng.randrange(35, 100)
        users.append({"id": ZDX_USER + p.index, "name": p.name, "email": p.email, "score": score, "devices": mine})
        for dev in mine:
            os_name, model = rng.choice((("Windows 11", "Latitude 7440"), ("macOS 15.2", "MacBook Pro")))
            devices.append(
                {**dev, "userid": ZDX_USER + p.index, "os": os_name, "hw_model": model, "client_conn_ver": "4.5.0.325"}
            )
    data.collections[("zdx", f"{ZDX}/users", ())] = users
    data.collections[("zdx", f"{ZDX}/devices", ())] = devices
    apps: list[dict] = []
    device_apps: dict[int, list[dict]] = {}
    for i, name in enumerate(ZDX_APPS):
        app_id = i + 1
        sample = [u for u in users if u["devices"] and rng.random() < 0.6]
        app_users = [{**u, "score": max(5, min(100, u["score"] + rng.randrange(-30, 10)))} for u in sample]
        for user in app_users:  # the same scores seen from each of the user's devices
            for device in user["devices"]:
                device_apps.setdefault(device["id"], []).append({"id": app_id, "name": name, "score": user["score"]})
        poor = sum(u["score"] < 34 for u in app_users)
        okay = sum(34 <= u["score"] < 66 for u in app_users)
        score = round(sum(u["score"] for u in app_users) / max(1, len(app_users)))
        apps.append(
            {
                "id": app_id,
                "name": name,
                "score": score,
                "total_users": len(app_users),
                "most_impacted_region": {
                    "id": "ca",
                    "city": "London",
                    "country": "United Kingdom",
                    "region": "England",
                },
                "ApplicationStats": {
                    "active_users": len(app_users),
                    "active_devices": len(app_users),
                    "num_poor": poor,
                    "num_okay": okay,
                    "num_good": len(app_users) - poor - okay,
                    "num_na": 0,
                },
            }
        )
        key = (str(app_id),)
        data.collections[("zdx", f"{ZDX}/apps/{{id}}/users", key)] = app_users
        data.documents[("zdx", f"{ZDX}/apps/{{id}}/score", key)] = {
            "metric": "score",
            "unit": "",
            "datapoints": [
                {"timestamp": NOW - 3600 * h, "value": max(5, min(100, score + rng.randrange(-8, 8)))}
                for h in range(12, 0, -1)
            ],
        }
        data.collections[("zdx", f"{ZDX}/apps/{{id}}/metrics", key)] = [
            {
                "metric": metric,
                "unit": unit,
                "datapoints": [
                    {"timestamp": NOW - 3600 * h, "value": base + rng.randrange(0, spread)} for h in range(6, 0, -1)
                ],
            }
            for metric, unit, base, spread in (
                ("pft", "ms", 400, 900),
                ("dns_time", "ms", 5, 40),
                ("availability", "%", 95, 6),
            )
        ]
    data.collections[("zdx", f"{ZDX}/apps", ())] = apps
    for device_id, device_app_list in device_apps.items():
        data.collections[("zdx", f"{ZDX}/devices/{{id}}/apps", (str(device_id),))] = device_app_list
    alerts = [
        {
            "id": 8801 + i,
            "rule_name": rule,
            "severity": sev,
            "alert_type": "Application",
            "alert_status": "Ongoing",
            "application": {"id": app + 1, "name": ZDX_APPS[app]},
            "started_on": NOW - rng.randrange(600, 7200),
            "ended_on": 0,
            "num_devices": rng.randrange(3, 25),
            "num_geolocations": rng.randrange(1, 4),
        }
        for i, (rule, sev, app) in enumerate(
            (
                ("Zoom Poor Call Quality", "critical", 1),
                ("Salesforce Page Fetch Time High", "warning", 2),
                ("Microsoft 365 DNS Resolution Slow", "warning", 0),
            )
        )
    ]
    data.collections[("zdx", f"{ZDX}/alerts/ongoing", ())] = alerts
    data.collections[("zdx", f"{ZDX}/alerts/historical", ())] = [
        {
            **a,
            "id": a["id"] + 100,
            "alert_status": "Resolved",
            "ended_on": a["started_on"] - 60,
            "started_on": a["started_on"] - 86400,
        }
        for a in alerts
    ]
    for alert in alerts:
        data.documents[("zdx", f"{ZDX}/alerts/{{id}}", (str(alert["id"]),))] = alert
    data.documents[("zdx", f"{ZDX}/oauth/validate", ())] = {"valid": True}
