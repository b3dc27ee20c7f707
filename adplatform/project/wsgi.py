"""WSGI entry point for HTTP-only deployments (granian --interface wsgi adplatform.project.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.project.settings")

application = get_wsgi_application()

from adplatform.core.startup import settle  # noqa: E402 - after Django is set up

settle()
