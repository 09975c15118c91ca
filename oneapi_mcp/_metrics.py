"""Prometheus metrics for one process: the instruments the built-in `metrics` plugin feeds, and the
exposition `/metrics` serves (`_operations.py` is the HTTP side).

One registry per process, labelled by named server, tool, service, HTTP method and status class.
Every label value comes from a closed set: tool names are the catalog's, the composite and the
discovery tools (a name that is none of them counts as "unknown"), error kinds are identifiers the
code writes, and no client identity, argument or path ever becomes a label. prometheus-client
writes the exposition format (text and OpenMetrics, chosen by the scraper's Accept header).
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["Metrics", "error_kind_label", "metrics", "set_metrics"]

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# the limiter waits up to the server's timeout (at most 600 s); it never sleeps less than 10 ms
_WAIT_SECONDS = (0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")


def error_kind_label(kind: Any) -> str:
    """An error result's `kind` as a label value: identifiers pass, anything else is "other"."""
    return kind if isinstance(kind, str) and _KIND.fullmatch(kind) else "other"


class Metrics:
    """The instruments. Counters and histograms are prometheus-client's; token refreshes are read
    at scrape time from the auth objects the servers use (`track_token_source`)."""

    def __init__(self) -> None:
        # prometheus-client is imported when the first call is measured, not when plugins register
        import prometheus_client as prom
        from prometheus_client import Counter, Gauge, Histogram

        r = self.registry = prom.CollectorRegistry()
        prom.ProcessCollector(registry=r)  # memory, CPU, open files: what an operator looks at first
        prom.PlatformCollector(registry=r)
        prom.GCCollector(registry=r)
        self.tool_calls = Counter(
            "oneapi_mcp_tool_calls", "Tool calls, by named server, tool, kind (generated, composite, discovery, "
            "unknown) and outcome (ok, error, refused).", ["server", "tool", "kind", "outcome"], registry=r)
        self.tool_errors = Counter(
            "oneapi_mcp_tool_errors", "Error results (refusals included), by named server, tool and error kind.",
            ["server", "tool", "error_kind"], registry=r)
        self.tool_duration = Histogram(
            "oneapi_mcp_tool_call_duration_seconds", "Tool call duration, by named server and tool kind.",
            ["server", "kind"], buckets=_SECONDS, registry=r)
        self.in_flight = Gauge(
            "oneapi_mcp_tool_calls_in_flight", "Tool calls running now, by named server.", ["server"], registry=r)
        self.upstream_duration = Histogram(
            "oneapi_mcp_upstream_request_duration_seconds", "OneAPI request latency (each attempt; the token "
            "request included when one was needed), by named server, service, method and status class "
            "(2xx, 3xx, 4xx, 5xx, or error when no response came).",
            ["server", "service", "method", "status_class"], buckets=_SECONDS, registry=r)
        self.throttled = Counter(
            "oneapi_mcp_upstream_throttled", "429 responses from OneAPI, by named server and service.",
            ["server", "service"], registry=r)
        self.retries = Counter(
            "oneapi_mcp_upstream_retries", "OneAPI requests sent again (429, edit lock, idempotent 5xx and "
            "timeouts), by named server and service.", ["server", "service"], registry=r)
        self.rate_limit_waits = Counter(
            "oneapi_mcp_rate_limit_waits", "Requests the client-side rate limiter held back before sending, by "
            "named server and service.", ["server", "service"], registry=r)
        self.rate_limit_wait_seconds = Histogram(
            "oneapi_mcp_rate_limit_wait_seconds", "Time each request spent in the client-side rate limiter "
            "(near zero when a slot was free), by named server and service.",
            ["server", "service"], buckets=_WAIT_SECONDS, registry=r)
        self.rate_limit_rejections = Counter(
            "oneapi_mcp_rate_limit_rejections", "Requests not sent because the next slot was beyond the server's "
            "timeout (the call got a rate_limited error), by named server and service.",
            ["server", "service"], registry=r)
        self._lock = threading.Lock()
        self._token_sources: dict[str, Any] = {}
        self._token_retired: dict[tuple[str, str], int] = {}
        r.register(_TokenCounts(self))

    def track_token_source(self, server: str, auth: Any) -> None:
        """Count the tokens `auth` obtains for `server`, from the counters `OneAPIAuth` keeps
        (`token_requests`; `tokens_from_redis` when replicas share the token). A server that gets a
        new auth (a new executor) keeps its earlier counts."""
        if not isinstance(getattr(auth, "token_requests", None), int):
            return  # another plugin's auth: it does not say how often it asked for a token
        with self._lock:
            old = self._token_sources.get(server)
            if old is not None and old is not auth:
                for attribute in _TOKEN_COUNTERS.values():
                    key = (server, attribute)
                    self._token_retired[key] = self._token_retired.get(key, 0) + getattr(old, attribute, 0)
            self._token_sources[server] = auth

    def token_counts(self, attribute: str) -> dict[str, int]:
        """Per named server, the total of one of the auth objects' counters (see `track_token_source`)."""
        with self._lock:
            servers = set(self._token_sources) | {s for s, a in self._token_retired if a == attribute}
            return {s: self._token_retired.get((s, attribute), 0) + getattr(self._token_sources.get(s), attribute, 0)
                    for s in sorted(servers)}

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry in the format the scraper asked for: (body, content type)."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


# metric name -> the auth object's counter it reads
_TOKEN_COUNTERS = {"oneapi_mcp_token_refreshes": "token_requests", "oneapi_mcp_tokens_from_redis": "tokens_from_redis"}
_TOKEN_HELP = {
    "oneapi_mcp_token_refreshes": "Access tokens this process requested from ZIdentity (the first one and every "
                                  "refresh), by named server.",
    "oneapi_mcp_tokens_from_redis": "Access tokens another replica requested that this process read from Redis, "
                                    "by named server.",
}


class _TokenCounts:
    """A custom collector: the token counters per named server, read when scraped."""

    def __init__(self, owner: Metrics):
        self._owner = owner

    def describe(self):
        from prometheus_client.core import CounterMetricFamily

        return [CounterMetricFamily(name, _TOKEN_HELP[name], labels=["server"]) for name in _TOKEN_COUNTERS]

    def collect(self):
        from prometheus_client.core import CounterMetricFamily

        for name, attribute in _TOKEN_COUNTERS.items():
            family = CounterMetricFamily(name, _TOKEN_HELP[name], labels=["server"])
            for server, count in self._owner.token_counts(attribute).items():
                family.add_metric([server], count)
            yield family


_metrics: Metrics | None = None
_metrics_lock = threading.Lock()


def metrics() -> Metrics:
    """The process-wide metrics, created on first use."""
    global _metrics
    if _metrics is None:
        with _metrics_lock:
            if _metrics is None:
                _metrics = Metrics()
    return _metrics


def set_metrics(value: Metrics | None) -> None:
    """Replace the process-wide metrics (tests start from zero); None: a new registry on next use."""
    global _metrics
    _metrics = value
