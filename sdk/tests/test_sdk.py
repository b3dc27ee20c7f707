"""The Roblox SDK's Lua modules, run in a Lua 5.1 interpreter (lupa) with Roblox services replaced by doubles.

The HTTP double performs real HTTP against ``live_server`` (real PostgreSQL, Redis and API) unless a test gives
it a fake transport; faults (503, 429 with Retry-After) can be injected in front of either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from lupa import lua51

SDK = Path(__file__).resolve().parents[1] / "roblox"
MODULES = ["Config", "Bit", "Sha256", "Hmac", "Http", "Events", "Scores", "Viewability", "Ads", "init"]

PRELUDE = r"""
local read_source = ...
local cache = {}
script = setmetatable({}, {__index = function(_, key)
    if key == "Parent" then return script end
    return {__sdk = key}
end})
local lua_require = require
require = function(m)
    if type(m) == "table" and m.__sdk then
        local name = m.__sdk
        if cache[name] == nil then
            cache[name] = assert(loadstring(read_source(name), "@" .. name .. ".lua"))()
        end
        return cache[name]
    end
    return lua_require(m)
end
function sdk(name) return require({__sdk = name}) end

-- Roblox doubles
local function Signal()
    local s = {handlers = {}}
    function s:Connect(fn) table.insert(self.handlers, fn); return {Disconnect = function() end} end
    function s:Fire(...) for _, fn in ipairs(self.handlers) do fn(...) end end
    return s
end
_G.Signal = Signal

local function newInstance(class)
    local inst = {ClassName = class, children = {}, attributes = {}}
    function inst:SetAttribute(k, v) self.attributes[k] = v end
    function inst:GetAttribute(k) return self.attributes[k] end
    function inst:FindFirstChild(name)
        for _, c in ipairs(self.children) do if c.Name == name then return c end end
        return nil
    end
    function inst:Destroy() self.destroyed = true end
    if class == "RemoteEvent" then
        inst.OnServerEvent = Signal()
        inst.fired = {}
        function inst:FireClient(player, message) table.insert(self.fired, {player = player, message = message}) end
    end
    return setmetatable(inst, {__newindex = function(t, k, v)
        rawset(t, k, v)
        if k == "Parent" and type(v) == "table" and v.children then table.insert(v.children, t) end
    end})
end
Instance = {new = newInstance}

FAKE = {t = 1000, sleeps = {}, spawned = {}, tags = {}, secrets = {}, policies = {}}
task = {
    spawn = function(fn, ...) table.insert(FAKE.spawned, fn) end,
    wait = function(s) table.insert(FAKE.sleeps, s); FAKE.t = FAKE.t + s end,
}

function newPlayer(id, name)
    local p = newInstance("Player")
    p.UserId = id
    p.Name = name
    local gui = newInstance("PlayerGui")
    gui.Name = "PlayerGui"
    gui.Parent = p
    rawset(p, "PlayerGui", gui)
    return p
end

local services = {}
services.HttpService = {}
services.Players = {list = {}, PlayerAdded = Signal(), PlayerRemoving = Signal()}
function services.Players:GetPlayers() return self.list end
services.PolicyService = {}
function services.PolicyService:GetPolicyInfoForPlayerAsync(player)
    local allowed = FAKE.policies[player.UserId]
    if allowed == "error" then error("policy service down") end
    return {AreAdsAllowed = allowed ~= false}
end
services.CollectionService = {}
function services.CollectionService:GetTagged(tag) return FAKE.tags[tag] or {} end
services.ReplicatedStorage = newInstance("ReplicatedStorage")
services.LocalizationService = {}
function services.LocalizationService:GetCountryRegionForPlayerAsync(player) return "US" end

