"""``/ws/leaderboards/<slug>/``: a snapshot on connect, then every top-10 change."""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from scoreboard.live import broadcaster, snapshot

# Close codes (4000-4999 are the application's): documented in API.md's websocket section.
CLOSE_UNKNOWN_BOARD = 4404


class LeaderboardConsumer(AsyncWebsocketConsumer):
    # No channel-layer channel per viewer: messages reach viewers through the process's Broadcaster, in
    # memory. Channels would otherwise hold one blocking Redis pop per socket for nothing, and end the socket
    # whenever that pop failed (get_channel_layer answers None for an alias that is not configured).
    channel_layer_alias = None  # type: ignore[assignment]  # channels takes None (no layer); its stubs want a str

    async def connect(self):
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.viewer = None
        await self.accept()
        # Join first, then read the snapshot: a broadcast in between arrives with a seq the snapshot already has.
        self.viewer = await broadcaster.join(self.slug, self.send_top10)
        state = await database_sync_to_async(snapshot)(self.slug)
        if state is None:
            await broadcaster.leave(self.viewer)
            self.viewer = None
            await self.close(code=CLOSE_UNKNOWN_BOARD, reason="unknown leaderboard")
            return
        await self.send(text_data=json.dumps(state, separators=(",", ":")))
        broadcaster.start(self.viewer, after_seq=state["seq"])

    async def disconnect(self, code):
        viewer = getattr(self, "viewer", None)
        if viewer is not None:
            await broadcaster.leave(viewer)
            self.viewer = None

    async def receive(self, text_data=None, bytes_data=None):
        # Viewers only listen; a "resync" asks for a fresh snapshot (the page sends it on a seq gap).
        if text_data and '"resync"' in text_data:
            state = await database_sync_to_async(snapshot)(self.slug)
            if state is not None:
                await self.send(text_data=json.dumps(state, separators=(",", ":")))

    async def send_top10(self, text: str) -> None:
        """Called by this viewer's task in the broadcaster's fan-out; ``text`` was encoded once for all viewers."""
        await self.send(text_data=text)
