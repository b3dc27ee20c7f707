"""WSGI entry point for HTTP-only deployments (granian --interface wsgi adplatform.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")

application = get_wsgi_application()

from adplatform.startup import settle  # noqa: E402 - after Django is set up

settle()
