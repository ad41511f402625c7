"""WebSocket routes under /ws/v1/ (the chat consumer is added by the chat issue)."""

from django.urls import URLPattern, URLResolver

websocket_urlpatterns: list[URLPattern | URLResolver] = []
