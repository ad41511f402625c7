"""HTTP range requests (RFC 9110 §14) for files served by the app itself.

A download that broke off resumes with ``Range: bytes=<first>-``: the answer is
``206 Partial Content`` with ``Content-Range``. One range is served; a request for
several ranges gets the whole file (``200``), as RFC 9110 allows a server to ignore
``Range``, and so does a malformed header or another unit. A range that starts
past the end of the file is ``416`` with ``Content-Range: bytes */<size>`` in the
API's error shape. ``If-Range`` with another validator than the file's ``ETag``
gets the whole file, so a resumed download never mixes two files.

Used by the local-storage download of exports (``privacy/rights_apis.py``); on S3 the
signed URL goes to the bucket, which does the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.http import FileResponse, HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from meetnow.lib.errors import json_error

CHUNK = 64 * 1024
_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` of the file, both included."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


class RangeNotSatisfiable(Exception):
    """The range lies wholly outside the file."""


def range_parse(header: str | None, size: int) -> ByteRange | None:
    """The one range of ``header`` within a file of ``size`` bytes.

    ``None``: serve the whole file (no header, another unit, a syntax error, several
    ranges). Raises :class:`RangeNotSatisfiable` for a range starting past the end or
    an empty suffix.
    """
    if not header:
        return None
    unit, _sep, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not _sep:
        return None
    parts = specs.split(",")
    if len(parts) != 1:
        return None
    match = _SPEC.match(parts[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid range-spec: ignore the header
    if start >= size:
        raise RangeNotSatisfiable
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end)


def _chunks(handle: IO[bytes], byte_range: ByteRange) -> Iterator[bytes]:
    try:
        handle.seek(byte_range.start)
        remaining = byte_range.length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def ranged_file_response(
    request: HttpRequest,
    handle: IO[bytes],
    *,
    size: int,
    filename: str,
    content_type: str,
    etag: str,
) -> HttpResponseBase:
    """The file in ``handle`` (``size`` bytes) as an attachment, honouring ``Range``.

    ``etag`` is the file's strong validator (quoted), compared with ``If-Range``.
    """
    header = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if header and if_range is not None and if_range.strip() != etag:
        header = None  # the file changed since the first part: start again
    try:
        byte_range = range_parse(header, size)
    except RangeNotSatisfiable:
        handle.close()
        refused = json_error(
            416,
            "range_not_satisfiable",
            _("The requested range is outside the file (%(size)d bytes).") % {"size": size},
        )
        refused["Content-Range"] = f"bytes */{size}"
        return _common(refused, etag=etag)
    response: HttpResponseBase
    if byte_range is None:
        response = FileResponse(
            handle, as_attachment=True, filename=filename, content_type=content_type
        )
        response["Content-Length"] = str(size)
    else:
        response = StreamingHttpResponse(
            _chunks(handle, byte_range), status=206, content_type=content_type
        )
        response["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
        response["Content-Length"] = str(byte_range.length)
        response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    return _common(response, etag=etag)


def _common(response: Any, *, etag: str) -> HttpResponseBase:
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    return response  # type: ignore[no-any-return]
