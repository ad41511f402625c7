"""Suite-wide fixtures: uploads to a temp folder, Celery sends recorded (eager on request),
real services under CI."""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.conf import LazySettings
from kombu import pools

from meetnow.celery import app as celery_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _media_root(settings: LazySettings, tmp_path: Path) -> None:
    """Every test writes uploaded files to its own folder (cookiecutter-django's habit)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    storages = dict(settings.STORAGES)
    if storages["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        storages["default"] = {**storages["default"], "OPTIONS": {"location": str(root)}}
        settings.STORAGES = storages


@dataclass(frozen=True)
class SentTask:
    """One task handed to the broker: its registered name and keyword arguments."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class SentTasks(list[SentTask]):
    """The tasks a test enqueued, in order (see ``celery_sent``)."""

    def named(self, name: str) -> list[SentTask]:
        return [task for task in self if task.name == name]


@pytest.fixture(autouse=True)
def celery_sent(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SentTasks]:
    """Unit tests never talk to the real broker: a task enqueued goes to kombu's
    in-memory broker, nothing runs it, and the test sees it in the returned list.

    A test that wants the task to run in-process asks for ``celery_eager`` (then a
    task enqueued on commit runs at once, and is not listed here); tests/e2e use a
    real worker and a broker of their own instead.
    """
    sent = SentTasks()
    if request.node.get_closest_marker("e2e"):
        yield sent
        return

    def record(
        sender: str | None = None,
        body: Any = None,
        headers: dict[str, Any] | None = None,
        **_: Any,
    ) -> None:
        args, kwargs = (body[0], body[1]) if isinstance(body, list | tuple) else ((), {})
        sent.append(SentTask(name=str(sender), args=tuple(args), kwargs=dict(kwargs)))

    _broker_use(monkeypatch, "memory://localhost//")
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    before_task_publish.connect(record, weak=False)
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)
        _reset_broker_pool()


@pytest.fixture
def celery_eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tasks run in-process when they are enqueued (errors propagate to the test)."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", True)


@pytest.fixture
def broker_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real Redis broker that is down: a port on 127.0.0.1 that nothing listens on
    (bound, then closed). Sending a task fails the way it does when the broker is gone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    # Give up after one quick retry instead of the default three.
    monkeypatch.setitem(celery_app.conf, "task_publish_retry_policy", {"max_retries": 1})
    _broker_use(monkeypatch, url)
    yield url
    _reset_broker_pool()


def _broker_use(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Send tasks to ``url`` for this test. Celery reads ``CELERY_BROKER_URL`` (and its
    READ/WRITE variants) from the environment before its own settings, so they go too."""
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_READ_URL", "CELERY_BROKER_WRITE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    _reset_broker_pool()


def _reset_broker_pool() -> None:
    """Drop pooled broker connections so the next send uses the current broker URL."""
    pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """tests/e2e share one broker and channel layer: never two at a time.

    ``make test`` runs them in a process of their own; if they are ever run under
    xdist, the group keeps them on one worker (``tryfirst``: xdist's own hook reads
    the ``xdist_group`` marker to schedule).
    """
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


def require_or_skip(available: bool, reason: str) -> None:
    """Skip outside CI when a system tool is missing; under CI a missing tool fails."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _staff_second_factor_off(settings: LazySettings) -> None:
    """The apps' admin tests sign staff in with ``force_login``; the second factor
    itself is tested in tests/admin (whose conftest turns it back on) and by the
    browser tests against a real server process, where it is always on."""
    settings.MEETNOW_STAFF_MFA_REQUIRED = False


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings: LazySettings, request: pytest.FixtureRequest) -> None:
    """Each test gets its own channel-layer prefix under a shared Redis (CI).

    The xdist workers' test databases hand out the same user ids, so per-user groups
    would otherwise cross between tests. e2e tests keep the default prefix: their
    ASGI server process must share groups with the test process.
    """
    import uuid

    if request.node.get_closest_marker("e2e"):
        return
    layers = {}
    for name, conf in settings.CHANNEL_LAYERS.items():
        if "Redis" in conf["BACKEND"]:
            conf = {**conf, "CONFIG": {**conf.get("CONFIG", {}), "prefix": uuid.uuid4().hex}}
        layers[name] = conf
    settings.CHANNEL_LAYERS = layers


@pytest.fixture(autouse=True)
def _isolated_cache(settings: LazySettings) -> None:
    """Each test gets its own cache namespace (throttles, sessions, presence).

    Under CI the cache is a Redis shared by the xdist workers, so clearing it would
    hit the neighbours' tests; a fresh key prefix isolates without clearing.
    """
    import uuid

    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    for conf in caches.values():
        conf["KEY_PREFIX"] = f"t{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


# --- No phone number or one-time code in any log output (P18; docs/accounts.md) ---------


class _SecretsInLogs(logging.Handler):
    """Keeps the text of every log record of the run, before any redaction filter runs."""

    PHONE = re.compile(r"\+\d{10,15}(?!\d)|(?<![\w.+-])1[3-9]\d{9}(?![\w.-])")

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []
        self.secrets: set[str] = set()  # codes (and numbers) the tests sent

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + repr(record.exc_info[1])
        self.texts.append(text)

    def leaks(self) -> list[str]:
        # A code counts as a whole number, not as digits inside another one (a task's
        # run time "0.0146657119..." once contained a code a test sent).
        return [
            text[:200]
            for text in self.texts
            if self.PHONE.search(text)
            or any(
                re.search(rf"(?<!\d){re.escape(s)}(?!\d)", text)
                for s in self.secrets
                if len(s) >= 4
            )
        ]


@pytest.fixture(scope="session", autouse=True)
def log_secrets() -> Iterator[set[str]]:
    """Fails the run if any log record carried a phone number or a code a test sent.

    Tests add the codes they send to the returned set (see tests/accounts/conftest.py).
    The handler sits first on the root logger so it sees records before any filter.
    """
    handler = _SecretsInLogs()
    root = logging.getLogger()
    root.handlers.insert(0, handler)
    yield handler.secrets
    root.removeHandler(handler)
    leaks = handler.leaks()
    if leaks:
        pytest.fail("Phone numbers or codes in log output:\n" + "\n".join(leaks[:20]))
