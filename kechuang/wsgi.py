"""WSGI entry point for production servers (gunicorn, uWSGI)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from kechuang.env import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kechuang.settings")
application = get_wsgi_application()
# A web process never signs sessions with the placeholder of the offline commands.
require_secret_key(settings.SECRET_KEY)
