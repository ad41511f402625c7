"""One OpenAPI document for the whole app (``/api/schema/``, docs at ``/api/docs/``).

drf-spectacular describes the REST API; this post-processing hook adds what it cannot
see: allauth's headless API (``/_allauth/app/v1/…``: sign-up, login by code, social
login, sessions), the signed file download (a plain Django view), and the frames of the
WebSocket ``/ws/v1/`` (``chat.ws_frames``). allauth's components are renamed with an
``Allauth`` prefix (both sides have a ``Session``); its ``SessionToken`` scheme is the
same header as ours and is kept once.
"""

from __future__ import annotations

import copy
import re
from typing import Any

ALLAUTH_PREFIX = "Allauth"
_ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _renamed(node: Any, names: dict[str, set[str]]) -> Any:
    """``node`` with every ``#/components/<section>/<Name>`` ref of allauth prefixed."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/"):
                _, _, section, name = value.split("/", 3)
                if name in names.get(section, set()):
                    value = f"#/components/{section}/{ALLAUTH_PREFIX}{name}"
            out[key] = _renamed(value, names)
        return out
    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    return node


def _merge_allauth(result: dict[str, Any]) -> None:
    from allauth.headless.spec.internal.schema import get_schema

    spec = copy.deepcopy(get_schema())
    components = spec.get("components", {})
    ours = result.setdefault("components", {})
    schemes = components.pop("securitySchemes", {})
    for name, scheme in schemes.items():
        existing = ours.setdefault("securitySchemes", {}).get(name)
        if existing is not None and existing.get("name") != scheme.get("name"):
            raise ValueError(f"allauth's security scheme {name!r} differs from ours")
        ours["securitySchemes"].setdefault(name, scheme)
    names = {section: set(items) for section, items in components.items()}
    for section, items in _renamed(components, names).items():
        target = ours.setdefault(section, {})
        for name, item in items.items():
            target[ALLAUTH_PREFIX + name] = item
    for path, item in _renamed(spec["paths"], names).items():
        if path in result["paths"]:
            raise ValueError(f"{path} is described twice")
        slug = re.sub(r"[^a-z0-9]+", "_", path.split("/v1/", 1)[-1].lower()).strip("_")
        for method, operation in item.items():
            if isinstance(operation, dict) and method in HTTP_METHODS:
                operation.setdefault("operationId", f"allauth_{slug}_{method}")
        result["paths"][path] = item
    tags = result.setdefault("tags", [])
    known = {tag["name"] for tag in tags}
    tags.extend(tag for tag in spec.get("tags", []) if tag["name"] not in known)


def _media_download() -> dict[str, Any]:
    def error(codes: str) -> dict[str, Any]:
        return {
            "description": codes,
            "content": {"application/json": {"schema": _ERROR}},
        }

    return {
        "get": {
            "operationId": "media_download",
            "tags": ["media"],
            "summary": "Download one copy of a file through a signed link",
            "description": (
                "The links in a file's `urls` (and in chat attachments and profiles) "
                "with local storage; with S3 they are presigned S3 URLs instead. No "
                "session needed: the token is the capability, minted after a permission "
                "check, and expires after MEETNOW_SIGNED_URL_TTL seconds (300). "
                "`Cache-Control: private, max-age` never exceeds the seconds left."
            ),
            "security": [],
            "parameters": [
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "Signed token naming the file, the copy and the expiry.",
                }
            ],
            "responses": {
                "200": {
                    "description": "The file's bytes (re-encoded image, remuxed audio/video).",
                    "headers": {
                        "Cache-Control": {"schema": {"type": "string"}},
                        "Content-Disposition": {"schema": {"type": "string"}},
                    },
                    "content": {
                        mime: {"schema": {"type": "string", "format": "binary"}}
                        for mime in ("image/jpeg", "image/png", "audio/*", "video/*")
                    },
                },
                "403": error("`invalid_signature` (altered or foreign token), `url_expired`."),
                "404": error("`not_found`: the file was deleted, taken down or is not ready."),
            },
        }
    }


def _error_response_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The one error shape of the REST API.",
        "properties": {
            "status": {"type": "integer"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "param": {"type": "string", "nullable": True},
                    },
                    # "param" only where one input is at fault (meetnow.lib.errors.error).
                    "required": ["code", "message"],
                },
            },
        },
        "required": ["status", "errors"],
    }


# allauth's operations whose 401 is sent to an anonymous caller as well as to a
# signed-in one who must re-authenticate: its spec documents only the second.
_AUTH_OR_REAUTH_401 = {
    ("/_allauth/app/v1/account/authenticators/totp", "post"),
    ("/_allauth/app/v1/account/authenticators/totp", "delete"),
    ("/_allauth/app/v1/account/authenticators/recovery-codes", "get"),
    ("/_allauth/app/v1/account/authenticators/recovery-codes", "post"),
}


def _allauth_as_served(result: dict[str, Any]) -> None:
    """Where allauth's spec and allauth's answers disagree, document the answers
    (issue 13: the fuzzing holds every operation to its schema, allauth's included).

    - ``GET /config``: this app logs in by phone code only, so allauth sends
      ``"phone"`` among ``login_methods`` and no ``authentication_method`` (a setting
      of e-mail/username login).
    - Anonymous calls to the authenticator endpoints get the plain "not authenticated"
      401, not the "reauthenticate" one (``AllauthAuthenticationOrReauthentication``).
    """
    schemas = result["components"]["schemas"]
    account = schemas.get("AllauthAccountConfiguration")
    if account is not None:
        account["required"] = [r for r in account["required"] if r != "authentication_method"]
        methods = account["properties"]["login_methods"]["items"]
        methods["enum"] = [*methods["enum"], "phone"]
    for path, method in _AUTH_OR_REAUTH_401:
        operation = result["paths"].get(path, {}).get(method)
        if operation is not None:
            operation["responses"]["401"] = {
                "$ref": "#/components/responses/AllauthAuthenticationOrReauthentication"
            }


def postprocess(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular ``POSTPROCESSING_HOOKS`` entry (after its enum hook)."""
    from chat import ws_frames

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorResponse", _error_response_schema())
    result["paths"].setdefault("/api/v1/media/download/{token}", _media_download())
    for name, schema in ws_frames.components().items():
        schemas[name] = schema
    _merge_allauth(result)
    _allauth_as_served(result)
    result.setdefault("tags", []).append(
        {
            "name": "websocket",
            "description": (
                "The app's WebSocket `/ws/v1/` (X-Session-Token header on the upgrade, "
                "or a first `auth` frame). Frames are JSON objects named by `type`: "
                "see the schemas `WsServerFrame` (sent by the server) and "
                "`WsClientFrame` (sent by the app); docs/chat.md has the protocol."
            ),
        }
    )
    return result
