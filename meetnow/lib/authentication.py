"""DRF authentication with the app's allauth session token (``X-Session-Token``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from allauth.core.internal.sessionkit import get_session_user
from allauth.headless.adapter import get_adapter
from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication
from allauth.headless.internal.sessionkit import lookup_session, session_store
from allauth.usersessions.internal import usersessionkit
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore
from django.core.cache import DEFAULT_CACHE_ALIAS, cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import AuthenticationFailed

from meetnow.lib.i18n import user_time_zone
from meetnow.lib.querytemplate import QueryTemplate

_MEMO = "_meetnow_token_session"


def token_session(request: HttpRequest, token: str) -> SessionBase | None:
    """The live session behind an app token, or ``None``; looked up once per request
    (the re-consent gate and DRF authentication both need it)."""
    return token_session_with(request, token, ())[0]


def token_session_with(
    request: HttpRequest, token: str, keys: tuple[str, ...]
) -> tuple[SessionBase | None, dict[str, Any]]:
    """:func:`token_session`, and the values of the cache entries ``keys`` (those
    found), read in the same Redis round trip as the session (one ``MGET``) when this
    call is the one that reads the session; otherwise they are read now. Every call
    reads ``keys`` afresh: nothing but the session is kept on the request."""
    memo: tuple[str, SessionBase | None] | None = request.__dict__.get(_MEMO)
    if memo is not None and memo[0] == token:
        return memo[1], (cache.get_many(keys) if keys else {})
    session, values = _session_read(token, keys)
    setattr(request, _MEMO, (token, session))
    return session, values


def token_session_lookup(token: str) -> SessionBase | None:
    """The live session behind an app token, or ``None``, outside a request (the app
    socket's checks): :func:`token_session`'s lookup, one Redis round trip when the
    session is cached."""
    return _session_read(token, ())[0]


def _session_read(token: str, keys: tuple[str, ...]) -> tuple[SessionBase | None, dict[str, Any]]:
    """allauth's ``lookup_session`` (a cached-db session: its cache entry, else its
    row), with ``keys`` read in the same ``MGET`` as the session's cache entry. A
    session found in the cache is the one ``SessionStore.load`` would return; any
    other case (no cache hit, another engine, cache or ``load``, a key the store
    refuses, a cache error) goes to allauth's own lookup."""
    store = session_store(token)
    if (
        store.session_key is None
        or not isinstance(store, CachedDbSessionStore)
        or type(store).load is not CachedDbSessionStore.load
        or settings.SESSION_CACHE_ALIAS != DEFAULT_CACHE_ALIAS
    ):
        return lookup_session(token), (cache.get_many(keys) if keys else {})
    session_cache_key = store.cache_key
    try:
        found = cache.get_many([session_cache_key, *keys])
    except Exception:  # as SessionStore.load: a cache error reads the row instead
        return lookup_session(token), (cache.get_many(keys) if keys else {})
    data = found.pop(session_cache_key, None)
    if data is None:
        return lookup_session(token), found
    loaded: Any = store  # Django's private attribute is not in the type stubs
    loaded._session_cache = data  # what SessionStore.load answers for a cache hit
    return store, found


_USER_PK = -7_400_000_001  # the placeholder the user query is compiled with


@lru_cache(maxsize=2)
def _user_template(alias: str) -> tuple[QueryTemplate, tuple[str, ...]]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    names = tuple(f.attname for f in user_model._meta.concrete_fields)
    users = user_model._default_manager.using(alias).filter(pk=_USER_PK).values(*names)
    return QueryTemplate.build(users, {"pk": _USER_PK}), names


def _user_by_pk(user_id: Any) -> Any:
    """``ModelBackend.get_user``'s query (the user row by primary key, every field)
    from SQL compiled once per process: the same model instance, without building
    and compiling a queryset on every request."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    template, names = _user_template("default")
    rows = template.rows(pk=user_id)
    if not rows:
        return None
    row = rows[0]
    return user_model.from_db("default", list(names), [row[name] for name in names])


def session_user(session: SessionBase) -> Any:
    """The active user the session is logged in as, or ``None``: what allauth's
    ``get_session_user`` (Django's ``get_user``) answers. The usual case, a session of
    a model backend whose hash verifies with the current secret, is answered here
    with the user loaded by compiled SQL (:func:`_user_by_pk`); anything else (no
    user in the session, another backend, a hash to verify against a fallback secret
    or a session to flush) goes to Django's own code."""
    try:
        user_id = session[SESSION_KEY]
        backend_path = session[BACKEND_SESSION_KEY]
        session_hash = session[HASH_SESSION_KEY]
    except KeyError:
        return get_session_user(session)
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return get_session_user(session)
    backend = load_backend(backend_path)
    if not isinstance(backend, ModelBackend) or type(backend).get_user is not ModelBackend.get_user:
        return get_session_user(session)
    if not isinstance(user_id, str) or not user_id.isdigit():
        return get_session_user(session)
    user = _user_by_pk(int(user_id))
    if user is None or not backend.user_can_authenticate(user):
        return None
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        return get_session_user(session)  # fallback secrets, or the session is flushed
    return user


class SessionTokenAuthentication(XSessionTokenAuthentication):  # type: ignore[misc]  # allauth ships no types
    """The token from allauth's headless flows, as used by the REST API.

    A missing token leaves the request anonymous (the permission then answers 401);
    a bad, expired or revoked token is refused with 401 ``invalid_token`` rather than
    being treated as anonymous (which would give a 403).
    """

    allow_anonymous_users = False
    allow_invalid_session_tokens = False

    def authenticate(self, request: Any) -> tuple[Any, SessionBase] | None:
        # allauth's own method, with the session lookup shared with the gate.
        token = self.get_session_token(request)
        if not token:
            return None
        http_request: HttpRequest = getattr(request, "_request", request)
        session = token_session(http_request, token)
        if session is None:
            raise AuthenticationFailed(get_adapter().error_messages["invalid_token"])
        user = session_user(session)
        if user is None:
            raise AuthenticationFailed()
        usersessionkit.track_activity(http_request, user=user, session=session)
        # Dates and times for people in this answer are in the user's zone
        # (meetnow.lib.i18n.display); StaffLanguageMiddleware resets it afterwards.
        timezone.activate(user_time_zone(user))
        return user, session


class SessionTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token header in the OpenAPI schema (``/api/schema/``)."""

    target_class = SessionTokenAuthentication
    name = "SessionToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "X-Session-Token"}
