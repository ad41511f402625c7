"""Log records never carry phone numbers or one-time codes (P18)."""

from __future__ import annotations

import json
import logging
import logging.config

import pytest
from django.conf import settings

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


def test_production_logs_are_json_lines(capsys) -> None:
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
