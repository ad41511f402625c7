"""Settings of the chat benchmark's server: the project's settings plus a connection pool.

Under ASGI, Django runs each request's sync code in a fresh thread, and each thread
opens its own database connection: with ``CONN_MAX_AGE`` > 0 those connections
outlive their threads (PostgreSQL soon refuses "too many clients"), with 0 every
request pays a new connection. Django 5.1+'s psycopg pool (``OPTIONS["pool"]``,
``CONN_MAX_AGE = 0``) hands each request a warm connection instead. The benchmark
measures that configuration; it is the recommended one for the ASGI server.
"""

from __future__ import annotations

import importlib
import os

_base = importlib.import_module(os.environ.get("MEETNOW_BENCH_BASE_SETTINGS", "meetnow.settings"))
globals().update({k: v for k, v in vars(_base).items() if k.isupper()})

DATABASES = {**_base.DATABASES}
DATABASES["default"] = {
    **DATABASES["default"],
    "CONN_MAX_AGE": 0,
    "CONN_HEALTH_CHECKS": False,
    "OPTIONS": {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {"min_size": 4, "max_size": 24, "timeout": 10},
    },
}

# One Redis connection pool per process instead of one per request (bench/chat_cache.py).
CACHES = {
    name: (
        {**conf, "BACKEND": "bench.chat_cache.SharedPoolRedisCache"}
        if conf.get("BACKEND") == "django.core.cache.backends.redis.RedisCache"
        else conf
    )
    for name, conf in _base.CACHES.items()
}
