"""WSGI entry point for HTTP-only deployments (gunicorn adplatform.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")

application = get_wsgi_application()
