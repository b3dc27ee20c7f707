"""Settings for the test suite: the production settings, plus what tests need.

The same environment variables choose the servers (embedded or given). Tests
use their own Redis database so they never touch a development one.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-the-checks")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWZpZWxkLWVuY3J5cHRpb24ta2V5LTE=")  # test only

from adplatform.core.redis import celery_broker_url, channel_layer_host, with_db
from adplatform.project.settings import *  # noqa: F403
from adplatform.project.settings import REDIS_URL as _BASE_REDIS_URL

TEST_REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "13"))
REDIS_URL = with_db(_BASE_REDIS_URL, TEST_REDIS_DB)
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
_channel_layer_config = CHANNEL_LAYERS["default"]["CONFIG"]  # noqa: F405
assert isinstance(_channel_layer_config, dict)
_channel_layer_config["hosts"] = [channel_layer_host(REDIS_URL)]
CELERY_BROKER_URL = celery_broker_url(REDIS_URL)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Background work of the decision engine runs inline, inside each test's transaction.
DECISION_ENGINE_BACKGROUND = False

# An answer of a hot endpoint that does not match its declaration fails the test (production logs it).
API_STRICT_ANSWERS = True
