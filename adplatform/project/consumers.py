from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PingConsumer(AsyncJsonWebsocketConsumer):
    """A liveness check for the websocket stack: answers every ``ping`` with a ``pong``."""

    async def connect(self):
        await self.accept()
        await self.send_json({"type": "hello"})

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "id": content.get("id")})
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})
