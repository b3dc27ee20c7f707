"""The Grafana dashboard in the repository charts only metrics that /metrics exports."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[1] / "project" / "ops" / "grafana-dashboard.json"
METRIC_MODULES = [
    "ads.metrics",
    "scoreboard.metrics",
    "scoreboard.live",
    "integrations.metrics",
    "adplatform.core.metrics",
]

# What the dashboard must chart (issue 11, item 5).
REQUIRED = {
    "adplatform_decisions_total",  # decisions by outcome
    "adplatform_decision_seconds_bucket",  # decision latency p99
    "adplatform_events_total",  # events by verdict
    "adplatform_spend_usd_total",
    "scoreboard_score_updates_total",
    "adplatform_live_viewers",
    "adplatform_live_broadcasts_total",
    "adplatform_celery_task_duration_seconds_bucket",
    "adplatform_celery_task_failures_total",
    "adplatform_roblox_calls_total",
}

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _panels(panels: list[dict]) -> list[dict]:
    found = []
    for panel in panels:
        found.append(panel)
        found.extend(_panels(panel.get("panels", [])))
    return found


def _expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in _panels(dashboard["panels"]) for t in p.get("targets", []) if t.get("expr")]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: every identifier that is not a function, keyword or label."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors ([5m], [$__rate_interval])
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # grouping labels
    text = re.sub(r"\$\w+", "", text)  # dashboard variables
    names = set()
    for match in _NAME.finditer(text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):  # a function or an aggregation
            continue
        if match.group() in {"and", "or", "unless", "bool", "offset", "inf", "nan"}:
            continue
        if match.start() and (text[match.start() - 1].isdigit() or text[match.start() - 1] == "."):
            continue  # the exponent of a number such as 1e-9
        names.add(match.group())
    return names


def exported_names(text: str) -> set[str]:
    """Every series name /metrics can produce, including families that have no labelled child yet."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(family.name + "_total")
        elif family.type == "histogram":
            names.update(family.name + suffix for suffix in ("_bucket", "_sum", "_count"))
    return names


def test_the_expression_parser_finds_only_metric_names():
    expr = (
        'histogram_quantile(0.99, sum by (le, task) (rate(a_seconds_bucket{state="x"}[$__rate_interval]))) '
        "/ clamp_min(sum without (host) (increase(b_total[5m])), 1e-9) * 3600 + max by (host) (c_state)"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c_state"}


def test_the_dashboard_is_valid_and_charts_what_the_issue_asks():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"]
    panels = _panels(dashboard["panels"])
    assert len({p["id"] for p in panels}) == len(panels)
    charted = set().union(*(metric_names(e) for e in _expressions()))
    assert charted >= REQUIRED, REQUIRED - charted


@pytest.mark.django_db
def test_every_metric_the_dashboard_charts_is_exported(client):
    for module in METRIC_MODULES:
        importlib.import_module(module)
    response = client.get("/metrics")
    assert response.status_code == 200
    exported = exported_names(response.content.decode())
    missing = {}
    for expr in _expressions():
        names = metric_names(expr)
        assert names, f"no metric found in {expr!r}"
        if names - exported:
            missing[expr] = sorted(names - exported)
    assert not missing, missing