game = {JobId = "job-123", closing = {}}
function game:GetService(name) return assert(services[name], name) end
function game:BindToClose(fn) table.insert(self.closing, fn) end
SERVICES = services
"""


def to_py(lua, value):
    if lua.eval("type")(value) == "table":
        keys = list(value.keys())
        if not keys:
            return []  # Roblox's JSONEncode({}) is []
        if all(isinstance(k, int) for k in keys) and sorted(keys) == list(range(1, len(keys) + 1)):
            return [to_py(lua, value[k]) for k in range(1, len(keys) + 1)]
        return {str(k): to_py(lua, value[k]) for k in keys if not isinstance(k, int)}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def to_lua(lua, value):
    if isinstance(value, dict):
        table = lua.table()
        for key, item in value.items():
            if item is not None:
                table[key] = to_lua(lua, item)
        return table
    if isinstance(value, list):
        return lua.table(*[to_lua(lua, item) for item in value])
    return value


class Sdk:
    """A Lua 5.1 runtime holding the SDK, the Roblox doubles and an HttpService wired to a base URL or a fake."""

    def __init__(self, base_url: str = "http://platform.invalid", transport=None, api_key="", secret=""):
        self.lua = lua51.LuaRuntime(unpack_returned_tuples=True)
        self.lua.execute(PRELUDE, lambda name: (SDK / f"{name}.lua").read_text())
        self.requests: list[dict] = []
        self.faults: list[tuple[str, int, dict]] = []  # (path prefix, status, headers) served before the real one
        self.transport = transport
        self.base_url = base_url
        http = self.lua.globals().SERVICES.HttpService
        lua = self.lua
        self.lua.execute(
            """
            local http, request, encode, decode, guid = ...
            function http:RequestAsync(r) return request(r) end
            function http:JSONEncode(v) return encode(v) end
            function http:JSONDecode(s) return decode(s) end
            function http:GenerateGUID(braces) return guid(braces) end
            function http:GetSecret(name)
                local s = FAKE.secrets[name]
                if s == nil then error("Can't find secret with given key") end
                return s
            end
            """,
            http,
            self._request,
            lambda v: json.dumps(to_py(lua, v), separators=(",", ":")),
            lambda s: to_lua(lua, json.loads(s)),
            lambda braces: ("{%s}" if braces else "%s") % str(uuid.uuid4()).upper(),
        )
        fake = self.lua.globals().FAKE
        fake.secrets.adplatform_api_key = api_key
        fake.secrets.adplatform_signing_secret = secret
        self.config = self.module("Config")
        self.lua.execute(
            """
            local Config = ...
            Config.baseUrl = BASE
            Config.clock = function() return FAKE.t end
            Config.now = function() return os.time() + FAKE.t - 1000 end
            Config.sleep = function(s) table.insert(FAKE.sleeps, s); FAKE.t = FAKE.t + s end
            Config.spawn = function(fn, ...) table.insert(FAKE.spawned, fn) end
            """.replace("BASE", json.dumps(base_url)),
            self.config,
        )

    def module(self, name):
        return self.lua.globals().sdk(name)

    @property
    def fake(self):
        return self.lua.globals().FAKE

    def sleeps(self) -> list[float]:
        return list(to_py(self.lua, self.fake.sleeps))

    def player(self, user_id: int, name: str = "builderman"):
        return self.lua.globals().newPlayer(user_id, name)

    def tag(self, placement: str, count: int = 1):
        parts = self.lua.table(*[self.lua.globals().Instance.new("Part") for _ in range(count)])
        for index in range(1, count + 1):
            parts[index].Name = f"{placement}-{index}"
        self.fake.tags["AdPlatform:" + placement] = parts
        return parts

    def _request(self, req):
        url, method = req.Url, req.Method
        headers = {str(k): v for k, v in req.Headers.items()}
        body = req.Body
        path = url[len(self.base_url) :] if url.startswith(self.base_url) else url
        record = {"url": url, "path": path, "method": method, "headers": headers, "body": body, "t": self.fake.t}
        self.requests.append(record)
        for index, (prefix, status, extra) in enumerate(self.faults):
            if path.startswith(prefix):
                del self.faults[index]
                return self._response(status, json.dumps({"error": {"code": "x", "message": "", "details": {}}}), extra)
        if self.transport is not None:
            status, data, extra = self.transport(record)
            return self._response(status, json.dumps(data) if data is not None else "", extra or {})
        request = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
        for key, value in headers.items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return self._response(response.status, response.read().decode(), dict(response.headers))
        except urllib.error.HTTPError as error:
            return self._response(error.code, error.read().decode(), dict(error.headers))

    def _response(self, status, body, headers):
        return to_lua(
            self.lua,
            {"Success": 200 <= status < 300, "StatusCode": status, "StatusMessage": "", "Body": body,
             "Headers": {str(k).lower(): str(v) for k, v in headers.items()}},
        )  # fmt: skip


# --------------------------------------------------------------------------- SHA-256 and HMAC


RFC4231 = [
    (b"\x0b" * 20, b"Hi There"),
    (b"Jefe", b"what do ya want for nothing?"),
    (b"\xaa" * 20, b"\xdd" * 50),
    (bytes(range(1, 26)), b"\xcd" * 50),
    (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First"),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
        b"hashed before being used by the HMAC algorithm.",
    ),
]


@pytest.fixture(scope="module")
def bare():
    return Sdk()


def lua_bytes(data: bytes) -> str:
    return data.decode("latin-1")


@pytest.mark.parametrize("key,message", RFC4231, ids=["case1", "case2", "case3", "case4", "case6", "case7"])
def test_hmac_matches_python_for_rfc4231_vectors(key, message):
    # lupa hands Lua byte strings through latin-1 so every byte survives
    runtime = lua51.LuaRuntime(encoding="latin-1")
    runtime.execute(PRELUDE, lambda name: (SDK / f"{name}.lua").read_text())
    hmac_module = runtime.globals().sdk("Hmac")
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    assert hmac_module.sha256Hex(lua_bytes(key), lua_bytes(message)) == expected


def test_hmac_of_an_api_shaped_body_matches_the_server_side_signature(bare):
    secret = "s3cr3t-signing-" + uuid.uuid4().hex
    body = json.dumps({"action_type": "coin_collected", "action_id": uuid.uuid4().hex, "nonce": uuid.uuid4().hex,
                       "timestamp": 1795000000}, separators=(",", ":"))  # fmt: skip
    expected = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    assert bare.module("Hmac").sha256Hex(secret, body) == expected


@pytest.mark.parametrize("length", [0, 1, 55, 56, 63, 64, 65, 119, 120, 200])
def test_sha256_matches_hashlib_around_the_padding_edges(bare, length):
    message = ("abcdefghij" * 30)[:length]
    assert bare.module("Sha256").hex(message) == hashlib.sha256(message.encode()).hexdigest()


def test_every_module_is_plain_lua_51(bare):
    for path in sorted(SDK.glob("*.lua")):
        source = path.read_text()
        assert bare.lua.eval("loadstring")(source, path.name) is not None, path.name
        for luau_only in ("+=", "-=", "..=", "continue", "//"):
            code = "\n".join(re.sub(r'"[^"]*"', '""', line).split("--")[0] for line in source.splitlines())
            assert luau_only not in code, (path.name, luau_only)


def test_the_portable_bit_library_is_what_plain_lua_uses(bare):
    bit = bare.module("Bit")
    assert bare.lua.eval("bit32") is None
    assert bit.bxor(0xFFFFFFFF, 0x0F0F0F0F) == 0xF0F0F0F0
    assert bit.band(0x12345678, 0xFF00FF00) == 0x12005600
    assert bit.bor(0x12340000, 0x5678) == 0x12345678
    assert bit.bnot(0) == 0xFFFFFFFF
    assert bit.rrotate(0x00000001, 1) == 0x80000000
    assert bit.rshift(0x80000000, 31) == 1
    assert bit.lshift(0x80000001, 1) == 2


# --------------------------------------------------------------------------- HTTP layer (fake transport)


def ok_transport(record):
    return 200, {"ok": True}, {}


def test_the_request_budget_stays_under_500_a_minute():
    sdk = Sdk(transport=ok_transport)
    http = sdk.module("Http")
    for _ in range(1200):
        assert http.getJson("/api/v1/game").status == 200
    times = [r["t"] for r in sdk.requests]
    assert len(times) == 1200
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= 60:
            start += 1
        assert end - start + 1 <= 450 < 500
    assert times[-1] - times[0] >= 120  # it waited, rather than dropping requests


def test_429_with_retry_after_is_honoured():
    sdk = Sdk(transport=ok_transport)
    sdk.faults.append(("/api/v1/game", 429, {"Retry-After": "7"}))
    response = sdk.module("Http").getJson("/api/v1/game")
    assert response.status == 200
    assert sdk.sleeps() == [7]
    assert len(sdk.requests) == 2


def test_5xx_backs_off_and_gives_up_after_max_attempts():
    sdk = Sdk(transport=lambda r: (503, None, {}))
    response = sdk.module("Http").getJson("/api/v1/game")
    assert response.status == 503 and not response.ok
    assert len(sdk.requests) == 4
    sleeps = sdk.sleeps()
    assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2] <= 30


def test_a_request_that_throws_is_caught_and_retried():
    sdk = Sdk(transport=ok_transport)
    calls = []

    def flaky(record):
        calls.append(record)
        if len(calls) == 1:
            raise TimeoutError("HttpService timed out")
        return 200, {}, {}

    sdk.transport = flaky
    assert sdk.module("Http").getJson("/api/v1/game").status == 200
    assert len(calls) == 2


def test_the_api_key_comes_from_get_secret_and_is_sent_as_a_header():
    sdk = Sdk(transport=ok_transport, api_key="ak_live_123")
    sdk.module("Http").getJson("/api/v1/game")
    assert sdk.requests[0]["headers"]["X-API-Key"] == "ak_live_123"
    sdk.fake.secrets.adplatform_api_key = None
    sdk.config.configure(sdk.lua.table())
    ok, error = sdk.lua.eval("pcall")(sdk.module("Http").getJson, "/api/v1/game")
    assert not ok and "secret 'adplatform_api_key' is missing" in error


# --------------------------------------------------------------------------- ads and viewability (fake platform)


def fake_platform(containers):
    state = {"decisions": 0}

    def transport(record):
        path = record["path"]
        if path.startswith("/api/v1/containers"):
            return 200, {"results": containers, "next": None}, {}
        if path == "/api/v1/decisions":
            state["decisions"] += 1
            body = json.loads(record["body"])
            return 200, {"filled": True, "source": "campaign", "decision_id": str(uuid.uuid4()),
                         "creative": {"id": 1, "kind": "DISPLAY", "roblox_asset_id": 1234,
                                      "content": "rbxassetid://1234", "npc": None, "minigame": None,
                                      "click_action": {"type": "none"}},
                         "price_cpm": "2.000000", "tracking_token": f"tok-{body['player']['id']}"}, {}  # fmt: skip
        if path == "/api/v1/events":
            return 202, {"accepted": len(json.loads(record["body"])["events"]), "duplicates": 0, "rejected": []}, {}
        return 404, None, {}

    return transport, state


CONTAINERS = [
    {"id": 1, "name": "a", "type": "DISPLAY", "status": "ACTIVE", "placement": "lobby"},
    {"id": 2, "name": "b", "type": "DISPLAY", "status": "INACTIVE", "placement": "arena"},
    {"id": 3, "name": "c", "type": "DISPLAY", "status": "MAINTENANCE", "placement": "shop"},
]


def test_inactive_and_maintenance_containers_get_no_decisions():
    transport, state = fake_platform(CONTAINERS)
    sdk = Sdk(transport=transport)
    for placement in ("lobby", "arena", "shop"):
        sdk.tag(placement)
    ads = sdk.module("Ads")
    ads.loadContainers()
    shown = ads.onPlayerAdded(sdk.player(42))
    assert len(shown) == 1 and state["decisions"] == 1
    decision_body = json.loads(next(r for r in sdk.requests if r["path"] == "/api/v1/decisions")["body"])
    assert decision_body["container_id"] == 1
    assert decision_body["player"] == {"id": 42, "ads_allowed": True, "age_bracket": "unknown", "segments": [],
                                       "country": "US"}  # fmt: skip
    assert decision_body["server_id"] == "job-123"


def test_policy_failures_and_disallowed_players_are_sent_as_not_allowed():
    transport, _ = fake_platform(CONTAINERS[:1])
    sdk = Sdk(transport=transport)
    sdk.tag("lobby")
    sdk.fake.policies[7] = False
    sdk.fake.policies[8] = "error"
    ads = sdk.module("Ads")
    ads.loadContainers()
    ads.onPlayerAdded(sdk.player(7))
    ads.onPlayerAdded(sdk.player(8))
    players = [json.loads(r["body"])["player"] for r in sdk.requests if r["path"] == "/api/v1/decisions"]
    assert [p["ads_allowed"] for p in players] == [False, False]


def test_display_creatives_render_on_a_per_player_surface_gui():
    transport, _ = fake_platform(CONTAINERS[:1])
    sdk = Sdk(transport=transport)
    parts = sdk.tag("lobby", count=2)
    ads = sdk.module("Ads")
    ads.loadContainers()
    player = sdk.player(42)
    entry = ads.onPlayerAdded(player)[1]
    guis = list(player.PlayerGui.children.values())
    assert len(guis) == 2
    assert [g.Adornee.Name for g in guis] == [parts[1].Name, parts[2].Name] == ["lobby-1", "lobby-2"]
    assert guis[0].ClassName == "SurfaceGui" and guis[0].children[1].Image == "rbxassetid://1234"
    fired = sdk.module("Viewability").remote().fired
    assert fired[1].message.type == "show" and fired[1].message.decision_id == entry.decision.decision_id
    ads.onPlayerRemoving(player)
    assert all(g.destroyed for g in guis)


def report(sdk, player, decision_id, **viewability):
    message = {"type": "view", "decision_id": decision_id,
               "viewability": {"duration_ms": 1400, "screen_coverage": 0.031, "visible_fraction": 0.8,
                               "angle_deg": 30, **viewability}}  # fmt: skip
    return sdk.module("Ads").handleReport(player, to_lua(sdk.lua, message))


def test_client_reports_are_validated_on_the_server():
    transport, _ = fake_platform(CONTAINERS[:1])
    sdk = Sdk(transport=transport)
    sdk.tag("lobby")
    ads, events = sdk.module("Ads"), sdk.module("Events")
    ads.loadContainers()
    alice, mallory = sdk.player(1), sdk.player(2)
    decision_id = ads.onPlayerAdded(alice)[1].decision.decision_id
    ads.onPlayerAdded(mallory)

    sdk.fake.t += 0.5
    assert report(sdk, alice, decision_id) == (False, "duration_exceeds_display_time")  # shown 0.5 s ago
    sdk.fake.t += 2
    assert report(sdk, mallory, decision_id) == (False, "unknown_decision")  # not hers
    assert report(sdk, alice, decision_id, angle_deg=56) == (False, "not_viewable_yet")
    assert report(sdk, alice, decision_id, screen_coverage=0.0149) == (False, "not_viewable_yet")
    assert report(sdk, alice, decision_id, visible_fraction=0.49) == (False, "not_viewable_yet")
    assert report(sdk, alice, decision_id, visible_fraction=7) == (False, "out_of_bounds")
    assert report(sdk, alice, decision_id, duration_ms="long") == (False, "out_of_bounds")
    assert events.size() == 0
    ok, event_id = report(sdk, alice, decision_id, duration_ms=1000, screen_coverage=0.015, visible_fraction=0.5,
                          angle_deg=55)  # fmt: skip
    assert ok and uuid.UUID(event_id)
    assert report(sdk, alice, decision_id) == (False, "already_impressed")
    assert events.size() == 1
    # rate limit: 20 reports per 10 s per player
    results = [report(sdk, alice, decision_id)[1] for _ in range(30)]
    assert "rate_limited" in results


def test_events_batch_at_most_500_and_flush_on_close():
    transport, _ = fake_platform([])
    sdk = Sdk(transport=transport)
    events = sdk.module("Events")
    for i in range(1203):
        events.track(to_lua(sdk.lua, {"type": "click", "decision_id": str(uuid.uuid4()), "tracking_token": "t",
                                      "player_id": i}))  # fmt: skip
    # a full batch schedules a flush in the background once started
    events.start()
    events.track(to_lua(sdk.lua, {"type": "click", "decision_id": str(uuid.uuid4()), "tracking_token": "t",
                                  "player_id": 1}))  # fmt: skip
    assert len(sdk.fake.spawned) >= 2
    close = sdk.lua.globals().game.closing[1]
    close()
    sizes = [len(json.loads(r["body"])["events"]) for r in sdk.requests]
    assert sizes == [500, 500, 204]
    ids = [e["event_id"] for r in sdk.requests for e in json.loads(r["body"])["events"]]
    assert len(set(ids)) == 1204 and events.size() == 0


# --------------------------------------------------------------------------- scores tokens (fake platform)


def test_a_token_is_refreshed_before_it_expires():
    minted = []

    def transport(record):
        minted.append(record)
        from datetime import UTC, datetime, timedelta

        expires = datetime.now(UTC) + timedelta(seconds=300)
        return 201, {"token": f"jwt-{len(minted)}", "expires_at": expires.isoformat()}, {}

    sdk = Sdk(transport=transport)
    scores = sdk.module("Scores")
    player = sdk.player(5)
    assert scores.token(player) == "jwt-1"
    assert scores.token(player) == "jwt-1"
    sdk.fake.t += 200  # within 120 s of expiry
    assert scores.token(player) == "jwt-2"
    assert scores.parseIso("2026-11-21T09:00:00Z") == 1795251600
    assert scores.parseIso("2026-11-21T10:00:00+01:00") == 1795251600


def test_init_wires_the_modules():
    transport, _ = fake_platform(CONTAINERS[:1])
    sdk = Sdk(transport=transport)
    sdk.tag("lobby")
    players = sdk.lua.globals().SERVICES.Players
    players.list = sdk.lua.table(sdk.player(10))
    platform = sdk.module("init").start(to_lua(sdk.lua, {"eventFlushInterval": 3}))
    assert platform.Config.eventFlushInterval == 3
    remote = sdk.module("Viewability").remote()
    assert remote.Name == "AdPlatformReports" and len(remote.OnServerEvent.handlers) == 1
    assert len(players.PlayerAdded.handlers) == 1 and len(players.PlayerRemoving.handlers) == 1
    assert len(sdk.lua.globals().game.closing) == 1
    assert len(sdk.fake.spawned) >= 4  # token + ads for the present player, flush loop, refresh loops


# --------------------------------------------------------------------------- against the real platform


@pytest.fixture
def platform(live_server):
    from ads.budget import budget_rebuild
    from ads.decisions import engine
    from ads.tests.factories import CampaignFactory, CreativeFactory
    from games.tests.factories import AdContainerFactory, make_api_key
    from scoreboard.tests.factories import ActionTypeFactory

    with mock.patch("games.tasks.asset_sync.delay"), mock.patch("games.tasks.game_sync.delay"):
        container = AdContainerFactory(floor_price_cpm=Decimal("1.99"), placement="lobby-billboard")
        campaign = CampaignFactory(status="ACTIVE", max_bid=Decimal("5"), pacing="ASAP", total_budget=Decimal("10"))
        CreativeFactory(campaign=campaign, kind=container.type)
        budget_rebuild(campaign_ids=[campaign.pk])
        engine.reset()
        ActionTypeFactory(game=container.game, key="coin_collected", base_score=10)
        _, raw_key, secret = make_api_key(container.game)
        sdk = Sdk(base_url=live_server.url, api_key=raw_key, secret=secret)
        sdk.tag("lobby-billboard")
        yield sdk, container, campaign


@pytest.mark.django_db(transaction=True)
def test_a_simulated_server_shows_an_ad_reports_it_and_posts_signed_scores(platform):
    from ads.events import events_drain
    from ads.models import AdEngagement
    from scoreboard.models import ScoreHistory

    sdk, container, campaign = platform
    ads, events, scores = sdk.module("Ads"), sdk.module("Events"), sdk.module("Scores")
    containers = ads.loadContainers()
    assert containers[container.pk].placement == "lobby-billboard"

    player = sdk.player(123456789, "builderman")
    entry = ads.onPlayerAdded(player)[1]
    decision = entry.decision
    assert decision.filled and decision.source == "campaign" and decision.campaign_id == campaign.pk

    sdk.fake.t += 2
    ok, impression_id = report(sdk, player, decision.decision_id)
    assert ok
    click = to_lua(sdk.lua, {"type": "click", "decision_id": decision.decision_id})
    ok, click_id = ads.handleReport(player, click)
    assert ok
    assert events.flush()
    assert to_py(sdk.lua, events.lastResult.json) == {"accepted": 2, "duplicates": 0, "rejected": []}
    events_drain()

    rows = {str(r.event_id): r for r in AdEngagement.objects.all()}
    assert set(rows) == {impression_id, click_id}
    impression, click = rows[impression_id], rows[click_id]
    assert (impression.type, click.type) == ("impression", "click")
    assert str(impression.decision_id) == decision.decision_id == str(click.decision_id)
    assert impression.player_id == click.player_id == 123456789
    assert impression.viewable and impression.charged
    assert (impression.duration_ms, impression.screen_coverage, impression.visible_fraction, impression.angle_deg) == (
        1400, 0.031, 0.8, 30.0)  # fmt: skip
    assert impression.container_id == container.pk and impression.server_id == "job-123"

    first = scores.award(player, "coin_collected")
    assert first.score == 10 and first.increment == 10
    second = scores.award(player, "coin_collected", "chest-1")
    assert second.score == 20 and second.previous_score == 10
    duplicate = scores.award(player, "coin_collected", "chest-1")
    assert duplicate[0] is None and duplicate[1] == "action_duplicate"

    updates = [r for r in sdk.requests if r["path"] == "/api/v1/scores/update"]
    sent = [json.loads(r["body"]) for r in updates]
    assert len({s["nonce"] for s in sent}) == 3
    history = list(ScoreHistory.objects.order_by("created_at", "id"))
    assert [h.action_id for h in history] == [sent[0]["action_id"], "chest-1"]
    assert [h.nonce for h in history] == [sent[0]["nonce"], sent[1]["nonce"]]
    assert [h.increment for h in history] == [10, 10]
    assert [h.signature for h in history] == [r["headers"]["X-Signature"] for r in updates[:2]]
    assert {(h.player.roblox_user_id, h.player.username) for h in history} == {(123456789, "builderman")}


@pytest.mark.django_db(transaction=True)
def test_a_retried_batch_is_counted_once(platform):
    from ads.events import events_drain
    from ads.models import AdEngagement

    sdk, _container, _ = platform
    ads, events = sdk.module("Ads"), sdk.module("Events")
    ads.loadContainers()
    player = sdk.player(1001)
    decision = ads.onPlayerAdded(player)[1].decision
    sdk.fake.t += 2
    assert report(sdk, player, decision.decision_id)[0]

    # first attempt: 503 from the double; the HTTP layer retries the same body
    sdk.faults.append(("/api/v1/events", 503, {"Retry-After": "1"}))
    assert events.flush()
    posts = [r for r in sdk.requests if r["path"] == "/api/v1/events"]
    assert len(posts) == 2 and posts[0]["body"] == posts[1]["body"]

    # a flush that fails on every attempt puts the batch back with its ids; the next flush sends it again
    ads.handleReport(player, to_lua(sdk.lua, {"type": "click", "decision_id": decision.decision_id}))
    sdk.faults.extend([("/api/v1/events", 503, {})] * 4)
    assert not events.flush() and events.size() == 1
    assert events.flush()
    posts = [r for r in sdk.requests if r["path"] == "/api/v1/events"]
    assert posts[-1]["body"] == posts[-2]["body"]

    # the same batch sent twice (a response lost on the way back)
    resend = sdk.module("Http").request(to_lua(sdk.lua, {"method": "POST", "path": "/api/v1/events",
                                                         "body": posts[-1]["body"]}))  # fmt: skip
    assert to_py(sdk.lua, resend.json) == {"accepted": 0, "duplicates": 1, "rejected": []}
    events_drain()
    assert AdEngagement.objects.count() == 2
    assert sorted(AdEngagement.objects.values_list("type", flat=True)) == ["click", "impression"]
