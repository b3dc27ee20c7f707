"""Check that a benchmark run produced every figure (``bench/run_all --quick`` in CI): not their values.

    .venv/bin/python bench/check_results.py DIRECTORY

Each benchmark's JSON must hold each figure below as a number (or, for counts, an integer), and the
correctness figures must hold: no error, no free impression, nothing lost. A missing or non-numeric figure
fails with its name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIGURES = {
    "decisions": ["decision_rps", "baseline_rps", "throughput_ratio", "decision_cpu_ms_per_request", "p50_ms",
                  "p99_ms", "fill_rate", "decisions"],
    "events": ["events_per_second", "drain_events_per_second", "durable_lag_seconds", "events_stored"],
    "liveboard": ["p50_ms", "p99_ms", "deliveries"],
    "scores": ["updates.rps", "updates.baseline_rps", "updates.throughput_ratio", "reads.top10.p99_ms"],
    "servers": ["best.granian.healthz.rps", "best.gunicorn.healthz.rps"],
    "pacing": ["even_day_spend_pct", "even_max_hourly_deviation_pct"],
}  # fmt: skip
MUST_BE_ZERO = {
    "decisions": ["errors", "free_impressions"],
    "events": ["errors"],
    "scores": ["updates.errors"],
    "servers": ["errors"],
}


def _get(data: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def main() -> int:
    directory = Path(sys.argv[1])
    problems = []
    for name, figures in FIGURES.items():
        path = directory / f"{name}.json"
        if not path.exists():
            problems.append(f"{name}: no result file")
            continue
        data = json.loads(path.read_text())
        for figure in figures:
            value = _get(data, figure)
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{name}: {figure} missing or not a number ({value!r})")
        for figure in MUST_BE_ZERO.get(name, []):
            if _get(data, figure) not in (0, "0"):
                problems.append(f"{name}: {figure} is {_get(data, figure)!r}, not 0")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"checked {len(FIGURES)} benchmarks: {'all figures produced' if not problems else 'PROBLEMS'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
