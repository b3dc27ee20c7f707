"""Prometheus metrics of the Roblox integration (served at /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ROBLOX_CALLS = Counter(
    "adplatform_roblox_calls_total",
    "Roblox API calls by host and outcome: the HTTP status, or timeout / connection_error when no answer came, "
    "circuit_open / throttled when the call was not made.",
    ["host", "status"],
)
ROBLOX_RETRIES = Counter(
    "adplatform_roblox_retries_total",
    "Roblox API calls retried, by host and reason (the status that caused it).",
    ["host", "reason"],
)
ROBLOX_CIRCUIT_STATE = Gauge(
    "adplatform_roblox_circuit_state",
    "Circuit breaker state per Roblox host as last seen by this process: 0 closed, 1 half-open, 2 open.",
    ["host"],
    multiprocess_mode="mostrecent",
)
ROBLOX_CALL_LATENCY = Histogram(
    "adplatform_roblox_call_duration_seconds",
    "Duration of one HTTP call to Roblox (each attempt), by host.",
    ["host"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ROBLOX_CACHE = Counter(
    "adplatform_roblox_cache_total",
    "Lookups of cached Roblox results by kind and result (hit / miss).",
    ["kind", "result"],
)

CIRCUIT_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}
