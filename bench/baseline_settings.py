"""Settings of the decision benchmark's server: production's, plus the baseline's path on the fast lane.

``bench/decisions.py`` starts its server with ``DJANGO_SETTINGS_MODULE=bench.baseline_settings`` so that
its baseline (bench/baseline_urls.py, a bare JSON view) goes through exactly the middleware, the WSGI server
and the connection handling a decision goes through, and nothing else. Production never loads this module.
"""

from adplatform.project.settings import *  # noqa: F403 - the production settings, one path added
from adplatform.project.settings import GAME_SERVER_PATHS

BASELINE_PATH = "/api/v1/bench/baseline"
GAME_SERVER_PATHS: tuple[str, ...] = (*GAME_SERVER_PATHS, BASELINE_PATH)  # type: ignore[no-redef]
ROOT_URLCONF = "bench.baseline_urls"
