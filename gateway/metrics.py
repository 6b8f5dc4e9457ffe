"""Prometheus metrics for ``GET /metrics`` (text exposition format 0.0.4), small enough to keep on the
per-request path: a counter increment is a dict update, a histogram observation a bisect.

Label values come only from registered message types and error codes, never from client input, so a
client sending random types cannot grow the series without bound.

Hooks for the subsystems: ``metrics.active_kernels.set_function(service.active_count)`` and
``metrics.tokens_used.inc(provider, kind, amount=n)`` (kind "input" or "output").
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                   60.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class Counter:
    def __init__(self, name: str, help_: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_, tuple(labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount

    def get(self, *labels: str) -> float:
        return self.values.get(labels, 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for labels, value in sorted(self.values.items()):
            lines.append(f"{self.name}{_labels(self.label_names, labels)} {_number(value)}")
        return lines


class Gauge:
    def __init__(self, name: str, help_: str) -> None:
        self.name, self.help = name, help_
        self.value = 0.0
        self._function: Callable[[], float] | None = None

    def set(self, value: float) -> None:
        self.value = value

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set_function(self, function: Callable[[], float] | None) -> None:
        """Read the value from ``function`` at each scrape (e.g. a service's live count)."""
        self._function = function

    def get(self) -> float:
        return float(self._function()) if self._function is not None else self.value

    def render(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} gauge", f"{self.name} {_number(self.get())}"]


class Histogram:
    def __init__(self, name: str, help_: str, label: str, buckets: Sequence[float] = LATENCY_BUCKETS) -> None:
        self.name, self.help, self.label = name, help_, label
        self.bounds = tuple(buckets)
        self._series: dict[str, list[float]] = {}  # label -> per-bucket counts, then count, then sum

    def observe(self, label: str, value: float) -> None:
        series = self._series.get(label)
        if series is None:
            series = self._series[label] = [0.0] * (len(self.bounds) + 3)
        series[bisect.bisect_left(self.bounds, value)] += 1
        series[-2] += 1
        series[-1] += value

    def count(self, label: str) -> int:
        series = self._series.get(label)
        return int(series[-2]) if series else 0

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        names = (self.label,)
        for label, series in sorted(self._series.items()):
            cumulative = 0.0
            for bound, n in zip((*self.bounds, math.inf), series, strict=False):
                cumulative += n
                le = 'le="' + _number(bound) + '"'
                lines.append(f"{self.name}_bucket{_labels(names, (label,), le)} {_number(cumulative)}")
            lines.append(f"{self.name}_count{_labels(names, (label,))} {_number(series[-2])}")
            lines.append(f"{self.name}_sum{_labels(names, (label,))} {_number(series[-1])}")
        return lines


class GatewayMetrics:
    """The gateway's series; implements the dispatcher's ``Observer``."""

    def __init__(self) -> None:
        self.requests = Counter("nexus_gateway_requests_total", "Requests by message type and outcome "
                                "(ok, error, cancelled, disconnected, rejected).", ("type", "outcome"))
        self.latency = Histogram("nexus_gateway_request_seconds", "Time from a request's arrival to its "
                                 "last reply, by message type.", "type")
        self.errors = Counter("nexus_gateway_errors_total", "Error messages sent, by code.", ("code",))
        self.connections = Gauge("nexus_gateway_connections", "Open WebSocket connections.")
        self.anonymous = Gauge("nexus_gateway_anonymous_connections", "Open connections not logged in yet.")
        self.refused = Counter("nexus_gateway_connections_refused_total", "Connections closed by a cap or the "
                               "login deadline (anonymous, user, auth_timeout).", ("reason",))
        self.active_kernels = Gauge("nexus_active_kernels", "Kernels running for gateway clients.")
        self.tokens_used = Counter("nexus_ai_tokens_total", "AI tokens used, by provider and kind "
                                   "(input, output).", ("provider", "kind"))

    def request_finished(self, type_: str, outcome: str, seconds: float | None) -> None:
        self.requests.inc(type_, outcome)
        if seconds is not None:
            self.latency.observe(type_, seconds)

    def error_sent(self, code: str) -> None:
        self.errors.inc(code)

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.connections, self.anonymous, self.refused, self.requests, self.latency, self.errors, self.active_kernels,
                       self.tokens_used):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
