"""Seed data for ZDX over time: two weeks of hourly app scores and web-probe metrics, and a month of
resolved alerts, so trend, performance and SLA reports have something to chart.

The shapes follow the ZDX spec (a score `Series` per app, a `SeriesCollection` of metrics per app,
`Alert`s). The story is deliberate: Zoom has a two-day call-quality incident ending a day before
`NOW`, ServiceNow is slow every weekday morning, Microsoft 365 had a DNS slowdown five days back and
Slack an availability drop ten days back; alerts cluster around them. Runs after `seed_zdx`: each
app's listed score becomes that of the last two hours of its series, and the three resolved alerts
seeded there stay first.
"""

from __future__ import annotations

import math
import random

from ._seed import NOW, ZDX, ZDX_APPS, SeedData

__all__ = ["HISTORY_DAYS", "seed_zdx_history"]

HISTORY_DAYS = 14
ALERT_DAYS = 30
HOUR, DAY = 3600, 86400
# (app index, hours ago the dip starts, how long it lasts in hours, score points lost)
_INCIDENTS = ((1, 72, 48, 38), (0, 122, 10, 25), (4, 250, 6, 30))
_LEVELS = (76, 74, 78, 72, 80, 77)  # each app's usual score, before the time of day and incidents
_ALERT_RULES = {
    0: ("Microsoft 365 DNS Resolution Slow", "warning"),
    1: ("Zoom Poor Call Quality", "critical"),
    2: ("Salesforce Page Fetch Time High", "warning"),
    3: ("ServiceNow Score Below 40", "critical"),
    4: ("Slack Availability Drop", "warning"),
    5: ("Google Workspace Latency High", "info"),
}


def _dip(app: int, hours_ago: int) -> float:
    lost = 0.0
    for index, start, length, depth in _INCIDENTS:
        if index == app and start - length < hours_ago <= start:
            lost += depth
    if app == 3:  # ServiceNow: slow on weekday mornings (08:00-11:00 UTC)
        moment = NOW - hours_ago * HOUR
        weekday = (moment // DAY + 3) % 7  # 1970-01-01 was a Thursday: 0 = Monday
        if weekday < 5 and 8 <= (moment % DAY) // HOUR < 11:
            lost += 22
    return lost


def _scores(app: int, rng: random.Random) -> list[tuple[int, int]]:
    out = []
    for hours_ago in range(HISTORY_DAYS * 24, 0, -1):
        ts = NOW - hours_ago * HOUR
        daily = 5 * math.sin(2 * math.pi * ((ts % DAY) / DAY - 0.3))
        value = _LEVELS[app % len(_LEVELS)] + daily + rng.uniform(-3, 3) - _dip(app, hours_ago)
        out.append((ts, max(5, min(100, round(value)))))
    return out


def _metrics(app: int, scores: list[tuple[int, int]], rng: random.Random) -> list[dict]:
    pft, server, dns, up = [], [], [], []
    for ts, score in scores:
        page = 300 + (100 - score) * 14 + rng.randrange(0, 120)
        pft.append({"timestamp": ts, "value": page})
        server.append({"timestamp": ts, "value": round(page * rng.uniform(0.3, 0.45))})
        slow_dns = app == 0 and score < 50
        dns.append({"timestamp": ts, "value": rng.randrange(6, 30) + (120 if slow_dns else 0)})
        up.append({"timestamp": ts, "value": 100 if score >= 45 else rng.choice((96, 98, 99, 100))})
    return [
        {"metric": "pft", "unit": "ms", "datapoints": pft},
        {"metric": "server_response_time", "unit": "ms", "datapoints": server},
        {"metric": "dns", "unit": "ms", "datapoints": dns},  # ZDX's name (zscaler-sdk-python zscaler/zdx/apps.py)
        {"metric": "availability", "unit": "%", "datapoints": up},
    ]


def _alerts(rng: random.Random, first_id: int) -> list[dict]:
    alerts = []
    for day in range(ALERT_DAYS, 0, -1):
        hot = {index for index, start, length, _ in _INCIDENTS if start - length <= day * 24 <= start + 24}
        apps = list(hot) + [rng.randrange(len(ZDX_APPS)) for _ in range(rng.choice((0, 0, 1, 1, 2)))]
        for app in apps:
            rule, severity = _ALERT_RULES[app]
            started = NOW - day * DAY + rng.randrange(0, DAY - 8 * HOUR)
            alerts.append(
                {
                    "id": first_id + len(alerts),
                    "rule_name": rule,
                    "severity": severity,
                    "alert_type": "Application",
                    "alert_status": "Resolved",
                    "application": {"id": app + 1, "name": ZDX_APPS[app]},
                    "started_on": started,
                    "ended_on": started + rng.randrange(20 * 60, 6 * HOUR),
                    "num_devices": rng.randrange(2, 30),
                    "num_geolocations": rng.randrange(1, 4),
                }
            )
    return alerts


def seed_zdx_history(data: SeedData, rng: random.Random) -> None:
    # A generator of our own, seeded from the tenant's people (which only the seed decides) and not
    # drawing from the shared one: other seeders, before or after, never move these numbers.
    local = random.Random("zdx-history:" + ",".join(p.email for p in data.people[:3]))
    apps = data.collections.get(("zdx", f"{ZDX}/apps", ()), [])
    for index, app in enumerate(apps):
        scores = _scores(index, local)
        app["score"] = round(sum(v for _, v in scores[-2:]) / 2)  # the list's score is the last 2 hours'
        key = (str(app["id"]),)
        data.documents[("zdx", f"{ZDX}/apps/{{id}}/score", key)] = {
            "metric": "score",
            "unit": "",
            "datapoints": [{"timestamp": ts, "value": v} for ts, v in scores],
        }
        data.collections[("zdx", f"{ZDX}/apps/{{id}}/metrics", key)] = _metrics(index, scores, local)
    historical = data.collections.setdefault(("zdx", f"{ZDX}/alerts/historical", ()), [])
    older = _alerts(local, 9001)
    historical.extend(older)
    for alert in older:
        data.documents[("zdx", f"{ZDX}/alerts/{{id}}", (str(alert["id"]),))] = alert
