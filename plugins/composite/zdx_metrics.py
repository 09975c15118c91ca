"""Built-in plugin: user performance metrics from ZDX (experience scores per user and app, application
performance over a window, SLA compliance against a target score).

Read-only reports: each returns markdown, the same data as structured content, CSV tables and PNG
charts (`_report.report_result`). A read that fails is reported under `problems` and the rest of the
report still comes back; unknown users or apps, malformed emails and bad time windows are refused
with the reason before anything is read from ZDX.

ZDX has no SLA API: SLA compliance is computed here from each app's score time series.
"""

from __future__ import annotations

import math
import statistics
from typing import Annotated, Any

from pydantic import Field

from oneapi_mcp.plugin_api import (
    CompositeTool,
    Refusal,
    Table,
    bar_chart,
    line_chart,
    report_result,
    tool_error,
)

from ..hookspecs import hookimpl
from ._kit.lookups import check_email
from ._kit.reads import Reads, failed, problem_lines
from ._kit.zdx import Window, iso, parse_window, score_points, zdx_apps

_INPUTS = f"{__name__}_inputs"  # the input models: imported on a tool's first call, not at start

__all__ = ["TOOLS", "find_zdx_apps", "oneapi_mcp_register_tools", "score_bucket"]

DEFAULT_MIN_COVERAGE = 90.0  # % of an SLA window the score series must cover before it passes or fails
# the metric_name values ZDX takes are pft, dns and availability (zscaler-sdk-python zscaler/zdx/apps.py
# list_app_metrics); an older name is mapped to ZDX's own so the series asked for is the one returned
_METRIC_NAMES = {"dns_time": "dns"}
_METRIC_LABELS = {"pft": "page fetch time", "dns": "DNS time",
                  "server_response_time": "server response time", "availability": "availability",
                  "latency": "CloudPath latency"}
SCORE_AXIS = "ZDX score (0-100)"
_SLA_NOTE = ("ZDX has no SLA API: compliance is computed here from each app's ZDX score time series "
             "(zdx_get_app_score) over from/to; each datapoint counts for the interval until the next one, and "
             "gaps longer than three intervals count as no data, neither met nor missed")


# -- ZDX lookups -----------------------------------------------------------------------------------
def score_bucket(score: Any) -> str:
    """ZDX's own buckets: poor 0-33, okay 34-65, good 66-100."""
    if not isinstance(score, (int, float)) or score < 0:
        return "no data"
    return "poor" if score < 34 else "okay" if score < 66 else "good"


async def find_zdx_apps(reads: Reads, wanted: list[str] | None, window: Window) -> list[dict[str, Any]]:
    """ZDX apps by name (case-insensitive) or id; every app when `wanted` is empty. Refusal names the
    unknown ones and the apps searched."""
    apps = await zdx_apps(reads, window)
    if apps is None:
        problem = reads.problems[-1] if reads.problems else {}
        raise Refusal(f"could not list ZDX apps: {problem.get('error', 'zdx_list_applications failed')}",
                      "upstream", http_status=problem.get("http_status"))
    if not wanted:
        return apps
    found, unknown = [], []
    for name in wanted:
        key = str(name).strip().lower()
        match = [a for a in apps if str(a.get("name", "")).lower() == key or str(a.get("id")) == key]
        if match:
            if match[0] not in found:
                found.append(match[0])
        else:
            unknown.append(str(name))
    if unknown:
        names = ", ".join(str(a.get("name")) for a in apps)
        raise Refusal(f"no ZDX app {', '.join(repr(u) for u in unknown)}: searched the {len(apps)} apps "
                      f"zdx_list_applications returned ({names})", "not_found", unknown=unknown,
                      searched=[a.get("name") for a in apps])
    return found


async def find_zdx_user(reads: Reads, email: str, window: Window) -> dict[str, Any]:
    users = await reads.get("zdx_list_users", {"q": email, **window.zdx()}, all_pages=True, max_items=1000)
    if users is None:
        raise Refusal(f"could not search ZDX users: {reads.problems[-1].get('error')}", "upstream")
    match = [u for u in users if str(u.get("email", "")).lower() == email]
    if not match:
        raise Refusal(f"no ZDX user {email!r}: searched zdx_list_users (q={email}) for {iso(window.start)} to "
                      f"{iso(window.end)}; ZDX lists only users active in the window", "not_found",
                      who=email, searched=["zdx_list_users"])
    return match[0]


def _outside_note(outside: int) -> list[str]:
    return ([f"{outside} datapoint(s) outside the window were returned and not counted"] if outside else [])


