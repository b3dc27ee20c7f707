import pytest
import pytest_asyncio
from channels.testing import WebsocketCommunicator

from adplatform.project.asgi import application


@pytest_asyncio.fixture(autouse=True)
async def _layer_closed_after_each_test():
    """Close the channel layer's Redis pools inside the test's own event loop, so that no receive or pool task
    is left for the loop's teardown to cancel (seen to hang that teardown on the embedded Redis)."""
    yield
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


@pytest.mark.asyncio
async def test_ping_websocket_through_the_asgi_router():
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"origin", b"http://localhost")])
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_json_from() == {"type": "hello"}
    await communicator.send_json_to({"type": "ping", "id": 5})
    assert await communicator.receive_json_from() == {"type": "pong", "id": 5}
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_websocket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/ping/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.asyncio
async def test_channel_layer_delivers_through_redis():
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("test-group", channel)
    await layer.group_send("test-group", {"type": "hello.world", "n": 1})
    message = await layer.receive(channel)
    assert message == {"type": "hello.world", "n": 1}
    await layer.group_discard("test-group", channel)
