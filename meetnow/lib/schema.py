"""OpenAPI (drf-spectacular) in one place: pages of a list, and the error answers.

:func:`page_of` documents what :class:`meetnow.lib.pagination.CursorPagination`
answers. :func:`document_errors` (a ``POSTPROCESSING_HOOKS`` entry) adds the one error
shape to every operation, for the statuses it can answer: so a client generator,
and the schema fuzzing in tests/security, know every 4xx body; and it drops the
operations that answer 404 because meetnow/urls.py turned them off (allauth's e-mail
and password flows).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from meetnow.lib.routing import switched_off

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The one error shape of the API (and of allauth's headless API).",
    "properties": {
        "status": {"type": "integer", "example": 400},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "example": "invalid"},
                    "message": {"type": "string"},
                    "param": {"type": "string"},
                },
                "required": ["code", "message"],
            },
        },
    },
    "required": ["status", "errors"],
}

_DESCRIPTIONS = {
    "400": "Bad input (fields, query parameters, cursor, JSON).",
    "401": "No session token, or one that is unknown, expired or revoked.",
    "403": "Not allowed (e.g. the current privacy policy must be accepted first).",
    "404": "No such object, or not one this user may see.",
    "409": "The object is not in a state that allows this.",
    "429": "Rate limited: wait and try again.",
}
_WRITES = {"post", "put", "patch", "delete"}


def page_of(
    item: type[serializers.Serializer[Any]], name: str
) -> type[serializers.Serializer[Any]]:
    """The serializer of one cursor page of ``item`` (``next``, ``previous``, ``results``)."""
    meta = type("Meta", (), {"ref_name": name})
    return type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            "next": serializers.CharField(allow_null=True),
            "previous": serializers.CharField(allow_null=True),
            "results": item(many=True),
            "Meta": meta,
        },
    )


ALLAUTH_UNAUTHENTICATED = "#/components/responses/AllauthAuthentication"


def _authenticated(operation: dict[str, Any], default: list[dict[str, Any]]) -> bool:
    security = operation.get("security", default)
    return any(requirement for requirement in security)


def document_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the error answers of every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorResponse", ERROR_SCHEMA)
    reference = {"$ref": "#/components/schemas/ErrorResponse"}
    default_security = result.get("security", [])
    paths = result.get("paths", {})
    for path in [p for p in paths if switched_off(p)]:
        del paths[path]  # allauth's flows this app turned off (meetnow/urls.py): 404
    for path, methods in paths.items():
        for method, operation in methods.items():
            if method not in _WRITES | {"get", "head"}:
                continue
            responses = operation.setdefault("responses", {})
            if any(code.startswith("4") for code in responses):
                continue  # documented by hand (allauth's API, signed downloads)
            statuses = ["400", "429"]
            if _authenticated(operation, default_security):
                statuses += ["401", "403"]
            if "{" in path or method in _WRITES:
                statuses.append("404")
            if method in _WRITES:
                statuses.append("409")
            for status in statuses:
                if status == "401" and path.startswith("/_allauth/"):
                    # allauth answers a caller without a session with its own 401
                    # (the flows a client may start), not the error shape.
                    responses.setdefault(status, {"$ref": ALLAUTH_UNAUTHENTICATED})
                    continue
                responses.setdefault(
                    status,
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
