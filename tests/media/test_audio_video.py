"""Voice messages and videos: exact durations, decode checks, metadata stripped."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.factories.media import audio_clip, jpeg_segments, raw_amr, video_clip
from tests.media.helpers import post_upload, stored_bytes, stored_keys, upload_and_process

# Uploads are processed (and checks run) by the task they enqueue: run it in-process.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

CONTENT_TYPES = {
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "webm": "audio/webm",
    "3gp": "audio/3gpp",
    "amr": "audio/amr",
    "awb": "audio/amr-wb",
}


@pytest.mark.parametrize("fmt", ["m4a", "aac", "3gp", "amr", "awb", "ogg", "webm", "mp3"])
def test_each_voice_format_gets_its_exact_duration(
    fmt: str,
    api: Any,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    clip = audio_clip(fmt, 7.3, tmp_path)
    media_file, body = upload_and_process(
        api,
        django_capture_on_commit_callbacks,
        clip,
        purpose="voice_intro",
        name=f"voice.{fmt}",
        content_type="application/octet-stream",
    )
    assert body["status"] == "ready", body
    assert body["kind"] == "audio"
    assert abs(body["duration_ms"] - 7300) <= 50, body["duration_ms"]
    assert set(body["urls"]) == {"original"}
    assert media_file.variants["original"]["content_type"] == CONTENT_TYPES[fmt]
    assert stored_bytes(media_file, "original")


def test_over_long_voice_clip_is_rejected(
    api: Any, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    clip = audio_clip("ogg", 121, tmp_path)
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, clip, purpose="voice_intro", name="v.ogg"
    )
    assert (body["status"], body["reject_reason"], body["urls"]) == ("rejected", "too_long", None)
    assert stored_keys() == []


def test_over_long_raw_amr_is_rejected_by_frame_count(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, raw_amr(125), purpose="voice_intro"
    )
    assert (body["status"], body["reject_reason"]) == ("rejected", "too_long")


def test_raw_amr_with_garbage_frames_is_rejected(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broken = raw_amr(2) + b"\x54" + b"\x00" * 50  # frame type 10: reserved
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, broken, purpose="voice_intro"
    )
    assert (body["status"], body["reject_reason"]) == ("rejected", "undecodable")


def test_truncated_m4a_is_rejected(
    api: Any, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    clip = audio_clip("m4a", 3, tmp_path)
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, clip[: len(clip) // 2], purpose="voice_intro"
    )
    assert (body["status"], body["reject_reason"]) == ("rejected", "undecodable")


def test_fake_mp4_is_rejected_and_never_served(
    api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fake = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00garbage" * 500
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, fake, name="clip.mp4", content_type="video/mp4"
    )
    assert body["status"] == "rejected"
    assert body["reject_reason"] in {"undecodable", "no_stream"}
    assert body["urls"] is None
    assert stored_keys() == []


@pytest.mark.parametrize("fmt", ["mov", "mp4", "webm"])
def test_video_gets_a_poster_and_loses_its_location(
    fmt: str,
    api: Any,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
) -> None:
    clip = video_clip(tmp_path, fmt=fmt, seconds=2, location=True)
    if fmt == "mov":
        assert b"+48.8577+002.2950" in clip  # the fixture really has a location atom
    media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, clip, name=f"clip.{fmt}"
    )
    assert body["status"] == "ready", body
    assert body["kind"] == "video"
    assert (body["width"], body["height"]) == (320, 240)
    assert abs(body["duration_ms"] - 2000) <= 100
    assert set(body["urls"]) == {"original", "1024", "256"}
    remuxed = stored_bytes(media_file, "original")
    assert b"+48.8577" not in remuxed
    assert b"\xa9xyz" not in remuxed
    assert b"Home" not in remuxed
    poster = stored_bytes(media_file, "256")
    assert jpeg_segments(poster)[0] == 0xE0  # a JPEG (JFIF) made from a decoded frame


def test_over_long_video_is_rejected(
    api: Any, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    clip = video_clip(tmp_path, fmt="mp4", seconds=62)
    _media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, clip)
    assert (body["status"], body["reject_reason"]) == ("rejected", "too_long")


def test_voice_recorded_as_mp4_without_video_is_audio(
    api: Any, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    clip = audio_clip("3gp", 4, tmp_path)  # brand 3gp4: sniffed as a video container
    _media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, clip)
    assert (body["status"], body["kind"]) == ("ready", "audio")
    assert abs(body["duration_ms"] - 4000) <= 50


def test_video_for_an_avatar_is_refused_at_upload(api: Any, tmp_path: Path) -> None:
    response = post_upload(api, video_clip(tmp_path), purpose="avatar", name="a.mp4")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "type_not_allowed"


def test_voice_and_video_need_no_ffmpeg_program(
    api: Any,
    django_capture_on_commit_callbacks: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FFmpeg's libraries come inside PyAV's wheel: no program on PATH, no subprocess."""
    voice, video = audio_clip("m4a", 3, tmp_path), video_clip(tmp_path, fmt="mp4", seconds=1)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    def no_subprocess(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a subprocess was started: {args!r}")

    monkeypatch.setattr(subprocess.Popen, "__init__", no_subprocess)
    for clip, kind in ((voice, "audio"), (video, "video")):
        _media_file, body = upload_and_process(api, django_capture_on_commit_callbacks, clip)
        assert (body["status"], body["kind"]) == ("ready", kind), body


def test_undecodable_stream_behind_a_valid_header_is_rejected(
    api: Any, django_capture_on_commit_callbacks: Any, tmp_path: Path
) -> None:
    """The container opens, but its audio frames are noise: the full decode refuses it."""
    clip = bytearray(audio_clip("mp3", 3, tmp_path))
    for offset in range(600, len(clip) - 100, 7):
        clip[offset] = 0xFF
    _media_file, body = upload_and_process(
        api, django_capture_on_commit_callbacks, bytes(clip), purpose="voice_intro", name="a.mp3"
    )
    assert (body["status"], body["reject_reason"]) == ("rejected", "undecodable")
