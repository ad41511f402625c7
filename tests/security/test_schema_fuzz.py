"""Schema fuzzing of the whole REST API (issue 13): as a user and anonymous.

Every operation of ``/api/schema/`` (the REST API and allauth's headless API) gets
generated requests, valid ones (that fit the schema) and invalid ones (that don't),
through Django's WSGI handler. The bar: no
5xx, and every answer, errors included, matches what the schema documents for its
status (schemathesis' ``not_a_server_error`` and ``response_schema_conformance``).

Operations that end the fuzzing user's own session (logout-like) run each example
as a fresh user, so the rest keeps a working token. ``MEETNOW_FUZZ_EXAMPLES`` sets
the examples per operation and mode (default 6); ``MEETNOW_FUZZ_ONLY`` limits the
run to operations whose label contains it (``MEETNOW_FUZZ_ONLY="GET /api/v1/blocks"``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import User
from tests.factories.chat import make_direct, make_user, send
from tests.helpers import session_token_for

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("MEETNOW_FUZZ_EXAMPLES", "6"))
# Only operations whose label ("GET /api/v1/blocks") contains this (local debugging).
ONLY = os.environ.get("MEETNOW_FUZZ_ONLY", "")
# Operations that end the caller's own session(s) when they succeed.
SESSION_ENDING = {
    "DELETE /api/v1/sessions/{session_pk}",
    "POST /api/v1/sessions/end-others",
    "DELETE /api/v1/devices/{device_pk}",
    "POST /api/v1/privacy/requests",  # an erasure request locks the account
    "DELETE /_allauth/app/v1/auth/session",  # logout
    "DELETE /_allauth/app/v1/auth/sessions",
}
CHECKS = [not_a_server_error, response_schema_conformance]


def _operations(schema: Any) -> Iterator[Any]:
    for result in schema.get_all_operations():
        operation = result.ok()
        if ONLY in operation.label:
            yield operation


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    headers_for: Callable[[], dict[str, str]],
    failures: list[str],
) -> None:
    statuses: list[int] = []

    @seed(1313)
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for cache in caches.all():
            _clear_own(cache)  # no throttle stands between the fuzzer and the code
        headers = headers_for()
        # Negative cases may carry a broken token; the caller's own stands, so invalid
        # bodies and parameters reach the view instead of stopping at the 401.
        case.headers = {**(case.headers or {}), **headers}
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # a crash in the app surfaces here with the WSGI client
            failures.append(f"{operation.label} [{mode}]: {type(exc).__name__}: {exc}")
            return
        statuses.append(response.status_code)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup
            text = str(exc).strip().splitlines()
            failures.append(
                f"{operation.label} [{mode}] -> {response.status_code}: " + " | ".join(text[:12])
            )

    # Unsatisfiable: nothing invalid to send (an operation without input).
    with contextlib.suppress(Unsatisfiable):
        run()
    if os.environ.get("MEETNOW_FUZZ_VERBOSE"):
        print(operation.label, mode, sorted(statuses))  # noqa: T201


def _world() -> tuple[User, dict[str, str]]:
    """A user with a conversation, a message and a partner (objects to hit)."""
    user, partner = make_user("fuzzer"), make_user("partner")
    send(user, make_direct(user, partner))
    return user, {"X-Session-Token": session_token_for(user)}


@pytest.fixture
def schema() -> Any:
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


def _assert_none(failures: list[str]) -> None:
    unique = sorted(set(failures))
    assert not unique, f"{len(unique)} failing cases:\n" + "\n".join(unique[:60])


def _clear_own(cache: Any) -> None:
    """Empty this test's cache namespace only: on a Redis shared by the xdist workers,
    ``clear()`` would flush the neighbours' keys too (their presence, their queues)."""
    from meetnow.lib.cache import SharedPoolRedisCache

    if not isinstance(cache, SharedPoolRedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(None, write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def test_fuzz_as_a_signed_in_user(schema: Any) -> None:
    _, headers = _world()
    failures: list[str] = []
    for operation in _operations(schema):
        if operation.label in SESSION_ENDING:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, lambda: headers, failures)
    _assert_none(failures)


def test_fuzz_session_ending_operations_as_fresh_users(schema: Any) -> None:
    failures: list[str] = []
    for operation in _operations(schema):
        if operation.label not in SESSION_ENDING:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, lambda: _world()[1], failures)
    _assert_none(failures)


def test_fuzz_anonymous(schema: Any) -> None:
    _world()
    failures: list[str] = []
    for operation in _operations(schema):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, dict, failures)
    _assert_none(failures)
