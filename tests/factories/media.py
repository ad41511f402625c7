"""Media factories and generated test files (nothing binary is shipped with the tests).

Images are made with Pillow, audio and video with PyAV (FFmpeg's libraries inside
its wheel, no system ffmpeg) at test time, raw AMR frame by frame.
"""

from __future__ import annotations

import functools
import io
import math
import os
import struct
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
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


SAMPLE_RATE = 48000


def _sine_frames(seconds: float, *, frequency: int = 440, chunk: int = 960) -> Iterator[Any]:
    """Mono 16-bit PCM frames of a sine tone, exactly ``seconds`` long in total."""
    total = round(seconds * SAMPLE_RATE)
    step = 2 * math.pi * frequency / SAMPLE_RATE
    for start in range(0, total, chunk):
        count = min(chunk, total - start)
        samples = [int(12000 * math.sin(step * (start + i))) for i in range(count)]
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        frame.planes[0].update(
            struct.pack(f"<{count}h", *samples).ljust(frame.planes[0].buffer_size, b"\0")
        )
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        frame.time_base = Fraction(1, SAMPLE_RATE)
        yield frame


def _encode(out: Any, stream: Any, frames: Iterator[Any]) -> None:
    for frame in frames:
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def audio_clip(fmt: str, seconds: float, tmp: Path) -> bytes:
    """A voice-like clip of exactly ``seconds`` in one of the accepted formats (PyAV)."""
    if fmt == "amr":
        return raw_amr(seconds)
    if fmt == "awb":
        return raw_amr(seconds, wideband=True)
    target = tmp / f"a.{fmt}"
    if fmt == "3gp":  # 3GP with AMR-NB: the frames of a raw AMR stream, remuxed
        source = tmp / "src.amr"
        source.write_bytes(raw_amr(seconds))
        with av.open(str(source), format="amr") as raw, av.open(str(target), "w", "3gp") as out:
            copy = out.add_stream_from_template(raw.streams.audio[0])
            for packet in raw.demux(raw.streams.audio[0]):
                if packet.dts is not None:
                    packet.stream = copy
                    out.mux(packet)
        return target.read_bytes()
    codec, muxer = {
        "m4a": ("aac", "ipod"),
        "aac": ("aac", "adts"),
        "ogg": ("libopus", "ogg"),
        "webm": ("libopus", "webm"),
        "mp3": ("libmp3lame", "mp3"),
    }[fmt]
    with av.open(str(target), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=SAMPLE_RATE, layout="mono")
        _encode(out, stream, _sine_frames(seconds))
    return target.read_bytes()


def video_clip(tmp: Path, *, fmt: str = "mp4", seconds: float = 2, location: bool = False) -> bytes:
    """A 320x240, 25 fps test video with a sine sound track (PyAV), ``seconds`` long."""
    target = tmp / f"v.{fmt}"
    pictures = []
    for index in range(25):
        picture = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
        ImageDraw.Draw(picture).rectangle(
            (index * 10, 80, index * 10 + 40, 160), fill=(200, 40, 40)
        )
        pictures.append(picture)
    video_codec, audio_codec = ("libvpx", "libopus") if fmt == "webm" else ("libx264", "aac")
    with av.open(str(target), "w", format=fmt) as out:
        if location:
            out.metadata["location"] = "+48.8577+002.2950/"
            out.metadata["title"] = "Home"
        video: Any = out.add_stream(video_codec, rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        if video_codec == "libx264":
            video.options = {"preset": "ultrafast"}
        else:
            video.bit_rate = 200_000
        audio = out.add_stream(audio_codec, rate=SAMPLE_RATE, layout="mono")
        frames = []
        for index in range(round(seconds * 25)):
            frame = av.VideoFrame.from_image(pictures[index % len(pictures)])
            frame.pts = index
            frame.time_base = Fraction(1, 25)
            frames.append(frame)
        _encode(out, video, iter(frames))
        _encode(out, audio, _sine_frames(seconds))
    return target.read_bytes()


class MediaFileFactory(DjangoModelFactory[MediaFile]):
    """A stored, pending upload made by the real upload service (``content=`` bytes,
    a generated photo by default); run ``media_file_process`` to make it ready."""

    class Meta:
        model = MediaFile

    owner = factory.declarations.LazyFunction(
        lambda: get_user_model().objects.create_user(nickname="uploader")
    )
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
