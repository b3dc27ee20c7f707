"""Business metrics of the scoreboard, exported at /metrics with the rest."""

from prometheus_client import Counter, Histogram

SCORE_UPDATES = Counter(
    "scoreboard_score_updates_total",
    "Score update requests by outcome: `credited` or the error code of the refusal.",
    ["outcome"],
)
SCORE_UPDATE_SECONDS = Histogram(
    "scoreboard_score_update_seconds",
    "Time to answer a score update request, from the view's start to its response.",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5),
)
AUTH_FAILURES = Counter(
    "scoreboard_auth_failures_total",
    "Score requests refused for a bad token or a bad X-Signature (what the blocking counts).",
    ["kind"],
)
BLOCKS = Counter(
    "scoreboard_blocks_total",
    "Keys or addresses blocked after repeated token or signature failures.",
    ["scope"],
)
TOKENS_ISSUED = Counter("scoreboard_tokens_issued_total", "Score tokens issued.")
TOKENS_REVOKED = Counter("scoreboard_tokens_revoked_total", "Score token revocations, by what was revoked.", ["scope"])
BOARD_REBUILDS = Counter(
    "scoreboard_board_rebuilds_total", "Leaderboard sorted sets rebuilt from PostgreSQL.", ["reason"]
)
BOARD_SYNC_FAILURES = Counter(
    "scoreboard_board_sync_failures_total",
    "Committed score changes that could not be applied to the Redis board (it is rebuilt later).",
)
SNAPSHOTS = Counter("scoreboard_snapshots_total", "Leaderboard snapshots written.")
