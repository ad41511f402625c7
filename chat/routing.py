"""WebSocket routes: the app's socket at /ws/v1/ (chat.consumers)."""

from django.urls import URLPattern, URLResolver, path

from chat.consumers import ChatConsumer

websocket_urlpatterns: list[URLPattern | URLResolver] = [
    path("ws/v1/", ChatConsumer.as_asgi()),
]
