"""WSGI entry point for gunicorn (docker-compose.yml, make bench)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.development")

application = get_wsgi_application()
