"""ASGI entry point: HTTP to Django, WebSocket ``/ws/v1/`` to Channels.

HTTP goes through Django's WSGI handler on a fixed pool of threads
(``meetnow.lib.wsgi_bridge``, over a2wsgi), not through Django's ASGI handler.
Every view, middleware and the ORM here are synchronous; the ASGI handler runs them
via ``sync_to_async`` with a new thread per request and hops between that thread and
the event loop several times per request (about 1 ms of a 3 ms API request,
measured by ``bench/chat.py``). The WebSocket consumers stay async on the event
loop. ``MEETNOW_HTTP_THREADS`` sizes the pool: keep it at or below
``DATABASE_POOL_MAX_SIZE`` (each busy thread holds a connection).
"""

import asyncio
import os
import sys
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetnow.settings")

# Django must be set up before anything imports models.
django_wsgi_app = get_wsgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from chat.routing import websocket_urlpatterns  # noqa: E402
from meetnow.lib.gcfreeze import gc_freeze_setup  # noqa: E402
from meetnow.lib.i18n import WebSocketLanguageMiddleware  # noqa: E402
from meetnow.lib.realtime import server_loop_set  # noqa: E402
from meetnow.lib.wsgi_bridge import WSGIBridge  # noqa: E402

sys.setswitchinterval(settings.MEETNOW_GIL_SWITCH_INTERVAL_MS / 1000)

router = ProtocolTypeRouter(
    {
        "http": WSGIBridge(django_wsgi_app, threads=settings.MEETNOW_HTTP_THREADS),
        "websocket": WebSocketLanguageMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
# Last: everything alive now lives as long as the process; full collections skip it.
gc_freeze_setup()


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        # Nothing to start or stop; answering keeps servers from logging that
        # lifespan is unsupported.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                server_loop_set(asyncio.get_running_loop())
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    server_loop_set(asyncio.get_running_loop())
    await router(scope, receive, send)
