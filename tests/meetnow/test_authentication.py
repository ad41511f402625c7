"""The token's user: loaded from SQL compiled once, with every check of Django's
``get_user`` (active account, session hash, fallback secrets, backend)."""

from __future__ import annotations

import pytest
from allauth.core.internal.sessionkit import get_session_user
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from meetnow.lib.authentication import session_user
from tests.factories.chat import make_user
from tests.helpers import api_client_for, session_token_for

pytestmark = pytest.mark.django_db


def _session(user: User) -> SessionStore:
    return SessionStore(session_key=session_token_for(user))


def test_the_user_is_the_one_django_loads() -> None:
    user = make_user("ann")
    User.objects.filter(pk=user.pk).update(
        time_zone="Asia/Shanghai", bio="hi", phone="+8613800138000", date_of_birth="1990-02-03"
    )
    fast, slow = session_user(_session(user)), get_session_user(_session(user))
    assert fast is not None
    assert slow is not None
    assert type(fast) is type(slow)
    assert fast._state.adding is False
    assert fast._state.db == "default"
    for field in User._meta.concrete_fields:
        mine, djangos = getattr(fast, field.attname), getattr(slow, field.attname)
        assert mine == djangos, field.name
        assert type(mine) is type(djangos), field.name


def test_one_query_for_the_user() -> None:
    user = make_user("ann")
    session = _session(user)
    session.load()
    with CaptureQueriesContext(connection) as ctx:
        assert session_user(session) == user
    assert len(ctx.captured_queries) == 1


def test_an_inactive_or_deleted_account_has_no_user() -> None:
    user, gone = make_user("ann"), make_user("bob")
    session, gone_session = _session(user), _session(gone)
    User.objects.filter(pk=user.pk).update(is_active=False)
    gone.delete()
    assert session_user(session) is None
    assert session_user(gone_session) is None


def test_a_changed_password_ends_the_session() -> None:
    user = make_user("ann")
    session = _session(user)
    key = str(session.session_key)
    user.set_password("a new password 123")
    user.save()
    assert session_user(session) is None
    assert session.session_key is None  # flushed, as Django does
    assert not SessionStore().exists(key)


def test_a_session_signed_with_a_fallback_secret_still_works() -> None:
    user = make_user("ann")
    with override_settings(SECRET_KEY="an-older-secret-key-" * 3):
        session = _session(user)
        old_hash = session[HASH_SESSION_KEY]
    with override_settings(SECRET_KEY_FALLBACKS=["an-older-secret-key-" * 3]):
        assert session_user(session) == user
        assert session[HASH_SESSION_KEY] != old_hash  # re-signed with the current secret


def test_sessions_without_a_user_or_of_an_unknown_backend_have_no_user() -> None:
    user = make_user("ann")
    empty = SessionStore()
    empty.create()
    assert session_user(empty) is None
    session = _session(user)
    session[BACKEND_SESSION_KEY] = "some.removed.Backend"
    assert session_user(session) is None
    session = _session(user)
    del session[SESSION_KEY]
    assert session_user(session) is None


def test_the_api_refuses_a_deactivated_account_at_once() -> None:
    user = make_user("ann")
    api = api_client_for(user)
    assert api.get("/api/v1/me").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    answer = api.get("/api/v1/me")
    assert answer.status_code == 401
