"""The live board: 1,000 websocket viewers while scores are posted; delivery latency and server CPU.

    .venv/bin/python bench/liveboard.py [--viewers 1000] [--updates 40] [--rate 5]

Latency is measured from the score update's HTTP response to each viewer's first message that
shows it: the response is stamped in the thread that read it, each message when its bytes reach
the client, before any parsing. Baseline in the same run: a websocket ping/pong round trip on the
same server while the viewers are connected. Target (DESIGN.md): p99 <= 250 ms with 1,000 viewers.
The client's own CPU and the machine's load are reported too: one client process holds every
viewer on the same 2 cores as the server, and a busy machine shows in every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
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


class Viewer(asyncio.Protocol):
    """One websocket viewer, as cheap as a client can be: stamp each chunk on arrival, parse it a moment later.

    One client process holds every viewer, so whatever it does per message delays the next socket's
    reading. The arrival time is taken before anything else; websockets' sans-I/O protocol parses
    the frames (and answers the server's pings) in a callback queued behind the other sockets that
    were readable at the same time.
    """

    def __init__(self, uri: str, origin: str, player: int) -> None:
        from websockets.client import ClientProtocol
        from websockets.typing import Origin
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(parse_uri(uri), origin=Origin(origin), max_size=None)
        self.player = player
        self.chunks: list[tuple[float, bytes]] = []
        self.seen: list[tuple[float, int]] = []  # (arrival, the player's score in that message)
        self.best = -1
        self.snapshot: asyncio.Future | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.snapshot = asyncio.get_running_loop().create_future()
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.perf_counter(), data))
        if len(self.chunks) == 1:
            asyncio.get_running_loop().call_soon(self._parse)

    def connection_lost(self, exc) -> None:
        if self.snapshot is not None and not self.snapshot.done():
            self.snapshot.set_exception(ConnectionError(f"viewer closed before its snapshot: {exc}"))

    def _parse(self) -> None:
        from websockets.frames import Frame, Opcode

        chunks, self.chunks = self.chunks, []
        for arrived, data in chunks:
            self.protocol.receive_data(data)
            for event in self.protocol.events_received():
                if not isinstance(event, Frame) or event.opcode is not Opcode.TEXT:
                    continue
                message = json.loads(bytes(event.data))
                if message["type"] == "snapshot" and self.snapshot is not None and not self.snapshot.done():
                    self.snapshot.set_result(message)
                    continue
                score = next((e["score"] for e in message["entries"] if e["player_id"] == self.player), None)
                if score is not None:
                    self.seen.append((arrived, score))
                    self.best = max(self.best, score)
        self._flush()  # pongs, and the close handshake

    def _flush(self) -> None:
        assert self.transport is not None, "connected"
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _update(request: urllib.request.Request) -> tuple[float, float, dict]:
    """Post a score update; when it was sent and when its response arrived (taken here, not in the event loop)."""
    sent = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return sent, time.perf_counter(), json.loads(body)


async def run(base: str, slug: str, key: str, secret: str, viewers: int, updates: int, rate: float) -> dict:
    import websockets

    host, port = base.removeprefix("http://").split(":")
    ws_url = base.replace("http://", "ws://") + f"/ws/leaderboards/{slug}/"
    ping_url = base.replace("http://", "ws://") + "/ws/ping/"
    player = 777
    loop = asyncio.get_running_loop()
    opening = asyncio.Semaphore(50)  # connect in waves, as viewers arrive

    async def connect() -> Viewer:
        async with opening:
            _, viewer = await loop.create_connection(lambda: Viewer(ws_url, base, player), host, int(port))
            assert viewer.snapshot is not None, "connection_made ran"
            await asyncio.wait_for(viewer.snapshot, 120)
            return viewer

    clients = await asyncio.wait_for(asyncio.gather(*(connect() for _ in range(viewers))), 300)
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
    sent_at: dict[int, float] = {}  # score -> when the response that made it arrived
    requested_at: dict[int, float] = {}  # score -> when its request was sent (an upper bound: see below)
    client_cpu, wall = time.process_time(), time.perf_counter()
    for _n in range(updates):
        body = {"action_type": "coin_collected", "action_id": uuid.uuid4().hex, "nonce": uuid.uuid4().hex,
                "timestamp": int(time.time())}  # fmt: skip
        raw = json.dumps(body).encode()
        sig = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        request = urllib.request.Request(f"{base}/api/v1/scores/update", data=raw, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}", "X-Signature": sig})  # fmt: skip
        requested, answered, response = await asyncio.to_thread(_update, request)
        sent_at[response["score"]] = answered
        requested_at[response["score"]] = requested
        await asyncio.sleep(1 / rate)
    final = max(sent_at)
    deadline = time.perf_counter() + 30
    while any(c.best < final for c in clients) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    client_cpu = (time.process_time() - client_cpu) / (time.perf_counter() - wall)
    for client in clients:
        client.close()

    # Each viewer's first message that shows each score. A message may arrive before the response
    # that caused it (the broadcast races the response), which counts as a latency below zero. The
    # thread that reads the response shares the GIL with the loop that reads the viewers, so its
    # stamp may come late; the latency from the request's start bounds that from above.
    latencies: list[float] = []
    from_request: list[float] = []
    for client in clients:
        i = 0
        for score, answered in sorted(sent_at.items()):
            while i < len(client.seen) and client.seen[i][1] < score:
                i += 1
            if i < len(client.seen):
                latencies.append(client.seen[i][0] - answered)
                from_request.append(client.seen[i][0] - requested_at[score])
    latencies.sort()
    from_request.sort()
    pings.sort()

    def pct(values, p):
        return round(values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000, 2) if values else None

    return {
        "viewers": viewers,
        "updates": updates,
        "deliveries": len(latencies),
        "expected_deliveries": viewers * updates,
        "deliveries_before_response": sum(1 for x in latencies if x < 0),
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "max_ms": pct(latencies, 100),
        "from_request_start_p50_ms": pct(from_request, 50),
        "from_request_start_p99_ms": pct(from_request, 99),
        "baseline_ping_p50_ms": pct(pings, 50),
        "baseline_ping_p99_ms": pct(pings, 99),
        "viewers_completed": sum(1 for c in clients if c.best >= final),
        "client_cpu_percent_of_one_core": round(100 * client_cpu, 1),
    }


def _loop_factory():
    """uvloop when installed (as uvicorn uses on the server): the client's own overhead per message is smaller."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


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
        cpu_before, wall = common.server_cpu_seconds(pids), time.perf_counter()
        load_before = os.getloadavg()[0]
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            figures = runner.run(run(f"http://{host}:{port}", slug, key, secret, args.viewers, args.updates, args.rate))
        cpu = common.server_cpu_seconds(pids) - cpu_before
        wall = time.perf_counter() - wall
    result = {
        "machine": common.machine(),
        **figures,
        "server_cpu_percent_of_one_core": round(100 * cpu / wall, 1),
        "load_average_1m_before_and_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # a shared machine
        "targets": {"p99_ms": "<= 250 with 1,000 viewers"},
    }
    common.write_result("liveboard", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
