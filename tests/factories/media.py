"""Media factories and generated test files (nothing binary is shipped with the tests).

Images are made with Pillow, audio and video with ffmpeg at test time, raw AMR
frame by frame (Debian's ffmpeg has AMR decoders but no AMR encoder).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory
from PIL import Image, ImageCms, ImageDraw

from media.models import MediaFile

GPS_LATITUDE = (48, 51, 29)  # degrees, minutes, seconds: present in the EXIF fixture
XMP_MARKER = "meetnow-xmp-secret-location"
COMMENT_MARKER = b"meetnow-comment-home-address"
MAKE_MARKER = "MeetNowPhoneMaker"
HAS_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


@functools.cache
def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def photo(
    size: tuple[int, int] = (640, 480),
    *,
    fmt: str = "JPEG",
    orientation: int | None = None,
    gps: bool = False,
    xmp: bool = False,
    comment: bool = False,
    icc: bool = False,
    quality: int = 90,
    mode: str = "RGB",
) -> bytes:
    """A photo-like image (gradient, shapes and noise) with the metadata asked for."""
    width, height = size
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 40).convert("RGB")
    image = Image.blend(base, noise, 0.3)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width // 2, height // 2), fill=(200, 40, 40))
    draw.rectangle((0, 0, width // 8, height // 8), fill=(10, 200, 30))  # marks the top-left
    if mode != "RGB":
        image = image.convert(mode)
    kwargs: dict[str, Any] = {}
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x010F] = MAKE_MARKER
        gps_ifd = {1: "N", 2: GPS_LATITUDE, 3: "E", 4: (2, 17, 40)}
        exif[0x8825] = gps_ifd
    if len(exif):
        kwargs["exif"] = exif.tobytes()
    if xmp:
        kwargs["xmp"] = (
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
            f'exif:GPSLatitude="48,51.48N" exif:UserComment="{XMP_MARKER}"/>'
            "</rdf:RDF></x:xmpmeta>"
        ).encode()
    if comment:
        kwargs["comment"] = COMMENT_MARKER
    if icc:
        kwargs["icc_profile"] = srgb_profile()
    if fmt == "JPEG":
        kwargs["quality"] = quality
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def jpeg_segments(data: bytes) -> list[int]:
    """The marker bytes of a JPEG's header segments, read from the bytes themselves."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    markers, pos = [], 2
    while pos + 4 <= len(data):
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 2 + length
    return markers


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def raw_amr(seconds: float, *, wideband: bool = False) -> bytes:
    """A raw AMR-NB (12.2 kbit/s) or AMR-WB (23.85 kbit/s) file of exactly ``seconds``."""
    frames = round(seconds / 0.02)
    if wideband:
        header, frame_header, payload = b"#!AMR-WB\n", 0x44, 60
    else:
        header, frame_header, payload = b"#!AMR\n", 0x3C, 31
    body = b"".join(bytes([frame_header]) + os.urandom(payload) for _ in range(frames))
    return header + body


def ffmpeg(*args: str, tmp: Path, name: str) -> bytes:
    out = tmp / name
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", *args, str(out)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.read_bytes()


def audio_clip(fmt: str, seconds: float, tmp: Path) -> bytes:
    """A voice-like clip of exactly ``seconds`` in one of the accepted formats."""
    if fmt == "amr":
        return raw_amr(seconds)
    if fmt == "awb":
        return raw_amr(seconds, wideband=True)
    sine = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}:sample_rate=48000"]
    if fmt == "3gp":  # 3GP with AMR-NB: mux a raw AMR stream
        source = tmp / "src.amr"
        source.write_bytes(raw_amr(seconds))
        return ffmpeg(
            "-f", "amr", "-i", str(source), "-c", "copy", "-f", "3gp", tmp=tmp, name="a.3gp"
        )
    codecs = {
        "m4a": ["-c:a", "aac", "-f", "ipod"],
        "aac": ["-c:a", "aac", "-f", "adts"],
        "ogg": ["-c:a", "libopus", "-f", "ogg"],
        "webm": ["-c:a", "libopus", "-f", "webm"],
        "mp3": ["-c:a", "libmp3lame", "-f", "mp3"],
    }
    return ffmpeg(*sine, *codecs[fmt], tmp=tmp, name=f"a.{fmt}")


def video_clip(tmp: Path, *, fmt: str = "mp4", seconds: float = 2, location: bool = False) -> bytes:
    args = ["-f", "lavfi", "-i", f"testsrc=duration={seconds}:size=320x240:rate=25"]
    args += ["-f", "lavfi", "-i", f"sine=duration={seconds}"]
    if fmt == "webm":
        args += ["-c:v", "libvpx", "-b:v", "200k", "-c:a", "libopus", "-f", "webm"]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", fmt]
    if location:
        args += ["-metadata", "location=+48.8577+002.2950/", "-metadata", "title=Home"]
    return ffmpeg(*args, "-shortest", tmp=tmp, name=f"v.{fmt}")


class MediaFileFactory(DjangoModelFactory[MediaFile]):
    """A stored, pending upload made by the real upload service (``content=`` bytes,
    a generated photo by default); run ``media_file_process`` to make it ready."""

    class Meta:
        model = MediaFile

    owner = factory.LazyFunction(lambda: get_user_model().objects.create_user(nickname="uploader"))
    purpose = "chat"

    @classmethod
    def _create(cls, model_class: type[MediaFile], *args: Any, **kwargs: Any) -> MediaFile:
        from media.services import media_file_upload

        content = kwargs.pop("content", None) or photo()
        return media_file_upload(
            owner=kwargs["owner"],
            purpose=kwargs["purpose"],
            upload=ContentFile(content, name="x"),
        )
