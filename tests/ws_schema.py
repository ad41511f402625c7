"""Validating WebSocket frames against their documentation in the OpenAPI document.

The schema is the one ``/api/schema/`` serves (``meetnow/schema.py`` adds the
``Ws*`` components from ``chat/ws_frames.py``), turned from OpenAPI 3.0's dialect
(``nullable``) into plain JSON Schema.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema


def _json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _components() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components: dict[str, Any] = _json_schema(schema["components"])
    return components


@functools.cache
def _validator(component: str) -> jsonschema.Draft7Validator:
    root = {"$ref": f"#/components/schemas/{component}", "components": _components()}
    return jsonschema.Draft7Validator(root)


def frame_errors(frame: Any, component: str = "WsServerFrame") -> list[str]:
    """Why ``frame`` does not match the documented ``component`` (empty if it does)."""
    errors = list(_validator(component).iter_errors(frame))
    if not errors:
        return []
    best = jsonschema.exceptions.best_match(errors)
    details = [f"{list(e.absolute_path)}: {e.message}" for e in (best.context or [best])]
    return [best.message[:200], *details[:8]]


def assert_documented(frame: Any, component: str = "WsServerFrame") -> None:
    errors = frame_errors(frame, component)
    assert not errors, f"frame not as documented in {component}: {frame!r}: {errors[:3]}"