# -- experience scores per user and app ------------------------------------------------------------
async def report_scores(ctx, args: dict[str, Any]):
    reads = Reads(ctx)
    try:
        window = parse_window(args, "24h")
        email = check_email(args["user"]) if args.get("user") else None
        apps = await find_zdx_apps(reads, args.get("apps"), window)
        user = await find_zdx_user(reads, email, window) if email else None
    except ValueError as exc:
        return tool_error(str(exc), "invalid_arguments", field="user")
    except Refusal as exc:
        return failed(exc)
    if user is not None:
        return await _one_user(ctx, reads, window, apps, user)
    return await _all_users(ctx, reads, window, apps, int(args.get("max_users", 500)))


async def _one_user(ctx, reads: Reads, window: Window, apps: list[dict[str, Any]], user: dict[str, Any]):
    detail = await reads.get("zdx_get_user", {"id": str(user["id"]), **window.zdx()}, missing_ok=True) or user
    rows = []
    for app in apps:
        seen = await reads.get("zdx_get_app_user", {"id": app["id"], "userid": str(user["id"]), **window.zdx()},
                               missing_ok=True)
        score = seen.get("score") if isinstance(seen, dict) else None
        rows.append({"app": app.get("name"), "app_id": app.get("id"), "user_score": score,
                     "bucket": score_bucket(score) if seen is not None else "did not use it",
                     "app_score_all_users": app.get("score")})
    used = [r for r in rows if isinstance(r["user_score"], (int, float))]
    overall = detail.get("score")
    data = {"tool": ctx.call.name, "window": window.report(), "user": {
        "id": user.get("id"), "name": detail.get("name") or user.get("name"), "email": user.get("email"),
        "overall_score": overall, "bucket": score_bucket(overall),
        "devices": [d.get("name") for d in detail.get("devices") or [] if isinstance(d, dict)]},
        "apps": rows, "problems": reads.problems, "reads": reads.count}
    worst = min(used, key=lambda r: r["user_score"]) if used else None
    summary = (f"{data['user']['name']} ({user.get('email')}): overall ZDX score {overall} "
               f"({score_bucket(overall)}) over {iso(window.start)} to {iso(window.end)}; used {len(used)} of "
               f"{len(rows)} app(s)" + (f"; worst: {worst['app']} {worst['user_score']:g}" if worst else ""))
    data["summary"] = summary
    table = Table("ZDX scores per app", ["app", "user_score", "bucket",
                                                                  "app_score_all_users"], rows)
    charts = []
    if used:
        charts.append(bar_chart(f"ZDX score per app: {data['user']['name']}", "application", SCORE_AXIS,
                                [r["app"] for r in used], [r["user_score"] for r in used], target=66,
                                target_label="good from"))
    return report_result(f"ZDX experience: {user.get('email')}", data, sections=[summary, *problem_lines(reads)],
                         tables=[table], charts=charts)


async def _all_users(ctx, reads: Reads, window: Window, apps: list[dict[str, Any]], max_users: int):
    users = await reads.get("zdx_list_users", window.zdx(), all_pages=True, max_items=max_users,
                            fields=["id", "name", "email", "score"]) or []
    by_app: dict[str, dict[str, Any]] = {}
    app_rows = []
    for n, app in enumerate(apps):
        await reads.progress(n, len(apps), f"ZDX users of {app.get('name')}")
        app_users = await reads.get("zdx_list_app_users", {"id": app["id"], **window.zdx()}, all_pages=True,
                                    max_items=max_users, fields=["id", "email", "score"])
        scores = {str(u.get("id")): u.get("score") for u in app_users or [] if isinstance(u, dict)}
        by_app[str(app.get("name"))] = scores
        values = [s for s in scores.values() if isinstance(s, (int, float)) and s >= 0]
        buckets = [score_bucket(s) for s in values]
        app_rows.append({"app": app.get("name"), "app_id": app.get("id"), "app_score": app.get("score"),
                         "users": len(values) if app_users is not None else None,
                         "average_user_score": round(statistics.fmean(values), 1) if values else None,
                         "poor": buckets.count("poor"), "okay": buckets.count("okay"), "good": buckets.count("good"),
                         "status": "ok" if app_users is not None else "read failed"})
    names = [str(a.get("name")) for a in apps]
    user_rows = []
    for u in users:
        row = {"user": u.get("name"), "email": u.get("email"), "overall_score": u.get("score"),
               "bucket": score_bucket(u.get("score"))}
        for name in names:
            row[name] = by_app[name].get(str(u.get("id")))
        user_rows.append(row)
    user_rows.sort(key=lambda r: (r["overall_score"] if isinstance(r["overall_score"], (int, float)) else 999))
    scored = [r["overall_score"] for r in user_rows if isinstance(r["overall_score"], (int, float))]
    poor = [r for r in user_rows if r["bucket"] == "poor"]
    summary = (f"{len(user_rows)} ZDX user(s) active over {iso(window.start)} to {iso(window.end)}, "
               f"average score {statistics.fmean(scored):.1f}" if scored else
               f"no ZDX users active over {iso(window.start)} to {iso(window.end)}")
    summary += f"; {len(poor)} with a poor experience (score below 34)" if scored else ""
    data = {"tool": ctx.call.name, "summary": summary, "window": window.report(), "apps": app_rows,
            "users": user_rows, "poor_users": [r["email"] for r in poor], "problems": reads.problems,
            "reads": reads.count}
    if len(users) >= max_users:
        data["truncated"] = f"only the first {max_users} users are listed (raise max_users)"
    shown = [r for r in app_rows if isinstance(r["app_score"], (int, float))]
    charts = [bar_chart("ZDX score per app (all users)", "application", SCORE_AXIS, [r["app"] for r in shown],
                        [r["app_score"] for r in shown], target=66, target_label="good from")] if shown else []
    return report_result("ZDX experience scores per user and app", data,
                         sections=[summary, *problem_lines(reads)],
                         tables=[Table("ZDX apps", ["app", "app_score", "users", "average_user_score", "poor",
                                                    "okay", "good", "status"], app_rows),
                                 Table("ZDX users worst first", ["user", "email", "overall_score", "bucket", *names],
                                       user_rows)],
                         charts=charts)


