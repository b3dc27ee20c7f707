"""The Django project: settings, URLs, ASGI/WSGI, the Celery app (``celery -A adplatform.project``)."""

from adplatform.project.celery import app as celery_app

__all__ = ["celery_app"]
