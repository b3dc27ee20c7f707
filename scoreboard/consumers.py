"""``/ws/leaderboards/<slug>/``: a snapshot on connect, then every top-10 change."""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from scoreboard.leaderboard import leaderboard_group
from scoreboard.live import broadcaster, snapshot

# Close codes (4000-4999 are the application's): documented in API.md's websocket section.
CLOSE_UNKNOWN_BOARD = 4404


class LeaderboardConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        self.joined = False
        self.group = leaderboard_group(self.slug)
        # Join first, then read the snapshot: a broadcast in between arrives with a seq the snapshot already has.
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.joined = True
        await self.accept()
        state = await database_sync_to_async(snapshot)(self.slug)
        if state is None:
            await self.close(code=CLOSE_UNKNOWN_BOARD, reason="unknown leaderboard")
            return
        broadcaster.ensure_running()
        broadcaster.viewer_joined(self.slug)
        self.counted = True
        await self.send(text_data=json.dumps(state, separators=(",", ":")))

    async def disconnect(self, code):
        if self.joined:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if getattr(self, "counted", False):
            broadcaster.viewer_left(self.slug)

    async def receive(self, text_data=None, bytes_data=None):
        # Viewers only listen; a "resync" asks for a fresh snapshot (the page sends it on a seq gap).
        if text_data and '"resync"' in text_data:
            state = await database_sync_to_async(snapshot)(self.slug)
            if state is not None:
                await self.send(text_data=json.dumps(state, separators=(",", ":")))

    async def top10(self, event):
        await self.send(text_data=event["text"])  # encoded once by the broadcaster
