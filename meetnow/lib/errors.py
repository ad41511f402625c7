"""One error shape for every API answer, auth (allauth headless) and REST alike.

``{"status": 400, "errors": [{"code": "...", "message": "...", "param": "..."}]}``

Domain code raises :class:`ApplicationError` with a code the app can act on; one
DRF exception handler turns it, and every DRF/Django exception, into the shape.
The ``message`` is for people, in the request's language (gettext); the ``code``
never changes with the language.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as StrPromise
else:
    StrPromise = str

logger = logging.getLogger(__name__)
SERVICE_UNAVAILABLE = gettext_lazy("The service is briefly unavailable; try again.")


class ApplicationError(Exception):
    """A domain error with a machine-readable code, answered as a 4xx."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        code: str,
        message: str | StrPromise,
        *,
        param: str | None = None,
        status_code: int | None = None,
    ) -> None:
        # A lazy message becomes text here, in the language active where it is raised.
        self.message = str(message)
        super().__init__(self.message)
        self.code = code
        self.param = param
        if status_code is not None:
            self.status_code = status_code


NOT_FOUND = gettext_lazy("Not found.")


class NotFoundError(ApplicationError):
    status_code: int = status.HTTP_404_NOT_FOUND

    def __init__(self, message: str | StrPromise = NOT_FOUND) -> None:
        super().__init__("not_found", message)


def error_body(status_code: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": status_code, "errors": errors}


def error(code: str, message: str | StrPromise, param: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"code": code, "message": str(message)}
    if param is not None:
        item["param"] = param
    return item


def _flatten(detail: Any, param: str | None = None) -> list[dict[str, Any]]:
    """Flatten DRF's nested error details into a list with dotted ``param`` paths."""
    if isinstance(detail, dict):
        out: list[dict[str, Any]] = []
        for key, value in detail.items():
            child = param if key == "non_field_errors" else f"{param}.{key}" if param else str(key)
            out.extend(_flatten(value, child))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            out.extend(_flatten(value, f"{param}.{index}" if nested and param else param))
        return out
    code = getattr(detail, "code", None) or "invalid"
    return [error(str(code), str(detail), param)]


_CODE_BY_EXCEPTION: dict[type[Exception], str] = {
    exceptions.ParseError: "invalid_json",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "invalid_token",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.Throttled: "rate_limited",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: every handled error in the single shape."""
    if isinstance(exc, ApplicationError):
        body = error_body(exc.status_code, [error(exc.code, exc.message, exc.param)])
        return Response(body, status=exc.status_code)
    if is_unavailable(exc):
        # The database or Redis (sessions' cache, throttles) is unreachable (restarting,
        # failing over): the app retries later.
        logger.warning("database or Redis unavailable: %s", type(exc).__name__)
        body = error_body(503, [error("service_unavailable", SERVICE_UNAVAILABLE)])
        return Response(body, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
    else:
        code = next(
            (c for cls, c in _CODE_BY_EXCEPTION.items() if isinstance(exc, cls)),
            exc.default_code,
        )
        errors = [error(code, str(exc.detail))]
    response.data = error_body(response.status_code, errors)
    return response


def json_error(status_code: int, code: str, message: str | StrPromise) -> JsonResponse:
    return JsonResponse(error_body(status_code, [error(code, message)]), status=status_code)


# Django-level handlers (urls.py): errors raised outside DRF views, e.g. unknown routes.


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error(400, "bad_request", _("The request could not be understood."))


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error(403, "permission_denied", _("You do not have permission to do this."))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return json_error(404, "not_found", _("Not found."))


def is_unavailable(exc: BaseException | None) -> bool:
    """The database, Redis or the task broker could not be reached: a 503 the app
    retries, not a 500. (A task that must not wait for the broker goes through
    ``meetnow.lib.outbox.task_send`` instead and never gets here; the SMS code does, on
    purpose: it expires in minutes, so the app asks again.)"""
    return isinstance(
        exc, OperationalError | RedisConnectionError | RedisTimeoutError | BrokerUnavailable
    )


def service_unavailable() -> HttpResponse:
    response = json_error(503, "service_unavailable", SERVICE_UNAVAILABLE)
    response["Retry-After"] = "5"
    return response


def handler500(request: HttpRequest) -> HttpResponse:
    return json_error(500, "server_error", _("Something went wrong on our side."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return json_error(403, "csrf_failed", _("CSRF verification failed."))
