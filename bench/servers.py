"""The WSGI server the README deploys: granian against gunicorn's threaded worker, in the same run.

    .venv/bin/python bench/servers.py [--duration 5] [--rounds 2] [--no-write]

Each server runs the platform (DEBUG off, bench/common.py's scratch database) with the same workers and
threads, and serves, in turn, ``GET /healthz`` (a bare JSON view through the whole Django stack) and
fresh signed score updates (two Redis scripts and one PostgreSQL statement each), with a closed loop of
12 clients. Rounds alternate the servers, so a change in the machine's speed hits both; each figure is
the best round. Reported: requests/s and the server's CPU per request (user + system, all processes).
gunicorn is a development dependency, for this comparison only.
The figures replace the "WSGI server" section of bench/RESULTS.md (``--no-write`` to only print them).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import scores

RESULTS = common.ROOT / "bench" / "RESULTS.md"
SERVERS = ("granian", "gunicorn")
LOADS = ("healthz", "score_update")


def measure(kind: str, env: dict[str, str], workers: int, threads: int, load, duration: float) -> dict:
    """``load(name, stage)`` makes each run's requests (score updates need a nonce no other run used)."""
    out = {}
    with common.server(env, kind=kind, workers=workers, threads=threads) as (host, port):
        for name in LOADS:
            common.closed_loop(host, port, load(name, "warm"), concurrency=2, duration=1)
            cpu = common.server_cpu_seconds()
            run = common.closed_loop(host, port, load(name, "run"), concurrency=12, duration=duration)
            out[name] = {
                "rps": round(run.rps, 1),
                "cpu_ms": round(1000 * (common.server_cpu_seconds() - cpu) / max(1, run.requests), 3),
                "errors": run.errors,
            }
    return out


def write_section(result: dict, command: str) -> None:
    g, u = result["best"]["granian"], result["best"]["gunicorn"]
    lines = [
        "## WSGI server",
        "",
        f"`{command}` on {result['machine']}, {result['when']}; each server with {result['workers']} workers x "
        f"{result['threads']} threads, {result['rounds']} alternating rounds, best round of each.",
        "",
        "| load (12 clients) | granian | gunicorn (gthread) | granian / gunicorn |",
        "|---|---|---|---|",
    ]
    for name in LOADS:
        lines.append(
            f"| {name.replace('_', ' ')} | {g[name]['rps']} req/s, {g[name]['cpu_ms']} ms CPU | "
            f"{u[name]['rps']} req/s, {u[name]['cpu_ms']} ms CPU | "
            f"x{g[name]['rps'] / u[name]['rps']:.2f} throughput, x{g[name]['cpu_ms'] / u[name]['cpu_ms']:.2f} CPU |"
        )
    lines += ["", "The README deploys granian; the other benchmarks run on it.", ""]
    common.replace_section(RESULTS, "WSGI server", "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    command = "DEBUG=true .venv/bin/python bench/servers.py" + "".join(
        f" {a}" for a in sys.argv[1:] if a != "--no-write"
    )
    env = common.setup_django()
    _, secret, tokens = scores.seed(2000)
    rounds: list[dict[str, dict[str, dict]]] = []
    for r in range(args.rounds):
        order = SERVERS if r % 2 == 0 else SERVERS[::-1]
        rounds.append({})
        for kind in order:

            def load(name: str, stage: str, kind=kind, r=r):
                if name == "healthz":
                    return scores.Healthz()
                return scores.ScoreUpdate(tokens, secret.encode(), f"srv-{kind}-{r}-{stage}")

            rounds[-1][kind] = measure(kind, env, args.workers, args.threads, load, args.duration)
    best = {
        kind: {name: max((rnd[kind][name] for rnd in rounds), key=lambda m: m["rps"]) for name in LOADS}
        for kind in SERVERS
    }
    errors = sum(m["errors"] for rnd in rounds for kind in rnd.values() for m in kind.values())
    result = {
        "machine": common.machine(),
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "workers": args.workers,
        "threads": args.threads,
        "rounds": args.rounds,
        "runs": rounds,
        "best": best,
        "errors": errors,
    }
    print(json.dumps(result, indent=2))
    common.write_result("servers", result)
    if errors:
        raise SystemExit(f"{errors} requests failed")
    if not args.no_write:
        write_section(result, command)
        print(f"written to {RESULTS.relative_to(common.ROOT)}")


if __name__ == "__main__":
    main()
