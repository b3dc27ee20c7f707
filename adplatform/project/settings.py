"""Settings for the whole platform, read from environment variables.

Every variable is documented in ``.env.example``. Without ``DATABASE_URL`` or
``REDIS_URL`` the embedded servers of :mod:`adplatform.core.embedded` start.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from adplatform.core import embedded
from adplatform.core.env import env_bool, env_float, env_int, env_list, env_rate, env_str, load_dotenv
from adplatform.core.redis import celery_broker_url, channel_layer_host

BASE_DIR = Path(__file__).resolve().parents[2]

if not env_bool("ADPLATFORM_IGNORE_DOTENV", False):
    load_dotenv(BASE_DIR / ".env")

DEBUG = env_bool("DEBUG", False)

# --------------------------------------------------------------------------- secrets

_INSECURE_SECRETS = {"", "change-me", "changeme", "secret", "insecure", "django-insecure"}


def _secret_key() -> str:
    key = env_str("SECRET_KEY").strip()
    if key and key.lower() not in _INSECURE_SECRETS and not key.startswith("django-insecure"):
        if not DEBUG and len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters when DEBUG is off.")
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a placeholder. Production (DEBUG off) needs a real one: "
            "generate it with `python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    # Development: a random key kept in the data folder so sessions survive restarts.
    path = embedded.data_dir() / "dev_secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _field_encryption_keys() -> list[str]:
    """Keys that encrypt secrets at rest (adplatform.core.crypto): the first encrypts, all decrypt (rotation)."""
    keys = env_list("FIELD_ENCRYPTION_KEYS")
    if keys:
        return keys
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is missing. Production (DEBUG off) needs one to store signing secrets and Open "
            "Cloud keys encrypted: generate it with `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`."
        )
    # Development: a Fernet key derived from the (kept) development SECRET_KEY, as adplatform.core.crypto.dev_key does
    digest = hashlib.sha256(b"adplatform field encryption\0" + SECRET_KEY.encode()).digest()
    return [base64.urlsafe_b64encode(digest).decode()]


FIELD_ENCRYPTION_KEYS = _field_encryption_keys()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "adplatform.project.views.csrf_failure"
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# The line per request and per task (access log, task outcomes, beat's sends): WARNING hides them and keeps
# their warnings and errors. `make run` (runplatform) defaults both this and LOG_LEVEL to WARNING.
ACCESS_LOG_LEVEL = env_str("ACCESS_LOG_LEVEL", LOG_LEVEL).upper()
ACCESS_LOGGERS = (
    "adplatform.access",
    "adplatform.core.tasks",
    "celery.app.trace",
    "celery.worker.strategy",
    "celery.beat",
)

# --------------------------------------------------------------------------- apps

INSTALLED_APPS = [
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "adplatform.core",
    "adplatform.accounts",
    "games",
    "ads",
    "scoreboard",
    "integrations",
    "adplatform.tools",  # management commands only: runplatform, seed_demo, simulate_game
]

# The game servers' endpoints (exact paths): API key, score token or server signing key, never a cookie; JSON
# only; called many times a second per game. They take the short middleware chain of
# adplatform.core.middleware.GameServerFastLane, the one place that decides which requests skip middleware.
GAME_SERVER_PATHS = (
    "/api/v1/decisions",
    "/api/v1/decisions/batch",
    "/api/v1/events",
    "/api/v1/scores/update",
    "/api/v1/scores/update/batch",
    "/api/v1/scores/tokens",
    "/api/v1/scores/tokens/revoke",
    "/api/v1/scores/signing-keys",
)

MIDDLEWARE = [
    "adplatform.core.middleware.GameServerFastLane",  # GAME_SERVER_PATHS take a short chain of their own (see there)
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "adplatform.core.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "adplatform.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "adplatform.core.middleware.AccessLogMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "adplatform.project.urls"
WSGI_APPLICATION = "adplatform.project.wsgi.application"
ASGI_APPLICATION = "adplatform.project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "adplatform.project.context_processors.navigation",
            ],
        },
    },
]

# --------------------------------------------------------------------------- data stores

DATABASE_URL, REDIS_URL, EMBEDDED_SERVICES = embedded.resolve_service_urls(os.environ)

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        engine="adplatform.core.postgresql",  # django-prometheus's backend; see adplatform/core/postgresql/base.py
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASE_URL.split("://", 1)[0] not in ("postgres", "postgresql", "pgsql"):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...).")
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 5)
# A connection that ran a request's queries cleanly less than this long ago skips CONN_HEALTH_CHECKS'
# SELECT 1 (adplatform/core/postgresql/base.py); 0 checks before every request.
DB_HEALTH_CHECK_SKIP_MS = env_int("DB_HEALTH_CHECK_SKIP_MS", 500)

REDIS_CONNECT_TIMEOUT = 2.0
REDIS_SOCKET_TIMEOUT = 2.0

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
        "OPTIONS": {
            "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
            "socket_timeout": REDIS_SOCKET_TIMEOUT,
        },
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # group_expiry: a crashed process's channel leaves the board groups within two minutes; live
        # processes re-add theirs well before (scoreboard.live refreshes at a third of it).
        # channel_layer_host: socket timeouts longer than the layer's blocking pop (see adplatform/core/redis.py).
        "CONFIG": {
            "hosts": [channel_layer_host(REDIS_URL)],
            "prefix": "asgi",
            "capacity": 1000,
            "expiry": 30,
            "group_expiry": 120,
        },
    }
}

# --------------------------------------------------------------------------- Celery

CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(embedded.data_dir() / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "platform-heartbeat": {"task": "adplatform.core.tasks.heartbeat", "schedule": timedelta(seconds=30)},
    "scoreboard-snapshots": {"task": "scoreboard.tasks.leaderboard_snapshots_take", "schedule": timedelta(minutes=5)},
    "ads-drain-decisions": {"task": "ads.tasks.drain_decisions", "schedule": timedelta(seconds=1)},
    "ads-drain-events": {"task": "ads.tasks.drain_events", "schedule": timedelta(seconds=1)},
    "ads-release-expired": {"task": "ads.tasks.release_expired_reservations", "schedule": timedelta(seconds=30)},
    "ads-reconcile-budgets": {"task": "ads.tasks.reconcile_budgets", "schedule": timedelta(minutes=5)},
    "ads-rollup-performance": {
        "task": "ads.tasks.rollup_performance",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Roblox sync; a run not started before the next one is due is dropped rather than piled up.
    "sync-games": {
        "task": "games.tasks.sync_all_games",
        "schedule": timedelta(minutes=10),
        "options": {"expires": 540},
    },
    "sync-assets": {
        "task": "games.tasks.sync_all_assets",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3300},
    },
}

# --------------------------------------------------------------------------- auth

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --------------------------------------------------------------------------- i18n, static

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed names in production (run collectstatic); plain
        # files served straight from the apps while developing and testing.
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not STATIC_ROOT.exists()
# WhiteNoise hands Django a sync file iterator; under ASGI that is fine for the few
# static files the app serves itself (production puts them behind a CDN or proxy).
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --------------------------------------------------------------------------- security

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'",
)

# --------------------------------------------------------------------------- API

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "adplatform.accounts.authentication.PersonalAccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "adplatform.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "adplatform.core.api.throttling.AnonRateThrottle",
        "adplatform.core.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("THROTTLE_ANON", "120/min"),
        "user": env_rate("THROTTLE_USER", "1200/min"),
        "game_server": env_rate("THROTTLE_GAME_SERVER", "30000/min"),  # per game API key, all servers
    },
    "EXCEPTION_HANDLER": "adplatform.core.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Roblox ad & leaderboard platform API",
    "DESCRIPTION": "In-game sponsorship, live leaderboards and Roblox data for game servers and tools.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several apps have fields named status/type/kind with different choice sets: name each set once.
    "ENUM_NAME_OVERRIDES": {
        "ContainerTypeEnum": "games.models.ContainerType",
        "ContainerStatusEnum": "games.models.ContainerStatus",
        "CampaignStatusEnum": "ads.models.CampaignStatus",
        "ModerationStatusEnum": "ads.models.ModerationStatus",
        "EngagementTypeEnum": "ads.models.EngagementType",
        "AdCategoryEnum": "games.models.AdCategory",
        "SyncStatusEnum": "games.models.SyncStatus",
    },
}

# --------------------------------------------------------------------------- games

# A revoked key or a changed container is seen by every process within these seconds.
GAME_API_KEY_CACHE_SECONDS = 5.0
CONTAINER_CACHE_SECONDS = 3.0

# --------------------------------------------------------------------------- ad decisions

SERVING_INDEX_MAX_AGE = env_int("SERVING_INDEX_MAX_AGE", 30)  # seconds before a background reload
SERVING_UNKNOWN_CONTAINER_RELOAD = 1.0  # an unknown container reloads an index older than this
DECISION_RESERVATION_SECONDS = env_int("DECISION_RESERVATION_SECONDS", 900)
# A decision that finds a campaign's budget state missing waits this long for the one shared build.
DECISION_BUDGET_WAIT_SECONDS = env_float("DECISION_BUDGET_WAIT_SECONDS", 1.0)
# EVEN pacing lets spend run this far ahead of the linear plan (seconds of the day), so it tracks the plan.
PACING_LOOKAHEAD_SECONDS = env_int("PACING_LOOKAHEAD_SECONDS", 60)
DECISION_ENGINE_BACKGROUND = True  # the timer's index reloads in a thread (inline in tests)
# Invalid traffic: more events than this a minute from one player or one server is not human.
EVENTS_MAX_PER_PLAYER_MINUTE = env_int("EVENTS_MAX_PER_PLAYER_MINUTE", 120)
EVENTS_MAX_PER_SERVER_MINUTE = env_int("EVENTS_MAX_PER_SERVER_MINUTE", 60000)

# --------------------------------------------------------------------------- logging

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "adplatform.core.logging.RequestIDFilter"},
    },
    "formatters": {
        "json": {"()": "adplatform.core.logging.JSONFormatter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL},
        # The access log middleware writes one line a request; Django's own
        # request logger would repeat every 4xx.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "pgserver": {"level": "WARNING"},
        "celery": {"level": LOG_LEVEL},
        # One line per request or task: ACCESS_LOG_LEVEL.
        **{name: {"level": ACCESS_LOG_LEVEL} for name in ACCESS_LOGGERS},
    },
}

# ---- Roblox integration
# Base URLs per API family (a proxy in front of Roblox is common in Roblox tooling).
ROBLOX_BASE_URLS = {
    "universes": env_str("ROBLOX_UNIVERSES_BASE_URL", "https://apis.roblox.com"),
    "games": env_str("ROBLOX_GAMES_BASE_URL", "https://games.roblox.com"),
    "thumbnails": env_str("ROBLOX_THUMBNAILS_BASE_URL", "https://thumbnails.roblox.com"),
    "economy": env_str("ROBLOX_ECONOMY_BASE_URL", "https://economy.roblox.com"),
    "opencloud": env_str("ROBLOX_OPENCLOUD_BASE_URL", "https://apis.roblox.com"),
}
ROBLOX_CONNECT_TIMEOUT = env_int("ROBLOX_CONNECT_TIMEOUT", 3)  # seconds
ROBLOX_READ_TIMEOUT = env_int("ROBLOX_READ_TIMEOUT", 10)  # seconds
ROBLOX_MAX_RETRIES = env_int("ROBLOX_MAX_RETRIES", 3)  # retries after the first attempt (429, 5xx, network)
ROBLOX_BACKOFF_BASE_MS = env_int("ROBLOX_BACKOFF_BASE_MS", 500)
ROBLOX_BACKOFF_MAX_MS = env_int("ROBLOX_BACKOFF_MAX_MS", 8000)
# A Retry-After / x-ratelimit-reset longer than this is not slept: the call fails as rate limited.
ROBLOX_RETRY_AFTER_MAX = env_int("ROBLOX_RETRY_AFTER_MAX", 30)  # seconds
# Token bucket per Roblox host, shared by every process through Redis.
ROBLOX_RATE_LIMIT_PER_MINUTE = env_int("ROBLOX_RATE_LIMIT_PER_MINUTE", 300)
ROBLOX_RATE_LIMIT_BURST = env_int("ROBLOX_RATE_LIMIT_BURST", 20)
ROBLOX_RATE_LIMIT_MAX_WAIT_MS = env_int("ROBLOX_RATE_LIMIT_MAX_WAIT_MS", 2000)
# Circuit breaker per host: opens after N consecutive failures, stays open for the cool-down, then probes once.
ROBLOX_BREAKER_FAILURES = env_int("ROBLOX_BREAKER_FAILURES", 5)
ROBLOX_BREAKER_COOLDOWN = env_int("ROBLOX_BREAKER_COOLDOWN", 30)  # seconds
ROBLOX_BREAKER_FAILURE_WINDOW = env_int("ROBLOX_BREAKER_FAILURE_WINDOW", 60)  # seconds a failure streak is remembered
# Cache lifetimes (seconds) of Roblox results kept in Redis.
ROBLOX_CACHE_TTLS = {
    "place_universe": env_int("ROBLOX_CACHE_TTL_PLACE_UNIVERSE", 86400),
    "game_details": env_int("ROBLOX_CACHE_TTL_GAME_DETAILS", 120),
    "game_votes": env_int("ROBLOX_CACHE_TTL_GAME_VOTES", 120),
    "thumbnail": env_int("ROBLOX_CACHE_TTL_THUMBNAIL", 3600),  # Completed, Blocked, Error
    "thumbnail_pending": env_int("ROBLOX_CACHE_TTL_THUMBNAIL_PENDING", 30),  # Pending, InReview, TemporarilyUnavailable
    "asset_details": env_int("ROBLOX_CACHE_TTL_ASSET_DETAILS", 600),
    "not_found": env_int("ROBLOX_CACHE_TTL_NOT_FOUND", 60),
}
# How long a data API request whose answer is not cached waits for the worker asking Roblox (then 503 with
# Retry-After): web requests never call Roblox themselves.
ROBLOX_DATA_API_WAIT_MS = env_int("ROBLOX_DATA_API_WAIT_MS", 1500)
# Per-account rate of the Roblox data API (/api/v1/roblox/...), on top of the default throttles.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["roblox"] = env_rate("THROTTLE_ROBLOX", "300/min")

# --------------------------------------------------------------------------- client addresses behind proxies
# Every throttle and block takes the client's address from adplatform.core.api.client.client_ip, which believes
# X-Forwarded-For only for the hops our own proxies appended. NUM_PROXIES: how many reverse proxies stand in
# front of the application (0: ignore the header). TRUSTED_PROXIES: their addresses or CIDR ranges; when set,
# the header is read only from such a peer and the client is the right-most address that is not one of them.
NUM_PROXIES = env_int("NUM_PROXIES", 0)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", [])
REST_FRAMEWORK["NUM_PROXIES"] = NUM_PROXIES  # DRF's own get_ident agrees with client_ip

# --------------------------------------------------------------------------- Roblox compliance (ads.compliance)
# Artwork advertisers upload (uploaded to Roblox as the game owner's asset), and the compliance jobs.
CREATIVE_UPLOAD_MAX_BYTES = env_int("CREATIVE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
CREATIVE_UPLOAD_MIN_SIDE = env_int("CREATIVE_UPLOAD_MIN_SIDE", 64)  # pixels
CREATIVE_UPLOAD_MAX_SIDE = env_int("CREATIVE_UPLOAD_MAX_SIDE", 4096)  # pixels (Roblox takes below 8000)
CELERY_BEAT_SCHEDULE["ads-roblox-reviews-refresh"] = {
    "task": "ads.tasks.roblox_reviews_refresh",
    "schedule": timedelta(minutes=10),
    "options": {"expires": 540},
}
CELERY_BEAT_SCHEDULE["ads-qualified-visits"] = {
    "task": "ads.tasks.qualified_visits_collect",
    "schedule": timedelta(minutes=1),
    "options": {"expires": 55},
}

# --- console (issue 20): per-user time zone, notifications by email ---------------------------------------
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "adplatform.accounts.middleware.TimeZoneMiddleware")  # fmt: skip
# Notifications go out through Django's email backend: printed to the console unless EMAIL_BACKEND says otherwise.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Blox Sponsor <no-reply@localhost>")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")  # links in notification emails
# Form widgets render through the project's templates too (templates/admin/widgets/: labelled admin date pairs).
INSTALLED_APPS.append("django.forms")
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# --- end console --------------------------------------------------------------------------------------------
