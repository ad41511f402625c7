"""WSGI entry point (HTTP only; the WebSocket needs the ASGI app in ``meetnow.asgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetnow.settings")

application = get_wsgi_application()
