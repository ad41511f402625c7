"""Photos: metadata removed (checked on the stored bytes), hostile images rejected."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from media.models import Status
from tests.factories.media import (
    COMMENT_MARKER,
    MAKE_MARKER,
    XMP_MARKER,
    jpeg_segments,
    photo,
    png_bomb,
    srgb_profile,
)
from tests.media.helpers import stored_bytes, stored_keys, upload_and_process

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

APP1, COM, APP2 = 0xE1, 0xFE, 0xE2


def test_gps_xmp_comment_are_gone_from_every_served_copy(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    original = photo(gps=True, xmp=True, comment=True, icc=True, orientation=6)
    # The fixture really carries what we then expect to be removed.
    for needle in (XMP_MARKER.encode(), COMMENT_MARKER, MAKE_MARKER.encode(), b"Exif"):
        assert needle in original

    media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, original)

    assert body["status"] == "ready"
    assert set(body["urls"]) == {"original", "1024", "256"}
    for variant in ("original", "1024", "256"):
        data = stored_bytes(media_file, variant)
        markers = jpeg_segments(data)
        assert APP1 not in markers, "EXIF or XMP segment left"
        assert COM not in markers, "JPEG comment left"
        for needle in (b"Exif", b"GPS", MAKE_MARKER.encode(), XMP_MARKER.encode()):
            assert needle not in data
        assert COMMENT_MARKER not in data
        assert b"http://ns.adobe.com/xap" not in data
        # The colour profile stays on purpose.
        assert APP2 in markers
        assert Image.open(io.BytesIO(data)).info.get("icc_profile") == srgb_profile()


def test_orientation_is_applied_and_thumbnails_are_bounded(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # Stored landscape, EXIF says "rotate 90° clockwise": the served copy is portrait.
    media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, photo((1600, 1200), orientation=6)
    )
    assert (body["width"], body["height"]) == (1200, 1600)
    sizes = {v: Image.open(io.BytesIO(stored_bytes(media_file, v))).size for v in ("1024", "256")}
    assert sizes == {"1024": (768, 1024), "256": (192, 256)}
    # The green top-left marker of the stored image is now at the top right.
    upright = Image.open(io.BytesIO(stored_bytes(media_file, "original"))).convert("RGB")
    pixel = upright.getpixel((upright.width - 5, 5))
    assert isinstance(pixel, tuple)
    assert pixel[1] > 150
    assert pixel[0] < 100


def test_png_with_transparency_stays_png(api: Any, django_capture_on_commit_callbacks: Any) -> None:
    media_file, body = upload_and_process(
        api,
        django_capture_on_commit_callbacks,
        photo((300, 200), fmt="PNG", mode="RGBA"),
        name="sticker.png",
        content_type="image/png",
    )
    assert body["status"] == "ready"
    assert stored_bytes(media_file, "original")[:8] == b"\x89PNG\r\n\x1a\n"


def _broken_png_crc() -> bytes:
    data = bytearray(photo((64, 48), fmt="PNG"))
    idat = data.index(b"IDAT")
    data[idat + 8] ^= 0xFF  # a byte of compressed pixels: the chunk's CRC no longer matches
    return bytes(data)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(png_bomb(), "too_many_pixels", id="decompression-bomb"),
        pytest.param(photo((800, 600))[:-3000], "undecodable", id="truncated-jpeg"),
        pytest.param(_broken_png_crc(), "undecodable", id="png-bad-checksum"),
        pytest.param(
            photo((200, 200)) + b"<?php system($_GET['c']); ?>",
            "embedded_script",
            id="polyglot-php",
        ),
        pytest.param(
            photo((200, 200)) + b"<script>alert(document.cookie)</script>",
            "embedded_script",
            id="polyglot-script",
        ),
    ],
)
def test_hostile_images_are_rejected_and_never_served(
    api: Any, django_capture_on_commit_callbacks: Any, content: bytes, reason: str
) -> None:
    media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, content)

    assert body["status"] == "rejected"
    assert body["reject_reason"] == reason
    assert body["urls"] is None
    assert media_file.status == Status.REJECTED
    assert stored_keys() == []  # the raw upload is gone too


def test_jpeg_with_its_size_patched_to_a_bomb_is_rejected(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = bytearray(photo((64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (60000).to_bytes(2, "big") + (60000).to_bytes(2, "big")
    _media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, bytes(data))
    assert (body["status"], body["reject_reason"]) == ("rejected", "too_many_pixels")


def _mpo() -> bytes:
    first = Image.open(io.BytesIO(photo((320, 240), gps=True)))
    second = Image.open(io.BytesIO(photo((320, 240))))
    buffer = io.BytesIO()
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        pytest.param(_mpo, "image/jpeg", id="iphone-mpo"),
        pytest.param(lambda: photo((320, 240), fmt="WEBP"), "image/jpeg", id="webp"),
        pytest.param(lambda: photo((320, 240), fmt="GIF"), "image/jpeg", id="gif"),
        pytest.param(lambda: photo((320, 240), fmt="AVIF"), "image/jpeg", id="avif"),
        pytest.param(lambda: photo((320, 240), mode="CMYK"), "image/jpeg", id="cmyk-jpeg"),
        pytest.param(lambda: photo((320, 240), mode="L"), "image/jpeg", id="grey-jpeg"),
    ],
)
def test_each_accepted_image_format_is_reencoded(
    api: Any, django_capture_on_commit_callbacks: Any, make: Any, content_type: str
) -> None:
    media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, make())
    assert body["status"] == "ready", body
    assert (body["width"], body["height"]) == (320, 240)
    assert media_file.variants["original"]["content_type"] == content_type
    data = stored_bytes(media_file, "original")
    assert APP1 not in jpeg_segments(data)
    assert Image.open(io.BytesIO(data)).format == "JPEG"  # one image, not an MPO


def test_iphone_heic_is_accepted_and_loses_its_exif(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    exif = Image.Exif()
    exif[0x010F] = MAKE_MARKER
    exif[0x8825] = {1: "N", 2: (48, 51, 29), 3: "E", 4: (2, 17, 40)}
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo((320, 240)))).save(
        buffer, format="HEIF", quality=80, exif=exif.tobytes()
    )
    heic = buffer.getvalue()
    assert MAKE_MARKER.encode() in heic

    media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, heic, name="IMG_0001.HEIC"
    )
    assert body["status"] == "ready", body
    assert (body["width"], body["height"]) == (320, 240)
    for variant in ("original", "1024", "256"):
        data = stored_bytes(media_file, variant)
        assert APP1 not in jpeg_segments(data)
        assert MAKE_MARKER.encode() not in data
