"""Middleware that keeps the API's promise of one JSON error shape."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse

from meetnow.lib.errors import json_error

# Pages for people in a browser (staff); everything else is API and answers JSON.
HTML_PREFIXES = ("/admin/", "/accounts/", "/api/docs/", "/static/")


class JsonErrorShapeMiddleware:
    """Turn any non-JSON 4xx/5xx answer outside the staff pages into the single error shape.

    Django answers some errors before a view runs (unknown route, with the HTML
    debug page in development; request too large; CSRF), and those never reach
    DRF's exception handler.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and not request.path.startswith(HTML_PREFIXES)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            status = response.status_code
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            code = phrase.lower().replace(" ", "_").replace("-", "_")
            if status == 404:
                code = "not_found"
            elif status == 405:
                code = "method_not_allowed"
            new = json_error(status, code, f"{phrase}.")
            if "Allow" in response:
                new["Allow"] = response["Allow"]
            return new
        return response
