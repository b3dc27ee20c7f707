"""The Redis side of the leaderboards: one sorted set per game, changed only by Lua scripts.

Layout for game ``G`` (every key carries the hash tag ``{G}``, so each script
touches one Redis Cluster slot):

``lb:{G}:z``        sorted set; score = the player's score, member = ``f"{10**13 - reached_ms:013d}:{player_id:019d}"``
``lb:{G}:m``        hash player id -> ``"<version>|<member>"`` (``"<version>|"`` marks a removed player)
``lb:{G}:n``        hash player id -> username
``lb:{G}:ready``    marker: the set was built from PostgreSQL (missing -> rebuild; distinguishes missing from empty)
``lb:{G}:lock``     a rebuild is running; changes meanwhile are also queued in ``lb:{G}:pending``
``lb:{G}:seq``      grows by one with every applied change (starts at the current time in ms, so it keeps
                    growing across a Redis flush)
``lb:{G}:updated``  time of the last applied change, ms

Ties: Redis orders equal scores by member, and ``ZREVRANGE``/``ZREVRANK`` take
the largest member first. The member starts with ``10**13 - reached_ms``, so
among equal scores the player who reached the score first ranks higher (a
double could not hold score and time exactly; the member can). Equal
milliseconds fall back to the larger Roblox user id; the PostgreSQL order
``-score, reached_at, -roblox_user_id`` is the same, because ``reached_at`` is
stored to the millisecond.

Every change carries a version (the id of the score history row that made
it); a change older than the one already applied is ignored, so post-commit
updates that arrive out of order never move a player backwards.

Each applied change is published, in the same script, on the Redis pub/sub
channel :func:`leaderboard_group` ``(slug)`` as a small JSON message::

    {"type": "score_changed", "game": slug, "player_id": 1, "username": "x", "score": 500,
     "rank": 3, "previous_rank": 7, "seq": 1795000000123, "top10_changed": true}

``{"type": "player_removed", ...}`` (a ban; score and rank null) and
``{"type": "rebuilt", "game": slug, "seq": N, "top10_changed": true}`` (after a
rebuild) use the same channel.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from adplatform.core.redis import LuaScript, get_redis

RANK_RADIUS = 5
REBUILD_LOCK_SECONDS = 300
PENDING_TTL_SECONDS = 3600
MEMBER_TIME_BASE = 10**13


def leaderboard_group(slug: str) -> str:
    """The name every live update of a game's board uses: the Redis pub/sub channel and the channel-layer group."""
    return f"leaderboard.{slug}"


def member_for(player_id: int, reached_ms: int) -> str:
    return f"{MEMBER_TIME_BASE - reached_ms:013d}:{player_id:019d}"


def player_of(member: bytes | str) -> int:
    text = member.decode() if isinstance(member, bytes) else member
    return int(text.rsplit(":", 1)[1])


@dataclass(frozen=True)
class BoardKeys:
    zset: str
    members: str
    names: str
    ready: str
    lock: str
    pending: str
    seq: str
    updated: str
    tmp_zset: str
    tmp_members: str
    tmp_names: str


@functools.lru_cache(maxsize=4096)
def board_keys(board_id: int | str) -> BoardKeys:
    tag = f"lb:{{{board_id}}}"
    return BoardKeys(
        zset=f"{tag}:z",
        members=f"{tag}:m",
        names=f"{tag}:n",
        ready=f"{tag}:ready",
        lock=f"{tag}:lock",
        pending=f"{tag}:pending",
        seq=f"{tag}:seq",
        updated=f"{tag}:updated",
        tmp_zset=f"{tag}:z:tmp",
        tmp_members=f"{tag}:m:tmp",
        tmp_names=f"{tag}:n:tmp",
    )


# --------------------------------------------------------------------------- Lua

