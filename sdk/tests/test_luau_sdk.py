"""The Roblox SDK (sdk/roblox), unchanged, in a real Luau VM (pluau) against the real platform.

``luau_runner.py`` runs in the SDK's own venv (pluau needs Python 3.12+; ``make test`` creates
``.venv-sdk``) with the engine modelled in Luau (``luau/engine.luau``: opaque Secrets, CFrame, ``task`` on a
virtual clock, CollectionService, MessagingService, BindToClose, AdService, PolicyService). The platform is
pytest-django's live server: real HTTP, the real API, PostgreSQL and Redis. What the owner does mid-journey
(switching a container off) and what Roblox does in answer (delivering the MessagingService message the
platform published through Open Cloud) is asked of this process over the runner's stdin/stdout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
import responses
from rest_framework.test import APIClient

from ads.budget import budget_rebuild
from ads.decisions import engine
from ads.tests.factories import CampaignFactory, CreativeFactory
from games import services as game_services
from games.models import AdContainer
from games.tests.factories import AdContainerFactory, AssetFactory, GameFactory, PlaylistFactory, make_api_key
from scoreboard.models import Score
from scoreboard.tests.factories import ActionTypeFactory

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUNNER = HERE / "luau_runner.py"
SCENARIO_SECONDS = 240


def sdk_python() -> str:
    configured = os.environ.get("ADPLATFORM_SDK_PYTHON")
    if configured:
        return configured
    default = ROOT / ".venv-sdk" / "bin" / "python"
    if default.exists():
        return str(default)
    if os.environ.get("CI"):
        pytest.fail("The SDK's Luau tests need the SDK venv: run `make test` (it creates .venv-sdk with pluau).")
    pytest.skip("no .venv-sdk with pluau (make test creates it)")


def run_scenario(scenario: str, config: dict, on_call=None) -> dict:
    """Run a scenario to the end; answer its host calls with ``on_call(request) -> reply``."""
    process = subprocess.Popen(
        [sdk_python(), str(RUNNER), scenario, json.dumps(config)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + SCENARIO_SECONDS
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            message = json.loads(line)
            if "done" in message:
                process.wait(timeout=30)
                stderr = process.stderr.read() if process.stderr else ""
                assert process.returncode == 0, stderr
                result = message["done"]
                if os.environ.get("ADPLATFORM_SDK_DUMP"):
                    Path(os.environ["ADPLATFORM_SDK_DUMP"]).write_text(json.dumps(result, indent=1) + stderr)
                assert result.get("errors") in (None, []), "\n".join(result["errors"])
                return result
            reply = on_call(message["call"]) if on_call else {}
            process.stdin.write(json.dumps(reply) + "\n")
            process.stdin.flush()
            assert time.monotonic() < deadline, "scenario took too long"
        process.wait(timeout=30)
        pytest.fail(f"the runner ended without a result:\n{process.stderr.read() if process.stderr else ''}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_viewability_on_a_faithful_cframe_model():
    r = run_scenario("viewability.luau", {})
    model = r["model"]
    assert model["identity_look"] == [0, 0, -1]  # LookVector is -Z: out of the Front face
    assert model["yaw90_look"][0] == pytest.approx(-1) and model["yaw90_look"][2] == pytest.approx(0, abs=1e-9)
    assert model["lookat_look"] == [0, 0, 1]
    assert max(model["roundtrip"]) < 1e-9
    assert model["center_on_screen"] == [640, 360, True, False]
    # in front: counted; the coverage is the board's share of a 70-degree view at 24.5 studs
    height = 2 * 24.5 * 0.7002075382097097
    assert r["front"]["coverage"] == pytest.approx(16 * 9 / (height * height * 16 / 9), rel=1e-6)
    assert r["front"]["meets"] and r["front"]["visible"] == 1 and r["front"]["angle"] == pytest.approx(0, abs=1e-6)
    # behind its blank back: never
    assert r["back"] == {"coverage": 0, "visible": 0, "angle": 180, "meets": False}
    assert r["off_axis_40"]["meets"] and r["off_axis_40"]["angle"] < 55
    assert not r["off_axis_60"]["meets"] and r["off_axis_60"]["angle"] > 55
    assert not r["far_away"]["meets"] and r["far_away"]["coverage"] < 0.015
    assert r["looking_away"]["coverage"] == 0 and r["looking_away"]["visible"] == 0
    # clipped to the frustum: never more than the screen, and most of its pixels off screen
    assert r["overflowing"]["coverage"] == pytest.approx(1) and not r["overflowing"]["meets"]
    assert 0.1 < r["half_out"]["coverage"] < 1 and 0.4 < r["half_out"]["visible"] < 0.8
    assert r["occluded"]["visible"] == 0 and not r["occluded"]["meets"]
    assert r["partly_occluded"]["visible"] == pytest.approx(0.4) and not r["partly_occluded"]["meets"]
    # AdFace names the face that carries the ad
    assert r["adface_back_from_behind"]["meets"] and not r["adface_back_from_front"]["meets"]
    assert r["turned_seen_from_minus_x"]["meets"] and not r["turned_seen_from_plus_z"]["meets"]
    # one continuous second: a gap restarts it; the report holds the worst values of the run
    steps = r["tracker"]["steps"]
    assert not any(steps[:19]) and steps[19] and steps[20]
    assert r["tracker"]["report"] == {
        "duration_ms": 1100, "screen_coverage": pytest.approx(0.041), "visible_fraction": 0.8, "angle_deg": 19,
    }  # fmt: skip


# --------------------------------------------------------------------------- the journey against the platform


@pytest.fixture
def platform(live_server, settings, transactional_db):
    settings.SCORE_SERVER_KEY_TTL_SECONDS = 60  # rotated within the journey
    game = GameFactory(open_cloud_api_key="oc-key-for-messaging", roblox_universe_id=4242001)
    lobby = AdContainerFactory(game=game, placement="lobby-billboard", floor_price_cpm=Decimal("1"))
    arena = AdContainerFactory(game=game, placement="arena-billboard", floor_price_cpm=Decimal("1"))
    guide = AdContainerFactory(game=game, placement="guide-npc", type="NPC", floor_price_cpm=Decimal("1"))
    playlist = PlaylistFactory(game=game, container_type="DISPLAY")
    house = AssetFactory()
    playlist.items.create(position=1, asset=house, display_seconds=15)
    for container in (lobby, arena):
        container.playlist = playlist
        container.save()
    campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("4"), pacing="ASAP", total_budget=Decimal("100"))
    campaign.roblox_campaign_id = f"rbx-{campaign.pk}"  # what the scenarios' Ads Manager model knows it by
    campaign.save()
    display = CreativeFactory(campaign=campaign, kind="DISPLAY")
    npc = CreativeFactory(
        campaign=campaign, kind="NPC", npc_model_asset_id=777, npc_dialogue=["Hi!", "Try the new kart"]
    )
    budget_rebuild(campaign_ids=[campaign.pk])
    ActionTypeFactory(game=game, key="coin_collected", name="Coin", base_score=10)
    _, raw_key, _ = make_api_key(game)
    engine.reset()
    return {
        "game": game, "lobby": lobby, "arena": arena, "guide": guide, "campaign": campaign, "display": display,
        "npc": npc, "house_asset": house.roblox_asset_id, "raw_key": raw_key, "url": live_server.url,
    }  # fmt: skip


def _owner_call(platform):
    def wait_until_served(container_id: int, status: str):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=platform["raw_key"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # the game-server API caches containers up to 5 s
            if client.get(f"/api/v1/containers/{container_id}").json()["status"] == status:
                return
            time.sleep(0.2)
        raise AssertionError("the container change never reached the game-server API")

    def on_call(request):
        if request["op"] == "set_status":
            container = AdContainer.objects.get(pk=request["container"])
            game_services.container_set_status(
                container=container, status=request["status"], reason=request.get("reason", "")
            )
            wait_until_served(container.pk, request["status"])
            if not request.get("publish"):
                return {"messages": []}
            # what Roblox receives from the platform's Open Cloud publish, delivered to the live servers
            from games.messaging import serving_change_publish

            with responses.RequestsMock() as rsps:
                rsps.add(responses.POST, re.compile(r".*/cloud/v2/universes/\d+:publishMessage"), json={})
                serving_change_publish(game_ids=[platform["game"].pk])
                bodies = [json.loads(call.request.body or "") for call in rsps.calls]
            return {"messages": [{"topic": b["topic"], "message": b["message"]} for b in bodies]}
        raise AssertionError(f"unknown host call {request}")

    return on_call


@pytest.fixture
def quiet_workers():
    with (
        mock.patch("games.tasks.asset_sync.delay"),
        mock.patch("games.tasks.game_sync.delay"),
        mock.patch("games.tasks.publish_serving_change.delay"),
    ):
        yield


def _config(platform, **extra):
    return {
        "baseUrl": platform["url"],
        "apiKey": platform["raw_key"],
        "lobby": platform["lobby"].pk,
        "arena": platform["arena"].pk,
        "guide": platform["guide"].pk,
        "campaign": platform["campaign"].pk,
        "houseAsset": platform["house_asset"],
        **extra,
    }


def test_the_whole_journey_in_luau(platform, quiet_workers):
    r = run_scenario("journey.luau", _config(platform), on_call=_owner_call(platform))
    rbx = platform["campaign"].roblox_campaign_id  # Ads Manager's id, as the decision carries it
    # join and eligibility: one AdService question per player and campaign for the session
    assert r["eligibility_calls"] == [[rbx, 1001], [rbx, 1002]]
    assert r["eligibility_calls_after_rotation"] == 2
    # one decision request per player for all containers (plus one house-only request for the ineligible one)
    assert r["join"]["decision_requests"] == 2 and r["join"]["house_requests"] == 1
    # the eligible player sees the campaign with a sticker label wired to Roblox's disclosure...
    alice = r["join"]["alice"]
    assert alice["lobby"]["source"] == "campaign" and alice["lobby"]["labels"] == 1
    assert alice["guide"]["source"] == "campaign" and alice["guide"]["floating_labels"] == 1
    assert sorted(r["join"]["disclosures"]) == sorted(
        [platform["display"].roblox_placement_id] * 2 + [platform["npc"].roblox_placement_id]
    )
    assert alice["lobby"]["reset_on_spawn"] is False and alice["lobby"]["face"] == "Front"
    # ...the other one house content, unlabelled
    bob = r["join"]["bob"]
    assert bob["lobby"]["source"] == "house" and bob["lobby"]["labels"] == 0
    assert bob["lobby"]["content"] == f"rbxassetid://{platform['house_asset']}"
    assert bob.get("guide") is None  # no house playlist for NPCs: nothing shown
    # view and event: Alice's client measured one continuous second in front of the board
    assert r["view"]["rejected"] == []
    assert r["view"]["accepted"] >= 2  # Alice's and Bob's impressions, then a click
    assert r["view"]["click_accepted"] is True
    # respawn keeps the ad; a billboard streamed in later gets it too
    assert r["respawn"]["guis_after"] == r["respawn"]["guis_before"]
    assert r["streamed"]["guis"] == r["streamed"]["guis_before"] + 1
    # awards: 40 awards, each credited once, in few signed batches; the signing key rotated before expiry
    assert r["awards"]["credited"] == 40 and r["awards"]["errors"] == []
    assert r["awards"]["requests"] <= 4
    assert (
        Score.objects.get(player__roblox_user_id=1001).score + Score.objects.get(player__roblox_user_id=1002).score
        == 10 * 41
    )
    assert r["rotation"]["signing_rotations"] >= 2 and r["rotation"]["award_after_rotation"] == 210
    assert r["rotation"]["decision_changed"] is True
    # a container switched off: cleared within seconds through MessagingService, and by the timer without it
    assert r["switched_off"]["messages"] == 1
    assert r["switched_off"].get("lobby_slot") is None and r["switched_off"]["lobby_guis"] == 0
    assert r["switched_off"]["seconds"] <= 3
    assert r["maintenance"]["shown_before"] is True
    assert r["maintenance"].get("arena_slot") is None and r["maintenance"]["seconds"] <= 12
    # shutdown: the flush in flight is awaited and the rest sent, inside Roblox's window
    shutdown = r["shutdown"]
    assert shutdown["in_flight_at_close"] is True
    assert shutdown["left"] == 0 and shutdown["accepted"] == 600
    assert shutdown["close"]["finished"] and shutdown["close"]["seconds"] < 25
    # the API key only ever left as a header built from the Secret; every request inside Roblox's budget
    assert r["api_key_header_from_secret"] is True
    assert r["max_requests_per_minute"] <= 450


def test_inside_roblox_limits_and_rules(platform, quiet_workers):
    r = run_scenario("limits.luau", _config(platform))
    # PolicyService: no ads allowed, or no answer, means no paid ad (and no AdService question)
    assert r["policy"] == {"eligible": "campaign", "no_ads": "house", "policy_failed": "house", "eligibility_calls": 1}
    # a paid fill without its Roblox ids: not shown, AdService not asked; AdService failing: not shown, not cached
    assert r["compliance"] == {"without_ids": False, "calls_without_ids": 0, "flaky": [False, False], "flaky_calls": 2}
    # forged, foreign, early and oversized client reports never become impressions; then the rate limit
    assert r["rejected"][:6] == [
        "unknown_decision", "unknown_decision", "duration_exceeds_display_time", "not_viewable", "not_viewable",
        "malformed",
    ]  # fmt: skip
    assert r["rejected"][6:] == ["unknown_type"] * 15 + ["rate_limited"] * 5  # 20 per 10 s
    # a Retry-After of 120 s is waited 8 s at most
    assert r["retry"]["flushed"] is True and r["retry"]["longest_wait"] <= 8 and r["retry"]["seconds"] < 20
    # background work stops 20 requests short of a 40-request budget; events still go out at once
    budget = r["budget"]
    assert budget["background_in_first_minute"] == 20
    assert budget["events_seconds"] < 1 and budget["events_left"] == 0 and budget["events_sent"] == 1
    assert budget["background_all"] == 30
    # a refused signature: a new server key, the award credited
    assert r["signature_recovery"]["award"]["score"] == 10 and r["signature_recovery"]["new_keys"] == 1
    # a decision expiring while the platform is down: its ad is taken down within a second or two
    assert r["expiry"]["cleared"] is True and 6 <= r["expiry"]["seconds"] <= 7.5
    assert r["expiry"]["guis_after"] == r["expiry"]["guis_before"] - 1
    # the platform down at shutdown: BindToClose still ends in time
    assert r["shutdown"]["finished"] is True and r["shutdown"]["seconds"] <= 25
    assert r["shutdown"]["events_left"] == 50
