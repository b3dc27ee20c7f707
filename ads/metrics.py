"""Business metrics of the ad server (exported at /metrics)."""

import functools

from prometheus_client import Counter, Histogram

DECISIONS = Counter(
    "adplatform_decisions_total",
    "Ad decisions by outcome (campaign, house, unfilled) and reason.",
    ["outcome", "reason"],
)
DECISION_LATENCY = Histogram(
    "adplatform_decision_seconds",
    "Time to make an ad decision, in the request.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


@functools.cache
def _decision_counter(outcome: str, reason: str):
    return DECISIONS.labels(outcome=outcome, reason=reason)


def decision_counted(outcome: str, reason: str) -> None:
    """Count one decision. The labelled child is looked up once per (outcome, reason), not per decision:
    ``labels()`` takes a lock and builds a tuple each call, a measurable part of a decision's CPU."""
    _decision_counter(outcome, reason).inc()


RESERVATIONS = Counter("adplatform_reservations_total", "Budget reservations made by decisions.")
RESERVATIONS_RELEASED = Counter("adplatform_reservations_released_total", "Reservations released after expiry.")
SPEND = Counter("adplatform_spend_usd_total", "Confirmed spend in USD by ledger kind.", ["kind"])
BUDGET_REBUILDS = Counter("adplatform_budget_rebuilds_total", "Campaign budget states rebuilt from PostgreSQL.")
INDEX_RELOADS = Counter("adplatform_serving_index_reloads_total", "Reloads of the in-memory campaign index.")
STREAM_DRAINED = Counter(
    "adplatform_stream_drained_total", "Records moved from Redis streams to PostgreSQL.", ["stream"]
)
EVENTS = Counter("adplatform_events_total", "Engagement events by type and verdict.", ["type", "verdict"])
EVENT_BATCH_SIZE = Histogram(
    "adplatform_event_batch_size", "Events per ingestion request.", buckets=(1, 5, 10, 25, 50, 100, 200, 500)
)
EVENT_LAG = Histogram(
    "adplatform_event_ingestion_lag_seconds",
    "Time from an event's arrival to its commit in PostgreSQL.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
DRAIN_FAILURES = Counter("adplatform_stream_drain_failures_total", "Failed drains of a Redis stream.", ["stream"])