# apply(z, m, n, player, version, member, score, name, op): op "s" sets a new score (only over an older
# version), "p" puts one back (unban: same version or newer), "d" removes the player (ban) and leaves a
# tombstone so a late, older change cannot bring them back.
_APPLY = """
local function parse(v)
  if not v then return -1, false end
  local sep = string.find(v, '|', 1, true)
  return tonumber(string.sub(v, 1, sep - 1)), string.sub(v, sep + 1)
end
local function apply(z, m, n, player, version, member, score, name, op)
  local cur_v, cur_member = parse(redis.call('HGET', m, player))
  local v = tonumber(version)
  if op == 's' then
    if v <= cur_v then return false end
  elseif v < cur_v then
    return false
  end
  if cur_member and cur_member ~= '' and (op == 'd' or cur_member ~= member) then
    redis.call('ZREM', z, cur_member)
  end
  if op == 'd' then
    redis.call('HSET', m, player, version .. '|')
    redis.call('HDEL', n, player)
  else
    redis.call('ZADD', z, score, member)
    redis.call('HSET', m, player, version .. '|' .. member)
    redis.call('HSET', n, player, name)
  end
  return true
end
local function rank_of(z, m, player)
  local _, member = parse(redis.call('HGET', m, player))
  if not member or member == '' then return false end
  return redis.call('ZREVRANK', z, member)
end
"""

# KEYS: z m n ready lock pending seq updated
# ARGV: player version member score name op channel now_ms message_prefix
_UPDATE = (
    _APPLY
    + """
local prev_rank = rank_of(KEYS[1], KEYS[2], ARGV[1])
local applied = apply(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('RPUSH', KEYS[6], cjson.encode({ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]}))
  redis.call('EXPIRE', KEYS[6], PENDING_TTL)
end
local rank = rank_of(KEYS[1], KEYS[2], ARGV[1])
local seq = 0
if applied then
  if redis.call('EXISTS', KEYS[7]) == 0 then redis.call('SET', KEYS[7], ARGV[8]) end
  seq = redis.call('INCR', KEYS[7])
  redis.call('SET', KEYS[8], ARGV[8])
  if ARGV[7] ~= '' then
    local top = (rank and rank < 10) or (prev_rank and prev_rank < 10)
    redis.call('PUBLISH', ARGV[7], ARGV[9]
      .. ',"rank":' .. (rank and string.format('%d', rank + 1) or 'null')
      .. ',"previous_rank":' .. (prev_rank and string.format('%d', prev_rank + 1) or 'null')
      .. ',"seq":' .. string.format('%d', seq)
      .. ',"top10_changed":' .. (top and 'true' or 'false') .. '}')
  end
end
return {applied and 1 or 0, rank or -1, prev_rank or -1, seq, redis.call('EXISTS', KEYS[4])}
"""
).replace("PENDING_TTL", str(PENDING_TTL_SECONDS))

# KEYS: z n ready updated   ARGV: limit
_TOP = """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local r = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local ids = {}
for i = 1, #r, 2 do ids[#ids + 1] = string.match(r[i], ':0*(%d+)$') end
local names = {}
if #ids > 0 then names = redis.call('HMGET', KEYS[2], unpack(ids)) end
return {r, names, redis.call('GET', KEYS[4]) or '', redis.call('ZCARD', KEYS[1])}
"""

# KEYS: z m n ready updated   ARGV: player radius
_AROUND = (
    _APPLY
    + """
if redis.call('EXISTS', KEYS[4]) == 0 then return false end
local rank = rank_of(KEYS[1], KEYS[2], ARGV[1])
if not rank then return {0} end
local radius = tonumber(ARGV[2])
local start = rank - radius
if start < 0 then start = 0 end
local r = redis.call('ZREVRANGE', KEYS[1], start, rank + radius, 'WITHSCORES')
local ids = {}
for i = 1, #r, 2 do ids[#ids + 1] = string.match(r[i], ':0*(%d+)$') end
local names = redis.call('HMGET', KEYS[3], unpack(ids))
return {1, rank, start, r, names, redis.call('GET', KEYS[5]) or ''}
"""
)

# KEYS: lock pending tmp_z tmp_m tmp_n   ARGV: token ttl
_REBUILD_BEGIN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 1
"""

# KEYS: z m n tmp_z tmp_m tmp_n pending lock ready updated seq
# ARGV: token updated_ms now_ms channel message_prefix
_REBUILD_SWAP = (
    _APPLY
    + """
if redis.call('GET', KEYS[8]) ~= ARGV[1] then return -1 end
for _, raw in ipairs(redis.call('LRANGE', KEYS[7], 0, -1)) do
  local e = cjson.decode(raw)
  apply(KEYS[4], KEYS[5], KEYS[6], e[1], e[2], e[3], e[4], e[5], e[6])
