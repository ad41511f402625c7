"""MeetNow settings: one module, driven by environment variables (12-factor).

With no variable set it imports cleanly and gives a development setup that
needs no server: SQLite, local files and the embedded Celery broker under
``var/``, in-memory cache and channel layer. ``DJANGO_ENV=production`` refuses
to start without the secrets and real services (see ``_require``). Every
variable is listed with its default in README.md.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    _missing = [
        name
        for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
        if not env.str(name, default="")
    ]
    if _missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables: " + ", ".join(_missing)
        )

# All local state (SQLite file, uploaded files, embedded broker) lives here, git-ignored.
VAR_DIR = Path(env.str("MEETNOW_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -------------------------------------------------------------------

SECRET_KEY = env.str(
    "SECRET_KEY",
    default="django-insecure-development-only-key-never-used-in-production-0123456789",
)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here, no CDN
    "phonenumber_field",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.headless",
    "allauth.usersessions",
    # MeetNow, bottom layer first (see DESIGN.md, "Dependency direction").
    "meetnow",
    "media",
    "accounts",
    "chat",
    "support",
    "dating",
    "privacy",
]

# The cookie session, its user and the admin's messages are Django's own middleware
# in meetnow.lib.middleware's subclasses, which skip an API request that carries the
# app's token and no cookie (docs/dating.md, "Where a like's server CPU goes"); every
# other request runs them.
MIDDLEWARE = [
    "meetnow.lib.middleware.RequestLogMiddleware",
    "meetnow.lib.middleware.JsonErrorShapeMiddleware",
    "meetnow.lib.middleware.JsonDepthLimitMiddleware",
    "meetnow.lib.middleware.OutOfRangeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "meetnow.lib.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "meetnow.lib.middleware.AuthenticationMiddleware",
    "meetnow.lib.i18n.StaffLanguageMiddleware",
    "meetnow.lib.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "meetnow.urls"
WSGI_APPLICATION = "meetnow.wsgi.application"
ASGI_APPLICATION = "meetnow.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DATABASES: dict[str, dict[str, Any]] = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI each request's sync code runs in a fresh thread, and a persistent
    # connection per thread would pile up until PostgreSQL refuses "too many clients".
    # A psycopg pool per process hands each request a warm connection instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The pool checks each connection it hands out: after a database restart its old
    # sockets are dead, and without the check the first requests would each get one of
    # them and fail (issue 13). meetnow.lib.postgresql's check costs no round trip while the
    # connection is quiet (psycopg_pool's own, CONN_HEALTH_CHECKS, sends a query each time).
    DATABASES["default"]["ENGINE"] = "meetnow.lib.postgresql"
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=20),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        },
        # Parameters travel apart from the SQL, and psycopg prepares a statement that a
        # pooled connection has run DATABASE_PREPARE_THRESHOLD times: PostgreSQL stops
        # parsing and planning it on every request. Django turns preparing off by
        # default for PgBouncer in transaction mode before 1.21; set 0 there.
        "server_side_binding": env.bool("DATABASE_SERVER_SIDE_BINDING", default=True),
        "prepare_threshold": env.int("DATABASE_PREPARE_THRESHOLD", default=5) or None,
        # No JIT compilation: it pays off for long analytic queries, not for these
        # short ones. The unread total of a user with 1,000 conversations ran in 3 ms
        # and spent 83 ms compiling, because its estimated cost looked large.
        "options": " ".join(
            [
                DATABASES["default"].get("OPTIONS", {}).get("options", ""),
                "-c jit=" + ("on" if env.bool("DATABASE_JIT", default=False) else "off"),
            ]
        ).strip(),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for the test database too: tests/e2e start a real worker
    # and a real ASGI server in other processes that must see the same rows.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # One file per test run, so two runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, channel layer -------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "meetnow.lib.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            # Keeps two deployments (or two test runs) on one Redis apart.
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=""),
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "meetnow"}
    )
}

# Session tokens of the app (allauth headless) are Django sessions: cached for speed,
# backed by the database so that they survive a cache restart and can be listed and
# revoked at once (logout, ban, deletion).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 30)

# Threads that run HTTP requests in each server process (meetnow/asgi.py). Few: they
# share one GIL, and more threads only add switching (measured by bench/chat.py: 4
# threads x 3 processes sent about 30% more messages per second than 16 x 2); scale
# with processes (uvicorn --workers) instead.
MEETNOW_HTTP_THREADS = env.int("MEETNOW_HTTP_THREADS", default=4)
# How long a thread may hold the GIL while another waits (Python's default: 5 ms). A
# request thread whose database or Redis reply has arrived waits at most this long
# for another thread's Python to yield (bench/chat.py at 32 senders, three runs each:
# p50 58-61 ms at 1 ms, 64-72 ms at 5 ms). Applied by meetnow/asgi.py.
MEETNOW_GIL_SWITCH_INTERVAL_MS = env.float("MEETNOW_GIL_SWITCH_INTERVAL_MS", default=1.0)
# Move the objects alive after setup (Django, the URL conf, the modules: ~175,000) out
# of the cyclic garbage collector's reach (gc.freeze), so that a full collection walks
# only what came later (meetnow.lib.gcfreeze). Off: with thousands of sockets the full
# collections then came more often and were no shorter, and the voice-match tail did
# not improve (docs/dating.md, 2026-12-06). Applied by meetnow/asgi.py.
MEETNOW_GC_FREEZE = env.bool("MEETNOW_GC_FREEZE", default=False)
# The collector's three thresholds (gc.set_threshold) in each server process; empty:
# Python's 700,10,10. The third raised to 1000: a full collection, which stops the
# process's event loop while it walks every tracked object (140-790 ms with thousands
# of sockets), comes after 1,000 middle-generation collections instead of 10, so it
# is rare instead of 1-4 times a minute under load; young collections are unchanged
# and garbage in reference cycles that survives them is freed later. Voice match on
# 2026-12-06 04:04-04:11 UTC, back to back: every phase's p99 under 100 ms with it,
# 290 and 323 ms in two of four without (docs/dating.md). Applied by meetnow/asgi.py.
MEETNOW_GC_THRESHOLDS = [
    int(n) for n in env.list("MEETNOW_GC_THRESHOLDS", default=["700", "10", "1000"])
]

# Redis pub/sub: a group send is one PUBLISH (meetnow.lib.realtime publishes from
# sync code in one round trip); a socket that misses an event catches up by sync.
# Prefix of the channel layer's Redis keys and pub/sub channels: two deployments (or
# a benchmark) sharing one Redis never see each other's groups.
REDIS_PREFIX = env.str("REDIS_PREFIX", default="asgi")
# Threads that run the socket's message sends (database and Redis work), per process.
MEETNOW_WS_SEND_THREADS = env.int("MEETNOW_WS_SEND_THREADS", default=4)
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "meetnow.lib.channel_layer.ResyncingRedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_PREFIX},
        }
        if REDIS_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

# --- Auth -------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# django-allauth: phone + code, no passwords for app users (research/allauth.md).
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email"]  # optional "email" avoids allauth's provider-signup 500
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 300
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND = True
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 300
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 3
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = ALLAUTH_USER_CODE_FORMAT
HEADLESS_ONLY = False  # allauth.mfa's pages and forms serve the staff second factor (docs/admin.md)
HEADLESS_CLIENTS = ("app",)
HEADLESS_SERVE_SPECIFICATION = True  # served only while MEETNOW_API_DOCS is on (meetnow/urls.py)
# The app sends no e-mail: allauth's e-mail and password flows answer 404 (meetnow/urls.py)
# and nothing mails "your password/e-mail changed" notices.
ACCOUNT_EMAIL_NOTIFICATIONS = False
# allauth's own spec page, with Redoc from drf-spectacular-sidecar instead of a CDN.
HEADLESS_SPECIFICATION_TEMPLATE_NAME = "headless/spec/redoc_local.html"
HEADLESS_TOKEN_STRATEGY = "allauth.headless.tokens.strategies.sessions.SessionTokenStrategy"  # noqa: S105
# Client IP behind a proxy: set one of these in production, or every phone shares
# the load balancer's address for rate limits (research/allauth.md, section 3).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("ALLAUTH_TRUSTED_CLIENT_IP_HEADER", default="") or None
SOCIALACCOUNT_ONLY = False

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="CN")
PHONENUMBER_DB_FORMAT = "E164"

# --- API --------------------------------------------------------------------

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "meetnow.lib.authentication.SessionTokenAuthentication",
        # banned / cooling-off accounts: the rights endpoints only (P13, P17)
        "privacy.rights_session.RightsTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "meetnow.lib.throttling.AnonRateThrottle",
        "meetnow.lib.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("MEETNOW_THROTTLE_ANON", default="60/min"),
        "user": env.str("MEETNOW_THROTTLE_USER", default="1200/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "meetnow.lib.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "meetnow.lib.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MeetNow API",
    "DESCRIPTION": (
        "The MeetNow mobile app's API in one document: the REST API under /api/v1/, "
        "allauth's headless authentication API under /_allauth/app/v1/ (sign-up and login "
        "by phone code, social login, sessions; its components are prefixed `Allauth`), "
        "signed file downloads, and the WebSocket /ws/v1/ frames (schemas `WsServerFrame` "
        "and `WsClientFrame`). Every authenticated call takes the X-Session-Token header "
        "that the authentication flows return."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from drf-spectacular-sidecar (pinned), served as static files.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "meetnow.schema.postprocess",  # allauth's API, signed downloads, WebSocket frames
        "meetnow.lib.schema.document_errors",  # the one error shape, per operation
    ],
}
# The OpenAPI schema and Swagger UI (/api/schema/, /api/docs/, /_allauth/openapi.*):
# on in development, off in production unless turned on on purpose.
MEETNOW_API_DOCS = env.bool("MEETNOW_API_DOCS", default=not PRODUCTION)

# --- Celery -----------------------------------------------------------------

CELERY_DIR = Path(env.str("MEETNOW_CELERY_DIR", default=str(VAR_DIR / "celery")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Embedded broker for development: kombu's filesystem transport, no server
    # (research/embedded-broker-coturn.md). Not for production: a killed worker loses
    # the messages it had reserved.
    for _sub in ("queue", "processed", "control"):
        (CELERY_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(CELERY_DIR / "queue"),
        "data_folder_out": str(CELERY_DIR / "queue"),
        "processed_folder": str(CELERY_DIR / "processed"),
        "control_folder": str(CELERY_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport, keeping one client per channel (meetnow/lib/broker.py).
    CELERY_BROKER_TRANSPORT = "meetnow.lib.broker:Transport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Queues are chosen by task name: a task named "media.…" runs on the media queue.
CELERY_QUEUES_ALL = ("sms", "media", "push", "privacy", "default")
CELERY_TASK_ROUTES = {f"{queue}.*": {"queue": queue} for queue in CELERY_QUEUES_ALL}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "sessions-clear-expired": {
        "task": "default.sessions_clear_expired",
        "schedule": crontab(minute=17),
    },
}
# Tasks the broker could not take when sent wait in the database (meetnow.lib.outbox);
# this often they are handed to it again.
MEETNOW_OUTBOX_FLUSH_SECONDS = env.int("MEETNOW_OUTBOX_FLUSH_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["outbox-flush"] = {
    "task": "default.outbox_flush",
    "schedule": float(MEETNOW_OUTBOX_FLUSH_SECONDS),
}

# --- Files ------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/files/"
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
if STORAGE_BACKEND not in {"local", "s3"}:
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
if STORAGE_BACKEND == "s3":
    _default_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default="meetnow"),
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "signature_version": "s3v4",
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
            "querystring_expire": env.int("MEETNOW_SIGNED_URL_TTL", default=300),
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
FILE_UPLOAD_PERMISSIONS = 0o600
# The web client (issue 16, docs/web.md): extra origins its CSP allows for images, audio
# and video besides this one (a CDN in front of the signed file URLs); comma-separated.
MEETNOW_WEB_MEDIA_ORIGINS = env.list("MEETNOW_WEB_MEDIA_ORIGINS", default=[])
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Internationalisation -----------------------------------------------------

# English is the source language; Simplified Chinese beside it (docs/i18n.md). The API
# follows Accept-Language (zh-Hans, zh-CN and zh all mean Simplified Chinese); staff
# pages and everything sent without a request follow the user's ``language``.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# A zh-Hans user's texts use this zone unless the app sent the user's own.
MEETNOW_ZH_HANS_TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
# zh_Hans numbers with thousands grouped (meetnow/formats/zh_Hans/formats.py).
FORMAT_MODULE_PATH = ["meetnow.formats"]

# --- Security (production) ----------------------------------------------------

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "meetnow.lib.errors.csrf_failure"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- MeetNow ------------------------------------------------------------------

MEETNOW_MIN_AGE = env.int("MEETNOW_MIN_AGE", default=18)
# Seconds a social sign-up waiting for date of birth and consent keeps the provider's
# data (uid, nickname, avatar URL) in its session (P1, P3).
MEETNOW_SOCIAL_SIGNUP_TTL = env.int("MEETNOW_SOCIAL_SIGNUP_TTL", default=900)
MEETNOW_ERASURE_GRACE_DAYS = env.int("MEETNOW_ERASURE_GRACE_DAYS", default=15)
MEETNOW_PRIVACY_SLA_DAYS = env.int("MEETNOW_PRIVACY_SLA_DAYS", default=15)
# Support tickets are answered within this many working days (P17; support/).
MEETNOW_SUPPORT_SLA_DAYS = env.int("MEETNOW_SUPPORT_SLA_DAYS", default=5)
MEETNOW_HEALTH_TIMEOUT = env.float("MEETNOW_HEALTH_TIMEOUT", default=2.0)
SMS_BACKEND = env.str("SMS_BACKEND", default="console")
if PRODUCTION and SMS_BACKEND not in {"twilio", "http"}:
    # "console" prints one-time codes to the worker's output (P18).
    raise ImproperlyConfigured("DJANGO_ENV=production needs SMS_BACKEND 'twilio' or 'http'.")
PUSH_BACKEND = env.str("PUSH_BACKEND", default="log")
# The app sends no e-mail. Production drops mail unless a backend is chosen on purpose
# (e.g. EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST...);
# development prints it.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.dummy.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
SESSION_RETENTION = timedelta(days=30)
# Upper layers' conditions that take a user out of accounts' discover (accounts/hooks.py):
# dotted paths of callables (*, viewer_id, user_field) -> Q (dating appends its own).
MEETNOW_DISCOVER_EXCLUSIONS: list[str] = []

# --- Chat (chat/, docs/chat.md) ------------------------------------------------
MEETNOW_GROUP_MAX = env.int("MEETNOW_GROUP_MAX", default=50)
CHAT_TEXT_MAX = env.int("MEETNOW_CHAT_TEXT_MAX", default=4000)
CHAT_EDIT_WINDOW = timedelta(seconds=env.int("MEETNOW_CHAT_EDIT_WINDOW_SECONDS", default=900))
CHAT_RECALL_WINDOW = timedelta(seconds=env.int("MEETNOW_CHAT_RECALL_WINDOW_SECONDS", default=120))
CHAT_SYNC_RETENTION = timedelta(days=env.int("MEETNOW_CHAT_SYNC_RETENTION_DAYS", default=30))
CHAT_SYNC_PAGE_MAX = 500
CHAT_WS_HEARTBEAT = env.float("MEETNOW_CHAT_WS_HEARTBEAT_SECONDS", default=25.0)
CHAT_WS_AUTH_TIMEOUT = env.float("MEETNOW_CHAT_WS_AUTH_TIMEOUT_SECONDS", default=10.0)
CHAT_PRESENCE_TTL = env.int("MEETNOW_CHAT_PRESENCE_TTL_SECONDS", default=60)
# Upper layer's check of a socket's session (privacy's consent gate, P1/P16): a
# callable (*, session, user_id) -> "" or the error code the socket closes with (4004).
MEETNOW_WS_ACCESS_CHECK = "privacy.consents.gate_check_session"
# Upper layer's "who is matched with whom" (dating; chat/hooks.py): message requests and
# group invitations are for people who are not matched.
MEETNOW_CHAT_MATCHED_CHECK = "dating.matching.matched_user_ids"
# Messages a stranger can send into a message request its recipient has not answered.
CHAT_REQUEST_MESSAGES = env.int("MEETNOW_CHAT_REQUEST_MESSAGES", default=3)
# Upper layers' hooks called when a user's socket closed: dotted paths of
# callables (*, user_id) -> None (dating: leave the voice-match queue).
MEETNOW_WS_CLOSED_HOOKS: list[str] = []
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["chat_send"] = env.str(
    "MEETNOW_THROTTLE_CHAT_SEND", default="60/min"
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["chat_report"] = env.str(
    "MEETNOW_THROTTLE_CHAT_REPORT", default="20/hour"
)
# PUSH_BACKEND (above): "log", "fcm", "apns" or "native" (Android via FCM, iOS via APNs).
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")  # service-account JSON
FCM_BASE_URL = env.str("FCM_BASE_URL", default="https://fcm.googleapis.com")
APNS_KEY_FILE = env.str("APNS_KEY_FILE", default="")  # the .p8 token-signing key
APNS_KEY_ID = env.str("APNS_KEY_ID", default="")
APNS_TEAM_ID = env.str("APNS_TEAM_ID", default="")
APNS_TOPIC = env.str("APNS_TOPIC", default="")  # the app's bundle id
APNS_BASE_URL = env.str(
    "APNS_BASE_URL",
    default="https://api.sandbox.push.apple.com"
    if env.bool("APNS_USE_SANDBOX", default=not PRODUCTION)
    else "https://api.push.apple.com",
)
PUSH_TIMEOUT = env.float("MEETNOW_PUSH_TIMEOUT_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE["chat-events-compact"] = {
    "task": "default.chat_events_compact",
    "schedule": crontab(minute=23),
}

# --- Dating (dating/, docs/dating.md) ------------------------------------------
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})["VoicePostStateEnum"] = (  # type: ignore[index]
    "dating.models.PostState"
)
DATING_VOICE_MIN_SECONDS = env.int("MEETNOW_DATING_VOICE_MIN_SECONDS", default=1)
DATING_VOICE_MAX_SECONDS = env.int("MEETNOW_DATING_VOICE_MAX_SECONDS", default=60)
# Likes (or comments) within this many seconds of the last push make no new push.
DATING_PUSH_WINDOW_SECONDS = env.int("MEETNOW_DATING_PUSH_WINDOW_SECONDS", default=600)
DATING_DAILY_LIKES = env.int("MEETNOW_DATING_DAILY_LIKES", default=100)  # likes of people
DATING_PASS_DAYS = env.int("MEETNOW_DATING_PASS_DAYS", default=30)  # a pass hides this long
# Voice match (dating/voicematch.py): a wait in the queue lasts at most this long, an
# anonymous call at most this long (unless both liked), a like is taken until this long
# after the pairing.
DATING_VOICE_MATCH_WAIT_SECONDS = env.int("MEETNOW_DATING_VOICE_MATCH_WAIT_SECONDS", default=60)
DATING_VOICE_MATCH_CALL_SECONDS = env.int("MEETNOW_DATING_VOICE_MATCH_CALL_SECONDS", default=300)
DATING_VOICE_MATCH_LIKE_HOURS = env.int("MEETNOW_DATING_VOICE_MATCH_LIKE_HOURS", default=24)
MEETNOW_WS_CLOSED_HOOKS.append("dating.voicematch.socket_closed")
# Accounts' discover leaves out people I passed on, liked or matched with (accounts/hooks.py).
MEETNOW_DISCOVER_EXCLUSIONS.append("dating.matching.discover_exclusion")
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["dating_post"] = env.str(
    "MEETNOW_THROTTLE_DATING_POST", default="20/day"
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["dating_comment"] = env.str(
    "MEETNOW_THROTTLE_DATING_COMMENT", default="20/min"
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["dating_like"] = env.str(
    "MEETNOW_THROTTLE_DATING_LIKE", default="60/min"
)

# --- Media (media/, docs/media.md) ---------------------------------------------
# What each upload purpose accepts, the per-kind limits (P10/P11/P12), quota, URL TTLs.
MEETNOW_MEDIA_PURPOSE_KINDS: dict[str, tuple[str, ...]] = {
    "avatar": ("image",),
    "voice_intro": ("audio",),
    "chat": ("image", "audio", "video"),
    "support": ("image",),
    "dating_voice": ("audio",),
    "dating_photo": ("image",),
}
MEETNOW_MEDIA_IMAGE_MAX_BYTES = env.int("MEETNOW_MEDIA_IMAGE_MAX_MB", default=20) * 1024 * 1024
MEETNOW_MEDIA_IMAGE_MAX_PIXELS = env.int("MEETNOW_MEDIA_IMAGE_MAX_PIXELS", default=40_000_000)
MEETNOW_MEDIA_IMAGE_MAX_SIDE = env.int("MEETNOW_MEDIA_IMAGE_MAX_SIDE", default=2048)
MEETNOW_MEDIA_AUDIO_MAX_BYTES = env.int("MEETNOW_MEDIA_AUDIO_MAX_MB", default=5) * 1024 * 1024
MEETNOW_MEDIA_AUDIO_MAX_SECONDS = env.int("MEETNOW_MEDIA_AUDIO_MAX_SECONDS", default=120)
MEETNOW_MEDIA_VIDEO_MAX_BYTES = env.int("MEETNOW_MEDIA_VIDEO_MAX_MB", default=50) * 1024 * 1024
MEETNOW_MEDIA_VIDEO_MAX_SECONDS = env.int("MEETNOW_MEDIA_VIDEO_MAX_SECONDS", default=60)
MEETNOW_MEDIA_QUOTA_BYTES = env.int("MEETNOW_MEDIA_QUOTA_MB", default=500) * 1024 * 1024
MEETNOW_MEDIA_URL_TTL = env.int("MEETNOW_SIGNED_URL_TTL", default=300)
MEETNOW_MEDIA_PROFILE_URL_TTL = env.int("MEETNOW_MEDIA_PROFILE_URL_TTL", default=6 * 3600)
# Local storage: "" serves files from Django; "/_protected/" hands them to nginx.
MEETNOW_MEDIA_ACCEL_REDIRECT_PREFIX = env.str("MEETNOW_MEDIA_ACCEL_REDIRECT_PREFIX", default="")
MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT = env.int("MEETNOW_MEDIA_TASK_SOFT_TIME_LIMIT", default=120)
MEETNOW_MEDIA_UNATTACHED_TTL = timedelta(hours=24)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["media_upload"] = env.str(
    "MEETNOW_THROTTLE_MEDIA_UPLOAD", default="60/hour"
)
CELERY_BEAT_SCHEDULE["media-sweep"] = {"task": "media.sweep", "schedule": crontab(minute=41)}
_media_enums: dict[str, str] = SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})  # type: ignore[assignment]
_media_enums["MediaPurposeEnum"] = "media.models.Purpose"
# One enum for every `language` field of the API (docs/i18n.md).
_media_enums["LanguageEnum"] = "meetnow.lib.i18n.LANGUAGE_CODES"

# --- Accounts (accounts/, privacy sign-up consent; docs/accounts.md) --------------
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
HEADLESS_ADAPTER = "accounts.adapter.HeadlessAdapter"  # users by UUID, never the integer id
# Date of birth + accepted policy versions on every sign-up, phone or social (P1, P14).
ACCOUNT_SIGNUP_FORM_CLASS = "privacy.forms.SignupForm"
# RateLimited -> 429, rollback of half-made sign-ups, one error shape on /_allauth/.
MIDDLEWARE += ["accounts.middleware.AllauthApiMiddleware"]
INSTALLED_APPS += [
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.apple",
    "allauth.socialaccount.providers.facebook",
    "accounts.providers.wechat",
]
# Per-IP limits generous enough for carrier-grade NAT; per-number limits stay strict.
ACCOUNT_RATE_LIMITS = {
    "verify_phone": env.str("MEETNOW_RATE_VERIFY_PHONE", default="1/30s/key,10/m/ip"),
    "request_login_code": env.str("MEETNOW_RATE_LOGIN_CODE", default="30/m/ip,3/m/key"),
    # Every code sent to one number, resends included, across flows.
    "sms_to_number": env.str("MEETNOW_RATE_SMS_TO_NUMBER", default="3/m/key,10/h/key"),
}
USERSESSIONS_TRACK_ACTIVITY = False  # last seen comes from device check-ins instead
# Hook: dotted path of ``(*, user_id, device_id) -> None`` called after a login from a
# new device (e.g. enqueue a push to the other devices); empty: security event only.
MEETNOW_NEW_DEVICE_NOTIFIER = env.str(
    "MEETNOW_NEW_DEVICE_NOTIFIER", default="chat.tasks.new_device_notify"
)
SOCIALACCOUNT_QUERY_EMAIL = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False


def _social_apps(variable: str, secret: str = "") -> list[dict[str, Any]]:
    # One app per client id (iOS, Android, web); extra ids are hidden from /config.
    ids = env.list(variable, default=[])
    return [
        {
            "client_id": cid,
            "secret": env.str(secret, default="") if secret else "",
            "key": "",
            "settings": {"hidden": i > 0},
        }
        for i, cid in enumerate(ids)
    ]


SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, Any]] = {
    "google": {
        # The first id is the web client's (its secret: the web client's redirect login).
        "APPS": _social_apps("GOOGLE_CLIENT_IDS", "GOOGLE_CLIENT_SECRET"),
        "CERTS_URL": env.str(
            "GOOGLE_CERTS_URL", default="https://www.googleapis.com/oauth2/v1/certs"
        ),
        # The web client's redirect login (accounts/web_login.py); tests point them at a fake.
        "AUTHORIZE_URL": env.str(
            "GOOGLE_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
        ),
        "ACCESS_TOKEN_URL": env.str(
            "GOOGLE_ACCESS_TOKEN_URL", default="https://oauth2.googleapis.com/token"
        ),
    },
    "apple": {"APPS": _social_apps("APPLE_CLIENT_IDS")},
    "facebook": {"APPS": _social_apps("FACEBOOK_APP_IDS", "FACEBOOK_APP_SECRET")},
    "wechat": {
        "APPS": _social_apps("WECHAT_APP_IDS", "WECHAT_APP_SECRET"),
        "API_BASE": env.str("WECHAT_API_BASE", default="https://api.weixin.qq.com"),
        "TIMEOUT": env.float("WECHAT_TIMEOUT", default=5.0),
    },
}
# Code delivery (accounts/sms): SMS_BACKEND above is console | locmem | twilio | http.
SMS_HTTP_TIMEOUT = env.float("SMS_HTTP_TIMEOUT", default=5.0)
SMS_MAX_RETRIES = env.int("SMS_MAX_RETRIES", default=5)
SMS_RETRY_BACKOFF = env.int("SMS_RETRY_BACKOFF", default=2)  # seconds, doubled per retry
SMS_DELIVERY_MAX_AGE = ACCOUNT_LOGIN_BY_CODE_TIMEOUT  # an older code is not worth sending
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com")
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_TOKEN = env.str("SMS_HTTP_TOKEN", default="")
SMS_HTTP_SIGN = env.str("SMS_HTTP_SIGN", default="MeetNow")
SMS_HTTP_TEMPLATE = env.str("SMS_HTTP_TEMPLATE", default="otp")

# --- Calls (chat/calls/services.py, docs/calls.md) -----------------------------------------
# STUN/TURN servers handed to the app (comma-separated URLs) and the secret shared with
# coturn (use-auth-secret / static-auth-secret): TURN passwords are HMAC-SHA1 of a
# username that carries its own expiry, valid MEETNOW_TURN_TTL seconds. Never static.
MEETNOW_STUN_URLS: list[str] = env.list("MEETNOW_STUN_URLS", default=[])
MEETNOW_TURN_URLS: list[str] = env.list("MEETNOW_TURN_URLS", default=[])
MEETNOW_TURN_SECRET = env.str("MEETNOW_TURN_SECRET", default="")
MEETNOW_TURN_TTL = env.int("MEETNOW_TURN_TTL", default=3600)
# An unanswered call ends as "missed" after this many seconds; a call whose sockets
# are all gone ends after the grace period (longer than one WebSocket heartbeat).
MEETNOW_CALL_RING_TIMEOUT = env.float("MEETNOW_CALL_RING_TIMEOUT_SECONDS", default=45.0)
MEETNOW_CALL_GRACE = env.float("MEETNOW_CALL_GRACE_SECONDS", default=30.0)
# iOS: send incoming calls as PushKit VoIP pushes (the app registers its VoIP token).
MEETNOW_CALL_PUSH_VOIP = env.bool("MEETNOW_CALL_PUSH_VOIP", default=False)

# --- Privacy (privacy/, docs/privacy.md) -----------------------------------------
# Deadline per request kind (P13, P17); MEETNOW_PRIVACY_SLA_DAYS_<KIND> overrides one.
MEETNOW_PRIVACY_SLA_DAYS_BY_KIND: dict[str, int] = {
    kind: env.int(f"MEETNOW_PRIVACY_SLA_DAYS_{kind.upper()}", default=MEETNOW_PRIVACY_SLA_DAYS)
    for kind in ("access", "rectification", "erasure", "consent_withdrawal")
}
# Kinds that go from "pending" to "approved" without staff once identity is confirmed.
MEETNOW_PRIVACY_AUTO_APPROVE: list[str] = env.list(
    "MEETNOW_PRIVACY_AUTO_APPROVE", default=["access", "erasure", "consent_withdrawal"]
)
# How fresh the one-time code (allauth reauthentication) must be to confirm identity.
# Lifetime (seconds) of a restricted rights session of a banned account or one in the
# deletion cooling-off (privacy/rights_session.py).
MEETNOW_RIGHTS_SESSION_TTL = env.int("MEETNOW_RIGHTS_SESSION_TTL", default=3600)
MEETNOW_PRIVACY_IDENTITY_MAX_AGE = env.int("MEETNOW_PRIVACY_IDENTITY_MAX_AGE", default=300)
MEETNOW_PRIVACY_EXPORT_TTL_DAYS = env.int("MEETNOW_PRIVACY_EXPORT_TTL_DAYS", default=7)
MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS = env.int("MEETNOW_PRIVACY_EXPORT_INTERVAL_DAYS", default=7)
MEETNOW_PRIVACY_CHUNK_SIZE = env.int("MEETNOW_PRIVACY_CHUNK_SIZE", default=500)
# A job task works this long, then re-enqueues itself (stays far below the time limit).
MEETNOW_PRIVACY_TASK_BUDGET = env.float("MEETNOW_PRIVACY_TASK_BUDGET_SECONDS", default=20.0)
# A worker that dies loses its claim after this long; the beat task then resumes the job.
MEETNOW_PRIVACY_LEASE_SECONDS = env.int("MEETNOW_PRIVACY_LEASE_SECONDS", default=120)
# Salt of the erasure ledger's hashes: set it in production and never change it.
MEETNOW_ERASURE_LEDGER_SALT = env.str("MEETNOW_ERASURE_LEDGER_SALT", default="") or (
    "ledger:" + SECRET_KEY
)
MEETNOW_STATS_MIN_COUNT = env.int("MEETNOW_STATS_MIN_COUNT", default=5)  # P19 suppression
# Social sign-up: downloading the provider's picture when the user chose it (P3).
MEETNOW_PROVIDER_AVATAR_TIMEOUT = env.float("MEETNOW_PROVIDER_AVATAR_TIMEOUT", default=5.0)
MEETNOW_RETENTION_DAYS: dict[str, int] = {
    name: env.int(f"MEETNOW_RETENTION_{name.upper()}_DAYS", default=days)
    for name, days in {
        "security_events": 365,
        "ip_addresses": 90,
        "sms_deliveries": 30,
        "unverified_requests": 1,
        "devices": 180,
        "sessions": 30,
        "tombstones": 30,
        "closed_requests": 3 * 365,
        "consent_proof": 3 * 365,
        "dating_deleted_posts": 30,
        "dating_listens": 90,
        "dating_voice_match": 30,
        "chat_requests": 90,
        "chat_declined_invitations": 90,
        "identity_failed_attempts": 30,
        "abandoned_signups": 1,
        "reports": 365,
        "support_tickets": 365,
        "staff_audit": 3 * 365,
        "calls": 365,
        "consent_ips": 90,
        # In-app notices (P13, P17): 180 days after being read, a year if never read.
        "notices_read": 180,
        "notices": 365,
    }.items()
}
# Re-consent gate (P16) and cancellation of a pending erasure by logging in (P13).
MIDDLEWARE += ["privacy.middleware.ReconsentGateMiddleware"]
ACCOUNT_ADAPTER = "privacy.adapter.AccountAdapter"  # extends accounts.adapter.AccountAdapter
_enum_names: dict[str, str] = SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})  # type: ignore[assignment]
_enum_names["PrivacyRequestKindEnum"] = "privacy.models.RequestKind"
_enum_names["PrivacyRequestStatusEnum"] = "privacy.models.RequestStatus"
CELERY_BEAT_SCHEDULE["privacy-jobs-due"] = {
    "task": "privacy.jobs_due",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["privacy-exports-expire"] = {
    "task": "privacy.exports_expire",
    "schedule": crontab(minute=11),
}
CELERY_BEAT_SCHEDULE["privacy-retention-purge"] = {
    "task": "privacy.retention_purge",
    "schedule": crontab(hour=3, minute=7),
}

# --- Staff / admin (staff/; docs/admin.md) -----------------------------
# The admin site is staff.site.MeetNowAdminSite: password, then a second
# factor (allauth.mfa TOTP or recovery code) before any page; idle sessions end.
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "staff.apps.StaffAdminConfig"
MIDDLEWARE.insert(
    MIDDLEWARE.index("allauth.account.middleware.AccountMiddleware") + 1,
    "staff.middleware.StaffSessionMiddleware",
)
MEETNOW_STAFF_IDLE_TIMEOUT = env.int("MEETNOW_STAFF_IDLE_TIMEOUT", default=30 * 60)  # seconds
# Second factor before any admin page. Can never be off in production; the test
# suite turns it off for the apps' own admin tests (tests/conftest.py), while
# tests/admin and the browser tests (a real server process) keep it on.
MEETNOW_STAFF_MFA_REQUIRED = env.bool("MEETNOW_STAFF_MFA_REQUIRED", default=True)
if PRODUCTION and not MEETNOW_STAFF_MFA_REQUIRED:
    raise ImproperlyConfigured("MEETNOW_STAFF_MFA_REQUIRED cannot be off in production.")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MEETNOW_MFA_TOTP_ISSUER", default="MeetNow staff")
MFA_TOTP_TOLERANCE = 1  # one 30 s step of clock drift either way (RFC 6238 §5.2)
# TOTP secrets and recovery-code seeds encrypted at rest (Fernet keys; first encrypts).
MFA_ADAPTER = "staff.mfa_adapter.MFAAdapter"
MEETNOW_MFA_ENCRYPTION_KEYS: list[str] = env.list("MEETNOW_MFA_ENCRYPTION_KEYS", default=[])
# Support tickets (support/): opening tickets and follow-ups per user.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["support_ticket"] = env.str(
    "MEETNOW_THROTTLE_SUPPORT_TICKET", default="10/hour"
)
# The public form (no account, issue 19): tickets per IP, and per contact (phone/free text).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["support_public"] = env.str(
    "MEETNOW_THROTTLE_SUPPORT_PUBLIC", default="5/hour"
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["support_public_contact"] = env.str(
    "MEETNOW_THROTTLE_SUPPORT_PUBLIC_CONTACT", default="3/day"
)
# Largest body the public form reads (bytes); a larger one is 413 before parsing.
MEETNOW_SUPPORT_PUBLIC_BODY_MAX = env.int("MEETNOW_SUPPORT_PUBLIC_BODY_MAX", default=16 * 1024)

# --- Identity verification (accounts/identity; docs/identity.md) --------------
# console | tencent | a dotted path to a provider class; empty: verification is off
# (the default in production, which refuses console).
IDENTITY_PROVIDER = env.str("IDENTITY_PROVIDER", default="" if PRODUCTION else "console")
if PRODUCTION and IDENTITY_PROVIDER == "console":
    raise ImproperlyConfigured("DJANGO_ENV=production refuses IDENTITY_PROVIDER=console.")
# Key of the ID numbers' keyed hash: required in production with a provider; never
# change it (a new key makes every stored hash useless for finding a duplicate ID).
IDENTITY_HASH_SECRET = env.str("IDENTITY_HASH_SECRET", default="")
if PRODUCTION and IDENTITY_PROVIDER and not IDENTITY_HASH_SECRET:
    raise ImproperlyConfigured("DJANGO_ENV=production needs IDENTITY_HASH_SECRET.")
IDENTITY_HASH_SECRET = IDENTITY_HASH_SECRET or "identity:" + SECRET_KEY
# Shared secret of the signed result callback; empty: callbacks are refused (polling only).
IDENTITY_CALLBACK_SECRET = env.str("IDENTITY_CALLBACK_SECRET", default="")
IDENTITY_CALLBACK_MAX_SKEW = env.int("IDENTITY_CALLBACK_MAX_SKEW", default=300)  # seconds
IDENTITY_DAILY_ATTEMPTS = env.int("IDENTITY_DAILY_ATTEMPTS", default=3)
IDENTITY_POLL_INTERVAL = env.float("IDENTITY_POLL_INTERVAL", default=10.0)  # seconds
IDENTITY_PENDING_TTL = env.int("IDENTITY_PENDING_TTL", default=30 * 60)  # seconds
IDENTITY_HTTP_TIMEOUT = env.float("IDENTITY_HTTP_TIMEOUT", default=5.0)
IDENTITY_CONSOLE_DELAY = env.float("IDENTITY_CONSOLE_DELAY", default=2.0)  # seconds
IDENTITY_TENCENT_ENDPOINT = env.str(
    "IDENTITY_TENCENT_ENDPOINT", default="https://faceid.tencentcloudapi.com"
)
IDENTITY_TENCENT_SECRET_ID = env.str("IDENTITY_TENCENT_SECRET_ID", default="")
IDENTITY_TENCENT_SECRET_KEY = env.str("IDENTITY_TENCENT_SECRET_KEY", default="")
IDENTITY_TENCENT_RULE_ID = env.str("IDENTITY_TENCENT_RULE_ID", default="")
IDENTITY_TENCENT_REGION = env.str("IDENTITY_TENCENT_REGION", default="")
# Hooks supplied by privacy (accounts/identity/hooks.py).
IDENTITY_CONSENT_CHECK = env.str(
    "IDENTITY_CONSENT_CHECK", default="privacy.identity.identity_consent_given"
)
IDENTITY_MINOR_HANDLER = env.str(
    "IDENTITY_MINOR_HANDLER", default="privacy.identity.identity_minor_erase"
)
# Functions that need a verified account (403 identity_verification_required), e.g.
# "posts,voice_match"; default none (P7: verification is optional).
MEETNOW_VERIFIED_ONLY: list[str] = env.list("MEETNOW_VERIFIED_ONLY", default=[])
CELERY_BEAT_SCHEDULE["identity-sweep"] = {
    "task": "default.identity_sweep",
    "schedule": crontab(minute="*"),
}

# --- Logging ----------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "meetnow.lib.logging.RedactPersonalDataFilter"}},
    "formatters": {
        "readable": {"format": "%(asctime)s %(levelname)-7s %(name)s: %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if PRODUCTION else "readable",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # One line per request comes from meetnow.request (RequestLogMiddleware), 5xx
        # with its traceback; Django's own 4xx warnings ("Unauthorized: /path") and 5xx
        # records would repeat it, with the raw path.
        "django.request": {"level": "CRITICAL"},
        "celery": {"level": LOG_LEVEL},
        # Request lines of outside APIs can carry secrets in query strings (WeChat's
        # app secret and login code): only their warnings are logged.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # uvicorn's own loggers (its access log, if not run with --no-access-log, shows
        # every path) go through the same redacting handler as the app's. uvicorn has
        # set up its loggers before it loads the app: run with --no-access-log it left
        # the access logger without a handler, and it logs requests only if the logger
        # has one, so it keeps none here (a line per request would cost every request).
        "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "uvicorn.access": {
            "handlers": ["console"] if logging.getLogger("uvicorn.access").handlers else [],
            "level": "INFO",
            "propagate": False,
        },
        "uvicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
