"""The live board: 1,000 websocket viewers while scores are posted; delivery latency and server CPU.

    .venv/bin/python bench/liveboard.py [--viewers 1000] [--updates 40] [--rate 5]

Latency is measured from the score update's HTTP response to each viewer's first message that
shows it. Baseline in the same run: a websocket ping/pong round trip on the same server while
the viewers are connected. Target (DESIGN.md): p99 <= 250 ms with 1,000 viewers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common


def seed() -> tuple[str, str, str]:
    from adplatform.accounts.models import User
    from games import services as game_services
    from games.models import Game
    from scoreboard.models import ActionType

    owner, _ = User.objects.get_or_create(username="bench-live-owner", defaults={"role": "OWNER"})
    game = game_services.game_create(
        owner=owner, roblox_place_id=2 * 10**12 + Game.objects.count() + int(time.time()) % 100000, name="Live bench"
    )
    ActionType.objects.create(game=game, key="coin_collected", name="Coin", base_score=10)
    _, key, secret = game_services.api_key_create(game=game, name="bench")
    return game.slug, key, secret


def _post(url: str, body: dict, headers: dict) -> dict:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": "application/json",
                                                                             **headers})  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _cpu_seconds(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


async def run(base: str, slug: str, key: str, secret: str, viewers: int, updates: int, rate: float) -> dict:
    import websockets

    ws_url = base.replace("http://", "ws://") + f"/ws/leaderboards/{slug}/"
    ping_url = base.replace("http://", "ws://") + "/ws/ping/"
    seen: dict[int, float] = {}  # score value -> time each viewer saw it (we track the first per viewer)
    latencies: list[float] = []
    sent_at: dict[int, float] = {}
    player = 777

    async def viewer(index: int):
        async with opening:
            ws = await websockets.connect(ws_url, additional_headers={"Origin": base}, max_queue=None, open_timeout=120)
            await ws.recv()  # snapshot
        connected.append(index)
        if len(connected) == viewers:
            ready.set()
        async with ws:
            got: set[int] = set()
            while True:
                message = json.loads(await ws.recv())
                now = time.perf_counter()
                for entry in message.get("entries", []):
                    if entry["player_id"] == player:
                        for score, at in list(sent_at.items()):
                            if score <= entry["score"] and score not in got:
                                got.add(score)
                                latencies.append(now - at)
                if len(got) >= updates:
                    return

    ready = asyncio.Event()
    opening = asyncio.Semaphore(50)  # connect in waves, as viewers arrive
    connected: list[int] = []
    tasks = [asyncio.create_task(viewer(i)) for i in range(viewers)]
    await asyncio.wait_for(ready.wait(), 300)
    await asyncio.sleep(1.0)

    # baseline: ping/pong round trips on the same server, viewers connected
    pings = []
    async with websockets.connect(ping_url, additional_headers={"Origin": base}) as ws:
        await ws.recv()
        for i in range(50):
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "ping", "id": i}))
            await ws.recv()
            pings.append(time.perf_counter() - started)

    token = (await asyncio.to_thread(_post, f"{base}/api/v1/scores/tokens", {"player_id": player, "username": "bench"},
                                     {"X-API-Key": key}))["token"]  # fmt: skip
    for _n in range(updates):
        body = {"action_type": "coin_collected", "action_id": uuid.uuid4().hex, "nonce": uuid.uuid4().hex,
                "timestamp": int(time.time())}  # fmt: skip
        raw = json.dumps(body).encode()
        sig = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{base}/api/v1/scores/update", data=raw, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-Signature": sig})  # fmt: skip
        response = await asyncio.to_thread(lambda r=request: json.loads(urllib.request.urlopen(r, timeout=10).read()))
        sent_at[response["score"]] = time.perf_counter()
        await asyncio.sleep(1 / rate)
    done, pending = await asyncio.wait(tasks, timeout=30)
    for task in pending:
        task.cancel()
    del seen
    latencies.sort()
    pings.sort()

    def pct(values, p):
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000, 2) if values else None

    return {
        "viewers": viewers,
        "updates": updates,
        "deliveries": len(latencies),
        "expected_deliveries": viewers * updates,
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "baseline_ping_p50_ms": pct(pings, 50),
        "baseline_ping_p99_ms": pct(pings, 99),
        "viewers_completed": len(done),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--rate", type=float, default=5)
    args = parser.parse_args()
    common.raise_fd_limit()  # 1,000 sockets here, and the servers inherit the limit
    env = common.setup_django()
    slug, key, secret = seed()
    with common.server(env, kind="uvicorn", workers=2) as (host, port):
        pids = common.server_pids()
        cpu_before, wall = _cpu_seconds(pids), time.perf_counter()
        figures = asyncio.run(run(f"http://{host}:{port}", slug, key, secret, args.viewers, args.updates, args.rate))
        cpu = _cpu_seconds(pids) - cpu_before
        wall = time.perf_counter() - wall
    result = {
        "machine": common.machine(),
        **figures,
        "server_cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "targets": {"p99_ms": "<= 250 with 1,000 viewers"},
    }
    common.write_result("liveboard", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