end
for i = 1, 3 do
  redis.call('UNLINK', KEYS[i])
  if redis.call('EXISTS', KEYS[i + 3]) == 1 then redis.call('RENAME', KEYS[i + 3], KEYS[i]) end
end
redis.call('SET', KEYS[9], '1')
local updated = tonumber(redis.call('GET', KEYS[10]) or '0')
if ARGV[2] ~= '' and tonumber(ARGV[2]) > updated then redis.call('SET', KEYS[10], ARGV[2]) end
redis.call('DEL', KEYS[7], KEYS[8])
if redis.call('EXISTS', KEYS[11]) == 0 then redis.call('SET', KEYS[11], ARGV[3]) end
local seq = redis.call('INCR', KEYS[11])
if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. ',"seq":' .. string.format('%d', seq) .. ',"top10_changed":true}')
end
return redis.call('ZCARD', KEYS[1])
"""
)

_update_script = LuaScript(_UPDATE)
_top_script = LuaScript(_TOP)
_around_script = LuaScript(_AROUND)
_rebuild_begin_script = LuaScript(_REBUILD_BEGIN)
_rebuild_swap_script = LuaScript(_REBUILD_SWAP)


# --------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class BoardEntry:
    rank: int
    player_id: int
    username: str
    score: int


@dataclass(frozen=True)
class BoardTop:
    entries: list[BoardEntry]
    updated_ms: int | None
    total: int


@dataclass(frozen=True)
class BoardStanding:
    rank: int
    player_id: int
    username: str
    score: int
    around: list[BoardEntry]
    updated_ms: int | None


def _entries(flat: list, names: list, first_rank: int) -> list[BoardEntry]:
    entries = []
    for i in range(0, len(flat), 2):
        name = names[i // 2] if i // 2 < len(names) else None
        entries.append(
            BoardEntry(
                rank=first_rank + i // 2,
                player_id=player_of(flat[i]),
                username=name.decode() if name else "",
                score=int(float(flat[i + 1])),
            )
        )
    return entries


def _ms(raw) -> int | None:
    return int(raw) if raw not in (None, b"", "") else None


def board_top(board_id: int | str, limit: int) -> BoardTop | None:
    """The first ``limit`` entries, or None when the set is missing (it must be rebuilt)."""
    k = board_keys(board_id)
    reply = _top_script(keys=[k.zset, k.names, k.ready, k.updated], args=[limit])
    if reply is None:
        return None
    flat, names, updated, total = reply
    return BoardTop(entries=_entries(flat, names, 1), updated_ms=_ms(updated), total=int(total))


_NO_SCORE = object()


def board_standing(board_id: int | str, player_id: int, radius: int = RANK_RADIUS):
    """A player's rank with ``radius`` entries above and below; ``None`` when the set is missing,
    :data:`NO_SCORE` when the player has no score on it."""
    k = board_keys(board_id)
    reply = _around_script(keys=[k.zset, k.members, k.names, k.ready, k.updated], args=[player_id, radius])
    if reply is None:
        return None
    if reply[0] == 0:
        return NO_SCORE
    _, rank, start, flat, names, updated = reply
    entries = _entries(flat, names, int(start) + 1)
    me = next(e for e in entries if e.player_id == player_id)
    return BoardStanding(
        rank=int(rank) + 1,
        player_id=player_id,
        username=me.username,
        score=me.score,
        around=[e for e in entries if e.player_id != player_id],
        updated_ms=_ms(updated),
    )


NO_SCORE = _NO_SCORE


# --------------------------------------------------------------------------- writes


@dataclass(frozen=True)
class BoardChange:
    applied: bool
    rank: int | None  # 1-based, after the change
    previous_rank: int | None
    seq: int
    ready: bool


def _message_prefix(kind: str, slug: str, player_id: int, username: str, score: int | None) -> str:
    body = json.dumps(
        {"type": kind, "game": slug, "player_id": player_id, "username": username, "score": score},
        separators=(",", ":"),
    )
    return body[:-1]  # the script appends rank, previous_rank, seq and top10_changed


def board_apply(
    *,
    board_id: int,
    slug: str,
    player_id: int,
    version: int,
    score: int,
    reached_ms: int,
    username: str,
    op: str = "s",
    now_ms: int,
) -> BoardChange:
    """Apply one change (``op``: "s" new score, "p" put back, "d" remove) and publish it, in one round trip."""
    k = board_keys(board_id)
    removing = op == "d"
    member = "" if removing else member_for(player_id, reached_ms)
    prefix = _message_prefix(
        "player_removed" if removing else "score_changed", slug, player_id, username, None if removing else score
    )
    applied, rank, prev, seq, ready = _update_script(
        keys=[k.zset, k.members, k.names, k.ready, k.lock, k.pending, k.seq, k.updated],
        args=[
            player_id,
            version,
            member,
            score,
            username,
            op,
            leaderboard_group(slug) if slug else "",
            now_ms,
            prefix,
        ],
    )
    return BoardChange(
        applied=bool(applied),
        rank=int(rank) + 1 if int(rank) >= 0 else None,
        previous_rank=int(prev) + 1 if int(prev) >= 0 else None,
        seq=int(seq),
        ready=bool(ready),
    )


@dataclass(frozen=True)
class BoardRow:
    """One player's row as PostgreSQL has it (the rebuild's input)."""

    player_id: int
    username: str
    score: int
    reached_ms: int
    version: int
    removed: bool = False


def board_rebuild(*, board_id: int | str, slug: str, rows: Iterable[BoardRow], now_ms: int, batch: int = 5000):
    """Replace the set with ``rows`` (read by the caller after this call starts, see below); returns the
    number of players on the board, or None when another rebuild holds the lock.

    ``rows`` is consumed after the lock is taken; every change applied after that is also queued, and
    the swap replays the queue over the rebuilt set (by version), so a change that commits while the
    rebuild reads PostgreSQL is never lost.
    """
    client = get_redis()
    k = board_keys(board_id)
    token = uuid.uuid4().hex
    if not _rebuild_begin_script(
        keys=[k.lock, k.pending, k.tmp_zset, k.tmp_members, k.tmp_names], args=[token, REBUILD_LOCK_SECONDS]
    ):
        return None
    try:
        latest = 0
        pipe = client.pipeline(transaction=False)
        pending = 0
        for row in rows:
            if row.removed:
                pipe.hset(k.tmp_members, str(row.player_id), f"{row.version}|")
            else:
                member = member_for(row.player_id, row.reached_ms)
                pipe.zadd(k.tmp_zset, {member: row.score})
                pipe.hset(k.tmp_members, str(row.player_id), f"{row.version}|{member}")
                pipe.hset(k.tmp_names, str(row.player_id), row.username)
                latest = max(latest, row.reached_ms)
            pending += 1
            if pending >= batch:
                pipe.execute()
                pending = 0
        pipe.execute()
        prefix = json.dumps({"type": "rebuilt", "game": slug}, separators=(",", ":"))[:-1]
        count = _rebuild_swap_script(
            keys=[
                k.zset,
                k.members,
                k.names,
                k.tmp_zset,
                k.tmp_members,
                k.tmp_names,
                k.pending,
                k.lock,
                k.ready,
                k.updated,
                k.seq,
            ],
            args=[token, latest or "", now_ms, leaderboard_group(slug) if slug else "", prefix],
        )
    except BaseException:
        # Let the next caller try again at once rather than after the lock expires.
        _release_lock(client, k.lock, token)
        raise
    if int(count) < 0:
        raise RuntimeError(f"leaderboard rebuild lost its lock (took longer than {REBUILD_LOCK_SECONDS}s)")
    return int(count)


def _release_lock(client: redis.Redis, lock: str, token: str) -> None:
    try:
        if client.get(lock) == token.encode():
            client.delete(lock)
    except redis.RedisError:
        pass


def board_ready(board_id: int | str) -> bool:
    return bool(get_redis().exists(board_keys(board_id).ready))


def board_rebuilding(board_id: int | str) -> bool:
    return bool(get_redis().exists(board_keys(board_id).lock))


def board_forget(board_id: int | str) -> None:
    """Mark the set missing, so the next read or change rebuilds it from PostgreSQL."""
    get_redis().delete(board_keys(board_id).ready)


def board_drop(board_id: int | str) -> None:
    """Delete every key of a board (scratch boards of the benchmark, deleted games)."""
    k = board_keys(board_id)
    get_redis().unlink(
        k.zset, k.members, k.names, k.ready, k.lock, k.pending, k.seq, k.updated, k.tmp_zset, k.tmp_members,
        k.tmp_names,
    )  # fmt: skip