# -- application performance -----------------------------------------------------------------------
def _metric_label(metric: str) -> str:
    return _METRIC_LABELS.get(metric, metric.replace("_", " "))


def _axis(metric: str, unit: str) -> str:
    label = _metric_label(metric)
    if unit in ("ms", "s", "sec", "seconds"):
        return f"time ({unit})" if label.endswith("time") else f"{label} ({unit})"
    return f"{label} ({unit})" if unit else label


def _stats(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {"points": len(values), "average": round(statistics.fmean(values), 1), "min": ordered[0],
            "p95": p95, "max": ordered[-1], "last": values[-1]}


async def app_performance(ctx, args: dict[str, Any]):
    reads = Reads(ctx)
    try:
        window = parse_window(args, "24h")
        apps = await find_zdx_apps(reads, args.get("apps"), window)
    except Refusal as exc:
        return failed(exc)
    wanted = list(dict.fromkeys(_METRIC_NAMES.get(m, m) for m in (str(m).strip() for m in args.get("metrics") or [])
                                if m))
    series: dict[tuple[str, str], dict[str, Any]] = {}  # (metric, app) -> {unit, points}
    outside = 0
    for n, app in enumerate(apps):
        await reads.progress(n, len(apps), f"ZDX metrics of {app.get('name')}")
        for metric in wanted or [None]:
            query = {"id": app["id"], **window.zdx(), **({"metric_name": metric} if metric else {})}
            answer = await reads.get("zdx_list_app_metrics", query)
            found = [s for s in answer or [] if isinstance(s, dict)] if isinstance(answer, list) else []
            if metric:  # keep what was asked for (an API that ignores metric_name would repeat the default)
                exact = [s for s in found if s.get("metric") == metric]
                found = exact or ([{**found[0], "metric": metric}] if len(found) == 1 else [])
            for s in found:
                points, out = score_points(s, window)
                outside += out
                series[(str(s.get("metric")), str(app.get("name")))] = {"unit": str(s.get("unit") or ""),
                                                                        "points": points}
    rows, raw = [], []
    order = list(_METRIC_LABELS)
    for (metric, app), s in sorted(series.items(), key=lambda kv: (kv[0][1], order.index(kv[0][0])
                                                                   if kv[0][0] in order else 99, kv[0][0])):
        values = [v for _, v in s["points"]]
        row = {"app": app, "metric": metric, "label": _metric_label(metric), "unit": s["unit"]}
        row.update(_stats(values) if values else {"points": 0})
        rows.append(row)
        raw.extend({"time": iso(ts), "app": app, "metric": metric, "value": v, "unit": s["unit"]}
                   for ts, v in s["points"])
    charts = []
    for metric in sorted({m for m, _ in series})[:4]:
        per_app = {app: s for (m, app), s in series.items() if m == metric and s["points"]}
        if not per_app:
            continue
        times = sorted({ts for s in per_app.values() for ts, _ in s["points"]})
        lines = {app: [dict(s["points"]).get(ts, math.nan) for ts in times] for app, s in per_app.items()}
        unit = next(iter(per_app.values()))["unit"]
        label = _metric_label(metric)
        charts.append(line_chart(f"{label[:1].upper() + label[1:]} by app", "time (UTC)", _axis(metric, unit),
                                 [iso(ts)[5:].replace("T", " ") for ts in times], lines))
    slow = [r for r in rows if r.get("unit") == "ms" and r.get("points")]
    worst = max(slow, key=lambda r: r["average"]) if slow else None
    summary = (f"{len(rows)} series ({len({r['metric'] for r in rows})} metric(s) x {len(apps)} app(s)) over "
               f"{iso(window.start)} to {iso(window.end)}" + (
                   f"; slowest: {worst['app']} {worst['label']} averaging {worst['average']:g} ms" if worst else ""))
    data = {"tool": ctx.call.name, "summary": summary, "window": window.report(), "metrics": rows,
            "problems": reads.problems, "reads": reads.count, "notes": [
                "metrics are what ZDX reports for each app's web probes (zdx_list_app_metrics); without metrics= "
                "the API's default set is shown", *_outside_note(outside)]}
    tables = [Table("App performance summary", ["app", "metric", "label", "unit", "points", "average", "min", "p95",
                                                "max", "last"], rows)]
    if args.get("include_datapoints"):
        tables.append(Table("App performance datapoints", ["time", "app", "metric", "value", "unit"], raw))
    return report_result("ZDX application performance", data, sections=[summary, *problem_lines(reads)],
                         tables=tables, charts=charts)


# -- SLA compliance --------------------------------------------------------------------------------
def sla_of(points: list[tuple[int, float]], window: Window, target: float) -> dict[str, Any]:
    """Share of time the score was >= target: each point counts until the next (the last one for the
    usual interval, within the window); a gap over three intervals counts only one interval."""
    if not points:
        return {"datapoints": 0}
    gaps = [b[0] - a[0] for a, b in zip(points, points[1:], strict=False) if b[0] > a[0]]
    step = statistics.median(gaps) if gaps else min(3600, window.seconds)
    met = total = 0.0
    for n, (ts, value) in enumerate(points):
        if n + 1 < len(points):
            gap = points[n + 1][0] - ts
            span = gap if gap <= 3 * step else step
        else:
            span = max(0.0, min(step, window.end - ts))
        total += span
        met += span if value >= target else 0
    values = [v for _, v in points]
    return {"datapoints": len(points), "percent_at_or_above": round(100 * met / total, 2) if total else None,
            "average_score": round(statistics.fmean(values), 1), "min_score": min(values),
            "coverage_percent": round(min(100.0, 100 * total / window.seconds), 1),
            "first": iso(points[0][0]), "last": iso(points[-1][0])}


async def check_sla(ctx, args: dict[str, Any]):
    reads = Reads(ctx)
    target = float(args.get("target_score", 66))
    required = float(args.get("required_percent", 95))
    coverage = float(args.get("min_coverage_percent", DEFAULT_MIN_COVERAGE))
    try:
        window = parse_window(args, "7d")
        apps = await find_zdx_apps(reads, args.get("apps"), window)
    except Refusal as exc:
        return failed(exc)
    rows, raw, outside = [], [], 0
    for n, app in enumerate(apps):
        await reads.progress(n, len(apps), f"ZDX score of {app.get('name')}")
        answer = await reads.get("zdx_get_app_score", {"id": app["id"], **window.zdx()})
        row: dict[str, Any] = {"app": app.get("name"), "app_id": app.get("id"), "target_score": target,
                               "required_percent": required}
        if answer is None:
            row.update(status="unknown", reason="the score read failed (see problems)")
        else:
            points, out = score_points(answer, window)
            outside += out
            row.update(sla_of(points, window, target))
            raw.extend({"time": iso(ts), "app": app.get("name"), "score": v} for ts, v in points)
            if not points:
                row.update(status="no data", reason="ZDX returned no score datapoints in the window")
            elif row["coverage_percent"] < coverage:  # a verdict on part of the window is not a verdict on it
                row.update(status="unknown", reason=f"the scores cover {row['coverage_percent']:g}% of the window, "
                                                    f"below min_coverage_percent {coverage:g}%")
            else:
                row["status"] = "pass" if row["percent_at_or_above"] >= required else "fail"
        rows.append(row)
    passed = [r for r in rows if r["status"] == "pass"]
    failing = [r for r in rows if r["status"] == "fail"]
    summary = (f"SLA: ZDX score >= {target:g} for at least {required:g}% of {iso(window.start)} to "
               f"{iso(window.end)}: {len(passed)} of {len(rows)} app(s) pass"
               + ("; failing: " + ", ".join(f"{r['app']} ({r['percent_at_or_above']:g}%)" for r in failing)
                  if failing else "")
               + (f"; {len(rows) - len(passed) - len(failing)} without data or with too little coverage"
                  if len(rows) > len(passed) + len(failing) else ""))
    data = {"tool": ctx.call.name, "summary": summary, "window": window.report(), "target_score": target,
            "required_percent": required, "min_coverage_percent": coverage, "apps": rows, "computed_here": _SLA_NOTE,
            "problems": reads.problems, "reads": reads.count, "notes": _outside_note(outside)}
    shown = [r for r in rows if r.get("percent_at_or_above") is not None]
    charts = [bar_chart(f"ZDX SLA: time with score >= {target:g}", "application", "time at or above target (%)",
                        [r["app"] for r in shown], [r["percent_at_or_above"] for r in shown], target=required,
                        target_label="required")] if shown else []
    tables = [Table("SLA compliance per app", ["app", "status", "percent_at_or_above", "required_percent",
                                               "target_score", "average_score", "min_score", "datapoints",
                                               "coverage_percent", "first", "last"], rows)]
    if args.get("include_datapoints"):
        tables.append(Table("Score datapoints", ["time", "app", "score"], raw))
    return report_result("ZDX SLA compliance", data, sections=[summary, _SLA_NOTE + ".", *problem_lines(reads)],
                         tables=tables, charts=charts)


# -- definitions -----------------------------------------------------------------------------------
_Name = Annotated[str, Field(min_length=1)]


_DATAPOINTS = Field(False, description="Also return every datapoint as a table/CSV.")


TOOLS = [
    CompositeTool(
        name="experience_report_scores",
        keywords=("digital experience score", "user experience complaint", "poor experience users", "worst users",
                  "ZDX score", "end-user experience", "helpdesk slow ticket", "bad experience", "who is struggling",
                  "experience per app", "user complains slow", "experience heatmap"),
        title="ZDX experience scores per user and app",
        description=(
            "ZDX experience scores (0-100; poor <34, okay <66, good 66+) per user and app over a window (default "
            "24h): for one user (email) their overall score and their score in each app, or for everyone a "
            "user x app table, worst first, with per-app counts. Markdown, CSV and a bar chart. Read-only."),
        handler=report_scores, toolset="composite.experience", scope="read",
        operations=("zdx_list_applications", "zdx_list_users", "zdx_get_user", "zdx_list_app_users",
                    "zdx_get_app_user"),
        input_model=f"{_INPUTS}:_ScoresInput",
    ),
    CompositeTool(
        name="experience_report_app_performance",
        keywords=("slow application", "page load time", "latency", "DNS resolution time", "server response time",
                  "app availability", "p95 latency", "Office 365 slow", "Salesforce slow", "web probe results",
                  "why app slow", "SaaS slowness"),
        title="ZDX application performance over a window",
        description=(
            "Web-probe performance of ZDX apps over a window (default 24h): the time series ZDX reports per app "
            "(page fetch time, server response time, DNS time, availability, ...), with average, p95, min, max per "
            "app and metric, and a line chart per metric. Read-only."),
        handler=app_performance, toolset="composite.experience", scope="read",
        operations=("zdx_list_applications", "zdx_list_app_metrics"),
        input_model=f"{_INPUTS}:_PerformanceInput",
    ),
    CompositeTool(
        name="experience_check_sla",
        keywords=("SLA compliance", "SLA breach", "SLO", "uptime target", "service level agreement",
                  "percent of time good", "apps missing target", "contractual SLA", "experience SLA report",
                  "missed SLA", "score threshold", "vendor SLA"),
        title="ZDX SLA compliance against a target score",
        description=(
            "SLA compliance per ZDX app over a window (default 7d). ZDX has no SLA API: this computes, from each "
            "app's score time series, the % of time the score was >= target_score, and passes apps at or above "
            "required_percent; an app whose scores cover less than min_coverage_percent of the window is unknown. "
            "Table, CSV and a bar chart with the required line. Read-only."),
        handler=check_sla, toolset="composite.experience", scope="read",
        operations=("zdx_list_applications", "zdx_get_app_score"),
        input_model=f"{_INPUTS}:_SlaInput",
    ),
]


@hookimpl
def oneapi_mcp_register_tools(settings):
    return TOOLS
