"""Write bench/RESULTS.md from the latest bench/results/*.json (bench/run_all calls it)."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

RESULTS = common.ROOT / "bench" / "RESULTS.md"


def load(name: str) -> dict | None:
    path = common.ROOT / "bench" / "results" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def events_section(e: dict) -> list[str]:
    """The "Event ingestion" section from bench/events.py's figures."""
    lines: list[str] = []
    lines += [
        "## Event ingestion",
        "",
        "`.venv/bin/python bench/events.py --duration 8` (batches of 100; granian, 2 workers x 4 threads; "
        "the drain worker runs during the load, as the Celery task does)",
        "",
        "| measure | events | baseline: empty batch, same endpoint | target |",
        "|---|---|---|---|",
        f"| accepted, 4 clients as fast as they go | {e['events_per_second']} events/s "
        f"({e['batch_requests_per_second']} batches/s, p99 {e['batch_p99_ms']} ms) | "
        f"{e['baseline_empty_batch_rps']} req/s | >= 5,000 events/s |",
    ]
    if "offered_events_per_second" in e:
        lines += [
            f"| drained into PostgreSQL meanwhile | {e['drain_events_per_second']} events/s (that phase's backlog "
            f"stored {e['backlog_stored_after_seconds']} s after its last response) | | |",
            f"| {e['offered_events_per_second']:.0f} events/s offered on schedule (achieved "
            f"{e['achieved_events_per_second']}, batch p99 {e['offered_batch_p99_ms']} ms): durable in PostgreSQL "
            f"after the last response | {e['durable_lag_seconds']} s | | <= 5 s |",
        ]
    else:
        lines.append(f"| durable in PostgreSQL after the last response | {e['durable_lag_seconds']} s | | <= 5 s |")
    lines += [
        f"| stored, both phases | {e['events_stored']} of {e['events_sent']} | | all |",
        "",
        f"Verdicts: throughput {verdict(e['events_per_second'] >= 5000)}; lag "
        f"{verdict(e['durable_lag_seconds'] <= 5)}; "
        f"nothing lost {verdict(e['events_stored'] == e['events_sent'])}.",
        "",
    ]
    return lines


def decisions_section(d: dict) -> list[str]:
    """The "Ad decisions" section from bench/decisions.py's figures."""
    ratios = ", ".join(map(str, d.get("throughput_ratio_by_round", [d["throughput_ratio"]])))
    path = d.get("baseline_path", "/healthz")
    baseline = "a bare JSON view on the same fast lane (bench/baseline_urls.py)" if path.startswith("/api/") else path
    answers = ", ".join(f"{k} {v}" for k, v in sorted(d.get("answers", {}).items()))
    return [
        "## Ad decisions",
        "",
        f"`.venv/bin/python bench/decisions.py --duration 20` ({d.get('server')}; client: {d.get('client')}; "
        f"{d.get('campaigns')} active campaigns of mixed targeting with budgets that cannot run out, "
        f"{d.get('containers')} containers; load average before the run: {d.get('load_average_before', '?')})",
        "",
        f"| measure | decisions | baseline: {baseline} | ratio | target |",
        "|---|---|---|---|---|",
        f"| throughput (wrk; median of {d.get('rounds', 1)} alternating rounds, ratios {ratios}) | "
        f"{d['decision_rps']} req/s | {d['baseline_rps']} req/s | {d['throughput_ratio']} | >= 0.8 |",
        f"| server CPU per request | {d['decision_cpu_ms_per_request']} ms | {d['baseline_cpu_ms_per_request']} ms | "
        f"{round(d['baseline_cpu_ms_per_request'] / d['decision_cpu_ms_per_request'], 3)} | |",
        f"| latency at {d['offered_rate']:.0f}/s offered, open loop (achieved {d['achieved_rate']}/s) | "
        f"p50 {d['p50_ms']} ms, p99 {d['p99_ms']} ms | p50 {d['baseline_p50_ms']} ms, p99 {d['baseline_p99_ms']} ms | "
        "| p99 <= 25 ms |",
        f"| fill rate (every wrk answer classified: {answers}) | {d['fill_rate']} | | | >= 0.99 |",
        f"| errors | {d['errors']} | | | 0 |",
        f"| free impressions (reserved beyond a budget, {d.get('decisions')} decisions stored) | "
        f"{d.get('free_impressions')} ({d.get('free_usd')} USD; Redis beyond budget "
        f"{d.get('redis_beyond_budget_usd')} USD) | | | 0 |",
        "",
        f"Verdicts: ratio {verdict(d['throughput_ratio'] >= 0.8)}; p99 {verdict(d['p99_ms'] <= 25)}; fill "
        f"{verdict(d['fill_rate'] >= 0.99)}; zero free impressions {verdict(d.get('free_impressions') == 0)}; "
        f"{'a result' if d.get('is_result') else 'NOT a result (fill below 99 % or errors)'}.",
        "",
    ]


def main() -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Latest run of `bench/run_all` on {common.machine()}, {now}. Every server, client, PostgreSQL and Redis ran",
        "on this one machine; each figure stands beside a baseline measured on the same server in the same run.",
        "",
    ]
    d = load("decisions")
    if d:
        lines += decisions_section(d)
    e = load("events")
    if e:
        lines += events_section(e)
    live = load("liveboard")
    if live:
        lines += [
            "## Live board",
            "",
            "`.venv/bin/python bench/liveboard.py --viewers 1000 --updates 30` "
            "(uvicorn, 2 workers; one client process holding every viewer, stamping each message on arrival; "
            f"1-minute load average before and after: {live.get('load_average_1m_before_and_after', '?')})",
            "",
            "| measure | value | baseline: websocket ping/pong, same server | target |",
            "|---|---|---|---|",
            f"| update response -> viewer message, {live['viewers']} viewers | p50 {live['p50_ms']} ms, p99 "
            f"{live['p99_ms']} ms | p50 {live['baseline_ping_p50_ms']} ms, p99 {live['baseline_ping_p99_ms']} ms | "
            "p99 <= 250 ms |",
            f"| update request sent -> viewer message (an upper bound) | p50 {live.get('from_request_start_p50_ms')} "
            f"ms, p99 {live.get('from_request_start_p99_ms')} ms | | |",
            f"| deliveries | {live['deliveries']} of {live['expected_deliveries']} | | all |",
            f"| server CPU | {live['server_cpu_percent_of_one_core']}% of one core | | |",
            "",
            f"Verdict: p99 {verdict(live['p99_ms'] <= 250)}. Each process receives a broadcast once through the "
            "channel layer and hands it to its viewers in memory; broadcasts are coalesced to at most ten a second "
            "per board (a lone update goes out at once). A broadcast can race the HTTP response that caused it, so "
            "a few latencies are negative.",
            "",
        ]
    text = "\n".join(lines)
    old = RESULTS.read_text() if RESULTS.exists() else ""
    for kept in ("Scores", "WSGI server", "Pacing", "RELIABILITY"):  # sections their own scripts or tests write
        section = re.search(rf"^## {kept}\n.*?(?=^## |\Z)", old, re.S | re.M)
        if section:
            text = text.rstrip("\n") + "\n\n" + section.group(0)
    RESULTS.write_text(text.rstrip("\n") + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
