"""The suite-wide log check (tests/conftest.py) really catches numbers and codes (P18)."""

from __future__ import annotations

import logging

from tests.conftest import _SecretsInLogs


def test_the_log_check_catches_numbers_and_codes() -> None:
    handler = _SecretsInLogs()
    handler.secrets.add("482913")
    logger = logging.getLogger("meetnow.test.logcheck")
    logger.addHandler(handler)
    logger.propagate = False  # these leaks are on purpose: keep them from the real check
    try:
        logger.warning("delivery %s queued", 17)
        logger.warning("user 42 logged in from 10.0.0.1 at 1732849512345")
        assert handler.leaks() == []
        logger.warning("sent code to %s", "+8613800138000")
        logger.warning("national form 13800138000 too")
        logger.warning("the code was %s", "482913")
        assert len(handler.leaks()) == 3
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
