import logging

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        # httpx logs every request URL at INFO, and WeChat's API carries the app secret
        # and the login code in the query string (P18). LOGGING may still lower it.
        for name in ("httpx", "httpcore"):
            logger = logging.getLogger(name)
            if logger.level in (logging.NOTSET, logging.DEBUG, logging.INFO):
                logger.setLevel(logging.WARNING)
