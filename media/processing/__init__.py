"""Turning an untrusted upload into servable copies (run by the ``media.process`` task).

Each module takes a local file path and returns encoded bytes, or raises
:class:`Rejected` with a reason code. Nothing here touches the database or storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Rejected(Exception):  # a verdict, not a crash
    """The file is refused; ``reason`` is a ``RejectReason`` value."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Output:
    data: bytes
    content_type: str
    extension: str


@dataclass
class Processed:
    kind: str
    variants: dict[str, Output] = field(default_factory=dict)
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
