"""Log records never carry phone numbers or one-time codes (P18)."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest
from django.conf import settings
from django.test import Client

from meetnow.lib.logging import RedactPersonalDataFilter, redact


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("sending to +8613800138000 now", "13800138000"),
        ("sending to +1 415 555 0100", "555 0100"),
        ("national 13800138000 number", "13800138000"),
        ("login code 482913 sent", "482913"),
        ('payload {"code": "482913"}', "482913"),
        ("otp=004211", "004211"),
    ],
)
def test_redact_removes_numbers_and_codes(text: str, leak: str) -> None:
    assert leak not in redact(text)


def test_redact_keeps_ordinary_numbers() -> None:
    assert redact("processed 25 rows in 130 ms, port 8000") == (
        "processed 25 rows in 130 ms, port 8000"
    )


@pytest.mark.parametrize(
    "text",
    [
        # A Celery task id whose last group is all digits (used to become "…-bfb0-[phone]").
        "Task media.process[3f2c1a9e-8b7d-4c1e-bfb0-123456789012] succeeded in 0.2s",
        "user 12345678-1234-1234-1234-123456789012 signed in",
        "fragment bfb0-123456789012 of an id",
        "key 550e8400e29b41d4a716446655440000",
        "took 1234567890.5 s",
    ],
)
def test_redact_keeps_uuids_task_ids_and_decimals(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sent to 13800138000.", "sent to [phone]."),
        ("to +86 138 0013 8000 and 13900139000", "to [phone] and [phone]"),
        ("task 3f2c1a9e-8b7d-4c1e-bfb0-123456789012 for 13800138000", None),
    ],
)
def test_redact_finds_numbers_next_to_punctuation_and_ids(text: str, expected: str | None) -> None:
    redacted = redact(text)
    if expected is not None:
        assert redacted == expected
    assert "13800138000" not in redacted
    assert "3f2c1a9e-8b7d-4c1e-bfb0-123456789012" in redacted or "task" not in text


def _request_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "meetnow.request"]


@pytest.mark.django_db
@pytest.mark.urls("tests.meetnow.urls")
def test_each_request_logs_one_line_with_its_route_not_its_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client()
    client.post("/echo?token=secret-in-query", data={"name": "Al"}, content_type="application/json")
    client.get("/private")  # 401
    client.get("/no/such/route/13800138000")  # 404
    lines = [r.getMessage() for r in _request_lines(caplog)]
    assert len(lines) == 3, lines
    assert lines[0].startswith("POST /echo 201 ")
    assert lines[1].startswith("GET /private 401 ")
    assert lines[2].startswith("GET (no route) 404 ")
    assert all(r.levelno == logging.INFO for r in _request_lines(caplog))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "secret-in-query" not in caplog.text
    assert "13800138000" not in caplog.text


@pytest.mark.django_db
@pytest.mark.urls("tests.meetnow.urls")
def test_a_server_error_is_one_error_line_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    response = Client(raise_request_exception=False).get("/boom/capability-token")
    assert response.status_code == 500
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in problems]
    (line,) = problems
    assert line.name == "meetnow.request"
    assert line.levelno == logging.ERROR
    assert line.getMessage().startswith("GET /boom/<str:secret> 500 ")
    assert line.exc_info is not None
    assert "RuntimeError" in caplog.text
    assert "capability-token" not in caplog.text


def test_filter_masks_arguments_and_exception_text() -> None:
    record = logging.LogRecord(
        "meetnow", logging.INFO, __file__, 1, "code %s for %s", ("123456", "+8613800138000"), None
    )
    try:
        raise ValueError("bad number +8613800138000")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    RedactPersonalDataFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "123456" not in formatted
    assert "13800138000" not in formatted
    assert "[phone]" in formatted


def test_production_logs_are_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    config = json.loads(json.dumps(settings.LOGGING))
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = "ext://sys.stderr"
    logging.config.dictConfig(config)
    try:
        logging.getLogger("meetnow.test").warning("user %s logged in", "+8613800138000")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["level"] == "WARNING"
        assert record["logger"] == "meetnow.test"
        assert record["message"] == "user [phone] logged in"
    finally:
        logging.config.dictConfig(settings.LOGGING)
