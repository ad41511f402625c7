"""Content sniffing at upload time: filetype's magic numbers against an allow-list.

"Not recognised" means reject. The sniffed type only routes the file to the right
decoder; the decoders (Pillow, PyAV) are the real check, in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import filetype
from filetype.types.base import Type


class AmrWb(Type):  # type: ignore[misc]  # filetype ships no types
    """Raw AMR-WB (``#!AMR-WB\\n``), which filetype 1.2.0 does not know."""

    MIME = "audio/amr-wb"
    EXTENSION = "awb"

    def __init__(self) -> None:
        super().__init__(mime=AmrWb.MIME, extension=AmrWb.EXTENSION)

    def match(self, buf: bytes) -> bool:
        return bytes(buf[:9]) == b"#!AMR-WB\n"


filetype.add_type(AmrWb())


@dataclass(frozen=True)
class Sniffed:
    mime: str
    kinds: tuple[str, ...]  # what the file may turn out to be, most likely first
    container: str  # Pillow format or FFmpeg demuxer the worker must use, nothing else


# Everything accepted, by sniffed MIME type. MP4/3GP/WebM may hold a video or only a
# voice recording: the purpose decides which limits apply; the worker checks streams.
ALLOWED: dict[str, Sniffed] = {
    s.mime: s
    for s in (
        Sniffed("image/jpeg", ("image",), "JPEG"),
        Sniffed("image/png", ("image",), "PNG"),
        Sniffed("image/webp", ("image",), "WEBP"),
        Sniffed("image/gif", ("image",), "GIF"),
        Sniffed("image/avif", ("image",), "AVIF"),
        Sniffed("image/heic", ("image",), "HEIF"),  # iPhone photos (pillow-heif)
        Sniffed("audio/mp4", ("audio",), "mov"),
        Sniffed("audio/aac", ("audio",), "aac"),
        Sniffed("audio/mpeg", ("audio",), "mp3"),
        Sniffed("audio/ogg", ("audio",), "ogg"),
        Sniffed("audio/amr", ("audio",), "amr"),
        Sniffed(AmrWb.MIME, ("audio",), "amr"),
        Sniffed("video/mp4", ("video", "audio"), "mov"),
        Sniffed("video/quicktime", ("video", "audio"), "mov"),
        Sniffed("video/3gpp", ("video", "audio"), "mov"),
        Sniffed("video/webm", ("video", "audio"), "matroska"),
    )
}


def sniff(stream: IO[bytes]) -> Sniffed | None:
    """The allow-listed type of ``stream`` (rewound afterwards), or None."""
    stream.seek(0)
    head = stream.read(8192)
    stream.seek(0)
    kind = filetype.guess(head) if head else None
    if kind is None:
        return None
    return ALLOWED.get(kind.mime)
