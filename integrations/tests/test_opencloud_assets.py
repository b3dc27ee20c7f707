"""Open Cloud Assets (assets/v1): reading an asset, creating one, polling its operation."""

import json

import pytest

from integrations.roblox import opencloud
from integrations.roblox.errors import RobloxBadResponse, RobloxForbidden

BASE = "https://apis.roblox.com/assets/v1"


def test_an_asset_reads_its_creator_type_and_moderation(rsps):
    rsps.get(f"{BASE}/assets/11", json={"assetId": "11", "assetType": "Image", "displayName": "Poster",
                                        "creationContext": {"creator": {"groupId": "42"}},
                                        "moderationResult": {"moderationState": "Approved"}})  # fmt: skip
    asset = opencloud.get_asset(11, api_key=" key ")
    assert (asset.id, asset.creator_type, asset.creator_id, asset.moderation_state) == (11, "group", 42, "Approved")
    assert rsps.calls[0].request.headers["x-api-key"] == "key"


def test_a_refused_key_is_forbidden(rsps):
    rsps.get(f"{BASE}/assets/12", status=403, json={"code": "PERMISSION_DENIED", "message": "no asset:read"})
    with pytest.raises(RobloxForbidden):
        opencloud.get_asset(12, api_key="key")


def test_an_unexpected_body_is_a_bad_response(rsps):
    rsps.get(f"{BASE}/assets/13", json={"unexpected": True})
    with pytest.raises(RobloxBadResponse):
        opencloud.get_asset(13, api_key="key")


def test_creating_sends_the_request_and_the_file_as_multipart(rsps):
    rsps.post(f"{BASE}/assets", json={"path": "operations/abc", "done": False})
    operation = opencloud.create_asset(
        api_key="key", asset_type="Image", display_name="Poster", description="d", creator_type="group",
        creator_id=42, filename="creative.png", content=b"\x89PNG-bytes", content_type="image/png",
    )  # fmt: skip
    assert (operation.id, operation.done, operation.asset) == ("abc", False, None)
    request = rsps.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'"groupId": "42"' in request.body and b"\x89PNG-bytes" in request.body


def test_a_finished_operation_carries_the_asset(rsps):
    rsps.get(f"{BASE}/operations/abc", json={"operationId": "abc", "done": True,
                                             "response": {"assetId": "77", "moderationResult": {
                                                 "moderationState": "MODERATION_STATE_REJECTED"}}})  # fmt: skip
    operation = opencloud.get_operation("abc", api_key="key")
    assert operation.done and operation.asset is not None
    assert operation.asset.id == 77 and operation.asset.moderation_state == "Rejected"


def test_an_operation_id_with_a_slash_is_refused_before_any_request(rsps):
    with pytest.raises(ValueError):
        opencloud.get_operation("../assets/1", api_key="key")
    assert not rsps.calls


def test_the_request_json_is_what_roblox_documents(rsps):
    rsps.post(f"{BASE}/assets", json={"path": "operations/x", "done": False})
    opencloud.create_asset(api_key="key", asset_type="Image", display_name="P" * 80, description="d",
                           creator_type="user", creator_id=7, filename="c.png", content=b"x",
                           content_type="image/png")  # fmt: skip
    body = rsps.calls[0].request.body
    part = body[body.index(b'name="request"') :]
    start = part.index(b"\r\n\r\n") + 4
    request = json.loads(part[start : part.index(b"\r\n--", start)])
    assert request["creationContext"] == {"creator": {"userId": "7"}}
    assert len(request["displayName"]) == 50
